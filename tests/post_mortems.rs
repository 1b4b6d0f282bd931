//! Post-mortems (§8): created when the rollback ends, due 48 hours later, the chronology
//! pre-filled from real events; revisions and stale saves; corrective actions; finalize;
//! the Markdown export.
use crate::helpers::*;
use crate::verification::Verifying;
use chrono::{DateTime, TimeZone, Utc};

/// The procedure's scenario on a real rollback: v1.2.0 deployed at 10:45 (Paris), detected at
/// 14:22, decided at 14:25. Returns the verifying incident.
async fn scenario() -> Verifying {
    let v = prepared().await;
    assert!(v.runner.tick().await.unwrap(), "the execution runs");
    v
}

/// The scenario before the runner executes the plan.
async fn prepared() -> Verifying {
    let app = spawn_app(test_database().await).await;
    let v = Verifying::new_unexecuted(app, "").await;
    let paris = |h, m| {
        chrono_tz::Europe::Paris
            .with_ymd_and_hms(2025, 10, 17, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    sqlx::query(
        "INSERT INTO deployments (environment_id, version, release, deployed_at, source)
         SELECT environment_id, 'v1.2.0', '2025-10-17_104523', $2, 'ui' FROM incidents WHERE id = $1",
    )
    .bind(v.incident)
    .bind(paris(10, 45))
    .execute(&v.app.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE plans SET from_release = '2025-10-17_104523' WHERE incident_id = $1")
        .bind(v.incident)
        .execute(&v.app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE incidents SET detected_at = $2, decided_at = $3, decision_reason = 'Erreurs critiques dans le module de facturation', title = 'Facturation en erreur' WHERE id = $1")
        .bind(v.incident)
        .bind(paris(14, 22))
        .bind(paris(14, 25))
        .execute(&v.app.pool)
        .await
        .unwrap();
    v
}

async fn tick_all(v: &Verifying) {
    v.run_checks().await;
    let lead = v
        .app
        .signed_in_user(
            &format!("{}@taskflow.example", uuid::Uuid::new_v4()),
            &["tech_lead"],
        )
        .await;
    v.tick_manual_items(&lead).await;
}

/// How the chronology writes a moment: the date and HH:MM in the environment's time zone.
fn stamp(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_when_the_rollback_ends_with_its_chronology() {
    let v = scenario().await;
    let (created, due, content): (DateTime<Utc>, DateTime<Utc>, serde_json::Value) =
        sqlx::query_as(
            "SELECT created_at, due_at, content FROM post_mortems WHERE incident_id = $1",
        )
        .bind(v.incident)
        .fetch_one(&v.app.pool)
        .await
        .unwrap();
    let (started, finished): (DateTime<Utc>, DateTime<Utc>) =
        sqlx::query_as("SELECT started_at, finished_at FROM executions WHERE incident_id = $1")
            .bind(v.incident)
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    assert_eq!(created, finished, "created when the rollback ends");
    assert_eq!(
        due,
        finished + chrono::Duration::hours(48),
        "§8.1: 48 hours"
    );
    let chronology = content["chronology"].as_str().unwrap().to_owned();
    assert_eq!(
        chronology,
        format!(
            "17/10/2025 10:45 - Déploiement de la version v1.2.0\n\
             17/10/2025 14:22 - Détection du problème\n\
             17/10/2025 14:25 - Décision de rollback\n{} - Début du rollback\n{} - Fin du rollback",
            stamp(started),
            stamp(finished)
        )
    );
    let detected = chrono_tz::Europe::Paris
        .with_ymd_and_hms(2025, 10, 17, 14, 22, 0)
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(
        content["duration_minutes"].as_i64(),
        Some((finished - detected).num_minutes())
    );
    assert!(content["summary"]
        .as_str()
        .unwrap()
        .contains("Erreurs critiques dans le module de facturation"));

    // The checklist done, the chronology gains its verification line.
    tick_all(&v).await;
    let content: serde_json::Value =
        sqlx::query_scalar("SELECT content FROM post_mortems WHERE incident_id = $1")
            .bind(v.incident)
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    let started: DateTime<Utc> =
        sqlx::query_scalar("SELECT monitoring_started_at FROM incidents WHERE id = $1")
            .bind(v.incident)
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    assert!(content["chronology"].as_str().unwrap().ends_with(&format!(
        "\n{} - Vérification et validation",
        stamp(started)
    )));

    // The list shows it with its time left.
    let browser = v
        .app
        .signed_in_browser("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let (_, html) = browser.page(&v.app, "/post-mortems").await;
    assert!(
        html.contains(&format!("id=\"pm-{}\"", v.incident)),
        "{html}"
    );
    assert!(
        html.contains("il reste 1 j 23 h"),
        "the scenario's rollback ran now, due in 48 h? {html}"
    );
    v.drop_database().await;
}

/// The fields of a save, with `revision` and the given changes over a blank form.
fn form<'a>(
    incident: &'a str,
    revision: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![("incident_id", incident), ("revision", revision)];
    f.extend_from_slice(extra);
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_save_is_refused_and_nothing_is_lost() {
    let v = scenario().await;
    let id = v.incident.to_string();
    let page = format!("/incidents/{id}/post-mortem");
    let lead = v
        .app
        .signed_in_browser("lead@taskflow.example", "Léa Lead", &["tech_lead"])
        .await;
    let pm = v
        .app
        .signed_in_browser("pm@taskflow.example", "Paul PM", &["project_manager"])
        .await;
    // Both open revision 1; Léa saves first.
    let (_, html) = lead
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "1",
                &[("root_cause", "Migration non testée sur des données réelles")],
            ),
        )
        .await;
    assert!(html.contains("Post-mortem enregistré."), "{html}");
    // Paul, still on revision 1, saves his own text: refused, his text kept, hers shown.
    let (_, html) = pm
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "1",
                &[
                    ("root_cause", "Cache de facturation"),
                    ("lessons", "Tester la facturation"),
                ],
            ),
        )
        .await;
    assert!(
        html.contains("Quelqu'un a enregistré le post-mortem"),
        "{html}"
    );
    assert!(html.contains("Léa Lead"), "{html}");
    // When she saved, in the reader's time zone (Paris), not UTC.
    let saved_at: DateTime<Utc> =
        sqlx::query_scalar("SELECT saved_at FROM post_mortems WHERE incident_id = $1")
            .bind(v.incident)
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    let paris = saved_at
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y %H:%M")
        .to_string();
    assert!(html.contains(&format!("Léa Lead ({paris})")), "{html}");
    assert!(!html.contains(" UTC)"), "{html}");
    assert!(html.contains("id=\"their-version\""), "{html}");
    assert!(
        html.contains("Migration non testée sur des données réelles"),
        "hers: {html}"
    );
    assert!(
        html.contains(">Cache de facturation</textarea>"),
        "his, kept: {html}"
    );
    let (revision, root): (i32, String) = sqlx::query_as(
        "SELECT revision, content->>'root_cause' FROM post_mortems WHERE incident_id = $1",
    )
    .bind(v.incident)
    .fetch_one(&v.app.pool)
    .await
    .unwrap();
    assert_eq!(
        (revision, root.as_str()),
        (2, "Migration non testée sur des données réelles")
    );
    // He merges and saves over revision 2: accepted, and every revision is kept.
    pm.submit_and_follow(
        &v.app,
        &page,
        "/api/save_post_mortem",
        &form(
            &id,
            "2",
            &[(
                "root_cause",
                "Migration non testée sur des données réelles ; cache de facturation",
            )],
        ),
    )
    .await;
    let revisions: Vec<(i32, Option<String>)> = sqlx::query_as(
        "SELECT r.revision, u.name FROM post_mortem_revisions r LEFT JOIN users u ON u.id = r.saved_by
         WHERE r.incident_id = $1 ORDER BY r.revision",
    )
    .bind(v.incident)
    .fetch_all(&v.app.pool)
    .await
    .unwrap();
    assert_eq!(
        revisions,
        vec![
            (1, None),
            (2, Some("Léa Lead".into())),
            (3, Some("Paul PM".into()))
        ]
    );

    // Bad input: a message by the field, the form as typed; someone who takes no part can't save.
    let (_, html) = pm
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "3",
                &[("duration_minutes", "huit"), ("summary", "gardé")],
            ),
        )
        .await;
    assert!(
        html.contains("Un nombre entier de minutes est attendu."),
        "{html}"
    );
    assert!(html.contains(">gardé</textarea>"), "{html}");
    // §8.1: the meeting within 48 hours of the rollback, or with a reason.
    let late = (Utc::now() + chrono::Duration::hours(72))
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let (_, html) = pm
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(&id, "3", &[("meeting_at", &late)]),
        )
        .await;
    assert!(
        html.contains("La réunion doit avoir lieu dans les 48 heures"),
        "{html}"
    );
    let (_, html) = pm
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "3",
                &[
                    ("meeting_at", &late),
                    ("meeting_late_reason", "QA en congé"),
                ],
            ),
        )
        .await;
    assert!(html.contains("Post-mortem enregistré."), "{html}");

    let dev = v
        .app
        .signed_in_browser("dev@taskflow.example", "Dev", &["developer"])
        .await;
    let (_, html) = dev.page(&v.app, &page).await;
    assert!(
        !html.contains("id=\"pm-save\""),
        "read-only for a non-participant"
    );
    let (_, html) = dev
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(&id, "4", &[("summary", "x")]),
        )
        .await;
    assert!(html.contains("Seuls les participants"), "{html}");
    v.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_markdown_export_of_the_scenario() {
    let v = scenario().await;
    tick_all(&v).await;
    let id = v.incident.to_string();
    let page = format!("/incidents/{id}/post-mortem");
    let lead = v
        .app
        .signed_in_browser("lead@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    let marc = v
        .app
        .create_user("marc@taskflow.example", "Marc Lefebvre", &["developer"])
        .await
        .to_string();
    let claire: String =
        sqlx::query_scalar("SELECT id::text FROM users WHERE email = 'lead@taskflow.example'")
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    let chronology: String = sqlx::query_scalar(
        "SELECT content->>'chronology' FROM post_mortems WHERE incident_id = $1",
    )
    .bind(v.incident)
    .fetch_one(&v.app.pool)
    .await
    .unwrap();
    let (_, html) = lead
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "1",
                &[
                    (
                        "summary",
                        "La v1.2.0 a cassé la facturation ; rollback applicatif vers la v1.1.8.",
                    ),
                    ("chronology", &chronology),
                    (
                        "root_cause",
                        "Un appel à InvoiceCalculator::total() avec null.",
                    ),
                    ("users_affected", "350"),
                    ("duration_minutes", "8"),
                    ("data_loss", "no"),
                    ("services", "Facturation | exports"),
                    (
                        "went_well",
                        "Décision en 3 minutes\n- Rollback en 2 minutes",
                    ),
                    ("to_improve", "Tests de facturation en pré-production"),
                    ("lessons", "Tester avec des données réelles."),
                    ("participants[tech_lead]", &claire),
                    ("participants[deployer]", &marc),
                    ("action_text[0]", "Ajouter des tests de facturation"),
                    ("action_owner[0]", &marc),
                    ("action_due[0]", "2025-10-24"),
                    ("action_status[0]", "in_progress"),
                    ("action_text[1]", "Alerte sur les erreurs 500"),
                    ("action_owner[1]", &claire),
                    ("action_status[1]", "to_do"),
                ],
            ),
        )
        .await;
    assert!(html.contains("Post-mortem enregistré."), "{html}");
    assert!(
        html.contains("Manquent : Testeur QA, Chef de projet"),
        "{html}"
    );

    let res = lead
        .get(&v.app, &format!("/incidents/{id}/post-mortem.md?lang=fr"))
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    let md = res.text().await.unwrap();
    let section = |title: &str| -> String {
        let start = md
            .find(&format!("## {title}\n"))
            .unwrap_or_else(|| panic!("{title}: {md}"));
        let rest = &md[start + title.len() + 4..];
        rest[..rest.find("\n## ").unwrap_or(rest.len())]
            .trim()
            .to_owned()
    };
    assert!(md.starts_with("# Post-mortem : Rollback du "), "{md}");
    assert_eq!(
        section("Résumé"),
        "La v1.2.0 a cassé la facturation ; rollback applicatif vers la v1.1.8."
    );
    let chrono_section = section("Chronologie");
    let lines: Vec<&str> = chrono_section.lines().collect();
    assert_eq!(lines.len(), 6, "{chrono_section}");
    assert_eq!(
        lines[0],
        "- 17/10/2025 10:45 - Déploiement de la version v1.2.0"
    );
    assert_eq!(lines[1], "- 17/10/2025 14:22 - Détection du problème");
    assert_eq!(lines[2], "- 17/10/2025 14:25 - Décision de rollback");
    assert!(
        lines[5].ends_with("- Vérification et validation"),
        "{chrono_section}"
    );
    assert_eq!(
        section("Cause racine"),
        "Un appel à InvoiceCalculator::total() avec null."
    );
    assert_eq!(
        section("Impact"),
        "- Utilisateurs affectés : 350\n- Durée : 8 min\n- Perte de données : Non\n- Services impactés : Facturation | exports"
    );
    assert_eq!(
        section("Ce qui a bien fonctionné"),
        "- Décision en 3 minutes\n- Rollback en 2 minutes"
    );
    assert_eq!(
        section("Ce qui doit être amélioré"),
        "- Tests de facturation en pré-production"
    );
    assert_eq!(
        section("Actions correctives"),
        "| Action | Responsable | Échéance | Statut |\n|---|---|---|---|\n\
         | Ajouter des tests de facturation | Marc Lefebvre | 24/10/2025 | En cours |\n\
         | Alerte sur les erreurs 500 | Claire Dubois |  | À faire |"
    );
    assert_eq!(
        section("Leçons apprises"),
        "Tester avec des données réelles."
    );
    assert!(
        section("Réunion").contains("- Responsable technique : Claire Dubois"),
        "{md}"
    );

    let en = lead
        .get(&v.app, &format!("/incidents/{id}/post-mortem.md?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(en.starts_with("# Post-mortem: Rollback of "), "{en}");
    assert!(
        en.contains("## Corrective actions\n\n| Action | Owner | Due | Status |"),
        "{en}"
    );
    assert!(
        en.contains(
            "| Ajouter des tests de facturation | Marc Lefebvre | 2025-10-24 | In progress |"
        ),
        "{en}"
    );

    // The actions are on their owners' dashboards and on the page of open actions.
    let (_, actions) = lead.page(&v.app, "/actions").await;
    assert!(
        actions.contains("Ajouter des tests de facturation"),
        "{actions}"
    );
    assert!(
        actions.contains("En retard"),
        "due 2025-10-24, overdue: {actions}"
    );
    let (_, dashboard) = lead.page(&v.app, "/").await;
    assert!(dashboard.contains("id=\"my-actions\""), "{dashboard}");
    assert!(
        dashboard.contains("Alerte sur les erreurs 500"),
        "{dashboard}"
    );
    assert!(
        !dashboard.contains("Ajouter des tests de facturation"),
        "Marc's, not hers"
    );

    // Finalizing waits for the incident to be resolved.
    let (_, html) = lead
        .submit_and_follow(
            &v.app,
            &page,
            "/api/finalize_post_mortem",
            &[("incident_id", &id), ("confirm", "yes")],
        )
        .await;
    assert!(html.contains("role=\"alert\""), "{html}");
    let finalized: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT finalized_at FROM post_mortems WHERE incident_id = $1")
            .bind(v.incident)
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    assert_eq!(finalized, None);
    v.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_when_the_post_mortem_is_due_within_twelve_hours() {
    use app::backend::post_mortems::remind_due;
    let v = scenario().await;
    let due: DateTime<Utc> =
        sqlx::query_scalar("SELECT due_at FROM post_mortems WHERE incident_id = $1")
            .bind(v.incident)
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    // A participant who is not a §2.2 role gets it too; a QA tester who takes no part doesn't.
    v.app
        .create_user("lead@taskflow.example", "Léa Lead", &["tech_lead"])
        .await;
    let dev = v
        .app
        .create_user("dev@taskflow.example", "Marc Dev", &["developer"])
        .await;
    v.app
        .create_user("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let content = serde_json::json!({ "deployer": dev.to_string() });
    sqlx::query(
        "UPDATE post_mortems SET content = jsonb_set(content, '{participants}', $2) WHERE incident_id = $1",
    )
    .bind(v.incident)
    .bind(content)
    .execute(&v.app.pool)
    .await
    .unwrap();

    assert!(remind_due(&v.app.pool, due - chrono::Duration::hours(13))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        remind_due(&v.app.pool, due - chrono::Duration::hours(11))
            .await
            .unwrap(),
        vec![v.incident]
    );
    assert!(
        remind_due(&v.app.pool, due - chrono::Duration::hours(10))
            .await
            .unwrap()
            .is_empty(),
        "once"
    );
    let recipients: Vec<String> = sqlx::query_scalar(
        "SELECT o.recipient FROM outbox o JOIN email_sends s ON s.id = o.send_id
         WHERE s.template = 'post_mortem_due' ORDER BY o.recipient",
    )
    .fetch_all(&v.app.pool)
    .await
    .unwrap();
    assert_eq!(
        recipients,
        ["dev@taskflow.example", "lead@taskflow.example"]
    );
    v.drop_database().await;
}

/// Issue 15 §3: naming oneself in the posted form gives no right to save, and a stored
/// participant edits the text but cannot change who takes part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeover_post_is_refused_and_only_organizers_choose_participants() {
    let v = scenario().await;
    let id = v.incident.to_string();
    let page = format!("/incidents/{id}/post-mortem");
    let lead = v
        .app
        .signed_in_browser("lead@taskflow.example", "Léa Lead", &["tech_lead"])
        .await;
    let qa_id = v
        .app
        .create_user("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let qa = Browser::new();
    qa.sign_in(&v.app, "qa@taskflow.example", PASSWORD).await;
    let lead_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'lead@taskflow.example'")
            .fetch_one(&v.app.pool)
            .await
            .unwrap();
    let (lead_s, qa_s) = (lead_id.to_string(), qa_id.to_string());
    let (_, html) = lead
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "1",
                &[
                    ("participants[tech_lead]", &lead_s),
                    ("participants[qa]", &qa_s),
                    ("summary", "Résumé de Léa"),
                ],
            ),
        )
        .await;
    assert!(html.contains("Post-mortem enregistré."), "{html}");

    // An outsider names themselves as every participant: refused, nothing written.
    let mallory_id = v
        .app
        .create_user("mallory@taskflow.example", "Mallory", &["developer"])
        .await;
    let mallory = Browser::new();
    mallory
        .sign_in(&v.app, "mallory@taskflow.example", PASSWORD)
        .await;
    let m = mallory_id.to_string();
    let (_, html) = mallory
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "2",
                &[
                    ("participants[tech_lead]", &m),
                    ("participants[deployer]", &m),
                    ("participants[qa]", &m),
                    ("participants[project_manager]", &m),
                    ("summary", "Rien à signaler"),
                ],
            ),
        )
        .await;
    assert!(html.contains("Seuls les participants"), "{html}");
    let stored = || async {
        sqlx::query_as::<_, (i32, String, serde_json::Value)>(
            "SELECT revision, content->>'summary', content->'participants' FROM post_mortems WHERE incident_id = $1",
        )
        .bind(v.incident)
        .fetch_one(&v.app.pool)
        .await
        .unwrap()
    };
    let (revision, summary, participants) = stored().await;
    assert_eq!((revision, summary.as_str()), (2, "Résumé de Léa"));
    assert_eq!(
        participants,
        serde_json::json!({"tech_lead": lead_s, "qa": qa_s})
    );

    // The stored QA participant sees the names, not choices, and saves the text.
    let (_, html) = qa.page(&v.app, &page).await;
    assert!(html.contains("id=\"pm-save\""), "a participant edits");
    // Every corrective-action input is labelled (for screen readers).
    for input in [
        "action-text-0",
        "action-owner-0",
        "action-due-0",
        "action-status-0",
    ] {
        assert!(
            html.contains(&format!(
                "<label for=\"{input}\" class=\"visually-hidden\">"
            )),
            "{input}: {html}"
        );
    }
    assert!(
        !html.contains("<select name=\"participants[qa]\""),
        "names are not choices for a participant: {html}"
    );
    assert!(
        html.contains("Choisis par le responsable technique ou le chef de projet."),
        "{html}"
    );
    let (_, html) = qa
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "2",
                &[
                    ("participants[tech_lead]", &lead_s),
                    ("participants[qa]", &qa_s),
                    ("summary", "Résumé relu par Quentin"),
                ],
            ),
        )
        .await;
    assert!(html.contains("Post-mortem enregistré."), "{html}");
    // …but dropping the tech lead (or adding someone) is refused.
    let (_, html) = qa
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "3",
                &[
                    ("participants[qa]", &qa_s),
                    ("participants[deployer]", &m),
                    ("summary", "Sans Léa"),
                ],
            ),
        )
        .await;
    assert!(
        html.contains(
            "Seuls le responsable technique et le chef de projet choisissent les participants"
        ),
        "{html}"
    );
    assert!(
        html.contains(">Sans Léa</textarea>"),
        "typed text kept: {html}"
    );
    let (revision, summary, participants) = stored().await;
    assert_eq!((revision, summary.as_str()), (3, "Résumé relu par Quentin"));
    assert_eq!(
        participants,
        serde_json::json!({"tech_lead": lead_s, "qa": qa_s})
    );
    v.drop_database().await;
}

