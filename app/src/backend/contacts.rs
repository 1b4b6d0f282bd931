//! Contacts, on-call shifts and hosting support (§10), stored. Changed by admins and the
//! tech lead and project manager; read by everyone signed in.
use super::AppError;
use crate::domain::on_call::Shift;
use crate::domain::{EmailAddress, PersonName, Role};
use crate::i18n::Msg;
use crate::records::{ContactBook, HostingSupport, WhoToCall};
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Who keeps the contact book.
pub fn may_manage(actor: &SignedInUser) -> bool {
    [Role::Admin, Role::TechLead, Role::ProjectManager]
        .iter()
        .any(|r| actor.roles.contains(*r))
}

fn check(actor: &SignedInUser) -> Result<(), AppError> {
    if may_manage(actor) {
        Ok(())
    } else {
        Err(AppError::Refused(Msg::OnlyOrganizersContacts.into()))
    }
}

pub async fn add_contact(
    pool: &PgPool,
    actor: &SignedInUser,
    role: Role,
    name: &PersonName,
    phone: &str,
    email: &EmailAddress,
) -> Result<Uuid, AppError> {
    check(actor)?;
    Ok(sqlx::query_scalar(
        "INSERT INTO contacts (role, name, phone, email) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(role.as_str())
    .bind(name.as_str())
    .bind(phone)
    .bind(email.as_str())
    .fetch_one(pool)
    .await?)
}

pub async fn remove_contact(pool: &PgPool, actor: &SignedInUser, id: Uuid) -> Result<(), AppError> {
    check(actor)?;
    sqlx::query("DELETE FROM contacts WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn add_shift(
    pool: &PgPool,
    actor: &SignedInUser,
    contact: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<(), AppError> {
    check(actor)?;
    if ends_at <= starts_at {
        return Err(AppError::field("ends_at", Msg::ShiftEndsBeforeItStarts));
    }
    let added = sqlx::query(
        "INSERT INTO on_call_shifts (contact_id, starts_at, ends_at)
         SELECT id, $2, $3 FROM contacts WHERE id = $1",
    )
    .bind(contact)
    .bind(starts_at)
    .bind(ends_at)
    .execute(pool)
    .await?
    .rows_affected();
    if added == 0 {
        return Err(AppError::field("contact", Msg::UnknownPerson));
    }
    Ok(())
}

pub async fn save_hosting(
    pool: &PgPool,
    actor: &SignedInUser,
    hosting: &HostingSupport,
) -> Result<(), AppError> {
    check(actor)?;
    sqlx::query(
        "INSERT INTO hosting_support (id, provider, phone, email, portal) VALUES (true, $1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET provider = $1, phone = $2, email = $3, portal = $4",
    )
    .bind(&hosting.provider)
    .bind(&hosting.phone)
    .bind(&hosting.email)
    .bind(&hosting.portal)
    .execute(pool)
    .await?;
    Ok(())
}

/// The shifts not ended at `now` — only those covering `now` when `covering` — soonest first.
/// Works on a pool or inside a transaction.
pub(crate) async fn shifts(
    conn: impl sqlx::PgExecutor<'_>,
    now: DateTime<Utc>,
    covering: bool,
) -> Result<Vec<Shift>, AppError> {
    Ok(sqlx::query_as(
        "SELECT s.id, c.id AS contact, c.name, c.phone, c.email, s.starts_at, s.ends_at
             FROM on_call_shifts s JOIN contacts c ON c.id = s.contact_id
             WHERE s.ends_at > $1 AND ($2 = false OR s.starts_at <= $1)
             ORDER BY s.starts_at, s.id",
    )
    .bind(now)
    .bind(covering)
    .fetch_all(conn)
    .await?)
}

async fn hosting(pool: &PgPool) -> Result<HostingSupport, AppError> {
    let hosting: Option<(String, String, String, String)> =
        sqlx::query_as("SELECT provider, phone, email, portal FROM hosting_support")
            .fetch_optional(pool)
            .await?;
    Ok(hosting
        .map(|(provider, phone, email, portal)| HostingSupport {
            provider,
            phone,
            email,
            portal,
        })
        .unwrap_or_default())
}

/// Who to call at `now`: the people on call and the hosting support (every open incident).
pub async fn who_to_call(pool: &PgPool, now: DateTime<Utc>) -> Result<WhoToCall, AppError> {
    Ok(WhoToCall {
        on_call: shifts(pool, now, true).await?,
        hosting: hosting(pool).await?,
    })
}

/// The contacts, the shifts that have not ended at `now`, and the hosting support.
pub async fn book(pool: &PgPool, now: DateTime<Utc>) -> Result<ContactBook, AppError> {
    Ok(ContactBook {
        contacts: sqlx::query_as(
            "SELECT id, role, name, phone, email FROM contacts ORDER BY role, name",
        )
        .fetch_all(pool)
        .await?,
        shifts: shifts(pool, now, false).await?,
        hosting: hosting(pool).await?,
    })
}
