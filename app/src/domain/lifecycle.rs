//! The incident lifecycle of DESIGN.md — the one state machine, in one place.
//!
//! `detected → evaluating → decided → (awaiting_approval →) executing → verifying →
//! monitoring → resolved → closed`, with the side exits `fix_forward` and `cancelled`.
//! [`check`] says whether an action is allowed, for whom, and what state follows; the server
//! calls it inside the transaction that changes the incident, so a forged post is refused like
//! a hidden button.
use crate::domain::plan::needs_approvals;
use crate::domain::{Decision, Role, Roles, RollbackType, ValidationStep};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

named_enum!(
    IncidentState {
        Detected => "detected",
        Evaluating => "evaluating",
        Decided => "decided",
        AwaitingApproval => "awaiting_approval",
        Executing => "executing",
        Verifying => "verifying",
        Monitoring => "monitoring",
        Resolved => "resolved",
        Closed => "closed",
        FixForward => "fix_forward",
        Cancelled => "cancelled",
    }
);

impl IncidentState {
    /// Not yet decided: the 30-minute decision deadline runs.
    pub fn awaits_decision(self) -> bool {
        matches!(self, IncidentState::Detected | IncidentState::Evaluating)
    }

    /// Still needs people on it.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            IncidentState::Resolved
                | IncidentState::Closed
                | IncidentState::FixForward
                | IncidentState::Cancelled
        )
    }

    /// The plan has been executed, or is being executed.
    pub fn reached_execution(self) -> bool {
        matches!(
            self,
            IncidentState::Executing
                | IncidentState::Verifying
                | IncidentState::Monitoring
                | IncidentState::Resolved
                | IncidentState::Closed
        )
    }

    /// The decision (§2.2 step 4) has been taken.
    pub fn is_decided(self) -> bool {
        !self.awaits_decision() && self != IncidentState::Cancelled
    }
}

/// What someone does to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    RecordStep(ValidationStep),
    Decide(Decision),
    Cancel,
    Edit,
    Comment,
    /// Prepare the rollback plan of the decided type.
    PreparePlan,
    /// Change the plan (release, backup, steps): a new fingerprint.
    RevisePlan,
    /// Approve or reject the plan (the approval rules are in [`crate::domain::plan`]).
    ReviewPlan,
    /// The plan's requester takes it back until it is revised.
    WithdrawPlan,
    /// Start executing the ready plan.
    Execute,
    /// Cancel, retry, resume, or tick a manual step of the running execution.
    ControlExecution,
    /// Give the execution up: back to the plan.
    AbortExecution,
    /// Tick a manual §6.1 item, or ask the runner to check an automatic one again.
    Verify,
    /// Confirm a §6.3 monitoring check.
    ConfirmCheck,
    /// End the incident after monitoring (the 2-hour rule is in
    /// [`crate::domain::verification::check_resolve`]).
    Resolve,
    /// Finalize the post-mortem (§8): the resolved incident is closed.
    Close,
}

/// Why an action is refused; each has a message for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// Read-only accounts (`viewer`) can't act.
    ReadOnly,
    /// Only the four §2.2 roles may decide or cancel.
    NotADecider,
    /// Not possible in this state.
    WrongState(IncidentState),
    /// Steps 1–3 must be recorded before the decision.
    StepsMissing(Vec<ValidationStep>),
    AlreadyRecorded(ValidationStep),
    /// Step 4 is recorded by taking the decision itself.
    DecisionStepIsTheDecision,
    /// The incident already has its plan: revise it instead.
    PlanExists,
    /// There is no plan yet.
    NoPlan,
    /// The plan lacks approvals, or was rejected.
    PlanNotReady,
    /// Only the tech lead or the project manager finalizes a post-mortem.
    NotAnOrganizer,
}

/// The facts of the incident that rules depend on.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub steps_done: BTreeSet<ValidationStep>,
    /// The rollback type decided, if the decision was a rollback.
    pub rollback: Option<RollbackType>,
    pub has_plan: bool,
    /// The plan has what it needs (approvals valid now, for its current fingerprint).
    pub plan_ready: bool,
}

