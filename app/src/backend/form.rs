//! The life of a form post: who sent it, then one place that turns the outcome into a redirect
//! with a flash (post/redirect/get), so that it works with JavaScript off and keeps what the
//! user typed when the post is refused.
use crate::backend::{session, AppError, AppState};
use crate::domain::Role;
use crate::i18n::{Msg, Text};
use crate::viewer::{Flash, SignedInUser, Viewer};
use leptos::prelude::*;
use std::collections::BTreeMap;
use tower_sessions::Session;

/// The request a server function is answering.
pub struct RequestCtx {
    pub state: AppState,
    pub session: Session,
    pub viewer: Viewer,
    /// The anonymous visitor's cookie (the gate sends it back when it changed).
    pub visit: session::VisitCookie,
}

/// Where a successful action sends the user, and what it tells them.
pub struct Done {
    pub to: String,
    pub notice: Option<Text>,
    /// Keep what was typed for the next page too (e.g. a preview of an edited email).
    pub keep_form: bool,
}

impl Done {
    pub fn to(to: impl Into<String>) -> Done {
        Done {
            to: to.into(),
            notice: None,
            keep_form: false,
        }
    }

    pub fn with_notice(mut self, notice: Text) -> Done {
        self.notice = Some(notice);
        self
    }

    pub fn keeping_form(mut self) -> Done {
        self.keep_form = true;
        self
    }
}

/// A posted form: its name, the page it came from, and what was typed (never passwords).
pub struct FormPost {
    pub form: String,
    pub back: String,
    pub values: BTreeMap<String, String>,
    /// The id of the page's section holding the form (see [`FormPost::at`]).
    pub anchor: Option<String>,
}

impl FormPost {
    pub fn new(form: impl Into<String>, back: impl Into<String>) -> FormPost {
        FormPost {
            form: form.into(),
            back: back.into(),
            values: BTreeMap::new(),
            anchor: None,
        }
    }

    /// The form stands in the section `anchor` of a long page: coming back to the same page,
    /// the browser lands there and the message is shown next to the form. That section must
    /// hold a [`crate::pages::common::FlashHere`] for `anchor`.
    pub fn at(mut self, anchor: &str) -> FormPost {
        self.anchor = Some(anchor.to_owned());
        self
    }

    pub fn keep(mut self, name: &str, value: &str) -> FormPost {
        self.values.insert(name.to_owned(), value.to_owned());
        self
    }
}

/// The path of a page address, without its fragment.
fn post_back_path(back: &str) -> &str {
    back.split('#').next().unwrap_or(back)
}

/// The confirming tick of an action that can't be undone ([`crate::pages::common::ConfirmTick`]).
pub fn require_confirmation(confirm: &str) -> Result<(), AppError> {
    if confirm.is_empty() {
        Err(AppError::field("confirm", Msg::ConfirmTickRequired))
    } else {
        Ok(())
    }
}

impl RequestCtx {
    pub async fn load() -> Result<RequestCtx, ServerFnError> {
        let state = use_context::<AppState>()
            .ok_or_else(|| ServerFnError::new("application state missing"))?;
        let session = leptos_axum::extract::<Session>()
            .await
            .map_err(|e| ServerFnError::new(format!("no session: {e}")))?;
        let parts = use_context::<http::request::Parts>();
        let viewer = parts
            .as_ref()
            .and_then(|p| p.extensions.get::<Viewer>().cloned())
            .unwrap_or_default();
        let visit = parts
            .as_ref()
            .and_then(|p| p.extensions.get::<session::VisitCookie>().cloned())
            .unwrap_or_default();
        Ok(RequestCtx {
            state,
            session,
            viewer,
            visit,
        })
    }

    /// The request comes from a browser's form (it accepts HTML), not from a script.
    pub fn from_browser(&self) -> bool {
        use_context::<http::request::Parts>()
            .and_then(|p| {
                p.headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.contains("text/html"))
            })
            .unwrap_or(false)
    }

    pub fn user(&self) -> Result<&SignedInUser, AppError> {
        self.viewer.user.as_ref().ok_or(AppError::Unauthenticated)
    }

    pub fn require_role(&self, role: Role) -> Result<&SignedInUser, AppError> {
        let user = self.user()?;
        if user.roles.contains(role) {
            Ok(user)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Answers the form post: a redirect, with a flash saying what happened. The one place
    /// where an [`AppError`] becomes what the user sees.
    pub async fn finish(
        &self,
        post: FormPost,
        outcome: Result<Done, AppError>,
    ) -> Result<(), ServerFnError> {
        let back = post.back.clone();
        let anchor = post.anchor.clone();
        let (to, flash) = match outcome {
            Ok(done) if done.keep_form => (
                done.to,
                Some(Flash {
                    notice: done.notice,
                    form: Some(post.form),
                    values: post.values,
                    ..Flash::default()
                }),
            ),
            Ok(done) => (
                done.to,
                done.notice.map(|notice| Flash {
                    notice: Some(notice),
                    ..Flash::default()
                }),
            ),
            Err(AppError::Unauthenticated) if self.from_browser() => ("/login".to_owned(), None),
            Err(AppError::AlreadySubmitted(first)) if self.from_browser() => (
                first.outcome_path.clone().unwrap_or(post.back),
                Some(Flash {
                    alert: Some(Text::with(
                        Msg::AlreadySubmittedAt,
                        self.viewer.datetime(first.submitted_at),
                    )),
                    notice: first.outcome_notice.map(|n| n.0),
                    ..Flash::default()
                }),
            ),
            Err(err) if !self.from_browser() => {
                // A script or curl: the status says what happened, the body says why.
                let public = err.into_public(Msg::InternalErrorRef);
                crate::backend::error::set_status(public.status);
                return Err(ServerFnError::ServerError(
                    serde_json::to_string(&public).unwrap_or_default(),
                ));
            }
            Err(err) => {
                let mut flash = Flash {
                    form: Some(post.form),
                    values: post.values,
                    ..Flash::default()
                };
                let invalid = matches!(err, AppError::Invalid(_));
                let public = err.into_public(Msg::InternalErrorRef);
                flash.errors = public.fields;
                if !invalid {
                    flash.alert = Some(public.message);
                }
                (post.back, Some(flash))
            }
        };
        // Back on the page of the form: land on its section, the message shown there.
        let same_page = to.split('#').next() == Some(post_back_path(&back));
        let (to, flash) = match (&anchor, same_page, to.contains('#')) {
            (Some(anchor), true, false) => (
                format!("{to}#{anchor}"),
                flash.map(|f| Flash {
                    anchor: Some(anchor.clone()),
                    ..f
                }),
            ),
            _ => (to, flash),
        };
        if let Some(flash) = flash {
            session::set_flash(&self.session, &self.visit, flash)
                .await
                .map_err(crate::backend::page_error)?;
        }
        leptos_axum::redirect(&to);
        Ok(())
    }
}
