//! Post-mortems (§8), stored: created when a rollback ends with its chronology pre-filled from
//! the incident's events, saved as revisions (a stale save is refused), finalized (which
//! closes the resolved incident), exported as Markdown with a Tera template.
use super::AppError;
use crate::backend::timeline::{self, Event};
use crate::backend::transitions;
use crate::domain::execution::ExecutionStatus;
use crate::domain::lifecycle::{self, Action};
use crate::domain::post_mortem::{
    check_meeting, due_at, MeetingProblem, Participant, PostMortemContent,
};
use crate::domain::{Role, RollbackType};
use crate::i18n::{Lang, Msg, Text};
use crate::records::{CorrectiveActionRecord, PersonChoice, PostMortemRecord, PostMortemSummary};
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::OnceLock;
use uuid::Uuid;

/// `at` in the environment's time zone for the §8.3 chronology: the procedure writes HH:MM,
/// with the date in front since a deployment, a detection and a rollback may fall on
/// different days (a chronology of bare times across midnight reads backwards).
fn stamp(at: DateTime<Utc>, tz: &str) -> String {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Europe::Paris);
    at.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string()
}

/// What the post-mortem's first draft is written from.
#[derive(sqlx::FromRow)]
struct IncidentFacts {
    detected_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    decision_reason: Option<String>,
    title: String,
    rollback_type: Option<RollbackType>,
    time_zone: String,
    suspect_release: String,
}

/// The execution that ended the rollback.
#[derive(sqlx::FromRow)]
struct EndedExecution {
    id: i64,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    status: ExecutionStatus,
}

