//! Incidents: opening, the §2.2 steps, the decision, comments, the overdue watcher. Every
//! change runs in one transaction with its events, after the state machine
//! ([`crate::domain::lifecycle`]) has allowed it.
use crate::backend::timeline::{self, Event};
use crate::backend::transitions;
use crate::backend::AppError;
use crate::domain::lifecycle;
use crate::domain::RollbackType;
use crate::domain::{
    Action, Criterion, Decision, IncidentState, Refusal, Severity, ValidationStep,
};
use crate::i18n::{Msg, Text};
use crate::records::*;
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// What describes an incident and may be edited later.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IncidentFields {
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub suspect_release: String,
    pub criteria: Vec<Criterion>,
    pub criteria_other: String,
}

impl IncidentFields {
    /// Field by field, as stored and logged.
    fn as_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let value = json!({
            "title": self.title, "description": self.description, "severity": self.severity,
            "suspect_release": self.suspect_release, "criteria": self.criteria,
            "criteria_other": self.criteria_other,
        });
        match value {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }
}

pub struct NewIncident {
    pub fields: IncidentFields,
    pub detected_at: DateTime<Utc>,
    pub environment_id: Uuid,
}

/// An action with what the form carried.
pub enum Perform {
    RecordStep { step: ValidationStep, note: String },
    Decide { decision: Decision, reason: String },
    Cancel { reason: String },
    Comment { body: String },
    Edit(IncidentFields),
}

