//! The dashboard: what the signed-in person can do now.
use crate::i18n::Msg;
use crate::viewer::Viewer;
use leptos::prelude::*;

#[component]
pub fn Dashboard() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    viewer.user.map(|user| {
        let may_decide = user.roles.may_decide_rollback();
        let roles = user
            .roles
            .iter()
            .map(|r| view! { <li>{t(Msg::role(r))}</li> })
            .collect_view();
        view! {
            <h1>{t(Msg::DashboardTitle)}</h1>
            <p class="lead">{Msg::Welcome.fill(lang, &user.name)}</p>
            <section class="card">
                <h2>{t(Msg::YourRoles)}</h2>
                <ul class="roles">{roles}</ul>
                <p>{t(if may_decide { Msg::MayDecide } else { Msg::MayNotDecide })}</p>
                <p class="muted">{t(Msg::DecisionRule)}</p>
            </section>
        }
    })
}
