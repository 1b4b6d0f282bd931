//! Forms posted after their session expired (issue 16 §6): what was typed is kept, the author
//! signs in, and the page comes back with the text in its form — instead of a bare "form
//! expired" and the text lost. Kept for an hour, one per visitor, and only for same-site
//! posts (the gate checks the origin first); a cap bounds what anonymous posts can store.
use crate::backend::AppError;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Rows kept at most at once: beyond, a post is not kept (its author types it again).
const CAP: i64 = 10_000;

/// A kept post.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PendingPost {
    pub back: String,
    pub form: String,
    pub fields: Json<BTreeMap<String, String>>,
}

/// Keeps a post for its author's next sign-in, replacing `previous` (the visitor's earlier
/// one); `None` when the cap is reached.
pub async fn keep(
    pool: &PgPool,
    previous: Option<Uuid>,
    back: &str,
    form: &str,
    fields: &BTreeMap<String, String>,
) -> Result<Option<Uuid>, AppError> {
    let mut tx = pool.begin().await?;
    if let Some(previous) = previous {
        sqlx::query("DELETE FROM pending_posts WHERE id = $1")
            .bind(previous)
            .execute(&mut *tx)
            .await?;
    }
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_posts")
        .fetch_one(&mut *tx)
        .await?;
    if kept >= CAP {
        tx.commit().await?;
        return Ok(None);
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO pending_posts (back, form, fields) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(back)
    .bind(form)
    .bind(Json(fields))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// The kept post, removed (it is given back once), if still there and under an hour old.
pub async fn take(
    pool: &PgPool,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<PendingPost>, AppError> {
    Ok(sqlx::query_as(
        "DELETE FROM pending_posts WHERE id = $1 AND created_at > $2 - interval '1 hour'
         RETURNING back, form, fields",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(pool)
    .await?)
}

/// Posts older than an hour.
pub async fn purge(pool: &PgPool, now: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(
        sqlx::query("DELETE FROM pending_posts WHERE created_at < $1 - interval '1 hour'")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
