//! Server-side services behind the pages: state, sessions, accounts, and the one place where
//! errors become what a user sees.
pub mod accounts;
pub mod alerts;
pub mod attention;
pub mod contacts;
pub mod deployments;
pub mod emails;
pub mod environments;
pub mod error;
pub mod executions;
pub mod form;
pub mod history;
pub mod incidents;
pub mod inventory;
pub mod markdown;
pub mod password;
pub mod pending_posts;
pub mod plans;
pub mod post_mortems;
pub mod security;
pub mod session;
pub mod settings;
pub mod sign_in;
pub mod ssh;
pub mod state;
pub mod step_processes;
pub mod submissions;
pub mod timeline;
pub mod transitions;
pub mod verification;

pub use error::{page_error, AppError};

/// A page of rows read with one row more than the page holds: the page, and whether more
/// follow.
pub fn one_page<T>(mut rows: Vec<T>, size: i64) -> (Vec<T>, bool) {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let more = rows.len() > size;
    rows.truncate(size);
    (rows, more)
}
pub use form::{Done, FormPost, RequestCtx};
pub use state::{AppState, SignInPolicy};
