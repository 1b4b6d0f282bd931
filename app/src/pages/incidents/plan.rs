//! The rollback plan of an incident: prepared from the decision, rendered step by step with
//! its exact commands (a dry run) and its fingerprint, revised, and approved or rejected.
use super::{PlanStatusBadge, StateBadge};
use crate::domain::lifecycle::{self, Facts};
use crate::domain::plan::{check_review, needs_approvals, Review, ReviewerStanding, Verdict};
use crate::domain::{Action, IncidentState, RollbackType};
use crate::i18n::{duration_text, Msg};
use crate::pages::common::TextArea;
use crate::pages::CsrfField;
use crate::records::{PlanPage as PlanPageData, PlanRecord, ReviewStanding, RunsOn};
use crate::viewer::Viewer;
use leptos::prelude::*;

#[server(endpoint = "load_plan_page")]
pub async fn load_plan_page(incident: i64) -> Result<Option<PlanPageData>, ServerFnError> {
    use crate::backend::{plans, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    let policy = ctx.state.approval_policy;
    plans::page(&ctx.state.pool, policy, incident, chrono::Utc::now())
        .await
        .map_err(crate::backend::page_error)
}

#[component]
pub fn PlanPage() -> impl IntoView {
    super::incident_page(load_plan_page, |page| {
        view! { <Plan page=page/> }.into_any()
    })
}

fn form_key(incident: i64, name: &str) -> String {
    format!("{name}:{incident}")
}

#[component]
fn Plan(page: PlanPageData) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let s = page.incident.clone();
    let id = s.id;
    let roles = viewer
        .user
        .as_ref()
        .map(|u| u.roles.clone())
        .unwrap_or_default();
    let facts = Facts {
        rollback: page.rollback,
        has_plan: page.plan.is_some(),
        plan_ready: page
            .plan
            .as_ref()
            .is_some_and(|p| p.status == crate::domain::plan::PlanStatus::Ready),
        ..Facts::default()
    };
    let allowed = |action: Action| lifecycle::check(s.state, action, &roles, &facts).is_ok();

    let body = match (&page.plan, page.rollback) {
        (Some(plan), _) => {
            let revise = allowed(Action::RevisePlan).then(|| {
                view! {
                    <section class="card" id="revise">
                        <details open=viewer.flash.as_ref().is_some_and(|f| f.form.as_deref() == Some(form_key(id, "plan").as_str()))>
                            <summary>{t(Msg::RevisePlan)}</summary>
                            <PlanForm page=page.clone() revise=true/>
                        </details>
                    </section>
                }
            });
            let execute = allowed(Action::Execute).then(|| {
                view! { <ExecuteForm incident=id plan=plan.clone()/> }
            });
            let follow = (s.state.reached_execution() || plan.execution.is_some()).then(|| {
                view! {
                    <p><a class="button" id="open-execution" href=format!("/incidents/{id}/execution")>{t(Msg::OpenExecution)}</a></p>
                }
            });
            // The Execute form after the steps and the §5.1 warning it confirms.
            view! {
                {follow}
                <PlanView incident=id plan=plan.clone() state=s.state/>
                {execute}
                {revise}
            }
            .into_any()
        }
        (None, Some(kind)) if allowed(Action::PreparePlan) => {
            let problem = match (&page.choices.defaults, kind) {
                (_, RollbackType::System) => None,
                (Err(problem), _) => Some(problem.clone()),
                (Ok(_), _) => None,
            };
            match problem {
                Some(problem) => view! {
                    <section class="card" id="prepare">
                        <h2>{t(Msg::PreparePlan)}</h2>
                        <p class="flash alert" role="alert">{problem_text(lang, &problem)}</p>
                    </section>
                }
                .into_any(),
                None => view! {
                    <section class="card" id="prepare">
                        <h2>{t(Msg::PreparePlan)}</h2>
                        <PlanForm page=page.clone() revise=false/>
                    </section>
                }
                .into_any(),
            }
        }
        _ => view! { <p class="muted">{t(Msg::PlanNeedsDecision)}</p> }.into_any(),
    };
    view! {
        <p><a href=format!("/incidents/{id}")>"← "{t(Msg::BackToIncident)}</a></p>
        <div class="title-row">
            <h1>{t(Msg::PlanTitle)}" — #"{id}" "{s.title.clone()}</h1>
            <StateBadge incident=s.clone()/>
        </div>
        {body}
    }
}

