//! The automatic checks of the §6.1 checklist (Verification issue, groundwork), against a
//! real local HTTP server, a real PostgreSQL and real log files.
use crate::helpers::*;
use server::runner::checks;
use std::time::Duration;

/// A site with a home page, its assets (one missing), a redirect, an error and a slow page.
async fn site() -> String {
    use axum::http::StatusCode;
    use axum::response::Html;
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/",
            get(|| async {
                Html(
                    r#"<html><head><link rel="stylesheet" href="/app.css"><link rel="icon" href='/favicon.ico'>
                    <script src="/app.js"></script></head><body><img src="logo.png" alt="">
                    <a href="/not-an-asset">x</a></body></html>"#,
                )
            }),
        )
        .route("/app.css", get(|| async { "body{}" }))
        .route("/app.js", get(|| async { "1" }))
        .route("/favicon.ico", get(|| async { "i" }))
        .route("/logo.png", get(|| async { "png" }))
        .route(
            "/broken",
            get(|| async { Html(r#"<link rel="stylesheet" href="/app.css"><script src="/gone.js"></script>"#) }),
        )
        .route("/moved", get(|| async { (StatusCode::FOUND, [("location", "/")]) }))
        .route("/error", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(2200)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_checks_on_a_real_site() {
    let site = site().await;
    let http = client();
    let ok = checks::main_url(&http, &format!("{site}/")).await;
    assert!(ok.passed && ok.evidence.contains("→ 200"), "{ok:?}");
    assert!(
        checks::main_url(&http, &format!("{site}/moved"))
            .await
            .passed,
        "302 counts"
    );
    let error = checks::main_url(&http, &format!("{site}/error")).await;
    assert!(
        !error.passed && error.evidence.contains("→ 500"),
        "{error:?}"
    );
    assert!(
        !checks::main_url(&http, "http://127.0.0.1:9/").await.passed,
        "nobody listening"
    );

    // The home page, followed through its redirect, loads; an error page does not.
    let follow = reqwest::Client::new();
    let home = checks::home_page(&follow, &format!("{site}/moved")).await;
    assert!(
        home.passed && home.evidence.contains(&format!("→ 200 at {site}/,")),
        "{home:?}"
    );
    assert!(
        !checks::home_page(&follow, &format!("{site}/error"))
            .await
            .passed
    );

    let assets = checks::assets(&http, &format!("{site}/"), &[]).await;
    assert!(assets.passed, "{assets:?}");
    assert!(assets.evidence.contains("/app.js → 200"), "{assets:?}");
    assert!(
        !assets.evidence.contains("not-an-asset"),
        "links are not assets"
    );
    let broken = checks::assets(&http, &format!("{site}/broken"), &[]).await;
    assert!(
        !broken.passed && broken.evidence.contains("/gone.js → 404"),
        "{broken:?}"
    );
    assert!(
        assets.evidence.contains("/logo.png → 200"),
        "relative, resolved: {assets:?}"
    );
    assert_eq!(
        checks::asset_urls(&format!("{site}/"), r#"<img src="logo.png">"#),
        [format!("{site}/logo.png")]
    );

    let fast = checks::response_time(&http, &format!("{site}/"), 5, Duration::from_secs(2)).await;
    // The runner's evidence reads in each reader's language.
    let read = |lang| app::domain::runner_note::render(&fast.evidence, lang);
    assert!(
        fast.passed && read(app::i18n::Lang::En).starts_with("5 requests: median"),
        "{fast:?}"
    );
    assert!(
        read(app::i18n::Lang::Fr).starts_with("5 requêtes : médiane"),
        "{}",
        read(app::i18n::Lang::Fr)
    );
    let slow =
        checks::response_time(&http, &format!("{site}/slow"), 1, Duration::from_secs(2)).await;
    assert!(!slow.passed, "{slow:?}");
}

/// Issue 15 §7: the home page names an internal service (another port), and an asset of its
/// own origin redirects there. The runner fetches neither (the service counts its requests)
/// and lists them as not fetched, unless that origin is configured as a CDN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assets_check_fetches_only_the_health_urls_origin() {
    use axum::http::StatusCode;
    use axum::response::Html;
    use axum::routing::get;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let internal = axum::Router::new().fallback(move || {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            "secret"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let internal_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, internal).await });

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let page = format!(
        r#"<link rel="stylesheet" href="/app.css"><script src="{internal_url}/admin/metrics.js"></script>
        <img src="//localhost:{port}/logo.png"><img src="/moved.png">"#,
        port = addr.port()
    );
    let to_internal = format!("{internal_url}/redirected.png");
    let target = axum::Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/app.css", get(|| async { "body{}" }))
        .route(
            "/moved.png",
            get(move || async move { (StatusCode::FOUND, [("location", to_internal)]) }),
        );
    tokio::spawn(async move { axum::serve(listener, target).await });
    let site = format!("http://{addr}/");

    let follow = reqwest::Client::new();
    let checked = checks::assets(&follow, &site, &[]).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0, "{checked:?}");
    assert!(
        checked.evidence.contains(&format!(
            "{internal_url}/admin/metrics.js → not fetched: another origin than the health URL's"
        )),
        "{checked:?}"
    );
    assert!(
        checked.evidence.contains(&format!(
            "http://localhost:{}/logo.png → not fetched",
            addr.port()
        )),
        "another host name is another origin: {checked:?}"
    );
    assert!(
        checked
            .evidence
            .contains(&format!("http://{addr}/app.css → 200")),
        "{checked:?}"
    );
    assert!(
        checked
            .evidence
            .contains(&format!("http://{addr}/moved.png → 302"))
            && !checked.passed,
        "the redirect to another origin is not followed: {checked:?}"
    );

    // A configured CDN origin is fetched.
    let checked = checks::assets(&follow, &site, std::slice::from_ref(&internal_url)).await;
    assert!(
        checked
            .evidence
            .contains(&format!("{internal_url}/admin/metrics.js → 200")),
        "{checked:?}"
    );
    assert!(hits.load(Ordering::SeqCst) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_check_finds_the_critical_lines_of_the_last_fifty() {
    use app::domain::environment::Target;
    let root = tempfile::tempdir().unwrap();
    let log = root.path().join("prod.log");
    let mut text = String::from(
        "[2025-10-17 14:20:01] request.CRITICAL: Uncaught exception in BillingController\n",
    );
    for n in 0..60 {
        text.push_str(&format!(
            "[2025-10-17 14:3{}:00] request.INFO: Matched route \"home\"\n",
            n % 10
        ));
    }
    std::fs::write(&log, &text).unwrap();
    let mut config = crate::runner::test_config(root.path());
    config.target = Target::Local {
        root: root.path().display().to_string(),
    };
    let clean = checks::log_tail(&config, "/prod.log", 50).await;
    assert!(
        clean.passed,
        "the critical line is older than the last 50: {clean:?}"
    );
    text.push_str("[2025-10-17 14:40:00] app.ERROR: SQLSTATE[42S22]: Column not found\n");
    std::fs::write(&log, &text).unwrap();
    let dirty = checks::log_tail(&config, "/prod.log", 50).await;
    assert!(!dirty.passed);
    assert_eq!(
        dirty.evidence,
        "[2025-10-17 14:40:00] app.ERROR: SQLSTATE[42S22]: Column not found"
    );
    assert!(!checks::log_tail(&config, "/missing.log", 50).await.passed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_check_counts_the_users() {
    use app::domain::environment::{DatabaseKind, PasswordSource};
    let app = spawn_app(test_database().await).await;
    // The app's own database has a `users` table: three accounts in it.
    for n in 0..3 {
        app.create_user(&format!("u{n}@taskflow.example"), "U", &["qa"])
            .await;
    }
    let options = app.pool.connect_options();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("pw"), "").unwrap();
    let mut config = crate::runner::test_config(root.path());
    config.database.kind = DatabaseKind::Postgresql;
    config.database.port = options.get_port();
    config.database.user = options.get_username().to_owned();
    config.database.name = options.get_database().unwrap_or("postgres").to_owned();
    config.database.password_source = PasswordSource::File;
    config.database.password_ref = root.path().join("pw").display().to_string();
    let executor = server::runner::executor::Executor::new();
    let counted = checks::database(&executor, &config).await;
    assert!(
        counted.passed && counted.evidence.ends_with('3'),
        "{counted:?}"
    );
    config.database.name = "no_such_database".into();
    assert!(!checks::database(&executor, &config).await.passed);
}

/// A TaskFlow standing in for the real one: a home page with its assets; `/` answers 500
/// while `broken` is set.
async fn switchable_site() -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use axum::http::StatusCode;
    use axum::response::{Html, IntoResponse};
    use axum::routing::get;
    use std::sync::atomic::{AtomicBool, Ordering};
    let broken = std::sync::Arc::new(AtomicBool::new(false));
    let flag = broken.clone();
    let app = axum::Router::new()
        .route(
            "/",
            get(move || {
                let broken = flag.load(Ordering::SeqCst);
                async move {
                    if broken {
                        (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response()
                    } else {
                        Html(r#"<link rel="stylesheet" href="/app.css"><h1>TaskFlow</h1>"#)
                            .into_response()
                    }
                }
            }),
        )
        .route("/app.css", get(|| async { "body{}" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), broken)
}

/// An incident whose application rollback just ran on a local folder, against a real site,
/// a real log file and a real MariaDB database holding a `users` table of two rows.
pub(crate) struct Verifying {
    pub app: TestApp,
    pub incident: i64,
    pub root: tempfile::TempDir,
    pub broken: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub runner: server::runner::Runner,
    database: String,
}

impl Verifying {
    pub async fn new(app: TestApp, log: &str) -> Verifying {
        let v = Verifying::new_unexecuted(app, log).await;
        // The execution succeeds; verification begins.
        assert!(v.runner.tick().await.unwrap());
        v
    }

    /// The same, its checklist done (automatic items checked, manual ones ticked by a tech
    /// lead, who is returned): the §6.3 monitoring window is open.
    pub async fn monitoring(app: TestApp) -> (Verifying, app::viewer::SignedInUser) {
        let v = Verifying::new(app, "").await;
        v.run_checks().await;
        let lead = v
            .app
            .signed_in_user("lead@taskflow.example", &["tech_lead"])
            .await;
        v.tick_manual_items(&lead).await;
        assert_eq!(v.state().await, "monitoring");
        (v, lead)
    }

    /// The same, its execution still queued.
    pub async fn new_unexecuted(app: TestApp, log: &str) -> Verifying {
        use app::domain::environment::DatabaseKind;
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("current/var/log")).unwrap();
        std::fs::write(root.path().join("current/var/log/prod.log"), log).unwrap();
        std::fs::write(root.path().join("pw"), "").unwrap();
        let (site, broken) = switchable_site().await;
        let (incident, _) = crate::runner::queue(
            &app,
            root.path(),
            vec![crate::runner::command(&["true"], "/")],
        )
        .await;
        // Each test's incidents count from 1: the database is named by a counter instead.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let db = format!(
            "rbd_verify_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        crate::runner::mariadb(&format!(
            "DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db};
             CREATE TABLE {db}.users (id int); INSERT INTO {db}.users VALUES (1), (2);"
        ));
        crate::runner::use_database(
            &app,
            incident,
            DatabaseKind::Mariadb,
            3306,
            &db,
            "root",
            &root.path().join("pw"),
        )
        .await;
        sqlx::query(
            "UPDATE environments SET health_url = $2, current_link = '/current'
             WHERE id = (SELECT environment_id FROM incidents WHERE id = $1)",
        )
        .bind(incident)
        .bind(&site)
        .execute(&app.pool)
        .await
        .unwrap();
        let runner =
            server::runner::Runner::new(app.pool.clone(), std::time::Duration::from_secs(30));
        Verifying {
            app,
            incident,
            root,
            broken,
            runner,
            database: db,
        }
    }

    pub async fn state(&self) -> String {
        sqlx::query_scalar("SELECT state FROM incidents WHERE id = $1")
            .bind(self.incident)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    /// (item, status, evidence) in the procedure's order.
    pub async fn items(&self) -> Vec<(String, String, String)> {
        let mut rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT item, status, evidence FROM verification_items WHERE incident_id = $1",
        )
        .bind(self.incident)
        .fetch_all(&self.app.pool)
        .await
        .unwrap();
        rows.sort_by_key(|(item, _, _)| {
            app::domain::verification::ChecklistItem::parse(item).unwrap()
        });
        rows
    }

    /// Lets the runner check everything queued.
    pub async fn run_checks(&self) -> usize {
        let mut n = 0;
        while self.runner.verify(chrono::Utc::now()).await.unwrap() {
            n += 1;
        }
        n
    }

    pub fn page(&self) -> String {
        format!("/incidents/{}/verification", self.incident)
    }

    /// Posts the verification page's form for `item` (`tick` or `rerun`) as `browser`, with
    /// a note; returns the page it lands on.
    pub async fn verify_item(
        &self,
        browser: &Browser,
        item: &str,
        action: &str,
        note: &str,
    ) -> String {
        let (_, html) = browser
            .submit_and_follow(
                &self.app,
                &self.page(),
                "/api/verify_item",
                &[
                    ("incident_id", &self.incident.to_string()),
                    ("item", item),
                    ("action", action),
                    ("note", note),
                ],
            )
            .await;
        html
    }

    /// `user` ticks the four manual items (the automatic ones must have passed): the
    /// incident moves to monitoring.
    pub async fn tick_manual_items(&self, user: &app::viewer::SignedInUser) {
        use app::domain::verification::ChecklistItem;
        for item in ChecklistItem::ALL.iter().filter(|i| !i.is_automatic()) {
            app::backend::verification::tick(
                &self.app.pool,
                user,
                self.incident,
                *item,
                "",
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        }
    }

    pub async fn drop_database(&self) {
        crate::runner::mariadb(&format!("DROP DATABASE IF EXISTS {}", self.database));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checklist_with_its_evidence_then_monitoring() {
    let app = spawn_app(test_database().await).await;
    let v = Verifying::new(
        app,
        "[2025-10-17 14:31] request.INFO: ok\n[2025-10-17 14:32] php.CRITICAL: Uncaught Error in InvoiceController\n",
    )
    .await;
    assert_eq!(v.state().await, "verifying");
    let items = v.items().await;
    assert_eq!(items.len(), 10);
    assert_eq!(
        items.iter().filter(|(_, s, _)| s == "queued").count(),
        6,
        "{items:?}"
    );

    // The runner checks the six automatic items; the critical log line fails its item.
    assert_eq!(v.run_checks().await, 6);
    let items = v.items().await;
    let status = |name: &str| {
        items
            .iter()
            .find(|(i, _, _)| i == name)
            .map(|(_, s, e)| (s.clone(), e.clone()))
            .unwrap()
    };
    assert_eq!(status("main_url").0, "passed", "{items:?}");
    assert!(status("main_url").1.contains("→ 200"), "{items:?}");
    assert_eq!(status("home_page").0, "passed", "{items:?}");
    assert_eq!(status("assets").0, "passed", "{items:?}");
    assert!(status("assets").1.contains("app.css → 200"), "{items:?}");
    assert_eq!(status("performance").0, "passed", "{items:?}");
    assert!(status("performance").1.contains("median"), "{items:?}");
    assert_eq!(status("database").0, "passed", "{items:?}");
    assert!(status("database").1.ends_with('2'), "two users: {items:?}");
    assert_eq!(status("logs").0, "failed");
    assert!(status("logs").1.contains("php.CRITICAL: Uncaught Error"));
    assert_eq!(status("sign_in").0, "waiting");

    // A QA tester sees the failure and why, then re-runs the check once the log is clean.
    let qa = v
        .app
        .signed_in_browser("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let (_, html) = qa.page(&v.app, &v.page()).await;
    assert!(
        html.contains("Les logs ne contiennent pas d'erreurs critiques"),
        "{html}"
    );
    assert!(html.contains("php.CRITICAL: Uncaught Error"), "{html}");
    std::fs::write(
        v.root.path().join("current/var/log/prod.log"),
        "[2025-10-17 14:40] request.INFO: ok\n",
    )
    .unwrap();
    let html = v.verify_item(&qa, "logs", "rerun", "").await;
    assert!(html.contains("En attente du runner"), "{html}");
    assert_eq!(v.run_checks().await, 1);
    assert_eq!(v.items().await[4].1, "passed");

    // A forged tick of an automatic item is refused.
    let html = v.verify_item(&qa, "database", "tick", "").await;
    assert!(
        html.contains("Cet élément est vérifié par le runner"),
        "{html}"
    );

    // People tick the four others, one with a note; the last tick opens monitoring.
    for (item, note) in [
        ("sign_in", "connexion testée avec le compte démo"),
        ("main_features", ""),
        ("emails", "email de test reçu"),
    ] {
        v.verify_item(&qa, item, "tick", note).await;
        assert_eq!(v.state().await, "verifying");
    }
    let html = v.verify_item(&qa, "sessions", "tick", "").await;
    assert_eq!(v.state().await, "monitoring");
    assert!(html.contains("Quentin QA"), "who ticked: {html}");
    assert!(html.contains("email de test reçu"), "{html}");
    assert!(html.contains("Surveillance post-rollback"), "{html}");
    assert_eq!(html.matches("<li id=\"check-").count(), 8, "{html}");
    assert!(html.contains("Prochain contrôle : n° 1"), "{html}");
    v.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitoring_window_on_a_controlled_clock() {
    use app::backend::verification;
    use chrono::Duration as D;
    let app = spawn_app(test_database().await).await;
    let (v, lead) = Verifying::monitoring(app).await;
    let started: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT monitoring_started_at FROM incidents WHERE id = $1")
            .bind(v.incident)
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    let due: Vec<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
        "SELECT due_at FROM monitoring_checks WHERE incident_id = $1 ORDER BY slot",
    )
    .bind(v.incident)
    .fetch_all(&v.app.pool)
    .await
    .unwrap();
    assert_eq!(due.len(), 8);
    assert_eq!(due[0], started + D::minutes(15));
    assert_eq!(due[7], started + D::minutes(120));

    let at = |minutes: i64| started + D::minutes(minutes);
    // Nothing is due before +15 min; at +15 the runner takes check 1, once.
    assert!(!v.runner.verify(at(14)).await.unwrap());
    assert!(v.runner.verify(at(15)).await.unwrap());
    assert!(!v.runner.verify(at(16)).await.unwrap());
    // A person confirms it within its quarter of an hour; too early or too late is refused.
    let early = verification::confirm(&v.app.pool, &lead, v.incident, 2, "", at(16)).await;
    assert!(early.is_err(), "check 2 is not due yet");
    verification::confirm(
        &v.app.pool,
        &lead,
        v.incident,
        1,
        "logs clean, no user complaint",
        at(20),
    )
    .await
    .unwrap();

    // Check 2 fails (the site answers 500): flagged at once and emailed to the §2.2 roles.
    v.broken.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(v.runner.verify(at(30)).await.unwrap());
    let (alert, emails): (Option<chrono::DateTime<chrono::Utc>>, i64) = sqlx::query_as(
        "SELECT monitoring_alert_at,
                (SELECT count(*) FROM email_sends WHERE incident_id = $1 AND template = 'monitoring_check_failed')
         FROM incidents WHERE id = $1",
    )
    .bind(v.incident)
    .fetch_one(&v.app.pool)
    .await
    .unwrap();
    assert_eq!(alert, Some(at(30)));
    assert_eq!(emails, 1, "one alert email");
    let browser = v
        .app
        .signed_in_browser("marc@taskflow.example", "Marc", &["project_manager"])
        .await;
    let (_, dashboard) = browser.page(&v.app, "/").await;
    assert!(
        dashboard.contains("Contrôle de surveillance en échec"),
        "{dashboard}"
    );
    let (_, html) = browser.page(&v.app, &v.page()).await;
    assert!(html.contains("id=\"monitoring-alert\""), "{html}");
    assert!(
        html.contains("GET http"),
        "the failed check's evidence: {html}"
    );

    // Check 3 passes again: the flag is lowered. Check 4 (due +60) is never taken nor
    // confirmed: at +76 it is missed and the runner takes check 5.
    v.broken.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(v.runner.verify(at(45)).await.unwrap());
    let alert: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT monitoring_alert_at FROM incidents WHERE id = $1")
            .bind(v.incident)
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    assert_eq!(alert, None);
    assert!(v.runner.verify(at(76)).await.unwrap());
    let taken: Vec<(i32, Option<bool>)> = sqlx::query_as(
        "SELECT slot, passed FROM monitoring_checks WHERE incident_id = $1 AND taken_at IS NOT NULL ORDER BY slot",
    )
    .bind(v.incident)
    .fetch_all(&v.app.pool)
    .await
    .unwrap();
    assert_eq!(
        taken,
        vec![
            (1, Some(true)),
            (2, Some(false)),
            (3, Some(true)),
            (5, Some(true))
        ]
    );
    let late = verification::confirm(&v.app.pool, &lead, v.incident, 4, "", at(76)).await;
    assert!(late.is_err(), "check 4 is missed");

    // Resolving before the end of the window needs a reason, and only a §2.2 role may.
    let qa = v.app.signed_in_user("qa@taskflow.example", &["qa"]).await;
    assert!(
        verification::resolve(&v.app.pool, &qa, v.incident, "", at(121))
            .await
            .is_err()
    );
    assert!(
        verification::resolve(&v.app.pool, &lead, v.incident, " ", at(100))
            .await
            .is_err()
    );
    assert_eq!(v.state().await, "monitoring");
    verification::resolve(&v.app.pool, &lead, v.incident, "", at(120))
        .await
        .unwrap();
    assert_eq!(v.state().await, "resolved");
    let (restored, finished): (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
    ) = sqlx::query_as(
        "SELECT i.restored_at, e.finished_at FROM incidents i
             JOIN executions e ON e.incident_id = i.id WHERE i.id = $1",
    )
    .bind(v.incident)
    .fetch_one(&v.app.pool)
    .await
    .unwrap();
    assert!(restored.is_some());
    assert_eq!(
        restored, finished,
        "the restore time is the execution's end"
    );
    v.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_early_without_a_reason_says_so_on_the_page() {
    let app = spawn_app(test_database().await).await;
    let v = Verifying::new(app, "").await;
    v.run_checks().await;
    let lead = v
        .app
        .signed_in_browser("lead@taskflow.example", "Léa Lead", &["tech_lead"])
        .await;
    for item in ["sign_in", "main_features", "emails", "sessions"] {
        v.verify_item(&lead, item, "tick", "").await;
    }
    let (_, html) = lead
        .submit_and_follow(
            &v.app,
            &v.page(),
            "/api/resolve_incident",
            &[("incident_id", &v.incident.to_string()), ("reason", "")],
        )
        .await;
    assert!(
        html.contains("donnez la raison de résoudre plus tôt"),
        "{html}"
    );
    assert_eq!(v.state().await, "monitoring");
    let (to, html) = lead
        .submit_and_follow(
            &v.app,
            &v.page(),
            "/api/resolve_incident",
            &[
                ("incident_id", &v.incident.to_string()),
                ("reason", "Stable <b>depuis</b> 1 h, accord de l'équipe"),
            ],
        )
        .await;
    assert_eq!(to, format!("/incidents/{}", v.incident));
    assert!(html.contains("Incident résolu."), "{html}");
    assert_eq!(v.state().await, "resolved");
    let (_, html) = lead.page(&v.app, &v.page()).await;
    assert!(
        html.contains("Stable &lt;b&gt;depuis&lt;/b&gt; 1 h"),
        "escaped: {html}"
    );
    assert!(html.contains("id=\"restored-at\""), "{html}");
    v.drop_database().await;
}