/// The rollback ended (the execution succeeded): the post-mortem is created, due 48 hours
/// later, its chronology and impact pre-filled from what the incident recorded.
pub(crate) async fn create(
    tx: &mut Transaction<'_, Postgres>,
    incident: i64,
) -> Result<(), AppError> {
    let IncidentFacts {
        detected_at: detected,
        decided_at: decided,
        decision_reason: reason,
        title,
        rollback_type: rollback,
        time_zone: tz,
        suspect_release: suspect,
    } = sqlx::query_as(
        "SELECT i.detected_at, i.decided_at, i.decision_reason, i.title, i.rollback_type,
                e.time_zone, i.suspect_release
         FROM incidents i JOIN environments e ON e.id = i.environment_id WHERE i.id = $1",
    )
    .bind(incident)
    .fetch_one(&mut **tx)
    .await?;
    let EndedExecution {
        id: execution,
        started_at: started,
        finished_at: ended,
        status,
    } = sqlx::query_as(
        "SELECT id, started_at, finished_at, status FROM executions
         WHERE incident_id = $1 AND status IN ('succeeded', 'succeeded_with_skips')
         ORDER BY finished_at DESC LIMIT 1",
    )
    .bind(incident)
    .fetch_one(&mut **tx)
    .await?;
    // Steps a person skipped are part of the story: never silent.
    let skipped: Vec<i32> = if status == ExecutionStatus::SucceededWithSkips {
        sqlx::query_scalar(
            "SELECT position + 1 FROM (
                 SELECT DISTINCT ON (position) position, status FROM execution_steps
                 WHERE execution_id = $1 ORDER BY position, attempt DESC) latest
             WHERE status = 'skipped' ORDER BY position",
        )
        .bind(execution)
        .fetch_all(&mut **tx)
        .await?
    } else {
        Vec::new()
    };
    let ended = ended.unwrap_or_else(Utc::now);
    // The deployment that is being rolled back: the plan's "from" release.
    let deployment: Option<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT d.version, d.deployed_at FROM plans p
         JOIN deployments d ON d.environment_id = p.environment_id AND d.release = p.from_release
         WHERE p.incident_id = $1 ORDER BY d.deployed_at DESC LIMIT 1",
    )
    .bind(incident)
    .fetch_optional(&mut **tx)
    .await?;
    let mut chronology = Vec::new();
    match &deployment {
        Some((version, at)) => chronology.push(format!(
            "{} - Déploiement de la version {version}",
            stamp(*at, &tz)
        )),
        None if !suspect.is_empty() => chronology.push(format!(
            "--/--/---- --:-- - Déploiement de la release {suspect}"
        )),
        None => {}
    }
    chronology.push(format!("{} - Détection du problème", stamp(detected, &tz)));
    if let Some(at) = decided {
        chronology.push(format!("{} - Décision de rollback", stamp(at, &tz)));
    }
    if let Some(at) = started {
        chronology.push(format!("{} - Début du rollback", stamp(at, &tz)));
    }
    chronology.push(if skipped.is_empty() {
        format!("{} - Fin du rollback", stamp(ended, &tz))
    } else {
        format!(
            "{} - Fin du rollback (étapes sautées : {})",
            stamp(ended, &tz),
            skipped
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    // §8.1's four participants, pre-filled: the tech lead (the one who decided, if a tech
    // lead did), the deployer from the deployment record, a QA, the project manager (the one
    // who decided, if…). The organizers change them on the page.
    let prefill: (Option<Uuid>, Option<Uuid>, Option<Uuid>, Option<Uuid>) = sqlx::query_as(
        "SELECT
           (SELECT u.id FROM users u WHERE u.active AND 'tech_lead' = ANY(u.roles)
            ORDER BY u.id = i.decided_by DESC, u.name LIMIT 1),
           (SELECT u.id FROM plans p
            JOIN deployments d ON d.environment_id = p.environment_id AND d.release = p.from_release
            JOIN users u ON u.id = d.recorded_by
            WHERE p.incident_id = i.id AND u.active AND u.roles && $2
            ORDER BY d.deployed_at DESC LIMIT 1),
           (SELECT u.id FROM users u WHERE u.active AND 'qa' = ANY(u.roles)
            ORDER BY u.name LIMIT 1),
           (SELECT u.id FROM users u WHERE u.active AND 'project_manager' = ANY(u.roles)
            ORDER BY u.id = i.decided_by DESC, u.name LIMIT 1)
         FROM incidents i WHERE i.id = $1",
    )
    .bind(incident)
    .bind(
        Participant::Deployer
            .roles()
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>(),
    )
    .fetch_one(&mut **tx)
    .await?;
    let participants = [
        (Participant::TechLead, prefill.0),
        (Participant::Deployer, prefill.1),
        (Participant::Qa, prefill.2),
        (Participant::ProjectManager, prefill.3),
    ]
    .into_iter()
    .filter_map(|(p, id)| id.map(|id| (p.as_str().to_owned(), id)))
    .collect();
    let content = PostMortemContent {
        participants,
        summary: format!("{title}. {}", reason.unwrap_or_default())
            .trim()
            .to_owned(),
        chronology: chronology.join("\n"),
        duration_minutes: Some(ended.signed_duration_since(detected).num_minutes().max(0)),
        data_loss: rollback == Some(RollbackType::ApplicationDatabase),
        ..PostMortemContent::default()
    };
    let content = json!(content);
    let created = sqlx::query(
        "INSERT INTO post_mortems (incident_id, created_at, due_at, content, saved_at)
         VALUES ($1, $2, $3, $4, $2) ON CONFLICT (incident_id) DO NOTHING",
    )
    .bind(incident)
    .bind(ended)
    .bind(due_at(ended))
    .bind(&content)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if created == 1 {
        sqlx::query(
            "INSERT INTO post_mortem_revisions (incident_id, revision, content, saved_at)
             VALUES ($1, 1, $2, $3)",
        )
        .bind(incident)
        .bind(&content)
        .bind(ended)
        .execute(&mut **tx)
        .await?;
        timeline::append(
            tx,
            incident,
            None,
            Event::PostMortemCreated {
                due_at: due_at(ended),
            },
        )
        .await?;
    }
    Ok(())
}

/// Verification done (§6.1 complete): the chronology gains its last line, unless people have
/// already edited it.
pub(crate) async fn verified(
    tx: &mut Transaction<'_, Postgres>,
    incident: i64,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    #[derive(sqlx::FromRow)]
    struct Draft {
        #[sqlx(json)]
        content: PostMortemContent,
        time_zone: String,
    }
    let draft: Option<Draft> = sqlx::query_as(
        "SELECT p.content, e.time_zone FROM post_mortems p
         JOIN incidents i ON i.id = p.incident_id JOIN environments e ON e.id = i.environment_id
         WHERE p.incident_id = $1 AND p.revision = 1 AND p.saved_by IS NULL FOR UPDATE OF p",
    )
    .bind(incident)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(Draft {
        mut content,
        time_zone: tz,
    }) = draft
    else {
        return Ok(());
    };
    content.chronology.push_str(&format!(
        "\n{} - Vérification et validation",
        stamp(at, &tz)
    ));
    sqlx::query("UPDATE post_mortems SET content = $2 WHERE incident_id = $1")
        .bind(incident)
        .bind(json!(content))
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE post_mortem_revisions SET content = $2 WHERE incident_id = $1 AND revision = 1",
    )
    .bind(incident)
    .bind(json!(content))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The tech lead and the project manager organize the post-mortem (§8.1): only they choose
/// who takes part.
pub fn organizes(actor: &SignedInUser) -> bool {
    lifecycle::may_act(&actor.roles)
        && (actor.roles.contains(Role::TechLead) || actor.roles.contains(Role::ProjectManager))
}

/// Who may edit: the participants as stored, and the organizers (DESIGN: "edit post-mortems
/// they take part in"); never a read-only account. Always judged on the stored content, never
/// on a posted one, or naming oneself in the form would be enough.
fn may_edit(actor: &SignedInUser, stored: &PostMortemContent) -> bool {
    lifecycle::may_act(&actor.roles)
        && (organizes(actor) || stored.participants.values().any(|id| *id == actor.id))
}

pub fn may_edit_record(actor: &SignedInUser, record: &PostMortemRecord) -> bool {
    record.finalized_at.is_none() && may_edit(actor, &record.content)
}

/// Saves `content` over revision `from`. If someone saved since, nothing is written and the
/// refusal names them: the page shows their version beside what this user typed.
pub async fn save(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    from: i32,
    content: &PostMortemContent,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let mut tx = pool.begin().await?;
    let row: Option<StoredPostMortem> = sqlx::query_as(
        "SELECT p.revision, p.content, p.finalized_at, u.name AS saved_by, p.saved_at
             FROM post_mortems p LEFT JOIN users u ON u.id = p.saved_by
             WHERE p.incident_id = $1 FOR UPDATE OF p",
    )
    .bind(incident)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(StoredPostMortem {
        revision,
        content: stored,
        finalized_at: finalized,
        saved_by,
        saved_at,
    }) = row
    else {
        return Err(AppError::Refused(Msg::NoPostMortem.into()));
    };
    if finalized.is_some() {
        return Err(AppError::Refused(Msg::PostMortemFinalized.into()));
    }
    if !may_edit(actor, &stored) {
        return Err(AppError::Refused(Msg::NotAParticipant.into()));
    }
    if content.participants != stored.participants && !organizes(actor) {
        return Err(AppError::Refused(
            Msg::OnlyOrganizersChooseParticipants.into(),
        ));
    }
    if revision != from {
        return Err(AppError::Refused(Text::with_moment(
            Msg::PostMortemConflict,
            format!("{} ({{at}})", saved_by.unwrap_or_default()),
            saved_at,
        )));
    }
    let created: DateTime<Utc> =
        sqlx::query_scalar("SELECT created_at FROM post_mortems WHERE incident_id = $1")
            .bind(incident)
            .fetch_one(&mut *tx)
            .await?;
    if let Some(meeting) = content.meeting_at {
        match check_meeting(created, meeting, &content.meeting_late_reason) {
            Ok(()) => {}
            Err(MeetingProblem::LateWithoutReason) => {
                return Err(AppError::field("meeting_at", Msg::MeetingLate))
            }
            Err(MeetingProblem::BeforeTheRollback) => {
                return Err(AppError::field("meeting_at", Msg::MeetingBeforeRollback))
            }
        }
    }
    let mut chosen: Vec<Uuid> = content.participants.values().copied().collect();
    chosen.extend(content.actions.iter().filter_map(|a| a.owner));
    chosen.sort_unstable();
    chosen.dedup();
    let known: Vec<(Uuid, Vec<String>)> =
        sqlx::query_as("SELECT id, roles FROM users WHERE id = ANY($1)")
            .bind(&chosen)
            .fetch_all(&mut *tx)
            .await?;
    if known.len() != chosen.len() {
        return Err(AppError::Refused(Msg::UnknownPerson.into()));
    }
    // A participant holds the matching role (a forged post naming anyone is refused); one
    // already stored stays acceptable, so a role changed since never blocks a save.
    for participant in Participant::ALL {
        let key = participant.as_str();
        let Some(id) = content.participants.get(key) else {
            continue;
        };
        let unchanged = stored.participants.get(key) == Some(id);
        let admitted = known
            .iter()
            .any(|(k, roles)| k == id && participant.admits(roles));
        if !unchanged && !admitted {
            return Err(AppError::field(
                &format!("participants[{key}]"),
                Msg::ParticipantWrongRole,
            ));
        }
    }
    let next = revision + 1;
    let value = json!(content);
    sqlx::query(
        "UPDATE post_mortems SET revision = $2, content = $3, saved_by = $4, saved_at = $5
         WHERE incident_id = $1",
    )
    .bind(incident)
    .bind(next)
    .bind(&value)
    .bind(actor.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO post_mortem_revisions (incident_id, revision, content, saved_by, saved_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(incident)
    .bind(next)
    .bind(&value)
    .bind(actor.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM corrective_actions WHERE incident_id = $1")
        .bind(incident)
        .execute(&mut *tx)
        .await?;
    for (position, a) in content.actions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO corrective_actions (incident_id, position, action, owner_id, due_on, status)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(incident)
        .bind(position as i32)
        .bind(&a.action)
        .bind(a.owner)
        .bind(a.due_on)
        .bind(a.status.as_str())
        .execute(&mut *tx)
        .await?;
    }
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        Event::PostMortemSaved { revision: next },
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Finalizes the post-mortem (tech lead or project manager): it is locked, and the resolved
/// incident is closed.
pub async fn finalize(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let next = transitions::begin(&mut tx, incident, Action::Close, &actor.roles).await?;
    let finalized = sqlx::query(
        "UPDATE post_mortems SET finalized_at = $2, finalized_by = $3
         WHERE incident_id = $1 AND finalized_at IS NULL",
    )
    .bind(incident)
    .bind(now)
    .bind(actor.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if finalized == 0 {
        return Err(AppError::Refused(Msg::PostMortemFinalized.into()));
    }
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        Event::PostMortemFinalized {},
    )
    .await?;
    transitions::apply(&mut tx, incident, Some(actor.id), next).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn load(pool: &PgPool, incident: i64) -> Result<Option<PostMortemRecord>, AppError> {
    Ok(sqlx::query_as(
        "SELECT p.incident_id, p.created_at, p.due_at, p.revision, p.content,
                s.name AS saved_by, p.saved_at, p.finalized_at, f.name AS finalized_by
         FROM post_mortems p LEFT JOIN users s ON s.id = p.saved_by
         LEFT JOIN users f ON f.id = p.finalized_by WHERE p.incident_id = $1",
    )
    .bind(incident)
    .fetch_optional(pool)
    .await?)
}

/// A post-mortem as `save` finds it, locked.
#[derive(sqlx::FromRow)]
struct StoredPostMortem {
    revision: i32,
    #[sqlx(json)]
    content: PostMortemContent,
    finalized_at: Option<DateTime<Utc>>,
    saved_by: Option<String>,
    saved_at: DateTime<Utc>,
}

/// Rows of the post-mortems and actions lists per page.
pub const PAGE_SIZE: i64 = 50;
/// The highest page asked for.
pub const MAX_PAGE: i64 = 10_000;

/// One page (from 1) of the post-mortems — those still open first, the most urgent (overdue)
/// at the top — and whether more follow. The missing participants are counted in the query
/// (no post-mortem's text is read to list it).
pub async fn list(pool: &PgPool, page: i64) -> Result<(Vec<PostMortemSummary>, bool), AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        incident_id: i64,
        title: String,
        due_at: DateTime<Utc>,
        finalized_at: Option<DateTime<Utc>>,
        missing: i64,
    }
    let names: Vec<&str> = Participant::ALL.iter().map(|p| p.as_str()).collect();
    let page = page.clamp(1, MAX_PAGE);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT p.incident_id, i.title, p.due_at, p.finalized_at,
                (SELECT count(*) FROM unnest($1::text[]) AS n
                 WHERE NOT coalesce(p.content -> 'participants' ? n, false)) AS missing
             FROM (SELECT * FROM post_mortems
                   ORDER BY finalized_at IS NOT NULL, due_at, incident_id
                   LIMIT $2 OFFSET $3) p
             JOIN incidents i ON i.id = p.incident_id
             ORDER BY p.finalized_at IS NOT NULL, p.due_at, p.incident_id",
    )
    .bind(&names)
    .bind(PAGE_SIZE + 1)
    .bind((page - 1) * PAGE_SIZE)
    .fetch_all(pool)
    .await?;
    let (rows, more) = super::one_page(rows, PAGE_SIZE);
    Ok((
        rows.into_iter()
            .map(|row| PostMortemSummary {
                incident_id: row.incident_id,
                title: row.title,
                due_at: row.due_at,
                finalized_at: row.finalized_at,
                missing: usize::try_from(row.missing).unwrap_or_default(),
            })
            .collect(),
        more,
    ))
}

/// One page (from 1) of the open corrective actions (not done), soonest due first; only
/// `owner`'s when given; and whether more follow.
pub async fn open_actions(
    pool: &PgPool,
    owner: Option<Uuid>,
    page: i64,
) -> Result<(Vec<CorrectiveActionRecord>, bool), AppError> {
    let page = page.clamp(1, MAX_PAGE);
    let rows: Vec<CorrectiveActionRecord> = sqlx::query_as(
        "SELECT a.incident_id, i.title AS incident_title, a.action, u.name AS owner, a.due_on,
                a.status
             FROM corrective_actions a JOIN incidents i ON i.id = a.incident_id
             LEFT JOIN users u ON u.id = a.owner_id
             WHERE a.status <> 'done' AND ($1::uuid IS NULL OR a.owner_id = $1)
             ORDER BY a.due_on NULLS LAST, a.incident_id, a.position
             LIMIT $2 OFFSET $3",
    )
    .bind(owner)
    .bind(PAGE_SIZE + 1)
    .bind((page - 1) * PAGE_SIZE)
    .fetch_all(pool)
    .await?;
    Ok(super::one_page(rows, PAGE_SIZE))
}

/// Active accounts, by name, to choose participants and owners from.
pub async fn people(pool: &PgPool) -> Result<Vec<PersonChoice>, AppError> {
    Ok(
        sqlx::query_as("SELECT id, name, roles FROM users WHERE active ORDER BY name")
            .fetch_all(pool)
            .await?,
    )
}

fn tera() -> &'static tera::Tera {
    static TERA: OnceLock<tera::Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = tera::Tera::default();
        // Markdown renderers pass raw HTML through, so every value put in the file has its
        // HTML escaped (`<` → `&lt;`…, which Markdown shows as the character); quotes and
        // slashes are left as typed, they mean nothing outside a tag.
        tera.autoescape_on(vec![".md"]);
        tera.set_escape_fn(escape_html_in_markdown);
        for (name, text) in [
            (
                "post_mortem.fr.md",
                include_str!("../../../templates/post_mortem/post_mortem.fr.md"),
            ),
            (
                "post_mortem.en.md",
                include_str!("../../../templates/post_mortem/post_mortem.en.md"),
            ),
        ] {
            if let Err(e) = tera.add_raw_template(name, text) {
                tracing::error!(error = %e, name, "post-mortem template");
            }
        }
        tera
    })
}

