//! The §7 emails: filled in from the incident's facts with the Tera templates of
//! `templates/email/`, edited by the sender, then queued in the outbox — one row per recipient,
//! in the same transaction as the send — for the mailer (`server/src/mailer.rs`) to deliver.
use crate::backend::timeline::{self, Event};
use crate::backend::transitions;
use crate::backend::AppError;
use crate::domain::email::{EmailTemplate, RecipientList};
use crate::domain::{Role, RollbackType};
use crate::i18n::{duration_text, Lang, Msg, Text};
use crate::records::EmailSendRecord;
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::sync::OnceLock;

fn tera() -> &'static tera::Tera {
    static TERA: OnceLock<tera::Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = tera::Tera::default();
        let templates = [
            (
                "internal.fr.txt",
                include_str!("../../../templates/email/internal.fr.txt"),
            ),
            (
                "internal.en.txt",
                include_str!("../../../templates/email/internal.en.txt"),
            ),
            (
                "users.fr.txt",
                include_str!("../../../templates/email/users.fr.txt"),
            ),
            (
                "users.en.txt",
                include_str!("../../../templates/email/users.en.txt"),
            ),
            (
                "layout.html",
                include_str!("../../../templates/email/layout.html"),
            ),
        ];
        if let Err(e) = tera.add_raw_templates(templates) {
            // The templates are compiled in and tested: this is a programming error.
            tracing::error!(error = %e, "email templates");
        }
        tera
    })
}

/// What the templates are filled with; `None`: not known (shown as missing).
#[derive(Debug, Clone, Default)]
pub struct EmailFacts {
    pub application: String,
    pub detected_at: Option<DateTime<Utc>>,
    pub restored_at: Option<DateTime<Utc>>,
    pub defective_version: Option<String>,
    pub defective_release: Option<String>,
    pub restored_version: Option<String>,
    pub restored_release: Option<String>,
    pub reason: Option<String>,
    pub database_restored: Option<bool>,
    pub backup_taken_at: Option<DateTime<Utc>>,
    pub state: Option<crate::domain::IncidentState>,
}

/// The incident's facts, from its decision, plan, execution and deployments.
pub async fn facts(pool: &PgPool, incident: i64) -> Result<EmailFacts, AppError> {
    #[derive(sqlx::FromRow)]
    struct IncidentRow {
        environment: String,
        detected_at: DateTime<Utc>,
        decision_reason: Option<String>,
        rollback_type: Option<RollbackType>,
        state: crate::domain::IncidentState,
    }
    #[derive(sqlx::FromRow)]
    struct PlanRow {
        from_release: Option<String>,
        target_release: Option<String>,
        backup_taken_at: Option<DateTime<Utc>>,
        environment_id: uuid::Uuid,
    }
    let row: Option<IncidentRow> = sqlx::query_as(
        "SELECT e.name AS environment, i.detected_at, i.decision_reason, i.rollback_type, i.state
             FROM incidents i JOIN environments e ON e.id = i.environment_id WHERE i.id = $1",
    )
    .bind(incident)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Err(AppError::Refused(Msg::UnknownIncident.into()));
    };
    let mut facts = EmailFacts {
        application: row
            .environment
            .split_whitespace()
            .next()
            .unwrap_or("TaskFlow")
            .to_owned(),
        detected_at: Some(row.detected_at),
        reason: row.decision_reason.filter(|r| !r.trim().is_empty()),
        state: Some(row.state),
        database_restored: row
            .rollback_type
            .map(|t| t == RollbackType::ApplicationDatabase),
        ..EmailFacts::default()
    };
    let plan: Option<PlanRow> = sqlx::query_as(
        "SELECT from_release, target_release, backup_taken_at, environment_id FROM plans
             WHERE incident_id = $1",
    )
    .bind(incident)
    .fetch_optional(pool)
    .await?;
    if let Some(PlanRow {
        from_release: from,
        target_release: to,
        backup_taken_at,
        environment_id: environment,
    }) = plan
    {
        facts.backup_taken_at = backup_taken_at;
        let version = |release: Option<String>| async move {
            match release {
                Some(r) => sqlx::query_scalar::<_, String>(
                    "SELECT version FROM deployments WHERE environment_id = $1 AND release = $2",
                )
                .bind(environment)
                .bind(r)
                .fetch_optional(pool)
                .await,
                None => Ok(None),
            }
        };
        facts.defective_version = version(from.clone()).await?;
        facts.restored_version = version(to.clone()).await?;
        facts.defective_release = from;
        facts.restored_release = to;
    }
    facts.restored_at = sqlx::query_scalar(
        "SELECT finished_at FROM executions WHERE incident_id = $1 AND status IN ('succeeded', 'succeeded_with_skips')
         ORDER BY id DESC LIMIT 1",
    )
    .bind(incident)
    .fetch_optional(pool)
    .await?
    .flatten();
    Ok(facts)
}

