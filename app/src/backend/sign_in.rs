//! Sign-in with throttling that an attacker can't turn against the people who must decide.
//!
//! Failures are counted per account name *and* source. The source is the device when the
//! browser holds a known-device cookie of that account (it signed in successfully before),
//! else the client address. From `slow_after` failures of one source each new attempt of
//! that source waits (2, 4, 8 … s), at `lock_after` that source is locked for `lock_minutes`:
//! someone guessing from one address slows only that address. Failures from many sources
//! (`ACCOUNT_LOCK_FACTOR` × `lock_after` within `lock_minutes`) close the account to new
//! sources, never to its known devices. Signed-in sessions are never touched. An
//! administrator unlocks (an account event). Unknown addresses are throttled alike, so the
//! answers don't reveal which accounts exist.
use crate::backend::{accounts, password, AppError, SignInPolicy};
use crate::domain::EmailAddress;
use crate::i18n::{Msg, Text};
use chrono::{DateTime, Duration, Utc};
use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::net::IpAddr;
use uuid::Uuid;

/// The cookie naming a known device.
pub const DEVICE_COOKIE: &str = "rbd_device";
/// A device counts as known for this long after its last successful sign-in.
pub const DEVICE_DAYS: i64 = 90;
/// Failures of all sources together that close an account to new sources, as a multiple
/// of `lock_after`.
pub const ACCOUNT_LOCK_FACTOR: u32 = 3;
/// Failure rows older than this (and not locking) are purged.
const KEEP_FAILURES_HOURS: i64 = 24;

/// Where an attempt comes from.
#[derive(Debug, Clone, Default)]
pub struct SignInOrigin {
    pub address: Option<IpAddr>,
    /// The known-device cookie's token, if the browser sent one.
    pub device: Option<String>,
}

/// A successful sign-in: the account, and the device token to (re)set in the cookie.
pub struct SignedIn {
    pub account: accounts::Account,
    pub device_token: String,
}

fn sha256(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(sqlx::FromRow)]
struct Failures {
    failures: i32,
    last_failure_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// Checks an email and password from `origin`, throttled as the module says. One
/// transaction, the source's row locked, so that parallel attempts can't slip past the
/// count.
pub async fn authenticate(
    pool: &PgPool,
    policy: &SignInPolicy,
    email: &EmailAddress,
    password_typed: &str,
    origin: &SignInOrigin,
) -> Result<SignedIn, AppError> {
    let mut tx = pool.begin().await?;
    let now = Utc::now();
    // A device token counts only for the account it signed in to, and only while recent.
    let device: Option<String> = match &origin.device {
        Some(token) => {
            sqlx::query_scalar(
                "SELECT d.token_sha256 FROM known_devices d JOIN users u ON u.id = d.user_id
                 WHERE d.token_sha256 = $1 AND u.email = $2
                   AND d.last_used_at > $3 - make_interval(days => $4)",
            )
            .bind(sha256(token))
            .bind(email.as_str())
            .bind(now)
            .bind(DEVICE_DAYS as i32)
            .fetch_optional(&mut *tx)
            .await?
        }
        None => None,
    };
    let source = match (&device, origin.address) {
        (Some(hash), _) => format!("device:{}", &hash[..16]),
        (None, Some(ip)) => format!("address:{ip}"),
        (None, None) => "address:unknown".to_owned(),
    };
    let failures: Option<Failures> = sqlx::query_as(
        "SELECT failures, last_failure_at, locked_until FROM sign_in_failures
         WHERE email = $1 AND source = $2 FOR UPDATE",
    )
    .bind(email.as_str())
    .bind(&source)
    .fetch_optional(&mut *tx)
    .await?;

    let mut previous = 0;
    if let Some(f) = failures {
        match f.locked_until {
            Some(until) if until > now => {
                let minutes = (((until - now).num_seconds() + 59) / 60).max(1);
                return Err(AppError::Refused(Text::with(Msg::SignInLocked, minutes)));
            }
            // A lock that has run out starts the count afresh.
            Some(_) => previous = 0,
            None => {
                previous = f.failures.max(0) as u32;
                if let Some(wait) = wait_after(policy, previous) {
                    let allowed_at = f.last_failure_at + wait;
                    if now < allowed_at {
                        let seconds = (((allowed_at - now).num_milliseconds() + 999) / 1000).max(1);
                        return Err(AppError::Refused(Text::with(Msg::SignInWait, seconds)));
                    }
                }
            }
        }
    }
    if device.is_none() {
        let recent: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(failures), 0) FROM sign_in_failures
             WHERE email = $1 AND last_failure_at > $2 - make_interval(mins => $3)",
        )
        .bind(email.as_str())
        .bind(now)
        .bind(policy.lock_minutes as i32)
        .fetch_one(&mut *tx)
        .await?;
        if recent >= i64::from(policy.lock_after.saturating_mul(ACCOUNT_LOCK_FACTOR)) {
            return Err(AppError::Refused(
                Msg::SignInAccountClosedToNewDevices.into(),
            ));
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
        // Only this source's count is cleared: another source's lock (an attacker's) stays.
        sqlx::query("DELETE FROM sign_in_failures WHERE email = $1 AND source = $2")
            .bind(email.as_str())
            .bind(&source)
            .execute(&mut *tx)
            .await?;
        let device_token = match (&device, &origin.device) {
            (Some(hash), Some(token)) => {
                sqlx::query("UPDATE known_devices SET last_used_at = $2 WHERE token_sha256 = $1")
                    .bind(hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                token.clone()
            }
            _ => {
                let token = Alphanumeric.sample_string(&mut rand::thread_rng(), 43);
                sqlx::query(
                    "INSERT INTO known_devices (token_sha256, user_id, created_at, last_used_at)
                     VALUES ($1, $2, $3, $3)",
                )
                .bind(sha256(&token))
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                token
            }
        };
        let account = accounts::find(&mut *tx, id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        tx.commit().await?;
        return Ok(SignedIn {
            account,
            device_token,
        });
    }

    let count = previous + 1;
    let locked_until =
        (count >= policy.lock_after).then(|| now + Duration::minutes(policy.lock_minutes.into()));
    sqlx::query(
        "INSERT INTO sign_in_failures (email, source, failures, last_failure_at, locked_until)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email, source) DO UPDATE
         SET failures = $3, last_failure_at = $4, locked_until = $5",
    )
    .bind(email.as_str())
    .bind(&source)
    .bind(count as i32)
    .bind(now)
    .bind(locked_until)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(failures = count, %source, "failed sign-in");
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

/// Whether an account is slowed or locked for some source now (for the accounts page).
pub async fn locked_accounts(
    pool: &PgPool,
    policy: &SignInPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT email FROM sign_in_failures
         WHERE locked_until > $1 OR last_failure_at > $1 - make_interval(mins => $2)
         GROUP BY email
         HAVING bool_or(locked_until > $1) OR sum(failures) >= $3",
    )
    .bind(now)
    .bind(policy.lock_minutes as i32)
    .bind(i64::from(
        policy.lock_after.saturating_mul(ACCOUNT_LOCK_FACTOR),
    ))
    .fetch_all(pool)
    .await?)
}

/// An administrator lifts every lock and count on `user`'s sign-in, recorded as an event.
/// Returns whether there was anything to lift.
pub async fn unlock(pool: &PgPool, actor: Uuid, user: Uuid) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    let cleared = sqlx::query(
        "DELETE FROM sign_in_failures WHERE email = (SELECT email FROM users WHERE id = $1)",
    )
    .bind(user)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if cleared > 0 {
        sqlx::query(
            "INSERT INTO account_events (user_id, actor_id, kind) VALUES ($1, $2, 'unlocked')",
        )
        .bind(user)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(cleared > 0)
}

/// One account event, for the accounts page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct AccountEvent {
    pub at: DateTime<Utc>,
    pub account: String,
    pub actor: Option<String>,
}

