//! Incident pages: the list, opening an incident, and the incident itself.
mod detail;
mod emails;
mod execution;
mod list;
mod new;
mod plan;
mod verification;

pub use detail::{
    CancelIncident, CommentIncident, DecideIncident, EditIncident, IncidentPage, RecordStep,
};
pub use emails::{EmailsPage, SendEmail};
pub use execution::{ControlExecution, ExecutePlan, ExecutionPage};
pub use list::{list_incidents, IncidentQuery, IncidentTable, IncidentsPage, ListIncidents};
pub use new::{NewIncidentPage, OpenIncident};
pub use plan::{PlanPage, ReviewPlan, SavePlan};
pub use verification::VerificationPage;

use crate::i18n::{duration_text, Msg};
use crate::records::IncidentSummary;
use crate::viewer::Viewer;
use chrono::Utc;
use leptos::prelude::*;

/// Time left before the decision deadline, or how late it is; ticks with JavaScript on.
#[component]
pub fn DeadlineBadge(incident: IncidentSummary) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    if !incident.state.awaits_decision() {
        return ().into_any();
    }
    let now = Utc::now();
    let deadline = incident.deadline();
    let minutes = (deadline - now).num_seconds().div_euclid(60);
    let overdue = incident.is_overdue(now);
    let text = if overdue {
        Msg::OverdueBy.fill(lang, duration_text(lang, minutes.abs().max(1)))
    } else {
        Msg::TimeLeft.fill(lang, duration_text(lang, minutes + 1))
    };
    view! {
        <span
            class="deadline"
            class:overdue=overdue
            data-deadline=deadline.to_rfc3339()
            data-lang=lang.code()
        >
            {text}
        </span>
    }
    .into_any()
}

#[component]
pub fn StateBadge(incident: crate::records::IncidentSummary) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let (class, text) = shown_state(&incident, viewer.lang);
    // A failed §6.3 check is a flag of its own, next to the state.
    let alert = match (incident.state, incident.monitoring_alert_at) {
        (crate::domain::IncidentState::Monitoring, Some(at)) => Some(view! {
            " "<span class="state state-exec-failed monitoring-alert">
                {Msg::MonitoringAlert.fill(viewer.lang, viewer.datetime(at))}
            </span>
        }),
        _ => None,
    };
    view! { <span class=format!("state state-{class}")>{text}</span>{alert} }
}

/// The incident's state as one badge says it, agreeing with its plan and its latest execution:
/// a ready plan is "ready to execute" whatever the stored state, a stale one says so, a failed
/// execution is never "executing", and skipped steps are never silent.
pub fn shown_state(
    incident: &crate::records::IncidentSummary,
    lang: crate::i18n::Lang,
) -> (String, String) {
    use crate::domain::execution::ExecutionStatus as E;
    use crate::domain::plan::PlanStatus as P;
    use crate::domain::IncidentState as S;
    let state = incident.state;
    let plain = (
        state.as_str().to_owned(),
        Msg::state(state).text(lang).to_owned(),
    );
    match (state, &incident.plan, incident.execution) {
        (S::Decided | S::AwaitingApproval, Some(plan), _) => match plan {
            P::Ready => ("ready".into(), Msg::PlanStatusReady.text(lang).into()),
            P::Stale { .. } => ("stale".into(), Msg::PlanStatusStale.text(lang).into()),
            P::Rejected => ("rejected".into(), Msg::VerdictRejected.text(lang).into()),
            P::Withdrawn => ("withdrawn".into(), Msg::VerdictWithdrawn.text(lang).into()),
            P::AwaitingApproval { have, need } => (
                "awaiting_approval".into(),
                Msg::PlanStatusAwaiting.fill(lang, format!("{have}/{need}")),
            ),
            P::Executing | P::Executed => plain,
        },
        (S::Executing, _, Some(e @ (E::Failed | E::Interrupted))) => {
            let (number, operation) = incident.execution_step.clone().unwrap_or((0, None));
            let msg = if e == E::Failed {
                Msg::AttentionExecFailed
            } else {
                Msg::AttentionExecInterrupted
            };
            let name = operation
                .map(|o| format!(" — {}", Msg::operation(&o).text(lang)))
                .unwrap_or_default();
            (
                format!("exec-{e}"),
                format!("{}{name}", msg.fill(lang, number)),
            )
        }
        (S::Executing, _, Some(e @ (E::Waiting | E::Queued))) => (
            format!("exec-{e}"),
            format!(
                "{} · {}",
                Msg::state(state).text(lang),
                execution::status_text(e).text(lang)
            ),
        ),
        (_, _, Some(E::SucceededWithSkips)) if state.reached_execution() => (
            state.as_str().to_owned(),
            format!(
                "{} · {}",
                Msg::state(state).text(lang),
                Msg::ExecSucceededWithSkips.text(lang)
            ),
        ),
        _ => plain,
    }
}

/// Where a rollback plan stands: awaiting approvals (with the count), ready, or rejected.
#[component]
pub fn PlanStatusBadge(status: crate::domain::plan::PlanStatus) -> impl IntoView {
    use crate::domain::plan::PlanStatus;
    let viewer = expect_context::<Viewer>();
    let (class, text) = match status {
        PlanStatus::AwaitingApproval { have, need } => (
            "awaiting",
            Msg::PlanStatusAwaiting.fill(viewer.lang, format!("{have}/{need}")),
        ),
        PlanStatus::Ready => ("ready", viewer.t(Msg::PlanStatusReady).to_owned()),
        PlanStatus::Rejected => ("rejected", viewer.t(Msg::PlanStatusRejected).to_owned()),
        PlanStatus::Withdrawn => ("withdrawn", viewer.t(Msg::PlanStatusWithdrawn).to_owned()),
        PlanStatus::Stale { .. } => ("stale", viewer.t(Msg::PlanStatusStale).to_owned()),
        PlanStatus::Executing => ("executing", viewer.t(Msg::PlanStatusExecuting).to_owned()),
        PlanStatus::Executed => ("executed", viewer.t(Msg::PlanStatusExecuted).to_owned()),
    };
    view! { <span class=format!("plan-status plan-{class}")>{text}</span> }
}

/// The page of the incident whose `:id` is in the URL: loads what `load` returns for it, then
/// renders it; an unknown incident is a 404, a failed load says why.
pub fn incident_page<T, Fut>(
    load: impl Fn(i64) -> Fut + Copy + Send + Sync + 'static,
    render: fn(T) -> AnyView,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    Fut: std::future::Future<Output = Result<Option<T>, ServerFnError>> + Send + 'static,
{
    use crate::pages::common::Refusal;
    let id = leptos_router::hooks::use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|id| id.parse::<i64>().ok());
    let page = Resource::new(
        move || id,
        move |id| async move {
            match id {
                Some(id) => load(id).await,
                None => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Some(page)) => render(page),
                    Ok(None) => view! {
                        <Refusal msg=Msg::UnknownIncident status=http::StatusCode::NOT_FOUND/>
                    }
                    .into_any(),
                    Err(e) => view! { <crate::pages::common::LoadFailed error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
