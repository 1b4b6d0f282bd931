//! Accounts: creation, roles, deactivation, language, and sign-in with throttling.
use crate::backend::{password, AppError, SignInPolicy};
use crate::domain::{EmailAddress, NewPassword, PersonName, Roles};
use crate::i18n::{Lang, Msg, Text};
use crate::viewer::SignedInUser;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub roles: Roles,
    pub language: Lang,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub time_zone: String,
}

impl Account {
    pub fn signed_in(&self) -> SignedInUser {
        SignedInUser {
            id: self.id,
            email: self.email.clone(),
            name: self.name.clone(),
            roles: self.roles.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: Uuid,
    email: String,
    name: String,
    roles: Vec<String>,
    language: String,
    active: bool,
    created_at: DateTime<Utc>,
    time_zone: String,
}

impl AccountRow {
    fn into_account(self) -> Account {
        Account {
            id: self.id,
            email: self.email,
            name: self.name,
            // The table's CHECK constraint admits only known, non-empty role lists.
            roles: Roles::parse(self.roles.iter().map(String::as_str)).unwrap_or_default(),
            language: Lang::parse(&self.language).unwrap_or_default(),
            active: self.active,
            created_at: self.created_at,
            time_zone: self.time_zone,
        }
    }
}

const COLUMNS: &str = "id, email, name, roles, language, active, created_at, time_zone";

pub struct NewAccount {
    pub email: EmailAddress,
    pub name: PersonName,
    pub password: NewPassword,
    pub roles: Roles,
}

pub async fn create(pool: &PgPool, new: &NewAccount) -> Result<Account, AppError> {
    let hash = password::hash(new.password.expose()).await?;
    let row = sqlx::query_as::<_, AccountRow>(&format!(
        "INSERT INTO users (email, name, password_hash, roles) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(new.email.as_str())
    .bind(new.name.as_str())
    .bind(hash)
    .bind(new.roles.names())
    .fetch_optional(pool)
    .await?;
    row.map(AccountRow::into_account)
        .ok_or_else(|| AppError::field("email", Msg::EmailTaken))
}

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Account>, AppError> {
    let row =
        sqlx::query_as::<_, AccountRow>(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(AccountRow::into_account))
}

pub async fn list(pool: &PgPool) -> Result<Vec<Account>, AppError> {
    let rows = sqlx::query_as::<_, AccountRow>(&format!(
        "SELECT {COLUMNS} FROM users ORDER BY active DESC, name, email"
    ))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(AccountRow::into_account).collect())
}

/// Sets `target`'s roles. An administrator can't take the admin role away from themselves, so
/// that there is always someone able to manage accounts.
pub async fn set_roles(
    pool: &PgPool,
    actor: &SignedInUser,
    target: Uuid,
    roles: &Roles,
) -> Result<Account, AppError> {
    if actor.id == target && !roles.contains(crate::domain::Role::Admin) {
        return Err(AppError::Refused(Msg::CannotLockYourselfOut.into()));
    }
    let row = sqlx::query_as::<_, AccountRow>(&format!(
        "UPDATE users SET roles = $2 WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(target)
    .bind(roles.names())
    .fetch_optional(pool)
    .await?;
    row.map(AccountRow::into_account)
        .ok_or(AppError::Refused(Msg::UnknownUser.into()))
}

/// Deactivates or reactivates `target`. A deactivated user's sessions end at once, because
/// every request checks that its user is still active.
pub async fn set_active(
    pool: &PgPool,
    actor: &SignedInUser,
    target: Uuid,
    active: bool,
) -> Result<Account, AppError> {
    if actor.id == target && !active {
        return Err(AppError::Refused(Msg::CannotLockYourselfOut.into()));
    }
    let row = sqlx::query_as::<_, AccountRow>(&format!(
        "UPDATE users SET active = $2,
                deactivated_at = CASE WHEN $2 THEN NULL ELSE now() END
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(target)
    .bind(active)
    .fetch_optional(pool)
    .await?;
    row.map(AccountRow::into_account)
        .ok_or(AppError::Refused(Msg::UnknownUser.into()))
}

pub async fn set_language(pool: &PgPool, user: Uuid, lang: Lang) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET language = $2 WHERE id = $1")
        .bind(user)
        .bind(lang.code())
        .execute(pool)
        .await?;
    Ok(())
}

/// Checks an email and password, throttling repeated failures for one account name:
/// from `slow_after` failures on, each attempt must wait (2, 4, 8 … s), and at `lock_after`
/// the account name is locked for `lock_minutes`. Unknown addresses are throttled alike, so
/// the answers don't reveal which accounts exist. One transaction, the row locked, so that
/// parallel attempts can't slip past the count.
pub async fn authenticate(
    pool: &PgPool,
    policy: &SignInPolicy,
    email: &EmailAddress,
    password_typed: &str,
) -> Result<Account, AppError> {
    let mut tx = pool.begin().await?;
    let now = Utc::now();
    let failures: Option<(i32, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT failures, last_failure_at, locked_until FROM sign_in_failures
         WHERE email = $1 FOR UPDATE",
    )
    .bind(email.as_str())
    .fetch_optional(&mut *tx)
    .await?;

    let mut previous = 0;
    if let Some((count, last_failure_at, locked_until)) = failures {
        match locked_until {
            Some(until) if until > now => {
                let minutes = (((until - now).num_seconds() + 59) / 60).max(1);
                return Err(AppError::Refused(Text::with(Msg::SignInLocked, minutes)));
            }
            // A lock that has run out starts the count afresh.
            Some(_) => previous = 0,
            None => {
                previous = count.max(0) as u32;
                if let Some(wait) = wait_after(policy, previous) {
                    let allowed_at = last_failure_at + wait;
                    if now < allowed_at {
                        let seconds = (((allowed_at - now).num_milliseconds() + 999) / 1000).max(1);
                        return Err(AppError::Refused(Text::with(Msg::SignInWait, seconds)));
                    }
                }
            }
        }
    }

    let stored: Option<(Uuid, String, bool)> =
        sqlx::query_as("SELECT id, password_hash, active FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let (user_id, hash, active) = match stored {
        Some((id, hash, active)) => (Some(id), Some(hash), active),
        None => (None, None, false),
    };
    let matches = password::verify(password_typed, hash).await?;

    if let (true, true, Some(id)) = (matches, active, user_id) {
        sqlx::query("DELETE FROM sign_in_failures WHERE email = $1")
            .bind(email.as_str())
            .execute(&mut *tx)
            .await?;
        let account = find(&mut *tx, id).await?.ok_or(AppError::Unauthenticated)?;
        tx.commit().await?;
        return Ok(account);
    }

    let count = previous + 1;
    let locked_until =
        (count >= policy.lock_after).then(|| now + Duration::minutes(policy.lock_minutes.into()));
    sqlx::query(
        "INSERT INTO sign_in_failures (email, failures, last_failure_at, locked_until)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO UPDATE
         SET failures = $2, last_failure_at = $3, locked_until = $4",
    )
    .bind(email.as_str())
    .bind(count as i32)
    .bind(now)
    .bind(locked_until)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(failures = count, "failed sign-in");
    Err(match locked_until {
        Some(_) => AppError::Refused(Text::with(Msg::SignInLocked, policy.lock_minutes)),
        None => AppError::Refused(Msg::BadCredentials.into()),
    })
}

/// How long an attempt must wait after `failures` consecutive failures, if at all.
fn wait_after(policy: &SignInPolicy, failures: u32) -> Option<Duration> {
    let extra = failures.checked_sub(policy.slow_after)?;
    let seconds = i64::from(policy.slow_base_seconds) << extra.min(10);
    Some(Duration::seconds(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_slow_threshold() {
        let policy = SignInPolicy::default();
        assert_eq!(wait_after(&policy, 2), None);
        assert_eq!(wait_after(&policy, 3), Some(Duration::seconds(2)));
        assert_eq!(wait_after(&policy, 5), Some(Duration::seconds(8)));
    }
}
