//! The dashboard: open incidents with their decision deadlines (overdue first), and what the
//! signed-in person may do.
use crate::i18n::Msg;
use crate::pages::incidents::{list_incidents, IncidentQuery, IncidentTable};
use crate::viewer::Viewer;
use leptos::prelude::*;

#[component]
pub fn Dashboard() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let open = Resource::new(
        || (),
        |_| {
            list_incidents(IncidentQuery {
                open: Some("1".into()),
                ..IncidentQuery::default()
            })
        },
    );
    viewer.user.map(|user| {
        let may_decide = user.roles.may_decide_rollback();
        let may_open = crate::domain::lifecycle::may_act(&user.roles);
        let roles = user
            .roles
            .iter()
            .map(|r| view! { <li>{t(Msg::role(r))}</li> })
            .collect_view();
        view! {
            <h1>{t(Msg::DashboardTitle)}</h1>
            <p class="lead">{Msg::Welcome.fill(lang, &user.name)}</p>
            <section class="card" id="open-incidents">
                <div class="title-row">
                    <h2>{t(Msg::OpenIncidents)}</h2>
                    {may_open.then(|| view! { <a class="button primary" href="/incidents/new">{t(Msg::NewIncident)}</a> })}
                </div>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        open.await.map(|page| view! { <IncidentTable incidents=page.incidents/> })
                    })}
                </Suspense>
            </section>
            <section class="card">
                <h2>{t(Msg::YourRoles)}</h2>
                <ul class="roles">{roles}</ul>
                <p>{t(if may_decide { Msg::MayDecide } else { Msg::MayNotDecide })}</p>
                <p class="muted">{t(Msg::DecisionRule)}</p>
            </section>
        }
    })
}
