//! What the session holds, under which keys. Sessions live in PostgreSQL (tower-sessions),
//! and only from sign-in on: an anonymous visitor's form token, language and next message
//! travel in a signed cookie ([`Visit`]), so that visiting `/login` stores nothing.
use crate::backend::AppError;
use crate::i18n::Lang;
use crate::viewer::Flash;
use rand::distributions::{Alphanumeric, DistString};
use tower_sessions::Session;
use uuid::Uuid;

const USER_ID: &str = "user_id";
const CSRF: &str = "csrf";
const LANG: &str = "lang";
const FLASH: &str = "flash";
const SEEN: &str = "seen";

/// How stale the session's "last seen" may get before a request writes it again. Sessions end
/// after `session_idle_hours` without a write; reading a session stores nothing, so a page
/// view renews the session at most this often instead of writing (and committing) on every
/// request.
const RENEW_EVERY_SECONDS: i64 = 300;

fn new_token() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 43)
}

pub async fn user_id(session: &Session) -> Result<Option<Uuid>, AppError> {
    Ok(session.get(USER_ID).await?)
}

/// The session's form token, made on first use.
pub async fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(CSRF).await? {
        return Ok(token);
    }
    let token = new_token();
    session.insert(CSRF, &token).await?;
    Ok(token)
}

/// The token without creating one (for checking a post: no session, no valid token).
pub async fn existing_csrf_token(session: &Session) -> Result<Option<String>, AppError> {
    Ok(session.get(CSRF).await?)
}

/// Signs `user` in: a new session id (no session fixation) and a new form token.
pub async fn start_signed_in(session: &Session, user: Uuid, lang: Lang) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(USER_ID, user).await?;
    session.insert(CSRF, new_token()).await?;
    session.insert(LANG, lang).await?;
    Ok(())
}

/// Ends the session entirely: its row is deleted and the cookie cleared.
pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    Ok(())
}

pub async fn lang(session: &Session) -> Result<Option<Lang>, AppError> {
    Ok(session.get(LANG).await?)
}

/// Sets the language: in the session once signed in, else in the visitor's cookie.
pub async fn set_lang(session: &Session, visit: &VisitCookie, lang: Lang) -> Result<(), AppError> {
    if user_id(session).await?.is_some() {
        session.insert(LANG, lang).await?;
    } else {
        visit.update(|v| v.lang = Some(lang));
    }
    Ok(())
}

/// The message for the next page: in the session once signed in, else in the visitor's
/// cookie (a failed sign-in, a signed-out visitor).
pub async fn set_flash(
    session: &Session,
    visit: &VisitCookie,
    flash: Flash,
) -> Result<(), AppError> {
    if user_id(session).await?.is_some() {
        session.insert(FLASH, flash).await?;
    } else {
        visit.update(|v| v.flash = Some(flash));
    }
    Ok(())
}

/// The message for this page, removed from the session. Without one the session is left
/// unmodified (a removal marks it for saving even when there was nothing to remove).
pub async fn take_flash(session: &Session) -> Result<Option<Flash>, AppError> {
    if session.get_value(FLASH).await?.is_none() {
        return Ok(None);
    }
    Ok(session.remove(FLASH).await?)
}

/// Keeps an active session from reaching its idle end: writes the time seen when the last
/// write is older than [`RENEW_EVERY_SECONDS`] (saving moves the session's expiry on).
pub async fn renew(session: &Session, now: chrono::DateTime<chrono::Utc>) -> Result<(), AppError> {
    let seen: Option<i64> = session.get(SEEN).await?;
    if renewal_due(seen, now.timestamp()) {
        session.insert(SEEN, now.timestamp()).await?;
    }
    Ok(())
}

fn renewal_due(seen: Option<i64>, now: i64) -> bool {
    seen.is_none_or(|at| now - at >= RENEW_EVERY_SECONDS)
}

/// The name of the anonymous visitor's cookie.
pub const VISIT_COOKIE: &str = "rbd_visit";

/// What an anonymous visitor carries between requests, in a signed cookie: the sign-in
/// form's token, the language chosen, the message for the next page.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Visit {
    pub csrf: String,
    pub lang: Option<Lang>,
    pub flash: Option<Flash>,
    /// A form posted after the session expired, kept for the next sign-in.
    #[serde(default)]
    pub pending: Option<uuid::Uuid>,
}

