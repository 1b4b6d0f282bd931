//! One incident: its facts, the decision deadline, the §2.2 validation steps, the decision,
//! comments and the timeline.
use super::{DeadlineBadge, PlanStatusBadge, StateBadge};
use crate::domain::lifecycle::{self, Facts};
use crate::domain::{Action, Decision, IncidentState, RollbackType, ValidationStep};
use crate::i18n::{duration_text, Lang, Msg};
use crate::pages::common::TextArea;
use crate::pages::CsrfField;
use crate::records::{EventRecord, IncidentDetail};
use crate::viewer::Viewer;
use leptos::prelude::*;

#[server(endpoint = "load_incident")]
pub async fn load_incident(id: i64) -> Result<Option<IncidentDetail>, ServerFnError> {
    use crate::backend::plans;
    use crate::backend::{incidents, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    let pool = &ctx.state.pool;
    let Some(mut detail) = incidents::detail(pool, ctx.state.approval_policy, id)
        .await
        .map_err(crate::backend::page_error)?
    else {
        return Ok(None);
    };
    detail.plan = plans::load(pool, ctx.state.approval_policy, id, chrono::Utc::now())
        .await
        .map_err(crate::backend::page_error)?
        .map(|p| p.status);
    detail.execution = crate::backend::executions::load(pool, id)
        .await
        .map_err(crate::backend::page_error)?
        .map(|e| (e.status, e.next_step));
    if detail.summary.state.is_open() {
        detail.on_call = Some(
            crate::backend::contacts::who_to_call(pool, chrono::Utc::now())
                .await
                .map_err(crate::backend::page_error)?,
        );
    }
    Ok(Some(detail))
}

#[component]
pub fn IncidentPage() -> impl IntoView {
    super::incident_page(load_incident, |page| {
        view! { <Incident incident=page/> }.into_any()
    })
}

fn decision_label(lang: Lang, decision: Decision) -> String {
    match decision {
        Decision::Rollback(t) => {
            let (lo, hi) = t.estimate_minutes();
            format!(
                "{} — {}",
                Msg::rollback_type(t).text(lang),
                Msg::EstimatedDuration.fill(lang, format!("{lo}–{hi}"))
            )
        }
        Decision::FixForward => Msg::FixForward.text(lang).to_owned(),
    }
}

#[component]
fn Incident(incident: IncidentDetail) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let s = incident.summary.clone();
    let id = s.id;
    let facts = Facts {
        steps_done: incident.steps.iter().map(|r| r.step).collect(),
        rollback: incident.decision.as_ref().and_then(|d| match d.decision {
            Decision::Rollback(t) => Some(t),
            Decision::FixForward => None,
        }),
        has_plan: incident.plan.is_some(),
        plan_ready: incident.plan == Some(crate::domain::plan::PlanStatus::Ready),
    };
    let roles = viewer
        .user
        .as_ref()
        .map(|u| u.roles.clone())
        .unwrap_or_default();
    let allowed = |action: Action| lifecycle::check(s.state, action, &roles, &facts).is_ok();
    let criteria = incident
        .criteria
        .iter()
        .map(|c| view! { <li>{t(Msg::criterion(*c))}</li> })
        .collect_view();
    let other = (!incident.criteria_other.is_empty()).then(|| {
        let text = incident.criteria_other.clone();
        view! { <li>{text}</li> }
    });
    let sla_deadline = s.detected_at + chrono::Duration::minutes(s.severity.sla_minutes());
    let deadline = s.awaits_decision_view(&viewer);

    let steps = ValidationStep::ALL
        .iter()
        .map(|step| {
            let record = incident.step(*step).cloned();
            let form = (record.is_none() && allowed(Action::RecordStep(*step)))
                .then(|| view! { <StepForm incident=id step=*step/> });
            let done = record.map(|r| {
                view! {
                    <p class="done">
                        "✔ "{r.by}" · "{viewer.datetime(r.at)}
                        {(!r.note.is_empty()).then(|| view! { <span class="note">" — "{r.note}</span> })}
                    </p>
                }
            });
            let pending = (done.is_none() && form.is_none())
                .then(|| view! { <p class="muted">{t(Msg::NotRecorded)}</p> });
            view! {
                <li class="step" id=format!("step-{step}")>
                    <h3>{step.number()}". "{t(Msg::step(*step))}</h3>
                    {done}
                    {pending}
                    {form}
                </li>
            }
        })
        .collect_view();

    let decision = match &incident.decision {
        Some(d) => view! {
            <p class="decision"><strong>{decision_label(lang, d.decision)}</strong></p>
            <p>{t(Msg::Reason)}" : "{d.reason.clone()}</p>
            <p class="muted">{d.by.clone()}" · "{viewer.datetime(d.at)}</p>
        }
        .into_any(),
        None if s.state.awaits_decision() => {
            let may_decide = roles.may_decide_rollback() && lifecycle::may_act(&roles);
            if !may_decide {
                view! { <p class="muted">{t(Msg::WhoMayDecide)}</p> }.into_any()
            } else {
                // Shown even with steps missing: the server explains what is missing.
                view! { <DecisionForm incident=id/> }.into_any()
            }
        }
        None => ().into_any(),
    };
    let plan = match &incident.plan {
        Some(status) => Some(view! {
            <h3>{t(Msg::PlanSection)}</h3>
            <p><PlanStatusBadge status=status.clone()/>" "<a href=format!("/incidents/{id}/plan")>{t(Msg::OpenPlan)}</a></p>
            {s.state.reached_execution().then(|| view! {
                <p><a class="button" href=format!("/incidents/{id}/execution")>{t(Msg::OpenExecution)}</a></p>
            })}
            {matches!(s.state, IncidentState::Verifying | IncidentState::Monitoring | IncidentState::Resolved | IncidentState::Closed).then(|| view! {
                <p>
                    <a class="button primary" id="open-verification" href=format!("/incidents/{id}/verification")>{t(Msg::OpenVerification)}</a>" "
                    <a class="button" id="open-post-mortem" href=format!("/incidents/{id}/post-mortem")>{t(Msg::OpenPostMortem)}</a>
                </p>
            })}
        }.into_any()),
        None if allowed(Action::PreparePlan) => Some(view! {
            <p><a class="button primary" href=format!("/incidents/{id}/plan")>{t(Msg::PreparePlan)}</a></p>
        }.into_any()),
        None => None,
    };
    // A stopped execution needs people: say so where everyone looks.
    let stalled = incident.execution.and_then(|(status, step)| {
        use crate::domain::execution::ExecutionStatus as E;
        let msg = match status {
            E::Failed => Msg::ExecutionFailedAt,
            E::Interrupted => Msg::ExecutionInterruptedAt,
            E::Waiting => Msg::ExecutionWaitingAt,
            _ => return None,
        };
        Some(view! {
            <p class="flash alert" role="alert" id="execution-alert">
                {msg.fill(lang, step + 1)}" "
                <a href=format!("/incidents/{id}/execution")>{t(Msg::OpenExecution)}</a>
            </p>
        })
    });
    let cancel = allowed(Action::Cancel).then(|| view! { <CancelForm incident=id/> });
    let edit = allowed(Action::Edit).then(|| view! { <EditForm incident=incident.clone()/> });
    let comment = allowed(Action::Comment).then(|| view! { <CommentForm incident=id/> });
    let events = incident
        .events
        .iter()
        .map(|e| {
            let step = step_name(&incident.step_operations, &e.details, lang);
            view! { <TimelineEntry event=e.clone() step=step/> }
        })
        .collect_view();

    view! {
        <div class="title-row">
            <h1>"#"{id}" "{s.title.clone()}</h1>
            <StateBadge incident=s.clone()/>
        </div>
        <crate::pages::alarms::AlarmBanners incident=id/>
        {incident.on_call.clone().map(|who| view! {
            <section class="card attention" id="who-to-call">
                <h2>{t(Msg::WhoToCall)}</h2>
                <p>{Msg::SomeoneOnItBy.fill(lang, viewer.datetime(sla_deadline))}</p>
                <crate::pages::contacts::OnCallNow who=who/>
                <p><a href="/contacts">{t(Msg::ContactsTitle)}</a></p>
            </section>
        })}
        <section class="card facts">
            <dl>
                <dt>{t(Msg::Severity)}</dt>
                <dd>
                    {t(Msg::severity(s.severity))}" — "
                    {Msg::InterventionSla.fill(lang, duration_text(lang, s.severity.sla_minutes()))}
                    " ("{viewer.time(sla_deadline)}")"
                </dd>
                <dt>{t(Msg::Environment)}</dt>
                <dd><a href=format!("/environments/{}", s.environment_id) id="environment-link">{s.environment.clone()}</a></dd>
                <dt>{t(Msg::DetectedAt)}</dt>
                <dd>{viewer.datetime(s.detected_at)}</dd>
                <dt>{t(Msg::SuspectRelease)}</dt>
                <dd>{incident.suspect_release.clone()}</dd>
                <dt>{t(Msg::Criteria)}</dt>
                <dd><ul>{criteria}{other}</ul></dd>
            </dl>
            {deadline}
            <p class="description">{incident.description.clone()}</p>
            <p class="muted">{if incident.created_by.is_empty() {
                t(Msg::OpenedByAlert).to_owned()
            } else {
                Msg::OpenedBy.fill(lang, &incident.created_by)
            }}</p>
            {edit}
        </section>
        {(!incident.alerts.is_empty()).then(|| view! { <Alerts alerts=incident.alerts.clone()/> })}
        <section class="card" id="steps">
            <h2>{t(Msg::ValidationSteps)}</h2>
            <crate::pages::common::FlashHere anchor="steps"/>
            <ol class="steps">{steps}</ol>
        </section>
        <section class="card" id="decision">
            <h2>{t(Msg::TheDecision)}</h2>
            <crate::pages::common::FlashHere anchor="decision"/>
            {stalled}
            <p><a href=format!("/incidents/{id}/emails")>{t(Msg::OpenEmails)}</a></p>
            {decision}
            {plan}
            {cancel}
        </section>
        <section class="card" id="timeline">
            <h2>{t(Msg::Timeline)}</h2>
            <crate::pages::common::FlashHere anchor="timeline"/>
            {comment}
            <ol class="timeline">{events}</ol>
        </section>
    }
}

