//! The page shell (navigation, language switch, flash messages) and the routes.
mod accounts;
pub mod alarms;
mod common;
pub mod contacts;
mod dashboard;
mod environment_edit;
mod environment_view;
mod environments;
mod history;
mod incidents;
mod mail;
pub mod post_mortems;
mod profile;
mod rollbacks;
mod sign_in;

pub use accounts::{AddAccount, ListAccounts, SaveRoles, SetAccountActive};
pub use common::{CsrfField, SetLanguage, SignOut};
pub use environment_edit::SaveEnvironment;
pub use environment_view::RefreshInventory;
pub use environments::AddEnvironment;
pub use history::RecordDeployment;
pub use incidents::{
    CancelIncident, CommentIncident, ControlExecution, DecideIncident, EditIncident, ExecutePlan,
    ListIncidents, OpenIncident, RecordStep, ReviewPlan, SavePlan, SendEmail,
};
pub use sign_in::SignIn;

use crate::i18n::Msg;
use crate::viewer::Viewer;
use common::{FlashBanner, Header};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The key of the form a post to `action` came from, as that form's page reads what was
/// typed back ([`Viewer::typed`]), for the forms where losing the text hurts: a post made
/// after the session expired is kept and given back after sign-in. `None`: not kept.
pub fn restorable_form(
    action: &str,
    fields: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let incident = field("incident_id").parse::<i64>().ok();
    let on = |name: &str| incident.map(|id| format!("{name}:{id}"));
    match action.strip_prefix("/api/")? {
        "open_incident" => Some("open_incident".to_owned()),
        "save_post_mortem" => on("post-mortem"),
        "comment_incident" => on("comment"),
        "decide_incident" => on("decide"),
        "edit_incident" => on("edit"),
        "cancel_incident" => on("cancel"),
        "record_step" => on(&format!("step-{}", field("step"))),
        "save_plan" => on("plan"),
        "review_plan" => on("review"),
        "control_execution" => on("execution"),
        "send_email" => on("email"),
        "verify_item" => incident.map(|id| format!("verify:{id}:{}", field("item"))),
        "confirm_check" => on("monitoring"),
        "resolve_incident" => on("resolve"),
        _ => None,
    }
    .filter(|key| key.len() <= 200)
}

/// The viewer the server resolved for this request (see `viewer.rs`).
pub fn current_viewer() -> Viewer {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<Viewer>().cloned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        use_context::<Viewer>().unwrap_or_default()
    }
}

pub fn shell(_options: leptos::config::LeptosOptions) -> impl IntoView {
    // No client bundle is ever built here (no wasm32 target): a copy of every resource's data
    // serialized into the page for hydration would only be weight — 64 KiB of output per step
    // on the execution page. Without hydration, resources are not written into the page.
    #[cfg(all(feature = "ssr", not(feature = "hydrate")))]
    if let Some(context) = leptos::reactive::owner::Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let viewer = current_viewer();
    // The page's policy allows the inline scripts Leptos writes, by the nonce it gave them.
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        let policy = crate::backend::security::content_security_policy(Some(&nonce));
        if let Ok(value) = http::HeaderValue::from_str(&policy) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang=viewer.lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href="/style/main.css"/>
                <link rel="icon" href="/style/favicon.svg" type="image/svg+xml"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
                // Enhancement only: marks that scripts run (tests check they don't when off).
                <script src="/style/enhance.js" defer></script>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let viewer = current_viewer();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    provide_context(viewer.clone());
    view! {
        <Title text=t(Msg::AppName)/>
        <Router>
            <a class="skip" href="#main">{t(Msg::SkipToContent)}</a>
            <Header/>
            <main id="main" tabindex="-1">
                <FlashBanner/>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=dashboard::Dashboard ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=sign_in::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents") view=incidents::IncidentsPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/incidents/new")
                        view=incidents::NewIncidentPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/:id")
                        view=incidents::IncidentPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/:id/plan")
                        view=incidents::PlanPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/:id/execution")
                        view=incidents::ExecutionPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/:id/verification")
                        view=incidents::VerificationPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/incidents/:id/emails")
                        view=incidents::EmailsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/mail") view=mail::MailPage ssr=SsrMode::Async/>
                    <Route path=path!("/mail/:name") view=mail::MailFilePage ssr=SsrMode::Async/>
                    <Route path=path!("/history") view=history::HistoryPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/post-mortems")
                        view=post_mortems::PostMortemsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/actions") view=post_mortems::ActionsPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/incidents/:id/post-mortem")
                        view=post_mortems::PostMortemPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/contacts") view=contacts::ContactsPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/environments/:id")
                        view=environment_view::EnvironmentPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/environments/:id")
                        view=environment_edit::EnvironmentEditPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/environments")
                        view=environments::EnvironmentsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/profile") view=profile::ProfilePage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/admin/users")
                        view=accounts::AccountsPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    common::set_status(http::StatusCode::NOT_FOUND);
    view! {
        <h1>{viewer.t(Msg::NotFound)}</h1>
        <p>
            <a href="/">{viewer.t(Msg::BackToDashboard)}</a>
        </p>
    }
}
