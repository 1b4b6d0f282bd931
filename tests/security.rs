//! Cross-site request forgery, escaping, probes.
use crate::helpers::*;
use reqwest::StatusCode;

async fn signed_in_admin(app: &TestApp) -> Browser {
    app.create_user("admin@taskflow.example", "Alex Admin", &["admin"])
        .await;
    let browser = Browser::new();
    browser
        .sign_in(app, "admin@taskflow.example", PASSWORD)
        .await;
    browser
}

async fn user_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_form_post_is_rejected() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let admin = signed_in_admin(&app).await;
    let (_, html) = admin.page(&app, "/admin/users").await;
    let token = csrf_token(&html).unwrap();
    let fields = [
        ("email", "mallory@evil.example"),
        ("name", "Mallory"),
        ("password", "long enough password"),
        ("roles[admin]", "on"),
    ];
    let post = |origin: Option<&str>, site: Option<&str>, token: Option<&str>| {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if let Some(token) = token {
            form.push(("_csrf", token));
        }
        let mut req = admin
            .client
            .post(app.url("/api/add_account"))
            .header("Accept", "text/html")
            .form(&form);
        if let Some(origin) = origin {
            req = req.header("Origin", origin);
        }
        if let Some(site) = site {
            req = req.header("Sec-Fetch-Site", site);
        }
        req.send()
    };
    let here = format!("http://{}", app.addr);

    // Another site posting with the victim's cookie, even with a stolen token.
    let res = post(Some("https://evil.example"), None, Some(&token))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("vient d'un autre site"));
    let res = post(Some(&here), Some("cross-site"), Some(&token))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The same host over another scheme is another origin.
    let res = post(Some(&format!("https://{}", app.addr)), None, Some(&token))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Same origin, but no token or a wrong one.
    let res = post(Some(&here), Some("same-origin"), None).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(Some(&here), None, Some("forged-token")).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(user_count(&app).await, 1, "nothing was created");

    // The genuine form goes through.
    let res = post(Some(&here), Some("same-origin"), Some(&token))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(user_count(&app).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_sign_in_is_rejected_too() {
    let pool = test_database().await;
    // Login CSRF: signing the victim into the attacker's account.
    let app = spawn_app(pool).await;
    app.create_user("mallory@taskflow.example", "Mallory", &["viewer"])
        .await;
    let victim = Browser::new();
    victim.page(&app, "/login").await;
    let res = victim
        .client
        .post(app.url("/api/sign_in"))
        .header("Accept", "text/html")
        .form(&[
            ("email", "mallory@taskflow.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(location(&victim.get(&app, "/").await), "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_escaped_in_pages() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_user(
        "xss@taskflow.example",
        "<script>alert(1)</script>",
        &["admin"],
    )
    .await;
    let browser = Browser::new();
    let (_, html) = browser
        .sign_in(&app, "xss@taskflow.example", PASSWORD)
        .await;
    assert!(!html.contains("<script>alert(1)</script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let (_, html) = browser.page(&app, "/admin/users").await;
    assert!(!html.contains("<script>alert(1)</script>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer_and_unknown_pages_are_404() {
    let pool = test_database().await;
    let app = spawn_app(pool.clone()).await;
    let browser = Browser::new();
    let res = browser.get(&app, "/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().get("set-cookie").is_none(),
        "probes open no session"
    );
    let res = browser.get(&app, "/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "ready");

    app.create_user("paul@taskflow.example", "Paul", &["viewer"])
        .await;
    browser
        .sign_in(&app, "paul@taskflow.example", PASSWORD)
        .await;
    let (status, html) = browser.page(&app, "/no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page introuvable."));

    // With the database gone, /readyz says so while /healthz still answers.
    pool.close().await;
    assert_eq!(
        browser.get(&app, "/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(browser.get(&app, "/healthz").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_when_served_over_https() {
    let pool = test_database().await;
    let mut settings = test_settings();
    settings.public_url = Some("https://desk.taskflow.example".into());
    let app = spawn_app_with(pool, settings).await;
    let res = Browser::new().get(&app, "/login").await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[test]
fn settings_come_from_a_toml_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rollback-desk.toml");
    std::fs::write(
        &file,
        "bind = \"127.0.0.1:8080\"\ndata_dir = \"/var/lib/rollback-desk\"\nsign_in_lock_minutes = 30\n",
    )
    .unwrap();
    let settings = server::config::Settings::load(Some(&file)).unwrap();
    assert_eq!(settings.bind.port(), 8080);
    assert_eq!(
        settings.data_dir,
        std::path::PathBuf::from("/var/lib/rollback-desk")
    );
    assert_eq!(settings.sign_in_policy().lock_minutes, 30);
    assert_eq!(settings.session_idle_hours, 12, "defaults fill the rest");

    let missing = server::config::Settings::load(Some(&dir.path().join("nope.toml")));
    assert!(missing.unwrap_err().to_string().contains("not found"));
    std::fs::write(&file, "bind = \"not an address\"\n").unwrap();
    assert!(server::config::Settings::load(Some(&file)).is_err());
}

/// The headers every response must carry, whatever produced it.
fn assert_locked_down(path: &str, res: &reqwest::Response) -> String {
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path}: no {name} header ({})", res.status()))
            .to_owned()
    };
    let policy = header("content-security-policy");
    for part in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(part), "{path}: {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
    assert_eq!(header("x-frame-options"), "DENY", "{path}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    assert_eq!(header("referrer-policy"), "same-origin", "{path}");
    policy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = spawn_app(test_database().await).await;
    let admin = signed_in_admin(&app).await;
    // A page: its inline scripts carry the nonce its policy names, and no other may run.
    let res = admin.get(&app, "/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let policy = assert_locked_down("/", &res);
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("a page's policy has a nonce: {policy}"))
        .to_owned();
    assert!(nonce.len() >= 16, "{nonce}");
    let html = res.text().await.unwrap();
    for script in html.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap_or_default();
        assert!(
            tag.contains("src=\"/style/") || tag.contains(&format!("nonce=\"{nonce}\"")),
            "an inline script without the page's nonce: <script{tag}>"
        );
    }
    let again = admin.get(&app, "/").await;
    let second = assert_locked_down("/", &again);
    assert!(!second.contains(&nonce), "a nonce is used once");

    for path in [
        "/history/rollbacks.csv",
        "/incidents/999/post-mortem.md",
        "/healthz",
        "/readyz",
        "/style/main.css",
        "/style/enhance.js",
        "/no-such-page",
        "/login",
    ] {
        let res = admin.get(&app, path).await;
        assert!(res.status().as_u16() < 500, "{path}: {}", res.status());
        assert_locked_down(path, &res);
    }
    // Errors: a refused form post, a script's post without a token, the deploy API.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(app.url("/api/open_incident"))
        .form(&[("title", "x")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_locked_down("/api/open_incident", &res);
    let res = client
        .post(app.url("/api/v1/deployments"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_locked_down("/api/v1/deployments", &res);
    assert!(res.headers().get("strict-transport-security").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_responses_ask_for_https_only() {
    let mut settings = test_settings();
    settings.public_url = Some("https://desk.taskflow.example".into());
    let app = spawn_app_with(test_database().await, settings).await;
    for path in ["/login", "/healthz", "/style/main.css"] {
        let res = Browser::new().get(&app, path).await;
        assert_locked_down(path, &res);
        assert!(
            res.headers()["strict-transport-security"]
                .to_str()
                .unwrap()
                .contains("max-age="),
            "{path}"
        );
    }
}

/// Issue 15 §10: DNS rebinding. A page of `evil.example` resolving to this server sends
/// `Host: evil.example`: nothing is served for it; addresses, localhost and `public_url`'s
/// host are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_another_host_name_is_not_served() {
    let mut settings = test_settings();
    settings.public_url = Some("http://desk.taskflow.example".into());
    let app = spawn_app_with(test_database().await, settings).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |host: String, path: &'static str| {
        client
            .get(app.url(path))
            .header("Host", host)
            .header("Accept", "text/html")
            .send()
    };
    let port = app.addr.port();
    for path in ["/login", "/healthz", "/style/main.css", "/api/sign_in"] {
        let res = get(format!("evil.example:{port}"), path).await.unwrap();
        assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST, "{path}");
        assert_locked_down(path, &res);
        let body = res.text().await.unwrap();
        assert!(!body.contains("<form"), "{path}: {body}");
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "desk.taskflow.example".to_owned(),
    ] {
        let res = get(host.clone(), "/login").await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{host}");
    }
}