fn missing(lang: Lang, what: &str) -> String {
    match lang {
        Lang::Fr => format!("[manquant : {what}]"),
        Lang::En => format!("[missing: {what}]"),
    }
}

fn local(at: DateTime<Utc>, tz: chrono_tz::Tz, lang: Lang) -> String {
    let local = at.with_timezone(&tz);
    match lang {
        Lang::Fr => local.format("%d/%m/%Y à %Hh%M").to_string(),
        Lang::En => local.format("%Y-%m-%d at %H:%M").to_string(),
    }
}

fn version_and_release(
    lang: Lang,
    version: &Option<String>,
    release: &Option<String>,
    what: &str,
) -> String {
    match (version, release) {
        (Some(v), Some(r)) => format!("{v} (release {r})"),
        (None, Some(r)) => format!("release {r}"),
        _ => missing(lang, what),
    }
}

/// Renders `template` in `lang` for the incident: (subject, text body).
pub fn render(
    template: EmailTemplate,
    lang: Lang,
    facts: &EmailFacts,
    tz: chrono_tz::Tz,
    signer: &str,
) -> Result<(String, String), AppError> {
    let fr = lang == Lang::Fr;
    let mut context = tera::Context::new();
    context.insert("application", &facts.application);
    context.insert(
        "restored_at",
        &facts
            .restored_at
            .map(|at| local(at, tz, lang))
            .unwrap_or_else(|| {
                missing(
                    lang,
                    if fr {
                        "heure du rollback"
                    } else {
                        "rollback time"
                    },
                )
            }),
    );
    context.insert(
        "defective",
        &version_and_release(
            lang,
            &facts.defective_version,
            &facts.defective_release,
            if fr {
                "version défectueuse"
            } else {
                "defective version"
            },
        ),
    );
    context.insert(
        "restored",
        &version_and_release(
            lang,
            &facts.restored_version,
            &facts.restored_release,
            if fr {
                "version restaurée"
            } else {
                "restored version"
            },
        ),
    );
    context.insert(
        "reason",
        &facts
            .reason
            .clone()
            .unwrap_or_else(|| missing(lang, if fr { "raison" } else { "reason" })),
    );
    let since = facts.backup_taken_at.map(|at| local(at, tz, lang));
    let (impact, data_loss, data_statement) = match (facts.database_restored, fr) {
        (Some(false), true) => (
            "Aucune perte de données (rollback applicatif uniquement)".to_owned(),
            "Non".to_owned(),
            "Aucune donnée n'a été perdue.".to_owned(),
        ),
        (Some(false), false) => (
            "No data lost (application rollback only)".to_owned(),
            "No".to_owned(),
            "No data was lost.".to_owned(),
        ),
        (Some(true), true) => {
            let since = since
                .clone()
                .unwrap_or_else(|| missing(lang, "heure de la sauvegarde"));
            (
                format!("Base de données restaurée : les données modifiées depuis le {since} sont perdues"),
                format!("Oui, depuis le {since}"),
                format!("Les données enregistrées depuis le {since} ont été perdues."),
            )
        }
        (Some(true), false) => {
            let since = since
                .clone()
                .unwrap_or_else(|| missing(lang, "backup time"));
            (
                format!("Database restored: data changed since {since} is lost"),
                format!("Yes, since {since}"),
                format!("Data recorded since {since} was lost."),
            )
        }
        (None, _) => {
            let m = missing(
                lang,
                if fr {
                    "type de rollback"
                } else {
                    "rollback type"
                },
            );
            (m.clone(), m.clone(), m)
        }
    };
    context.insert("impact", &impact);
    context.insert("data_loss", &data_loss);
    context.insert("data_statement", &data_statement);
    let downtime = match (facts.detected_at, facts.restored_at) {
        (Some(from), Some(to)) => duration_text(lang, (to - from).num_minutes().max(0)),
        _ => missing(
            lang,
            if fr {
                "durée d'indisponibilité"
            } else {
                "downtime"
            },
        ),
    };
    context.insert("downtime", &downtime);
    context.insert(
        "status",
        &facts
            .state
            .map(|s| Msg::state(s).text(lang).to_owned())
            .unwrap_or_else(|| missing(lang, "statut")),
    );
    context.insert("signer", signer);
    let window = match (facts.detected_at, facts.restored_at) {
        (Some(from), Some(to)) => {
            crate::i18n::time_range(lang, &from.with_timezone(&tz), &to.with_timezone(&tz))
        }
        _ => missing(
            lang,
            if fr {
                "période de l'incident"
            } else {
                "incident window"
            },
        ),
    };
    context.insert("window", &window);
    let name = format!("{}.{}.txt", template.as_str(), lang.code());
    let text = tera()
        .render(&name, &context)
        .map_err(|e| AppError::Internal(format!("template {name}: {e}")))?;
    let (subject, body) = text.split_once('\n').unwrap_or((&text, ""));
    Ok((
        subject.trim().to_owned(),
        body.trim_start_matches('\n').to_owned(),
    ))
}