/// The alerts that opened or joined the incident, with their links and the deployment live
/// when each started (§11.2: the suspect).
#[component]
fn Alerts(alerts: Vec<crate::records::AlertRecord>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let rows = alerts
        .into_iter()
        .map(|a| {
            let link = |url: Option<String>, label: Msg| {
                url.map(|href| view! { " " <a href=href rel="noreferrer noopener" target="_blank">{t(label)}</a> })
            };
            let deployed = match (a.deployed_version, a.deployed_at) {
                (Some(version), Some(at)) => Some(format!(
                    "{version} {}",
                    Msg::DeployedBeforeAlert.fill(
                        lang,
                        crate::i18n::duration_text(lang, (a.starts_at - at).num_minutes().max(0)),
                    )
                )),
                _ => None,
            };
            let state = match a.resolved_at {
                Some(at) => Msg::AlertResolvedAt.fill(lang, viewer.datetime(at)),
                None => t(Msg::AlertFiring).to_owned(),
            };
            view! {
                <li class="alert-received">
                    <strong>{a.name.clone()}</strong>
                    {(!a.summary.is_empty()).then(|| view! { " — " {a.summary.clone()} })}
                    <br/>
                    <span class="muted">
                        {Msg::AlertStartedAt.fill(lang, viewer.datetime(a.starts_at))}" · "{state}
                    </span>
                    {deployed.map(|text| view! { <br/><span class="deployed-before">{text}</span> })}
                    <br/>
                    {link(a.generator_url, Msg::AlertSource)}
                    {link(a.dashboard_url, Msg::AlertDashboard)}
                    {link(a.panel_url, Msg::AlertPanel)}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" id="alerts">
            <h2>{t(Msg::AlertsTitle)}</h2>
            <ul class="alerts">{rows}</ul>
        </section>
    }
}

trait DeadlineView {
    fn awaits_decision_view(&self, viewer: &Viewer) -> Option<AnyView>;
}

impl DeadlineView for crate::records::IncidentSummary {
    /// The decision deadline box, while the decision is awaited.
    fn awaits_decision_view(&self, viewer: &Viewer) -> Option<AnyView> {
        self.state.awaits_decision().then(|| {
            let overdue = self.is_overdue(chrono::Utc::now());
            let deadline = viewer.time(self.deadline());
            let summary = self.clone();
            view! {
                <p class="deadline-box" class:overdue=overdue>
                    <strong>{viewer.t(Msg::DecisionDeadline)}" "{deadline}</strong>" · "
                    <DeadlineBadge incident=summary/>
                </p>
            }
            .into_any()
        })
    }
}

fn form_key(incident: i64, name: &str) -> String {
    format!("{name}:{incident}")
}

#[component]
fn StepForm(incident: i64, step: ValidationStep) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let action = ServerAction::<RecordStep>::new();
    let key = form_key(incident, &format!("step-{step}"));
    let note = viewer.typed(&key, "note").unwrap_or_default();
    let error = viewer.field_error(&key, "note");
    let id = format!("note-{step}");
    let label_for = id.clone();
    view! {
        <ActionForm action=action>
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <input type="hidden" name="step" value=step.as_str()/>
            <label for=label_for>{viewer.t(Msg::Note)}</label>
            <TextArea id=id name="note" rows=2 maxlength=5000 value=note/>
            {error.map(|e| view! { <p class="error">{e}</p> })}
            <button type="submit">{viewer.t(Msg::RecordStep)}</button>
        </ActionForm>
    }
}

#[component]
fn DecisionForm(incident: i64) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let action = ServerAction::<DecideIncident>::new();
    let key = form_key(incident, "decide");
    let chosen = viewer.typed(&key, "decision").unwrap_or_default();
    let reason = viewer.typed(&key, "reason").unwrap_or_default();
    let choices = RollbackType::ALL
        .iter()
        .map(|t| Decision::Rollback(*t))
        .chain([Decision::FixForward])
        .map(|d| {
            let value = d.as_form_value();
            let id = format!("decision-{}", value.replace(':', "-"));
            let label_for = id.clone();
            let checked = chosen == value;
            view! {
                <label class="check" for=label_for>
                    <input type="radio" id=id name="decision" value=value checked=checked required/>
                    {decision_label(lang, d)}
                </label>
            }
        })
        .collect_view();
    view! {
        <ActionForm action=action>
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <fieldset class="choices">
                <legend>{viewer.t(Msg::TheDecision)}</legend>
                {choices}
                {viewer.field_error(&key, "decision").map(|e| view! { <p class="error">{e}</p> })}
            </fieldset>
            <div class="field">
                <label for="decision-reason">{viewer.t(Msg::Reason)}</label>
                <TextArea id="decision-reason".to_owned() name="reason" rows=2 required=true maxlength=5000 value=reason/>
                {viewer.field_error(&key, "reason").map(|e| view! { <p class="error">{e}</p> })}
            </div>
            <button type="submit" class="primary">{viewer.t(Msg::Decide)}</button>
        </ActionForm>
    }
}

