//! After the rollback (§6): the ten items of the §6.1 checklist — automatic ones with the
//! runner's evidence and a re-run button, manual ones ticked by people — then the §6.3
//! monitoring window (a check every 15 minutes for two hours), then resolving the incident.
use super::StateBadge;
use crate::domain::lifecycle::{self, Action, Facts};
use crate::domain::verification::{
    due_now, next_due, slot_state, window_end, ChecklistItem, ItemStatus, SlotState,
};
use crate::domain::IncidentState;
use crate::i18n::Msg;
use crate::pages::common::TextArea;
use crate::pages::CsrfField;
use crate::records::{IncidentSummary, MonitoringCheckRecord, VerificationRecord};
use crate::viewer::Viewer;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationPageData {
    pub incident: IncidentSummary,
    pub verification: Option<VerificationRecord>,
}

#[server(endpoint = "load_verification_page")]
pub async fn load_verification_page(
    incident: i64,
) -> Result<Option<VerificationPageData>, ServerFnError> {
    use crate::backend::{incidents, verification, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    let pool = &ctx.state.pool;
    let Some(summary) = incidents::summary(pool, ctx.state.approval_policy, incident)
        .await
        .map_err(crate::backend::page_error)?
    else {
        return Ok(None);
    };
    Ok(Some(VerificationPageData {
        incident: summary,
        verification: verification::load(pool, incident)
            .await
            .map_err(crate::backend::page_error)?,
    }))
}

#[component]
pub fn VerificationPage() -> impl IntoView {
    super::incident_page(load_verification_page, |page| {
        view! { <Verification page=page/> }.into_any()
    })
}

pub(super) fn item_text(item: ChecklistItem) -> Msg {
    use ChecklistItem as I;
    match item {
        I::MainUrl => Msg::CheckMainUrl,
        I::HomePage => Msg::CheckHomePage,
        I::SignIn => Msg::CheckSignIn,
        I::MainFeatures => Msg::CheckMainFeatures,
        I::Logs => Msg::CheckLogs,
        I::Database => Msg::CheckDatabase,
        I::Emails => Msg::CheckEmails,
        I::Sessions => Msg::CheckSessions,
        I::Assets => Msg::CheckAssets,
        I::Performance => Msg::CheckPerformance,
    }
}

fn status_text(status: ItemStatus) -> Msg {
    match status {
        ItemStatus::Waiting => Msg::ItemWaiting,
        ItemStatus::Queued => Msg::ItemQueued,
        ItemStatus::Running => Msg::ItemRunning,
        ItemStatus::Passed => Msg::ItemPassed,
        ItemStatus::Failed => Msg::ItemFailed,
    }
}

#[component]
fn Verification(page: VerificationPageData) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let s = page.incident.clone();
    let id = s.id;
    let header = view! {
        <p>
            <a href=format!("/incidents/{id}")>"← "{t(Msg::BackToIncident)}</a>" · "
            <a href=format!("/incidents/{id}/execution")>{t(Msg::ExecutionTitle)}</a>
        </p>
        <div class="title-row">
            <h1>{t(Msg::VerificationTitle)}" — #"{id}" "{s.title.clone()}</h1>
            <StateBadge incident=s.clone()/>
        </div>
    };
    let Some(v) = page.verification else {
        return view! { {header} <p class="muted">{t(Msg::NoVerificationYet)}</p> }.into_any();
    };
    let roles = viewer
        .user
        .as_ref()
        .map(|u| u.roles.clone())
        .unwrap_or_default();
    let allowed =
        |action: Action| lifecycle::check(s.state, action, &roles, &Facts::default()).is_ok();
    let may_verify = allowed(Action::Verify);
    let now = chrono::Utc::now();
    let pending = v
        .items
        .iter()
        .any(|i| matches!(i.status, ItemStatus::Queued | ItemStatus::Running));
    let items = v
        .items
        .iter()
        .map(|i| {
            let item = i.item;
            let status = i.status;
            let done_by = match (&i.checked_at, &i.checked_by) {
                (Some(at), Some(by)) => Some(format!("{by}, {}", viewer.datetime(*at))),
                (Some(at), None) => Some(format!("{}, {}", t(Msg::TheRunner), viewer.datetime(*at))),
                _ => None,
            };
            let action = if !may_verify {
                None
            } else if item.is_automatic() && matches!(status, ItemStatus::Passed | ItemStatus::Failed) {
                Some(view! { <RerunForm incident=id item=item/> }.into_any())
            } else if !item.is_automatic() && status == ItemStatus::Waiting {
                Some(view! { <TickForm incident=id item=item/> }.into_any())
            } else {
                None
            };
            view! {
                <li class=format!("check-item item-{status}") id=format!("item-{item}")>
                    <strong>{t(item_text(item))}</strong>" "
                    <span class="muted">{t(if item.is_automatic() { Msg::Automatic } else { Msg::Manual })}</span>" "
                    <span class=format!("item-status {status}")>{t(status_text(status))}</span>
                    {done_by.map(|by| view! { <p class="muted">{by}</p> })}
                    {(!i.note.is_empty()).then(|| view! { <p class="note">{i.note.clone()}</p> })}
                    {(!i.evidence.is_empty()).then(|| view! { <pre class="output"><samp>{crate::domain::runner_note::render(&i.evidence, lang)}</samp></pre> })}
                    {action}
                </li>
            }
        })
        .collect_view();
    let alert = (s.state == IncidentState::Monitoring)
        .then_some(v.alert_at)
        .flatten()
        .map(|at| {
            view! {
                <p class="flash alert" role="alert" id="monitoring-alert">
                    {Msg::MonitoringAlert.fill(lang, viewer.datetime(at))}
                </p>
            }
        });
    let monitoring = v
        .monitoring_started_at
        .map(|started| view! { <Monitoring incident=id state=s.state started=started checks=v.checks.clone()/> });
    let resolution = match (v.resolved_at, s.state) {
        (Some(at), _) => Some(
            view! {
                <section class="card" id="resolution">
                    <h2>{t(Msg::Resolution)}</h2>
                    <crate::pages::common::FlashHere anchor="resolution"/>
                    <p>{Msg::ResolvedBy.fill(lang, format!("{}, {}", v.resolved_by.clone().unwrap_or_default(), viewer.datetime(at)))}</p>
                    {v.restored_at.map(|r| view! { <p id="restored-at">{Msg::RestoredAt.fill(lang, viewer.datetime(r))}</p> })}
                    {(!v.resolution_note.is_empty()).then(|| view! { <p class="note">{v.resolution_note.clone()}</p> })}
                </section>
            }
            .into_any(),
        ),
        (None, IncidentState::Monitoring) if allowed(Action::Resolve) => {
            let early = v.monitoring_started_at.is_some_and(|st| now < window_end(st));
            Some(view! { <ResolveForm incident=id early=early/> }.into_any())
        }
        _ => None,
    };
    view! {
        {header}
        {alert}
        <section class="card" id="checklist" data-live=pending.then_some("3")>
            <h2>{t(Msg::ChecklistTitle)}</h2>
            <crate::pages::common::FlashHere anchor="checklist"/>
            <p class="muted">{t(Msg::ChecklistHelp)}</p>
            {pending.then(|| view! { <p><a href=format!("/incidents/{id}/verification")>{t(Msg::Refresh)}</a></p> })}
            <ol class="checklist">{items}</ol>
        </section>
        {monitoring}
        {resolution}
    }
    .into_any()
}