/// The HTML part of a text body: its paragraphs and lines, every value escaped.
pub fn html(lang: Lang, subject: &str, body: &str) -> Result<String, AppError> {
    let paragraphs: Vec<Vec<&str>> = body
        .split("\n\n")
        .map(|p| p.lines().collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();
    let mut context = tera::Context::new();
    context.insert("lang", lang.code());
    context.insert("subject", subject);
    context.insert("paragraphs", &paragraphs);
    tera()
        .render("layout.html", &context)
        .map_err(|e| AppError::Internal(format!("template layout.html: {e}")))
}

/// Writes an email (its HTML part rendered from the text) and one outbox row per recipient,
/// in the caller's transaction. `sender` is `None` for the system's own emails.
async fn enqueue(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    incident: i64,
    template: &str,
    lang: Lang,
    (subject, body): (&str, &str),
    sender: Option<uuid::Uuid>,
    recipients: &[String],
) -> Result<i64, AppError> {
    let html = html(lang, subject, body)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO email_sends (incident_id, template, lang, subject, body_text, body_html, sent_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(incident)
    .bind(template)
    .bind(lang.code())
    .bind(subject)
    .bind(body)
    .bind(&html)
    .bind(sender)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO outbox (send_id, recipient, message_id)
         SELECT $1, r, gen_random_uuid()::text || '@rollback-desk' FROM unnest($2::text[]) AS r",
    )
    .bind(id)
    .bind(recipients)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// What a send asks for, as typed.
pub struct NewSend<'a> {
    pub template: EmailTemplate,
    pub lang: Lang,
    pub subject: &'a str,
    pub body: &'a str,
    /// The team: active users holding one of these roles, and the §10.1 contacts with one.
    pub roles: Vec<Role>,
    /// Affected users: pasted addresses (or CSV).
    pub users: &'a str,
    /// And an uploaded list of this incident.
    pub list: Option<i64>,
}

/// What a send queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub recipients: usize,
    pub list: RecipientList,
}

/// Queues the email for every recipient, in one transaction with its event.
pub async fn send(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    new: &NewSend<'_>,
) -> Result<Queued, AppError> {
    send_once(pool, actor, incident, new, None).await
}

