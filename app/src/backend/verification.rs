//! Verification after a rollback (§6), stored: the checklist of an incident, the runner's
//! queue of automatic checks, the §6.3 monitoring checks, and resolving the incident. Every
//! change is one transaction under the incident's lock, checked by the state machine.
use super::timeline::{self, Event};
use super::{emails, AppError};
use crate::backend::transitions;
use crate::domain::lifecycle::{self, Action};
use crate::domain::verification::{
    check_resolve, due_at, slot_state, ChecklistItem, ItemStatus, ResolveProblem, SlotState,
    CHECKS, CHECK_EVERY_MINUTES,
};
use crate::domain::IncidentState;
use crate::i18n::Msg;
use crate::records::{CheckResultRecord, ChecklistItemRecord, VerificationRecord};
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// The execution succeeded: the ten items, the automatic ones queued for the runner.
pub(crate) async fn begin(
    tx: &mut Transaction<'_, Postgres>,
    incident: i64,
) -> Result<(), AppError> {
    for item in ChecklistItem::ALL {
        let status = if item.is_automatic() {
            ItemStatus::Queued
        } else {
            ItemStatus::Waiting
        };
        sqlx::query(
            "INSERT INTO verification_items (incident_id, item, automatic, status)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (incident_id, item) DO UPDATE
                 SET status = EXCLUDED.status, evidence = '', checked_at = NULL,
                     checked_by = NULL, note = '', locked_until = NULL",
        )
        .bind(incident)
        .bind(item.as_str())
        .bind(item.is_automatic())
        .bind(status.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A person ticks a manual item, with an optional note.
pub async fn tick(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    item: ChecklistItem,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let state = transitions::begin(&mut tx, incident, Action::Verify, &actor.roles)
        .await?
        .from();
    if item.is_automatic() {
        return Err(AppError::Refused(Msg::ItemIsAutomatic.into()));
    }
    let ticked = sqlx::query(
        "UPDATE verification_items
         SET status = 'passed', checked_at = $3, checked_by = $4, note = $5
         WHERE incident_id = $1 AND item = $2 AND status = 'waiting'",
    )
    .bind(incident)
    .bind(item.as_str())
    .bind(now)
    .bind(actor.id)
    .bind(note)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if ticked == 0 {
        return Err(AppError::Refused(Msg::ItemAlreadyDone.into()));
    }
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        Event::ChecklistItemTicked {
            item,
            note: note.to_string(),
        },
    )
    .await?;
    complete_if_done(&mut tx, incident, state, Some(actor.id), now).await?;
    tx.commit().await?;
    Ok(())
}

/// A person asks the runner to check an automatic item again.
pub async fn rerun(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    item: ChecklistItem,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    transitions::begin(&mut tx, incident, Action::Verify, &actor.roles).await?;
    let queued = sqlx::query(
        "UPDATE verification_items SET status = 'queued', locked_until = NULL
         WHERE incident_id = $1 AND item = $2 AND automatic AND status IN ('passed', 'failed')",
    )
    .bind(incident)
    .bind(item.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if queued == 0 {
        return Err(AppError::Refused(Msg::CheckAlreadyQueued.into()));
    }
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        Event::CheckRerunRequested { item },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An automatic item the runner has claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedItem {
    pub incident: i64,
    pub item: ChecklistItem,
    pub environment: Uuid,
}

/// The runner takes the next queued item (or one whose runner vanished), held for `lease`.
pub async fn claim_item(
    pool: &PgPool,
    lease: std::time::Duration,
) -> Result<Option<ClaimedItem>, AppError> {
    Ok(sqlx::query_as(
        "UPDATE verification_items v
         SET status = 'running', locked_until = now() + make_interval(secs => $1)
         FROM incidents i
         WHERE i.id = v.incident_id AND (v.incident_id, v.item) = (
             SELECT incident_id, item FROM verification_items
             WHERE status = 'queued' OR (status = 'running' AND locked_until < now())
             ORDER BY incident_id, item
             LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING v.incident_id AS incident, v.item, i.environment_id AS environment",
    )
    .bind(lease.as_secs_f64())
    .fetch_optional(pool)
    .await?)
}

/// Records the runner's result for a claimed item; the last item done opens monitoring.
pub async fn record_item(
    pool: &PgPool,
    claimed: &ClaimedItem,
    passed: bool,
    evidence: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let (state, _) = transitions::lock(&mut tx, claimed.incident).await?;
    let status = if passed {
        ItemStatus::Passed
    } else {
        ItemStatus::Failed
    };
    let evidence: String = evidence.chars().take(20_000).collect();
    let recorded = sqlx::query(
        "UPDATE verification_items
         SET status = $3, evidence = $4, checked_at = $5, checked_by = NULL, locked_until = NULL
         WHERE incident_id = $1 AND item = $2 AND status = 'running'",
    )
    .bind(claimed.incident)
    .bind(claimed.item.as_str())
    .bind(status.as_str())
    .bind(&evidence)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if recorded == 1 {
        timeline::append(
            &mut tx,
            claimed.incident,
            None,
            Event::AutomaticCheck {
                item: claimed.item,
                passed,
            },
        )
        .await?;
        complete_if_done(&mut tx, claimed.incident, state, None, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// All ten items passed: the incident moves to monitoring and its eight checks are scheduled.
async fn complete_if_done(
    tx: &mut Transaction<'_, Postgres>,
    incident: i64,
    state: IncidentState,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if state != IncidentState::Verifying {
        return Ok(());
    }
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM verification_items WHERE incident_id = $1 AND status <> 'passed'",
    )
    .bind(incident)
    .fetch_one(&mut **tx)
    .await?;
    if left > 0 {
        return Ok(());
    }
    let next = lifecycle::checklist_complete(state)?;
    transitions::apply(tx, incident, actor, next).await?;
    super::post_mortems::verified(tx, incident, now).await?;
    sqlx::query("UPDATE incidents SET monitoring_started_at = $2 WHERE id = $1")
        .bind(incident)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    for slot in 1..=CHECKS {
        sqlx::query(
            "INSERT INTO monitoring_checks (incident_id, slot, due_at) VALUES ($1, $2, $3)",
        )
        .bind(incident)
        .bind(slot)
        .bind(due_at(now, slot))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A monitoring check the runner has claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedCheck {
    pub incident: i64,
    pub slot: i32,
    pub environment: Uuid,
}

/// The runner takes a check that is due at `now` and not yet taken. A check whose 15 minutes
/// passed while no runner ran stays missed: results taken late would not be of its time.
pub async fn claim_due_check(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease: std::time::Duration,
) -> Result<Option<ClaimedCheck>, AppError> {
    Ok(sqlx::query_as(
        "UPDATE monitoring_checks m
         SET locked_until = $1 + make_interval(secs => $2)
         FROM incidents i
         WHERE i.id = m.incident_id AND (m.incident_id, m.slot) = (
             SELECT c.incident_id, c.slot FROM monitoring_checks c
             JOIN incidents x ON x.id = c.incident_id
             WHERE x.state = 'monitoring' AND c.taken_at IS NULL
               AND c.due_at <= $1 AND c.due_at + make_interval(mins => $3) > $1
               AND (c.locked_until IS NULL OR c.locked_until < $1)
             ORDER BY c.due_at
             LIMIT 1 FOR UPDATE OF c SKIP LOCKED)
         RETURNING m.incident_id AS incident, m.slot, i.environment_id AS environment",
    )
    .bind(now)
    .bind(lease.as_secs_f64())
    .bind(CHECK_EVERY_MINUTES as i32)
    .fetch_optional(pool)
    .await?)
}

/// Records a monitoring check's automatic results. A failure flags the incident at once and
/// emails the §2.2 roles; a later check that passes lowers the flag.
pub async fn record_check(
    pool: &PgPool,
    claimed: &ClaimedCheck,
    results: &[CheckResultRecord],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let passed = results.iter().all(|r| r.passed);
    let mut tx = pool.begin().await?;
    let (state, _) = transitions::lock(&mut tx, claimed.incident).await?;
    let recorded = sqlx::query(
        "UPDATE monitoring_checks SET taken_at = $3, results = $4, passed = $5, locked_until = NULL
         WHERE incident_id = $1 AND slot = $2 AND taken_at IS NULL",
    )
    .bind(claimed.incident)
    .bind(claimed.slot)
    .bind(now)
    .bind(json!(results))
    .bind(passed)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if recorded == 0 || state != IncidentState::Monitoring {
        tx.commit().await?;
        return Ok(());
    }
    if passed {
        sqlx::query("UPDATE incidents SET monitoring_alert_at = NULL WHERE id = $1")
            .bind(claimed.incident)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query("UPDATE incidents SET monitoring_alert_at = $2 WHERE id = $1")
            .bind(claimed.incident)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let failed: Vec<_> = results
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.item)
            .collect();
        timeline::append(
            &mut tx,
            claimed.incident,
            None,
            Event::MonitoringCheckFailed {
                slot: claimed.slot,
                failed,
            },
        )
        .await?;
        emails::notify(
            &mut tx,
            claimed.incident,
            emails::Automatic::MonitoringCheckFailed { slot: claimed.slot },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A person confirms the check due now, with what they saw (user feedback, server resources).
pub async fn confirm(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    slot: i32,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    transitions::begin(&mut tx, incident, Action::ConfirmCheck, &actor.roles).await?;
    let row: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT due_at, confirmed_at FROM monitoring_checks WHERE incident_id = $1 AND slot = $2",
    )
    .bind(incident)
    .bind(slot)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((due, confirmed)) = row else {
        return Err(AppError::Refused(Msg::CheckNotDue.into()));
    };
    match slot_state(due, confirmed.is_some(), now) {
        SlotState::Due => {}
        SlotState::Done => return Err(AppError::Refused(Msg::CheckAlreadyConfirmed.into())),
        SlotState::Missed => return Err(AppError::Refused(Msg::CheckMissed.into())),
        SlotState::Upcoming => return Err(AppError::Refused(Msg::CheckNotDue.into())),
    }
    sqlx::query(
        "UPDATE monitoring_checks SET confirmed_by = $3, confirmed_at = $4, note = $5
         WHERE incident_id = $1 AND slot = $2",
    )
    .bind(incident)
    .bind(slot)
    .bind(actor.id)
    .bind(now)
    .bind(note)
    .execute(&mut *tx)
    .await?;
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        Event::MonitoringCheckConfirmed {
            slot,
            note: note.to_string(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends the incident after monitoring: records when service was restored (the successful
/// execution's end, used for downtime and MTTR) and who resolved it, when, and why if early.
pub async fn resolve(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let next = transitions::begin(&mut tx, incident, Action::Resolve, &actor.roles).await?;
    let (started, detected): (Option<DateTime<Utc>>, DateTime<Utc>) =
        sqlx::query_as("SELECT monitoring_started_at, detected_at FROM incidents WHERE id = $1")
            .bind(incident)
            .fetch_one(&mut *tx)
            .await?;
    let started = started.unwrap_or(now);
    if let Err(ResolveProblem::ReasonNeeded) = check_resolve(started, now, reason) {
        return Err(AppError::field("reason", Msg::ResolveReasonNeeded));
    }
    let restored: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT max(finished_at) FROM executions WHERE incident_id = $1 AND status IN ('succeeded', 'succeeded_with_skips')",
    )
    .bind(incident)
    .fetch_one(&mut *tx)
    .await?;
    let restored = restored.unwrap_or(started);
    sqlx::query(
        "UPDATE incidents SET restored_at = $2, resolved_at = $3, resolved_by = $4,
                              resolution_note = $5
         WHERE id = $1",
    )
    .bind(incident)
    .bind(restored)
    .bind(now)
    .bind(actor.id)
    .bind(reason.trim())
    .execute(&mut *tx)
    .await?;
    transitions::apply(&mut tx, incident, Some(actor.id), next).await?;
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        Event::IncidentResolved {
            restored_at: restored,
            downtime_minutes: restored.signed_duration_since(detected).num_minutes(),
            early: now < crate::domain::verification::window_end(started),
            reason: reason.trim().to_owned(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The verification of `incident` for its page; `None` before any execution succeeded.
pub async fn load(pool: &PgPool, incident: i64) -> Result<Option<VerificationRecord>, AppError> {
    let mut items: Vec<ChecklistItemRecord> = sqlx::query_as(
        "SELECT v.item, v.status, v.evidence, v.checked_at, u.name AS checked_by, v.note
             FROM verification_items v LEFT JOIN users u ON u.id = v.checked_by
             WHERE v.incident_id = $1",
    )
    .bind(incident)
    .fetch_all(pool)
    .await?;
    if items.is_empty() {
        return Ok(None);
    }
    items.sort_by_key(|i| i.item);
    let mut verification: VerificationRecord = sqlx::query_as(
        "SELECT i.monitoring_started_at, i.monitoring_alert_at AS alert_at, i.restored_at,
                i.resolved_at, u.name AS resolved_by, i.resolution_note
         FROM incidents i LEFT JOIN users u ON u.id = i.resolved_by WHERE i.id = $1",
    )
    .bind(incident)
    .fetch_one(pool)
    .await?;
    verification.items = items;
    verification.checks = sqlx::query_as(
        "SELECT m.slot, m.due_at, m.taken_at, m.passed, COALESCE(m.results, '[]') AS results,
                u.name AS confirmed_by, m.confirmed_at, m.note
         FROM monitoring_checks m LEFT JOIN users u ON u.id = m.confirmed_by
         WHERE m.incident_id = $1 ORDER BY m.slot",
    )
    .bind(incident)
    .fetch_all(pool)
    .await?;
    Ok(Some(verification))
}