/// The latest unlocks, newest first.
pub async fn recent_unlocks(pool: &PgPool, limit: i64) -> Result<Vec<AccountEvent>, AppError> {
    Ok(sqlx::query_as(
        "SELECT e.at, u.name AS account, a.name AS actor FROM account_events e
         JOIN users u ON u.id = e.user_id LEFT JOIN users a ON a.id = e.actor_id
         WHERE e.kind = 'unlocked' ORDER BY e.at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Purges failure rows that neither lock nor count any more, and devices unused for
/// `DEVICE_DAYS`. Returns how many rows went.
pub async fn purge(pool: &PgPool, now: DateTime<Utc>) -> Result<u64, AppError> {
    let failures = sqlx::query(
        "DELETE FROM sign_in_failures
         WHERE last_failure_at < $1 - make_interval(hours => $2)
           AND (locked_until IS NULL OR locked_until < $1)",
    )
    .bind(now)
    .bind(KEEP_FAILURES_HOURS as i32)
    .execute(pool)
    .await?
    .rows_affected();
    let devices = sqlx::query(
        "DELETE FROM known_devices WHERE last_used_at < $1 - make_interval(days => $2)",
    )
    .bind(now)
    .bind(DEVICE_DAYS as i32)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(failures + devices)
}

/// The attempt's origin from the request being served: the client address (the server runs
/// with connect info) and the known-device cookie.
pub fn origin_of_request() -> SignInOrigin {
    let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() else {
        return SignInOrigin::default();
    };
    let address = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let device = parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == DEVICE_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric()));
    SignInOrigin { address, device }
}

/// Sets the known-device cookie on the response being built: HttpOnly, SameSite=Lax, for
/// `DEVICE_DAYS`, Secure over https.
pub fn remember_device(token: &str, secure: bool) {
    let cookie = format!(
        "{DEVICE_COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        DEVICE_DAYS * 24 * 3600,
        if secure { "; Secure" } else { "" }
    );
    if let (Some(options), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie),
    ) {
        options.append_header(http::header::SET_COOKIE, value);
    }
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