/// Why a plan can't be prepared, in the viewer's language.
fn problem_text(lang: crate::i18n::Lang, problem: &crate::domain::plan::DefaultsProblem) -> String {
    use crate::domain::plan::DefaultsProblem as P;
    match problem {
        P::NoInventory => Msg::PlanNoInventory.text(lang).to_owned(),
        P::NoDefectiveRelease => Msg::PlanNoDefectiveRelease.text(lang).to_owned(),
        P::NoOlderRelease { defective } => Msg::PlanNoOlderRelease.fill(lang, defective),
        P::NoEarlierBackup { version, .. } => Msg::PlanNoEarlierBackup.fill(lang, version),
    }
}

fn change_text(change: crate::domain::plan::BasisChange) -> Msg {
    use crate::domain::plan::BasisChange as C;
    match change {
        C::Target => Msg::ChangeTarget,
        C::Database => Msg::ChangeDatabase,
        C::Settings => Msg::ChangeSettings,
        C::Current => Msg::ChangeCurrent,
        C::ReleaseGone => Msg::ChangeReleaseGone,
        C::Backup => Msg::ChangeBackup,
        C::Deployment => Msg::ChangeDeployment,
        C::Unknown => Msg::ChangeUnknown,
    }
}

#[component]
fn PlanView(incident: i64, plan: PlanRecord, state: IncidentState) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let runs_on = plan.runs_on.clone().map(|r| match r {
        RunsOn::Local { root } => Msg::RunsOnLocal.fill(lang, root),
        RunsOn::Ssh { user, host, port } => {
            Msg::RunsOnSsh.fill(lang, format!("{user}@{host}:{port}"))
        }
    });
    let release_reason = plan.target_release.as_ref().map(|_| t(Msg::ReleaseReason));
    let backup = plan.backup_file.clone().map(|file| {
        let taken = plan.backup_taken_at.map(|at| viewer.datetime(at)).unwrap_or_default();
        let reason = plan
            .defective_version
            .as_ref()
            .map(|v| {
                let at = plan
                    .defective_deployed_at
                    .map(|at| viewer.datetime(at))
                    .unwrap_or_default();
                Msg::BackupReason.fill(lang, format!("{v} ({at})"))
            });
        view! {
            <dt>{t(Msg::BackupToRestore)}</dt>
            <dd><code>{file}</code>" — "{t(Msg::TakenAt)}" "{taken}<br/><span class="muted">{reason}</span></dd>
        }
    });
    // §5.1: everything written since the backup is lost.
    let warning = (plan.kind == RollbackType::ApplicationDatabase)
        .then_some(plan.backup_taken_at)
        .flatten()
        .map(|taken| {
            let lost = (chrono::Utc::now() - taken).num_minutes().max(0);
            view! {
                <div class="warning" role="alert" id="data-loss">
                    <p><strong>{Msg::DataLossWarning.fill(lang, viewer.datetime(taken))}</strong></p>
                    <p>{Msg::DataLossSpan.fill(lang, duration_text(lang, lost))}</p>
                </div>
            }
        });
    let no_op_switch = plan.current_is_target;
    let steps = plan
        .steps
        .iter()
        .map(|step| {
            let label = t(Msg::operation(&step.operation));
            let command = step.operation.command_text();
            let note = (no_op_switch
                && matches!(
                    step.operation,
                    crate::domain::runbook::Operation::SwitchRelease { .. }
                ))
            .then(|| view! { <p class="muted switch-no-op">{t(Msg::SwitchNoOp)}</p> });
            view! {
                <li>
                    <span class="ref">"§"{step.procedure_ref.clone()}</span>" "
                    <strong>{label}</strong>
                    <pre><code>{command}</code></pre>
                    {note}
                </li>
            }
        })
        .collect_view();
    let stale = (!plan.changes.is_empty()).then(|| {
        let items = plan
            .changes
            .iter()
            .map(|c| view! { <li>{t(change_text(*c))}</li> })
            .collect_view();
        view! {
            <div class="warning" role="alert" id="plan-stale">
                <p><strong>{t(Msg::PlanStale)}</strong></p>
                <p>{t(Msg::PlanChangedSince)}</p>
                <ul>{items}</ul>
            </div>
        }
    });
    let warnings = plan
        .warnings
        .iter()
        .map(|w| {
            use crate::domain::plan::ChoiceWarning as W;
            let text = match w {
                W::ReleaseOlderThanProposed { proposed } => {
                    Msg::WarnReleaseOlder.fill(lang, proposed)
                }
                W::BackupOlderThanProposed {
                    proposed,
                    proposed_taken_at,
                } => Msg::WarnBackupOlder.fill(
                    lang,
                    format!("{proposed}, {}", viewer.datetime(*proposed_taken_at)),
                ),
                W::BackupAfterDeployment { deployed_at } => {
                    Msg::WarnBackupAfterDeployment.fill(lang, viewer.datetime(*deployed_at))
                }
            };
            view! { <p class="warning choice-warning">{text}</p> }
        })
        .collect_view();
    let source = plan.defective_source.map(|s| {
        use crate::domain::plan::DefectiveSource as D;
        t(match s {
            D::Suspect => Msg::DefectiveFromSuspect,
            D::Deployment => Msg::DefectiveFromDeployment,
            D::Current => Msg::DefectiveFromCurrent,
        })
    });
    view! {
        <section class="card facts" id="plan">
            <p><PlanStatusBadge status=plan.status.clone()/></p>
            {stale}
            <dl>
                <dt>{t(Msg::RollbackKind)}</dt>
                <dd>{t(Msg::rollback_type(plan.kind))}</dd>
                <dt>{t(Msg::Environment)}</dt>
                <dd>{plan.environment_name.clone()}<br/><span class="muted">{runs_on}</span></dd>
                {plan.from_release.clone().map(|r| view! {
                    <dt>{t(Msg::DefectiveRelease)}</dt>
                    <dd><code class="defective-release">{r}</code>{plan.defective_version.clone().map(|v| format!(" ({v})"))}<br/><span class="muted">{source}</span></dd>
                })}
                {plan.target_release.clone().map(|r| view! {
                    <dt>{t(Msg::TargetRelease)}</dt>
                    <dd><code class="target-release">{r}</code><br/><span class="muted">{release_reason}</span></dd>
                })}
                {backup}
                <dt>{t(Msg::Fingerprint)}</dt>
                <dd><code class="fingerprint">{plan.fingerprint.clone()}</code></dd>
                <dt>{t(Msg::Revision)}</dt>
                <dd>{plan.revision}" — "{t(Msg::PreparedBy)}" "{plan.requested_by_name.clone()}", "{viewer.datetime(plan.updated_at)}</dd>
            </dl>
            {warnings}
            {warning}
            <h2>{t(Msg::DryRun)}</h2>
            <ol class="plan-steps">{steps}</ol>
        </section>
        <Approvals incident=incident plan=plan state=state/>
    }
}