/// [`send`], from a form carrying the one-time token `once`: a repeat of the same form (a
/// double click) queues nothing and shows what the first queued.
pub async fn send_once(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    new: &NewSend<'_>,
    once: Option<&str>,
) -> Result<Queued, AppError> {
    if !actor.roles.may_decide_rollback() {
        return Err(AppError::Refused(Msg::OnlyDecidersMaySend.into()));
    }
    let subject = new.subject.trim();
    let mut errors = crate::backend::error::FieldErrors::default();
    errors.check(
        "subject",
        (!subject.is_empty() && subject.chars().count() <= 300).then_some(()),
        Msg::SubjectRequired,
    );
    errors.check(
        "body",
        (!new.body.trim().is_empty() && new.body.len() <= 100_000).then_some(()),
        Msg::BodyRequired,
    );
    let list = RecipientList::parse(new.users);
    errors.into_result()?;
    let mut tx = pool.begin().await?;
    super::submissions::claim(&mut tx, once, actor.id, "send_email").await?;
    transitions::lock(&mut tx, incident).await?;
    let roles: Vec<&str> = new.roles.iter().map(|r| r.as_str()).collect();
    // The team by role: the accounts holding a chosen role and the §10.1 contacts with it.
    let team: Vec<String> = sqlx::query_scalar(
        "SELECT email FROM users WHERE active AND roles && $1::text[]
         UNION SELECT email FROM contacts WHERE role = ANY($1::text[])
         ORDER BY 1",
    )
    .bind(&roles)
    .fetch_all(&mut *tx)
    .await?;
    let uploaded: Vec<String> = match new.list {
        Some(id) => sqlx::query_scalar::<_, Vec<String>>(
            "SELECT addresses FROM recipient_lists WHERE id = $1 AND incident_id = $2",
        )
        .bind(id)
        .bind(incident)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::field("users", Msg::NoRecipients))?,
        None => Vec::new(),
    };
    let mut seen = std::collections::BTreeSet::new();
    let recipients: Vec<String> = team
        .into_iter()
        .chain(list.valid.iter().cloned())
        .chain(uploaded)
        .filter(|a| seen.insert(a.to_lowercase()))
        .collect();
    if recipients.is_empty() {
        return Err(AppError::field("users", Msg::NoRecipients));
    }
    let id = enqueue(
        &mut tx,
        incident,
        new.template.as_str(),
        new.lang,
        (subject, new.body),
        Some(actor.id),
        &recipients,
    )
    .await?;
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        Event::EmailQueued {
            send: id,
            template: new.template,
            lang: new.lang.code().to_owned(),
            subject: subject.to_owned(),
            recipients: recipients.len(),
        },
    )
    .await?;
    if new.template == crate::domain::email::EmailTemplate::Internal {
        transitions::record_communication(
            &mut tx,
            incident,
            actor,
            &format!("{subject} ({} recipients)", recipients.len()),
        )
        .await?;
    }
    super::submissions::settle(
        &mut tx,
        once,
        &format!(
            "/incidents/{incident}/emails?template={}&lang={}",
            new.template.as_str(),
            new.lang.code()
        ),
        &Text::with(Msg::EmailQueued, recipients.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(Queued {
        id,
        recipients: recipients.len(),
        list,
    })
}

/// An uploaded list of the incident, for the compose page.
pub async fn uploaded_list(
    pool: &PgPool,
    incident: i64,
    id: i64,
) -> Result<Option<crate::records::UploadedList>, AppError> {
    #[derive(sqlx::FromRow)]
    struct ListRow {
        file_name: String,
        count: i32,
        #[sqlx(json)]
        bad_lines: Vec<(usize, String)>,
        bad_count: i32,
        duplicates: i32,
        truncated: bool,
    }
    let row: Option<ListRow> = sqlx::query_as(
        "SELECT file_name, cardinality(addresses) AS count, bad_lines, bad_count, duplicates,
                truncated
         FROM recipient_lists WHERE id = $1 AND incident_id = $2",
    )
    .bind(id)
    .bind(incident)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| crate::records::UploadedList {
        id,
        file_name: row.file_name,
        count: row.count as usize,
        bad: row.bad_lines.into_iter().take(20).collect(),
        bad_count: row.bad_count as usize,
        duplicates: row.duplicates as usize,
        truncated: row.truncated,
    }))
}

/// The incident's sends with their delivery progress, newest first.
pub async fn progress(pool: &PgPool, incident: i64) -> Result<Vec<EmailSendRecord>, AppError> {
    Ok(sqlx::query_as::<_, EmailSendRecord>(
        "SELECT s.id, s.template, s.subject, s.created_at AS at, u.name AS by,
                    count(*) FILTER (WHERE o.status = 'sent') AS sent,
                    count(*) FILTER (WHERE o.status = 'failed') AS failed,
                    count(*) FILTER (WHERE o.status = 'bounced') AS bounced,
                    count(*) FILTER (WHERE o.status IN ('pending', 'sending')) AS pending
             FROM email_sends s LEFT JOIN users u ON u.id = s.sent_by
             JOIN outbox o ON o.send_id = s.id
             WHERE s.incident_id = $1 GROUP BY s.id, u.name ORDER BY s.id DESC",
    )
    .bind(incident)
    .fetch_all(pool)
    .await?)
}