#[component]
fn Monitoring(
    incident: i64,
    state: IncidentState,
    started: chrono::DateTime<chrono::Utc>,
    checks: Vec<MonitoringCheckRecord>,
) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let now = chrono::Utc::now();
    let open = state == IncidentState::Monitoring;
    let next = open
        .then(|| next_due(started, now))
        .flatten()
        .map(|(slot, at)| view! { <p id="next-check">{Msg::NextCheck.fill(lang, format!("{slot} — {}", viewer.datetime(at)))}</p> });
    let due = open.then(|| due_now(started, now)).flatten();
    let rows = checks
        .into_iter()
        .map(|c| {
            let state = slot_state(c.due_at, c.confirmed_at.is_some(), now);
            let (class, label) = match state {
                SlotState::Done => ("done", Msg::SlotDone),
                SlotState::Due => ("due", Msg::SlotDue),
                SlotState::Missed => ("missed", Msg::SlotMissed),
                SlotState::Upcoming => ("upcoming", Msg::SlotUpcoming),
            };
            let results = c.taken_at.map(|at| {
                let lines = c
                    .results
                    .iter()
                    .map(|r| {
                        view! {
                            <li class=if r.passed { "passed" } else { "failed" }>
                                {t(item_text(r.item))}" — "{t(if r.passed { Msg::ItemPassed } else { Msg::ItemFailed })}
                                {(!r.passed).then(|| view! { <pre class="output"><samp>{crate::domain::runner_note::render(&r.evidence, lang)}</samp></pre> })}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <p class="muted">{Msg::TakenByRunner.fill(lang, viewer.datetime(at))}</p>
                    <ul class="check-results">{lines}</ul>
                }
            });
            let confirmed = c.confirmed_at.map(|at| {
                view! {
                    <p class="muted">{Msg::ConfirmedBy.fill(lang, format!("{}, {}", c.confirmed_by.clone().unwrap_or_default(), viewer.datetime(at)))}</p>
                }
            });
            let form = (due == Some(c.slot) && state == SlotState::Due)
                .then(|| view! { <ConfirmForm incident=incident number=c.slot/> });
            let failed = c.passed == Some(false);
            view! {
                <li class=format!("monitoring-check slot-{class}") class:failed=failed id=format!("check-{}", c.slot)>
                    <strong>{Msg::CheckNumber.fill(lang, c.slot)}</strong>" · "{viewer.datetime(c.due_at)}" "
                    <span class=format!("slot-status {class}")>{t(label)}</span>
                    {results}
                    {confirmed}
                    {(!c.note.is_empty()).then(|| view! { <p class="note">{c.note.clone()}</p> })}
                    {form}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" id="monitoring">
            <h2>{t(Msg::MonitoringTitle)}</h2>
            <crate::pages::common::FlashHere anchor="monitoring"/>
            <p>{Msg::MonitoringWindow.fill(lang, format!("{} → {}", viewer.datetime(started), viewer.datetime(window_end(started))))}</p>
            {next}
            <ol class="monitoring-checks">{rows}</ol>
        </section>
    }
}

#[component]
fn TickForm(incident: i64, item: ChecklistItem) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<VerifyItem>::new();
    let key = format!("verify:{incident}:{item}");
    let note = viewer.typed(&key, "note").unwrap_or_default();
    let error = viewer
        .field_error(&key, "note")
        .map(|e| view! { <p class="error">{e}</p> });
    view! {
        <ActionForm action=server attr:class="tick">
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <input type="hidden" name="item" value=item.as_str()/>
            <input type="hidden" name="action" value="tick"/>
            <label for=format!("note-{item}")>{viewer.t(Msg::NoteOptional)}</label>
            <input type="text" id=format!("note-{item}") name="note" maxlength="2000" value=note/>
            {error}
            " "
            <button type="submit" class="primary" id=format!("tick-{item}")>{viewer.t(Msg::TickItem)}</button>
        </ActionForm>
    }
}

#[component]
fn RerunForm(incident: i64, item: ChecklistItem) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<VerifyItem>::new();
    view! {
        <ActionForm action=server attr:class="inline">
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <input type="hidden" name="item" value=item.as_str()/>
            <input type="hidden" name="action" value="rerun"/>
            <button type="submit" id=format!("rerun-{item}")>{viewer.t(Msg::RerunCheck)}</button>
        </ActionForm>
    }
}

#[component]
fn ConfirmForm(incident: i64, number: i32) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<ConfirmCheck>::new();
    let key = format!("monitoring:{incident}");
    let note = viewer.typed(&key, "note").unwrap_or_default();
    view! {
        <ActionForm action=server>
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <input type="hidden" name="slot" value=number/>
            <p class="muted">{viewer.t(Msg::MonitoringPrompts)}</p>
            <div class="field">
                <label for="confirm-note">{viewer.t(Msg::NoteOptional)}</label>
                <TextArea id="confirm-note".to_owned() name="note" rows=2 maxlength=5000 value=note/>
            </div>
            <button type="submit" class="primary" id="confirm-check">{viewer.t(Msg::ConfirmCheckButton)}</button>
        </ActionForm>
    }
}