fn escape_html_in_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A table cell: one line, its pipes escaped.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

/// The post-mortem as Markdown in the §8.3 layout, and a file name for it.
pub async fn markdown(
    pool: &PgPool,
    incident: i64,
    lang: Lang,
) -> Result<Option<(String, String)>, AppError> {
    let Some(record) = load(pool, incident).await? else {
        return Ok(None);
    };
    let tz: String = sqlx::query_scalar(
        "SELECT e.time_zone FROM incidents i JOIN environments e ON e.id = i.environment_id
         WHERE i.id = $1",
    )
    .bind(incident)
    .fetch_one(pool)
    .await?;
    let zone: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Europe::Paris);
    let people: std::collections::HashMap<Uuid, String> = people(pool)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let name = |id: &Option<Uuid>| {
        id.and_then(|id| people.get(&id).cloned())
            .unwrap_or_default()
    };
    let c = &record.content;
    let fr = lang == Lang::Fr;
    let actions: Vec<serde_json::Value> = c
        .actions
        .iter()
        .map(|a| {
            json!({
                "action": cell(&a.action),
                "owner": cell(&name(&a.owner)),
                "due": a.due_on.map(|d| if fr { d.format("%d/%m/%Y").to_string() } else { d.to_string() }).unwrap_or_default(),
                "status": Msg::action_status(a.status).text(lang),
            })
        })
        .collect();
    let participants: Vec<serde_json::Value> = crate::domain::post_mortem::Participant::ALL
        .iter()
        .map(|p| {
            json!({
                "role": Msg::participant(*p).text(lang),
                "name": c.participants.get(p.as_str()).and_then(|id| people.get(id)).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let date = record.created_at.with_timezone(&zone);
    let mut context = tera::Context::new();
    context.insert(
        "date",
        &if fr {
            date.format("%d/%m/%Y").to_string()
        } else {
            date.format("%Y-%m-%d").to_string()
        },
    );
    context.insert("summary", &c.summary.trim());
    context.insert(
        "chronology",
        &c.chronology_lines()
            .into_iter()
            .map(|(time, what)| json!({ "time": time, "what": what }))
            .collect::<Vec<_>>(),
    );
    context.insert("root_cause", &c.root_cause.trim());
    context.insert("users_affected", &c.users_affected.trim());
    context.insert(
        "duration",
        &c.duration_minutes
            .map(|m| crate::i18n::duration_text(lang, m))
            .unwrap_or_default(),
    );
    context.insert("data_loss", &c.data_loss);
    context.insert("services", &c.services.trim());
    context.insert(
        "went_well",
        &crate::domain::post_mortem::lines(&c.went_well),
    );
    context.insert(
        "to_improve",
        &crate::domain::post_mortem::lines(&c.to_improve),
    );
    context.insert("actions", &actions);
    context.insert("lessons", &c.lessons.trim());
    context.insert("participants", &participants);
    context.insert(
        "meeting",
        &c.meeting_at
            .map(|m| m.with_timezone(&zone).format("%d/%m/%Y %H:%M").to_string())
            .unwrap_or_default(),
    );
    context.insert("late_reason", &c.meeting_late_reason.trim());
    context.insert("finalized", &record.finalized_at.is_some());
    let template = if fr {
        "post_mortem.fr.md"
    } else {
        "post_mortem.en.md"
    };
    let text = tera()
        .render(template, &context)
        .map_err(|e| AppError::Internal(format!("post-mortem template: {e}")))?;
    Ok(Some((
        format!("post-mortem-incident-{incident}-{}.md", lang.code()),
        text,
    )))
}

/// How long before its due time an unfinalized post-mortem is reminded.
pub const REMIND_HOURS_BEFORE: i64 = 12;

/// Reminds, once each, the post-mortems due within 12 hours of `now` and not finalized.
/// Returns their incidents.
pub async fn remind_due(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<i64>, AppError> {
    let mut tx = pool.begin().await?;
    let due: Vec<i64> = sqlx::query_scalar(
        "UPDATE post_mortems SET reminded_at = $1
         WHERE incident_id IN (
             SELECT incident_id FROM post_mortems
             WHERE finalized_at IS NULL AND reminded_at IS NULL
               AND due_at - make_interval(hours => $2) <= $1
             ORDER BY incident_id FOR UPDATE SKIP LOCKED)
         RETURNING incident_id",
    )
    .bind(now)
    .bind(REMIND_HOURS_BEFORE as i32)
    .fetch_all(&mut *tx)
    .await?;
    for incident in &due {
        super::emails::notify(
            &mut tx,
            *incident,
            super::emails::Automatic::PostMortemDueSoon,
        )
        .await?;
        timeline::append(&mut tx, *incident, None, Event::PostMortemReminded {}).await?;
    }
    tx.commit().await?;
    Ok(due)
}
