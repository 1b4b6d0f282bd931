//! The dashboard: open incidents with their decision deadlines (overdue first), and what the
//! signed-in person may do.
use crate::i18n::Msg;
use crate::pages::incidents::{list_incidents, IncidentQuery, IncidentTable};
use crate::records::{AttentionItem, AttentionKind};
use crate::viewer::Viewer;
use leptos::prelude::*;

/// What needs someone now, most urgent first.
#[server(endpoint = "attention_now")]
pub async fn attention_now() -> Result<Vec<AttentionItem>, ServerFnError> {
    use crate::backend::{attention, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let user = ctx.user().map_err(crate::backend::page_error)?;
    let now = chrono::Utc::now();
    let today = now.with_timezone(&ctx.viewer.tz()).date_naive();
    attention::now(&ctx.state.pool, ctx.state.approval_policy, user, now, today)
        .await
        .map_err(crate::backend::page_error)
}

#[component]
fn Attention(items: Vec<AttentionItem>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let made = Msg::PageMadeAt.fill(lang, viewer.datetime(chrono::Utc::now()));
    let lines = items
        .iter()
        .map(|item| {
            let when = viewer.datetime(item.since);
            let what = match &item.kind {
                AttentionKind::ExecutionFailed { step, operation }
                | AttentionKind::ExecutionInterrupted { step, operation } => {
                    let msg = if matches!(item.kind, AttentionKind::ExecutionFailed { .. }) {
                        Msg::AttentionExecFailed
                    } else {
                        Msg::AttentionExecInterrupted
                    };
                    let name = operation
                        .as_ref()
                        .map(|o| format!(" — {}", t(Msg::operation(o))))
                        .unwrap_or_default();
                    format!(
                        "{}{name} · {}",
                        msg.fill(lang, step),
                        Msg::SinceTime.fill(lang, &when)
                    )
                }
                AttentionKind::MonitoringFailed { slot } => format!(
                    "{} · {}",
                    Msg::AttentionMonitoringFailed.fill(lang, slot),
                    Msg::SinceTime.fill(lang, &when)
                ),
                AttentionKind::DecisionOverdue => Msg::AttentionDecisionOverdue.fill(lang, &when),
                AttentionKind::DecisionDueSoon => Msg::AttentionDecisionDue.fill(lang, &when),
                AttentionKind::PostMortemOverdue => Msg::AttentionPmOverdue.fill(lang, &when),
                AttentionKind::PostMortemDueSoon => Msg::AttentionPmDue.fill(lang, &when),
                AttentionKind::ApprovalWaiting { kind } => format!(
                    "{} · {}",
                    Msg::AttentionApproval.fill(lang, t(Msg::rollback_type(*kind))),
                    Msg::SinceTime.fill(lang, &when)
                ),
                AttentionKind::PlanReady { kind } => format!(
                    "{} · {}",
                    Msg::AttentionPlanReady.fill(lang, t(Msg::rollback_type(*kind))),
                    Msg::SinceTime.fill(lang, &when)
                ),
                AttentionKind::MonitoringDue { slot } => format!(
                    "{} · {}",
                    Msg::AttentionMonitoringDue.fill(lang, slot),
                    Msg::SinceTime.fill(lang, &when)
                ),
                AttentionKind::ActionOverdue { action, due_on } => format!(
                    "{} : {action}",
                    Msg::AttentionActionOverdue.fill(lang, viewer.date(*due_on))
                ),
            };
            view! {
                <li class=format!("attention-{}", item.kind.class())>
                    <a href=item.link.clone()>{format!("#{} {}", item.incident, item.title)}</a>
                    <span class="attention-what">{what}</span>
                </li>
            }
        })
        .collect_view();
    let body = if items.is_empty() {
        view! { <p class="muted">{t(Msg::AttentionNone)}</p> }.into_any()
    } else {
        view! { <ul class="attention-list">{lines}</ul> }.into_any()
    };
    view! {
        <section class="card" class:attention=!items.is_empty() id="attention" data-live="30">
            <div class="title-row">
                <h2>{t(Msg::AttentionTitle)}</h2>
                <span class="muted">{made}" · "<a href="/" id="refresh-dashboard">{t(Msg::RefreshPage)}</a></span>
            </div>
            {body}
        </section>
    }
}

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
                for_dashboard: true,
                ..IncidentQuery::default()
            })
        },
    );
    let attention = Resource::new(|| (), |_| attention_now());
    let my_actions = Resource::new(
        || (),
        |_| crate::pages::post_mortems::list_open_actions(true, 1),
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
            <crate::pages::alarms::AlarmBanners/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    crate::pages::common::loaded(attention.await, |items| view! { <Attention items=items/> })
                })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let (mine, more) = match my_actions.await {
                        Ok(mine) => mine,
                        Err(error) => return view! { <crate::pages::common::LoadFailed error=error/> }.into_any(),
                    };
                    (!mine.is_empty()).then(|| view! {
                        <section class="card" id="my-actions">
                            <h2>{t(Msg::MyActions)}</h2>
                            <crate::pages::post_mortems::ActionsTable rows=mine/>
                            {more.then(|| view! { <p><a href="/actions">{t(Msg::ActionsTitle)}</a></p> })}
                        </section>
                    })
                    .into_any()
                })}
            </Suspense>
            <section class="card" id="open-incidents" data-live="30">
                <div class="title-row">
                    <h2>{t(Msg::OpenIncidents)}</h2>
                    {may_open.then(|| view! { <a class="button primary" href="/incidents/new">{t(Msg::NewIncident)}</a> })}
                </div>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        crate::pages::common::loaded(open.await, |page| {
                            // More open incidents than one page: the way to all of them.
                            let more = (page.total > page.incidents.len() as i64).then(|| view! {
                                <p><a href="/incidents?open=1">{Msg::AllOpenIncidents.fill(lang, format!(
                                    "{}{}",
                                    page.total.min(crate::records::INCIDENT_COUNT_CAP),
                                    crate::records::beyond_incident_count(page.total)
                                ))}</a></p>
                            });
                            view! { <IncidentTable incidents=page.incidents/> {more} }
                        })
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
