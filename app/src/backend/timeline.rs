//! The incident's timeline, written in one place: an [`Event`] appended in the transaction of
//! the action it records. (Rows are append-only in the database itself: a trigger refuses
//! `UPDATE`, `DELETE` and `TRUNCATE`.)
use crate::backend::AppError;
pub use crate::domain::event::Event;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// Appends `event` to incident `incident`'s timeline; `actor` `None`: the system.
pub(crate) async fn append(
    tx: &mut Transaction<'_, Postgres>,
    incident: i64,
    actor: Option<Uuid>,
    event: Event,
) -> Result<(), AppError> {
    let (kind, details) = event.to_row();
    sqlx::query(
        "INSERT INTO incident_events (incident_id, actor_id, kind, details) VALUES ($1, $2, $3, $4)",
    )
    .bind(incident)
    .bind(actor)
    .bind(kind)
    .bind(details)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
