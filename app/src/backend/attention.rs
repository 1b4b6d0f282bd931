//! What needs someone now, for the top of the dashboard, most urgent first: executions that
//! stopped on a failed step or were interrupted, failed monitoring checks not yet looked at,
//! decisions overdue or due within 10 minutes, plans waiting for the reader's verdict, approved
//! plans not yet executed, monitoring checks due now, post-mortems overdue or due within 12
//! hours, the reader's overdue corrective actions. Each kind is one bounded query (never a
//! query per incident).
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

#[derive(sqlx::FromRow)]
struct StoppedRow {
    incident_id: i64,
    title: String,
    status: String,
    next_step: i32,
    step: Option<Json<Step>>,
    since: Option<DateTime<Utc>>,
}

/// What needs `user` now; `today` is the date in the reader's time zone (corrective actions
/// are due on a date).
pub async fn now(
    pool: &PgPool,
    policy: ApprovalPolicy,
    user: &SignedInUser,
    now: DateTime<Utc>,
    today: chrono::NaiveDate,
) -> Result<Vec<AttentionItem>, AppError> {
    let mut items = Vec::new();
    // The last execution of each incident still executing, when it stopped on a failure.
    let stopped: Vec<StoppedRow> = sqlx::query_as(
        "SELECT * FROM (
             SELECT DISTINCT ON (e.incident_id) e.incident_id, i.title, e.status, e.next_step,
                    e.steps -> e.next_step AS step, e.finished_at AS since
             FROM executions e JOIN incidents i ON i.id = e.incident_id
             WHERE i.state = 'executing'
             ORDER BY e.incident_id, e.id DESC) last
         WHERE status IN ('failed', 'interrupted')
         ORDER BY since NULLS FIRST LIMIT $1",
    )
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for row in stopped {
        let number = row.next_step + 1;
        let operation = row.step.map(|s| s.0.operation);
        items.push(AttentionItem {
            kind: if row.status == "failed" {
                AttentionKind::ExecutionFailed {
                    step: number,
                    operation,
                }
            } else {
                AttentionKind::ExecutionInterrupted {
                    step: number,
                    operation,
                }
            },
            incident: row.incident_id,
            title: row.title,
            since: row.since.unwrap_or(now),
            link: format!("/incidents/{}/execution", row.incident_id),
        });
    }
    let failed_checks: Vec<(i64, String, i32, DateTime<Utc>)> = sqlx::query_as(
        "SELECT m.incident_id, i.title, m.slot, coalesce(m.taken_at, m.due_at)
         FROM monitoring_checks m JOIN incidents i ON i.id = m.incident_id
         WHERE i.state = 'monitoring' AND m.passed = false AND m.confirmed_at IS NULL
         ORDER BY m.due_at LIMIT $1",
    )
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for (incident, title, slot, since) in failed_checks {
        items.push(AttentionItem {
            kind: AttentionKind::MonitoringFailed { slot },
            incident,
            title,
            since,
            link: format!("/incidents/{incident}/verification"),
        });
    }
    // §2.2: a decision within 30 minutes of the detection.
    let undecided: Vec<(i64, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, title, detected_at + interval '30 minutes' FROM incidents
         WHERE state IN ('detected', 'evaluating')
           AND detected_at + interval '30 minutes' < $1 + interval '10 minutes'
         ORDER BY detected_at LIMIT $2",
    )
    .bind(now)
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for (incident, title, due) in undecided {
        items.push(AttentionItem {
            kind: if due <= now {
                AttentionKind::DecisionOverdue
            } else {
                AttentionKind::DecisionDueSoon
            },
            incident,
            title,
            since: due,
            link: format!("/incidents/{incident}"),
        });
    }
    // §6.3: the check a person confirms within its 15 minutes (failed ones are listed above).
    let due_checks: Vec<(i64, String, i32, DateTime<Utc>)> = sqlx::query_as(
        "SELECT m.incident_id, i.title, m.slot, m.due_at
         FROM monitoring_checks m JOIN incidents i ON i.id = m.incident_id
         WHERE i.state = 'monitoring' AND m.confirmed_at IS NULL AND m.passed IS DISTINCT FROM false
           AND m.due_at <= $1 AND $1 < m.due_at + make_interval(mins => $2)
         ORDER BY m.due_at LIMIT $3",
    )
    .bind(now)
    .bind(crate::domain::verification::CHECK_EVERY_MINUTES as i32)
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for (incident, title, slot, since) in due_checks {
        items.push(AttentionItem {
            kind: AttentionKind::MonitoringDue { slot },
            incident,
            title,
            since,
            link: format!("/incidents/{incident}/verification#monitoring"),
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
    // The reader's own corrective actions past their date (§8.2).
    let actions: Vec<(i64, String, String, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT a.incident_id, i.title, a.action, a.due_on
         FROM corrective_actions a JOIN incidents i ON i.id = a.incident_id
         WHERE a.owner_id = $1 AND a.status <> 'done' AND a.due_on < $2
         ORDER BY a.due_on, a.incident_id, a.position LIMIT $3",
    )
    .bind(user.id)
    .bind(today)
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for (incident, title, action, due_on) in actions {
        items.push(AttentionItem {
            kind: AttentionKind::ActionOverdue { action, due_on },
            incident,
            title,
            since: due_on.and_time(chrono::NaiveTime::MIN).and_utc(),
            link: format!("/incidents/{incident}/post-mortem#actions"),
        });
    }
    // §8.1: the post-mortem within 48 hours of the rollback.
    let post_mortems: Vec<(i64, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT p.incident_id, i.title, p.due_at FROM post_mortems p
         JOIN incidents i ON i.id = p.incident_id
         WHERE p.finalized_at IS NULL AND p.due_at < $1 + make_interval(hours => $2)
         ORDER BY p.due_at LIMIT $3",
    )
    .bind(now)
    .bind(crate::backend::post_mortems::REMIND_HOURS_BEFORE as i32)
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for (incident, title, due) in post_mortems {
        items.push(AttentionItem {
            kind: if due <= now {
                AttentionKind::PostMortemOverdue
            } else {
                AttentionKind::PostMortemDueSoon
            },
            incident,
            title,
            since: due,
            link: format!("/incidents/{incident}/post-mortem"),
        });
    }
    items.sort_by_key(|i| (i.kind.urgency(), i.since));
    Ok(items)
}
