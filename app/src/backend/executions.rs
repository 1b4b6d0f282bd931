//! Executions of ready plans: queued by a person (the rules checked again in the same
//! transaction), claimed by a runner with `FOR UPDATE SKIP LOCKED` and a lease it renews, run
//! step by step, and controlled by people when they fail, stall or must stop. The runner's
//! work on the target is in the server (`server/src/runner`); every row change is here.
use crate::backend::timeline::{self, Event};
use crate::backend::transitions;
use crate::backend::AppError;
use crate::domain::environment::EnvironmentConfig;
use crate::domain::event::{AtStep, StepEnded};
use crate::domain::execution::{
    check_control, runner_transition, Control, ControlRefusal, ExecutionFacts, ExecutionStatus,
    RunnerEvent, StatusChange, StepStatus,
};
use crate::domain::lifecycle;
use crate::domain::plan::{ApprovalPolicy, PlanStatus};
use crate::domain::runbook::{Operation, Step};
use crate::domain::{Action, IncidentState, RollbackType};
use crate::i18n::{Msg, Text};
use crate::records::{ExecutionRecord, StepAttempt};
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
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

/// Queues the execution of the incident's ready plan, the version `seen` (its fingerprint)
/// when given: what runs is what the person read. The plan's status is assessed again here —
/// approvals from people who may still approve, nothing changed since it was made — under the
/// incident's and the plan's locks, and the environment must not be held by another
/// execution. The execution keeps the environment's settings as they are now: the runner
/// works from that snapshot, never from live settings.
pub async fn start(
    pool: &PgPool,
    policy: ApprovalPolicy,
    actor: &SignedInUser,
    incident: i64,
    seen: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    start_checked(pool, policy, actor, incident, seen, now, None).await
}

/// What the person executing confirmed on the plan page.
#[derive(Debug, Clone, Default)]
pub struct ExecuteConfirmation {
    /// The §5.1 warning's "I have read it" box.
    pub read_warning: bool,
    /// The environment's name, typed.
    pub environment_name: String,
}

/// [`start`] from the plan page: a database restore or a system rollback (what can't be
/// undone) runs only with the §5.1 warning ticked and the environment's name typed, checked
/// here on the server whatever the browser sent.
pub async fn start_confirmed(
    pool: &PgPool,
    policy: ApprovalPolicy,
    actor: &SignedInUser,
    incident: i64,
    seen: Option<&str>,
    now: DateTime<Utc>,
    confirmation: &ExecuteConfirmation,
) -> Result<i64, AppError> {
    start_checked(pool, policy, actor, incident, seen, now, Some(confirmation)).await
}

