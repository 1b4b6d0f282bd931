//! Accounts and sign-in, through the real server as a browser with JavaScript off uses it.
use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_lands_on_the_dashboard_with_the_users_roles() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_user(
        "claire@taskflow.example",
        "Claire Dubois",
        &["tech_lead", "dba"],
    )
    .await;
    let browser = Browser::new();

    let (to, html) = browser
        .sign_in(&app, "Claire@TaskFlow.example", PASSWORD)
        .await;

    assert_eq!(to, "/");
    assert!(html.contains("Bienvenue, Claire Dubois."), "{html}");
    assert!(html.contains("Responsable technique, DBA"));
    assert!(html.contains("autorisés à déclencher un rollback"));
    assert!(html.contains(r#"action="/api/sign_out""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_shows_a_message_and_keeps_the_email() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_user("claire@taskflow.example", "Claire", &["qa"])
        .await;
    let browser = Browser::new();

    let (to, html) = browser
        .sign_in(&app, "claire@taskflow.example", "not the password")
        .await;

    assert_eq!(to, "/login");
    assert!(
        html.contains("Adresse e-mail ou mot de passe incorrect."),
        "{html}"
    );
    assert_eq!(
        input_value(&html, "email").as_deref(),
        Some("claire@taskflow.example")
    );
    // Shown once: a reload no longer shows it.
    let (_, again) = browser.page(&app, "/login").await;
    assert!(!again.contains("incorrect"));
    // Still not signed in.
    let res = browser.get(&app, "/").await;
    assert_eq!(location(&res), "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_email_is_flagged_next_to_the_field() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let browser = Browser::new();
    let (_, html) = browser.sign_in(&app, "not-an-address", "x").await;
    assert!(html.contains(r#"id="email-error""#), "{html}");
    assert!(html.contains("Saisissez une adresse e-mail valide"));
    assert_eq!(
        input_value(&html, "email").as_deref(),
        Some("not-an-address")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_are_slowed_then_locked() {
    let pool = test_database().await;
    let mut settings = test_settings();
    settings.sign_in_slow_after = 2;
    settings.sign_in_slow_base_seconds = 1;
    settings.sign_in_lock_after = 4;
    settings.sign_in_lock_minutes = 15;
    let app = spawn_app_with(pool, settings).await;
    app.create_user("sophie@taskflow.example", "Sophie", &["sysadmin"])
        .await;
    let browser = Browser::new();
    let email = "sophie@taskflow.example";

    for _ in 0..2 {
        let (_, html) = browser.sign_in(&app, email, "wrong").await;
        assert!(html.contains("mot de passe incorrect"));
    }
    // Third attempt at once, even with the right password: asked to wait.
    let (to, html) = browser.sign_in(&app, email, PASSWORD).await;
    assert_eq!(to, "/login");
    assert!(html.contains("patientez 1 secondes"), "{html}");

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, html) = browser.sign_in(&app, email, "wrong").await;
    assert!(html.contains("mot de passe incorrect"), "{html}");

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (_, html) = browser.sign_in(&app, email, "wrong").await;
    assert!(
        html.contains("ce compte est bloqué pendant encore 15 minutes"),
        "{html}"
    );

    // Locked: the right password is refused too, with the same clear message.
    let (to, html) = browser.sign_in(&app, email, PASSWORD).await;
    assert_eq!(to, "/login");
    assert!(html.contains("ce compte est bloqué"), "{html}");

    // Another account is not affected.
    app.create_user("marc@taskflow.example", "Marc", &["project_manager"])
        .await;
    let (to, _) = Browser::new()
        .sign_in(&app, "marc@taskflow.example", PASSWORD)
        .await;
    assert_eq!(to, "/");
}

/// Issue 15 §2: wrong passwords from one address lock that address only; a decider signs
/// in from another, keeps the session already open, and their known device passes even when
/// many addresses have failed; an administrator unlocks, and old rows are purged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_cannot_lock_a_decider_out() {
    use std::net::IpAddr;
    let mut settings = test_settings();
    settings.sign_in_slow_after = 2;
    settings.sign_in_slow_base_seconds = 0;
    settings.sign_in_lock_after = 3;
    settings.sign_in_lock_minutes = 15;
    let app = spawn_app_with(test_database().await, settings).await;
    let email = "sophie@taskflow.example";
    let sophie_id = app.create_user(email, "Sophie", &["sysadmin"]).await;
    let from = |last: u8| Browser::from_address(IpAddr::from([127, 0, 0, last]));
    // Sophie signed in on her laptop this morning: a session, and a known device.
    let laptop = from(1);
    let (to, _) = laptop.sign_in(&app, email, PASSWORD).await;
    assert_eq!(to, "/");

    // Someone guesses from 127.0.0.2 until that address is locked, then has the password.
    let attacker = from(2);
    for _ in 0..3 {
        attacker.sign_in(&app, email, "guess").await;
    }
    let (to, html) = attacker.sign_in(&app, email, PASSWORD).await;
    assert_eq!(to, "/login");
    assert!(
        html.contains("ce compte est bloqué pendant encore 15 minutes"),
        "{html}"
    );
    assert!(
        html.contains("demandez à un administrateur de le débloquer"),
        "says what to do: {html}"
    );
    // Sophie's open session goes on; from another address she signs in on a new device.
    let (status, _) = laptop.page(&app, "/incidents").await;
    assert_eq!(status, StatusCode::OK);
    let (to, _) = from(3).sign_in(&app, email, PASSWORD).await;
    assert_eq!(to, "/", "another address is not locked");

    // Many addresses failing: the account takes no new device, but Sophie's laptop passes.
    for last in 4..=6 {
        let b = from(last);
        for _ in 0..3 {
            b.sign_in(&app, email, "guess").await;
        }
    }
    let (to, html) = from(7).sign_in(&app, email, PASSWORD).await;
    assert_eq!(to, "/login");
    assert!(
        html.contains(
            "il n'accepte pour l'instant que les appareils où vous vous êtes déjà connecté"
        ),
        "{html}"
    );
    laptop
        .submit_and_follow(&app, "/", "/api/sign_out", &[])
        .await;
    let (to, html) = laptop.sign_in(&app, email, PASSWORD).await;
    assert_eq!(to, "/", "the known device signs in: {html}");

    // An administrator sees the lock and lifts it, recorded.
    let admin = app
        .signed_in_browser("alex@taskflow.example", "Alex Admin", &["admin"])
        .await;
    assert_eq!(location(&admin.get(&app, "/admin").await), "/admin/users");
    let (_, html) = admin.page(&app, "/admin/users").await;
    assert!(
        html.contains(&format!("id=\"unlock-{sophie_id}\"")),
        "{html}"
    );
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/unlock_account",
            &[("user_id", &sophie_id.to_string())],
        )
        .await;
    assert!(html.contains("Connexion débloquée pour Sophie."), "{html}");
    assert!(
        !html.contains(&format!("id=\"unlock-{sophie_id}\"")),
        "{html}"
    );
    let recent = &html[html
        .find("id=\"recent-unlocks\"")
        .expect("the unlock is listed")..];
    assert!(
        recent.contains("Sophie — débloqué par Alex Admin"),
        "{recent}"
    );
    let (to, _) = from(7).sign_in(&app, email, PASSWORD).await;
    assert_eq!(to, "/", "unlocked");
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM account_events WHERE user_id = $1 AND kind = 'unlocked'",
    )
    .bind(sophie_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(events, 1);

    // Old failure rows and unused devices are purged; recent ones stay.
    from(8).sign_in(&app, email, "guess").await;
    sqlx::query(
        "INSERT INTO sign_in_failures (email, source, failures, last_failure_at)
         VALUES ('old@taskflow.example', 'address:127.0.0.9', 2, now() - interval '2 days')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    app::backend::sign_in::purge(&app.pool, chrono::Utc::now())
        .await
        .unwrap();
    let left: Vec<String> = sqlx::query_scalar("SELECT email FROM sign_in_failures")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, [email]);
}

/// Issue 15 §6: anonymous visitors store nothing: 300 visits of the sign-in page, a failed
/// sign-in (its message and the email kept) and a language switch leave no session row; a
/// forged visitor cookie is refused; signing in stores one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_visitors_store_no_session() {
    let app = spawn_app(test_database().await).await;
    app.create_user("paul@taskflow.example", "Paul", &["viewer"])
        .await;
    let sessions = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM tower_sessions.session")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    for _ in 0..300 {
        let (status, _) = Browser::new().page(&app, "/login").await;
        assert_eq!(status, StatusCode::OK);
    }
    let browser = Browser::new();
    let (to, html) = browser
        .sign_in(&app, "paul@taskflow.example", "wrong password")
        .await;
    assert_eq!(to, "/login");
    assert!(html.contains("mot de passe incorrect"), "{html}");
    assert!(
        html.contains("paul@taskflow.example"),
        "the email is kept: {html}"
    );
    let (_, html) = browser
        .submit_and_follow(
            &app,
            "/login",
            "/api/set_language",
            &[("lang", "en"), ("back", "/login")],
        )
        .await;
    assert!(html.contains("lang=\"en\""), "{html}");
    assert_eq!(sessions().await, 0, "no session row before sign-in");

    // A visitor cookie this server did not sign gives no valid token.
    let forger = Browser::new();
    let res = forger
        .client
        .post(app.url("/api/sign_in"))
        .header("Accept", "text/html")
        .header("Cookie", "rbd_visit=eyJjc3JmIjoiYWJjIn0.AAAA")
        .form(&[
            ("_csrf", "abc"),
            ("email", "paul@taskflow.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let (to, html) = browser
        .sign_in(&app, "paul@taskflow.example", PASSWORD)
        .await;
    assert_eq!(to, "/");
    assert!(html.contains("Paul"), "{html}");
    assert_eq!(sessions().await, 1);
    // Signing out ends it; the farewell message needs no new row either.
    let (to, html) = browser
        .submit_and_follow(&app, "/", "/api/sign_out", &[])
        .await;
    assert_eq!(to, "/login");
    assert!(
        html.contains("You are signed out.") || html.contains("Vous êtes déconnecté."),
        "{html}"
    );
    assert_eq!(sessions().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_session() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let browser = app
        .signed_in_browser("paul@taskflow.example", "Paul", &["viewer"])
        .await;

    let (to, html) = browser
        .submit_and_follow(&app, "/", "/api/sign_out", &[])
        .await;

    assert_eq!(to, "/login");
    assert!(html.contains("Vous êtes déconnecté."), "{html}");
    assert_eq!(location(&browser.get(&app, "/").await), "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_a_signed_in_user() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let browser = Browser::new();
    for path in [
        "/",
        "/incidents",
        "/history",
        "/post-mortems",
        "/contacts",
        "/admin/users",
    ] {
        let res = browser.get(&app, path).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        let to = location(&res);
        assert!(to.starts_with("/login"), "{path} → {to}");
    }
    // After signing in, the user lands where they wanted to go.
    app.create_user("ana@taskflow.example", "Ana", &["admin"])
        .await;
    let res = browser.get(&app, "/admin/users").await;
    assert_eq!(location(&res), "/login?next=%2Fadmin%2Fusers");
    let (_, login) = browser.page(&app, "/login?next=%2Fadmin%2Fusers").await;
    assert!(login.contains(r#"name="next" value="/admin/users""#));
    let (to, _) = browser
        .submit_and_follow(
            &app,
            "/login?next=%2Fadmin%2Fusers",
            "/api/sign_in",
            &[
                ("email", "ana@taskflow.example"),
                ("password", PASSWORD),
                ("next", "/admin/users"),
            ],
        )
        .await;
    assert_eq!(to, "/admin/users");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_pages_does_not_write_the_session_but_a_message_is_shown_once() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_user("julien@taskflow.example", "Julien", &["senior_dev_oncall"])
        .await;
    let browser = Browser::new();
    browser
        .sign_in(&app, "julien@taskflow.example", PASSWORD)
        .await;
    let stored = || async {
        sqlx::query_as::<_, (Vec<u8>, chrono::DateTime<chrono::Utc>)>(
            "SELECT data, expiry_date FROM tower_sessions.session",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap()
    };
    let before = stored().await;
    assert_eq!(before.len(), 1, "one signed-in session");
    for page in ["/", "/incidents", "/history", "/"] {
        assert_eq!(browser.get(&app, page).await.status(), 200, "{page}");
    }
    assert_eq!(
        stored().await,
        before,
        "reading pages stores nothing (no write, no commit per page view)"
    );
    // A message for the next page still shows once, then is gone.
    let res = browser
        .submit(
            &app,
            "/profile",
            "/api/save_preferences",
            &[("lang", "fr"), ("time_zone", "Europe/Paris")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let shown = browser.get(&app, "/profile").await.text().await.unwrap();
    assert!(shown.contains("class=\"flash"), "the message once: {shown}");
    let again = browser.get(&app, "/profile").await.text().await.unwrap();
    assert!(!again.contains("class=\"flash"), "not twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_starts_at_sign_in_and_cookies_are_locked_down() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_user("julien@taskflow.example", "Julien", &["senior_dev_oncall"])
        .await;
    let browser = Browser::new();
    let res = browser.get(&app, "/login").await;
    // Before signing in, no session: the form token travels in a signed cookie.
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies
            .iter()
            .all(|c| !c.starts_with("rollback_desk_session=")),
        "{cookies:?}"
    );
    let before = cookies
        .iter()
        .find(|c| c.starts_with("rbd_visit="))
        .cloned()
        .expect("the visitor's cookie");
    assert!(before.contains("HttpOnly"), "{before}");
    assert!(before.contains("SameSite=Lax"), "{before}");
    assert!(!before.contains("Secure"), "plain http here: {before}");
    let res = browser
        .submit(
            &app,
            "/login",
            "/api/sign_in",
            &[("email", "julien@taskflow.example"), ("password", PASSWORD)],
        )
        .await;
    let cookie = |name: &str| {
        res.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie"))
    };
    let after = cookie("rollback_desk_session");
    assert!(
        after.contains("HttpOnly") && after.contains("SameSite=Lax"),
        "{after}"
    );
    assert!(
        cookie("rbd_visit").contains("Max-Age=0"),
        "the visitor's cookie is dropped once signed in"
    );
    // The known-device cookie: HttpOnly, SameSite, kept 90 days.
    let device = cookie("rbd_device");
    for part in ["HttpOnly", "SameSite=Lax", "Max-Age=7776000", "Path=/"] {
        assert!(device.contains(part), "{device}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_survives_a_server_restart() {
    let pool = test_database().await;
    let app = spawn_app(pool.clone()).await;
    let browser = app
        .signed_in_browser("nadia@taskflow.example", "Nadia Haddad", &["dba"])
        .await;
    app.stop_keeping_database().await;

    let restarted = spawn_app(pool).await;
    let (status, html) = browser.page(&restarted, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Bienvenue, Nadia Haddad."), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_is_signed_out_at_once() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_user("admin@taskflow.example", "Alex Admin", &["admin"])
        .await;
    let thomas = app
        .create_user("thomas@taskflow.example", "Thomas", &["developer"])
        .await;
    let admin = Browser::new();
    admin
        .sign_in(&app, "admin@taskflow.example", PASSWORD)
        .await;
    let user = Browser::new();
    user.sign_in(&app, "thomas@taskflow.example", PASSWORD)
        .await;
    assert_eq!(user.page(&app, "/").await.0, StatusCode::OK);

    let thomas = thomas.to_string();
    // Deactivating asks first: without the tick, nothing happens.
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/set_account_active",
            &[("user_id", &thomas), ("active", "false")],
        )
        .await;
    assert!(html.contains("Cochez la case pour confirmer"), "{html}");
    assert_eq!(user.page(&app, "/").await.0, StatusCode::OK);
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/set_account_active",
            &[
                ("user_id", &thomas),
                ("active", "false"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert!(html.contains("Compte de Thomas désactivé"), "{html}");

    let res = user.get(&app, "/").await;
    assert_eq!(location(&res), "/login");
    let (_, login) = user.page(&app, "/login").await;
    assert!(login.contains("Votre session a pris fin"), "{login}");
    // And they can't sign in again.
    let (to, _) = user
        .sign_in(&app, "thomas@taskflow.example", PASSWORD)
        .await;
    assert_eq!(to, "/login");

    // Reactivated, they can.
    admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/set_account_active",
            &[("user_id", &thomas), ("active", "true")],
        )
        .await;
    let (to, _) = user
        .sign_in(&app, "thomas@taskflow.example", PASSWORD)
        .await;
    assert_eq!(to, "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_an_account_and_changes_its_roles() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let admin = app
        .signed_in_browser("admin@taskflow.example", "Alex Admin", &["admin"])
        .await;

    // Invalid input: every wrong field flagged, what was typed kept (never the password).
    let (to, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/add_account",
            &[
                ("email", "camille@taskflow.example"),
                ("name", "Camille <b>Petit</b>"),
                ("password", "short"),
                ("roles[qa]", "on"),
            ],
        )
        .await;
    assert_eq!(to, "/admin/users");
    assert!(
        html.contains("Le mot de passe doit compter de 12 à 256 caractères."),
        "{html}"
    );
    assert_eq!(
        input_value(&html, "add-email").as_deref(),
        Some("camille@taskflow.example")
    );
    assert_eq!(
        input_value(&html, "add-name").as_deref(),
        Some("Camille &lt;b&gt;Petit&lt;/b&gt;"),
        "kept and escaped"
    );
    assert!(
        html.contains(r#"name="roles[qa]" value="on" checked"#),
        "{html}"
    );
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/add_account",
            &[
                ("email", "camille@taskflow.example"),
                ("name", "Camille Petit"),
                ("password", "long enough password"),
            ],
        )
        .await;
    assert!(html.contains("Choisissez au moins un rôle."), "{html}");

    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/add_account",
            &[
                ("email", "camille@taskflow.example"),
                ("name", "Camille Petit"),
                ("password", "long enough password"),
                ("roles[qa]", "on"),
                ("roles[developer]", "on"),
            ],
        )
        .await;
    assert!(
        html.contains("Compte créé pour camille@taskflow.example."),
        "{html}"
    );
    let (to, html) = Browser::new()
        .sign_in(&app, "camille@taskflow.example", "long enough password")
        .await;
    assert_eq!(to, "/");
    assert!(html.contains("Développeur, Testeur QA"), "{html}");

    // The same address twice is refused.
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/add_account",
            &[
                ("email", "Camille@taskflow.example"),
                ("name", "Other"),
                ("password", "long enough password"),
                ("roles[qa]", "on"),
            ],
        )
        .await;
    assert!(
        html.contains("Un compte existe déjà avec cette adresse."),
        "{html}"
    );

    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind("camille@taskflow.example")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let id = id.to_string();
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/save_roles",
            &[("user_id", &id), ("roles[tech_lead]", "on")],
        )
        .await;
    assert!(
        html.contains("Rôles de Camille Petit enregistrés."),
        "{html}"
    );
    let roles: Vec<String> = sqlx::query_scalar("SELECT roles FROM users WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(roles, vec!["tech_lead"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_cannot_lock_themselves_out() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let me = app
        .create_user("admin@taskflow.example", "Alex Admin", &["admin"])
        .await
        .to_string();
    let admin = Browser::new();
    admin
        .sign_in(&app, "admin@taskflow.example", PASSWORD)
        .await;
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/save_roles",
            &[("user_id", &me), ("roles[viewer]", "on")],
        )
        .await;
    assert!(html.contains("retirer votre propre rôle"), "{html}");
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/set_account_active",
            &[("user_id", &me), ("active", "false")],
        )
        .await;
    assert!(html.contains("désactiver votre propre compte"), "{html}");
    assert_eq!(admin.page(&app, "/admin/users").await.0, StatusCode::OK);
}

/// Issue 15 §9: the admin role alone does not make a decider: an admin cannot give
/// themselves a §2.2 role; another admin can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_cannot_make_themselves_a_decider() {
    let app = spawn_app(test_database().await).await;
    let me = app
        .create_user("admin@taskflow.example", "Alex Admin", &["admin"])
        .await
        .to_string();
    let admin = Browser::new();
    admin
        .sign_in(&app, "admin@taskflow.example", PASSWORD)
        .await;
    let roles = || async {
        sqlx::query_scalar::<_, Vec<String>>(
            "SELECT roles FROM users WHERE email = 'admin@taskflow.example'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    for role in [
        "tech_lead",
        "project_manager",
        "sysadmin",
        "senior_dev_oncall",
    ] {
        let field = format!("roles[{role}]");
        let (_, html) = admin
            .submit_and_follow(
                &app,
                "/admin/users",
                "/api/save_roles",
                &[("user_id", &me), ("roles[admin]", "on"), (&field, "on")],
            )
            .await;
        assert!(
            html.contains("un autre administrateur doit le faire"),
            "{role}: {html}"
        );
        assert_eq!(roles().await, ["admin"], "{role}");
    }
    // A role that decides nothing, they may take.
    admin
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/save_roles",
            &[
                ("user_id", &me),
                ("roles[admin]", "on"),
                ("roles[dba]", "on"),
            ],
        )
        .await;
    assert_eq!(roles().await.len(), 2);
    // Another admin grants it.
    let other = app
        .signed_in_browser("bea@taskflow.example", "Béa Admin", &["admin"])
        .await;
    let (_, html) = other
        .submit_and_follow(
            &app,
            "/admin/users",
            "/api/save_roles",
            &[
                ("user_id", &me),
                ("roles[admin]", "on"),
                ("roles[dba]", "on"),
                ("roles[tech_lead]", "on"),
            ],
        )
        .await;
    assert!(
        !html.contains("un autre administrateur doit le faire"),
        "{html}"
    );
    assert!(roles().await.contains(&"tech_lead".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_manage_accounts() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let claire = app
        .create_user("claire@taskflow.example", "Claire", &["tech_lead"])
        .await
        .to_string();
    let browser = Browser::new();
    browser
        .sign_in(&app, "claire@taskflow.example", PASSWORD)
        .await;

    let (status, html) = browser.page(&app, "/admin/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!html.contains(r#"action="/api/add_account""#));
    assert!(
        !html.contains(r#"href="/admin/users""#),
        "no Admin link for non-admins"
    );

    // A forged post is refused on the server.
    let (_, html) = browser
        .submit_and_follow(
            &app,
            "/",
            "/api/save_roles",
            &[("user_id", &claire), ("roles[admin]", "on")],
        )
        .await;
    assert!(html.contains("pas le droit de faire cela."), "{html}");
    let roles: Vec<String> = sqlx::query_scalar("SELECT roles FROM users WHERE email = $1")
        .bind("claire@taskflow.example")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(roles, vec!["tech_lead"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_is_remembered_for_the_user() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_user("marc@taskflow.example", "Marc", &["project_manager"])
        .await;
    let browser = Browser::new();
    let (_, html) = browser.page(&app, "/login").await;
    assert!(html.contains(r#"<html lang="fr""#));

    browser
        .sign_in(&app, "marc@taskflow.example", PASSWORD)
        .await;
    let (to, html) = browser
        .submit_and_follow(
            &app,
            "/",
            "/api/set_language",
            &[("lang", "en"), ("back", "/")],
        )
        .await;
    assert_eq!(to, "/");
    assert!(html.contains("Welcome, Marc."), "{html}");
    assert!(html.contains(">Dashboard<"));

    // A new session (another browser) gets the user's language at sign-in.
    let other = Browser::new();
    let (_, html) = other.sign_in(&app, "marc@taskflow.example", PASSWORD).await;
    assert!(html.contains("Welcome, Marc."), "{html}");

    // A foreign "back" is not followed.
    let res = browser
        .submit(
            &app,
            "/",
            "/api/set_language",
            &[("lang", "fr"), ("back", "https://evil.example/")],
        )
        .await;
    assert_eq!(location(&res), "/");
}

/// Issue 16 §7: one's own password (the current one asked), language and time zone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_changes_their_password_language_and_time_zone() {
    let app = spawn_app(test_database().await).await;
    let browser = app
        .signed_in_browser("nadia@taskflow.example", "Nadia Haddad", &["dba"])
        .await;
    let (_, html) = browser.page(&app, "/").await;
    assert!(html.contains(r#"href="/profile""#), "{html}");
    let (status, html) = browser.page(&app, "/profile").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"Europe/Paris\""), "{html}");

    let change = |current: &'static str, new: &'static str, repeat: &'static str| {
        let browser = &browser;
        let app = &app;
        async move {
            browser
                .submit_and_follow(
                    app,
                    "/profile",
                    "/api/change_password",
                    &[
                        ("current_password", current),
                        ("new_password", new),
                        ("repeat_password", repeat),
                    ],
                )
                .await
                .1
        }
    };
    let html = change(
        "not my password",
        "a brand new passphrase",
        "a brand new passphrase",
    )
    .await;
    assert!(
        html.contains("Ce n&#x27;est pas votre mot de passe actuel")
            || html.contains("Ce n'est pas votre mot de passe actuel"),
        "{html}"
    );
    let html = change(PASSWORD, "a brand new passphrase", "a brand new passfrase").await;
    assert!(html.contains("Les deux saisies diffèrent."), "{html}");
    let html = change(PASSWORD, "short", "short").await;
    assert!(html.contains("de 12 à 256 caractères"), "{html}");
    assert!(!html.contains("a brand new"), "passwords are never kept");
    let html = change(PASSWORD, "a brand new passphrase", "a brand new passphrase").await;
    assert!(html.contains("Mot de passe changé."), "{html}");
    let (to, _) = Browser::new()
        .sign_in(&app, "nadia@taskflow.example", PASSWORD)
        .await;
    assert_eq!(to, "/login", "the old password no longer works");
    let (to, _) = Browser::new()
        .sign_in(&app, "nadia@taskflow.example", "a brand new passphrase")
        .await;
    assert_eq!(to, "/");

    let (_, html) = browser
        .submit_and_follow(
            &app,
            "/profile",
            "/api/save_preferences",
            &[("lang", "en"), ("time_zone", "Mars/Olympus")],
        )
        .await;
    assert!(html.contains("Fuseau horaire inconnu"), "{html}");
    assert!(
        html.contains("value=\"Mars/Olympus\""),
        "typed kept: {html}"
    );
    let (_, html) = browser
        .submit_and_follow(
            &app,
            "/profile",
            "/api/save_preferences",
            &[("lang", "en"), ("time_zone", "America/Montreal")],
        )
        .await;
    assert!(html.contains("Preferences saved."), "{html}");
    assert!(html.contains("value=\"America/Montreal\""), "{html}");
    let (lang, tz): (String, String) = sqlx::query_as(
        "SELECT language, time_zone FROM users WHERE email = 'nadia@taskflow.example'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((lang.as_str(), tz.as_str()), ("en", "America/Montreal"));
}
