//! Alert intake (issue 18): a real Alertmanager delivering to the app, and direct posts of
//! Grafana-shaped, malformed, oversized and wrongly authenticated payloads.
use crate::helpers::*;
use reqwest::StatusCode;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A real Alertmanager (Debian's `prometheus-alertmanager`) whose one receiver is the app's
/// webhook with `token`; it groups by `alertname` and sends within about a second.
struct Alertmanager {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    fn start(app: &TestApp, token: &str) -> Alertmanager {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "route:\n  receiver: rollback-desk\n  group_by: ['alertname']\n  group_wait: 1s\n  \
             group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: rollback-desk\n  \
             webhook_configs:\n  - url: {}\n    send_resolved: true\n    http_config:\n      \
             authorization:\n        credentials: {token}\n",
            app.url("/api/v1/alerts/alertmanager")
        );
        std::fs::write(dir.path().join("alertmanager.yml"), config).unwrap();
        let child = Command::new("prometheus-alertmanager")
            .arg(format!(
                "--config.file={}",
                dir.path().join("alertmanager.yml").display()
            ))
            .arg(format!("--storage.path={}", dir.path().display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No cluster: one instance, nothing listening on the gossip port.
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus-alertmanager (Debian) is installed");
        wait_for_port(port);
        Alertmanager {
            child,
            port,
            _dir: dir,
        }
    }

    /// Posts alerts to Alertmanager's own API, as Prometheus does.
    async fn post(&self, alerts: serde_json::Value) {
        let res = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/api/v2/alerts", self.port))
            .header("Content-Type", "application/json")
            .body(alerts.to_string())
            .send()
            .await
            .expect("Alertmanager answers");
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An admin makes the environment's alert token on its page and reads it from the notice.
async fn make_token(app: &TestApp, admin: &Browser, env: uuid::Uuid) -> String {
    let page = format!("/environments/{env}");
    let (_, html) = admin
        .submit_and_follow(
            app,
            &page,
            "/api/rotate_alert_token",
            &[("id", &env.to_string())],
        )
        .await;
    let at = html
        .find("rbd_alert_")
        .expect("the new token is shown once");
    html[at..at + "rbd_alert_".len() + 64].to_owned()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// Waits (up to 20 s) until `sql` counts `n`.
async fn until_count(app: &TestApp, sql: &str, n: i64) {
    for _ in 0..200 {
        if count(app, sql).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{sql} never counted {n} (now {})", count(app, sql).await);
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_opens_one_incident_that_repeats_and_resolves_never_close() {
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let admin = app
        .signed_in_browser("admin@example.org", "Alice Admin", &["admin"])
        .await;
    let token = make_token(&app, &admin, env).await;
    let started = chrono::Utc::now() - chrono::Duration::minutes(20);
    let started = started - chrono::Duration::nanoseconds(started.timestamp_subsec_nanos().into());
    // The release live when the alert started, deployed 12 minutes before it.
    sqlx::query(
        "INSERT INTO deployments (environment_id, version, release, deployed_at, source)
         VALUES ($1, 'v1.1.0', '2025-10-01_090000', $2, 'demo'),
                ($1, 'v1.2.0', '2025-10-17_104523', $3, 'demo')",
    )
    .bind(env)
    .bind(started - chrono::Duration::days(10))
    .bind(started - chrono::Duration::minutes(12))
    .execute(&app.pool)
    .await
    .unwrap();

    let am = Alertmanager::start(&app, &token);
    let alert = |instance: &str| {
        serde_json::json!({
            "labels": {"alertname": "HighErrorRate", "severity": "critical", "instance": instance},
            "annotations": {"summary": "5xx above 5 % on the API", "description": "Error rate 12 %"},
            "startsAt": rfc3339(started),
            "generatorURL": "http://prometheus.example.org/graph?g0.expr=rate",
        })
    };
    am.post(serde_json::json!([alert("web-1")])).await;
    until_count(&app, "SELECT count(*) FROM incidents", 1).await;
    let (id, title, severity, detected, suspect, source): (
        i64,
        String,
        String,
        chrono::DateTime<chrono::Utc>,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT id, title, severity, detected_at, suspect_release, source FROM incidents",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(title, "5xx above 5 % on the API");
    assert_eq!(severity, "critical", "severity=critical maps to critical");
    assert_eq!(
        detected, started,
        "the 30-minute clock starts when the problem did"
    );
    assert_eq!(suspect, "2025-10-17_104523", "the release live at startsAt");
    assert_eq!(source, "alert");

    // Alertmanager again with the same alert (a re-post, as Prometheus does every cycle) and
    // a second alert of the same group: the group is sent again with both.
    am.post(serde_json::json!([alert("web-1"), alert("web-2")]))
        .await;
    until_count(&app, "SELECT count(*) FROM alerts", 2).await;
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM incident_events WHERE kind = 'alert_received'"
        )
        .await,
        2,
        "one event per alert, none for the repeat"
    );

    // The incident page: opened by an alert, the alerts with their links and the suspect.
    let (status, html) = admin.page(&app, &format!("/incidents/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Ouvert par une alerte"), "{html}");
    assert!(html.contains("id=\"alerts\""));
    assert!(html.contains("HighErrorRate"));
    assert!(html.contains("http://prometheus.example.org/graph?g0.expr=rate"));
    assert!(
        html.contains("v1.2.0 déployée 12 min avant l'alerte")
            || html.contains("v1.2.0 déployée 12 min avant l&#x27;alerte")
            || html.contains("v1.2.0 déployée 12 min avant l&#39;alerte"),
        "{html}"
    );

    // Resolved: Alertmanager sends it (send_resolved); an event, the incident stays as it is.
    let state_before: String = sqlx::query_scalar("SELECT state FROM incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let mut resolved = alert("web-1");
    resolved["endsAt"] = rfc3339(chrono::Utc::now() - chrono::Duration::seconds(1)).into();
    am.post(serde_json::json!([resolved])).await;
    until_count(
        &app,
        "SELECT count(*) FROM incident_events WHERE kind = 'alert_resolved'",
        1,
    )
    .await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM alerts WHERE resolved_at IS NOT NULL"
        )
        .await,
        1
    );
    let state_after: String = sqlx::query_scalar("SELECT state FROM incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state_after, state_before, "a resolved alert closes nothing");
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 1);
    drop(am);
    app.stop().await;
}

/// A Grafana-shaped payload (Alertmanager's, plus dashboardURL and panelURL).
fn grafana(fingerprint: &str, severity: &str) -> serde_json::Value {
    serde_json::json!({
        "receiver": "rollback-desk", "status": "firing", "orgId": 1, "version": "1",
        "groupKey": "{}/{}:{alertname=\"DiskFull\"}", "truncatedAlerts": 0,
        "externalURL": "https://grafana.example.org/", "title": "[FIRING:1] DiskFull",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "DiskFull", "severity": severity, "team": "db"},
            "annotations": {"description": "/var/lib/mysql at 97 %"},
            "startsAt": "2025-10-17T12:22:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "javascript:alert(1)",
            "fingerprint": fingerprint,
            "dashboardURL": "https://grafana.example.org/d/abc", "panelURL": "https://grafana.example.org/d/abc?viewPanel=2",
            "silenceURL": "https://grafana.example.org/alerting/silence/new", "values": {"A": 97}
        }]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_refuses_wrong_tokens_and_bad_payloads_and_writing_nothing() {
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let admin = app
        .signed_in_browser("admin@example.org", "Alice Admin", &["admin"])
        .await;
    let old = make_token(&app, &admin, env).await;
    let token = make_token(&app, &admin, env).await;
    assert_ne!(old, token);
    let stored: String = sqlx::query_scalar("SELECT alert_token_hash FROM environments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!stored.contains(&token[10..]), "only a hash is stored");
    let (_, page) = admin.page(&app, &format!("/environments/{env}")).await;
    assert!(!page.contains(&token), "shown once only");

    let client = reqwest::Client::new();
    let post = |token: Option<&str>, body: String| {
        let mut req = client
            .post(app.url("/api/v1/alerts/alertmanager"))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(token) = token {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        req.send()
    };
    let good = grafana("a1b2c3", "warning").to_string();
    for wrong in [None, Some("guess"), Some(old.as_str())] {
        let res = post(wrong, good.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{wrong:?}");
        let body: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        assert!(body["error"].is_string());
    }
    let mut no_fingerprint = grafana("", "warning");
    no_fingerprint["alerts"][0]["fingerprint"] = "".into();
    let oversized = format!(
        "{{\"status\":\"firing\",\"groupKey\":\"g\",\"alerts\":[],\"pad\":\"{}\"}}",
        "x".repeat(1024 * 1024)
    );
    for (bad, why) in [
        ("not json".to_owned(), "not JSON"),
        ("{\"status\": \"firing\"}".to_owned(), "no alerts"),
        (no_fingerprint.to_string(), "fingerprint"),
        (oversized, "larger than"),
    ] {
        let res = post(Some(&token), bad).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{why}");
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        let body: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{why}: {body}"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM alerts").await, 0);

    // Grafana: opens an incident with the dashboard and panel links; a javascript: link is
    // dropped. Twice the same: nothing more.
    for _ in 0..2 {
        let res = post(Some(&token), good.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM alerts").await, 1);
    let (id, title, severity): (i64, String, String) =
        sqlx::query_as("SELECT id, title, severity FROM incidents")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(title, "DiskFull", "no summary: the alert's name");
    assert_eq!(
        severity, "urgent",
        "severity=warning maps to urgent by default"
    );
    let (_, html) = admin.page(&app, &format!("/incidents/{id}")).await;
    assert!(html.contains("https://grafana.example.org/d/abc?viewPanel=2"));
    assert!(
        html.contains("/var/lib/mysql at 97 %"),
        "description from annotations"
    );
    assert!(
        !html.contains("javascript:alert"),
        "only web links are kept"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_maps_labels_to_severity_and_criteria_on_the_environment_page() {
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let page = format!("/environments/{env}");
    let lead = app
        .signed_in_browser("lead@example.org", "Léa Lead", &["tech_lead"])
        .await;
    let (_, html) = lead.page(&app, &page).await;
    assert!(!html.contains("id=\"integrations\""), "admins only");
    let refused = lead
        .submit(
            &app,
            &page,
            "/api/rotate_alert_token",
            &[("id", &env.to_string())],
        )
        .await;
    assert!(refused.status().is_redirection() || refused.status() == StatusCode::FORBIDDEN);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM environments WHERE alert_token_hash IS NOT NULL"
        )
        .await,
        0
    );

    let admin = app
        .signed_in_browser("admin@example.org", "Alice Admin", &["admin"])
        .await;
    let (_, html) = admin.page(&app, &page).await;
    assert!(html.contains("id=\"integrations\""));
    assert!(html.contains("/api/v1/alerts/alertmanager"));
    assert!(
        html.contains("warning: urgent"),
        "the default mapping is shown"
    );

    // A line that can't be read: named next to its field, what was typed kept, nothing saved.
    let typed = "warning: critical\nthis is wrong";
    let (_, html) = admin
        .submit_and_follow(
            &app,
            &page,
            "/api/save_alert_rules",
            &[
                ("id", &env.to_string()),
                ("severities", typed),
                ("criteria", "team=db: maybe"),
            ],
        )
        .await;
    assert!(html.contains("Ligne 2 illisible"), "{html}");
    assert!(
        html.contains("Ligne 1 illisible"),
        "the criteria's line too"
    );
    assert!(html.contains("this is wrong"), "the typed text is kept");
    let saved: String =
        sqlx::query_scalar("SELECT alert_severity_map->>'warning' FROM environments")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(saved, "urgent");

    let criterion = "team=db: user_data_loss";
    let (_, html) = admin
        .submit_and_follow(
            &app,
            &page,
            "/api/save_alert_rules",
            &[
                ("id", &env.to_string()),
                ("severities", "warning: critical"),
                ("criteria", criterion),
            ],
        )
        .await;
    assert!(html.contains("Règles des alertes enregistrées"), "{html}");
    let token = make_token(&app, &admin, env).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/alerts/alertmanager"))
        .header("Authorization", format!("Bearer {token}"))
        .body(grafana("f00d", "warning").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (severity, criteria): (String, Vec<String>) =
        sqlx::query_as("SELECT severity, criteria FROM incidents")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(severity, "critical");
    assert_eq!(criteria, ["user_data_loss"]);
    app.stop().await;
}