/// The automatic emails (issue 6 §6): each is written in every recipient's own language and
/// time zone, and queued in the transaction of the action that causes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automatic {
    /// A plan waits for approvals: to the §2.2 roles, the requester excepted.
    ApprovalRequested { requester: uuid::Uuid },
    /// The decision deadline passed (§2.2): to the §2.2 roles, who escalate.
    DeadlinePassed,
    /// An execution stopped at a failed step (from 1).
    ExecutionFailed { step: usize },
    /// A §6.3 monitoring check (from 1) failed.
    MonitoringCheckFailed { slot: i32 },
    /// The post-mortem meeting (§8.1) is due within hours and the post-mortem is not
    /// finalized: to its participants, the tech lead and the project manager.
    PostMortemDueSoon,
}

impl Automatic {
    fn name(self) -> &'static str {
        match self {
            Automatic::ApprovalRequested { .. } => "approval_requested",
            Automatic::DeadlinePassed => "deadline_passed",
            Automatic::ExecutionFailed { .. } => "execution_failed",
            Automatic::MonitoringCheckFailed { .. } => "monitoring_check_failed",
            Automatic::PostMortemDueSoon => "post_mortem_due",
        }
    }

    /// The page where the person acts on it.
    fn page(self, id: i64) -> String {
        match self {
            Automatic::ApprovalRequested { .. } => format!("/incidents/{id}/plan"),
            Automatic::DeadlinePassed => format!("/incidents/{id}"),
            Automatic::ExecutionFailed { .. } => format!("/incidents/{id}/execution"),
            Automatic::MonitoringCheckFailed { .. } => format!("/incidents/{id}/verification"),
            Automatic::PostMortemDueSoon => format!("/incidents/{id}/post-mortem"),
        }
    }

    /// Subject and body; `link` is the absolute address of [`Automatic::page`].
    fn texts(
        self,
        lang: Lang,
        id: i64,
        title: &str,
        detected: &str,
        link: &str,
    ) -> (String, String) {
        let fr = lang == Lang::Fr;
        match (self, fr) {
            (Automatic::ApprovalRequested { .. }, true) => (
                format!("[APPROBATION] Plan de rollback de l'incident #{id} à approuver"),
                format!("Bonjour,\n\nLe plan de rollback de l'incident #{id} « {title} » attend votre approbation (§5.1 : deux personnes).\n\nLisez-le avant d'approuver ou de rejeter : {link}\n\nRollback Desk"),
            ),
            (Automatic::ApprovalRequested { .. }, false) => (
                format!("[APPROVAL] Rollback plan of incident #{id} to approve"),
                format!("Hello,\n\nThe rollback plan of incident #{id} \"{title}\" waits for your approval (§5.1: two people).\n\nRead it before approving or rejecting it: {link}\n\nRollback Desk"),
            ),
            (Automatic::DeadlinePassed, true) => (
                format!("[RETARD] Incident #{id} : pas de décision dans les 30 minutes"),
                format!("Bonjour,\n\nL'incident #{id} « {title} », détecté le {detected}, n'a pas de décision 30 minutes après sa détection (§2.2).\n\nMerci de décider sans attendre, rollback ou correctif : {link}\n\nRollback Desk"),
            ),
            (Automatic::DeadlinePassed, false) => (
                format!("[OVERDUE] Incident #{id}: no decision within 30 minutes"),
                format!("Hello,\n\nIncident #{id} \"{title}\", detected on {detected}, has no decision 30 minutes after its detection (§2.2).\n\nPlease decide now, rollback or fix forward: {link}\n\nRollback Desk"),
            ),
            (Automatic::ExecutionFailed { step }, true) => (
                format!("[ÉCHEC] Le rollback de l'incident #{id} a échoué à l'étape {step}"),
                format!("Bonjour,\n\nL'exécution du plan de rollback de l'incident #{id} « {title} » s'est arrêtée à l'étape {step} : rien après elle n'a été exécuté.\n\nÀ faire : relancer l'étape, reprendre plus loin ou abandonner — {link}\n\nRollback Desk"),
            ),
            (Automatic::ExecutionFailed { step }, false) => (
                format!("[FAILED] The rollback of incident #{id} failed at step {step}"),
                format!("Hello,\n\nThe execution of the rollback plan of incident #{id} \"{title}\" stopped at step {step}: nothing after it ran.\n\nTo do: retry the step, resume further on, or abort — {link}\n\nRollback Desk"),
            ),
            (Automatic::MonitoringCheckFailed { slot }, true) => (
                format!("[ALERTE] Incident #{id} : le contrôle de surveillance n° {slot} a échoué"),
                format!("Bonjour,\n\nPendant la surveillance de 2 heures qui suit le rollback de l'incident #{id} « {title} » (§6.3), le contrôle automatique n° {slot} a échoué.\n\nLe détail (URL, temps de réponse, base de données, logs), à regarder sans attendre : {link}\n\nRollback Desk"),
            ),
            (Automatic::PostMortemDueSoon, true) => (
                format!("[POST-MORTEM] Incident #{id} : la réunion est due dans moins de 12 heures"),
                format!("Bonjour,\n\nLe post-mortem du rollback de l'incident #{id} « {title} » doit être tenu dans les 48 heures qui suivent le rollback (§8.1) : il reste moins de 12 heures, et il n'est pas finalisé.\n\nParticipants, chronologie, cause racine, actions correctives : {link}\n\nRollback Desk"),
            ),
            (Automatic::PostMortemDueSoon, false) => (
                format!("[POST-MORTEM] Incident #{id}: the meeting is due in less than 12 hours"),
                format!("Hello,\n\nThe post-mortem of the rollback of incident #{id} \"{title}\" must be held within 48 hours of the rollback (§8.1): less than 12 hours are left, and it is not finalized.\n\nParticipants, timeline, root cause, corrective actions: {link}\n\nRollback Desk"),
            ),
            (Automatic::MonitoringCheckFailed { slot }, false) => (
                format!("[ALERT] Incident #{id}: monitoring check {slot} failed"),
                format!("Hello,\n\nDuring the 2-hour monitoring that follows the rollback of incident #{id} \"{title}\" (§6.3), automatic check {slot} failed.\n\nThe details (URL, response time, database, logs), to look at now: {link}\n\nRollback Desk"),
            ),
        }
    }
}