#[component]
fn Approvals(incident: i64, plan: PlanRecord, state: IncidentState) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let user = viewer.user.clone();
    let given: Vec<Review> = plan
        .reviews
        .iter()
        .map(|r| Review {
            reviewer: r.reviewer,
            verdict: r.verdict,
            fingerprint: if r.standing == ReviewStanding::EarlierVersion {
                String::new()
            } else {
                plan.fingerprint.clone()
            },
            at: r.at,
            standing: match r.standing {
                ReviewStanding::Deactivated => ReviewerStanding::Deactivated,
                ReviewStanding::NoLongerDecider => ReviewerStanding::NoLongerDecider,
                _ => ReviewerStanding::MayApprove,
            },
        })
        .collect();
    let policy = crate::domain::plan::ApprovalPolicy::new(
        plan.required,
        u32::try_from(plan.expiry_minutes).unwrap_or(60),
    );
    let may = |verdict: Verdict| {
        user.as_ref().is_some_and(|u| {
            matches!(
                state,
                IncidentState::AwaitingApproval | IncidentState::Decided
            ) && check_review(
                plan.kind,
                plan.requested_by,
                &plan.fingerprint,
                &plan.status,
                &given,
                policy,
                chrono::Utc::now(),
                u.id,
                &u.roles,
                &plan.fingerprint,
                verdict,
            )
            .is_ok()
        })
    };
    let may_approve = may(Verdict::Approved) && state == IncidentState::AwaitingApproval;
    let may_reject = may(Verdict::Rejected) && state == IncidentState::AwaitingApproval;
    let may_withdraw = may(Verdict::Withdrawn);
    let withdraw = may_withdraw.then(|| {
        view! { <WithdrawForm incident=incident fingerprint=plan.fingerprint.clone()/> }
    });
    if !needs_approvals(plan.kind) {
        return view! {
            <section class="card" id="approvals">
                <h2>{t(Msg::Approvals)}</h2>
                <crate::pages::common::FlashHere anchor="approvals"/>
                <p>{t(Msg::NoApprovalNeeded)}</p>
                {withdraw}
            </section>
        }
        .into_any();
    }
    let reviews = plan
        .reviews
        .iter()
        .map(|r| {
            let verdict = match r.verdict {
                Verdict::Approved => t(Msg::VerdictApproved),
                Verdict::Rejected => t(Msg::VerdictRejected),
                Verdict::Withdrawn => t(Msg::VerdictWithdrawn),
            };
            let standing = match r.standing {
                ReviewStanding::Counts if r.verdict == Verdict::Approved => {
                    Msg::ReviewCounts.fill(lang, viewer.datetime(r.expires_at))
                }
                ReviewStanding::Counts => String::new(),
                ReviewStanding::Expired => t(Msg::ReviewExpired).to_owned(),
                ReviewStanding::EarlierVersion => t(Msg::ReviewEarlierVersion).to_owned(),
                ReviewStanding::Deactivated => t(Msg::ReviewDeactivated).to_owned(),
                ReviewStanding::NoLongerDecider => t(Msg::ReviewNoLongerDecider).to_owned(),
            };
            let void = r.standing != ReviewStanding::Counts;
            view! {
                <li class:void=void class=format!("review review-{}", r.verdict)>
                    <strong>{verdict}</strong>" — "{r.name.clone()}" · "{viewer.datetime(r.at)}
                    {(!standing.is_empty()).then(|| view! { <span class="muted">" ("{standing}")"</span> })}
                    {(!r.comment.is_empty()).then(|| view! { <p class="note">{r.comment.clone()}</p> })}
                </li>
            }
        })
        .collect_view();
    let own = user.as_ref().is_some_and(|u| u.id == plan.requested_by);
    let form = (may_approve || may_reject).then(|| {
        view! { <ReviewForm incident=incident fingerprint=plan.fingerprint.clone() approve=may_approve/> }
    });
    let own_note = own.then(|| view! { <p class="muted">{t(Msg::CannotApproveOwnPlan)}</p> });
    view! {
        <section class="card" id="approvals">
            <h2>{t(Msg::Approvals)}</h2>
            <crate::pages::common::FlashHere anchor="approvals"/>
            <p>{Msg::ApprovalRule.fill(lang, plan.required)}" "{Msg::ApprovalExpiry.fill(lang, plan.expiry_minutes)}</p>
            <ul class="reviews">{reviews}</ul>
            {own_note}
            {form}
            {withdraw}
        </section>
    }
    .into_any()
}

