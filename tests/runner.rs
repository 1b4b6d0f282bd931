//! The runner (issue 5): real folders and links, real processes, real MariaDB and
//! PostgreSQL, a real sshd, a runner process killed mid-step.
use crate::helpers::*;
use crate::plans::{scenario, CLAIRE, PREVIOUS};
use app::backend::executions;
use app::domain::environment::{CommandName, DatabaseKind};
use app::domain::execution::Control;
use app::domain::plan::ApprovalPolicy;
use app::domain::runbook::{Operation, Step};
use server::runner::executor::Executor;
use server::runner::Runner;
use std::path::Path;
use std::time::Duration;

pub(crate) fn step(operation: Operation) -> Step {
    Step {
        procedure_ref: "test".into(),
        operation,
    }
}

pub(crate) fn command(argv: &[&str], cwd: &str) -> Step {
    step(Operation::RunCommand {
        name: CommandName::CacheClear,
        argv: argv.iter().map(|a| a.to_string()).collect(),
        cwd: cwd.into(),
    })
}

pub(crate) fn runner(app: &TestApp) -> Runner {
    Runner::new(app.pool.clone(), Duration::from_secs(30))
}

/// An incident being executed, with an execution of `steps` queued on an environment whose
/// target is the local folder `root`. Returns (incident, execution).
pub(crate) async fn queue(app: &TestApp, root: &Path, steps: Vec<Step>) -> (i64, i64) {
    let n = uuid::Uuid::new_v4();
    let user = app
        .create_user(
            &format!("{n}@taskflow.example"),
            "Runner test",
            &["sysadmin"],
        )
        .await;
    let env: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO environments (name, target, local_root) VALUES ($1, 'local', $2) RETURNING id",
    )
    .bind(format!("env {n}"))
    .bind(root.display().to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let incident: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state,
                                decision, rollback_type, decision_reason, decided_at, decided_by)
         VALUES ('Test', now(), 'critical', $1, $2, 'executing', 'rollback', 'application', 'r',
                 now(), $2) RETURNING id",
    )
    .bind(env)
    .bind(user)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let steps = serde_json::to_value(&steps).unwrap();
    let plan: i64 = sqlx::query_scalar(
        "INSERT INTO plans (incident_id, environment_id, rollback_type, target_release, steps,
                            fingerprint, requested_by)
         VALUES ($1, $2, 'application', 'x', $3, repeat('a', 64), $4) RETURNING id",
    )
    .bind(incident)
    .bind(env)
    .bind(&steps)
    .bind(user)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    // The settings the runner works from, as `executions::start` keeps them.
    let config = app::backend::environments::config(&app.pool, env)
        .await
        .unwrap()
        .unwrap();
    let execution: i64 = sqlx::query_scalar(
        "INSERT INTO executions (incident_id, plan_id, environment_id, fingerprint, steps,
                                 requested_by, config)
         VALUES ($1, $2, $3, repeat('a', 64), $4, $5, $6) RETURNING id",
    )
    .bind(incident)
    .bind(plan)
    .bind(env)
    .bind(&steps)
    .bind(user)
    .bind(serde_json::to_value(&config).unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    (incident, execution)
}

