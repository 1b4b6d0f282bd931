//! Malformed input never gets a 5xx, never shows internal text, never writes anything: every
//! server function and every page, as a browser with JavaScript off and as a script (curl).
use crate::helpers::*;
use reqwest::StatusCode;

/// Values no form of the app accepts where an id, a number, a date or a choice is expected,
/// and that no text field accepts either (NUL, control characters, 5 MB).
fn junk() -> Vec<String> {
    vec![
        "-1".into(),
        "99999999999999999999999".into(),
        "9223372036854775807".into(),
        "-5000-01-01T00:00".into(),
        "99999-12-31T23:59".into(),
        "a\0b".into(),
        "line\u{7}bell\u{1b}[31m".into(),
    ]
}

/// Every field name a form of the app posts (a server function ignores the others).
const FIELDS: &[&str] = &[
    "incident_id",
    "id",
    "step",
    "page",
    "note",
    "comment",
    "body",
    "title",
    "description",
    "detected_at",
    "severity",
    "environment_id",
    "environment",
    "suspect_release",
    "criteria",
    "criteria_other",
    "decision",
    "reason",
    "fingerprint",
    "verdict",
    "action",
    "change",
    "target_release",
    "backup",
    "manual_steps",
    "subject",
    "template",
    "lang",
    "roles",
    "role",
    "users",
    "list",
    "email",
    "name",
    "password",
    "item",
    "check",
    "due",
    "due_date",
    "owner",
    "status",
    "from",
    "to",
    "kind",
    "version",
    "release",
    "deployed_at",
    "starts_at",
    "ends_at",
    "phone",
    "contact",
    "shift",
    "revision",
    "meeting_at",
    "summary",
    "root_cause",
    "target",
    "local_root",
    "ssh_user",
    "ssh_host",
    "ssh_port",
    "ssh_key_path",
    "ssh_known_hosts",
    "releases_dir",
    "current_link",
    "backups_dir",
    "public_dir",
    "health_url",
    "time_zone",
    "db_kind",
    "db_host",
    "db_port",
    "db_name",
    "db_user",
    "db_password_source",
    "db_password_ref",
    "next",
    "back",
    "language",
    "time_zone_name",
];

/// The free-text fields, where only the length can be wrong.
const TEXT_FIELDS: &[&str] = &[
    "title",
    "description",
    "body",
    "note",
    "comment",
    "reason",
    "summary",
    "manual_steps",
    "subject",
    "name",
];

/// Text that must never reach a page or a response body.
const INTERNAL: &[&str] = &[
    "database error",
    "error returned from database",
    "sqlx",
    "OFFSET must not",
    "out of range",
    "panicked",
    "Args|",
    "MissingArg|",
    "missing field",
    "ServerFnError",
    "internal error:",
    "invalid digit",
];

fn clean(where_: &str, status: StatusCode, body: &str) {
    assert!(
        !status.is_server_error(),
        "{where_}: {status}\n{}",
        &body[..body.len().min(2000)]
    );
    for text in INTERNAL {
        assert!(
            !body.contains(text),
            "{where_}: internal text {text:?} in\n{}",
            &body[..body.len().min(2000)]
        );
    }
}

