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

    let assets = checks::assets(&http, &format!("{site}/")).await;
    assert!(assets.passed, "{assets:?}");
    assert!(assets.evidence.contains("/app.js → 200"), "{assets:?}");
    assert!(
        !assets.evidence.contains("not-an-asset"),
        "links are not assets"
    );
    let broken = checks::assets(&http, &format!("{site}/broken")).await;
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
    assert!(
        fast.passed && fast.evidence.starts_with("5 requests: median"),
        "{fast:?}"
    );
    let slow =
        checks::response_time(&http, &format!("{site}/slow"), 1, Duration::from_secs(2)).await;
    assert!(!slow.passed, "{slow:?}");
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