pub(crate) async fn status(app: &TestApp, execution: i64) -> String {
    sqlx::query_scalar("SELECT status FROM executions WHERE id = $1")
        .bind(execution)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// (position, attempt, status, exit code, output) of every attempt.
pub(crate) async fn attempts(
    app: &TestApp,
    execution: i64,
) -> Vec<(i32, i32, String, Option<i32>, String)> {
    sqlx::query_as(
        "SELECT position, attempt, status, exit_code, output FROM execution_steps
         WHERE execution_id = $1 ORDER BY position, attempt",
    )
    .bind(execution)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

pub(crate) async fn sysadmin(app: &TestApp) -> app::viewer::SignedInUser {
    app.signed_in_user(
        &format!("{}@taskflow.example", uuid::Uuid::new_v4()),
        &["sysadmin"],
    )
    .await
}

/// A web server standing for TaskFlow: it answers with the VERSION of the release `current`
/// points to, 500 for the defective v1.2.0 (or when `current` can't be followed).
pub async fn taskflow_site(root: std::path::PathBuf) -> String {
    use axum::http::StatusCode;
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let root = root.clone();
            async move {
                match std::fs::read_to_string(root.join("var/www/taskflow/current/VERSION")) {
                    Ok(v) if v.trim() == "v1.2.0" => (StatusCode::INTERNAL_SERVER_ERROR, v),
                    Ok(v) => (StatusCode::OK, v),
                    Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_rollback_switches_current_on_a_real_folder() {
    let s = scenario("application").await;
    let root = s.sandbox.path().to_path_buf();
    let site = taskflow_site(root.clone()).await;
    // Commands that do real work under the sandbox instead of php and systemctl.
    sqlx::query(
        r#"UPDATE environments SET health_url = $1, commands = '{
            "cache_clear": ["rm", "-rf", "var/cache/prod"],
            "cache_warmup": ["mkdir", "-p", "var/cache/prod"],
            "php_fpm_reload": ["true"], "php_fpm_stop": ["true"], "php_fpm_start": ["true"],
            "apache_reload": ["true"]}'"#,
    )
    .bind(&site)
    .execute(&s.app.pool)
    .await
    .unwrap();
    let before = reqwest::get(&site).await.unwrap();
    assert_eq!(before.status(), 500, "the defective release answers 500");

    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;
    let browser = s.browser(CLAIRE).await;
    let page = s.plan_page();
    let (_, html) = browser.page(&s.app, &page).await;
    assert!(html.contains(r#"id="execute-plan""#), "{html}");
    let fingerprint: String = sqlx::query_scalar("SELECT fingerprint FROM plans")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    // A version the person did not read is not executed.
    let stale = executions::start(
        &s.app.pool,
        ApprovalPolicy::default(),
        &claire,
        s.incident,
        Some(&"0".repeat(64)),
        chrono::Utc::now(),
    )
    .await;
    assert!(
        format!("{stale:?}").contains("PlanChangedSinceRead"),
        "{stale:?}"
    );
    let (to, html) = browser
        .submit_and_follow(
            &s.app,
            &page,
            "/api/execute_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("fingerprint", &fingerprint),
            ],
        )
        .await;
    assert_eq!(to, format!("/incidents/{}/execution", s.incident));
    assert!(
        html.contains("En file d&#x27;attente") || html.contains("En file d'attente"),
        "{html}"
    );
    assert_eq!(s.state().await, "executing");

    assert!(runner(&s.app).tick().await.unwrap());
    let current = std::fs::read_link(root.join("var/www/taskflow/current")).unwrap();
    assert_eq!(current, Path::new("releases/2025-10-16_153012"));
    assert!(root
        .join("var/www/taskflow/releases/2025-10-16_153012/var/cache/prod")
        .is_dir());
    let after = reqwest::get(&site).await.unwrap();
    assert_eq!(after.status(), 200);
    assert_eq!(after.text().await.unwrap().trim(), "v1.1.8");

    let execution: i64 = sqlx::query_scalar("SELECT id FROM executions")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(status(&s.app, execution).await, "succeeded");
    let done = attempts(&s.app, execution).await;
    assert_eq!(done.len(), 7);
    assert!(done.iter().all(|a| a.2 == "succeeded"), "{done:?}");
    assert!(done[6].4.contains("→ 200"), "{:?}", done[6]);
    assert_eq!(s.state().await, "verifying");
    let (rolled_back, reason): (Option<chrono::DateTime<chrono::Utc>>, Option<String>) =
        sqlx::query_as(
            "SELECT rolled_back_at, rollback_reason FROM deployments WHERE version = 'v1.2.0'",
        )
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert!(rolled_back.is_some());
    assert!(reason.unwrap().contains("facturation"));
    let (_, html) = browser
        .page(&s.app, &format!("/incidents/{}/execution", s.incident))
        .await;
    assert!(html.contains("Terminée avec succès"), "{html}");
    assert!(html.contains("→ 200"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_needs_a_ready_plan_and_a_free_environment() {
    let s = scenario("application_database").await;
    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;
    let now = chrono::Utc::now();
    let refused = executions::start(
        &s.app.pool,
        ApprovalPolicy::default(),
        &claire,
        s.incident,
        None,
        now,
    )
    .await;
    assert!(
        format!("{refused:?}").contains("PlanNotReady"),
        "{refused:?}"
    );
    let dev = s.user(crate::plans::THOMAS).await;
    let refused = executions::start(
        &s.app.pool,
        ApprovalPolicy::default(),
        &dev,
        s.incident,
        None,
        now,
    )
    .await;
    assert!(refused.is_err());
    assert_eq!(s.state().await, "awaiting_approval");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM executions")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_stops_the_execution_and_people_decide_what_next() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let (incident, execution) = queue(
        &app,
        root.path(),
        vec![
            command(&["touch", "first"], "/"),
            command(&["sh", "-c", "echo boom >&2; exit 3"], "/"),
            command(&["touch", "after"], "/"),
        ],
    )
    .await;
    assert!(runner(&app).tick().await.unwrap());
    assert_eq!(status(&app, execution).await, "failed");
    let done = attempts(&app, execution).await;
    assert_eq!(done.len(), 2, "nothing after the failed step ran: {done:?}");
    assert_eq!((done[1].2.as_str(), done[1].3), ("failed", Some(3)));
    assert!(done[1].4.contains("boom"));
    assert!(root.path().join("first").exists());
    assert!(!root.path().join("after").exists());
    // The runner does not pick it up again by itself; the incident page says what happened.
    assert!(!runner(&app).tick().await.unwrap());
    let reader = app
        .signed_in_browser("lea@taskflow.example", "Léa", &["qa"])
        .await;
    let (_, html) = reader.page(&app, &format!("/incidents/{incident}")).await;
    assert!(html.contains("a échoué à l'étape 2"), "{html}");
    let (_, html) = reader
        .page(&app, &format!("/incidents/{incident}/execution"))
        .await;
    assert!(html.contains("boom"), "{html}");
    assert!(
        !html.contains("/api/control_execution"),
        "no controls for QA"
    );

    // A developer may not decide; a sysadmin retries (fails again), then resumes after it.
    let dev = app
        .signed_in_user("dev@taskflow.example", &["developer"])
        .await;
    assert!(
        executions::control(&app.pool, &dev, incident, Control::Retry, "")
            .await
            .is_err()
    );
    let admin = sysadmin(&app).await;
    executions::control(&app.pool, &admin, incident, Control::Retry, "")
        .await
        .unwrap();
    runner(&app).tick().await.unwrap();
    assert_eq!(status(&app, execution).await, "failed");
    assert_eq!(attempts(&app, execution).await.len(), 3);
    executions::control(
        &app.pool,
        &admin,
        incident,
        Control::ResumeFrom(2),
        "done by hand",
    )
    .await
    .unwrap();
    runner(&app).tick().await.unwrap();
    assert_eq!(
        status(&app, execution).await,
        "succeeded_with_skips",
        "step 2 was skipped"
    );
    assert!(root.path().join("after").exists());
    let state: String = sqlx::query_scalar("SELECT state FROM incidents WHERE id = $1")
        .bind(incident)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "verifying");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_after_the_running_step_and_a_timeout_fails_the_step() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let (incident, execution) = queue(
        &app,
        root.path(),
        vec![
            command(&["sleep", "1"], "/"),
            command(&["touch", "never"], "/"),
        ],
    )
    .await;
    let running = tokio::spawn({
        let runner = runner(&app);
        async move { runner.tick().await }
    });
    // Once the first step runs, ask to stop.
    for _ in 0..100 {
        if !attempts(&app, execution).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let admin = sysadmin(&app).await;
    executions::control(&app.pool, &admin, incident, Control::Cancel, "")
        .await
        .unwrap();
    running.await.unwrap().unwrap();
    assert_eq!(status(&app, execution).await, "cancelled");
    let done = attempts(&app, execution).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].2, "succeeded", "the running step ended normally");
    assert!(!root.path().join("never").exists());
    let state: String = sqlx::query_scalar("SELECT state FROM incidents WHERE id = $1")
        .bind(incident)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "decided", "back to the plan");

    // Insisting kills the running step: it fails, recorded so, and nothing after it runs.
    let (incident, execution) = queue(
        &app,
        root.path(),
        vec![
            command(&["sleep", "60"], "/"),
            command(&["touch", "never"], "/"),
        ],
    )
    .await;
    let started = std::time::Instant::now();
    let running = tokio::spawn({
        let runner = runner(&app);
        async move { runner.tick().await }
    });
    for _ in 0..100 {
        if !attempts(&app, execution).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    executions::control(&app.pool, &admin, incident, Control::Cancel, "")
        .await
        .unwrap();
    executions::control(&app.pool, &admin, incident, Control::Kill, "")
        .await
        .unwrap();
    running.await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "killed, not waited for"
    );
    assert_eq!(status(&app, execution).await, "failed");
    let done = attempts(&app, execution).await;
    assert_eq!(done.len(), 1);
    assert!(
        done[0].4.contains("killed at the request of user"),
        "{done:?}"
    );
    assert!(!root.path().join("never").exists());
    // Abort asks first: a post without the tick (JavaScript off, or forged) changes nothing.
    let person = app
        .signed_in_browser("sophie@taskflow.example", "Sophie", &["sysadmin"])
        .await;
    let page = format!("/incidents/{incident}/execution");
    let (_, html) = person
        .submit_and_follow(
            &app,
            &page,
            "/api/control_execution",
            &[("incident_id", &incident.to_string()), ("action", "abort")],
        )
        .await;
    assert!(html.contains("Cochez la case pour confirmer"), "{html}");
    assert!(html.contains("id=\"exec-abort-confirm\""), "{html}");
    assert_eq!(status(&app, execution).await, "failed");
    let (_, html) = person
        .submit_and_follow(
            &app,
            &page,
            "/api/control_execution",
            &[
                ("incident_id", &incident.to_string()),
                ("action", "abort"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert!(!html.contains("Cochez la case pour confirmer"), "{html}");
    assert_eq!(status(&app, execution).await, "aborted");

    // A command past its time is stopped and fails the step.
    let (_, execution) = queue(&app, root.path(), vec![command(&["sleep", "30"], "/")]).await;
    let started = std::time::Instant::now();
    runner(&app)
        .with_executor(Executor::new().with_timeout(Duration::from_millis(500)))
        .tick()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status(&app, execution).await, "failed");
    assert!(attempts(&app, execution).await[0].4.contains("timeout"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_shell_characters_stay_whole_and_inside_the_root() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let (_, execution) = queue(
        &app,
        root.path(),
        vec![
            command(&["touch", "a; touch pwned", "$(touch pwned2)", "x y"], "/"),
            step(Operation::MaintenanceOn {
                path: "/../../../maintenance.html".into(),
                text: "$(touch pwned3) ; rm -rf /".into(),
            }),
        ],
    )
    .await;
    runner(&app).tick().await.unwrap();
    assert_eq!(status(&app, execution).await, "succeeded");
    for name in [
        "a; touch pwned",
        "$(touch pwned2)",
        "x y",
        "maintenance.html",
    ] {
        assert!(root.path().join(name).exists(), "{name}");
    }
    for name in ["pwned", "pwned2", "pwned3"] {
        assert!(!root.path().join(name).exists(), "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(root.path().join("maintenance.html")).unwrap(),
        "$(touch pwned3) ; rm -rf /\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_never_run_the_same_execution_twice() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let mut queued = Vec::new();
    for n in 0..8 {
        let log = format!("log-{n}");
        let (_, execution) = queue(
            &app,
            root.path(),
            vec![command(
                &["sh", "-c", "echo ran >> \"$1\"; sleep 0.1", "sh", &log],
                "/",
            )],
        )
        .await;
        queued.push((execution, log));
    }
    // Two runners, each on a pool of its own, as two server processes would be.
    let other_pool = sqlx::postgres::PgPoolOptions::new()
        .connect_with((*app.pool.connect_options()).clone())
        .await
        .unwrap();
    let work = |runner: Runner| async move {
        let mut ran = 0;
        while runner.execute_next().await.unwrap() {
            ran += 1;
        }
        ran
    };
    let (a, b) = tokio::join!(
        tokio::spawn(work(runner(&app))),
        tokio::spawn(work(Runner::new(other_pool, Duration::from_secs(30))))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, 8);
    assert!(a > 0 && b > 0, "both took part: {a} and {b}");
    for (execution, log) in queued {
        assert_eq!(status(&app, execution).await, "succeeded");
        let lines = std::fs::read_to_string(root.path().join(&log)).unwrap();
        assert_eq!(lines, "ran\n", "{log} ran once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_killed_mid_step_leaves_an_interrupted_execution_that_a_person_resumes() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    // Slow the first time only, so that the resumed attempt ends at once.
    let script =
        "if [ -e marker ]; then echo again >> marker; else echo first > marker; sleep 60; fi";
    let (incident, execution) =
        queue(&app, root.path(), vec![command(&["sh", "-c", script], "/")]).await;
    // The runner of a real server process, with a short lease.
    let mut process = app
        .server_process(&[("RBD_RUNNER_LEASE_SECONDS", "2")])
        .await;
    let mut started = false;
    for _ in 0..300 {
        if root.path().join("marker").exists() {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started, "the server's runner started the step");
    // kill -9: no chance to clean up.
    process.kill().unwrap();
    process.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Another runner finds the expired lease: interrupted, and nothing re-run by itself.
    assert!(!runner(&app).tick().await.unwrap());
    assert_eq!(status(&app, execution).await, "interrupted");
    let done = attempts(&app, execution).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].2, "interrupted");
    assert_eq!(
        std::fs::read_to_string(root.path().join("marker")).unwrap(),
        "first\n",
        "the step ran once"
    );
    let events: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM incident_events WHERE incident_id = $1 ORDER BY id")
            .bind(incident)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(
        events.contains(&"execution_interrupted".to_owned()),
        "{events:?}"
    );

    // A person resumes it: the step runs again and the execution finishes.
    let admin = sysadmin(&app).await;
    executions::control(&app.pool, &admin, incident, Control::Retry, "")
        .await
        .unwrap();
    runner(&app).tick().await.unwrap();
    assert_eq!(status(&app, execution).await, "succeeded");
    assert_eq!(
        std::fs::read_to_string(root.path().join("marker")).unwrap(),
        "first\nagain\n"
    );
}

/// The incident's environment on the SSH target `sshd`, its queued executions too (they work
/// from the settings they kept).
pub(crate) async fn use_ssh(app: &TestApp, incident: i64, sshd: &Sshd) {
    sqlx::query(
        "UPDATE environments SET target = 'ssh', ssh_user = $2, ssh_host = '127.0.0.1',
             ssh_port = $3, ssh_key_path = $4, ssh_known_hosts = $5
         WHERE id = (SELECT environment_id FROM incidents WHERE id = $1)",
    )
    .bind(incident)
    .bind(&sshd.user)
    .bind(i32::from(sshd.port))
    .bind(&sshd.key_path)
    .bind(&sshd.known_hosts)
    .execute(&app.pool)
    .await
    .unwrap();
    resnapshot(app, incident).await;
}

/// The environment's database settings, pointed at a real server, with the password in a file.
pub(crate) async fn use_database(
    app: &TestApp,
    incident: i64,
    kind: DatabaseKind,
    port: u16,
    name: &str,
    user: &str,
    password_file: &Path,
) {
    sqlx::query(
        "UPDATE environments SET db_kind = $2, db_host = '127.0.0.1', db_port = $3, db_name = $4,
             db_user = $5, db_password_source = 'file', db_password_ref = $6
         WHERE id = (SELECT environment_id FROM incidents WHERE id = $1)",
    )
    .bind(incident)
    .bind(kind.as_str())
    .bind(i32::from(port))
    .bind(name)
    .bind(user)
    .bind(password_file.display().to_string())
    .execute(&app.pool)
    .await
    .unwrap();
    resnapshot(app, incident).await;
}

/// The runner works from the settings kept when an execution was queued: a test that edits
/// the environment after `queue` keeps the edit in its queued executions too, as if it had
/// been made before.
pub(crate) async fn resnapshot(app: &TestApp, incident: i64) {
    let env: uuid::Uuid = sqlx::query_scalar("SELECT environment_id FROM incidents WHERE id = $1")
        .bind(incident)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let config = app::backend::environments::config(&app.pool, env)
        .await
        .unwrap()
        .unwrap();
    sqlx::query("UPDATE executions SET config = $2 WHERE incident_id = $1")
        .bind(incident)
        .bind(serde_json::to_value(&config).unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
}

/// The sha256 of a file, as the inventory records it.
pub(crate) fn sha256_of(path: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).expect("the file is there"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn restore_steps(
    root: &Path,
    kind: DatabaseKind,
    port: u16,
    name: &str,
    user: &str,
    dump: &str,
) -> Vec<Step> {
    vec![
        step(Operation::RestoreDatabase {
            path: dump.into(),
            sha256: sha256_of(
                &root
                    .join(dump.trim_start_matches('/'))
                    .display()
                    .to_string(),
            ),
            kind,
            host: "127.0.0.1".into(),
            port,
            name: name.into(),
            user: user.into(),
        }),
        step(Operation::VerifyDatabase {
            kind,
            host: "127.0.0.1".into(),
            port,
            name: name.into(),
            user: user.into(),
            queries: vec!["SELECT COUNT(*) FROM users".into()],
        }),
    ]
}

pub(crate) fn mariadb(sql: &str) -> String {
    let out = std::process::Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            "3306",
            "-u",
            "root",
            "-N",
            "-B",
            "-e",
            sql,
        ])
        .output()
        .expect("the mariadb client is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_restores_into_real_mariadb_and_postgresql() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    server::demo::build_sandbox(root.path()).unwrap();
    let dump = "/var/backups/taskflow/db_backup_20251017_103000.sql.gz";
    let secret = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let password_file = root.path().join("db-password");
    std::fs::write(&password_file, format!("{secret}\n")).unwrap();

    // MariaDB: a database and a user with a real password.
    let db = format!("rbd_{}", uuid::Uuid::new_v4().simple());
    mariadb(&format!(
        "CREATE DATABASE {db}; CREATE USER '{db}'@'%' IDENTIFIED BY '{secret}';
         CREATE USER '{db}'@'localhost' IDENTIFIED BY '{secret}';
         GRANT ALL ON {db}.* TO '{db}'@'%'; GRANT ALL ON {db}.* TO '{db}'@'localhost';
         CREATE TABLE {db}.users (id INT PRIMARY KEY); INSERT INTO {db}.users VALUES (99);"
    ));
    let steps = restore_steps(root.path(), DatabaseKind::Mariadb, 3306, &db, &db, dump);
    let (incident, execution) = queue(&app, root.path(), steps).await;
    use_database(
        &app,
        incident,
        DatabaseKind::Mariadb,
        3306,
        &db,
        &db,
        &password_file,
    )
    .await;
    runner(&app).tick().await.unwrap();
    let done = attempts(&app, execution).await;
    assert_eq!(status(&app, execution).await, "succeeded", "{done:?}");
    assert_eq!(mariadb(&format!("SELECT COUNT(*) FROM {db}.users")), "4");
    assert_eq!(mariadb(&format!("SELECT COUNT(*) FROM {db}.tasks")), "4");
    assert!(done[1].4.contains('4'), "{:?}", done[1]);

    // A corrupt gzip fails before anything is written.
    let corrupt = root
        .path()
        .join("var/backups/taskflow/db_backup_20251018_000000.sql.gz");
    let whole = std::fs::read(root.path().join(&dump[1..])).unwrap();
    let mut cut = whole[..whole.len() / 2].to_vec();
    cut.extend_from_slice(&[0u8; 16]);
    std::fs::write(&corrupt, cut).unwrap();
    mariadb(&format!(
        "DROP TABLE {db}.tasks; DELETE FROM {db}.users WHERE id > 1"
    ));
    let steps = restore_steps(
        root.path(),
        DatabaseKind::Mariadb,
        3306,
        &db,
        &db,
        "/var/backups/taskflow/db_backup_20251018_000000.sql.gz",
    );
    let (incident2, execution2) = queue(&app, root.path(), steps).await;
    use_database(
        &app,
        incident2,
        DatabaseKind::Mariadb,
        3306,
        &db,
        &db,
        &password_file,
    )
    .await;
    runner(&app).tick().await.unwrap();
    assert_eq!(status(&app, execution2).await, "failed");
    assert!(attempts(&app, execution2).await[0]
        .4
        .contains("nothing restored"));
    assert_eq!(mariadb(&format!("SELECT COUNT(*) FROM {db}.users")), "1");
    assert_eq!(
        mariadb(&format!(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{db}'"
        )),
        "1",
        "no table written"
    );
    mariadb(&format!(
        "DROP DATABASE {db}; DROP USER '{db}'@'%'; DROP USER '{db}'@'localhost';"
    ));

    // PostgreSQL: the same dump into a database of its own.
    let pg_db = format!(
        "rbd_test_{}_restore_{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let _dropped_at_the_end = DatabaseGuard::named(&pg_db);
    sqlx::query(&format!("CREATE DATABASE {pg_db}"))
        .execute(&app.pool)
        .await
        .unwrap();
    let options = app.pool.connect_options();
    let port = options.get_port();
    let pg_user = options.get_username().to_owned();
    let steps = restore_steps(
        root.path(),
        DatabaseKind::Postgresql,
        port,
        &pg_db,
        &pg_user,
        dump,
    );
    let (incident3, execution3) = queue(&app, root.path(), steps).await;
    use_database(
        &app,
        incident3,
        DatabaseKind::Postgresql,
        port,
        &pg_db,
        &pg_user,
        &password_file,
    )
    .await;
    runner(&app).tick().await.unwrap();
    let done = attempts(&app, execution3).await;
    assert_eq!(status(&app, execution3).await, "succeeded", "{done:?}");
    let restored = sqlx::postgres::PgPoolOptions::new()
        .connect_with((*options).clone().database(&pg_db))
        .await
        .unwrap();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&restored)
        .await
        .unwrap();
    assert_eq!(users, 4);
    restored.close().await;

    // The password is in no recorded output nor event.
    let leaks: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM execution_steps WHERE output LIKE '%' || $1 || '%')
              + (SELECT count(*) FROM incident_events WHERE details::text LIKE '%' || $1 || '%')",
    )
    .bind(&secret)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(leaks, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_rollback_through_ssh() {
    let app = spawn_app(test_database().await).await;
    let sshd = Sshd::start();
    let root = tempfile::tempdir().unwrap();
    server::demo::build_sandbox(root.path()).unwrap();
    let base = root.path().display().to_string();
    let releases = format!("{base}/var/www/taskflow/releases");
    let link = format!("{base}/var/www/taskflow/current");
    let steps = vec![
        step(Operation::ReadCurrent { link: link.clone() }),
        step(Operation::SwitchRelease {
            link: link.clone(),
            release_dir: format!("{releases}/2025-10-16_153012"),
        }),
        command(&["touch", "cache cleared; $(touch pwned)"], &link),
        step(Operation::MaintenanceOn {
            path: format!("{link}/public/maintenance.html"),
            text: "Application en maintenance. Retour prévu dans 15 minutes.".into(),
        }),
        step(Operation::VerifyBackup {
            path: format!("{base}/var/backups/taskflow/db_backup_20251017_103000.sql.gz"),
            sha256: {
                let out = std::process::Command::new("sha256sum")
                    .arg(
                        root.path()
                            .join("var/backups/taskflow/db_backup_20251017_103000.sql.gz"),
                    )
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout)[..64].to_owned()
            },
        }),
    ];
    let (incident, execution) = queue(&app, Path::new("/"), steps).await;
    use_ssh(&app, incident, &sshd).await;
    runner(&app).tick().await.unwrap();
    let done = attempts(&app, execution).await;
    assert_eq!(status(&app, execution).await, "succeeded", "{done:?}");
    assert!(done[0].4.contains("2025-10-17_104523"), "{:?}", done[0]);
    assert_eq!(
        std::fs::read_link(root.path().join("var/www/taskflow/current")).unwrap(),
        Path::new("releases/2025-10-16_153012")
    );
    let release = root
        .path()
        .join("var/www/taskflow/releases/2025-10-16_153012");
    assert!(release.join("cache cleared; $(touch pwned)").exists());
    assert!(!release.join("pwned").exists());
    assert_eq!(
        std::fs::read_to_string(release.join("public/maintenance.html")).unwrap(),
        "Application en maintenance. Retour prévu dans 15 minutes.\n"
    );
}

/// Switches `link` between two targets `times` times while a reader opens a file through it
/// in a loop; returns how many reads failed.
fn switch_under_a_reader(dir: &Path, times: usize, atomic: bool) -> usize {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    for name in ["a", "b"] {
        std::fs::create_dir_all(dir.join(name)).unwrap();
        std::fs::write(dir.join(name).join("index.html"), name).unwrap();
    }
    let link = dir.join("current");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("a", &link).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (stop, failures, file) = (stop.clone(), failures.clone(), link.join("index.html"));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if std::fs::read(&file).is_err() {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let config = test_config(dir);
    let executor = Executor::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let op = |to: &str| {
        if atomic {
            let step = Operation::SwitchRelease {
                link: "/current".into(),
                release_dir: format!("/{to}"),
            };
            rt.block_on(executor.run(&config, &step, None))
        } else {
            // What `ln -sfn` does on BusyBox or an old coreutils: unlink, then symlink.
            std::fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink(to, &link).unwrap();
            app::backend::executions::StepOutcome {
                succeeded: true,
                ..Default::default()
            }
        }
    };
    for i in 0..times {
        assert!(op(if i % 2 == 0 { "b" } else { "a" }).succeeded);
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    failures.load(Ordering::Relaxed)
}

pub fn test_config(root: &Path) -> app::domain::environment::EnvironmentConfig {
    use app::domain::environment::*;
    EnvironmentConfig {
        name: "t".into(),
        target: Target::Local {
            root: root.display().to_string(),
        },
        releases_dir: "/".into(),
        current_link: "/current".into(),
        backups_dir: "/".into(),
        public_dir: "/".into(),
        health_url: "http://127.0.0.1:9".into(),
        time_zone: "UTC".into(),
        commands: Default::default(),
        database: DatabaseConfig {
            kind: DatabaseKind::Mysql,
            host: "127.0.0.1".into(),
            port: 3306,
            name: "x".into(),
            user: "x".into(),
            password_source: PasswordSource::Env,
            password_ref: "X".into(),
        },
    }
}

#[test]
fn switching_current_is_atomic_for_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(switch_under_a_reader(dir.path(), 3000, true), 0);
    // The same reader does see an unlink-then-symlink switch: the test can fail.
    let failures = switch_under_a_reader(dir.path(), 3000, false);
    assert!(failures > 0, "the non-atomic switch was never caught");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_executes_its_seeded_plans_for_real() {
    use crate::plans::SOPHIE;
    let crate::rollback_core::Demo {
        app,
        sandbox,
        _dir,
        db,
    } = crate::rollback_core::demo().await;
    assert!(!server::demo::seed_plans(&app.pool).await.unwrap(), "once");
    let site = app.url("/demo/taskflow/");
    assert_eq!(reqwest::get(&site).await.unwrap().status(), 500);
    assert_eq!(mariadb(&format!("SELECT COUNT(*) FROM {db}.users")), "5");

    let person = |email: &'static str| {
        let pool = app.pool.clone();
        async move {
            let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                .bind(email)
                .fetch_one(&pool)
                .await
                .unwrap();
            app::backend::accounts::find(&pool, id)
                .await
                .unwrap()
                .unwrap()
                .signed_in()
        }
    };
    let claire = person(CLAIRE).await;
    let now = chrono::Utc::now();
    // Incident #3: the database restore, approved a second time, then executed.
    let restore: i64 = sqlx::query_scalar(
        "SELECT incident_id FROM plans WHERE rollback_type = 'application_database'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let fingerprint: String =
        sqlx::query_scalar("SELECT fingerprint FROM plans WHERE incident_id = $1")
            .bind(restore)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // A dump decompressed by hand earlier (§5.2 step 4): step 11 removes it.
    let leftover = sandbox.join("var/backups/taskflow/restore_temp.sql");
    std::fs::write(&leftover, "INSERT INTO users VALUES (1, 'secret');").unwrap();
    let sophie = person(SOPHIE).await;
    app::backend::plans::review(
        &app.pool,
        ApprovalPolicy::default(),
        &sophie,
        restore,
        app::domain::plan::Verdict::Approved,
        &fingerprint,
        "",
        now,
    )
    .await
    .unwrap();
    executions::start(
        &app.pool,
        ApprovalPolicy::default(),
        &claire,
        restore,
        None,
        now,
    )
    .await
    .unwrap();
    runner(&app).tick().await.unwrap();
    let execution: (i64, String) =
        sqlx::query_as("SELECT id, status FROM executions WHERE incident_id = $1")
            .bind(restore)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let done = attempts(&app, execution.0).await;
    assert_eq!(execution.1, "succeeded", "{done:?}");
    assert_eq!(done.len(), 14);
    assert!(!leftover.exists(), "§5.2 step 11 cleaned up");
    assert!(
        done[12]
            .4
            .contains("removed /var/backups/taskflow/restore_temp.sql"),
        "{:?}",
        done[12]
    );
    assert_eq!(
        mariadb(&format!("SELECT COUNT(*) FROM {db}.users")),
        "4",
        "the 10:30 backup"
    );
    assert_eq!(reqwest::get(&site).await.unwrap().status(), 200);
    assert!(!sandbox
        .join("var/www/taskflow/releases/2025-10-16_153012/public/maintenance.html")
        .exists());
    // Incident #1: the procedure's application rollback. The restore moved `current` since
    // its plan was made: stale, refused, until revised (then ready at once).
    assert!(
        executions::start(&app.pool, ApprovalPolicy::default(), &claire, 1, None, now)
            .await
            .is_err(),
        "a plan made before another execution moved current"
    );
    app::backend::plans::save(
        &app.pool,
        &claire,
        1,
        app::backend::plans::PlanChange::Revise,
        &app::backend::plans::PlanInput {
            target_release: "2025-10-16_153012".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    executions::start(&app.pool, ApprovalPolicy::default(), &claire, 1, None, now)
        .await
        .unwrap();
    runner(&app).tick().await.unwrap();
    let page = reqwest::get(&site).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("v1.1.8"));
    let first: String = sqlx::query_scalar("SELECT status FROM executions WHERE incident_id = 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(first, "succeeded");

    // Verification (§6.1) of both: the runner checks the restored site, the log of the
    // release now current and the restored database; all six automatic items pass.
    let verifier = runner(&app);
    while verifier.verify(chrono::Utc::now()).await.unwrap() {}
    let checked: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT incident_id, item, status, evidence FROM verification_items
         WHERE automatic ORDER BY incident_id, item",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(checked.len(), 12, "{checked:?}");
    assert!(
        checked.iter().all(|(_, _, status, _)| status == "passed"),
        "{checked:?}"
    );

    mariadb(&format!("DROP DATABASE {db}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_rollback_is_steps_that_people_tick_in_order() {
    use crate::plans::{MARC, SOPHIE, THOMAS};
    let s = scenario("system").await;
    let claire = s.user(CLAIRE).await;
    let fingerprint = app::backend::plans::save(
        &s.app.pool,
        &claire,
        s.incident,
        app::backend::plans::PlanChange::Prepare,
        &app::backend::plans::PlanInput {
            manual_steps: "Restaurer /etc/php/8.3/fpm/php.ini depuis la sauvegarde\n\n\
                           Redémarrer php8.3-fpm\n"
                .into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    for approver in [MARC, SOPHIE] {
        app::backend::plans::review(
            &s.app.pool,
            ApprovalPolicy::default(),
            &s.user(approver).await,
            s.incident,
            app::domain::plan::Verdict::Approved,
            &fingerprint,
            "",
            now,
        )
        .await
        .unwrap();
    }
    let execution = executions::start(
        &s.app.pool,
        ApprovalPolicy::default(),
        &claire,
        s.incident,
        None,
        now,
    )
    .await
    .unwrap();
    runner(&s.app).tick().await.unwrap();
    assert_eq!(status(&s.app, execution).await, "waiting");
    let browser = s.browser(SOPHIE).await;
    let page = format!("/incidents/{}/execution", s.incident);
    let (_, html) = browser.page(&s.app, &page).await;
    assert!(
        html.contains("Restaurer /etc/php/8.3/fpm/php.ini depuis la sauvegarde"),
        "{html}"
    );
    assert!(html.contains(r#"id="exec-manual-done""#), "{html}");
    // A developer can't tick it; Sophie does, with a note.
    let dev = s.user(THOMAS).await;
    assert!(
        executions::control(&s.app.pool, &dev, s.incident, Control::ManualDone, "")
            .await
            .is_err()
    );
    let (_, html) = browser
        .submit_and_follow(
            &s.app,
            &page,
            "/api/control_execution",
            &[
                ("incident_id", &s.incident.to_string()),
                ("action", "manual_done"),
                ("note", "php.ini restauré, diff vérifié"),
            ],
        )
        .await;
    assert!(html.contains("php.ini restauré, diff vérifié"), "{html}");
    assert!(html.contains("Sophie Martin"), "{html}");
    runner(&s.app).tick().await.unwrap();
    assert_eq!(
        status(&s.app, execution).await,
        "waiting",
        "the second step"
    );
    // The second one fails: the execution stops there, like an automatic step.
    executions::control(
        &s.app.pool,
        &s.user(SOPHIE).await,
        s.incident,
        Control::ManualFailed,
        "le service ne redémarre pas",
    )
    .await
    .unwrap();
    assert_eq!(status(&s.app, execution).await, "failed");
    let done = attempts(&s.app, execution).await;
    assert_eq!(
        done.iter().map(|a| (a.0, a.2.as_str())).collect::<Vec<_>>(),
        [(0, "succeeded"), (1, "failed")]
    );
    // Retried and done this time: the execution succeeds, the incident is verified next.
    executions::control(&s.app.pool, &claire, s.incident, Control::Retry, "")
        .await
        .unwrap();
    runner(&s.app).tick().await.unwrap();
    executions::control(
        &s.app.pool,
        &claire,
        s.incident,
        Control::ManualDone,
        "redémarré",
    )
    .await
    .unwrap();
    runner(&s.app).tick().await.unwrap();
    assert_eq!(status(&s.app, execution).await, "succeeded");
    assert_eq!(s.state().await, "verifying");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_database_run_each_execution_once() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let mut queued = Vec::new();
    for n in 0..6 {
        let log = format!("log-{n}");
        // Each step writes the pid of the server process that ran it: the parent of its
        // supervisor (the step's process group leader).
        let (_, execution) = queue(
            &app,
            root.path(),
            vec![command(
                &[
                    "sh",
                    "-c",
                    "cut -d' ' -f4 /proc/$PPID/stat >> \"$1\"; sleep 0.2",
                    "sh",
                    &log,
                ],
                "/",
            )],
        )
        .await;
        queued.push((execution, log));
    }
    let mut servers = [app.server_process(&[]).await, app.server_process(&[]).await];
    let mut finished = false;
    for _ in 0..300 {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM executions WHERE status <> 'succeeded'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if left == 0 {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for server in &mut servers {
        let _ = server.kill();
        let _ = server.wait();
    }
    assert!(finished, "the servers ran every execution");
    let pids: Vec<String> = servers.iter().map(|s| s.id().to_string()).collect();
    for (execution, log) in queued {
        let lines = std::fs::read_to_string(root.path().join(&log)).unwrap();
        let ran: Vec<&str> = lines.lines().collect();
        assert_eq!(ran.len(), 1, "execution {execution} ran once: {ran:?}");
        assert!(pids.iter().any(|p| p == ran[0]), "by one of the servers");
        assert_eq!(attempts(&app, execution).await.len(), 1);
    }
}

/// Issue 16 §3: over SSH too, the runner's words come back as notes in the reader's language:
/// the remote script reports by exit code what the maintenance-page removal found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_maintenance_removal_speaks_the_readers_language() {
    use app::domain::runner_note::render;
    use app::i18n::Lang;
    let sshd = Sshd::start();
    let root = tempfile::tempdir().unwrap();
    let base = root.path().display().to_string();
    for release in ["releases/a/public", "releases/b/public"] {
        std::fs::create_dir_all(root.path().join(release)).unwrap();
    }
    std::os::unix::fs::symlink("releases/b", root.path().join("current")).unwrap();
    let mut config = test_config(root.path());
    config.target = app::domain::environment::Target::Ssh {
        user: sshd.user.clone(),
        host: "127.0.0.1".into(),
        port: sshd.port,
        key_path: sshd.key_path.clone(),
        known_hosts: sshd.known_hosts.clone(),
    };
    let step = Operation::MaintenanceOff {
        path: format!("{base}/current/public/maintenance.html"),
    };
    let written = format!("{base}/releases/a/public/maintenance.html");
    let executor = Executor::new();

    // The page this execution wrote is gone already: a failed step, never a success.
    let absent = executor.run(&config, &step, Some(&written)).await;
    assert!(!absent.succeeded);
    assert_eq!(
        render(&absent.output, Lang::Fr),
        format!("{written} est absent : rien n'a été retiré")
    );
    // Removed, and the release served now (b) has none: the step succeeds and says where.
    std::fs::write(&written, "maintenance").unwrap();
    let removed = executor.run(&config, &step, Some(&written)).await;
    assert!(removed.succeeded, "{removed:?}");
    assert!(!Path::new(&written).exists());
    let served = std::fs::canonicalize(root.path().join("releases/b/public")).unwrap();
    assert_eq!(
        render(&removed.output, Lang::Fr),
        format!(
            "{written} retiré ; {} (servie maintenant) n'a pas de page de maintenance",
            served.display()
        )
    );
    // Removed, but the release served now shows one: failed, named.
    std::fs::write(&written, "maintenance").unwrap();
    std::fs::write(root.path().join("releases/b/public/maintenance.html"), "x").unwrap();
    let still = executor.run(&config, &step, Some(&written)).await;
    assert!(!still.succeeded);
    assert!(
        render(&still.output, Lang::En)
            .contains("but the release served now has a maintenance page"),
        "{still:?}"
    );
}

/// Issue 16 §3: a running step's output is recorded as it comes (every second), so that its
/// page shows it while the step runs; at the end the whole output replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_steps_output_is_shown_while_it_runs() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let (_, execution) = queue(
        &app,
        root.path(),
        vec![command(
            &["sh", "-c", "echo first line; sleep 3; echo second line"],
            "/",
        )],
    )
    .await;
    let running = tokio::spawn({
        let runner = runner(&app);
        async move { runner.tick().await }
    });
    // While it sleeps, the first line is there and the step still runs.
    let mut seen = None;
    for _ in 0..50 {
        let now = attempts(&app, execution).await;
        if let Some(step) = now.first().filter(|s| s.4.contains("first line")) {
            seen = Some(step.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.expect("the first line recorded while the step runs");
    assert_eq!(seen.2, "running", "{seen:?}");
    assert!(!seen.4.contains("second line"), "{seen:?}");
    running.await.unwrap().unwrap();
    let done = attempts(&app, execution).await;
    assert_eq!(done[0].2, "succeeded");
    assert_eq!(done[0].4, "first line\nsecond line\n");
}