#[component]
fn ResolveForm(incident: i64, early: bool) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<ResolveIncident>::new();
    let key = format!("resolve:{incident}");
    let reason = viewer.typed(&key, "reason").unwrap_or_default();
    let error = viewer
        .field_error(&key, "reason")
        .map(|e| view! { <p class="error" id="resolve-reason-error">{e}</p> });
    view! {
        <section class="card" id="resolution">
            <h2>{viewer.t(Msg::Resolution)}</h2>
            <crate::pages::common::FlashHere anchor="resolution"/>
            <ActionForm action=server>
                <CsrfField/>
                <input type="hidden" name="incident_id" value=incident/>
                <p class="muted">{viewer.t(if early { Msg::ResolveEarlyHelp } else { Msg::ResolveHelp })}</p>
                <div class="field">
                    <label for="resolve-reason">{viewer.t(if early { Msg::ResolveReason } else { Msg::NoteOptional })}</label>
                    <TextArea id="resolve-reason".to_owned() name="reason" rows=2 maxlength=5000 required=early
                        describedby="resolve-reason-error".to_owned() value=reason/>
                    {error}
                </div>
                <button type="submit" class="primary" id="resolve">{viewer.t(Msg::ResolveIncident)}</button>
            </ActionForm>
        </section>
    }
}