/// Whether someone holding `roles` may take `action` on an incident in `state`, and the state
/// that follows.
pub fn check(
    state: IncidentState,
    action: Action,
    roles: &Roles,
    facts: &Facts,
) -> Result<Transition, Refusal> {
    next_state(state, action, roles, facts).map(|to| Transition { from: state, to })
}

/// A change of an incident's state that this module allowed: the only thing
/// `backend::incidents::set_state` takes, so that no other code can choose a state. (Fields
/// are private: made only here.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    from: IncidentState,
    to: IncidentState,
}

impl Transition {
    pub fn from(self) -> IncidentState {
        self.from
    }

    pub fn to(self) -> IncidentState {
        self.to
    }
}

/// The state `action` leads to from `state` (the same state for actions that change none),
/// or why it is refused.
pub fn next_state(
    state: IncidentState,
    action: Action,
    roles: &Roles,
    facts: &Facts,
) -> Result<IncidentState, Refusal> {
    use IncidentState as S;
    if !may_act(roles) {
        return Err(Refusal::ReadOnly);
    }
    match action {
        Action::Comment => Ok(state),
        Action::Edit => match state {
            S::Closed | S::Cancelled => Err(Refusal::WrongState(state)),
            _ => Ok(state),
        },
        Action::RecordStep(ValidationStep::Decision) => Err(Refusal::DecisionStepIsTheDecision),
        Action::RecordStep(step) if facts.steps_done.contains(&step) => {
            Err(Refusal::AlreadyRecorded(step))
        }
        Action::RecordStep(ValidationStep::Communication) => {
            // Communication to stakeholders follows the decision.
            if state.is_decided() && state != S::Closed {
                Ok(state)
            } else {
                Err(Refusal::WrongState(state))
            }
        }
        Action::RecordStep(_) => {
            if state.awaits_decision() {
                Ok(S::Evaluating)
            } else {
                Err(Refusal::WrongState(state))
            }
        }
        Action::Decide(decision) => {
            if !state.awaits_decision() {
                return Err(Refusal::WrongState(state));
            }
            if !roles.may_decide_rollback() {
                return Err(Refusal::NotADecider);
            }
            let missing: Vec<ValidationStep> = ValidationStep::BEFORE_DECISION
                .into_iter()
                .filter(|s| !facts.steps_done.contains(s))
                .collect();
            if !missing.is_empty() {
                return Err(Refusal::StepsMissing(missing));
            }
            Ok(match decision {
                Decision::Rollback(_) => S::Decided,
                Decision::FixForward => S::FixForward,
            })
        }
        Action::PreparePlan | Action::RevisePlan => {
            let Some(kind) = facts.rollback else {
                return Err(Refusal::WrongState(state));
            };
            if !matches!(state, S::Decided | S::AwaitingApproval) {
                return Err(Refusal::WrongState(state));
            }
            if !roles.may_decide_rollback() {
                return Err(Refusal::NotADecider);
            }
            match (action, facts.has_plan) {
                (Action::PreparePlan, true) => return Err(Refusal::PlanExists),
                (Action::RevisePlan, false) => return Err(Refusal::NoPlan),
                _ => {}
            }
            // Restores and system rollbacks wait for other people's approvals (§5.1).
            Ok(if needs_approvals(kind) {
                S::AwaitingApproval
            } else {
                S::Decided
            })
        }
        Action::ReviewPlan => {
            if state != S::AwaitingApproval {
                return Err(Refusal::WrongState(state));
            }
            if !facts.has_plan {
                return Err(Refusal::NoPlan);
            }
            if !roles.may_decide_rollback() {
                return Err(Refusal::NotADecider);
            }
            Ok(state)
        }
        Action::WithdrawPlan => {
            if !matches!(state, S::Decided | S::AwaitingApproval) {
                return Err(Refusal::WrongState(state));
            }
            if !facts.has_plan {
                return Err(Refusal::NoPlan);
            }
            if !roles.may_decide_rollback() {
                return Err(Refusal::NotADecider);
            }
            Ok(state)
        }
        Action::Execute => {
            if !matches!(state, S::Decided | S::AwaitingApproval) || facts.rollback.is_none() {
                return Err(Refusal::WrongState(state));
            }
            if !roles.may_decide_rollback() {
                return Err(Refusal::NotADecider);
            }
            if !facts.has_plan {
                return Err(Refusal::NoPlan);
            }
            if !facts.plan_ready {
                return Err(Refusal::PlanNotReady);
            }
            Ok(S::Executing)
        }
        Action::ControlExecution | Action::AbortExecution => {
            if state != S::Executing {
                return Err(Refusal::WrongState(state));
            }
            if !roles.may_decide_rollback() {
                return Err(Refusal::NotADecider);
            }
            Ok(match (action, facts.rollback) {
                // Aborted: the plan waits again (approvals are checked anew at the next start).
                (Action::AbortExecution, Some(kind)) if needs_approvals(kind) => {
                    S::AwaitingApproval
                }
                (Action::AbortExecution, _) => S::Decided,
                _ => S::Executing,
            })
        }
        Action::Verify => match state {
            S::Verifying => Ok(state),
            _ => Err(Refusal::WrongState(state)),
        },
        Action::ConfirmCheck => match state {
            S::Monitoring => Ok(state),
            _ => Err(Refusal::WrongState(state)),
        },
        Action::Resolve => {
            if state != S::Monitoring {
                return Err(Refusal::WrongState(state));
            }
            if !roles.may_decide_rollback() {
                return Err(Refusal::NotADecider);
            }
            Ok(S::Resolved)
        }
        Action::Close => {
            if state != S::Resolved {
                return Err(Refusal::WrongState(state));
            }
            if !(roles.contains(Role::TechLead) || roles.contains(Role::ProjectManager)) {
                return Err(Refusal::NotAnOrganizer);
            }
            Ok(S::Closed)
        }
        Action::Cancel => {
            if !matches!(
                state,
                S::Detected | S::Evaluating | S::Decided | S::AwaitingApproval
            ) {
                return Err(Refusal::WrongState(state));
            }
            if !roles.may_decide_rollback() {
                return Err(Refusal::NotADecider);
            }
            Ok(S::Cancelled)
        }
    }
}