/// Rows of the tables a refused request must not touch.
async fn written(app: &TestApp) -> Vec<(String, i64)> {
    let mut counts = Vec::new();
    for table in [
        "users",
        "incidents",
        "incident_events",
        "incident_steps",
        "plans",
        "plan_reviews",
        "executions",
        "execution_steps",
        "deployments",
        // (not `environments`: a name such as "-1" is a name like any other)
        "contacts",
        "on_call_shifts",
        "post_mortems",
        "corrective_actions",
        "email_sends",
        "outbox",
        "verification_items",
        "recipient_lists",
    ] {
        let n: Result<i64, _> = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&app.pool)
            .await;
        if let Ok(n) = n {
            counts.push((table.to_owned(), n));
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_gets_a_clear_refusal_and_writes_nothing() {
    // The server's log goes to the test's output: a failure shows what the server saw.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let app = spawn_app(test_database().await).await;
    server::demo::seed(&app.pool).await.unwrap();
    let sandbox = tempfile::tempdir().unwrap();
    server::demo::build_sandbox(sandbox.path()).unwrap();
    server::demo::seed_scenario(&app.pool, sandbox.path())
        .await
        .unwrap();
    let browser = app
        .signed_in_browser(
            "fuzz@taskflow.example",
            "Fuzz",
            &["admin", "tech_lead", "sysadmin"],
        )
        .await;
    let (_, home) = browser.page(&app, "/").await;
    let token = csrf_token(&home).expect("a form token");
    let before = written(&app).await;

    // Pages with malformed ids and queries.
    let mut pages: Vec<String> = vec![
        "/incidents?page=9223372036854775807".into(),
        "/incidents?page=-5".into(),
        "/incidents?page=abc&state=%00&severity=x&environment=not-a-uuid".into(),
        "/history?from=-5000-01-01&to=99999-01-01".into(),
        "/history?from=2025-13-45&environment=%00&kind=x".into(),
        "/history/rollbacks.csv?from=-5000-01-01&to=99999-12-31".into(),
        "/environments/not-a-uuid".into(),
        "/admin/environments/not-a-uuid".into(),
        format!("/environments/{}", uuid::Uuid::new_v4()),
        "/mail/..%2F..%2Fetc%2Fpasswd".into(),
        "/post-mortems?page=-1".into(),
        "/actions?page=99999999999999999999".into(),
    ];
    for id in [
        "-1",
        "0",
        "99999999999999999999",
        "9223372036854775807",
        "abc",
        "1%00",
    ] {
        for page in [
            "",
            "/plan",
            "/execution",
            "/verification",
            "/emails",
            "/post-mortem",
            "/post-mortem.md",
        ] {
            pages.push(format!("/incidents/{id}{page}"));
        }
    }
    for path in &pages {
        let res = browser.get(&app, path).await;
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        clean(&format!("GET {path}"), status, &body);
    }

    // Every server function, with each malformed value in every field, and with none.
    let mut paths: Vec<&'static str> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(_, method)| method == http::Method::POST)
        .map(|(path, _)| path)
        .filter(|p| !matches!(*p, "/api/sign_out" | "/api/sign_in"))
        .collect();
    paths.sort();
    assert!(paths.len() > 30, "{paths:?}");
    let mut bodies: Vec<Vec<u8>> = vec![format!("_csrf={token}").into_bytes()];
    for value in junk() {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("_csrf", &token);
        for field in FIELDS {
            form.append_pair(field, &value);
        }
        bodies.push(form.finish().into_bytes());
    }
    // Long text in every text field (each form's limits), then a 5 MB field (over the 4 MB a
    // form may weigh).
    let mut long = form_urlencoded::Serializer::new(String::new());
    long.append_pair("_csrf", &token);
    for field in TEXT_FIELDS {
        long.append_pair(field, &"é".repeat(150 * 1024));
    }
    bodies.push(long.finish().into_bytes());
    let mut huge = form_urlencoded::Serializer::new(String::new());
    huge.append_pair("_csrf", &token);
    huge.append_pair("body", &"x".repeat(5 * 1024 * 1024));
    bodies.push(huge.finish().into_bytes());
    // Invalid UTF-8 in every field.
    let mut raw = format!("_csrf={token}").into_bytes();
    for field in FIELDS {
        raw.extend_from_slice(format!("&{field}=%FF%FE%00").as_bytes());
    }
    bodies.push(raw);
    for path in &paths {
        for (n, body) in bodies.iter().enumerate() {
            for accept in ["text/html", "*/*"] {
                let res = browser
                    .client
                    .post(app.url(path))
                    .header("Accept", accept)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Origin", format!("http://{}", app.addr))
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("POST {path} #{n}: no answer: {e}"));
                let status = res.status();
                let location = res
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let text = res.text().await.unwrap_or_default();
                let where_ = format!("POST {path} #{n} ({accept})");
                clean(&where_, status, &text);
                // A refused form comes back to a page that says why, never an error page.
                if accept == "text/html" && status.is_redirection() && location.starts_with('/') {
                    let (status, page) = browser.page(&app, &location).await;
                    clean(&format!("{where_} → {location}"), status, &page);
                }
            }
        }
    }
    assert_eq!(written(&app).await, before, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_gets_the_status_that_says_what_happened() {
    let app = spawn_app(test_database().await).await;
    let viewer = app
        .signed_in_browser("paul@taskflow.example", "Paul", &["viewer"])
        .await;
    let (_, home) = viewer.page(&app, "/").await;
    let token = csrf_token(&home).unwrap();
    let post = |path: &str, body: String| {
        viewer
            .client
            .post(app.url(path))
            .header("Accept", "*/*")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // A role refusal: 403, with a message and no internal text.
    let res = post(
        "/api/add_environment",
        format!("_csrf={token}&name=Staging"),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = res.text().await.unwrap();
    assert!(body.contains("Forbidden"), "{body}");
    clean("forbidden", StatusCode::FORBIDDEN, &body);
    // A missing field: 400.
    let res = post("/api/add_environment", format!("_csrf={token}"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    clean(
        "missing field",
        StatusCode::BAD_REQUEST,
        &res.text().await.unwrap(),
    );
    // A NUL in a field: 400 with the field named.
    let res = post("/api/add_environment", format!("_csrf={token}&name=a%00b"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("name"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM environments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}
