//! Accounts: creation, roles, deactivation, language (sign-in and its throttling: `sign_in`).
use crate::backend::{password, AppError};
use crate::domain::{EmailAddress, NewPassword, PersonName, Roles};
use crate::i18n::{Lang, Msg};
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
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
    // The admin role alone must not make its holder a §2.2 decider: another admin grants it.
    if actor.id == target
        && roles
            .iter()
            .any(|r| r.may_decide_rollback() && !actor.roles.contains(r))
    {
        return Err(AppError::field(
            "roles",
            Msg::AnotherAdminGrantsDeciderRoles,
        ));
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

/// Changes `user`'s own password, given the current one (a session left open on a shared
/// screen must not be enough).
pub async fn change_password(
    pool: &PgPool,
    user: Uuid,
    current: &str,
    new: &NewPassword,
) -> Result<(), AppError> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(pool)
            .await?;
    if !password::verify(current, stored).await? {
        return Err(AppError::field(
            "current_password",
            Msg::CurrentPasswordWrong,
        ));
    }
    let hash = password::hash(new.expose()).await?;
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user)
        .bind(hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Sets `user`'s language and time zone (an IANA name, checked by the caller).
pub async fn set_preferences(
    pool: &PgPool,
    user: Uuid,
    lang: Lang,
    time_zone: &str,
) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET language = $2, time_zone = $3 WHERE id = $1")
        .bind(user)
        .bind(lang.code())
        .bind(time_zone)
        .execute(pool)
        .await?;
    Ok(())
}