/// The key that signs visitors' cookies (HMAC-SHA256), made once and kept in the database
/// so that every instance and every restart accepts the same cookies.
#[derive(Clone)]
pub struct VisitKey(std::sync::Arc<[u8]>);

impl std::fmt::Debug for VisitKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitKey(…)")
    }
}

impl VisitKey {
    /// The stored key, made on first use.
    pub async fn load(pool: &sqlx::PgPool) -> Result<VisitKey, AppError> {
        use rand::RngCore;
        let mut fresh = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut fresh);
        sqlx::query(
            "INSERT INTO app_secrets (name, value) VALUES ('visit_cookie', $1)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&fresh[..])
        .execute(pool)
        .await?;
        let value: Vec<u8> =
            sqlx::query_scalar("SELECT value FROM app_secrets WHERE name = 'visit_cookie'")
                .fetch_one(pool)
                .await?;
        Ok(VisitKey(value.into()))
    }

    #[cfg(test)]
    fn fixed(bytes: &[u8]) -> VisitKey {
        VisitKey(bytes.into())
    }

    fn mac(&self, payload: &[u8]) -> hmac::Hmac<sha2::Sha256> {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(payload);
        mac
    }

    /// `payload.signature`, both base64url.
    pub fn seal(&self, visit: &Visit) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        use hmac::Mac;
        let json = serde_json::to_vec(visit).unwrap_or_default();
        let signature = self.mac(&json).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// The visit a cookie holds, if this server signed it.
    pub fn open(&self, cookie: &str) -> Option<Visit> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        use hmac::Mac;
        let (payload, signature) = cookie.split_once('.')?;
        let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.mac(&json).verify_slice(&signature).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// The visitor's cookie for the request being answered (shared by the gate and the server
/// functions through the request's extensions); the gate writes it back when it changed.
#[derive(Clone, Debug, Default)]
pub struct VisitCookie(std::sync::Arc<std::sync::Mutex<(Visit, bool)>>);

impl VisitCookie {
    /// An anonymous visitor's `visit` as read from the request, given a form token if it has
    /// none yet (then it is sent back).
    pub fn new(visit: Option<Visit>) -> VisitCookie {
        let mut visit = visit.unwrap_or_default();
        let changed = visit.csrf.is_empty();
        if changed {
            visit.csrf = new_token();
        }
        VisitCookie(std::sync::Arc::new(std::sync::Mutex::new((visit, changed))))
    }

    /// A signed-in user's: sent back only if something is put in it (after signing out).
    pub fn quiet(visit: Option<Visit>) -> VisitCookie {
        VisitCookie(std::sync::Arc::new(std::sync::Mutex::new((
            visit.unwrap_or_default(),
            false,
        ))))
    }

    pub fn get(&self) -> Visit {
        self.0.lock().map(|g| g.0.clone()).unwrap_or_default()
    }

    pub fn update(&self, change: impl FnOnce(&mut Visit)) {
        if let Ok(mut guard) = self.0.lock() {
            change(&mut guard.0);
            guard.1 = true;
        }
    }

    /// The visit to send back, if it changed.
    pub fn changed(&self) -> Option<Visit> {
        self.0.lock().ok().filter(|g| g.1).map(|g| g.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_renewed_once_its_last_write_is_five_minutes_old() {
        assert!(renewal_due(None, 1_000), "never written: now");
        assert!(!renewal_due(Some(1_000), 1_000 + 299));
        assert!(renewal_due(Some(1_000), 1_000 + 300));
    }

    #[test]
    fn a_sealed_visit_opens_only_unaltered_and_with_its_key() {
        let key = VisitKey::fixed(&[7; 32]);
        let visit = Visit {
            csrf: "token".into(),
            lang: Some(Lang::En),
            flash: None,
            pending: None,
        };
        let sealed = key.seal(&visit);
        assert_eq!(key.open(&sealed), Some(visit.clone()));
        assert_eq!(VisitKey::fixed(&[8; 32]).open(&sealed), None);
        let (payload, signature) = sealed.split_once('.').unwrap();
        let mut other = visit;
        other.csrf = "mine".into();
        let forged = format!(
            "{}.{signature}",
            key.seal(&other).split_once('.').unwrap().0
        );
        assert_eq!(key.open(&forged), None);
        assert_eq!(key.open(payload), None);
    }
}
