use crate::i18n::{Msg, Text};
use std::collections::BTreeMap;

/// Why an action did not happen. Mapped to what the user sees in one place:
/// [`crate::backend::form::RequestCtx::finish`].
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that fails validation: a message per field.
    #[error("invalid input in {0:?}")]
    Invalid(BTreeMap<String, Text>),
    /// A rule refuses the action; the message says which.
    #[error("refused: {0:?}")]
    Refused(Text),
    #[error("not signed in")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("session error: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn field(name: &str, msg: Msg) -> AppError {
        AppError::Invalid(BTreeMap::from([(name.to_owned(), Text::plain(msg))]))
    }
}

/// Collects field errors while parsing a form, so that every wrong field is reported at once.
#[derive(Debug, Default)]
pub struct FieldErrors(BTreeMap<String, Text>);

impl FieldErrors {
    pub fn check<T>(&mut self, name: &str, parsed: Option<T>, msg: Msg) -> Option<T> {
        if parsed.is_none() {
            self.0.insert(name.to_owned(), Text::plain(msg));
        }
        parsed
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}
