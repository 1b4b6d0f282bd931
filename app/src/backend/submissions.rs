//! One-time form tokens, for the forms whose repeat would do the work twice: the §7 send (a
//! double click on a 100,000-recipient list would queue 200,000 emails) and opening an
//! incident. The form carries a random token (`once`); the action claims it in its own
//! transaction (a second post of the same token waits for the first to commit, then finds
//! it) and records where it led. A repeat does nothing and shows what the first did
//! ([`AppError::AlreadySubmitted`]). A post without a token (a script) is not deduplicated.
use crate::backend::AppError;
use crate::i18n::Text;
use chrono::{DateTime, Utc};
use rand::distributions::{Alphanumeric, DistString};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// The form field holding the token.
pub const FIELD: &str = "once";

/// A fresh token for a form being rendered.
pub fn new_token() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
}

/// What the first post of a token did.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FirstPost {
    pub submitted_at: DateTime<Utc>,
    pub outcome_path: Option<String>,
    pub outcome_notice: Option<Json<Text>>,
}

/// Claims `token` for `action` by `user`. A token seen before refuses the action with what
/// the first post did; a missing or malformed token claims nothing.
pub async fn claim(
    tx: &mut Transaction<'_, Postgres>,
    token: Option<&str>,
    user: Uuid,
    action: &str,
) -> Result<(), AppError> {
    let Some(token) = token.filter(|t| (16..=64).contains(&t.len())) else {
        return Ok(());
    };
    let claimed: Option<String> = sqlx::query_scalar(
        "INSERT INTO form_submissions (token, user_id, action) VALUES ($1, $2, $3)
         ON CONFLICT (token) DO NOTHING RETURNING token",
    )
    .bind(token)
    .bind(user)
    .bind(action)
    .fetch_optional(&mut **tx)
    .await?;
    if claimed.is_some() {
        return Ok(());
    }
    let first: Option<FirstPost> = sqlx::query_as(
        "SELECT submitted_at, outcome_path, outcome_notice FROM form_submissions
         WHERE token = $1 AND user_id = $2",
    )
    .bind(token)
    .bind(user)
    .fetch_optional(&mut **tx)
    .await?;
    Err(AppError::AlreadySubmitted(Box::new(first.unwrap_or_else(
        || FirstPost {
            submitted_at: Utc::now(),
            outcome_path: None,
            outcome_notice: None,
        },
    ))))
}

/// Records where the first post of `token` led, in the action's transaction.
pub async fn settle(
    tx: &mut Transaction<'_, Postgres>,
    token: Option<&str>,
    path: &str,
    notice: &Text,
) -> Result<(), AppError> {
    if let Some(token) = token {
        sqlx::query(
            "UPDATE form_submissions SET outcome_path = $2, outcome_notice = $3 WHERE token = $1",
        )
        .bind(token)
        .bind(path)
        .bind(Json(notice))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Tokens older than a day: a page is not resubmitted after that.
pub async fn purge(pool: &PgPool, now: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(
        sqlx::query("DELETE FROM form_submissions WHERE submitted_at < $1 - interval '1 day'")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