async fn start_checked(
    pool: &PgPool,
    policy: ApprovalPolicy,
    actor: &SignedInUser,
    incident: i64,
    seen: Option<&str>,
    now: DateTime<Utc>,
    confirmation: Option<&ExecuteConfirmation>,
) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    let (state, mut facts) = transitions::lock(&mut tx, incident).await?;
    let plan: Option<(
        i64,
        String,
        serde_json::Value,
        Uuid,
        Option<serde_json::Value>,
    )> = sqlx::query_as(
        "SELECT id, fingerprint, steps, environment_id, basis FROM plans
             WHERE incident_id = $1 FOR NO KEY UPDATE",
    )
    .bind(incident)
    .fetch_optional(&mut *tx)
    .await?;
    let status = crate::backend::plans::status_now(&mut tx, policy, incident, now).await?;
    facts.plan_ready = status == Some(PlanStatus::Ready);
    if let Some(PlanStatus::Stale { .. }) = &status {
        return Err(AppError::Refused(Msg::PlanStale.into()));
    }
    let next = lifecycle::check(state, Action::Execute, &actor.roles, &facts)?;
    let Some((plan, fingerprint, steps, environment, basis)) = plan else {
        return Err(AppError::Refused(Msg::NoPlanYet.into()));
    };
    if seen.is_some_and(|seen| seen != fingerprint) {
        return Err(AppError::Refused(Msg::PlanChangedSinceRead.into()));
    }
    if let Some(confirmation) = confirmation {
        let (kind, name): (String, String) = sqlx::query_as(
            "SELECT p.rollback_type, e.name FROM plans p JOIN environments e ON e.id = p.environment_id
             WHERE p.id = $1",
        )
        .bind(plan)
        .fetch_one(&mut *tx)
        .await?;
        let irreversible = RollbackType::parse(&kind)
            .ok_or_else(|| AppError::Internal(format!("unknown rollback type {kind}")))?
            .restores_data_or_system();
        if irreversible {
            let mut errors = crate::backend::error::FieldErrors::default();
            errors.check(
                "read_warning",
                confirmation.read_warning.then_some(()),
                Msg::ConfirmReadWarning,
            );
            errors.check(
                "environment_name",
                (confirmation.environment_name.trim().to_lowercase() == name.trim().to_lowercase())
                    .then_some(()),
                Msg::ConfirmEnvironmentName,
            );
            errors.into_result()?;
        }
    }
    if crate::backend::environments::pending_run_config(&mut *tx, environment)
        .await?
        .is_some()
    {
        return Err(AppError::Refused(Msg::RunConfigUnconfirmed.into()));
    }
    // The plan is not stale, so its basis holds the settings as they are now.
    let config = basis
        .and_then(|b| b.get("config").cloned())
        .ok_or(AppError::Refused(Msg::PlanStale.into()))?;
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO executions (incident_id, plan_id, environment_id, fingerprint, steps,
                                 requested_by, config)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(incident)
    .bind(plan)
    .bind(environment)
    .bind(&fingerprint)
    .bind(&steps)
    .bind(actor.id)
    .bind(config)
    .fetch_one(&mut *tx)
    .await;
    let execution = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(AppError::Refused(Msg::EnvironmentBusy.into()))
        }
        Err(e) => return Err(e.into()),
    };
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        Event::ExecutionQueued {
            execution,
            fingerprint: fingerprint.clone(),
        },
    )
    .await?;
    wake_runners(&mut tx).await?;
    transitions::apply(&mut tx, incident, Some(actor.id), next).await?;
    tx.commit().await?;
    Ok(execution)
}

#[derive(sqlx::FromRow)]
struct Locked {
    id: i64,
    status: ExecutionStatus,
    #[sqlx(try_from = "i32")]
    next_step: usize,
    #[sqlx(json)]
    steps: Vec<Step>,
    cancel_requested: bool,
}