/// The runner's own transition: the execution succeeded, verification (§6) begins.
pub fn execution_succeeded(state: IncidentState) -> Result<Transition, Refusal> {
    match state {
        IncidentState::Executing => Ok(Transition {
            from: state,
            to: IncidentState::Verifying,
        }),
        other => Err(Refusal::WrongState(other)),
    }
}

/// The system's transition: every §6.1 item is done, the §6.3 monitoring window opens.
pub fn checklist_complete(state: IncidentState) -> Result<Transition, Refusal> {
    match state {
        IncidentState::Verifying => Ok(Transition {
            from: state,
            to: IncidentState::Monitoring,
        }),
        other => Err(Refusal::WrongState(other)),
    }
}

/// The execution ended without success (aborted, cancelled): the incident goes back to its
/// plan, which waits for approvals again when it needs them.
pub fn execution_stopped(
    state: IncidentState,
    rollback: Option<RollbackType>,
) -> Result<Transition, Refusal> {
    let to = match (state, rollback) {
        (IncidentState::Executing, Some(kind)) if needs_approvals(kind) => {
            IncidentState::AwaitingApproval
        }
        (IncidentState::Executing, _) => IncidentState::Decided,
        (other, _) => return Err(Refusal::WrongState(other)),
    };
    Ok(Transition { from: state, to })
}

