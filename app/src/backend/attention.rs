//! What needs someone now, for the top of the dashboard, most urgent first: executions that
//! stopped on a failed step or were interrupted, failed monitoring checks not yet looked at,
//! decisions overdue or due within 10 minutes, post-mortems overdue or due within 12 hours.
//! Each kind is one bounded query (never a query per incident).
use crate::backend::AppError;
use crate::domain::runbook::Step;
use crate::records::{AttentionItem, AttentionKind};
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

pub async fn now(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<AttentionItem>, AppError> {
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