#[component]
fn WithdrawForm(incident: i64, fingerprint: String) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let action = ServerAction::<ReviewPlan>::new();
    view! {
        <ActionForm action=action attr:id="withdraw">
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <input type="hidden" name="fingerprint" value=fingerprint/>
            <p class="muted">{viewer.t(Msg::WithdrawExplain)}</p>
            <button type="submit" name="verdict" value="withdrawn" id="withdraw-plan">{viewer.t(Msg::WithdrawPlan)}</button>
        </ActionForm>
    }
}

#[component]
fn ExecuteForm(incident: i64, plan: crate::records::PlanRecord) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let action = ServerAction::<super::ExecutePlan>::new();
    let key = format!("execute:{incident}");
    let error = |name: &str| {
        viewer
            .field_error(&key, name)
            .map(|e| view! { <p class="error" id=format!("execute-{name}-error")>{e}</p> })
    };
    let confirm = plan.kind.restores_data_or_system().then(|| {
        let typed = viewer.typed(&key, "environment_name").unwrap_or_default();
        let read = if plan.kind == RollbackType::System {
            Msg::ExecuteReadSystemWarning
        } else {
            Msg::ExecuteReadWarning
        };
        view! {
            <div class="field check">
                <input type="checkbox" id="execute-read-warning" name="read_warning" value="yes" required=true/>
                <label for="execute-read-warning">{t(read)}</label>
                {error("read_warning")}
            </div>
            <div class="field">
                <label for="execute-environment-name">{Msg::ExecuteTypeEnvironment.fill(lang, &plan.environment_name)}</label>
                <input type="text" id="execute-environment-name" name="environment_name" value=typed autocomplete="off" required=true/>
                {error("environment_name")}
            </div>
        }
    });
    view! {
        <section class="card attention" id="execute">
            <crate::pages::common::FlashHere anchor="execute"/>
            <ActionForm action=action>
                <CsrfField/>
                <input type="hidden" name="incident_id" value=incident/>
                <input type="hidden" name="fingerprint" value=plan.fingerprint.clone()/>
                {plan.kind.restores_data_or_system().then(|| view! { <h2>{t(Msg::ExecuteIrreversibleTitle)}</h2> })}
                <p>{Msg::ExecuteStepsOn.fill(lang, plan.steps.len())}</p>
                {confirm}
                <button type="submit" class="primary" id="execute-plan">{t(Msg::Execute)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ReviewForm(incident: i64, fingerprint: String, approve: bool) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let action = ServerAction::<ReviewPlan>::new();
    let key = form_key(incident, "review");
    let comment = viewer.typed(&key, "comment").unwrap_or_default();
    view! {
        <ActionForm action=action>
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <input type="hidden" name="fingerprint" value=fingerprint/>
            <div class="field">
                <label for="review-comment">{viewer.t(Msg::Comment)}</label>
                <TextArea id="review-comment".to_owned() name="comment" rows=2 maxlength=5000 value=comment/>
                {viewer.field_error(&key, "comment").map(|e| view! { <p class="error">{e}</p> })}
            </div>
            <div class="buttons">
                {approve.then(|| view! { <button type="submit" name="verdict" value="approved" class="primary" id="approve">{viewer.t(Msg::Approve)}</button> })}
                " "
                <button type="submit" name="verdict" value="rejected" class="danger" id="reject">{viewer.t(Msg::Reject)}</button>
            </div>
        </ActionForm>
    }
}

#[component]
fn PlanForm(page: PlanPageData, revise: bool) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let action = ServerAction::<SavePlan>::new();
    let id = page.incident.id;
    let key = form_key(id, "plan");
    let kind = page.rollback.unwrap_or(RollbackType::Application);
    let defaults = page.choices.defaults.as_ref().ok();
    let plan = page.plan.as_ref();
    let target = viewer.typed(&key, "target_release").unwrap_or_else(|| {
        plan.and_then(|p| p.target_release.clone())
            .or_else(|| defaults.map(|d| d.target_release.clone()))
            .unwrap_or_default()
    });
    let backup = viewer.typed(&key, "backup").unwrap_or_else(|| {
        plan.and_then(|p| p.backup_file.clone())
            .or_else(|| defaults.and_then(|d| d.backup.as_ref().map(|b| b.file_name.clone())))
            .unwrap_or_default()
    });
    let manual = viewer.typed(&key, "manual_steps").unwrap_or_else(|| {
        plan.map(|p| {
            p.steps
                .iter()
                .map(|s| s.operation.command_text())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
    });
    let proposed_release = defaults.map(|d| d.target_release.clone());
    let proposed_backup = defaults.and_then(|d| d.backup.as_ref().map(|b| b.file_name.clone()));
    let defective = page.choices.defective.clone();
    let deployed_at = defective.as_ref().and_then(|d| d.deployed_at);
    let release_field = (kind != RollbackType::System).then(|| {
        // §4.2 step 4 goes back: only releases older than the defective one are offered (the
        // server refuses any other).
        let options = page
            .choices
            .releases
            .iter()
            .filter(|r| defective.as_ref().is_none_or(|d| r.as_str() < d.release.as_str()))
            .map(|r| {
                let proposed = proposed_release.as_ref() == Some(r);
                let label = if proposed {
                    format!("{r} ({})", t(Msg::Proposed))
                } else {
                    r.clone()
                };
                view! { <option value=r.clone() selected=*r == target>{label}</option> }
            })
            .collect_view();
        view! {
            <div class="field">
                <label for="plan-target-release">{t(Msg::TargetRelease)}</label>
                <select id="plan-target-release" name="target_release" required>{options}</select>
                {viewer.field_error(&key, "target_release").map(|e| view! { <p class="error">{e}</p> })}
            </div>
        }
    });
    let backup_field = (kind == RollbackType::ApplicationDatabase).then(|| {
        let options = page
            .choices
            .backups
            .iter()
            .map(|(file, taken)| {
                let mut label = format!("{file} — {}", viewer.datetime(*taken));
                if proposed_backup.as_ref() == Some(file) {
                    label.push_str(&format!(" ({})", t(Msg::Proposed)));
                } else if deployed_at.is_some_and(|d| *taken >= d) {
                    label.push_str(&format!(" ({})", t(Msg::TooRecentBackup)));
                }
                view! { <option value=file.clone() selected=*file == backup>{label}</option> }
            })
            .collect_view();
        view! {
            <div class="field">
                <label for="plan-backup">{t(Msg::BackupToRestore)}</label>
                <select id="plan-backup" name="backup" required>{options}</select>
                {viewer.field_error(&key, "backup").map(|e| view! { <p class="error">{e}</p> })}
            </div>
        }
    });
    let manual_field = (kind == RollbackType::System).then(|| {
        view! {
            <div class="field">
                <label for="plan-manual-steps">{t(Msg::ManualSteps)}</label>
                <TextArea id="plan-manual-steps".to_owned() name="manual_steps" rows=8 required=true value=manual/>
                {viewer.field_error(&key, "manual_steps").map(|e| view! { <p class="error">{e}</p> })}
            </div>
        }
    });
    view! {
        <ActionForm action=action>
            <CsrfField/>
            <input type="hidden" name="incident_id" value=id/>
            <input type="hidden" name="change" value=if revise { "revise" } else { "prepare" }/>
            <p>{t(Msg::RollbackKind)}" : "<strong>{t(Msg::rollback_type(kind))}</strong></p>
            {release_field}
            {backup_field}
            {manual_field}
            <button type="submit" class="primary">
                {if revise { t(Msg::RevisePlan) } else { t(Msg::PreparePlan) }}
            </button>
        </ActionForm>
    }
}

#[server(endpoint = "save_plan")]
pub async fn save_plan(
    incident_id: i64,
    change: String,
    #[server(default)] target_release: String,
    #[server(default)] backup: String,
    #[server(default)] manual_steps: String,
) -> Result<(), ServerFnError> {
    use crate::backend::plans::{self, PlanChange, PlanInput};
    use crate::backend::{AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/plan");
    let input = PlanInput {
        target_release: target_release.clone(),
        backup: backup.clone(),
        manual_steps: manual_steps.clone(),
    };
    let outcome = async {
        let user = ctx.user()?;
        let change = match change.as_str() {
            "prepare" => PlanChange::Prepare,
            "revise" => PlanChange::Revise,
            _ => return Err(AppError::Refused(Msg::InternalError.into())),
        };
        let fingerprint = plans::save(&ctx.state.pool, user, incident_id, change, &input).await?;
        tracing::info!(incident = incident_id, user = %user.id, %fingerprint, ?change, "plan saved");
        Ok(Done::to(back.clone()).with_notice(
            match change {
                PlanChange::Prepare => Msg::PlanPrepared,
                PlanChange::Revise => Msg::PlanRevised,
            }
            .into(),
        ))
    }
    .await;
    let post = FormPost::new(form_key(incident_id, "plan"), back.clone())
        .keep("target_release", &target_release)
        .keep("backup", &backup)
        .keep("manual_steps", &manual_steps);
    ctx.finish(post, outcome).await
}

#[server(endpoint = "review_plan")]
pub async fn review_plan(
    incident_id: i64,
    fingerprint: String,
    #[server(default)] verdict: String,
    #[server(default)] comment: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{plans, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/plan");
    let outcome = async {
        let user = ctx.user()?;
        let verdict =
            Verdict::parse(&verdict).ok_or(AppError::Refused(Msg::InternalError.into()))?;
        let comment = comment.trim();
        if comment.chars().count() > 5000 {
            return Err(AppError::field("comment", Msg::TextTooLong));
        }
        let status = plans::review(
            &ctx.state.pool,
            ctx.state.approval_policy,
            user,
            incident_id,
            verdict,
            &fingerprint,
            comment,
            chrono::Utc::now(),
        )
        .await?;
        tracing::info!(incident = incident_id, user = %user.id, %verdict, ?status, "plan reviewed");
        Ok(Done::to(back.clone()).with_notice(
            match verdict {
                Verdict::Approved => Msg::PlanApproved,
                Verdict::Rejected => Msg::PlanRejected,
                Verdict::Withdrawn => Msg::PlanWithdrawnNotice,
            }
            .into(),
        ))
    }
    .await;
    let post = FormPost::new(form_key(incident_id, "review"), back.clone())
        .at("approvals")
        .keep("comment", &comment);
    ctx.finish(post, outcome).await
}
