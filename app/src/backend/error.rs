use crate::i18n::{Msg, Text};
pub use crate::records::PublicError;
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
    /// The form was already posted once (a one-time token seen again): nothing was done
    /// again; what the first post did is shown.
    #[error("form already submitted")]
    AlreadySubmitted(Box<crate::backend::submissions::FirstPost>),
}

impl AppError {
    /// The database could not be reached (connection lost, refused, pool exhausted, server
    /// shutting down): trying again later may succeed, unlike any other error.
    pub fn is_unavailable(&self) -> bool {
        match self {
            AppError::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_),
            ) => true,
            AppError::Database(sqlx::Error::Database(e)) => e.code().is_some_and(|code| {
                // 08: connection exception; 57P01–57P03: the server is shutting down or
                // starting.
                code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        }
    }
}

impl AppError {
    pub fn field(name: &str, msg: Msg) -> AppError {
        AppError::Invalid(BTreeMap::from([(name.to_owned(), Text::plain(msg))]))
    }

    /// 4xx for what the user sent or may not do, 5xx only for faults.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::Invalid(_) => S::UNPROCESSABLE_ENTITY,
            AppError::Refused(_) => S::BAD_REQUEST,
            AppError::Unauthenticated => S::UNAUTHORIZED,
            AppError::Forbidden => S::FORBIDDEN,
            AppError::AlreadySubmitted(_) => S::CONFLICT,
            AppError::Database(_) | AppError::Session(_) | AppError::Internal(_) => {
                S::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// What the user is told, in the one place that decides it. A fault is logged here with
    /// the request's path and user and a reference the message repeats; its text never leaves
    /// the server.
    pub fn into_public(self, fault: Msg) -> PublicError {
        let status = self.status().as_u16();
        let (message, fields, reference) = match self {
            AppError::Invalid(fields) => (Msg::BadRequest.into(), fields, None),
            AppError::Refused(text) => (text, BTreeMap::new(), None),
            AppError::Unauthenticated => (Msg::SignInRequired.into(), BTreeMap::new(), None),
            AppError::AlreadySubmitted(_) => (Msg::AlreadySubmitted.into(), BTreeMap::new(), None),
            AppError::Forbidden => {
                let (path, user) = request_context();
                tracing::warn!(%path, user, "forbidden action refused");
                (Msg::Forbidden.into(), BTreeMap::new(), None)
            }
            fault_error => {
                let reference = reference();
                let (path, user) = request_context();
                tracing::error!(%reference, %path, user, error = %fault_error, "request failed");
                (
                    Text::with(fault, &reference),
                    BTreeMap::new(),
                    Some(reference),
                )
            }
        };
        PublicError {
            status,
            message,
            fields,
            reference,
        }
    }
}

/// A short reference for a fault, in the log line and on the page.
fn reference() -> String {
    use rand::Rng;
    format!("{:08x}", rand::thread_rng().gen::<u32>())
}

/// The path and the signed-in user of the request being answered, for the log.
fn request_context() -> (String, String) {
    let parts = leptos::prelude::use_context::<http::request::Parts>();
    let path = parts
        .as_ref()
        .map(|p| p.uri.path().to_owned())
        .unwrap_or_default();
    let user = parts
        .as_ref()
        .and_then(|p| p.extensions.get::<crate::viewer::Viewer>())
        .and_then(|v| v.user.as_ref())
        .map(|u| u.id.to_string())
        .unwrap_or_default();
    (path, user)
}

/// A page load's (or a server function's) error as the client gets it: the response's status
/// set to match, the message public. Used by every loader: `.map_err(page_error)?`.
pub fn page_error(err: AppError) -> leptos::prelude::ServerFnError {
    let public = err.into_public(Msg::LoadFailedRef);
    set_status(public.status);
    leptos::prelude::ServerFnError::ServerError(serde_json::to_string(&public).unwrap_or_default())
}

/// Sets the status of the response being built, when there is one.
pub fn set_status(status: u16) {
    if let (Some(response), Ok(status)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        response.set_status(status);
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