/// Queues an automatic email about `incident` to the active accounts holding a §2.2 role (for
/// a post-mortem reminder: its participants, the tech lead and the project manager), in the
/// caller's transaction. Returns how many recipients.
pub async fn notify(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    incident: i64,
    what: Automatic,
) -> Result<usize, AppError> {
    let (title, detected_at): (String, DateTime<Utc>) =
        sqlx::query_as("SELECT title, detected_at FROM incidents WHERE id = $1")
            .bind(incident)
            .fetch_one(&mut **tx)
            .await?;
    let except = match what {
        Automatic::ApprovalRequested { requester } => Some(requester),
        _ => None,
    };
    let (roles, participants): (Vec<&str>, Vec<uuid::Uuid>) = match what {
        Automatic::PostMortemDueSoon => {
            let content: Option<serde_json::Value> =
                sqlx::query_scalar("SELECT content FROM post_mortems WHERE incident_id = $1")
                    .bind(incident)
                    .fetch_optional(&mut **tx)
                    .await?;
            let participants = content
                .and_then(|c| {
                    serde_json::from_value::<crate::domain::post_mortem::PostMortemContent>(c).ok()
                })
                .map(|c| c.participants.into_values().collect())
                .unwrap_or_default();
            (
                vec![Role::TechLead.as_str(), Role::ProjectManager.as_str()],
                participants,
            )
        }
        _ => (
            Role::ROLLBACK_DECIDERS.iter().map(|r| r.as_str()).collect(),
            Vec::new(),
        ),
    };
    let people: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT email, language, time_zone FROM users
         WHERE active AND (roles && $1::text[] OR id = ANY($3)) AND id IS DISTINCT FROM $2
         ORDER BY email",
    )
    .bind(&roles)
    .bind(except)
    .bind(&participants)
    .fetch_all(&mut **tx)
    .await?;
    let mut groups: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    let mut known: std::collections::HashSet<String> =
        people.iter().map(|(e, _, _)| e.to_lowercase()).collect();
    for (email, language, tz) in people {
        groups.entry((language, tz)).or_default().push(email);
    }
    // Alerts also reach whoever is on call now (§10.2), in the procedure's language.
    if matches!(
        what,
        Automatic::DeadlinePassed | Automatic::MonitoringCheckFailed { .. }
    ) {
        let on_call = super::contacts::shifts(&mut **tx, Utc::now(), true).await?;
        for email in on_call.into_iter().map(|s| s.email) {
            if known.insert(email.to_lowercase()) {
                groups
                    .entry(("fr".to_owned(), "Europe/Paris".to_owned()))
                    .or_default()
                    .push(email);
            }
        }
    }
    // Absolute links: the address users reach the app at, recorded at start (`public_url`,
    // else the address it listens on).
    let link = format!(
        "{}{}",
        super::settings::public_base(&mut **tx).await?,
        what.page(incident)
    );
    let mut total = 0;
    for ((language, tz), recipients) in groups {
        let lang = Lang::parse(&language).unwrap_or_default();
        let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Europe::Paris);
        let detected = local(detected_at, tz, lang);
        let (subject, body) = what.texts(lang, incident, &title, &detected, &link);
        enqueue(
            tx,
            incident,
            what.name(),
            lang,
            (&subject, &body),
            None,
            &recipients,
        )
        .await?;
        total += recipients.len();
    }
    Ok(total)
}

