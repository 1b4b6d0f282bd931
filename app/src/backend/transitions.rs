//! The incident under its row lock: what `domain/lifecycle.rs` judges an action by, and the
//! one place where the incident's state changes, always with its event. Every module that acts
//! on an incident goes through here (none reaches into another's internals: emails and
//! incidents no longer import each other).
//!
//! The shape of an action: [`begin`] (lock, ask the lifecycle), the action's own writes, then
//! [`apply`] with the transition `begin` returned, all in the caller's transaction. A state can
//! only be set from a [`Transition`], which only `domain/lifecycle.rs` makes.
use crate::backend::timeline::{self, Event};
use crate::backend::AppError;
use crate::domain::lifecycle::{self, Facts, Transition};
use crate::domain::{Action, IncidentState, Roles, RollbackType, ValidationStep};
use crate::i18n::Msg;
use crate::viewer::SignedInUser;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// Locks incident `id` for the rest of the transaction and reads what the state machine needs.
pub(crate) async fn lock(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
) -> Result<(IncidentState, Facts), AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        state: IncidentState,
        rollback_type: Option<RollbackType>,
        has_plan: bool,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT state, rollback_type,
                EXISTS (SELECT 1 FROM plans p WHERE p.incident_id = i.id) AS has_plan
         FROM incidents i WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Row {
        state,
        rollback_type,
        has_plan,
    } = row.ok_or(AppError::Refused(Msg::UnknownIncident.into()))?;
    let steps_done: Vec<ValidationStep> =
        sqlx::query_scalar("SELECT step FROM incident_steps WHERE incident_id = $1")
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
    let facts = Facts {
        steps_done: steps_done.into_iter().collect(),
        rollback: rollback_type,
        has_plan,
        // Counted where it matters, under the plan's lock (see executions::start).
        plan_ready: false,
    };
    Ok((state, facts))
}

/// Locks incident `id` and asks the lifecycle whether someone with `roles` may take `action`
/// now: the transition to [`apply`] once the action's own writes are done.
pub(crate) async fn begin(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    action: Action,
    roles: &Roles,
) -> Result<Transition, AppError> {
    let (state, facts) = lock(tx, id).await?;
    Ok(lifecycle::check(state, action, roles, &facts)?)
}

/// Moves the incident as `domain/lifecycle.rs` allowed (if the state changes), with its event.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    actor: Option<Uuid>,
    transition: lifecycle::Transition,
) -> Result<(), AppError> {
    let (from, to) = (transition.from(), transition.to());
    if from == to {
        return Ok(());
    }
    sqlx::query("UPDATE incidents SET state = $2 WHERE id = $1")
        .bind(id)
        .bind(to.as_str())
        .execute(&mut **tx)
        .await?;
    crate::backend::history::rollbacks_changed();
    timeline::append(tx, id, actor, Event::StateChanged { from, to }).await
}

/// Sending the §7.1 internal email is §2.2 step 5 (communication to the stakeholders): it is
/// recorded with who and when, once, when the state machine allows it (the caller holds the
/// incident's lock).
pub(crate) async fn record_communication(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    actor: &SignedInUser,
    note: &str,
) -> Result<bool, AppError> {
    let (state, facts) = lock(tx, id).await?;
    let step = ValidationStep::Communication;
    if lifecycle::check(state, Action::RecordStep(step), &actor.roles, &facts).is_err() {
        return Ok(false);
    }
    record_step(tx, id, actor.id, step, note).await?;
    timeline::append(
        tx,
        id,
        Some(actor.id),
        Event::StepRecorded {
            step,
            number: step.number(),
            note: note.to_owned(),
        },
    )
    .await?;
    Ok(true)
}

pub(crate) async fn record_step(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    actor: Uuid,
    step: ValidationStep,
    note: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO incident_steps (incident_id, step, recorded_by, note) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(step.as_str())
    .bind(actor)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
