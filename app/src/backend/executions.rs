//! Executions of ready plans: queued by a person (the rules checked again in the same
//! transaction), claimed by a runner with `FOR UPDATE SKIP LOCKED` and a lease it renews, run
//! step by step, and controlled by people when they fail, stall or must stop. The runner's
//! work on the target is in the server (`server/src/runner`); every row change is here.
use crate::backend::{incidents, AppError};
use crate::domain::execution::{
    check_control, Control, ControlRefusal, ExecutionFacts, ExecutionStatus, StepStatus,
};
use crate::domain::lifecycle;
use crate::domain::plan::{status, ApprovalPolicy, PlanStatus, Review};
use crate::domain::runbook::{Operation, Step};
use crate::domain::{Action, RollbackType};
use crate::i18n::{Msg, Text};
use crate::records::{ExecutionRecord, StepAttempt};
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// At most this much of a step's output is kept (its end).
pub const OUTPUT_LIMIT: usize = 64 * 1024;

impl From<ControlRefusal> for AppError {
    fn from(refusal: ControlRefusal) -> AppError {
        AppError::Refused(match refusal {
            ControlRefusal::NotADecider => Msg::OnlyDecidersMay.into(),
            ControlRefusal::WrongStatus(s) => Text::with(Msg::ExecutionNotInThisStatus, s),
            ControlRefusal::NoSuchStep => Msg::NoSuchStep.into(),
            ControlRefusal::CancelAlreadyAsked => Msg::CancelAlreadyAsked.into(),
        })
    }
}

async fn plan_is_ready(
    tx: &mut Transaction<'_, Postgres>,
    plan: i64,
    kind: RollbackType,
    fingerprint: &str,
    policy: ApprovalPolicy,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let reviews: Vec<Review> = crate::backend::plans::reviews(&mut **tx, plan)
        .await?
        .into_iter()
        .map(|(review, _, _)| review)
        .collect();
    Ok(status(kind, fingerprint, &reviews, policy, now) == PlanStatus::Ready)
}

/// Queues the execution of the incident's ready plan, the version `seen` (its fingerprint)
/// when given: what runs is what the person read. The approvals are counted again here, under
/// the plan's row lock, and the environment must not be held by another execution.
pub async fn start(
    pool: &PgPool,
    policy: ApprovalPolicy,
    actor: &SignedInUser,
    incident: i64,
    seen: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    let (state, mut facts) = incidents::lock(&mut tx, incident).await?;
    let plan: Option<(i64, String, String, serde_json::Value, Uuid)> = sqlx::query_as(
        "SELECT id, rollback_type, fingerprint, steps, environment_id FROM plans
         WHERE incident_id = $1 FOR UPDATE",
    )
    .bind(incident)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((id, kind, fingerprint, _, _)) = &plan {
        let kind = RollbackType::parse(kind).ok_or(AppError::Internal("plan type".into()))?;
        facts.plan_ready = plan_is_ready(&mut tx, *id, kind, fingerprint, policy, now).await?;
    }
    let next = lifecycle::check(state, Action::Execute, &actor.roles, &facts)?;
    let Some((plan, _, fingerprint, steps, environment)) = plan else {
        return Err(AppError::Refused(Msg::NoPlanYet.into()));
    };
    if seen.is_some_and(|seen| seen != fingerprint) {
        return Err(AppError::Refused(Msg::PlanChangedSinceRead.into()));
    }
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO executions (incident_id, plan_id, environment_id, fingerprint, steps,
                                 requested_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(incident)
    .bind(plan)
    .bind(environment)
    .bind(&fingerprint)
    .bind(&steps)
    .bind(actor.id)
    .fetch_one(&mut *tx)
    .await;
    let execution = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(AppError::Refused(Msg::EnvironmentBusy.into()))
        }
        Err(e) => return Err(e.into()),
    };
    incidents::append_event(
        &mut tx,
        incident,
        Some(actor.id),
        "execution_queued",
        json!({ "execution": execution, "fingerprint": fingerprint }),
    )
    .await?;
    incidents::set_state(&mut tx, incident, Some(actor.id), state, next).await?;
    tx.commit().await?;
    Ok(execution)
}

struct Locked {
    id: i64,
    status: ExecutionStatus,
    next_step: usize,
    steps: Vec<Step>,
    cancel_requested: bool,
}

