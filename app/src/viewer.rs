//! Who is looking at the page, in which language, with which form token and flash message.
//!
//! The server resolves it once per request (session + database) and hands it to the page and
//! to server functions through the request's extensions.
use crate::domain::Roles;
use crate::i18n::{Lang, Msg, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub roles: Roles,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Viewer {
    pub user: Option<SignedInUser>,
    pub lang: Lang,
    /// The per-session token every form carries (field `_csrf`).
    pub csrf_token: String,
    pub flash: Option<Flash>,
}

impl Viewer {
    pub fn t(&self, msg: Msg) -> &'static str {
        msg.text(self.lang)
    }

    /// What the user typed in `form`'s field `name` before a rejected post, if anything.
    pub fn typed(&self, form: &str, name: &str) -> Option<String> {
        self.flash
            .as_ref()
            .filter(|f| f.form.as_deref() == Some(form))
            .and_then(|f| f.values.get(name).cloned())
    }

    /// The error to show next to `form`'s field `name`, in the viewer's language.
    pub fn field_error(&self, form: &str, name: &str) -> Option<String> {
        self.flash
            .as_ref()
            .filter(|f| f.form.as_deref() == Some(form))
            .and_then(|f| f.errors.get(name))
            .map(|t| t.render(self.lang))
    }
}

/// Carried in the session across the redirect that follows a form post (post/redirect/get):
/// what was typed, what was wrong, or what went well. Shown once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// Which form the values and errors belong to (a page may hold several forms).
    pub form: Option<String>,
    pub values: BTreeMap<String, String>,
    pub errors: BTreeMap<String, Text>,
    pub notice: Option<Text>,
    pub alert: Option<Text>,
}