#[component]
fn EditForm(incident: IncidentDetail) -> impl IntoView {
    use super::new::{typed_criteria, CriteriaChoices, SeverityChoices};
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let action = ServerAction::<EditIncident>::new();
    let id = incident.summary.id;
    let key = form_key(id, "edit");
    let posted = viewer
        .flash
        .as_ref()
        .is_some_and(|f| f.form.as_deref() == Some(key.as_str()));
    let value = |name: &str, current: &str| {
        viewer
            .typed(&key, name)
            .unwrap_or_else(|| current.to_owned())
    };
    let error = |name: &str| {
        viewer
            .field_error(&key, name)
            .map(|e| view! { <p class="error">{e}</p> })
    };
    let (title, description, release, other) = (
        value("title", &incident.summary.title),
        value("description", &incident.description),
        value("suspect_release", &incident.suspect_release),
        value("criteria_other", &incident.criteria_other),
    );
    let severity = value("severity", incident.summary.severity.as_str());
    let criteria = typed_criteria(&viewer, &key).unwrap_or_else(|| incident.criteria.clone());
    let (title_error, description_error) = (error("title"), error("description"));
    let (severity_error, criteria_error) = (
        viewer.field_error(&key, "severity"),
        viewer.field_error(&key, "criteria"),
    );
    view! {
        <details class="edit" open=posted>
            <summary>{t(Msg::EditIncident)}</summary>
            <ActionForm action=action>
                <CsrfField/>
                <input type="hidden" name="incident_id" value=id/>
                <div class="field">
                    <label for="edit-title">{t(Msg::Title)}</label>
                    <input id="edit-title" name="title" type="text" required maxlength="200" value=title/>
                    {title_error}
                </div>
                <div class="field">
                    <label for="edit-description">{t(Msg::Description)}</label>
                    <TextArea id="edit-description".to_owned() name="description" rows=4 value=description/>
                    {description_error}
                </div>
                <div class="field">
                    <label for="suspect_release">{t(Msg::SuspectRelease)}</label>
                    <input id="suspect_release" name="suspect_release" type="text" maxlength="200" value=release/>
                </div>
                <SeverityChoices checked=severity error=severity_error/>
                <CriteriaChoices checked=criteria other=other error=criteria_error/>
                <button type="submit">{t(Msg::Save)}</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn CancelForm(incident: i64) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let action = ServerAction::<CancelIncident>::new();
    let key = form_key(incident, "cancel");
    // Open again after a refusal, so that its message is seen.
    let open = viewer
        .flash
        .as_ref()
        .is_some_and(|f| f.form.as_deref() == Some(key.as_str()));
    view! {
        <details class="cancel" open=open>
            <summary>{viewer.t(Msg::CancelIncident)}</summary>
            <ActionForm action=action>
                <CsrfField/>
                <input type="hidden" name="incident_id" value=incident/>
                <label for="cancel-reason">{viewer.t(Msg::CancelReason)}</label>
                <TextArea id="cancel-reason".to_owned() name="reason" rows=2 required=true maxlength=5000 value=viewer.typed(&key, "reason").unwrap_or_default()/>
                {viewer.field_error(&key, "reason").map(|e| view! { <p class="error">{e}</p> })}
                <crate::pages::common::ConfirmTick form=key.clone() id="cancel-confirm".to_owned() label=Msg::ConfirmCancel/>
                <button type="submit" class="danger" id="cancel-incident">{viewer.t(Msg::CancelIncident)}</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn CommentForm(incident: i64) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let action = ServerAction::<CommentIncident>::new();
    let key = form_key(incident, "comment");
    view! {
        <ActionForm action=action>
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <label for="comment-body">{viewer.t(Msg::AddComment)}</label>
            <TextArea id="comment-body".to_owned() name="body" rows=3 required=true maxlength=20000 value=viewer.typed(&key, "body").unwrap_or_default()/>
            {viewer.field_error(&key, "body").map(|e| view! { <p class="error">{e}</p> })}
            <button type="submit">{viewer.t(Msg::Send)}</button>
        </ActionForm>
    }
}

/// "7 — Restaurer la base de données" for an event naming an execution's step.
fn step_name(
    executions: &[(i64, Vec<crate::domain::runbook::Operation>)],
    details: &serde_json::Value,
    lang: crate::i18n::Lang,
) -> Option<String> {
    // Events number steps from 1, as pages do.
    let execution = details["execution"].as_i64()?;
    let number = usize::try_from(details["step"].as_u64()?).ok()?;
    let operation = executions
        .iter()
        .find(|(id, _)| *id == execution)?
        .1
        .get(number.checked_sub(1)?)?;
    Some(format!(
        "{number} — {}",
        Msg::operation(operation).text(lang)
    ))
}

#[component]
fn TimelineEntry(event: EventRecord, step: Option<String>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let d = &event.details;
    let text = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
    let state_label = |k: &str| {
        IncidentState::parse(d[k].as_str().unwrap_or_default())
            .map(|s| t(Msg::state(s)))
            .unwrap_or_default()
    };
    let what = match event.kind.as_str() {
        "step_recorded" => {
            let step = ValidationStep::parse(&text("step"));
            let label = step
                .map(|s| format!("{}. {}", s.number(), t(Msg::step(s))))
                .unwrap_or_default();
            let note = text("note");
            format!(
                "{label}{}",
                if note.is_empty() {
                    String::new()
                } else {
                    format!(" — {note}")
                }
            )
        }
        "decided" => {
            let decision = Decision::parse(&match d["rollback_type"].as_str() {
                Some(rt) => format!("rollback:{rt}"),
                None => text("decision"),
            });
            let label = decision
                .map(|d| decision_label(lang, d))
                .unwrap_or_default();
            format!("{label} — {}", text("reason"))
        }
        "state_changed" => format!("{} → {}", state_label("from"), state_label("to")),
        "checklist_item_ticked" | "automatic_check" | "check_rerun_requested" => {
            let item = crate::domain::verification::ChecklistItem::parse(&text("item"))
                .map(|i| t(super::verification::item_text(i)))
                .unwrap_or_default();
            match d["passed"].as_bool() {
                Some(passed) => format!(
                    "{item} : {}",
                    t(if passed {
                        Msg::ItemPassed
                    } else {
                        Msg::ItemFailed
                    })
                ),
                None => item.to_owned(),
            }
        }
        "monitoring_check_failed" | "monitoring_check_confirmed" => {
            let slot = d["slot"].as_i64().unwrap_or_default();
            let note = text("note");
            let number = Msg::CheckNumber.fill(lang, slot);
            if note.is_empty() {
                number
            } else {
                format!("{number} — {note}")
            }
        }
        "alert_received" | "alert_resolved" => text("name"),
        "incident_resolved" => text("reason"),
        "cancelled" => text("reason"),
        "edited" => d
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default(),
        _ => step.unwrap_or_default(),
    };
    let actor = event
        .actor
        .clone()
        .unwrap_or_else(|| t(Msg::System).to_owned());
    let kind = Msg::event(&event.kind).map(t).unwrap_or_default();
    let comment = event
        .html
        .clone()
        .map(|html| view! { <div class="comment" inner_html=html></div> });
    view! {
        <li class=format!("event event-{}", event.kind)>
            <time datetime=event.at.to_rfc3339()>{viewer.datetime(event.at)}</time>
            " · "<span class="actor">{actor}</span>" · "<strong>{kind}</strong>
            {(!what.is_empty()).then(|| view! { <span class="what">" — "{what}</span> })}
            {comment}
        </li>
    }
}

#[cfg(feature = "ssr")]
async fn act(
    incident_id: i64,
    form: &str,
    values: &[(&str, &str)],
    perform: Result<crate::backend::incidents::Perform, crate::backend::AppError>,
    notice: crate::i18n::Text,
) -> Result<(), ServerFnError> {
    use crate::backend::{incidents, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}");
    let outcome = async {
        let user = ctx.user()?;
        let perform = perform?;
        let state = incidents::perform(&ctx.state.pool, user, incident_id, perform).await?;
        tracing::info!(incident = incident_id, user = %user.id, %state, form, "incident action");
        Ok(Done::to(back.clone()).with_notice(notice))
    }
    .await;
    // Land back on the form's section of this long page.
    let section = match form {
        f if f.starts_with("step-") => Some("steps"),
        "decide" | "cancel" => Some("decision"),
        "comment" => Some("timeline"),
        _ => None,
    };
    let mut post = FormPost::new(form_key(incident_id, form), back.clone());
    if let Some(section) = section {
        post = post.at(section);
    }
    for (name, value) in values {
        post = post.keep(name, value);
    }
    ctx.finish(post, outcome).await
}

#[cfg(feature = "ssr")]
fn bounded(
    field: &str,
    text: &str,
    max: usize,
    required: Option<Msg>,
) -> Result<String, crate::backend::AppError> {
    use crate::backend::AppError;
    let text = text.trim();
    if let Some(msg) = required {
        if text.is_empty() {
            return Err(AppError::field(field, msg));
        }
    }
    if text.chars().count() > max {
        return Err(AppError::field(field, Msg::TextTooLong));
    }
    Ok(text.to_owned())
}

#[server(endpoint = "record_step")]
pub async fn record_step(
    incident_id: i64,
    step: String,
    note: String,
) -> Result<(), ServerFnError> {
    use crate::backend::incidents::Perform;
    use crate::backend::AppError;
    let parsed = ValidationStep::parse(&step);
    let perform = parsed
        .ok_or(AppError::Refused(Msg::InternalError.into()))
        .and_then(|step| {
            Ok(Perform::RecordStep {
                step,
                note: bounded("note", &note, 5000, None)?,
            })
        });
    let notice = crate::i18n::Text::with(
        Msg::StepRecordedNotice,
        parsed.map(|s| s.number()).unwrap_or(0),
    );
    act(
        incident_id,
        &format!("step-{step}"),
        &[("note", &note)],
        perform,
        notice,
    )
    .await
}

#[server(endpoint = "decide_incident")]
pub async fn decide_incident(
    incident_id: i64,
    decision: Option<String>,
    reason: String,
) -> Result<(), ServerFnError> {
    use crate::backend::error::FieldErrors;
    use crate::backend::incidents::Perform;
    let perform = (|| {
        let mut errors = FieldErrors::default();
        let parsed = errors.check(
            "decision",
            decision.as_deref().and_then(Decision::parse),
            Msg::DecisionRequired,
        );
        let reason = errors.check(
            "reason",
            bounded("reason", &reason, 5000, Some(Msg::ReasonRequired)).ok(),
            Msg::ReasonRequired,
        );
        errors.into_result()?;
        match (parsed, reason) {
            (Some(decision), Some(reason)) => Ok(Perform::Decide { decision, reason }),
            _ => Err(crate::backend::AppError::Internal(
                "checked fields missing".into(),
            )),
        }
    })();
    let values = [
        ("decision", decision.as_deref().unwrap_or_default()),
        ("reason", reason.as_str()),
    ];
    act(
        incident_id,
        "decide",
        &values,
        perform,
        Msg::DecidedNotice.into(),
    )
    .await
}

#[server(endpoint = "edit_incident")]
pub async fn edit_incident(
    incident_id: i64,
    title: String,
    description: String,
    severity: Option<String>,
    suspect_release: String,
    criteria: Option<std::collections::HashMap<String, String>>,
    criteria_other: String,
) -> Result<(), ServerFnError> {
    use super::new::TypedFields;
    use crate::backend::error::FieldErrors;
    use crate::backend::incidents::Perform;
    let typed = TypedFields {
        title: &title,
        description: &description,
        severity: severity.as_deref(),
        suspect_release: &suspect_release,
        criteria: &criteria,
        criteria_other: &criteria_other,
    };
    let mut errors = FieldErrors::default();
    let fields = typed.parse(&mut errors);
    let perform = errors.into_result().and_then(|()| {
        fields
            .map(Perform::Edit)
            .ok_or(crate::backend::AppError::Internal(
                "checked fields missing".into(),
            ))
    });
    let kept = typed.keep(crate::backend::FormPost::new("", ""));
    let values: Vec<(&str, &str)> = kept
        .values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    act(
        incident_id,
        "edit",
        &values,
        perform,
        Msg::EditedNotice.into(),
    )
    .await
}

#[server(endpoint = "cancel_incident")]
pub async fn cancel_incident(
    incident_id: i64,
    reason: String,
    #[server(default)] confirm: String,
) -> Result<(), ServerFnError> {
    use crate::backend::incidents::Perform;
    let perform = crate::backend::form::require_confirmation(&confirm)
        .and_then(|()| bounded("reason", &reason, 5000, Some(Msg::ReasonRequired)))
        .map(|reason| Perform::Cancel { reason });
    act(
        incident_id,
        "cancel",
        &[("reason", &reason)],
        perform,
        Msg::CancelledNotice.into(),
    )
    .await
}

#[server(endpoint = "comment_incident")]
pub async fn comment_incident(incident_id: i64, body: String) -> Result<(), ServerFnError> {
    use crate::backend::incidents::Perform;
    let perform = bounded("body", &body, 20_000, Some(Msg::CommentRequired))
        .map(|body| Perform::Comment { body });
    act(
        incident_id,
        "comment",
        &[("body", &body)],
        perform,
        Msg::CommentedNotice.into(),
    )
    .await
}