async fn lock_execution(
    tx: &mut Transaction<'_, Postgres>,
    incident: i64,
) -> Result<Locked, AppError> {
    let row: Option<(i64, String, i32, serde_json::Value, bool)> = sqlx::query_as(
        "SELECT id, status, next_step, steps, cancel_requested FROM executions
         WHERE incident_id = $1 ORDER BY id DESC LIMIT 1 FOR UPDATE",
    )
    .bind(incident)
    .fetch_optional(&mut **tx)
    .await?;
    let (id, status, next_step, steps, cancel_requested) =
        row.ok_or(AppError::Refused(Msg::NoExecution.into()))?;
    Ok(Locked {
        id,
        status: ExecutionStatus::parse(&status).ok_or(AppError::Internal("status".into()))?,
        next_step: usize::try_from(next_step).unwrap_or(0),
        steps: serde_json::from_value(steps)
            .map_err(|e| AppError::Internal(format!("execution steps: {e}")))?,
        cancel_requested,
    })
}

async fn next_attempt(
    tx: &mut Transaction<'_, Postgres>,
    execution: i64,
    position: usize,
) -> Result<i32, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(max(attempt), 0) + 1 FROM execution_steps
         WHERE execution_id = $1 AND position = $2",
    )
    .bind(execution)
    .bind(position as i32)
    .fetch_one(&mut **tx)
    .await?)
}

/// The incident goes back to its plan when an execution ends without success.
async fn back_to_plan(
    tx: &mut Transaction<'_, Postgres>,
    incident: i64,
    actor: Option<Uuid>,
) -> Result<(), AppError> {
    let (state, facts) = incidents::lock(tx, incident).await?;
    let next = lifecycle::execution_stopped(state, facts.rollback)?;
    incidents::set_state(tx, incident, actor, state, next).await
}

/// A person's request on the incident's execution.
pub async fn control(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    control: Control,
    note: &str,
) -> Result<ExecutionStatus, AppError> {
    let mut tx = pool.begin().await?;
    let (state, facts) = incidents::lock(&mut tx, incident).await?;
    let action = match control {
        Control::Abort => Action::AbortExecution,
        _ => Action::ControlExecution,
    };
    lifecycle::check(state, action, &actor.roles, &facts)?;
    let execution = lock_execution(&mut tx, incident).await?;
    let waiting_manual = execution.status == ExecutionStatus::Waiting;
    let next = check_control(
        ExecutionFacts {
            status: execution.status,
            steps: execution.steps.len(),
            cancel_requested: execution.cancel_requested,
        },
        &control,
        &actor.roles,
    )?;
    let id = execution.id;
    let position = execution.next_step;
    let (kind, details) = match &control {
        Control::Cancel if next == ExecutionStatus::Running => {
            sqlx::query("UPDATE executions SET cancel_requested = true WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            ("execution_cancel_requested", json!({ "execution": id }))
        }
        Control::Cancel => ("execution_cancelled", json!({ "execution": id })),
        Control::Kill => {
            sqlx::query(
                "UPDATE executions SET cancel_requested = true, kill_requested = true WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            (
                "execution_kill_requested",
                json!({ "execution": id, "step": position + 1 }),
            )
        }
        Control::Retry => (
            "execution_retried",
            json!({ "execution": id, "step": position + 1 }),
        ),
        Control::ResumeFrom(step) => {
            sqlx::query("UPDATE executions SET next_step = $2 WHERE id = $1")
                .bind(id)
                .bind(*step as i32)
                .execute(&mut *tx)
                .await?;
            (
                "execution_resumed",
                json!({ "execution": id, "step": step + 1, "note": note }),
            )
        }
        Control::Abort => (
            "execution_aborted",
            json!({ "execution": id, "note": note }),
        ),
        Control::ManualDone | Control::ManualFailed if waiting_manual => {
            let done = control == Control::ManualDone;
            let attempt = next_attempt(&mut tx, id, position).await?;
            sqlx::query(
                "INSERT INTO execution_steps (execution_id, position, attempt, status,
                                              finished_at, done_by, note)
                 VALUES ($1, $2, $3, $4, now(), $5, $6)",
            )
            .bind(id)
            .bind(position as i32)
            .bind(attempt)
            .bind(if done { "succeeded" } else { "failed" })
            .bind(actor.id)
            .bind(note)
            .execute(&mut *tx)
            .await?;
            if done {
                sqlx::query("UPDATE executions SET next_step = next_step + 1 WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            (
                if done {
                    "step_succeeded"
                } else {
                    "step_failed"
                },
                json!({ "execution": id, "step": position + 1, "note": note, "manual": true }),
            )
        }
        Control::ManualDone | Control::ManualFailed => {
            return Err(AppError::Refused(Msg::NotAManualStep.into()))
        }
    };
    if next != execution.status {
        sqlx::query(
            "UPDATE executions SET status = $2, kill_requested = kill_requested AND $2 = 'running',
                 cancel_requested = cancel_requested AND $2 = 'running',
                 finished_at = CASE WHEN $2 IN ('cancelled', 'aborted') THEN now() END
             WHERE id = $1",
        )
        .bind(id)
        .bind(next.as_str())
        .execute(&mut *tx)
        .await?;
    }
    incidents::append_event(&mut tx, incident, Some(actor.id), kind, details).await?;
    if next.is_over() {
        back_to_plan(&mut tx, incident, Some(actor.id)).await?;
    }
    tx.commit().await?;
    Ok(next)
}

/// What the runner holds after a claim.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub incident: i64,
    pub environment: Uuid,
    pub steps: Vec<Step>,
    pub next_step: usize,
}

