//! The execution of an incident's plan: each step with its status, times, exit code and the
//! tail of its output, the same steps as the plan's dry run; and what a person may do when it
//! runs, fails, stalls or waits for a manual step. Reloading shows the latest state; with
//! JavaScript on, the execution's card refreshes itself in place while it runs (a live
//! region, see style/enhance.js), keeping focus and scroll.
use super::StateBadge;
use crate::domain::execution::{
    check_control, Control, ExecutionFacts, ExecutionStatus, StepStatus,
};
use crate::domain::runner_note::render as render_notes;
use crate::i18n::{duration_text, Msg};
use crate::pages::common::TextArea;
use crate::pages::CsrfField;
use crate::records::{ExecutionRecord, IncidentSummary};
use crate::viewer::Viewer;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionPageData {
    pub incident: IncidentSummary,
    pub execution: Option<ExecutionRecord>,
    /// The restore step this execution left partial: resuming goes no further than it.
    pub partial_restore_step: Option<usize>,
    /// Where `current` points now (read again after every execution).
    pub current: Option<crate::records::CurrentPointer>,
}

#[server(endpoint = "load_execution_page")]
pub async fn load_execution_page(
    incident: i64,
) -> Result<Option<ExecutionPageData>, ServerFnError> {
    use crate::backend::{executions, incidents, inventory, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    let pool = &ctx.state.pool;
    let Some(summary) = incidents::summary(pool, ctx.state.approval_policy, incident)
        .await
        .map_err(crate::backend::page_error)?
    else {
        return Ok(None);
    };
    let execution = executions::load(pool, incident)
        .await
        .map_err(crate::backend::page_error)?;
    let partial_restore_step = match &execution {
        Some(e) => executions::partial_restore_step(pool, e.id)
            .await
            .map_err(crate::backend::page_error)?,
        None => None,
    };
    let current = inventory::current(pool, summary.environment_id)
        .await
        .map_err(crate::backend::page_error)?;
    Ok(Some(ExecutionPageData {
        incident: summary,
        execution,
        partial_restore_step,
        current,
    }))
}

#[component]
pub fn ExecutionPage() -> impl IntoView {
    super::incident_page(load_execution_page, |page| {
        view! { <Execution page=page/> }.into_any()
    })
}

pub fn status_text(status: ExecutionStatus) -> Msg {
    use ExecutionStatus as S;
    match status {
        S::Queued => Msg::ExecQueued,
        S::Running => Msg::ExecRunning,
        S::Waiting => Msg::ExecWaiting,
        S::Succeeded => Msg::ExecSucceeded,
        S::SucceededWithSkips => Msg::ExecSucceededWithSkips,
        S::Failed => Msg::ExecFailed,
        S::Cancelled => Msg::ExecCancelled,
        S::Interrupted => Msg::ExecInterrupted,
        S::Aborted => Msg::ExecAborted,
    }
}

/// What a step's number is: an HTTP check reports a status, a process an exit code.
fn code_label(operation: &crate::domain::runbook::Operation) -> Msg {
    if matches!(
        operation,
        crate::domain::runbook::Operation::HttpCheck { .. }
    ) {
        Msg::HttpStatus
    } else {
        Msg::ExitCode
    }
}

/// The last `n` non-empty lines of a step's output: why it failed, for the top of the page.
fn last_lines(output: &str, n: usize) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn step_text(status: StepStatus) -> Msg {
    match status {
        StepStatus::Running => Msg::StepRunning,
        StepStatus::Succeeded => Msg::StepSucceeded,
        StepStatus::Failed => Msg::StepFailed,
        StepStatus::Interrupted => Msg::StepInterrupted,
        StepStatus::Skipped => Msg::StepSkipped,
    }
}

#[component]
fn Execution(page: ExecutionPageData) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let s = page.incident.clone();
    let id = s.id;
    let header = view! {
        <p>
            <a href=format!("/incidents/{id}")>"← "{t(Msg::BackToIncident)}</a>" · "
            <a href=format!("/incidents/{id}/plan")>{t(Msg::PlanTitle)}</a>
            {matches!(s.state, crate::domain::IncidentState::Verifying | crate::domain::IncidentState::Monitoring | crate::domain::IncidentState::Resolved | crate::domain::IncidentState::Closed).then(|| view! {
                " · "<a href=format!("/incidents/{id}/verification") id="exec-verification">{t(Msg::OpenVerification)}</a>
            })}
        </p>
        <div class="title-row">
            <h1>{t(Msg::ExecutionTitle)}" — #"{id}" "{s.title.clone()}</h1>
            <StateBadge incident=s.clone()/>
        </div>
        <crate::pages::alarms::AlarmBanners incident=id/>
    };
    let Some(execution) = page.execution else {
        return view! { {header} <p class="muted">{t(Msg::NoExecution)}</p> }.into_any();
    };
    let live = matches!(
        execution.status,
        ExecutionStatus::Queued | ExecutionStatus::Running
    );
    let roles = viewer
        .user
        .as_ref()
        .map(|u| u.roles.clone())
        .unwrap_or_default();
    let facts = ExecutionFacts {
        status: execution.status,
        steps: execution.steps.len(),
        cancel_requested: execution.cancel_requested,
    };
    let may = |control: Control| check_control(facts, &control, &roles).is_ok();
    let now = chrono::Utc::now();
    // Steps whose latest attempt is a skip, named.
    let skipped: Vec<String> = execution
        .steps
        .iter()
        .enumerate()
        .filter(|(position, _)| {
            execution
                .attempts
                .iter()
                .rfind(|a| a.position == *position)
                .is_some_and(|a| a.status == StepStatus::Skipped)
        })
        .map(|(position, step)| {
            format!("{} ({})", position + 1, t(Msg::operation(&step.operation)))
        })
        .collect();
    let steps = execution
        .steps
        .iter()
        .enumerate()
        .map(|(position, step)| {
            let attempts: Vec<_> = execution
                .attempts
                .iter()
                .filter(|a| a.position == position)
                .cloned()
                .collect();
            let last = attempts.last().cloned();
            let (class, label) = match &last {
                Some(a) => (a.status.as_str(), t(step_text(a.status)).to_owned()),
                None if position == execution.next_step
                    && execution.status == ExecutionStatus::Waiting =>
                {
                    ("waiting", t(Msg::ExecWaiting).to_owned())
                }
                None => ("pending", t(Msg::StepPending).to_owned()),
            };
            let detail = last.map(|a| {
                let took = a
                    .finished_at
                    .unwrap_or(now)
                    .signed_duration_since(a.started_at);
                let took = if took.num_seconds() < 60 {
                    format!("{:.1} s", took.num_milliseconds() as f64 / 1000.0)
                } else {
                    duration_text(lang, took.num_minutes())
                };
                view! {
                    <p class="muted">
                        {viewer.datetime(a.started_at)}" · "{took}
                        {a.exit_code.map(|c| format!(" · {} {c}", t(code_label(&step.operation))))}
                        {(a.attempt > 1).then(|| format!(" · {} {}", t(Msg::Attempt), a.attempt))}
                        {a.done_by.clone().map(|by| format!(" · {by}"))}
                    </p>
                    {(!a.note.is_empty()).then(|| view! { <p class="note">{a.note.clone()}</p> })}
                    {(!a.output.is_empty()).then(|| view! { <pre class="output" id=format!("output-{}-{}", a.position + 1, a.attempt)><samp>{render_notes(&a.output, lang)}</samp></pre> })}
                }
            });
            view! {
                <li class=format!("exec-step step-{class}") id=format!("exec-step-{}", position + 1)>
                    <span class="ref">"§"{step.procedure_ref.clone()}</span>" "
                    <strong>{t(Msg::operation(&step.operation))}</strong>" "
                    <span class=format!("step-status {class}")>{label}</span>
                    <pre><code>{step.operation.command_text()}</code></pre>
                    {detail}
                </li>
            }
        })
        .collect_view();
    let controls = {
        let cancel = may(Control::Cancel).then(
            || view! { <ControlForm incident=id action="cancel" label=Msg::CancelExecution/> },
        );
        let kill = (execution.cancel_requested && may(Control::Kill))
            .then(|| view! { <ControlForm incident=id action="kill" label=Msg::KillStep/> });
        let retry = may(Control::Retry)
            .then(|| view! { <ControlForm incident=id action="retry" label=Msg::RetryStep/> });
        let abort = may(Control::Abort)
            .then(|| view! { <ControlForm incident=id action="abort" label=Msg::AbortExecution/> });
        // After a restore cut short, going on past it is not offered (the server refuses it).
        let last = page.partial_restore_step.unwrap_or(usize::MAX);
        let names: Vec<String> = execution
            .steps
            .iter()
            .enumerate()
            .take_while(|(p, _)| *p <= last)
            .map(|(p, step)| format!("{} — {}", p + 1, t(Msg::operation(&step.operation))))
            .collect();
        let resume = may(Control::ResumeFrom(0))
            .then(|| view! { <ResumeForm incident=id steps=names next=execution.next_step/> });
        let manual = may(Control::ManualDone).then(|| view! { <ManualForm incident=id/> });
        view! { <div class="controls" id="exec-controls"><crate::pages::common::FlashHere anchor="exec-controls"/>{manual}{cancel}{kill}{retry}{resume}{abort}</div> }
    };
    let stopped = matches!(
        execution.status,
        ExecutionStatus::Failed | ExecutionStatus::Interrupted
    );
    let failure = stopped.then(|| {
        let position = execution.next_step;
        let name = execution
            .steps
            .get(position)
            .map(|step| t(Msg::operation(&step.operation)))
            .unwrap_or_default();
        let heading = if execution.status == ExecutionStatus::Failed {
            Msg::FailureAt
        } else {
            Msg::InterruptedAt
        }
        .fill(lang, format!("{} — {name}", position + 1));
        let output = execution
            .attempts
            .iter()
            .rfind(|a| a.position == position)
            .map(|a| last_lines(&render_notes(&a.output, lang), 8))
            .unwrap_or_default();
        let why = if output.is_empty() {
            view! { <p class="muted">{t(Msg::FailureNoOutput)}</p> }.into_any()
        } else {
            view! {
                <p>{t(Msg::FailureWhy)}</p>
                <pre class="output" id="failure-output"><samp>{output}</samp></pre>
            }
            .into_any()
        };
        let current = page.current.as_ref().map(|c| {
            let line = match (&c.error, &c.current_target, c.current_dangling) {
                (Some(error), _, _) => Msg::CurrentUnread.fill(lang, error),
                (None, Some(target), true) => Msg::CurrentDangling.fill(lang, target),
                (None, target, false) => Msg::CurrentNow.fill(
                    lang,
                    c.current_release
                        .clone()
                        .or_else(|| target.clone())
                        .unwrap_or_else(|| "?".to_owned()),
                ),
                (None, None, true) => Msg::CurrentDangling.fill(lang, "?"),
            };
            view! {
                <p id="failure-current">
                    <strong>{line}</strong>
                    " "<span class="muted">"("{Msg::CurrentReadAt.fill(lang, viewer.datetime(c.taken_at))}")"</span>
                </p>
            }
        });
        view! {
            <div class="failure-summary" id="failure-summary" role="alert">
                <h2><a href=format!("#exec-step-{}", position + 1)>{heading}</a></h2>
                {why}
                {current}
                <p class="muted">{t(Msg::WhatNow)}</p>
            </div>
        }
    });
    view! {
        {header}
        <section class="card" id="execution" data-live=live.then_some("2")>
            <p>
                <span class=format!("exec-status exec-{}", execution.status)>{t(status_text(execution.status))}</span>
                {execution.cancel_requested.then(|| view! { " "<span class="muted">{t(Msg::CancelAsked)}</span> })}
            </p>
            {failure}
            {controls}
            {(!skipped.is_empty()).then(|| view! {
                <p class="warning" id="skipped-steps" role="alert">{Msg::SkippedStepsList.fill(lang, skipped.join(", "))}</p>
            })}
            <p class="muted">
                {t(Msg::RequestedBy)}" "{execution.requested_by.clone()}", "{viewer.datetime(execution.created_at)}
                {execution.finished_at.map(|at| format!(" · {} {}", t(Msg::FinishedAt), viewer.datetime(at)))}
            </p>
            <p class="muted">{t(Msg::Fingerprint)}" "<code class="fingerprint">{execution.fingerprint.clone()}</code></p>
            {live.then(|| view! { <p><a href=format!("/incidents/{id}/execution")>{t(Msg::Refresh)}</a></p> })}
            <h2 class="steps-heading">{t(Msg::StepsHeading)}</h2>
            <ol class="plan-steps">{steps}</ol>
        </section>
    }
    .into_any()
}