#[server(endpoint = "verify_item")]
pub async fn verify_item(
    incident_id: i64,
    item: String,
    action: String,
    #[server(default)] note: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{verification, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/verification");
    let key = format!("verify:{incident_id}:{item}");
    let outcome = async {
        let user = ctx.user()?;
        let Some(parsed) = ChecklistItem::parse(&item) else {
            return Err(AppError::Refused(Msg::InternalError.into()));
        };
        let note = note.trim();
        if note.chars().count() > 2000 {
            return Err(AppError::field("note", Msg::TextTooLong));
        }
        let pool = &ctx.state.pool;
        match action.as_str() {
            "tick" => {
                verification::tick(pool, user, incident_id, parsed, note, chrono::Utc::now())
                    .await?
            }
            "rerun" => verification::rerun(pool, user, incident_id, parsed).await?,
            _ => return Err(AppError::Refused(Msg::InternalError.into())),
        }
        tracing::info!(incident = incident_id, user = %user.id, %item, %action, "checklist");
        Ok(Done::to(back.clone()).with_notice(Msg::ExecutionUpdated.into()))
    }
    .await;
    ctx.finish(
        FormPost::new(key, back.clone())
            .at("checklist")
            .keep("note", &note),
        outcome,
    )
    .await
}

#[server(endpoint = "confirm_check")]
pub async fn confirm_check(
    incident_id: i64,
    slot: i32,
    #[server(default)] note: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{verification, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/verification");
    let outcome = async {
        let user = ctx.user()?;
        let note = note.trim();
        if note.chars().count() > 5000 {
            return Err(AppError::field("note", Msg::TextTooLong));
        }
        verification::confirm(
            &ctx.state.pool,
            user,
            incident_id,
            slot,
            note,
            chrono::Utc::now(),
        )
        .await?;
        tracing::info!(incident = incident_id, user = %user.id, slot, "monitoring check confirmed");
        Ok(Done::to(back.clone()).with_notice(Msg::ExecutionUpdated.into()))
    }
    .await;
    ctx.finish(
        FormPost::new(format!("monitoring:{incident_id}"), back.clone())
            .at("monitoring")
            .keep("note", &note),
        outcome,
    )
    .await
}

#[server(endpoint = "resolve_incident")]
pub async fn resolve_incident(
    incident_id: i64,
    #[server(default)] reason: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{verification, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/verification");
    let outcome = async {
        let user = ctx.user()?;
        if reason.trim().chars().count() > 5000 {
            return Err(AppError::field("reason", Msg::TextTooLong));
        }
        verification::resolve(
            &ctx.state.pool,
            user,
            incident_id,
            &reason,
            chrono::Utc::now(),
        )
        .await?;
        tracing::info!(incident = incident_id, user = %user.id, "incident resolved");
        Ok(Done::to(format!("/incidents/{incident_id}")).with_notice(Msg::IncidentResolved.into()))
    }
    .await;
    ctx.finish(
        FormPost::new(format!("resolve:{incident_id}"), back.clone())
            .at("resolution")
            .keep("reason", &reason),
        outcome,
    )
    .await
}
