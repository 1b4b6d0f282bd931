//! Incidents and the rollback decision (§2): the state machine, the deadline, authorization,
//! the append-only event log, input checks.
use crate::helpers::*;
use app::backend::incidents::{self, Perform};
use app::domain::{Decision, IncidentState, Role, RollbackType, ValidationStep};
use chrono::{Duration, TimeZone, Utc};
use reqwest::StatusCode;
use sqlx::PgPool;

/// Inserts incidents "Incident n" for each n of `numbers`, detected n hours ago, in `state`
/// (test set-up only).
async fn add_incidents(
    app: &TestApp,
    env: uuid::Uuid,
    numbers: std::ops::RangeInclusive<i32>,
    state: &str,
) {
    sqlx::query(
        "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state)
         SELECT 'Incident ' || n, now() - make_interval(hours => n), 'urgent', $3, u.id, $4
         FROM generate_series($1::int, $2::int) AS n, (SELECT id FROM users LIMIT 1) u",
    )
    .bind(numbers.start())
    .bind(numbers.end())
    .bind(env)
    .bind(state)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// Inserts an incident directly in `state` with `steps` recorded (test set-up only).
async fn incident_in(
    app: &TestApp,
    env: uuid::Uuid,
    by: uuid::Uuid,
    state: IncidentState,
    steps: &[ValidationStep],
) -> i64 {
    let decided = steps.contains(&ValidationStep::Decision);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (title, detected_at, severity, environment_id, state, created_by,
            decision, rollback_type, decided_at, decided_by)
         VALUES ('t', now(), 'critical', $1, $2, $3,
            CASE WHEN $4 THEN 'rollback' END, CASE WHEN $4 THEN 'application' END,
            CASE WHEN $4 THEN now() END, CASE WHEN $4 THEN $3 END) RETURNING id",
    )
    .bind(env)
    .bind(state.as_str())
    .bind(by)
    .bind(decided)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    for step in steps {
        sqlx::query(
            "INSERT INTO incident_steps (incident_id, step, recorded_by) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(step.as_str())
        .bind(by)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    id
}

/// What the database holds of an incident: state, steps, number of events.
async fn snapshot(pool: &PgPool, id: i64) -> (String, i64, i64) {
    sqlx::query_as(
        "SELECT state, (SELECT count(*) FROM incident_steps WHERE incident_id = $1),
                (SELECT count(*) FROM incident_events WHERE incident_id = $1)
         FROM incidents WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[derive(Clone, Copy, Debug)]
enum Act {
    Step(ValidationStep),
    DecideRollback,
    DecideFixForward,
    Cancel,
    Comment,
}

/// The rules of DESIGN.md and §2.2, written out independently of the implementation:
/// the state that follows, or None when refused.
fn expected(
    state: IncidentState,
    steps: &[ValidationStep],
    act: Act,
    role: Role,
) -> Option<IncidentState> {
    use IncidentState as S;
    use ValidationStep as V;
    if role == Role::Viewer {
        return None;
    }
    let decider = matches!(
        role,
        Role::TechLead | Role::ProjectManager | Role::Sysadmin | Role::SeniorDevOncall
    );
    let undecided = matches!(state, S::Detected | S::Evaluating);
    let first_three = [V::Identification, V::ImpactEvaluation, V::NoQuickFix]
        .iter()
        .all(|s| steps.contains(s));
    match act {
        Act::Comment => Some(state),
        Act::Step(V::Decision) => None,
        Act::Step(step) if steps.contains(&step) => None,
        Act::Step(V::Communication) => {
            (!undecided && !matches!(state, S::Cancelled | S::Closed)).then_some(state)
        }
        Act::Step(_) => undecided.then_some(S::Evaluating),
        Act::DecideRollback => (undecided && decider && first_three).then_some(S::Decided),
        Act::DecideFixForward => (undecided && decider && first_three).then_some(S::FixForward),
        Act::Cancel => (decider
            && matches!(
                state,
                S::Detected | S::Evaluating | S::Decided | S::AwaitingApproval
            ))
        .then_some(S::Cancelled),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_machine_allows_exactly_what_the_procedure_says() {
    let pool = test_database().await;
    use ValidationStep as V;
    let app = spawn_app(pool).await;
    let env = app.create_environment("TaskFlow production").await;
    let mut users = Vec::new();
    for role in Role::ALL {
        users.push((
            role,
            app.signed_in_user(&format!("{role}@taskflow.example"), &[role.as_str()])
                .await,
        ));
    }
    let opener = users[0].1.id;
    let decided_steps = [
        V::Identification,
        V::ImpactEvaluation,
        V::NoQuickFix,
        V::Decision,
    ];
    let mut setups: Vec<(IncidentState, Vec<V>)> = vec![
        (IncidentState::Detected, vec![]),
        (IncidentState::Evaluating, vec![V::Identification]),
        (
            IncidentState::Evaluating,
            vec![V::Identification, V::ImpactEvaluation, V::NoQuickFix],
        ),
    ];
    for state in IncidentState::ALL
        .iter()
        .copied()
        .filter(|s| !s.awaits_decision())
    {
        setups.push((state, decided_steps.to_vec()));
    }
    let acts = [
        Act::Step(V::Identification),
        Act::Step(V::NoQuickFix),
        Act::Step(V::Decision),
        Act::Step(V::Communication),
        Act::DecideRollback,
        Act::DecideFixForward,
        Act::Cancel,
        Act::Comment,
    ];
    let mut checked = 0;
    for (state, steps) in &setups {
        for act in acts {
            for (role, user) in &users {
                let id = incident_in(&app, env, opener, *state, steps).await;
                let before = snapshot(&app.pool, id).await;
                let perform = match act {
                    Act::Step(step) => Perform::RecordStep {
                        step,
                        note: "n".into(),
                    },
                    Act::DecideRollback => Perform::Decide {
                        decision: Decision::Rollback(RollbackType::Application),
                        reason: "r".into(),
                    },
                    Act::DecideFixForward => Perform::Decide {
                        decision: Decision::FixForward,
                        reason: "r".into(),
                    },
                    Act::Cancel => Perform::Cancel { reason: "r".into() },
                    Act::Comment => Perform::Comment { body: "c".into() },
                };
                let result = incidents::perform(&app.pool, user, id, perform).await;
                let after = snapshot(&app.pool, id).await;
                let context = format!("{state} {steps:?} {act:?} by {role}");
                match expected(*state, steps, act, *role) {
                    Some(next) => {
                        assert_eq!(result.ok(), Some(next), "{context}");
                        assert_eq!(after.0, next.as_str(), "{context}");
                        assert!(after.2 > before.2, "an event is appended: {context}");
                    }
                    None => {
                        assert!(result.is_err(), "refused: {context}");
                        assert_eq!(after, before, "nothing changed: {context}");
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, setups.len() * acts.len() * Role::ALL.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_incidents_are_marked_once() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app.create_environment("TaskFlow production").await;
    let user = app
        .signed_in_user("julien@taskflow.example", &["senior_dev_oncall"])
        .await;
    let detected = Utc.with_ymd_and_hms(2025, 10, 17, 12, 22, 0).unwrap();
    let new = |title: &str| incidents::NewIncident {
        fields: incidents::IncidentFields {
            title: title.into(),
            description: String::new(),
            severity: app::domain::Severity::Critical,
            suspect_release: String::new(),
            criteria: vec![],
            criteria_other: String::new(),
        },
        detected_at: detected,
        environment_id: env,
    };
    let waiting = incidents::open(&app.pool, &user, &new("waiting"))
        .await
        .unwrap();
    let decided = incidents::open(&app.pool, &user, &new("decided"))
        .await
        .unwrap();
    for step in ValidationStep::BEFORE_DECISION {
        incidents::perform(
            &app.pool,
            &user,
            decided,
            Perform::RecordStep {
                step,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    }
    incidents::perform(
        &app.pool,
        &user,
        decided,
        Perform::Decide {
            decision: Decision::FixForward,
            reason: "hotfix".into(),
        },
    )
    .await
    .unwrap();

    // The deadline is detected at + 30 minutes.
    let summary = incidents::detail(&app.pool, Default::default(), waiting)
        .await
        .unwrap()
        .unwrap()
        .summary;
    assert_eq!(summary.deadline(), detected + Duration::minutes(30));
    assert!(!summary.is_overdue(detected + Duration::minutes(30)));
    assert!(summary.is_overdue(detected + Duration::minutes(30) + Duration::seconds(1)));

    assert!(
        incidents::mark_overdue(&app.pool, detected + Duration::minutes(29))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        incidents::mark_overdue(&app.pool, detected + Duration::minutes(31))
            .await
            .unwrap(),
        vec![waiting]
    );
    assert!(
        incidents::mark_overdue(&app.pool, detected + Duration::minutes(45))
            .await
            .unwrap()
            .is_empty(),
        "once"
    );
    let overdue_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM incident_events WHERE kind = 'overdue'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(overdue_events, 1);

    // Shown in red on the incident, the list and the dashboard.
    let browser = Browser::new();
    app.create_user("paul@taskflow.example", "Paul", &["viewer"])
        .await;
    browser
        .sign_in(&app, "paul@taskflow.example", PASSWORD)
        .await;
    for path in [
        format!("/incidents/{waiting}"),
        "/incidents".into(),
        "/".into(),
    ] {
        let (_, html) = browser.page(&app, &path).await;
        assert!(
            html.contains(r#"class="deadline overdue""#),
            "{path}: {html}"
        );
        assert!(html.contains("En retard de"), "{path}");
    }
    let (_, html) = browser.page(&app, &format!("/incidents/{waiting}")).await;
    assert!(
        html.contains("Délai de décision de 30 minutes dépassé"),
        "the event shows in the timeline"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_show_in_the_viewers_time_zone() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app
        .create_environment("TaskFlow production")
        .await
        .to_string();
    let browser = app
        .signed_in_browser("claire@taskflow.example", "Claire", &["tech_lead"])
        .await;
    // Typed in Paris time (UTC+2 in October): stored as UTC.
    let (to, html) = browser
        .submit_and_follow(
            &app,
            "/incidents/new",
            "/api/open_incident",
            &[
                ("title", "Facturation en erreur"),
                ("description", ""),
                ("detected_at", "2025-10-17T14:22"),
                ("severity", "critical"),
                ("environment_id", &env),
                ("suspect_release", "2025-10-17_104523"),
                ("criteria_other", ""),
            ],
        )
        .await;
    assert!(to.starts_with("/incidents/"), "{to}: {html}");
    let stored: chrono::DateTime<Utc> = sqlx::query_scalar("SELECT detected_at FROM incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        stored,
        Utc.with_ymd_and_hms(2025, 10, 17, 12, 22, 0).unwrap()
    );
    assert!(html.contains("17/10/2025 14:22"), "{html}");
    // After the change to winter time, the same clock time is one more hour of UTC.
    sqlx::query("UPDATE incidents SET detected_at = '2025-10-26 13:22:00+00'")
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, html) = browser.page(&app, &to).await;
    assert!(html.contains("26/10/2025 14:22"), "{html}");
    // Another viewer in New York sees New York time.
    sqlx::query("UPDATE users SET time_zone = 'America/New_York'")
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, html) = browser.page(&app, &to).await;
    assert!(html.contains("26/10/2025 09:22"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_four_roles_decide_even_with_a_forged_post() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app.create_environment("TaskFlow production").await;
    let opener = app
        .create_user("julien@taskflow.example", "Julien", &["senior_dev_oncall"])
        .await;
    let id = incident_in(
        &app,
        env,
        opener,
        IncidentState::Evaluating,
        &[
            ValidationStep::Identification,
            ValidationStep::ImpactEvaluation,
            ValidationStep::NoQuickFix,
        ],
    )
    .await;
    let page = format!("/incidents/{id}");
    let decide = [
        ("incident_id", id.to_string()),
        ("decision", "rollback:application".into()),
        ("reason", "billing down".into()),
    ];
    let decide: Vec<(&str, &str)> = decide.iter().map(|(k, v)| (*k, v.as_str())).collect();

    for (email, role) in [
        ("thomas@taskflow.example", "developer"),
        ("paul@taskflow.example", "viewer"),
    ] {
        app.create_user(email, role, &[role]).await;
        let browser = Browser::new();
        browser.sign_in(&app, email, PASSWORD).await;
        let (_, html) = browser.page(&app, &page).await;
        assert!(
            !html.contains(r#"action="/api/decide_incident""#),
            "{role} sees no decision form"
        );
        assert!(
            html.contains("Peuvent décider"),
            "{role} sees who may decide"
        );
        let before = snapshot(&app.pool, id).await;
        let (_, html) = browser
            .submit_and_follow(&app, &page, "/api/decide_incident", &decide)
            .await;
        assert!(
            html.contains("Seuls le responsable technique") || html.contains("lecture seule"),
            "{role}: {html}"
        );
        assert_eq!(
            snapshot(&app.pool, id).await,
            before,
            "{role}: nothing changed"
        );
    }

    let browser = app
        .signed_in_browser("claire@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    // The History figures are kept between views, until an incident changes.
    let (_, history) = browser.page(&app, "/history").await;
    assert!(
        history.contains("Décidés dans les 30 minutes (§2.2) : 0/0"),
        "{history}"
    );
    assert!(history.contains("Chiffres calculés à "), "{history}");
    let (to, html) = browser
        .submit_and_follow(&app, &page, "/api/decide_incident", &decide)
        .await;
    let (_, history) = browser.page(&app, "/history").await;
    assert!(
        history.contains("Décidés dans les 30 minutes (§2.2) : 1/1"),
        "the decision counts at once, not when the kept figures expire: {history}"
    );
    assert_eq!(
        to,
        format!("{page}#decision"),
        "back on the decision's section"
    );
    assert!(html.contains("Décision enregistrée."), "{html}");
    assert!(html.contains("Rollback applicatif (sans base de données) — durée estimée 5–10 min"));
    let (state, decision): (String, Option<String>) =
        sqlx::query_as("SELECT state, rollback_type FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), decision.as_deref()),
        ("decided", Some("application"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_needs_steps_one_to_three() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app.create_environment("TaskFlow production").await;
    let claire = app
        .create_user("claire@taskflow.example", "Claire", &["tech_lead"])
        .await;
    let id = incident_in(
        &app,
        env,
        claire,
        IncidentState::Evaluating,
        &[ValidationStep::Identification],
    )
    .await;
    let browser = Browser::new();
    browser
        .sign_in(&app, "claire@taskflow.example", PASSWORD)
        .await;
    let page = format!("/incidents/{id}");
    let (_, html) = browser
        .submit_and_follow(
            &app,
            &page,
            "/api/decide_incident",
            &[
                ("incident_id", &id.to_string()),
                ("decision", "fix_forward"),
                ("reason", "patch ready"),
            ],
        )
        .await;
    assert!(html.contains("il manque : 2, 3"), "{html}");
    assert!(html.contains("patch ready"), "the reason typed is kept");
    assert_eq!(snapshot(&app.pool, id).await.0, "evaluating");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cannot_be_changed_even_with_direct_sql() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app.create_environment("TaskFlow production").await;
    let user = app
        .signed_in_user("claire@taskflow.example", &["tech_lead"])
        .await;
    let id = incident_in(&app, env, user.id, IncidentState::Detected, &[]).await;
    incidents::perform(
        &app.pool,
        &user,
        id,
        Perform::Comment {
            body: "first look".into(),
        },
    )
    .await
    .unwrap();

    for sql in [
        "UPDATE incident_events SET details = '{}'",
        "DELETE FROM incident_events",
        "TRUNCATE incident_events CASCADE",
    ] {
        let err = sqlx::query(sql).execute(&app.pool).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let body: String =
        sqlx::query_scalar("SELECT details->>'body' FROM incident_events WHERE kind = 'commented'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(body, "first look");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_messages_and_kept() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app
        .create_environment("TaskFlow production")
        .await
        .to_string();
    let browser = app
        .signed_in_browser("thomas@taskflow.example", "Thomas", &["developer"])
        .await;
    let future = (Utc::now() + Duration::hours(3))
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let long = "x".repeat(100 * 1024);
    let (to, html) = browser
        .submit_and_follow(
            &app,
            "/incidents/new",
            "/api/open_incident",
            &[
                ("title", "   "),
                ("description", &long),
                ("detected_at", &future),
                ("severity", "critical"),
                ("environment_id", &env),
                ("suspect_release", "v1.2.0"),
                ("criteria[made_up]", "on"),
                ("criteria[user_data_loss]", "on"),
                ("criteria_other", ""),
            ],
        )
        .await;
    assert_eq!(to, "/incidents/new");
    for message in [
        "Saisissez un titre",
        "La description dépasse 20 000 caractères.",
        "La détection ne peut pas être dans le futur.",
        "Critère inconnu",
    ] {
        assert!(html.contains(message), "{message}");
    }
    assert_eq!(
        input_value(&html, "suspect_release").as_deref(),
        Some("v1.2.0"),
        "typed values kept"
    );
    assert!(html.contains(r#"name="criteria[user_data_loss]" value="on" checked"#));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // A viewer can't open an incident at all.
    let viewer = app
        .signed_in_browser("paul@taskflow.example", "Paul", &["viewer"])
        .await;
    let now = Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let (_, html) = viewer
        .submit_and_follow(
            &app,
            "/incidents/new",
            "/api/open_incident",
            &[
                ("title", "t"),
                ("description", ""),
                ("detected_at", &now),
                ("severity", "normal"),
                ("environment_id", &env),
                ("suspect_release", ""),
                ("criteria_other", ""),
            ],
        )
        .await;
    assert!(html.contains("lecture seule"), "{html}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_tags_are_escaped_on_every_page() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app
        .create_environment("TaskFlow production")
        .await
        .to_string();
    let browser = app
        .signed_in_browser("thomas@taskflow.example", "Thomas", &["developer"])
        .await;
    let evil = "</script><script>alert(1)</script>";
    let now = Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let (page, _) = browser
        .submit_and_follow(
            &app,
            "/incidents/new",
            "/api/open_incident",
            &[
                ("title", evil),
                ("description", evil),
                ("detected_at", &now),
                ("severity", "urgent"),
                ("environment_id", &env),
                ("suspect_release", evil),
                ("criteria_other", evil),
            ],
        )
        .await;
    let id = page.trim_start_matches("/incidents/").to_owned();
    browser
        .submit_and_follow(
            &app,
            &page,
            "/api/comment_incident",
            &[("incident_id", &id), ("body", evil)],
        )
        .await;
    for path in [page.as_str(), "/incidents", "/"] {
        let (status, html) = browser.page(&app, path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("<script>alert(1)"), "{path}: {html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)"),
            "{path} shows the text"
        );
    }
}

/// Issue 15 §8: an image from another site in a comment (a tracking pixel) is a link, never
/// loaded by readers; `//host` is another site.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_shows_foreign_images_as_links() {
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let browser = app
        .signed_in_browser("thomas@taskflow.example", "Thomas", &["developer"])
        .await;
    let user: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let id: i64 = sqlx::query_scalar("INSERT INTO incidents (title, detected_at, severity, environment_id, created_by) VALUES ('Facturation', now(), 'urgent', $1, $2) RETURNING id")
        .bind(env).bind(user).fetch_one(&app.pool).await.unwrap();
    let page = format!("/incidents/{id}");
    let body = "Voir ![capture](https://tracker.example/p.gif?who=thomas) et ![ici](//tracker.example/q.gif) et [journal](//logs.example/x)";
    let (_, html) = browser
        .submit_and_follow(
            &app,
            &page,
            "/api/comment_incident",
            &[("incident_id", &id.to_string()), ("body", body)],
        )
        .await;
    assert!(
        !html.contains("<img src=\"https://tracker.example"),
        "{html}"
    );
    assert!(!html.contains("<img src=\"//tracker.example"), "{html}");
    assert!(
        html.contains(r#"<a href="https://tracker.example/p.gif?who=thomas">capture</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="//tracker.example/q.gif">ici</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="//logs.example/x">journal</a>"#),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_filters_pages_and_puts_overdue_first() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let prod = app.create_environment("TaskFlow production").await;
    let staging = app.create_environment("TaskFlow staging").await;
    let user = app
        .create_user("claire@taskflow.example", "Claire", &["tech_lead"])
        .await;
    for n in 0..25 {
        sqlx::query("INSERT INTO incidents (title, detected_at, severity, environment_id, created_by) VALUES ($1, now() - interval '1 minute' * $2, 'normal', $3, $4)")
            .bind(format!("recent {n:02}")).bind(n).bind(staging).bind(user)
            .execute(&app.pool).await.unwrap();
    }
    sqlx::query("INSERT INTO incidents (title, detected_at, severity, environment_id, created_by) VALUES ('late one', now() - interval '2 hours', 'critical', $1, $2)")
        .bind(prod).bind(user).execute(&app.pool).await.unwrap();
    sqlx::query("INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state) VALUES ('closed one', now(), 'normal', $1, $2, 'cancelled')")
        .bind(prod).bind(user).execute(&app.pool).await.unwrap();

    let browser = Browser::new();
    browser
        .sign_in(&app, "claire@taskflow.example", PASSWORD)
        .await;
    let (_, html) = browser.page(&app, "/incidents").await;
    let first_row = html.find("<tbody>").unwrap();
    assert!(
        html[first_row..].find("late one").unwrap() < html[first_row..].find("recent 00").unwrap(),
        "overdue first"
    );
    assert!(html.contains("Page 1 / 2"));
    assert!(html.contains(r#"rel="next""#));
    let (_, page2) = browser.page(&app, "/incidents?page=2").await;
    assert!(page2.contains("Page 2 / 2"));
    assert!(page2.contains("closed one") || page2.contains("recent 2"));

    let (_, html) = browser.page(&app, "/incidents?overdue=1").await;
    assert!(html.contains("late one") && !html.contains("recent 00"));
    let (_, html) = browser
        .page(&app, &format!("/incidents?environment={prod}&open=1"))
        .await;
    assert!(html.contains("late one") && !html.contains("closed one") && !html.contains("recent"));
    let (_, html) = browser.page(&app, "/incidents?severity=critical").await;
    assert!(html.contains("late one") && !html.contains("recent"));
    let (_, html) = browser.page(&app, "/incidents?state=cancelled").await;
    assert!(html.contains("closed one") && !html.contains("late one"));
    let (status, _) = browser.page(&app, "/incidents?state=bogus&page=-3").await;
    assert_eq!(status, StatusCode::OK, "odd filters don't break the page");
    let (status, html) = browser.page(&app, "/incidents/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        html.contains("Cet incident n&#x27;existe pas.")
            || html.contains("Cet incident n'existe pas.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_logged_with_before_and_after() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app.create_environment("TaskFlow production").await;
    let julien = app
        .create_user("julien@taskflow.example", "Julien", &["senior_dev_oncall"])
        .await;
    let id = incident_in(&app, env, julien, IncidentState::Detected, &[]).await;
    let page = format!("/incidents/{id}");
    let browser = Browser::new();
    browser
        .sign_in(&app, "julien@taskflow.example", PASSWORD)
        .await;
    let incident_id = id.to_string();
    let edit = |title: &'static str| {
        vec![
            ("incident_id", incident_id.clone()),
            ("title", title.to_owned()),
            ("description", "facturation KO".to_owned()),
            ("severity", "urgent".to_owned()),
            ("suspect_release", "2025-10-17_104523".to_owned()),
            ("criteria[critical_feature_failure]", "on".to_owned()),
            ("criteria_other", String::new()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| {
        v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
    };

    let bad = as_refs(&edit(""));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, html) = browser
        .submit_and_follow(&app, &page, "/api/edit_incident", &bad)
        .await;
    assert!(html.contains("Saisissez un titre"), "{html}");
    assert!(html.contains("facturation KO"), "typed description kept");
    let details = &html[html.find("<details").unwrap()..];
    assert!(
        details[..details.find('>').unwrap()].contains(" open"),
        "the form stays open"
    );

    let good = as_refs(&edit("Facturation en erreur"));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, html) = browser
        .submit_and_follow(&app, &page, "/api/edit_incident", &good)
        .await;
    assert!(html.contains("Incident modifié."), "{html}");
    let (title, severity): (String, String) =
        sqlx::query_as("SELECT title, severity FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (title.as_str(), severity.as_str()),
        ("Facturation en erreur", "urgent")
    );
    let change: serde_json::Value =
        sqlx::query_scalar("SELECT details FROM incident_events WHERE kind = 'edited'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(change["title"]["from"], "t");
    assert_eq!(change["title"]["to"], "Facturation en erreur");
    assert_eq!(change["severity"]["from"], "critical");
    assert_eq!(
        change["criteria"]["to"],
        serde_json::json!(["critical_feature_failure"])
    );

    // A viewer's forged edit changes nothing.
    let viewer = app
        .signed_in_browser("paul@taskflow.example", "Paul", &["viewer"])
        .await;
    let before = snapshot(&app.pool, id).await;
    let forged = as_refs(&edit("pwned"));
    let forged: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
    viewer
        .submit_and_follow(&app, &page, "/api/edit_incident", &forged)
        .await;
    assert_eq!(snapshot(&app.pool, id).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_the_environments_incidents_are_opened_on() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_user("admin@taskflow.example", "Alex Admin", &["admin"])
        .await;
    let user = app
        .signed_in_browser("thomas@taskflow.example", "Thomas", &["developer"])
        .await;
    let (_, html) = user.page(&app, "/incidents/new").await;
    assert!(
        html.contains("est encore défini : un administrateur"),
        "{html}"
    );

    let admin = Browser::new();
    admin
        .sign_in(&app, "admin@taskflow.example", PASSWORD)
        .await;
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/environments",
            "/api/add_environment",
            &[("name", "  TaskFlow production ")],
        )
        .await;
    assert!(
        html.contains("Environnement TaskFlow production ajouté."),
        "{html}"
    );
    let (_, html) = admin
        .submit_and_follow(
            &app,
            "/admin/environments",
            "/api/add_environment",
            &[("name", "TaskFlow production")],
        )
        .await;
    assert!(
        html.contains("Un environnement porte déjà ce nom."),
        "{html}"
    );
    assert_eq!(
        input_value(&html, "environment-name").as_deref(),
        Some("TaskFlow production")
    );

    // Not an admin: refused, on the page and on a forged post.
    assert_eq!(
        user.page(&app, "/admin/environments").await.0,
        StatusCode::FORBIDDEN
    );
    let (_, html) = user
        .submit_and_follow(&app, "/", "/api/add_environment", &[("name", "rogue")])
        .await;
    assert!(html.contains("pas le droit"), "{html}");
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM environments")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(names, vec!["TaskFlow production"]);

    let (_, html) = user.page(&app, "/incidents/new").await;
    assert!(html.contains(">TaskFlow production</option>"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_seeds_the_procedures_scenario_once() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let sandbox = tempfile::tempdir().unwrap();
    server::demo::build_sandbox(sandbox.path()).unwrap();
    server::demo::build_sandbox(sandbox.path()).unwrap(); // completing it again is harmless
    assert_eq!(
        server::demo::seed(&app.pool).await.unwrap(),
        9,
        "one account per role"
    );
    assert!(server::demo::seed_scenario(&app.pool, sandbox.path())
        .await
        .unwrap());
    assert!(
        !server::demo::seed_scenario(&app.pool, sandbox.path())
            .await
            .unwrap(),
        "only once"
    );
    assert_eq!(server::demo::seed(&app.pool).await.unwrap(), 0);
    // The demo's contacts: someone is on call right now, and only seeded once.
    assert!(server::demo::seed_contacts(&app.pool).await.unwrap());
    assert!(!server::demo::seed_contacts(&app.pool).await.unwrap());
    let on_call: Vec<String> = sqlx::query_scalar(
        "SELECT c.name FROM on_call_shifts s JOIN contacts c ON c.id = s.contact_id
         WHERE s.starts_at <= now() AND now() < s.ends_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        on_call.len(),
        1,
        "exactly one person on call now: {on_call:?}"
    );

    let (state, rollback_type, detected): (String, String, chrono::DateTime<Utc>) = sqlx::query_as(
        "SELECT state, rollback_type, detected_at FROM incidents WHERE suspect_release LIKE '2025-10-17_104523%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (state.as_str(), rollback_type.as_str()),
        ("decided", "application")
    );
    assert_eq!(
        detected,
        Utc.with_ymd_and_hms(2025, 10, 17, 12, 22, 0).unwrap(),
        "14:22 in Paris"
    );
    let versions: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT version, rollback_reason FROM deployments ORDER BY deployed_at")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.0.as_str()).collect::<Vec<_>>(),
        ["v1.0.0", "v1.1.0", "v1.1.8", "v1.2.0"]
    );
    assert_eq!(versions[3].1.as_deref(), Some("Erreur module facturation"));

    // The demo accounts sign in, and the dashboard shows the fresh incident counting down.
    let browser = Browser::new();
    let (_, html) = browser
        .sign_in(
            &app,
            "claire.dubois@taskflow.example",
            server::demo::DEMO_PASSWORD,
        )
        .await;
    assert!(html.contains("Export PDF des tâches très lent"), "{html}");
    assert!(html.contains("il reste 2"), "{html}");
    let (_, html) = browser.page(&app, "/incidents/1").await;
    assert!(html.contains("Rollback applicatif (sans base de données)"));
    assert!(html.contains("17/10/2025 14:28"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_target_reproduces_the_scenario() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    server::demo::seed(&app.pool).await.unwrap();
    let sandbox = tempfile::tempdir().unwrap();
    server::demo::build_sandbox(sandbox.path()).unwrap();
    server::demo::seed_scenario(&app.pool, sandbox.path())
        .await
        .unwrap();
    let env: uuid::Uuid = sqlx::query_scalar("SELECT id FROM environments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let found = app::backend::inventory::refresh(&app.pool, env)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let names: Vec<&str> = found.releases.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, server::demo::SANDBOX_RELEASES);
    assert_eq!(found.current_release.as_deref(), Some("2025-10-17_104523"));
    assert!(found.ignored.is_empty(), "{:?}", found.ignored);
    let backups: Vec<&str> = found.backups.iter().map(|b| b.file_name.as_str()).collect();
    assert_eq!(
        backups,
        [
            "db_backup_20251016_150000.sql.gz",
            "db_backup_20251017_103000.sql.gz"
        ]
    );
    // Real gzip files holding a dump with a users table.
    let dump = sandbox
        .path()
        .join("var/backups/taskflow/db_backup_20251017_103000.sql.gz");
    let out = std::process::Command::new("gunzip")
        .arg("-c")
        .arg(&dump)
        .output()
        .unwrap();
    assert!(out.status.success());
    let sql = String::from_utf8(out.stdout).unwrap();
    assert!(sql.contains("CREATE TABLE users"));
    assert_eq!(sql.matches("INSERT INTO users").count(), 4);
}

/// Issue 15 §5: the new-incident form posted twice opens one incident; the repeat lands on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_post_opens_one_incident() {
    let app = spawn_app(test_database().await).await;
    let env = app
        .create_environment("TaskFlow production")
        .await
        .to_string();
    let browser = app
        .signed_in_browser("thomas@taskflow.example", "Thomas", &["developer"])
        .await;
    let (_, html) = browser.page(&app, "/incidents/new").await;
    let csrf = csrf_token(&html).unwrap();
    let once = hidden_value(&html, "once").expect("the form carries a one-time token");
    let now = Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let fields = [
        ("_csrf", csrf.as_str()),
        ("once", once.as_str()),
        ("title", "Facturation en erreur"),
        ("description", ""),
        ("detected_at", now.as_str()),
        ("severity", "urgent"),
        ("environment_id", env.as_str()),
        ("suspect_release", ""),
        ("criteria_other", ""),
    ];
    let post = || {
        browser
            .client
            .post(app.url("/api/open_incident"))
            .header("Accept", "text/html")
            .header("Origin", format!("http://{}", app.addr))
            .form(&fields)
            .send()
    };
    let (a, b) = tokio::join!(post(), post());
    let (a, b) = (location(&a.unwrap()), location(&b.unwrap()));
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM incidents")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(ids.len(), 1, "one incident");
    let page = format!("/incidents/{}", ids[0]);
    assert_eq!((a.as_str(), b.as_str()), (page.as_str(), page.as_str()));
    let again = post().await.unwrap();
    assert_eq!(location(&again), page);
    let (_, html) = browser.page(&app, &page).await;
    assert!(
        html.contains("Ce formulaire avait déjà été envoyé"),
        "{html}"
    );
    assert!(html.contains("Facturation en erreur"), "{html}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

/// Issue 16 §2: cancelling an incident asks first (a tick, with JavaScript off too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_an_incident_asks_first() {
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let browser = app
        .signed_in_browser("claire@taskflow.example", "Claire", &["tech_lead"])
        .await;
    let user: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let id: i64 = sqlx::query_scalar("INSERT INTO incidents (title, detected_at, severity, environment_id, created_by) VALUES ('Fausse alerte', now(), 'normal', $1, $2) RETURNING id")
        .bind(env).bind(user).fetch_one(&app.pool).await.unwrap();
    let page = format!("/incidents/{id}");
    let (_, html) = browser.page(&app, &page).await;
    assert!(html.contains("id=\"cancel-confirm\""), "{html}");
    let state = || async {
        sqlx::query_scalar::<_, String>("SELECT state FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let (_, html) = browser
        .submit_and_follow(
            &app,
            &page,
            "/api/cancel_incident",
            &[
                ("incident_id", &id.to_string()),
                ("reason", "Doublon de #3"),
            ],
        )
        .await;
    assert!(html.contains("Cochez la case pour confirmer"), "{html}");
    assert!(html.contains("Doublon de #3"), "the reason is kept: {html}");
    assert_eq!(state().await, "detected");
    browser
        .submit_and_follow(
            &app,
            &page,
            "/api/cancel_incident",
            &[
                ("incident_id", &id.to_string()),
                ("reason", "Doublon de #3"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(state().await, "cancelled");
}

/// Issue 16 §7–8: the incident links to its environment's page; every page names a favicon
/// that is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incident_links_its_environment_and_pages_have_a_favicon() {
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let browser = app
        .signed_in_browser("claire@taskflow.example", "Claire", &["tech_lead"])
        .await;
    let user: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let id: i64 = sqlx::query_scalar("INSERT INTO incidents (title, detected_at, severity, environment_id, created_by) VALUES ('Facturation', now(), 'urgent', $1, $2) RETURNING id")
        .bind(env).bind(user).fetch_one(&app.pool).await.unwrap();
    let (_, html) = browser.page(&app, &format!("/incidents/{id}")).await;
    assert!(
        html.contains(&format!(
            r#"href="/environments/{env}" id="environment-link""#
        )),
        "{html}"
    );
    assert!(
        html.contains(r#"rel="icon" href="/style/favicon.svg""#),
        "{html}"
    );
    let (status, page) = browser.page(&app, &format!("/environments/{env}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("TaskFlow production"));
    let icon = browser.get(&app, "/style/favicon.svg").await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_page_of_open_incidents_and_the_way_to_all_of_them() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let browser = app
        .signed_in_browser("claire@taskflow.example", "Claire", &["tech_lead"])
        .await;
    let env = app.create_environment("TaskFlow production").await;
    add_incidents(&app, env, 1..=20, "detected").await;
    add_incidents(&app, env, 100..=100, "closed").await;
    let (_, html) = browser.page(&app, "/").await;
    let open = html.split("id=\"open-incidents\"").nth(1).unwrap();
    assert!(open.contains("Incident 20"), "{open}");
    assert!(!open.contains("Incident 100"), "a closed one is not open");
    assert!(
        !open.contains("/incidents?open=1"),
        "all 20 fit on the dashboard: no link"
    );
    add_incidents(&app, env, 21..=23, "evaluating").await;
    let (_, html) = browser.page(&app, "/").await;
    let open = html.split("id=\"open-incidents\"").nth(1).unwrap();
    assert_eq!(open.matches("<tr").count() - 1, 20, "one page: {open}");
    assert!(
        open.contains(r#"<a href="/incidents?open=1">Les 23 incidents ouverts</a>"#),
        "{open}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_a_thousand_incidents_the_list_counts_no_further_and_still_pages() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let browser = app
        .signed_in_browser("claire@taskflow.example", "Claire", &["tech_lead"])
        .await;
    let env = app.create_environment("TaskFlow production").await;
    add_incidents(&app, env, 1..=1_000, "closed").await;
    let (_, html) = browser.page(&app, "/incidents").await;
    assert!(html.contains("Page 1 / 50<"), "exactly 1,000: counted");
    add_incidents(&app, env, 1_001..=1_005, "closed").await;
    let (_, html) = browser.page(&app, "/incidents").await;
    assert!(html.contains("Page 1 / 50+<"), "more than counted: {html}");
    let (_, last) = browser.page(&app, "/incidents?page=51").await;
    assert!(
        last.contains("Incident 1005<"),
        "the pages past the count still open"
    );
}
