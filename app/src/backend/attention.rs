//! What needs someone now, for the top of the dashboard, most urgent first: executions that
//! stopped on a failed step or were interrupted, failed monitoring checks not yet looked at,
//! decisions overdue or due within 10 minutes, plans waiting for the reader's verdict, approved
//! plans not yet executed, monitoring checks due now, post-mortems overdue or due within 12
//! hours, the reader's overdue corrective actions. Each kind is a bounded branch of one
//! statement (never a query per incident); the plans' verdicts are weighed in Rust.
use crate::backend::{plans, AppError};
use crate::domain::plan::ApprovalPolicy;
use crate::domain::runbook::Step;
use crate::records::{AttentionItem, AttentionKind};
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgPool;

/// At most this many lines of each kind.
const PER_KIND: i64 = 20;

/// A line of any kind, as the one query returns it: `source` names the kind, the other
/// columns are those of that kind (NULL otherwise).
#[derive(sqlx::FromRow)]
struct LineRow {
    source: String,
    incident_id: i64,
    title: String,
    since: Option<DateTime<Utc>>,
    status: Option<String>,
    next_step: Option<i32>,
    step: Option<Json<Step>>,
    slot: Option<i32>,
    action: Option<String>,
    due_on: Option<chrono::NaiveDate>,
}

/// Every kind but the plans' in one statement (one round trip, not one per kind), each kind
/// its own bounded branch. $1 now, $2 lines per kind, $3 a check's minutes, $4 the reader,
/// $5 the reader's date, $6 the post-mortem reminder's hours.
const LINES: &str = "
    (SELECT 'stopped' AS source, incident_id, title, since, status, next_step, step,
            NULL::int AS slot, NULL::text AS action, NULL::date AS due_on
     FROM (SELECT DISTINCT ON (e.incident_id) e.incident_id, i.title, e.status, e.next_step,
                  e.steps -> e.next_step AS step, e.finished_at AS since
           FROM executions e JOIN incidents i ON i.id = e.incident_id
           WHERE i.state = 'executing'
           ORDER BY e.incident_id, e.id DESC) last
     WHERE status IN ('failed', 'interrupted')
     ORDER BY since NULLS FIRST LIMIT $2)
    UNION ALL
    (SELECT 'check_failed', m.incident_id, i.title, coalesce(m.taken_at, m.due_at), NULL,
            NULL, NULL, m.slot, NULL, NULL
     FROM monitoring_checks m JOIN incidents i ON i.id = m.incident_id
     WHERE i.state = 'monitoring' AND m.passed = false AND m.confirmed_at IS NULL
     ORDER BY m.due_at LIMIT $2)
    UNION ALL
    -- §2.2: a decision within 30 minutes of the detection.
    (SELECT 'undecided', id, title, detected_at + interval '30 minutes', NULL, NULL, NULL,
            NULL, NULL, NULL
     FROM incidents
     WHERE state IN ('detected', 'evaluating')
       AND detected_at + interval '30 minutes' < $1 + interval '10 minutes'
     ORDER BY detected_at LIMIT $2)
    UNION ALL
    -- §6.3: the check a person confirms within its 15 minutes (failed ones are above).
    (SELECT 'check_due', m.incident_id, i.title, m.due_at, NULL, NULL, NULL, m.slot, NULL,
            NULL
     FROM monitoring_checks m JOIN incidents i ON i.id = m.incident_id
     WHERE i.state = 'monitoring' AND m.confirmed_at IS NULL
       AND m.passed IS DISTINCT FROM false
       AND m.due_at <= $1 AND $1 < m.due_at + make_interval(mins => $3)
     ORDER BY m.due_at LIMIT $2)
    UNION ALL
    -- The reader's own corrective actions past their date (§8.2).
    (SELECT 'action', a.incident_id, i.title, NULL, NULL, NULL, NULL, NULL, a.action,
            a.due_on
     FROM corrective_actions a JOIN incidents i ON i.id = a.incident_id
     WHERE a.owner_id = $4 AND a.status <> 'done' AND a.due_on < $5
     ORDER BY a.due_on, a.incident_id, a.position LIMIT $2)
    UNION ALL
    -- §8.1: the post-mortem within 48 hours of the rollback.
    (SELECT 'post_mortem', p.incident_id, i.title, p.due_at, NULL, NULL, NULL, NULL, NULL,
            NULL
     FROM post_mortems p JOIN incidents i ON i.id = p.incident_id
     WHERE p.finalized_at IS NULL AND p.due_at < $1 + make_interval(hours => $6)
     ORDER BY p.due_at LIMIT $2)";