/// Everyone but read-only accounts may open incidents, record steps and comment.
pub fn may_act(roles: &Roles) -> bool {
    roles.iter().any(|r| r != Role::Viewer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(rollback: Option<RollbackType>, has_plan: bool) -> Facts {
        Facts {
            rollback,
            has_plan,
            ..Facts::default()
        }
    }

    #[test]
    fn verification_then_monitoring_then_resolved() {
        use IncidentState as S;
        let lead = Roles::parse(["tech_lead"]).unwrap();
        let qa = Roles::parse(["qa"]).unwrap();
        let viewer = Roles::parse(["viewer"]).unwrap();
        let f = facts(Some(RollbackType::Application), true);
        assert_eq!(
            next_state(S::Verifying, Action::Verify, &qa, &f),
            Ok(S::Verifying)
        );
        assert_eq!(
            next_state(S::Verifying, Action::Verify, &viewer, &f),
            Err(Refusal::ReadOnly)
        );
        assert_eq!(
            next_state(S::Monitoring, Action::Verify, &qa, &f),
            Err(Refusal::WrongState(S::Monitoring))
        );
        assert_eq!(
            checklist_complete(S::Verifying).map(Transition::to),
            Ok(S::Monitoring)
        );
        assert_eq!(
            next_state(S::Monitoring, Action::ConfirmCheck, &qa, &f),
            Ok(S::Monitoring)
        );
        assert_eq!(
            next_state(S::Monitoring, Action::Resolve, &qa, &f),
            Err(Refusal::NotADecider)
        );
        assert_eq!(
            next_state(S::Monitoring, Action::Resolve, &lead, &f),
            Ok(S::Resolved)
        );
        assert_eq!(
            next_state(S::Verifying, Action::Resolve, &lead, &f),
            Err(Refusal::WrongState(S::Verifying))
        );
        let sysadmin = Roles::parse(["sysadmin"]).unwrap();
        assert_eq!(
            next_state(S::Resolved, Action::Close, &lead, &f),
            Ok(S::Closed)
        );
        assert_eq!(
            next_state(S::Resolved, Action::Close, &sysadmin, &f),
            Err(Refusal::NotAnOrganizer)
        );
        assert_eq!(
            next_state(S::Monitoring, Action::Close, &lead, &f),
            Err(Refusal::WrongState(S::Monitoring))
        );
    }

    #[test]
    fn plans_follow_a_rollback_decision() {
        use IncidentState as S;
        let lead = Roles::parse(["tech_lead"]).unwrap();
        let dev = Roles::parse(["developer"]).unwrap();
        let db = facts(Some(RollbackType::ApplicationDatabase), false);
        let app = facts(Some(RollbackType::Application), false);
        let system = facts(Some(RollbackType::System), false);
        // A restore and a system rollback wait for approvals; an application rollback does not.
        assert_eq!(
            next_state(S::Decided, Action::PreparePlan, &lead, &db),
            Ok(S::AwaitingApproval)
        );
        assert_eq!(
            next_state(S::Decided, Action::PreparePlan, &lead, &system),
            Ok(S::AwaitingApproval)
        );
        assert_eq!(
            next_state(S::Decided, Action::PreparePlan, &lead, &app),
            Ok(S::Decided)
        );
        assert_eq!(
            next_state(S::Decided, Action::PreparePlan, &dev, &db),
            Err(Refusal::NotADecider)
        );
        assert_eq!(
            next_state(
                S::FixForward,
                Action::PreparePlan,
                &lead,
                &facts(None, false)
            ),
            Err(Refusal::WrongState(S::FixForward))
        );
        assert_eq!(
            next_state(S::Evaluating, Action::PreparePlan, &lead, &db),
            Err(Refusal::WrongState(S::Evaluating))
        );
        let with_plan = facts(Some(RollbackType::ApplicationDatabase), true);
        assert_eq!(
            next_state(S::AwaitingApproval, Action::PreparePlan, &lead, &with_plan),
            Err(Refusal::PlanExists)
        );
        assert_eq!(
            next_state(S::Decided, Action::RevisePlan, &lead, &db),
            Err(Refusal::NoPlan)
        );
        assert_eq!(
            next_state(S::AwaitingApproval, Action::RevisePlan, &lead, &with_plan),
            Ok(S::AwaitingApproval)
        );
        assert_eq!(
            next_state(S::AwaitingApproval, Action::ReviewPlan, &lead, &with_plan),
            Ok(S::AwaitingApproval)
        );
        assert_eq!(
            next_state(S::Executing, Action::RevisePlan, &lead, &with_plan),
            Err(Refusal::WrongState(S::Executing)),
            "no edits once it runs"
        );
        assert_eq!(
            next_state(
                S::Decided,
                Action::ReviewPlan,
                &lead,
                &facts(Some(RollbackType::Application), true)
            ),
            Err(Refusal::WrongState(S::Decided))
        );
    }
}