#[component]
fn ControlForm(incident: i64, action: &'static str, label: Msg) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<ControlExecution>::new();
    view! {
        <ActionForm action=server attr:class="inline">
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <input type="hidden" name="action" value=action/>
            {(action == "abort").then(|| view! {
                <crate::pages::common::ConfirmTick form=format!("execution:{incident}") id="exec-abort-confirm".to_owned() label=Msg::ConfirmAbort/>
            })}
            <button type="submit" id=format!("exec-{action}") class=if action == "abort" { "danger" } else { "" }>{viewer.t(label)}</button>
        </ActionForm>
    }
}

/// Resume from a chosen step; going past steps that did not succeed skips them, which needs
/// a reason (kept with each skipped step).
#[component]
fn ResumeForm(incident: i64, steps: Vec<String>, next: usize) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<ControlExecution>::new();
    let key = format!("execution:{incident}");
    let chosen = viewer
        .typed(&key, "step")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(next);
    let reason = viewer.typed(&key, "note").unwrap_or_default();
    let options = steps
        .into_iter()
        .enumerate()
        .map(|(p, name)| view! { <option value=p selected=p == chosen>{name}</option> })
        .collect_view();
    view! {
        <ActionForm action=server attr:class="resume">
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <input type="hidden" name="action" value="resume"/>
            <div class="field">
                <label for="resume-step">{viewer.t(Msg::ResumeFrom)}</label>
                <select id="resume-step" name="step">{options}</select>
            </div>
            <div class="field">
                <label for="resume-note">{viewer.t(Msg::Note)}</label>
                <TextArea id="resume-note".to_owned() name="note" rows=2 maxlength=5000 value=reason/>
                <p class="muted">{viewer.t(Msg::SkipNeedsReason)}</p>
                {viewer.field_error(&key, "note").map(|e| view! { <p class="error">{e}</p> })}
            </div>
            <button type="submit" id="exec-resume">{viewer.t(Msg::Resume)}</button>
        </ActionForm>
    }
}

