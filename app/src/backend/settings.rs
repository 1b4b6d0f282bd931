//! Settings the app records for itself (`app_settings`).
use crate::backend::AppError;

/// The address users reach the app at, without a trailing `/` (recorded at start from
/// `public_url`, else the address it listens on): absolute links in emails and chat.
pub async fn public_base(conn: impl sqlx::PgExecutor<'_>) -> Result<String, AppError> {
    let base: Option<String> =
        sqlx::query_scalar("SELECT value FROM app_settings WHERE name = 'public_base'")
            .fetch_optional(conn)
            .await?;
    Ok(base.unwrap_or_default().trim_end_matches('/').to_owned())
}