async fn lock_execution(
    tx: &mut Transaction<'_, Postgres>,
    incident: i64,
) -> Result<Locked, AppError> {
    sqlx::query_as::<_, Locked>(
        "SELECT id, status, next_step, steps, cancel_requested FROM executions
         WHERE incident_id = $1 ORDER BY id DESC LIMIT 1 FOR NO KEY UPDATE",
    )
    .bind(incident)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::Refused(Msg::NoExecution.into()))
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
    let (state, facts) = transitions::lock(tx, incident).await?;
    let next = lifecycle::execution_stopped(state, facts.rollback)?;
    transitions::apply(tx, incident, actor, next).await
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
    let action = match control {
        Control::Abort => Action::AbortExecution,
        _ => Action::ControlExecution,
    };
    transitions::begin(&mut tx, incident, action, &actor.roles).await?;
    let execution = lock_execution(&mut tx, incident).await?;
    let waiting_manual = execution.status == ExecutionStatus::Waiting;
    let change = check_control(
        ExecutionFacts {
            status: execution.status,
            steps: execution.steps.len(),
            cancel_requested: execution.cancel_requested,
        },
        &control,
        &actor.roles,
    )?;
    let next = change.to();
    let id = execution.id;
    let position = execution.next_step;
    if matches!(control, Control::Retry | Control::ResumeFrom(_)) {
        // Never two runs of one command at once: the earlier attempt's processes must be gone.
        if let Some(running) =
            crate::backend::step_processes::earlier_attempt_running(&mut tx, id, position).await?
        {
            return Err(AppError::Refused(match running.elsewhere {
                Some(host) => Text::with(Msg::EarlierAttemptElsewhere, host),
                None => {
                    tracing::info!(
                        execution = id,
                        step = running.step,
                        process_group = running.process_group,
                        "retry refused: earlier attempt alive"
                    );
                    Text::with(Msg::EarlierAttemptRunning, running.step)
                }
            }));
        }
    }
    let event = match &control {
        Control::Cancel if next == ExecutionStatus::Running => {
            sqlx::query("UPDATE executions SET cancel_requested = true WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Event::ExecutionCancelRequested { execution: id }
        }
        Control::Cancel => Event::ExecutionCancelled {
            execution: id,
            step: None,
        },
        Control::Kill => {
            sqlx::query(
                "UPDATE executions SET cancel_requested = true, kill_requested = true WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            Event::ExecutionKillRequested(AtStep {
                execution: id,
                step: position + 1,
            })
        }
        Control::Retry => Event::ExecutionRetried(AtStep {
            execution: id,
            step: position + 1,
        }),
        Control::ResumeFrom(step) if partial_restore_before(&mut tx, id, *step).await? => {
            return Err(AppError::Refused(Msg::PartialRestoreOnlyRetry.into()))
        }
        Control::ResumeFrom(step) => {
            // Going on past steps that did not succeed skips them: a person says why, and
            // each is recorded as skipped (the execution then ends as succeeded with skips).
            let skipped: Vec<usize> = (position..*step).collect();
            if !skipped.is_empty() && note.trim().is_empty() {
                return Err(AppError::field("note", Msg::SkipNeedsReason));
            }
            for at in &skipped {
                let attempt = next_attempt(&mut tx, id, *at).await?;
                sqlx::query(
                    "INSERT INTO execution_steps (execution_id, position, attempt, status,
                                                  finished_at, done_by, note)
                     VALUES ($1, $2, $3, 'skipped', now(), $4, $5)",
                )
                .bind(id)
                .bind(*at as i32)
                .bind(attempt)
                .bind(actor.id)
                .bind(note)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE executions SET next_step = $2 WHERE id = $1")
                .bind(id)
                .bind(*step as i32)
                .execute(&mut *tx)
                .await?;
            Event::ExecutionResumed {
                execution: id,
                step: step + 1,
                note: note.to_owned(),
                skipped: skipped.iter().map(|s| s + 1).collect(),
            }
        }
        Control::Abort => Event::ExecutionAborted {
            execution: id,
            note: note.to_owned(),
        },
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
            let ended = StepEnded {
                execution: id,
                step: position + 1,
                attempt: None,
                exit_code: None,
                note: Some(note.to_owned()),
                manual: true,
            };
            if done {
                Event::StepSucceeded(ended)
            } else {
                Event::StepFailed(ended)
            }
        }
        Control::ManualDone | Control::ManualFailed => {
            return Err(AppError::Refused(Msg::NotAManualStep.into()))
        }
    };
    set_status(&mut tx, id, change).await?;
    timeline::append(&mut tx, incident, Some(actor.id), event).await?;
    if next == ExecutionStatus::Queued {
        wake_runners(&mut tx).await?;
    }
    if next.is_over() {
        back_to_plan(&mut tx, incident, Some(actor.id)).await?;
    }
    tx.commit().await?;
    if next.is_over() {
        // The target may have changed: read it again, off this request.
        let pool = pool.clone();
        let environment: Option<Uuid> =
            sqlx::query_scalar("SELECT environment_id FROM executions WHERE id = $1")
                .bind(id)
                .fetch_optional(&pool)
                .await?;
        if let Some(environment) = environment {
            tokio::spawn(async move {
                if let Err(err) = crate::backend::inventory::refresh(&pool, environment).await {
                    tracing::warn!(error = %err, "inventory after an execution ended");
                }
            });
        }
    }
    Ok(next)
}