#[component]
fn ManualForm(incident: i64) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<ControlExecution>::new();
    let key = format!("execution:{incident}");
    let note = viewer.typed(&key, "note").unwrap_or_default();
    view! {
        <ActionForm action=server>
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <div class="field">
                <label for="manual-note">{viewer.t(Msg::Note)}</label>
                <TextArea id="manual-note".to_owned() name="note" rows=2 maxlength=5000 value=note/>
            </div>
            <button type="submit" name="action" value="manual_done" class="primary" id="exec-manual-done">{viewer.t(Msg::ManualDone)}</button>
            " "
            <button type="submit" name="action" value="manual_failed" class="danger" id="exec-manual-failed">{viewer.t(Msg::ManualFailed)}</button>
        </ActionForm>
    }
}

#[server(endpoint = "control_execution")]
pub async fn control_execution(
    incident_id: i64,
    action: String,
    #[server(default)] step: Option<usize>,
    #[server(default)] note: String,
    #[server(default)] confirm: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{executions, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/execution");
    let outcome = async {
        let user = ctx.user()?;
        let control = match (action.as_str(), step) {
            ("cancel", _) => Control::Cancel,
            ("kill", _) => Control::Kill,
            ("retry", _) => Control::Retry,
            ("resume", Some(step)) => Control::ResumeFrom(step),
            ("abort", _) => {
                crate::backend::form::require_confirmation(&confirm)?;
                Control::Abort
            }
            ("manual_done", _) => Control::ManualDone,
            ("manual_failed", _) => Control::ManualFailed,
            _ => return Err(AppError::Refused(Msg::InternalError.into())),
        };
        let note = note.trim();
        if note.chars().count() > 5000 {
            return Err(AppError::field("note", Msg::TextTooLong));
        }
        let status = executions::control(&ctx.state.pool, user, incident_id, control, note).await?;
        tracing::info!(incident = incident_id, user = %user.id, %action, %status, "execution controlled");
        Ok(Done::to(back.clone()).with_notice(Msg::ExecutionUpdated.into()))
    }
    .await;
    let post = FormPost::new(format!("execution:{incident_id}"), back.clone())
        .at("exec-controls")
        .keep("note", &note)
        .keep("step", &step.map(|s| s.to_string()).unwrap_or_default());
    ctx.finish(post, outcome).await
}

#[server(endpoint = "execute_plan")]
pub async fn execute_plan(
    incident_id: i64,
    fingerprint: String,
    #[server(default)] read_warning: String,
    #[server(default)] environment_name: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{executions, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/plan");
    let outcome = async {
        let user = ctx.user()?;
        let execution = executions::start_confirmed(
            &ctx.state.pool,
            ctx.state.approval_policy,
            user,
            incident_id,
            Some(&fingerprint),
            chrono::Utc::now(),
            &executions::ExecuteConfirmation {
                read_warning: !read_warning.is_empty(),
                environment_name: environment_name.clone(),
            },
        )
        .await?;
        tracing::info!(incident = incident_id, user = %user.id, execution, "execution queued");
        Ok(Done::to(format!("/incidents/{incident_id}/execution"))
            .with_notice(Msg::ExecutionQueued.into()))
    }
    .await;
    ctx.finish(
        FormPost::new(format!("execute:{incident_id}"), back.clone())
            .at("execute")
            .keep("environment_name", &environment_name),
        outcome,
    )
    .await
}
