//! The rollback core (issue 12): the plan restores what the incident needs, runs only where
//! and on what it was approved, and the runner never reports a success it did not achieve.
//! Real sandboxes (folders, links), real MariaDB, the real app over HTTP.
use crate::helpers::*;
use crate::plans::{scenario, Scenario, CLAIRE, DB_BACKUP, JULIEN, MARC, PREVIOUS, SOPHIE};
use crate::runner::{mariadb, queue, sha256_of, step};
use app::backend::{executions, incidents, plans};
use app::domain::execution::Control;
use app::domain::plan::{ApprovalPolicy, BasisChange, PlanStatus, Verdict};
use app::domain::runbook::Operation;
use app::viewer::SignedInUser;
use server::runner::Runner;
use std::time::Duration;

fn runner(app: &TestApp) -> Runner {
    Runner::new(app.pool.clone(), Duration::from_secs(30))
}

pub(crate) async fn person(app: &TestApp, email: &str) -> SignedInUser {
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app::backend::accounts::find(&app.pool, id)
        .await
        .unwrap()
        .unwrap()
        .signed_in()
}

async fn plan_status(app: &TestApp, incident: i64) -> PlanStatus {
    let mut conn = app.pool.acquire().await.unwrap();
    plans::status_now(
        &mut conn,
        ApprovalPolicy::default(),
        incident,
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .expect("a plan")
}

async fn executions_of(app: &TestApp, incident: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM executions WHERE incident_id = $1")
        .bind(incident)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// (position, status, output) of each step's latest attempt.
async fn latest_attempts(app: &TestApp, execution: i64) -> Vec<(i32, String, String)> {
    sqlx::query_as(
        "SELECT DISTINCT ON (position) position, status, output FROM execution_steps
         WHERE execution_id = $1 ORDER BY position, attempt DESC",
    )
    .bind(execution)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// No `maintenance.html` in any release of the sandbox.
fn maintenance_pages(sandbox: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(sandbox.join("var/www/taskflow/releases"))
        .unwrap()
        .filter_map(|e| {
            let page = e.unwrap().path().join("public/maintenance.html");
            page.exists().then(|| page.display().to_string())
        })
        .collect()
}

/// The demo on a sandbox of the test's own, its health check on this server's TaskFlow page
/// and its database on a MariaDB database of the test's own.
pub(crate) struct Demo {
    pub app: TestApp,
    pub sandbox: std::path::PathBuf,
    pub _dir: tempfile::TempDir,
    pub db: String,
}

pub(crate) async fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = dir.path().canonicalize().unwrap();
    let settings = server::config::Settings {
        demo_sandbox: Some(sandbox.clone()),
        ..test_settings()
    };
    let app = spawn_app_with(test_database().await, settings).await;
    server::demo::seed(&app.pool).await.unwrap();
    server::demo::build_sandbox(&sandbox).unwrap();
    server::demo::seed_scenario(&app.pool, &sandbox)
        .await
        .unwrap();
    server::demo::point_health_check(&app.pool, &app.url("/demo/taskflow/"))
        .await
        .unwrap();
    let db = format!("rbd_core_{}", uuid::Uuid::new_v4().simple());
    server::demo::prepare_database(&sandbox, &db).unwrap();
    sqlx::query("UPDATE environments SET db_name = $1")
        .bind(&db)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(server::demo::seed_plans(&app.pool).await.unwrap());
    Demo {
        app,
        sandbox,
        _dir: dir,
        db,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_application_rollback_a_database_incident_restores_what_it_needs() {
    let d = demo().await;
    let app = &d.app;
    let claire = person(app, CLAIRE).await;
    let now = chrono::Utc::now();
    // Incident #1: the application rollback of v1.2.0 (current → v1.1.8).
    executions::start(&app.pool, ApprovalPolicy::default(), &claire, 1, None, now)
        .await
        .unwrap();
    runner(app).tick().await.unwrap();
    let current = std::fs::read_link(d.sandbox.join("var/www/taskflow/current")).unwrap();
    assert_eq!(
        current.display().to_string(),
        format!("releases/{PREVIOUS}")
    );
    // The screens tell the truth after it: the inventory was read again, the plan says
    // executed, the §11.2 table has today's rollback of v1.2.0.
    let inventoried: Option<String> = sqlx::query_scalar("SELECT current_release FROM inventories")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(inventoried.as_deref(), Some(PREVIOUS));
    assert_eq!(plan_status(app, 1).await, PlanStatus::Executed);
    let rolled_back: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "SELECT rolled_back_at FROM deployments WHERE release = '2025-10-17_104523'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        rolled_back > now - chrono::Duration::minutes(1),
        "today's rollback recorded"
    );
    let browser = Browser::new();
    browser
        .sign_in(app, CLAIRE, server::demo::DEMO_PASSWORD)
        .await;
    let (_, html) = browser.page(app, "/incidents/1/plan").await;
    assert!(html.contains("Exécuté"), "{html}");
    assert!(html.contains(r#"id="open-execution""#));
    assert!(!html.contains(r#"id="execute-plan""#));
    // Incident #3's database plan was made when current was v1.2.0: stale now.
    let restore: i64 = sqlx::query_scalar(
        "SELECT incident_id FROM plans WHERE rollback_type = 'application_database'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        matches!(plan_status(app, restore).await, PlanStatus::Stale { ref changes } if changes.contains(&BasisChange::Current)),
        "another execution moved current"
    );

    // A new incident: the data is corrupted too. No suspect named.
    let julien = person(app, JULIEN).await;
    let environment: uuid::Uuid = sqlx::query_scalar("SELECT id FROM environments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let incident = incidents::open(
        &app.pool,
        &julien,
        &incidents::NewIncident {
            fields: incidents::IncidentFields {
                title: "Les données sont corrompues aussi".into(),
                description: "Des factures écrites par la v1.2.0 sont fausses.".into(),
                severity: app::domain::Severity::Critical,
                suspect_release: String::new(),
                criteria: vec![app::domain::Criterion::UserDataLoss],
                criteria_other: String::new(),
            },
            detected_at: chrono::Utc::now() - chrono::Duration::minutes(2),
            environment_id: environment,
        },
    )
    .await
    .unwrap();
    for step in app::domain::ValidationStep::BEFORE_DECISION {
        incidents::perform(
            &app.pool,
            &julien,
            incident,
            incidents::Perform::RecordStep {
                step,
                note: "vu".into(),
            },
        )
        .await
        .unwrap();
    }
    incidents::perform(
        &app.pool,
        &julien,
        incident,
        incidents::Perform::Decide {
            decision: app::domain::Decision::Rollback(
                app::domain::RollbackType::ApplicationDatabase,
            ),
            reason: "Restaurer la base d'avant la v1.2.0.".into(),
        },
    )
    .await
    .unwrap();
    // The defaults come from the incident, not from `current`.
    let (_, html) = browser
        .page(app, &format!("/incidents/{incident}/plan"))
        .await;
    assert_eq!(
        input_value(&html, "plan-target-release").as_deref(),
        None,
        "a select, not an input"
    );
    assert!(
        html.contains(&format!(r#"<option value="{PREVIOUS}" selected"#)),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="db_backup_20251017_103000.sql.gz" selected"#),
        "{html}"
    );
    assert!(
        !html.contains(r#"<option value="2025-10-17_104523""#),
        "the defective release is not offered"
    );
    let res = browser
        .submit(
            app,
            &format!("/incidents/{incident}/plan"),
            "/api/save_plan",
            &[
                ("incident_id", &incident.to_string()),
                ("change", "prepare"),
                ("target_release", PREVIOUS),
                ("backup", DB_BACKUP),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let (_, html) = browser
        .page(app, &format!("/incidents/{incident}/plan"))
        .await;
    assert!(
        html.contains("2025-10-17_104523"),
        "the defective release is shown"
    );
    assert!(
        html.contains("dernier déploiement enregistré avant la détection"),
        "and where it came from"
    );
    assert!(
        html.contains("switch-no-op"),
        "the switch will change nothing"
    );
    let fingerprint: String =
        sqlx::query_scalar("SELECT fingerprint FROM plans WHERE incident_id = $1")
            .bind(incident)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    for approver in [MARC, SOPHIE] {
        let who = person(app, approver).await;
        plans::review(
            &app.pool,
            ApprovalPolicy::default(),
            &who,
            incident,
            Verdict::Approved,
            &fingerprint,
            "",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    }
    assert_eq!(plan_status(app, incident).await, PlanStatus::Ready);
    // The badge agrees with the plan.
    let (_, list) = browser.page(app, "/incidents?open=1").await;
    assert!(list.contains("state-ready"), "{list}");
    executions::start(
        &app.pool,
        ApprovalPolicy::default(),
        &claire,
        incident,
        Some(&fingerprint),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    runner(app).tick().await.unwrap();
    let (execution, status): (i64, String) =
        sqlx::query_as("SELECT id, status FROM executions WHERE incident_id = $1")
            .bind(incident)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let steps = latest_attempts(app, execution).await;
    assert_eq!(status, "succeeded", "{steps:?}");
    assert_eq!(
        mariadb(&format!("SELECT COUNT(*) FROM {}.users", d.db)),
        "4",
        "the 10:30 backup restored"
    );
    let current = std::fs::read_link(d.sandbox.join("var/www/taskflow/current")).unwrap();
    assert_eq!(
        current.display().to_string(),
        format!("releases/{PREVIOUS}"),
        "current stays v1.1.8"
    );
    assert!(
        steps[6].2.contains("already points"),
        "the switch said it changed nothing: {:?}",
        steps[6]
    );
    assert!(
        steps[0].2.contains(&format!(
            "/var/www/taskflow/releases/{PREVIOUS}/public/maintenance.html"
        )),
        "the page was written in the release served: {:?}",
        steps[0]
    );
    assert!(
        steps[11].2.contains("has no maintenance page"),
        "{:?}",
        steps[11]
    );
    assert_eq!(maintenance_pages(&d.sandbox), Vec::<String>::new());
    // The demo's seeded events and every one written since read back as typed events.
    assert_events_read(&d.app.pool).await;
    mariadb(&format!("DROP DATABASE {}", d.db));
    d.app.stop().await;
}

/// An approved database plan on the scenario, ready to execute. Returns its fingerprint.
async fn ready_plan(s: &Scenario) -> String {
    let claire = s.user(CLAIRE).await;
    let fingerprint = s.prepare(&claire, PREVIOUS).await;
    for approver in [MARC, SOPHIE] {
        s.review(
            &s.user(approver).await,
            Verdict::Approved,
            &fingerprint,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    }
    assert_eq!(plan_status(&s.app, s.incident).await, PlanStatus::Ready);
    fingerprint
}

/// Execute is refused with the stale message, and no execution row is written.
async fn execute_is_refused(s: &Scenario, why: &str) {
    let julien = s.user(JULIEN).await;
    let refused = executions::start(
        &s.app.pool,
        ApprovalPolicy::default(),
        &julien,
        s.incident,
        None,
        chrono::Utc::now(),
    )
    .await;
    assert!(refused.is_err(), "{why}: execute refused");
    assert_eq!(executions_of(&s.app, s.incident).await, 0, "{why}: no row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_change_to_what_a_plan_relies_on_makes_it_stale() {
    let s = scenario("application_database").await;
    let fingerprint = ready_plan(&s).await;
    let browser = s.browser(JULIEN).await;
    let edits: [(&str, &str, &str, BasisChange); 4] = [
        (
            "local_root",
            "/srv/elsewhere",
            "the root folder",
            BasisChange::Target,
        ),
        ("target", "ssh", "the target kind", BasisChange::Target),
        (
            "ssh_host",
            "other.example",
            "the SSH host",
            BasisChange::Target,
        ),
        (
            "db_password_ref",
            "ANOTHER_VARIABLE",
            "the password source",
            BasisChange::Database,
        ),
    ];
    for (column, value, why, change) in edits {
        let before: String = sqlx::query_scalar(&format!(
            "SELECT {column}::text FROM environments WHERE id = $1"
        ))
        .bind(s.environment)
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
        // The SSH host counts once the target is SSH.
        if column == "ssh_host" {
            sqlx::query("UPDATE environments SET target = 'ssh' WHERE id = $1")
                .bind(s.environment)
                .execute(&s.app.pool)
                .await
                .unwrap();
        }
        sqlx::query(&format!(
            "UPDATE environments SET {column} = $2 WHERE id = $1"
        ))
        .bind(s.environment)
        .bind(value)
        .execute(&s.app.pool)
        .await
        .unwrap();
        match plan_status(&s.app, s.incident).await {
            PlanStatus::Stale { changes } => {
                assert!(changes.contains(&change), "{why}: {changes:?}")
            }
            other => panic!("{why}: {other:?}"),
        }
        if column != "ssh_host" {
            execute_is_refused(&s, why).await;
            let (_, html) = browser.page(&s.app, &s.plan_page()).await;
            assert!(
                html.contains(r#"id="plan-stale""#),
                "{why}: the page says so"
            );
            assert!(!html.contains(r#"id="execute-plan""#), "{why}: no Execute");
        } else {
            sqlx::query("UPDATE environments SET target = 'local' WHERE id = $1")
                .bind(s.environment)
                .execute(&s.app.pool)
                .await
                .unwrap();
        }
        sqlx::query(&format!(
            "UPDATE environments SET {column} = $2 WHERE id = $1"
        ))
        .bind(s.environment)
        .bind(before)
        .execute(&s.app.pool)
        .await
        .unwrap();
        assert_eq!(
            plan_status(&s.app, s.incident).await,
            PlanStatus::Ready,
            "{why} put back"
        );
    }

    // A recorded deployment.
    app::backend::deployments::record(
        &s.app.pool,
        &app::backend::deployments::NewDeployment {
            environment: "TaskFlow production".into(),
            version: "v1.2.1".into(),
            release: "2025-10-18_090000".into(),
            deployed_at: chrono::Utc::now(),
            checklist: vec![],
        },
        "api",
        None,
    )
    .await
    .unwrap();
    assert!(matches!(
        plan_status(&s.app, s.incident).await,
        PlanStatus::Stale { ref changes } if changes == &[BasisChange::Deployment]
    ));
    execute_is_refused(&s, "a deployment").await;
    sqlx::query("DELETE FROM deployments WHERE version = 'v1.2.1'")
        .execute(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(plan_status(&s.app, s.incident).await, PlanStatus::Ready);

    // Another execution (or a person) moved `current`.
    let link = s.sandbox.path().join("var/www/taskflow/current");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("releases/2025-10-15_091844", &link).unwrap();
    app::backend::inventory::refresh(&s.app.pool, s.environment)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(
        plan_status(&s.app, s.incident).await,
        PlanStatus::Stale { ref changes } if changes == &[BasisChange::Current]
    ));
    execute_is_refused(&s, "current moved").await;
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("releases/2025-10-17_104523", &link).unwrap();

    // The backup rewritten (same name, other bytes).
    let backup = s
        .sandbox
        .path()
        .join("var/backups/taskflow")
        .join(DB_BACKUP);
    let mut bytes = std::fs::read(&backup).unwrap();
    bytes.extend_from_slice(&bytes.clone());
    std::fs::write(&backup, bytes).unwrap();
    app::backend::inventory::refresh(&s.app.pool, s.environment)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(
        plan_status(&s.app, s.incident).await,
        PlanStatus::Stale { ref changes } if changes == &[BasisChange::Backup]
    ));
    execute_is_refused(&s, "the backup rewritten").await;

    // Approving a stale plan is refused; revising it makes a new version to approve.
    let refused = s
        .review(
            &s.user(JULIEN).await,
            Verdict::Approved,
            &fingerprint,
            chrono::Utc::now(),
        )
        .await;
    assert!(refused.is_err());
    let revised = s.revise(&s.user(CLAIRE).await, PREVIOUS).await;
    assert_ne!(revised, fingerprint);
    assert_eq!(
        plan_status(&s.app, s.incident).await,
        PlanStatus::AwaitingApproval { have: 0, need: 2 }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_stop_counting_when_their_people_may_no_longer_approve() {
    let s = scenario("application_database").await;
    let fingerprint = ready_plan(&s).await;
    let sophie = s.user(SOPHIE).await;
    // Deactivated after approving.
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(sophie.id)
        .execute(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(
        plan_status(&s.app, s.incident).await,
        PlanStatus::AwaitingApproval { have: 1, need: 2 }
    );
    execute_is_refused(&s, "an approver deactivated").await;
    let browser = s.browser(JULIEN).await;
    let (_, html) = browser.page(&s.app, &s.plan_page()).await;
    assert!(html.contains("compte désactivé"), "{html}");
    // Back, but no longer holding a §2.2 role.
    sqlx::query("UPDATE users SET active = true, roles = '{developer}' WHERE id = $1")
        .bind(sophie.id)
        .execute(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(
        plan_status(&s.app, s.incident).await,
        PlanStatus::AwaitingApproval { have: 1, need: 2 }
    );
    execute_is_refused(&s, "an approver demoted").await;
    let (_, html) = browser.page(&s.app, &s.plan_page()).await;
    assert!(html.contains("n'a plus de rôle §2.2"), "{html}");
    // Julien's approval makes it ready again; a ready plan can still be rejected (§5.1).
    let julien = s.user(JULIEN).await;
    s.review(&julien, Verdict::Approved, &fingerprint, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(plan_status(&s.app, s.incident).await, PlanStatus::Ready);
    s.app
        .signed_in_user("lea@taskflow.example", &["tech_lead"])
        .await;
    let browser_2 = Browser::new();
    browser_2
        .sign_in(&s.app, "lea@taskflow.example", PASSWORD)
        .await;
    let (_, html) = browser_2.page(&s.app, &s.plan_page()).await;
    assert!(
        html.contains(r#"id="reject""#),
        "a ready plan offers Reject"
    );
    assert!(!html.contains(r#"id="approve""#), "not Approve");
    let res = browser_2
        .submit(
            &s.app,
            &s.plan_page(),
            "/api/review_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("fingerprint", &fingerprint),
                ("verdict", "rejected"),
                ("comment", "La sauvegarde de 10h30 n'a pas été testée."),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(plan_status(&s.app, s.incident).await, PlanStatus::Rejected);
    execute_is_refused(&s, "rejected when ready").await;
    // The requester withdraws a revised plan.
    let claire = s.user(CLAIRE).await;
    let revised = s.revise(&claire, PREVIOUS).await;
    s.review(&claire, Verdict::Withdrawn, &revised, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(plan_status(&s.app, s.incident).await, PlanStatus::Withdrawn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maintenance_page_is_written_where_it_is_served_and_removed_exactly_there() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = dir.path().canonicalize().unwrap();
    let settings = server::config::Settings {
        demo_sandbox: Some(sandbox.clone()),
        ..test_settings()
    };
    let app = spawn_app_with(test_database().await, settings).await;
    server::demo::build_sandbox(&sandbox).unwrap();
    let site = app.url("/demo/taskflow/");
    let page = "/var/www/taskflow/current/public/maintenance.html".to_owned();
    let steps = vec![
        step(Operation::MaintenanceOn {
            path: page.clone(),
            text: "Application en maintenance.".into(),
        }),
        // During the window, the site answers with the maintenance page.
        step(Operation::HttpCheck {
            url: site.clone(),
            expect: vec![503],
            timeout_seconds: 5,
        }),
        step(Operation::SwitchRelease {
            link: "/var/www/taskflow/current".into(),
            release_dir: format!("/var/www/taskflow/releases/{PREVIOUS}"),
        }),
        step(Operation::MaintenanceOff { path: page.clone() }),
        step(Operation::HttpCheck {
            url: site.clone(),
            expect: vec![200],
            timeout_seconds: 5,
        }),
    ];
    let (_, execution) = queue(&app, &sandbox, steps).await;
    runner(&app).tick().await.unwrap();
    let steps = latest_attempts(&app, execution).await;
    let status: String = sqlx::query_scalar("SELECT status FROM executions WHERE id = $1")
        .bind(execution)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "succeeded", "{steps:?}");
    assert!(
        steps[1].2.contains("503"),
        "the window showed maintenance: {:?}",
        steps[1]
    );
    assert!(
        steps[0]
            .2
            .contains("/var/www/taskflow/releases/2025-10-17_104523/public/maintenance.html"),
        "resolved through current: {:?}",
        steps[0]
    );
    assert_eq!(maintenance_pages(&sandbox), Vec::<String>::new());

    // Removing a page that is not there is a failed step, never a success.
    let (_, execution) = queue(
        &app,
        &sandbox,
        vec![
            step(Operation::MaintenanceOn {
                path: page.clone(),
                text: "x".into(),
            }),
            step(Operation::RunCommand {
                name: app::domain::environment::CommandName::CacheClear,
                argv: vec!["rm".into(), "public/maintenance.html".into()],
                cwd: "/var/www/taskflow/current".into(),
            }),
            step(Operation::MaintenanceOff { path: page.clone() }),
        ],
    )
    .await;
    runner(&app).tick().await.unwrap();
    let steps = latest_attempts(&app, execution).await;
    assert_eq!(steps[2].1, "failed", "{steps:?}");
    assert!(steps[2].2.contains("is not there"), "{:?}", steps[2]);
    // Nothing written by this execution: nothing to remove, said so, failed.
    let (_, execution) = queue(
        &app,
        &sandbox,
        vec![step(Operation::MaintenanceOff { path: page })],
    )
    .await;
    runner(&app).tick().await.unwrap();
    let steps = latest_attempts(&app, execution).await;
    assert_eq!(steps[0].1, "failed");
    assert!(
        steps[0].2.contains("wrote no maintenance page"),
        "{:?}",
        steps[0]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_past_a_failed_check_needs_a_reason_and_is_never_a_plain_success() {
    let s = scenario("application_database").await;
    // The database: one of the test's own on MariaDB, with its password in a file.
    let db = format!("rbd_skip_{}", uuid::Uuid::new_v4().simple());
    server::demo::prepare_database(s.sandbox.path(), &db).unwrap();
    let password = s.sandbox.path().join("db-password");
    std::fs::write(&password, "").unwrap();
    sqlx::query(
        r#"UPDATE environments SET db_kind = 'mariadb', db_host = '127.0.0.1', db_port = 3306,
               db_name = $2, db_user = 'root', db_password_source = 'file', db_password_ref = $3,
               commands = '{"cache_clear": ["true"], "cache_warmup": ["true"],
                            "php_fpm_reload": ["true"], "php_fpm_stop": ["true"],
                            "php_fpm_start": ["true"], "apache_reload": ["true"]}',
               health_url = $4
           WHERE id = $1"#,
    )
    .bind(s.environment)
    .bind(&db)
    .bind(password.display().to_string())
    .bind(crate::runner::taskflow_site(s.sandbox.path().to_path_buf()).await)
    .execute(&s.app.pool)
    .await
    .unwrap();
    let fingerprint = ready_plan(&s).await;
    let julien = s.user(JULIEN).await;
    executions::start(
        &s.app.pool,
        ApprovalPolicy::default(),
        &julien,
        s.incident,
        Some(&fingerprint),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    // The backup is corrupted after the approvals: the sha256 check fails.
    let backup = s
        .sandbox
        .path()
        .join("var/backups/taskflow")
        .join(DB_BACKUP);
    let before = sha256_of(&backup.display().to_string());
    let mut bytes = std::fs::read(&backup).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&backup, &bytes).unwrap();
    assert_ne!(sha256_of(&backup.display().to_string()), before);
    runner(&s.app).tick().await.unwrap();
    let execution: i64 = sqlx::query_scalar("SELECT id FROM executions WHERE incident_id = $1")
        .bind(s.incident)
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    let steps = latest_attempts(&s.app, execution).await;
    assert_eq!(steps.last().unwrap().1, "failed", "{steps:?}");
    assert_eq!(steps.len(), 2, "stopped at the backup's check");

    // Resuming past it without a reason is refused next to the field, from a browser.
    let browser = s.browser(JULIEN).await;
    let page = format!("/incidents/{}/execution", s.incident);
    let (_, html) = browser
        .submit_and_follow(
            &s.app,
            &page,
            "/api/control_execution",
            &[
                ("incident_id", &s.incident.to_string()),
                ("action", "resume"),
                ("step", "2"),
                ("note", ""),
            ],
        )
        .await;
    assert!(html.contains("dites pourquoi"), "{html}");
    assert_eq!(
        latest_attempts(&s.app, execution).await.len(),
        2,
        "nothing skipped"
    );
    // With a reason the step is recorded as skipped; the restore checks the file itself.
    executions::control(
        &s.app.pool,
        &julien,
        s.incident,
        Control::ResumeFrom(2),
        "Vérifiée à la main (à tort).",
    )
    .await
    .unwrap();
    runner(&s.app).tick().await.unwrap();
    let steps = latest_attempts(&s.app, execution).await;
    assert_eq!(steps[1].1, "skipped", "{steps:?}");
    assert_eq!(steps[3].1, "failed", "the restore refused: {steps:?}");
    assert!(steps[3].2.contains("nothing restored"), "{:?}", steps[3]);
    assert_eq!(
        mariadb(&format!("SELECT COUNT(*) FROM {db}.users")),
        "5",
        "nothing restored"
    );
    // Skipping the restore too: the execution ends, naming what was skipped.
    executions::control(
        &s.app.pool,
        &julien,
        s.incident,
        Control::ResumeFrom(4),
        "On garde la base telle quelle.",
    )
    .await
    .unwrap();
    runner(&s.app).tick().await.unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM executions WHERE id = $1")
        .bind(execution)
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(status, "succeeded_with_skips");
    let skipped: serde_json::Value = sqlx::query_scalar(
        "SELECT details->'skipped' FROM incident_events
         WHERE incident_id = $1 AND kind = 'execution_succeeded'",
    )
    .bind(s.incident)
    .fetch_one(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(skipped, serde_json::json!([2, 4]));
    let (_, html) = browser.page(&s.app, &page).await;
    assert!(html.contains(r#"id="skipped-steps""#), "{html}");
    assert!(html.contains("Réussie avec des étapes sautées"));
    let (_, list) = browser.page(&s.app, "/").await;
    assert!(
        list.contains("Réussie avec des étapes sautées"),
        "the dashboard says so"
    );
    let (_, history) = browser.page(&s.app, "/history").await;
    assert!(
        history.contains("Réussie avec des étapes sautées"),
        "the history says so"
    );
    let chronology: String = sqlx::query_scalar(
        "SELECT content->>'chronology' FROM post_mortems WHERE incident_id = $1",
    )
    .bind(s.incident)
    .fetch_one(&s.app.pool)
    .await
    .unwrap();
    assert!(
        chronology.contains("Fin du rollback (étapes sautées : 2, 4)"),
        "{chronology}"
    );

    // Sending the §7.1 internal email records §2.2 step 5 with who and when.
    app::backend::emails::send(
        &s.app.pool,
        &julien,
        s.incident,
        &app::backend::emails::NewSend {
            template: app::domain::email::EmailTemplate::Internal,
            lang: app::i18n::Lang::Fr,
            subject: "[URGENT] Rollback effectué - Application TaskFlow",
            body: "Bonjour,\n\nUn rollback a été effectué.",
            roles: vec![app::domain::Role::TechLead],
            users: "",
            list: None,
        },
    )
    .await
    .unwrap();
    let by: uuid::Uuid = sqlx::query_scalar(
        "SELECT recorded_by FROM incident_steps WHERE incident_id = $1 AND step = 'communication'",
    )
    .bind(s.incident)
    .fetch_one(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(by, julien.id);
    mariadb(&format!("DROP DATABASE {db}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_racing_the_end_of_a_step_never_deadlocks_nor_interrupts() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let user = app
        .signed_in_user("race@taskflow.example", &["sysadmin"])
        .await;
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..200 {
        let (incident, execution) = queue(
            &app,
            root.path(),
            vec![crate::runner::command(&["true"], "/")],
        )
        .await;
        let r = runner(&app);
        let (ran, cancelled) = tokio::join!(
            r.tick(),
            executions::control(&app.pool, &user, incident, Control::Cancel, "")
        );
        ran.unwrap_or_else(|e| panic!("the runner failed: {e:?}"));
        if let Err(e) = &cancelled {
            // Refused because it was already over is fine; a database error is not.
            assert!(
                matches!(e, app::backend::AppError::Refused(_)),
                "cancel failed: {e:?}"
            );
        }
        // Whatever was asked, the runner finishes what it claimed.
        runner(&app).tick().await.unwrap();
        let status: String = sqlx::query_scalar("SELECT status FROM executions WHERE id = $1")
            .bind(execution)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert!(
            ["succeeded", "cancelled"].contains(&status.as_str()),
            "{status}"
        );
        *outcomes.entry(status).or_default() += 1;
    }
    assert_eq!(outcomes.values().sum::<usize>(), 200, "{outcomes:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_slow_target_does_not_block_opening_an_incident() {
    let s = scenario("application").await;
    // A large backup: hashing it makes the reading slow.
    let big = s
        .sandbox
        .path()
        .join("var/backups/taskflow/db_backup_20251001_000000.sql.gz");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(96 * 1024 * 1024)
        .unwrap();
    let pool = s.app.pool.clone();
    let environment = s.environment;
    let started = std::time::Instant::now();
    let reading = tokio::spawn(async move {
        app::backend::inventory::refresh(&pool, environment)
            .await
            .unwrap();
        started.elapsed()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let julien = s.user(JULIEN).await;
    let opened_at = std::time::Instant::now();
    incidents::open(
        &s.app.pool,
        &julien,
        &incidents::NewIncident {
            fields: incidents::IncidentFields {
                title: "Pendant l'inventaire".into(),
                description: String::new(),
                severity: app::domain::Severity::Urgent,
                suspect_release: String::new(),
                criteria: vec![app::domain::Criterion::CriticalFeatureFailure],
                criteria_other: String::new(),
            },
            detected_at: chrono::Utc::now(),
            environment_id: environment,
        },
    )
    .await
    .unwrap();
    let opening = opened_at.elapsed();
    let read = reading.await.unwrap();
    println!("inventory read in {read:?}; an incident opened meanwhile in {opening:?}");
    assert!(
        read > Duration::from_millis(400),
        "the reading was slow ({read:?})"
    );
    assert!(
        opening * 4 < read,
        "opening ({opening:?}) did not wait for the reading ({read:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_works_from_the_settings_kept_when_the_execution_was_queued() {
    let s = scenario("application").await;
    let claire = s.user(CLAIRE).await;
    let fingerprint = s.prepare(&claire, PREVIOUS).await;
    sqlx::query(
        r#"UPDATE environments SET commands = '{"cache_clear": ["true"], "cache_warmup": ["true"],
               "php_fpm_reload": ["true"], "apache_reload": ["true"]}', health_url = $2
           WHERE id = $1"#,
    )
    .bind(s.environment)
    .bind(crate::runner::taskflow_site(s.sandbox.path().to_path_buf()).await)
    .execute(&s.app.pool)
    .await
    .unwrap();
    // The edit made the plan stale: revised, then queued.
    let fingerprint = {
        assert!(matches!(
            plan_status(&s.app, s.incident).await,
            PlanStatus::Stale { .. }
        ));
        let revised = s.revise(&claire, PREVIOUS).await;
        assert_ne!(revised, fingerprint);
        revised
    };
    executions::start(
        &s.app.pool,
        ApprovalPolicy::default(),
        &claire,
        s.incident,
        Some(&fingerprint),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    // After it was queued, an admin points the environment somewhere else.
    let elsewhere = tempfile::tempdir().unwrap();
    sqlx::query("UPDATE environments SET local_root = $2 WHERE id = $1")
        .bind(s.environment)
        .bind(elsewhere.path().display().to_string())
        .execute(&s.app.pool)
        .await
        .unwrap();
    runner(&s.app).tick().await.unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM executions WHERE incident_id = $1")
        .bind(s.incident)
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(status, "succeeded");
    let current = std::fs::read_link(s.sandbox.path().join("var/www/taskflow/current")).unwrap();
    assert_eq!(
        current.display().to_string(),
        format!("releases/{PREVIOUS}"),
        "the approved target was switched, not the live setting's"
    );
    assert!(std::fs::read_dir(elsewhere.path())
        .unwrap()
        .next()
        .is_none());
}