/// Issue 15 §8: HTML typed in a field is text in the Markdown export, whatever renders it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_in_a_field_is_escaped_in_the_markdown_export() {
    let v = scenario().await;
    let id = v.incident.to_string();
    let page = format!("/incidents/{id}/post-mortem");
    let lead = v
        .app
        .signed_in_browser("lead@taskflow.example", "Léa Lead", &["tech_lead"])
        .await;
    let typed = "<img src=x onerror=alert(1)> & <b>gras</b>";
    let (_, html) = lead
        .submit_and_follow(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &form(&id, "1", &[("lessons", typed), ("summary", "Résumé")]),
        )
        .await;
    assert!(html.contains("Post-mortem enregistré."), "{html}");
    let md = lead
        .get(&v.app, &format!("/incidents/{id}/post-mortem.md?lang=fr"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!md.contains("<img") && !md.contains("<b>"), "{md}");
    assert!(
        md.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;gras&lt;/b&gt;"),
        "{md}"
    );
    v.drop_database().await;
}

/// Issue 16 §7: the four §8.1 participants are pre-filled — the tech lead, the deployer from
/// the deployment record, a QA, the project manager — and each choice offers only accounts of
/// the matching roles; a forged post naming someone else is refused next to the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_are_prefilled_and_chosen_among_their_roles() {
    let v = prepared().await;
    let app = &v.app;
    let lead = app
        .create_user("lea@taskflow.example", "Léa Lead", &["tech_lead"])
        .await;
    let pm = app
        .create_user("paul@taskflow.example", "Paul PM", &["project_manager"])
        .await;
    let qa = app
        .create_user("quentin@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let dev = app
        .create_user("diane@taskflow.example", "Diane Dev", &["developer"])
        .await;
    app.create_user("victor@taskflow.example", "Victor Viewer", &["viewer"])
        .await;
    sqlx::query("UPDATE deployments SET recorded_by = $1")
        .bind(dev)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(v.runner.tick().await.unwrap(), "the execution runs");
    let participants: serde_json::Value = sqlx::query_scalar(
        "SELECT content->'participants' FROM post_mortems WHERE incident_id = $1",
    )
    .bind(v.incident)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(participants["deployer"], serde_json::json!(dev));
    assert_eq!(participants["qa"], serde_json::json!(qa));
    assert_eq!(participants["project_manager"], serde_json::json!(pm));
    let tech_lead: uuid::Uuid =
        serde_json::from_value(participants["tech_lead"].clone()).expect("a tech lead");
    let leads: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM users WHERE 'tech_lead' = ANY(roles)")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(leads.contains(&tech_lead), "{participants}");
    let _ = lead;

    let id = v.incident.to_string();
    let page = format!("/incidents/{id}/post-mortem");
    let browser = Browser::new();
    browser
        .sign_in(app, "paul@taskflow.example", PASSWORD)
        .await;
    let (_, html) = browser.page(app, &page).await;
    let select = |name: &str| {
        let start = html
            .find(&format!("id=\"participant-{name}\""))
            .unwrap_or_else(|| panic!("{name} in {html}"));
        html[start..start + html[start..].find("</select>").unwrap()].to_owned()
    };
    let qa_choice = select("qa");
    assert!(qa_choice.contains("Quentin QA"), "{qa_choice}");
    assert!(!qa_choice.contains("Diane Dev"), "only QAs: {qa_choice}");
    assert!(!qa_choice.contains("Victor Viewer"), "{qa_choice}");
    let deployer = select("deployer");
    assert!(deployer.contains("Diane Dev"), "{deployer}");
    assert!(!deployer.contains("Victor Viewer"), "{deployer}");
    assert!(!deployer.contains("Paul PM"), "{deployer}");

    // A forged post naming the developer as the QA: refused next to the field.
    let (dev_id, pm_id) = (dev.to_string(), pm.to_string());
    let tech_lead = tech_lead.to_string();
    let (_, html) = browser
        .submit_and_follow(
            app,
            &page,
            "/api/save_post_mortem",
            &form(
                &id,
                "1",
                &[
                    ("participants[tech_lead]", &tech_lead),
                    ("participants[deployer]", &dev_id),
                    ("participants[qa]", &dev_id),
                    ("participants[project_manager]", &pm_id),
                ],
            ),
        )
        .await;
    assert!(
        html.contains("n&#x27;a pas le rôle de ce participant")
            || html.contains("n'a pas le rôle de ce participant"),
        "{html}"
    );
    let stored: serde_json::Value = sqlx::query_scalar(
        "SELECT content->'participants'->'qa' FROM post_mortems WHERE incident_id = $1",
    )
    .bind(v.incident)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, serde_json::json!(qa), "nothing written");
}