impl Perform {
    fn action(&self) -> Action {
        match self {
            Perform::RecordStep { step, .. } => Action::RecordStep(*step),
            Perform::Decide { decision, .. } => Action::Decide(*decision),
            Perform::Cancel { .. } => Action::Cancel,
            Perform::Comment { .. } => Action::Comment,
            Perform::Edit(_) => Action::Edit,
        }
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> AppError {
        let text = match refusal {
            Refusal::ReadOnly => Text::plain(Msg::ReadOnlyAccount),
            Refusal::NotADecider => Text::plain(Msg::OnlyDecidersMay),
            Refusal::WrongState(state) => Text::with(Msg::NotInThisState, state),
            Refusal::StepsMissing(steps) => Text::with(
                Msg::StepsMissing,
                steps
                    .iter()
                    .map(|s| s.number().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Refusal::AlreadyRecorded(step) => Text::with(Msg::StepAlreadyRecorded, step.number()),
            Refusal::DecisionStepIsTheDecision => Text::plain(Msg::DecisionStepIsTheDecision),
            Refusal::PlanExists => Text::plain(Msg::PlanExists),
            Refusal::NoPlan => Text::plain(Msg::NoPlanYet),
            Refusal::PlanNotReady => Text::plain(Msg::PlanNotReady),
            Refusal::NotAnOrganizer => Text::plain(Msg::OnlyOrganizersFinalize),
        };
        AppError::Refused(text)
    }
}

/// The environment incident `id` is on; `None` for an unknown incident.
pub async fn environment_of(
    conn: impl sqlx::PgExecutor<'_>,
    id: i64,
) -> Result<Option<Uuid>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT environment_id FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn open(pool: &PgPool, actor: &SignedInUser, new: &NewIncident) -> Result<i64, AppError> {
    open_once(pool, actor, new, None).await
}

/// [`open`], from a form carrying the one-time token `once`: a repeat of the same form opens
/// nothing and shows the incident the first opened.
pub async fn open_once(
    pool: &PgPool,
    actor: &SignedInUser,
    new: &NewIncident,
    once: Option<&str>,
) -> Result<i64, AppError> {
    if !lifecycle::may_act(&actor.roles) {
        return Err(Refusal::ReadOnly.into());
    }
    let mut tx = pool.begin().await?;
    super::submissions::claim(&mut tx, once, actor.id, "open_incident").await?;
    let id = insert(&mut tx, new, Some(actor.id)).await?;
    super::submissions::settle(
        &mut tx,
        once,
        &format!("/incidents/{id}"),
        &Text::with(Msg::IncidentOpened, id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Writes a new incident and its `created` event in the caller's transaction; `created_by`
/// `None`: opened by an alert.
pub(crate) async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    new: &NewIncident,
    created_by: Option<Uuid>,
) -> Result<i64, AppError> {
    let environment: Option<String> =
        sqlx::query_scalar("SELECT name FROM environments WHERE id = $1")
            .bind(new.environment_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(environment) = environment else {
        return Err(AppError::field("environment_id", Msg::EnvironmentRequired));
    };
    let fields = &new.fields;
    let criteria: Vec<&str> = fields.criteria.iter().map(|c| c.as_str()).collect();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (title, description, detected_at, severity, environment_id,
                                suspect_release, criteria, criteria_other, created_by, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&fields.title)
    .bind(&fields.description)
    .bind(new.detected_at)
    .bind(fields.severity.as_str())
    .bind(new.environment_id)
    .bind(&fields.suspect_release)
    .bind(&criteria)
    .bind(&fields.criteria_other)
    .bind(created_by)
    .bind(if created_by.is_some() {
        "person"
    } else {
        "alert"
    })
    .fetch_one(&mut **tx)
    .await?;
    let mut details = fields.as_json();
    details.remove("description");
    details.insert("environment".into(), json!(environment));
    details.insert("detected_at".into(), json!(new.detected_at));
    timeline::append(tx, id, created_by, Event::Created(details)).await?;
    Ok(id)
}

/// Takes `action` on incident `id` for `actor`: checked by the state machine against the
/// locked row, applied, and logged, all in one transaction.
pub async fn perform(
    pool: &PgPool,
    actor: &SignedInUser,
    id: i64,
    action: Perform,
) -> Result<IncidentState, AppError> {
    let mut tx = pool.begin().await?;
    let next = transitions::begin(&mut tx, id, action.action(), &actor.roles).await?;

    match &action {
        Perform::RecordStep { step, note } => {
            transitions::record_step(&mut tx, id, actor.id, *step, note).await?;
            timeline::append(
                &mut tx,
                id,
                Some(actor.id),
                Event::StepRecorded {
                    step: *step,
                    number: step.number(),
                    note: note.to_string(),
                },
            )
            .await?;
        }
        Perform::Decide { decision, reason } => {
            let (kind, rollback_type) = match decision {
                Decision::Rollback(t) => ("rollback", Some(*t)),
                Decision::FixForward => ("fix_forward", None),
            };
            sqlx::query(
                "UPDATE incidents SET decision = $2, rollback_type = $3, decision_reason = $4,
                        decided_at = now(), decided_by = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(kind)
            .bind(rollback_type)
            .bind(reason)
            .bind(actor.id)
            .execute(&mut *tx)
            .await?;
            // Taking the decision is step 4 of the validation procedure.
            transitions::record_step(&mut tx, id, actor.id, ValidationStep::Decision, reason)
                .await?;
            timeline::append(
                &mut tx,
                id,
                Some(actor.id),
                Event::Decided {
                    decision: kind.to_owned(),
                    rollback_type,
                    reason: reason.to_string(),
                },
            )
            .await?;
        }
        Perform::Cancel { reason } => {
            timeline::append(
                &mut tx,
                id,
                Some(actor.id),
                Event::Cancelled {
                    reason: reason.to_string(),
                },
            )
            .await?;
        }
        Perform::Edit(fields) => {
            let before = current_fields(&mut tx, id).await?;
            let (old, new) = (before.as_json(), fields.as_json());
            // The event keeps each changed field's before and after.
            let changes: serde_json::Map<String, serde_json::Value> = new
                .iter()
                .filter(|(k, v)| old.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), json!({ "from": old.get(k), "to": v })))
                .collect();
            if !changes.is_empty() {
                let criteria: Vec<&str> = fields.criteria.iter().map(|c| c.as_str()).collect();
                sqlx::query(
                    "UPDATE incidents SET title = $2, description = $3, severity = $4,
                            suspect_release = $5, criteria = $6, criteria_other = $7 WHERE id = $1",
                )
                .bind(id)
                .bind(&fields.title)
                .bind(&fields.description)
                .bind(fields.severity.as_str())
                .bind(&fields.suspect_release)
                .bind(&criteria)
                .bind(&fields.criteria_other)
                .execute(&mut *tx)
                .await?;
                timeline::append(&mut tx, id, Some(actor.id), Event::Edited(changes)).await?;
            }
        }
        Perform::Comment { body } => {
            timeline::append(
                &mut tx,
                id,
                Some(actor.id),
                Event::Commented {
                    body: body.to_string(),
                },
            )
            .await?;
        }
    }
    transitions::apply(&mut tx, id, Some(actor.id), next).await?;
    tx.commit().await?;
    Ok(next.to())
}

async fn current_fields(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
) -> Result<IncidentFields, AppError> {
    Ok(sqlx::query_as(
        "SELECT title, description, severity, suspect_release, criteria, criteria_other
         FROM incidents WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?)
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    title: String,
    // Decoded by their enums: an unknown value fails the read (loud), never a default.
    state: IncidentState,
    severity: Severity,
    environment: String,
    environment_id: Uuid,
    detected_at: DateTime<Utc>,
    monitoring_alert_at: Option<DateTime<Utc>>,
    execution_status: Option<String>,
    execution_next_step: Option<i32>,
    execution_step: Option<sqlx::types::Json<crate::domain::runbook::Step>>,
}

impl SummaryRow {
    fn into_summary(self) -> IncidentSummary {
        IncidentSummary {
            id: self.id,
            title: self.title,
            // The table's CHECK constraints admit only known names.
            state: self.state,
            severity: self.severity,
            environment: self.environment,
            environment_id: self.environment_id,
            detected_at: self.detected_at,
            monitoring_alert_at: self.monitoring_alert_at,
            execution: self
                .execution_status
                .as_deref()
                .and_then(crate::domain::execution::ExecutionStatus::parse),
            execution_step: self.execution_next_step.map(|n| {
                (
                    usize::try_from(n).unwrap_or_default() + 1,
                    self.execution_step.map(|s| s.0.operation),
                )
            }),
            plan: None,
        }
    }
}

/// Fills in the plans' statuses of these summaries (one assessment per plan), so that badges
/// say what the plan page says.
async fn with_plans(
    pool: &PgPool,
    policy: crate::domain::plan::ApprovalPolicy,
    mut summaries: Vec<IncidentSummary>,
) -> Result<Vec<IncidentSummary>, AppError> {
    let ids: Vec<i64> = summaries
        .iter()
        .filter(|s| {
            matches!(
                s.state,
                IncidentState::Decided | IncidentState::AwaitingApproval
            )
        })
        .map(|s| s.id)
        .collect();
    if ids.is_empty() {
        return Ok(summaries);
    }
    let statuses = crate::backend::plans::statuses(pool, policy, &ids, Utc::now()).await?;
    for s in &mut summaries {
        s.plan = statuses.get(&s.id).cloned();
    }
    Ok(summaries)
}

/// One incident's summary line.
pub async fn summary(
    pool: &PgPool,
    policy: crate::domain::plan::ApprovalPolicy,
    id: i64,
) -> Result<Option<IncidentSummary>, AppError> {
    let Some(row) = sqlx::query_as::<_, SummaryRow>(&format!(
        "{SUMMARY_COLUMNS} FROM incidents i {SUMMARY_JOINS} WHERE i.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    Ok(with_plans(pool, policy, vec![row.into_summary()])
        .await?
        .pop())
}

/// The incident's line, with the status of its latest execution.
const SUMMARY_COLUMNS: &str =
    "SELECT i.id, i.title, i.state, i.severity, e.name AS environment, i.environment_id,
            i.detected_at,
            i.monitoring_alert_at,
            x.status AS execution_status, x.next_step AS execution_next_step,
            x.steps -> x.next_step AS execution_step";
const SUMMARY_JOINS: &str = "JOIN environments e ON e.id = i.environment_id
     LEFT JOIN LATERAL (SELECT status, next_step, steps FROM executions
                        WHERE incident_id = i.id ORDER BY id DESC LIMIT 1) x ON true";

/// Incidents counted at most (the list says "more than" past it).
const COUNT_CAP: i64 = crate::records::INCIDENT_COUNT_CAP;

/// Filters of the incident list.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IncidentFilter {
    pub open_only: bool,
    pub overdue_only: bool,
    pub state: Option<IncidentState>,
    pub severity: Option<Severity>,
    pub environment: Option<Uuid>,
}

pub const PAGE_SIZE: i64 = 20;

/// The highest page number asked for (a million pages of 20).
pub const MAX_PAGE: i64 = 1_000_000;

/// One page of incidents matching `filter`, overdue first, then newest; and the total count.
pub async fn list(
    pool: &PgPool,
    policy: crate::domain::plan::ApprovalPolicy,
    filter: &IncidentFilter,
    page: i64,
) -> Result<(Vec<IncidentSummary>, i64), AppError> {
    let undecided = "i.state IN ('detected', 'evaluating')";
    let overdue = format!("({undecided} AND i.detected_at + interval '30 minutes' < now())");
    // Only the filters in use are written into the statement (no `$1 IS NULL OR …`): each
    // combination is then planned once per connection and the plan kept, and "open only"
    // walks the index of unresolved incidents.
    let mut conditions = vec!["true".to_owned()];
    if filter.open_only {
        conditions
            .push("i.state NOT IN ('resolved', 'closed', 'fix_forward', 'cancelled')".to_owned());
    }
    if filter.overdue_only {
        conditions.push(overdue.clone());
    }
    let mut params = 0;
    let mut param = || {
        params += 1;
        format!("${params}")
    };
    if filter.state.is_some() {
        conditions.push(format!("i.state = {}", param()));
    }
    if filter.severity.is_some() {
        conditions.push(format!("i.severity = {}", param()));
    }
    if filter.environment.is_some() {
        conditions.push(format!("i.environment_id = {}", param()));
    }
    let (limit, offset) = (param(), param());
    let conditions = conditions.join(" AND ");
    fn bind_filters<'q>(
        sql: &'q str,
        filter: &IncidentFilter,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let mut q = sqlx::query(sql);
        if let Some(state) = filter.state {
            q = q.bind(state.as_str());
        }
        if let Some(severity) = filter.severity {
            q = q.bind(severity.as_str());
        }
        if let Some(environment) = filter.environment {
            q = q.bind(environment);
        }
        q
    }
    // The page's incidents are chosen first, then only they are joined (environment, latest
    // execution): the cost is a page's, not the table's. "Overdue first" is two walks of the
    // detection-time index, each stopping after the rows the page can need, instead of a sort
    // of every matching row by an expression.
    let newest = "i.detected_at DESC, i.id DESC";
    let page_sql = format!(
        "{SUMMARY_COLUMNS}
         FROM ((SELECT i.*, 0 AS bucket FROM incidents i WHERE {conditions} AND {overdue}
                ORDER BY {newest} LIMIT {limit} + {offset})
               UNION ALL
               (SELECT i.*, 1 AS bucket FROM incidents i WHERE {conditions} AND NOT {overdue}
                ORDER BY {newest} LIMIT {limit} + {offset})
               ORDER BY bucket, detected_at DESC, id DESC LIMIT {limit} OFFSET {offset}) i
         {SUMMARY_JOINS}
         ORDER BY i.bucket, {newest}"
    );
    let rows = bind_filters(&page_sql, filter)
        .bind(PAGE_SIZE)
        .bind(page.clamp(0, MAX_PAGE) * PAGE_SIZE)
        .try_map(|row: sqlx::postgres::PgRow| <SummaryRow as sqlx::FromRow<_>>::from_row(&row))
        .fetch_all(pool)
        .await?;
    // Counted up to a cap: past it the pager says "more than", and no request counts a huge
    // table to say so.
    let count_sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM incidents i WHERE {conditions} LIMIT {}) c",
        COUNT_CAP + 1
    );
    let total: i64 = bind_filters(&count_sql, filter)
        .try_map(|row: sqlx::postgres::PgRow| sqlx::Row::try_get::<i64, _>(&row, 0))
        .fetch_one(pool)
        .await?;
    let rows = rows.into_iter().map(SummaryRow::into_summary).collect();
    Ok((with_plans(pool, policy, rows).await?, total))
}

/// The incident's own facts, as its page reads them.
#[derive(sqlx::FromRow)]
struct DetailRow {
    description: String,
    suspect_release: String,
    criteria: Vec<String>,
    criteria_other: String,
    created_by: String,
    overdue_at: Option<DateTime<Utc>>,
    decision: Option<String>,
    rollback_type: Option<RollbackType>,
    decision_reason: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<String>,
}

/// A recorded step of the §2.2 validation procedure.
#[derive(sqlx::FromRow)]
struct StepRow {
    step: ValidationStep,
    by: String,
    at: DateTime<Utc>,
    note: String,
}

/// A timeline event as stored.
#[derive(sqlx::FromRow)]
struct EventRow {
    at: DateTime<Utc>,
    actor: Option<String>,
    kind: String,
    details: serde_json::Value,
}

pub async fn detail(
    pool: &PgPool,
    policy: crate::domain::plan::ApprovalPolicy,
    id: i64,
) -> Result<Option<IncidentDetail>, AppError> {
    let Some(summary) = sqlx::query_as::<_, SummaryRow>(&format!(
        "{SUMMARY_COLUMNS} FROM incidents i {SUMMARY_JOINS} WHERE i.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let row = sqlx::query_as::<_, DetailRow>(
        "SELECT i.description, i.suspect_release, i.criteria, i.criteria_other,
                COALESCE(c.name, '') AS created_by, i.overdue_at, i.decision, i.rollback_type,
                i.decision_reason, i.decided_at, d.name AS decided_by
         FROM incidents i LEFT JOIN users c ON c.id = i.created_by
         LEFT JOIN users d ON d.id = i.decided_by WHERE i.id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    let steps = sqlx::query_as::<_, StepRow>(
        "SELECT s.step, u.name AS by, s.recorded_at AS at, s.note FROM incident_steps s
         JOIN users u ON u.id = s.recorded_by WHERE s.incident_id = $1 ORDER BY s.recorded_at",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let events = sqlx::query_as::<_, EventRow>(
        "SELECT e.at, u.name AS actor, e.kind, e.details FROM incident_events e
         LEFT JOIN users u ON u.id = e.actor_id WHERE e.incident_id = $1 ORDER BY e.id DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    // The timeline names the steps its step events are about.
    let executions: Vec<(i64, sqlx::types::Json<Vec<crate::domain::runbook::Step>>)> =
        sqlx::query_as("SELECT id, steps FROM executions WHERE incident_id = $1")
            .bind(id)
            .fetch_all(pool)
            .await?;
    let step_operations = executions
        .into_iter()
        .map(|(id, steps)| (id, steps.0.into_iter().map(|s| s.operation).collect()))
        .collect();
    let decision = match (row.decision.as_deref(), row.rollback_type, row.decided_at) {
        (Some(kind), t, Some(at)) => Decision::parse(&match t {
            Some(t) => format!("{kind}:{t}"),
            None => kind.to_owned(),
        })
        .map(|decision| DecisionRecord {
            decision,
            reason: row.decision_reason.clone().unwrap_or_default(),
            by: row.decided_by.clone().unwrap_or_default(),
            at,
        }),
        _ => None,
    };
    let criteria = row
        .criteria
        .iter()
        .map(|c| {
            Criterion::parse(c).ok_or_else(|| AppError::Internal(format!("unknown criterion {c}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let DetailRow {
        description,
        suspect_release,
        criteria_other,
        created_by,
        overdue_at,
        ..
    } = row;
    let alerts = super::alerts::of_incident(pool, id).await?;
    Ok(Some(IncidentDetail {
        alerts,
        on_call: None,
        step_operations,
        summary: with_plans(pool, policy, vec![summary.into_summary()])
            .await?
            .pop()
            .ok_or_else(|| AppError::Internal("incident summary".into()))?,
        description,
        suspect_release,
        criteria,
        criteria_other,
        created_by,
        overdue_marked: overdue_at.is_some(),
        steps: steps
            .into_iter()
            .map(|s| StepRecord {
                step: s.step,
                by: s.by,
                at: s.at,
                note: s.note,
            })
            .collect(),
        decision,
        plan: None,
        execution: None,
        events: events
            .into_iter()
            .map(
                |EventRow {
                     at,
                     actor,
                     kind,
                     details,
                 }| {
                    // Every stored event reads as a typed one; one that does not is a defect to
                    // see in the log (the page still shows it, by its kind).
                    if let Err(err) = Event::read(&kind, &details) {
                        tracing::error!(incident = id, error = %err, "unreadable timeline event");
                    }
                    let html = (kind == "commented")
                        .then(|| {
                            details["body"]
                                .as_str()
                                .map(crate::backend::markdown::to_safe_html)
                        })
                        .flatten();
                    EventRecord {
                        at,
                        actor,
                        kind,
                        details,
                        html,
                    }
                },
            )
            .collect(),
    }))
}

/// Marks incidents whose decision deadline passed without a decision, once each, with an
/// `overdue` event in the same transaction. Returns the incidents newly marked.
pub async fn mark_overdue(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<i64>, AppError> {
    let mut tx = pool.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE incidents SET overdue_at = $1
         WHERE overdue_at IS NULL AND state IN ('detected', 'evaluating')
           AND detected_at + interval '30 minutes' < $1
         RETURNING id",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    for id in &ids {
        timeline::append(
            &mut tx,
            *id,
            None,
            Event::Overdue {
                deadline_minutes: DECISION_DELAY_MINUTES,
            },
        )
        .await?;
        // §2.2 escalation: once, with the marking.
        crate::backend::emails::notify(
            &mut tx,
            *id,
            crate::backend::emails::Automatic::DeadlinePassed,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ids)
}