/// Executions whose runner stopped renewing its lease (it died) become `interrupted` at the
/// step they were in; nothing is run again by itself. Returns how many.
pub async fn expire_leases(pool: &PgPool) -> Result<usize, AppError> {
    let mut tx = pool.begin().await?;
    let expired: Vec<(i64, i64, i32)> = sqlx::query_as(
        "UPDATE executions SET status = 'interrupted', lease_owner = NULL, lease_until = NULL
         WHERE id IN (SELECT id FROM executions WHERE status = 'running' AND lease_until < now()
                      FOR UPDATE SKIP LOCKED)
         RETURNING id, incident_id, next_step",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (id, incident, step) in &expired {
        sqlx::query(
            "UPDATE execution_steps SET status = 'interrupted', finished_at = now()
             WHERE execution_id = $1 AND status = 'running'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        incidents::append_event(
            &mut tx,
            *incident,
            None,
            "execution_interrupted",
            json!({ "execution": id, "step": step + 1 }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(expired.len())
}

/// Takes the oldest queued execution, if any, for `owner` until `lease` from now.
pub async fn claim(
    pool: &PgPool,
    owner: Uuid,
    lease: std::time::Duration,
) -> Result<Option<Claimed>, AppError> {
    let mut tx = pool.begin().await?;
    let row: Option<(i64, i64, Uuid, serde_json::Value, i32, bool)> = sqlx::query_as(
        "SELECT id, incident_id, environment_id, steps, next_step, started_at IS NULL
         FROM executions WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, incident, environment, steps, next_step, first)) = row else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE executions SET status = 'running', lease_owner = $2,
             lease_until = now() + make_interval(secs => $3), started_at = COALESCE(started_at, now())
         WHERE id = $1",
    )
    .bind(id)
    .bind(owner)
    .bind(lease.as_secs_f64())
    .execute(&mut *tx)
    .await?;
    if first {
        incidents::append_event(
            &mut tx,
            incident,
            None,
            "execution_started",
            json!({ "execution": id }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(Claimed {
        id,
        incident,
        environment,
        steps: serde_json::from_value(steps)
            .map_err(|e| AppError::Internal(format!("execution steps: {e}")))?,
        next_step: usize::try_from(next_step).unwrap_or(0),
    }))
}

/// Extends the lease; false when it was lost (expired and taken away).
pub async fn renew(
    pool: &PgPool,
    id: i64,
    owner: Uuid,
    lease: std::time::Duration,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE executions SET lease_until = now() + make_interval(secs => $3)
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(owner)
    .bind(lease.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether someone asked to kill the running step (checked by the runner every second).
pub async fn kill_requested(pool: &PgPool, id: i64) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT (SELECT e.actor_id::text FROM incident_events e
                 WHERE e.incident_id = x.incident_id AND e.kind = 'execution_kill_requested'
                 ORDER BY e.id DESC LIMIT 1)
         FROM executions x WHERE x.id = $1 AND x.kill_requested",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(|who: Option<String>| who.unwrap_or_default()))
}

/// What the runner does next with a claimed execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Run the step at this position (its attempt number).
    Run { position: usize, attempt: i32 },
    /// A manual step: the execution waits for a person.
    WaitForPerson,
    /// A cancel was asked: stopped.
    Cancelled,
    /// All steps done: the execution succeeded.
    Succeeded,
    /// The lease is no longer ours: leave it.
    LeaseLost,
}

/// Records the start of the next step (before it runs, so that a crash leaves a trace), or
/// ends the execution when there is nothing left, a cancel was asked, or a person must act.
pub async fn advance(pool: &PgPool, id: i64, owner: Uuid) -> Result<Next, AppError> {
    let mut tx = pool.begin().await?;
    let row: Option<(i64, String, i32, serde_json::Value, bool, Option<Uuid>)> = sqlx::query_as(
        "SELECT incident_id, status, next_step, steps, cancel_requested, lease_owner
         FROM executions WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((incident, status, next_step, steps, cancel, lease_owner)) = row else {
        return Ok(Next::LeaseLost);
    };
    if status != "running" || lease_owner != Some(owner) {
        return Ok(Next::LeaseLost);
    }
    let steps: Vec<Step> = serde_json::from_value(steps)
        .map_err(|e| AppError::Internal(format!("execution steps: {e}")))?;
    let position = usize::try_from(next_step).unwrap_or(0);
    let end = |status: &'static str| {
        sqlx::query(
            "UPDATE executions SET status = $2, lease_owner = NULL, lease_until = NULL,
                 finished_at = CASE WHEN $2 IN ('succeeded', 'cancelled') THEN now() END
             WHERE id = $1",
        )
        .bind(id)
        .bind(status)
    };
    if position >= steps.len() {
        end("succeeded").execute(&mut *tx).await?;
        incidents::append_event(
            &mut tx,
            incident,
            None,
            "execution_succeeded",
            json!({ "execution": id }),
        )
        .await?;
        succeeded(&mut tx, incident).await?;
        tx.commit().await?;
        return Ok(Next::Succeeded);
    }
    if cancel {
        end("cancelled").execute(&mut *tx).await?;
        incidents::append_event(
            &mut tx,
            incident,
            None,
            "execution_cancelled",
            json!({ "execution": id, "step": position + 1 }),
        )
        .await?;
        back_to_plan(&mut tx, incident, None).await?;
        tx.commit().await?;
        return Ok(Next::Cancelled);
    }
    if matches!(steps[position].operation, Operation::Manual { .. }) {
        end("waiting").execute(&mut *tx).await?;
        tx.commit().await?;
        return Ok(Next::WaitForPerson);
    }
    let attempt = next_attempt(&mut tx, id, position).await?;
    sqlx::query(
        "INSERT INTO execution_steps (execution_id, position, attempt, status)
         VALUES ($1, $2, $3, 'running')",
    )
    .bind(id)
    .bind(position as i32)
    .bind(attempt)
    .execute(&mut *tx)
    .await?;
    incidents::append_event(
        &mut tx,
        incident,
        None,
        "step_started",
        json!({ "execution": id, "step": position + 1, "attempt": attempt }),
    )
    .await?;
    tx.commit().await?;
    Ok(Next::Run { position, attempt })
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    pub succeeded: bool,
    pub exit_code: Option<i32>,
    pub output: String,
}

/// Records the end of a step; a failed step stops the execution (nothing after it runs).
pub async fn end_step(
    pool: &PgPool,
    id: i64,
    owner: Uuid,
    position: usize,
    attempt: i32,
    outcome: &StepOutcome,
) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    let row: Option<(i64, String, Option<Uuid>)> = sqlx::query_as(
        "SELECT incident_id, status, lease_owner FROM executions WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((incident, status, lease_owner)) = row else {
        return Ok(false);
    };
    if status != "running" || lease_owner != Some(owner) {
        // Declared interrupted meanwhile: the person who resumes sees the step's trace.
        return Ok(false);
    }
    let output = crate::domain::execution::output_tail(&outcome.output, OUTPUT_LIMIT);
    let step_status = if outcome.succeeded {
        StepStatus::Succeeded
    } else {
        StepStatus::Failed
    };
    sqlx::query(
        "UPDATE execution_steps SET status = $4, finished_at = now(), exit_code = $5,
             output = $6
         WHERE execution_id = $1 AND position = $2 AND attempt = $3",
    )
    .bind(id)
    .bind(position as i32)
    .bind(attempt)
    .bind(step_status.as_str())
    .bind(outcome.exit_code)
    .bind(output)
    .execute(&mut *tx)
    .await?;
    if outcome.succeeded {
        sqlx::query("UPDATE executions SET next_step = $2 WHERE id = $1")
            .bind(id)
            .bind(position as i32 + 1)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query(
            "UPDATE executions SET status = 'failed', lease_owner = NULL, lease_until = NULL
             WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        crate::backend::emails::notify(
            &mut tx,
            incident,
            crate::backend::emails::Automatic::ExecutionFailed { step: position + 1 },
        )
        .await?;
    }
    incidents::append_event(
        &mut tx,
        incident,
        None,
        if outcome.succeeded {
            "step_succeeded"
        } else {
            "step_failed"
        },
        json!({ "execution": id, "step": position + 1, "attempt": attempt,
                "exit_code": outcome.exit_code }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The execution succeeded: verification begins (§6), and the §11.2 table records the
/// rollback of the defective release.
async fn succeeded(tx: &mut Transaction<'_, Postgres>, incident: i64) -> Result<(), AppError> {
    let (state, _) = incidents::lock(tx, incident).await?;
    let next = lifecycle::execution_succeeded(state)?;
    incidents::set_state(tx, incident, None, state, next).await?;
    super::verification::begin(tx, incident).await?;
    super::post_mortems::create(tx, incident).await?;
    sqlx::query(
        "UPDATE deployments d SET rolled_back_at = now(),
             rollback_reason = COALESCE(NULLIF(i.decision_reason, ''), i.title)
         FROM plans p JOIN incidents i ON i.id = p.incident_id
         WHERE p.incident_id = $1 AND d.environment_id = p.environment_id
           AND d.release = p.from_release AND d.rolled_back_at IS NULL",
    )
    .bind(incident)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The incident's latest execution, with every attempt at each step, for its page.
pub async fn load(pool: &PgPool, incident: i64) -> Result<Option<ExecutionRecord>, AppError> {
    #[allow(clippy::type_complexity)]
    let row: Option<(
        i64,
        String,
        i32,
        serde_json::Value,
        bool,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        String,
    )> = sqlx::query_as(
        "SELECT e.id, e.status, e.next_step, e.steps, e.cancel_requested, e.fingerprint,
                e.created_at, e.started_at, e.finished_at, u.name
         FROM executions e JOIN users u ON u.id = e.requested_by
         WHERE e.incident_id = $1 ORDER BY e.id DESC LIMIT 1",
    )
    .bind(incident)
    .fetch_optional(pool)
    .await?;
    let Some((
        id,
        status,
        next_step,
        steps,
        cancel_requested,
        fingerprint,
        created_at,
        started_at,
        finished_at,
        requested_by,
    )) = row
    else {
        return Ok(None);
    };
    #[allow(clippy::type_complexity)]
    let attempts: Vec<(
        i32,
        i32,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<i32>,
        String,
        Option<String>,
        String,
    )> = sqlx::query_as(
        "SELECT s.position, s.attempt, s.status, s.started_at, s.finished_at, s.exit_code,
                s.output, u.name, s.note
         FROM execution_steps s LEFT JOIN users u ON u.id = s.done_by
         WHERE s.execution_id = $1 ORDER BY s.position, s.attempt",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(Some(ExecutionRecord {
        id,
        status: ExecutionStatus::parse(&status).unwrap_or(ExecutionStatus::Queued),
        next_step: usize::try_from(next_step).unwrap_or(0),
        steps: serde_json::from_value(steps)
            .map_err(|e| AppError::Internal(format!("execution steps: {e}")))?,
        cancel_requested,
        fingerprint,
        requested_by,
        created_at,
        started_at,
        finished_at,
        attempts: attempts
            .into_iter()
            .map(
                |(
                    position,
                    attempt,
                    status,
                    started_at,
                    finished_at,
                    exit_code,
                    output,
                    by,
                    note,
                )| {
                    StepAttempt {
                        position: usize::try_from(position).unwrap_or(0),
                        attempt,
                        status: StepStatus::parse(&status).unwrap_or(StepStatus::Failed),
                        started_at,
                        finished_at,
                        exit_code,
                        output,
                        done_by: by,
                        note,
                    }
                },
            )
            .collect(),
    }))
}
