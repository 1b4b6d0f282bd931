//! What the session holds, under which keys. Sessions live in PostgreSQL (tower-sessions).
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

pub async fn set_lang(session: &Session, lang: Lang) -> Result<(), AppError> {
    Ok(session.insert(LANG, lang).await?)
}

pub async fn set_flash(session: &Session, flash: Flash) -> Result<(), AppError> {
    Ok(session.insert(FLASH, flash).await?)
}

pub async fn take_flash(session: &Session) -> Result<Option<Flash>, AppError> {
    Ok(session.remove(FLASH).await?)
}