/// The restore step (from 0) at which execution `id` left its environment's database
/// partially restored, if it did.
pub async fn partial_restore_step(
    db: impl sqlx::PgExecutor<'_>,
    id: i64,
) -> Result<Option<usize>, AppError> {
    let partial: Option<i32> = sqlx::query_scalar(
        "SELECT (e.partial_restore ->> 'step')::int FROM environments e
         JOIN executions x ON x.environment_id = e.id
         WHERE x.id = $1 AND (e.partial_restore ->> 'execution')::bigint = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?
    .flatten();
    Ok(partial.and_then(|at| usize::try_from(at).ok()))
}

/// Whether going on from `step` would pass a restore of this execution that left the
/// database partial: retrying the restore (or restoring another backup in a new plan) is the
/// only way forward.
async fn partial_restore_before(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    step: usize,
) -> Result<bool, AppError> {
    Ok(partial_restore_step(&mut **tx, id)
        .await?
        .is_some_and(|at| step > at))
}

/// The channel on which runners wait for queued executions.
pub const QUEUED_CHANNEL: &str = "rollback_desk_executions";

/// Wakes every runner listening (delivered when the transaction commits), so that a queued
/// execution starts at once rather than at the next poll.
async fn wake_runners(tx: &mut Transaction<'_, Postgres>) -> Result<(), AppError> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(QUEUED_CHANNEL)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What the runner holds after a claim.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub incident: i64,
    pub environment: Uuid,
    pub steps: Vec<Step>,
    pub next_step: usize,
    /// The environment's settings when the execution was queued (`None`: queued before they
    /// were kept; it is not run).
    pub config: Option<EnvironmentConfig>,
    /// The maintenance page this execution wrote, if it did (§5.2 step 1).
    pub maintenance_file: Option<String>,
}

/// The execution row as the runner's transactions read it.
#[derive(sqlx::FromRow)]
struct RunnerRow {
    incident_id: i64,
    status: ExecutionStatus,
    next_step: i32,
    steps: serde_json::Value,
    cancel_requested: bool,
    lease_owner: Option<Uuid>,
    lease_until: Option<DateTime<Utc>>,
}

/// Takes the locks of execution `id` in the one order every transaction uses — the incident
/// first (`FOR NO KEY UPDATE`), then the execution — and reads the execution. People's
/// actions lock the incident, then the plan or execution, too: no two transactions wait on
/// each other in a circle.
async fn lock_for_runner(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
) -> Result<Option<(IncidentState, lifecycle::Facts, RunnerRow)>, AppError> {
    let incident: Option<i64> =
        sqlx::query_scalar("SELECT incident_id FROM executions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(incident) = incident else {
        return Ok(None);
    };
    let (state, facts) = transitions::lock(tx, incident).await?;
    let row = sqlx::query_as::<_, RunnerRow>(
        "SELECT incident_id, status, next_step, steps, cancel_requested, lease_owner, lease_until
         FROM executions WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|row| (state, facts, row)))
}

/// Executions whose runner stopped renewing its lease (it died) become `interrupted` at the
/// step they were in; nothing is run again by itself. Returns how many.
/// `running_here`: the executions this server is running now, never taken for dead by itself
/// (its renewals may have failed for a while during a database outage; its step still runs).
pub async fn expire_leases(pool: &PgPool, running_here: &[i64]) -> Result<usize, AppError> {
    let candidates: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM executions WHERE status = 'running' AND lease_until < now()
             AND NOT id = ANY($1) ORDER BY id",
    )
    .bind(running_here)
    .fetch_all(pool)
    .await?;
    let mut expired = 0;
    for id in candidates {
        let mut tx = pool.begin().await?;
        let Some((_, _, row)) = lock_for_runner(&mut tx, id).await? else {
            continue;
        };
        // Checked again under the lock: its runner may have renewed or ended it meanwhile.
        let now: DateTime<Utc> = sqlx::query_scalar("SELECT now()")
            .fetch_one(&mut *tx)
            .await?;
        if row.lease_until.is_none_or(|u| u >= now) {
            continue;
        }
        let Ok(interrupted) = runner_transition(row.status, RunnerEvent::LeaseExpired) else {
            continue;
        };
        interrupt(&mut tx, id, &row, interrupted, Event::ExecutionInterrupted).await?;
        tx.commit().await?;
        expired += 1;
    }
    Ok(expired)
}