/// Sends with messages that were not delivered (failed or bounced), per incident, the newest
/// first: all (the dashboard, at most 20) or one incident's.
pub async fn undelivered(
    pool: &PgPool,
    incident: Option<i64>,
) -> Result<Vec<crate::records::UndeliveredRecord>, AppError> {
    Ok(sqlx::query_as(
        "SELECT s.incident_id AS incident, COALESCE(i.title, '') AS title, count(*) AS count
         FROM outbox o JOIN email_sends s ON s.id = o.send_id
         LEFT JOIN incidents i ON i.id = s.incident_id
         WHERE o.status IN ('failed', 'bounced') AND ($1::bigint IS NULL OR s.incident_id = $1)
         GROUP BY s.incident_id, i.title
         ORDER BY max(o.id) DESC LIMIT 20",
    )
    .bind(incident)
    .fetch_all(pool)
    .await?)
}

/// The incident's messages that were not delivered, with the reason (the first 200).
pub async fn undelivered_messages(
    pool: &PgPool,
    incident: i64,
) -> Result<Vec<crate::records::UndeliveredMessage>, AppError> {
    Ok(sqlx::query_as(
        "SELECT o.id, s.subject, o.recipient, o.status, COALESCE(o.last_error, '') AS reason,
                o.attempts
         FROM outbox o JOIN email_sends s ON s.id = o.send_id
         WHERE s.incident_id = $1 AND o.status IN ('failed', 'bounced')
         ORDER BY o.id LIMIT 200",
    )
    .bind(incident)
    .fetch_all(pool)
    .await?)
}

/// Queues the incident's undelivered messages again (all, or the one `message`), each with
/// its Message-ID, for a new retry window. Recorded on the timeline. Returns how many.
pub async fn resend(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    message: Option<i64>,
) -> Result<u64, AppError> {
    if !actor.roles.may_decide_rollback() {
        return Err(AppError::Refused(Msg::OnlyDecidersMaySend.into()));
    }
    let mut tx = pool.begin().await?;
    transitions::lock(&mut tx, incident).await?;
    let resent: Vec<String> = sqlx::query_scalar(
        "UPDATE outbox o SET status = 'pending', attempts = 0, next_attempt_at = now(),
             created_at = now(), locked_until = NULL, locked_by = NULL
         FROM email_sends s
         WHERE s.id = o.send_id AND s.incident_id = $1 AND o.status IN ('failed', 'bounced')
           AND ($2::bigint IS NULL OR o.id = $2)
         RETURNING o.recipient",
    )
    .bind(incident)
    .bind(message)
    .fetch_all(&mut *tx)
    .await?;
    if resent.is_empty() {
        return Err(AppError::Refused(Msg::NothingToResend.into()));
    }
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        Event::EmailResent {
            count: resent.len(),
            recipients: resent.iter().take(20).cloned().collect(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(resent.len() as u64)
}
