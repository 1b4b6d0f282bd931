//! Deployments (§11.2) with the §9.2 checklist: from the page, the CLI and the deploy API.
use crate::helpers::*;
use reqwest::StatusCode;
use sqlx::PgPool;

async fn deployments(pool: &PgPool) -> Vec<(String, String, String, Vec<String>)> {
    sqlx::query_as(
        "SELECT version, release, source, checklist FROM deployments ORDER BY deployed_at",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_api_needs_its_token() {
    let pool = test_database().await;
    let mut settings = test_settings();
    settings.deploy_api_token = Some("s3cret-deploy-token".into());
    let app = spawn_app_with(pool, settings).await;
    app.create_environment("TaskFlow production").await;
    let client = reqwest::Client::new();
    let body = r#"{"environment": "TaskFlow production", "version": "v1.2.0",
                   "release": "2025-10-17_104523", "deployed_at": "2025-10-17T08:45:23Z",
                   "checklist": ["tests_green", "code_reviewed", "recent_backup"]}"#;
    let post = |token: Option<&str>, body: &'static str| {
        let mut req = client
            .post(app.url("/api/v1/deployments"))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(token) = token {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        req.send()
    };
    let missing = post(None, body).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let wrong = post(Some("guess"), body).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(deployments(&app.pool).await.is_empty());

    let ok = post(Some("s3cret-deploy-token"), body).await.unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert!(ok.text().await.unwrap().contains("\"id\""));
    let recorded = deployments(&app.pool).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].0.as_str(), recorded[0].2.as_str()),
        ("v1.2.0", "api")
    );
    assert_eq!(
        recorded[0].3,
        ["tests_green", "code_reviewed", "recent_backup"],
        "in the §9.2 order"
    );

    let bad = post(
        Some("s3cret-deploy-token"),
        r#"{"environment": "Nowhere", "version": "", "release": "yesterday", "checklist": ["vibes"]}"#,
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errors: serde_json::Value = serde_json::from_str(&bad.text().await.unwrap()).unwrap();
    for field in ["environment", "version", "release", "checklist"] {
        assert!(errors["errors"][field].is_string(), "{field}: {errors}");
    }
    let twice = post(Some("s3cret-deploy-token"), body).await.unwrap();
    assert_eq!(
        twice.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a release is recorded once"
    );
    let garbage = post(Some("s3cret-deploy-token"), "not json").await.unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    assert_eq!(deployments(&app.pool).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_configured_the_deploy_api_is_off() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/deployments"))
        .header("Authorization", "Bearer ")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_recorded_on_the_page_fill_the_version_table() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_environment("TaskFlow production").await;
    let browser = app
        .signed_in_browser("thomas@taskflow.example", "Thomas", &["developer"])
        .await;

    let (to, html) = browser
        .submit_and_follow(
            &app,
            "/history",
            "/api/record_deployment",
            &[
                ("environment", "TaskFlow production"),
                ("version", "v1.1.8"),
                ("release", "2025-10-16 15:30"),
                ("deployed_at", "2025-10-16T15:30"),
                ("checklist[tests_green]", "on"),
            ],
        )
        .await;
    assert_eq!(to, "/history");
    assert!(html.contains("AAAA-MM-JJ_HHMMSS"), "{html}");
    assert_eq!(
        input_value(&html, "deployment-release").as_deref(),
        Some("2025-10-16 15:30")
    );
    assert!(html.contains(r#"name="checklist[tests_green]" value="on" checked"#));

    let (_, html) = browser
        .submit_and_follow(
            &app,
            "/history",
            "/api/record_deployment",
            &[
                ("environment", "TaskFlow production"),
                ("version", "v1.1.8"),
                ("release", "2025-10-16_153012"),
                ("deployed_at", "2025-10-16T15:30"),
                ("checklist[tests_green]", "on"),
                ("checklist[rollback_plan_ready]", "on"),
            ],
        )
        .await;
    assert!(html.contains("Déploiement de v1.1.8 enregistré."), "{html}");
    assert!(html.contains("<code>2025-10-16_153012</code>"));
    assert!(html.contains("2025-10-16"));
    let recorded = deployments(&app.pool).await;
    assert_eq!(recorded[0].2, "ui");
    assert_eq!(recorded[0].3, ["tests_green", "rollback_plan_ready"]);

    // A viewer sees the table but can't record.
    let viewer = app
        .signed_in_browser("paul@taskflow.example", "Paul", &["viewer"])
        .await;
    let (status, html) = viewer.page(&app, "/history").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("v1.1.8") && !html.contains("/api/record_deployment"));
}