/// Takes the oldest queued execution that no other runner is taking, if any, for `owner`
/// until `lease` from now. Locks in the one order (incident, then execution); an incident
/// another transaction holds is passed over (`SKIP LOCKED`), as a runner busy with it would.
pub async fn claim(
    pool: &PgPool,
    owner: Uuid,
    lease: std::time::Duration,
) -> Result<Option<Claimed>, AppError> {
    let candidates: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, incident_id FROM executions WHERE status = 'queued' ORDER BY id LIMIT 20",
    )
    .fetch_all(pool)
    .await?;
    for (id, incident) in candidates {
        let mut tx = pool.begin().await?;
        let free: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM incidents WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED",
        )
        .bind(incident)
        .fetch_optional(&mut *tx)
        .await?;
        if free.is_none() {
            continue;
        }
        let Some((_, _, row)) = lock_for_runner(&mut tx, id).await? else {
            continue;
        };
        // Another runner may have claimed it just before.
        let Ok(running) = runner_transition(row.status, RunnerEvent::Claimed) else {
            continue;
        };
        return Ok(Some(
            claim_locked(tx, id, row, running, owner, lease).await?,
        ));
    }
    Ok(None)
}

async fn claim_locked(
    mut tx: Transaction<'_, Postgres>,
    id: i64,
    row: RunnerRow,
    running: StatusChange,
    owner: Uuid,
    lease: std::time::Duration,
) -> Result<Claimed, AppError> {
    #[derive(sqlx::FromRow)]
    struct ClaimedRow {
        first: bool,
        config: Option<serde_json::Value>,
        maintenance_file: Option<String>,
        environment_id: Uuid,
    }
    let ClaimedRow {
        first,
        config,
        maintenance_file,
        environment_id: environment,
    } = sqlx::query_as::<_, ClaimedRow>(
        "UPDATE executions SET status = $4, lease_owner = $2,
             lease_until = now() + make_interval(secs => $3),
             started_at = COALESCE(started_at, now())
         WHERE id = $1
         RETURNING started_at = now() AS first, config, maintenance_file, environment_id",
    )
    .bind(id)
    .bind(owner)
    .bind(lease.as_secs_f64())
    .bind(running.to())
    .fetch_one(&mut *tx)
    .await?;
    if first {
        timeline::append(
            &mut tx,
            row.incident_id,
            None,
            Event::ExecutionStarted { execution: id },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Claimed {
        id,
        incident: row.incident_id,
        environment,
        steps: serde_json::from_value(row.steps)
            .map_err(|e| AppError::Internal(format!("execution steps: {e}")))?,
        next_step: usize::try_from(row.next_step).unwrap_or(0),
        config: config.and_then(|c| serde_json::from_value(c).ok()),
        maintenance_file,
    })
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

/// Records the process group a step's command runs in (on `host`, see
/// [`crate::backend::step_processes::this_host`]).
/// What the running attempt printed so far (its last [`OUTPUT_LIMIT`] bytes), shown while it
/// runs; the attempt's end writes its whole output over it.
pub async fn record_live_output(
    pool: &PgPool,
    id: i64,
    position: usize,
    attempt: i32,
    output: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE execution_steps SET output = $4
         WHERE execution_id = $1 AND position = $2 AND attempt = $3 AND status = 'running'",
    )
    .bind(id)
    .bind(position as i32)
    .bind(attempt)
    .bind(crate::domain::execution::output_tail(output, OUTPUT_LIMIT))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn record_process(
    pool: &PgPool,
    id: i64,
    position: usize,
    attempt: i32,
    process_group: i32,
    host: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE execution_steps SET process_group = $4, process_host = $5
         WHERE execution_id = $1 AND position = $2 AND attempt = $3",
    )
    .bind(id)
    .bind(position as i32)
    .bind(attempt)
    .bind(process_group)
    .bind(host)
    .execute(pool)
    .await?;
    Ok(())
}

/// The server is stopping and the running step has ended: the execution is interrupted
/// before its next step (`position`), which a person resumes. False when it is no longer
/// this runner's.
pub async fn interrupt_for_shutdown(pool: &PgPool, id: i64, owner: Uuid) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    let Some((_, _, row)) = lock_for_runner(&mut tx, id).await? else {
        return Ok(false);
    };
    if row.lease_owner != Some(owner) {
        return Ok(false);
    }
    let Ok(interrupted) = runner_transition(row.status, RunnerEvent::ServerStopping) else {
        return Ok(false);
    };
    interrupt(
        &mut tx,
        id,
        &row,
        interrupted,
        Event::ExecutionServerStopped,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Writes the status change the rules returned (the only write of an execution's status,
/// with the runner's claim). Out of `running`, the lease and the pending cancel/kill requests
/// end with it; an execution that is over gets its end time, one that will run again loses it.
/// The row is locked by the caller: a status other than `change.from()` is a bug, not a race.
async fn set_status(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    change: StatusChange,
) -> Result<(), AppError> {
    if change.from() == change.to() {
        return Ok(());
    }
    let written = sqlx::query(
        "UPDATE executions SET status = $3,
             lease_owner = CASE WHEN $3 = 'running' THEN lease_owner END,
             lease_until = CASE WHEN $3 = 'running' THEN lease_until END,
             kill_requested = kill_requested AND $3 = 'running',
             cancel_requested = cancel_requested AND $3 = 'running',
             finished_at = CASE WHEN $3 IN ('succeeded', 'succeeded_with_skips', 'cancelled',
                                           'aborted') THEN now() END
         WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(change.from())
    .bind(change.to())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if written != 1 {
        return Err(AppError::Internal(format!(
            "execution {id} was not {} when it became {}",
            change.from(),
            change.to()
        )));
    }
    Ok(())
}

/// Leaves execution `id` (locked, as `row`) `interrupted` at its next step: no lease, a step
/// still marked running is interrupted too, and `event` says why on the timeline.
async fn interrupt(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    row: &RunnerRow,
    interrupted: StatusChange,
    event: fn(AtStep) -> Event,
) -> Result<(), AppError> {
    set_status(tx, id, interrupted).await?;
    sqlx::query(
        "UPDATE execution_steps SET status = 'interrupted', finished_at = now()
         WHERE execution_id = $1 AND status = 'running'",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    timeline::append(
        tx,
        row.incident_id,
        None,
        event(AtStep {
            execution: id,
            step: usize::try_from(row.next_step).unwrap_or(0) + 1,
        }),
    )
    .await
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
    /// All steps done: the execution succeeded (`skipped`: with steps a person skipped).
    Succeeded { skipped: Vec<usize> },
    /// The lease is no longer ours: leave it.
    LeaseLost,
}

/// The positions whose latest attempt is a skip.
async fn skipped_steps(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
) -> Result<Vec<usize>, AppError> {
    let rows: Vec<i32> = sqlx::query_scalar(
        "SELECT position FROM (
             SELECT DISTINCT ON (position) position, status FROM execution_steps
             WHERE execution_id = $1 ORDER BY position, attempt DESC) latest
         WHERE status = 'skipped' ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|p| usize::try_from(p).ok())
        .collect())
}

/// Records the start of the next step (before it runs, so that a crash leaves a trace), or
/// ends the execution when there is nothing left, a cancel was asked, or a person must act.
pub async fn advance(pool: &PgPool, id: i64, owner: Uuid) -> Result<Next, AppError> {
    let mut tx = pool.begin().await?;
    let Some((_, _, row)) = lock_for_runner(&mut tx, id).await? else {
        return Ok(Next::LeaseLost);
    };
    let from = row.status;
    if from != ExecutionStatus::Running || row.lease_owner != Some(owner) {
        return Ok(Next::LeaseLost);
    }
    let incident = row.incident_id;
    let steps: Vec<Step> = serde_json::from_value(row.steps)
        .map_err(|e| AppError::Internal(format!("execution steps: {e}")))?;
    let position = usize::try_from(row.next_step).unwrap_or(0);
    if position >= steps.len() {
        let skipped = skipped_steps(&mut tx, id).await?;
        let status = runner_transition(
            from,
            RunnerEvent::AllStepsDone {
                skipped: !skipped.is_empty(),
            },
        )?;
        set_status(&mut tx, id, status).await?;
        timeline::append(
            &mut tx,
            incident,
            None,
            Event::ExecutionSucceeded {
                execution: id,
                skipped: skipped.iter().map(|s| s + 1).collect(),
            },
        )
        .await?;
        succeeded(&mut tx, incident).await?;
        tx.commit().await?;
        return Ok(Next::Succeeded { skipped });
    }
    if row.cancel_requested {
        set_status(
            &mut tx,
            id,
            runner_transition(from, RunnerEvent::CancelledBetweenSteps)?,
        )
        .await?;
        timeline::append(
            &mut tx,
            incident,
            None,
            Event::ExecutionCancelled {
                execution: id,
                step: Some(position + 1),
            },
        )
        .await?;
        back_to_plan(&mut tx, incident, None).await?;
        tx.commit().await?;
        return Ok(Next::Cancelled);
    }
    if matches!(steps[position].operation, Operation::Manual { .. }) {
        set_status(
            &mut tx,
            id,
            runner_transition(from, RunnerEvent::ManualStepReached)?,
        )
        .await?;
        tx.commit().await?;
        return Ok(Next::WaitForPerson);
    }
    let attempt = next_attempt(&mut tx, id, position).await?;
    if let Operation::RestoreDatabase { path, .. } = &steps[position].operation {
        // From now until a restore completes, the environment's database may be partial
        // (the earlier mark is kept, to be put back if this attempt restores nothing).
        sqlx::query(
            "UPDATE environments SET partial_restore = jsonb_build_object(
                 'execution', $1::bigint, 'incident', $2::bigint, 'step', $3::int,
                 'attempt', $4::int, 'backup', $5::text, 'since', now(),
                 'previous', partial_restore - 'previous')
             WHERE id = (SELECT environment_id FROM executions WHERE id = $1)",
        )
        .bind(id)
        .bind(incident)
        .bind(position as i32)
        .bind(attempt)
        .bind(path)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO execution_steps (execution_id, position, attempt, status)
         VALUES ($1, $2, $3, 'running')",
    )
    .bind(id)
    .bind(position as i32)
    .bind(attempt)
    .execute(&mut *tx)
    .await?;
    timeline::append(
        &mut tx,
        incident,
        None,
        Event::StepStarted {
            execution: id,
            step: position + 1,
            attempt,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Next::Run { position, attempt })
}

/// How a step ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepOutcome {
    pub succeeded: bool,
    pub exit_code: Option<i32>,
    pub output: String,
    /// The maintenance page the step wrote, as an absolute path on the target (§5.2 step 1).
    pub maintenance_file: Option<String>,
    /// The step failed before it changed anything on the target (a restore that refused its
    /// file restored nothing: the database is as it was).
    pub untouched: bool,
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
    let Some((_, _, row)) = lock_for_runner(&mut tx, id).await? else {
        return Ok(false);
    };
    let from = row.status;
    if from != ExecutionStatus::Running || row.lease_owner != Some(owner) {
        // Declared interrupted meanwhile: the person who resumes sees the step's trace.
        return Ok(false);
    }
    let incident = row.incident_id;
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
    let steps: Vec<Step> = serde_json::from_value(row.steps.clone())
        .map_err(|e| AppError::Internal(format!("execution steps: {e}")))?;
    let restore = steps
        .get(position)
        .is_some_and(|s| matches!(s.operation, Operation::RestoreDatabase { .. }));
    if restore && (outcome.succeeded || outcome.untouched) {
        // A completed restore ends the partial state; one that restored nothing leaves the
        // database as it was before this attempt.
        sqlx::query(
            "UPDATE environments SET partial_restore = CASE WHEN $2 THEN NULL
                 ELSE NULLIF(partial_restore -> 'previous', 'null'::jsonb) END
             WHERE id = (SELECT environment_id FROM executions WHERE id = $1)
               AND (partial_restore ->> 'execution')::bigint = $1
               AND (partial_restore ->> 'attempt')::int = $3",
        )
        .bind(id)
        .bind(outcome.succeeded)
        .bind(attempt)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(file) = &outcome.maintenance_file {
        sqlx::query("UPDATE executions SET maintenance_file = $2 WHERE id = $1")
            .bind(id)
            .bind(file)
            .execute(&mut *tx)
            .await?;
    }
    if outcome.succeeded {
        sqlx::query("UPDATE executions SET next_step = $2 WHERE id = $1")
            .bind(id)
            .bind(position as i32 + 1)
            .execute(&mut *tx)
            .await?;
    } else {
        set_status(
            &mut tx,
            id,
            runner_transition(from, RunnerEvent::StepFailed)?,
        )
        .await?;
        crate::backend::emails::notify(
            &mut tx,
            incident,
            crate::backend::emails::Automatic::ExecutionFailed { step: position + 1 },
        )
        .await?;
    }
    let ended = StepEnded {
        execution: id,
        step: position + 1,
        attempt: Some(attempt),
        exit_code: outcome.exit_code,
        note: None,
        manual: false,
    };
    timeline::append(
        &mut tx,
        incident,
        None,
        if outcome.succeeded {
            Event::StepSucceeded(ended)
        } else {
            Event::StepFailed(ended)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The maintenance page execution `id` recorded, read again (a step may have written it
/// since the claim).
pub async fn maintenance_file(pool: &PgPool, id: i64) -> Result<Option<String>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT maintenance_file FROM executions WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}

/// The execution succeeded: verification begins (§6), and the §11.2 table records this
/// rollback of the defective release (its date and reason, also when an earlier one was
/// recorded).
async fn succeeded(tx: &mut Transaction<'_, Postgres>, incident: i64) -> Result<(), AppError> {
    let (state, _) = transitions::lock(tx, incident).await?;
    let next = lifecycle::execution_succeeded(state)?;
    transitions::apply(tx, incident, None, next).await?;
    super::verification::begin(tx, incident).await?;
    super::post_mortems::create(tx, incident).await?;
    sqlx::query(
        "UPDATE deployments d SET rolled_back_at = now(),
             rollback_reason = COALESCE(NULLIF(i.decision_reason, ''), i.title)
         FROM plans p JOIN incidents i ON i.id = p.incident_id
         WHERE p.incident_id = $1 AND d.environment_id = p.environment_id
           AND d.release = p.from_release",
    )
    .bind(incident)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An execution as its page reads it.
#[derive(sqlx::FromRow)]
struct ExecutionRow {
    id: i64,
    status: ExecutionStatus,
    next_step: i32,
    steps: sqlx::types::Json<Vec<Step>>,
    cancel_requested: bool,
    fingerprint: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    requested_by: String,
}

/// One attempt at a step, as the execution's page reads it.
#[derive(sqlx::FromRow)]
struct AttemptRow {
    position: i32,
    attempt: i32,
    status: StepStatus,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    exit_code: Option<i32>,
    output: String,
    done_by: Option<String>,
    note: String,
}

/// The incident's latest execution, with every attempt at each step, for its page. Statuses
/// decode into their enums: an unknown one is an error, never a default.
pub async fn load(pool: &PgPool, incident: i64) -> Result<Option<ExecutionRecord>, AppError> {
    let row = sqlx::query_as::<_, ExecutionRow>(
        "SELECT e.id, e.status, e.next_step, e.steps, e.cancel_requested, e.fingerprint,
                e.created_at, e.started_at, e.finished_at, u.name AS requested_by
         FROM executions e JOIN users u ON u.id = e.requested_by
         WHERE e.incident_id = $1 ORDER BY e.id DESC LIMIT 1",
    )
    .bind(incident)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let attempts = sqlx::query_as::<_, AttemptRow>(
        "SELECT s.position, s.attempt, s.status, s.started_at, s.finished_at, s.exit_code,
                s.output, u.name AS done_by, s.note
         FROM execution_steps s LEFT JOIN users u ON u.id = s.done_by
         WHERE s.execution_id = $1 ORDER BY s.position, s.attempt",
    )
    .bind(row.id)
    .fetch_all(pool)
    .await?;
    Ok(Some(ExecutionRecord {
        id: row.id,
        status: row.status,
        next_step: usize::try_from(row.next_step).unwrap_or(0),
        steps: row.steps.0,
        cancel_requested: row.cancel_requested,
        fingerprint: row.fingerprint,
        requested_by: row.requested_by,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        attempts: attempts
            .into_iter()
            .map(|a| StepAttempt {
                position: usize::try_from(a.position).unwrap_or(0),
                attempt: a.attempt,
                status: a.status,
                started_at: a.started_at,
                finished_at: a.finished_at,
                exit_code: a.exit_code,
                output: a.output,
                done_by: a.done_by,
                note: a.note,
            })
            .collect(),
    }))
}
