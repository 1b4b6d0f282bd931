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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Viewer {
    pub user: Option<SignedInUser>,
    pub lang: Lang,
    /// The per-session token every form carries (field `_csrf`).
    pub csrf_token: String,
    pub flash: Option<Flash>,
    /// IANA name, e.g. Europe/Paris: times are shown in it.
    pub time_zone: String,
}

pub const DEFAULT_TIME_ZONE: &str = "Europe/Paris";

impl Viewer {
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Europe::Paris)
    }

    /// A moment in the viewer's time zone: 17/10/2025 14:22 (fr), 2025-10-17 14:22 (en).
    pub fn datetime(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        let local = at.with_timezone(&self.tz());
        match self.lang {
            Lang::Fr => local.format("%d/%m/%Y %H:%M").to_string(),
            Lang::En => local.format("%Y-%m-%d %H:%M").to_string(),
        }
    }

    /// The value of a `datetime-local` input showing `at` in the viewer's time zone.
    pub fn input_datetime(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&self.tz())
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// A `datetime-local` input's value, read in the viewer's time zone.
    pub fn parse_input_datetime(&self, typed: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        use chrono::TimeZone;
        let naive = crate::domain::typed::parse_local_datetime(typed)?;
        let local = self.tz().from_local_datetime(&naive).earliest()?;
        Some(local.with_timezone(&chrono::Utc))
    }

    /// A calendar date: 17/10/2025 (fr), 2025-10-17 (en).
    pub fn date(&self, day: chrono::NaiveDate) -> String {
        match self.lang {
            Lang::Fr => day.format("%d/%m/%Y").to_string(),
            Lang::En => day.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn time(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&self.tz()).format("%H:%M").to_string()
    }

    /// Whether the signed-in user holds `role` (false when signed out).
    pub fn has_role(&self, role: crate::domain::Role) -> bool {
        self.user.as_ref().is_some_and(|u| u.roles.contains(role))
    }

    /// A message in the viewer's language, its moments in the viewer's time zone.
    pub fn render(&self, text: &Text) -> String {
        text.render_with(self.lang, |at| self.datetime(at))
    }

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
            .map(|t| self.render(t))
    }
}

impl Default for Viewer {
    fn default() -> Viewer {
        Viewer {
            user: None,
            lang: Lang::default(),
            csrf_token: String::new(),
            flash: None,
            time_zone: DEFAULT_TIME_ZONE.to_owned(),
        }
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
    /// The section of the page the post came from: the redirect lands there and the message
    /// is shown in it ([`crate::pages::common::FlashHere`]) rather than at the top.
    #[serde(default)]
    pub anchor: Option<String>,
}