/// Issue 16 §6: a post made after the session expired leads to sign-in, then back to the page
/// with the typed text in the form — nothing done in between, nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_after_the_session_expired_keeps_the_text_through_sign_in() {
    let v = scenario().await;
    let id = v.incident.to_string();
    let page = format!("/incidents/{id}/post-mortem");
    let lead = v
        .app
        .signed_in_browser("lead@taskflow.example", "Léa Lead", &["tech_lead"])
        .await;
    let (_, html) = lead.page(&v.app, &page).await;
    let token = csrf_token(&html).expect("the form's token");
    // Her session ends while she writes (expiry, or a sign-out in another tab).
    sqlx::query("DELETE FROM tower_sessions.session")
        .execute(&v.app.pool)
        .await
        .unwrap();
    let typed = "Migration non testée : trois heures de texte à ne pas perdre.";
    let res = lead
        .post_with_token(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &token,
            &[
                ("incident_id", id.as_str()),
                ("revision", "1"),
                ("root_cause", typed),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = location(&res);
    assert_eq!(
        to,
        format!("/login?next=%2Fincidents%2F{id}%2Fpost-mortem"),
        "sign in first"
    );
    let (_, login) = lead.page(&v.app, &to).await;
    assert!(
        login.contains("votre texte remis dans le formulaire"),
        "{login}"
    );
    let root: String = sqlx::query_scalar(
        "SELECT content->>'root_cause' FROM post_mortems WHERE incident_id = $1",
    )
    .bind(v.incident)
    .fetch_one(&v.app.pool)
    .await
    .unwrap();
    assert_eq!(root, "", "nothing saved without a session");

    let (to, html) = lead
        .submit_and_follow(
            &v.app,
            &to,
            "/api/sign_in",
            &[
                ("email", "lead@taskflow.example"),
                ("password", PASSWORD),
                ("next", &page),
            ],
        )
        .await;
    assert_eq!(to, page, "back on the page");
    assert!(
        html.contains(&format!(">{typed}</textarea>")),
        "the text is back in the form: {html}"
    );
    assert!(
        html.contains("votre texte est remis dans le formulaire"),
        "{html}"
    );
    // Given back once: the page read again is the stored one.
    let (_, again) = lead.page(&v.app, &page).await;
    assert!(!again.contains(typed));
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_posts")
        .fetch_one(&v.app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 0);

    // A page opened before a sign-in elsewhere (the session renewed): nothing done, the
    // text back in the form at once.
    let (_, html) = lead.page(&v.app, &page).await;
    let old_token = csrf_token(&html).unwrap();
    lead.submit(&v.app, "/", "/api/sign_out", &[]).await;
    lead.sign_in(&v.app, "lead@taskflow.example", PASSWORD)
        .await;
    let res = lead
        .post_with_token(
            &v.app,
            &page,
            "/api/save_post_mortem",
            &old_token,
            &[
                ("incident_id", id.as_str()),
                ("revision", "1"),
                ("root_cause", "Texte d'un onglet resté ouvert"),
            ],
        )
        .await;
    assert_eq!(location(&res), page);
    let (_, html) = lead.page(&v.app, &page).await;
    assert!(
        html.contains(">Texte d&#39;un onglet resté ouvert</textarea>"),
        "{html}"
    );
    assert!(html.contains("rien n&#x27;a été fait") || html.contains("rien n'a été fait"));

    // A post from another site is still refused bare, and keeps nothing.
    let res = Browser::new()
        .client
        .post(v.app.url("/api/save_post_mortem"))
        .header("Origin", "http://evil.example")
        .form(&[("incident_id", id.as_str()), ("root_cause", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::FORBIDDEN);
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_posts")
        .fetch_one(&v.app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 0);
}

/// Issue 17 §1: /post-mortems is paged (50 a page, open ones first) and counts the missing
/// participants in the query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_post_mortem_list_is_paged() {
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let user = app
        .create_user("lea@taskflow.example", "Léa Lead", &["tech_lead"])
        .await;
    sqlx::query(
        "WITH i AS (
           INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state)
           SELECT 'Incident ' || n, now() - n * interval '1 day', 'urgent', $1, $2, 'closed'
           FROM generate_series(1, 60) AS n RETURNING id, title)
         INSERT INTO post_mortems (incident_id, created_at, due_at, content, saved_at, finalized_at)
         SELECT id, now(), now() + (split_part(title, ' ', 2)::int) * interval '1 hour',
                CASE WHEN title = 'Incident 1'
                     THEN jsonb_build_object('participants', jsonb_build_object('tech_lead', $2::text))
                     ELSE '{}' END,
                now(), CASE WHEN title = 'Incident 60' THEN now() END
         FROM i",
    )
    .bind(env)
    .bind(user)
    .execute(&app.pool)
    .await
    .unwrap();
    let browser = app
        .signed_in_browser("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let (_, first) = browser.page(&app, "/post-mortems").await;
    assert_eq!(first.matches("<tr id=\"pm-").count(), 50);
    assert!(first.contains("Incident 1<"), "the most urgent first");
    let first_row = &first[first.find("<tr id=\"pm-").unwrap()..];
    let first_row = &first_row[..first_row.find("</tr>").unwrap()];
    assert!(
        first_row.contains("Incident 1<") && first_row.contains('3'),
        "{first_row}"
    );
    assert!(first.contains("href=\"/post-mortems?page=2\""));
    let (_, second) = browser.page(&app, "/post-mortems?page=2").await;
    assert_eq!(second.matches("<tr id=\"pm-").count(), 10);
    let last = &second[second.rfind("<tr id=\"pm-").unwrap()..];
    assert!(last.contains("Incident 60<"), "the finalized one last");
    assert!(!second.contains("href=\"/post-mortems?page=3\""));
}