/// What needs `user` now; `today` is the date in the reader's time zone (corrective actions
/// are due on a date).
pub async fn now(
    pool: &PgPool,
    policy: ApprovalPolicy,
    user: &SignedInUser,
    now: DateTime<Utc>,
    today: chrono::NaiveDate,
) -> Result<Vec<AttentionItem>, AppError> {
    let rows: Vec<LineRow> = sqlx::query_as(LINES)
        .bind(now)
        .bind(PER_KIND)
        .bind(crate::domain::verification::CHECK_EVERY_MINUTES as i32)
        .bind(user.id)
        .bind(today)
        .bind(crate::backend::post_mortems::REMIND_HOURS_BEFORE as i32)
        .fetch_all(pool)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let incident = row.incident_id;
        let since = row.since.unwrap_or(now);
        let (kind, link) = match row.source.as_str() {
            "stopped" => {
                let step = row.next_step.unwrap_or(0) + 1;
                let operation = row.step.map(|s| s.0.operation);
                let kind = if row.status.as_deref() == Some("failed") {
                    AttentionKind::ExecutionFailed { step, operation }
                } else {
                    AttentionKind::ExecutionInterrupted { step, operation }
                };
                (kind, format!("/incidents/{incident}/execution"))
            }
            "check_failed" => (
                AttentionKind::MonitoringFailed {
                    slot: row.slot.unwrap_or(0),
                },
                format!("/incidents/{incident}/verification"),
            ),
            "undecided" => (
                if since <= now {
                    AttentionKind::DecisionOverdue
                } else {
                    AttentionKind::DecisionDueSoon
                },
                format!("/incidents/{incident}"),
            ),
            "check_due" => (
                AttentionKind::MonitoringDue {
                    slot: row.slot.unwrap_or(0),
                },
                format!("/incidents/{incident}/verification#monitoring"),
            ),
            "action" => (
                AttentionKind::ActionOverdue {
                    action: row.action.unwrap_or_default(),
                    due_on: row.due_on.unwrap_or(today),
                },
                format!("/incidents/{incident}/post-mortem#actions"),
            ),
            "post_mortem" => (
                if since <= now {
                    AttentionKind::PostMortemOverdue
                } else {
                    AttentionKind::PostMortemDueSoon
                },
                format!("/incidents/{incident}/post-mortem"),
            ),
            other => return Err(AppError::Internal(format!("attention line {other}"))),
        };
        // Actions are due on a date: since its start.
        let since = match &kind {
            AttentionKind::ActionOverdue { due_on, .. } => {
                due_on.and_time(chrono::NaiveTime::MIN).and_utc()
            }
            _ => since,
        };
        items.push(AttentionItem {
            kind,
            incident,
            title: row.title,
            since,
            link,
        });
    }
    let open = plans::open_for(pool, policy, user, now).await?;
    for (plan, since) in open.waiting {
        items.push(AttentionItem {
            kind: AttentionKind::ApprovalWaiting { kind: plan.kind },
            incident: plan.incident,
            title: plan.title,
            since,
            link: format!("/incidents/{}/plan#approvals", plan.incident),
        });
    }
    for (plan, since) in open.ready {
        items.push(AttentionItem {
            kind: AttentionKind::PlanReady { kind: plan.kind },
            incident: plan.incident,
            title: plan.title,
            since,
            link: format!("/incidents/{}/plan#execute", plan.incident),
        });
    }
    items.sort_by_key(|i| (i.kind.urgency(), i.since));
    Ok(items)
}
