//! The life of an execution (DESIGN.md "The runner"): queued, claimed and run step by step by a
//! runner, stopped at the first failed step, and what a person may do then. The server checks
//! every request against [`check_control`] inside the transaction that holds the row lock.
use crate::domain::Roles;
use serde::{Deserialize, Serialize};

named_enum!(ExecutionStatus {
    Queued => "queued",
    Running => "running",
    Waiting => "waiting",
    Succeeded => "succeeded",
    /// Every step done but some that a person chose to skip (recorded, with why).
    SucceededWithSkips => "succeeded_with_skips",
    Failed => "failed",
    Cancelled => "cancelled",
    Interrupted => "interrupted",
    Aborted => "aborted",
});

named_enum!(StepStatus {
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    Interrupted => "interrupted",
    /// Passed over by a person's "resume from" (with their reason).
    Skipped => "skipped",
});

impl ExecutionStatus {
    /// The environment is held: no other execution may start on it.
    pub fn holds_environment(self) -> bool {
        matches!(
            self,
            Self::Queued | Self::Running | Self::Waiting | Self::Failed | Self::Interrupted
        )
    }

    /// Nothing more will happen to it.
    pub fn is_over(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::SucceededWithSkips | Self::Cancelled | Self::Aborted
        )
    }

    /// Every step was done, or skipped by a person.
    pub fn succeeded(self) -> bool {
        matches!(self, Self::Succeeded | Self::SucceededWithSkips)
    }
}

/// A change of an execution's status that the rules allowed. Only [`runner_transition`] and
/// [`check_control`] make one, and the backend writes an execution's status only from one
/// (its fields are private), so no code path can set a status these rules did not return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    from: ExecutionStatus,
    to: ExecutionStatus,
}

impl StatusChange {
    fn new(from: ExecutionStatus, to: ExecutionStatus) -> StatusChange {
        StatusChange { from, to }
    }

    pub fn from(self) -> ExecutionStatus {
        self.from
    }

    pub fn to(self) -> ExecutionStatus {
        self.to
    }
}

/// What the runner finds about an execution it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerEvent {
    /// It took the queued execution.
    Claimed,
    /// No step left; `skipped`: a person skipped some.
    AllStepsDone { skipped: bool },
    /// A cancel was asked and the running step has ended.
    CancelledBetweenSteps,
    /// The next step is a person's (§3.3).
    ManualStepReached,
    /// A step failed: nothing after it runs.
    StepFailed,
    /// Its runner stopped renewing the lease (taken for dead).
    LeaseExpired,
    /// Its server is shutting down: the running step has ended, no next one starts.
    ServerStopping,
}

/// The runner's changes of an execution's status, the only ones it makes; any other is
/// refused (the runner then leaves the execution as it is).
pub fn runner_transition(
    from: ExecutionStatus,
    event: RunnerEvent,
) -> Result<StatusChange, ControlRefusal> {
    use ExecutionStatus as S;
    use RunnerEvent as R;
    let to = match (from, event) {
        (S::Queued, R::Claimed) => Ok(S::Running),
        (S::Running, R::AllStepsDone { skipped: false }) => Ok(S::Succeeded),
        (S::Running, R::AllStepsDone { skipped: true }) => Ok(S::SucceededWithSkips),
        (S::Running, R::CancelledBetweenSteps) => Ok(S::Cancelled),
        (S::Running, R::ManualStepReached) => Ok(S::Waiting),
        (S::Running, R::StepFailed) => Ok(S::Failed),
        (S::Running, R::LeaseExpired | R::ServerStopping) => Ok(S::Interrupted),
        (from, _) => Err(ControlRefusal::WrongStatus(from)),
    }?;
    Ok(StatusChange::new(from, to))
}

/// What a person asks of an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    /// Stop: at once when nothing runs, else after the running step ends.
    Cancel,
    /// Insist: kill the running step's process now (the step fails; people decide next).
    Kill,
    /// Run the failed or interrupted step again, then go on.
    Retry,
    /// Go on from this step (from 0), e.g. after doing the failed one by hand.
    ResumeFrom(usize),
    /// Give up: the environment is released; the incident goes back to its plan.
    Abort,
    /// A manual step (§3.3) was done, or could not be done.
    ManualDone,
    ManualFailed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControlRefusal {
    NotADecider,
    WrongStatus(ExecutionStatus),
    NoSuchStep,
    CancelAlreadyAsked,
}

/// The execution's facts that the rules depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutionFacts {
    pub status: ExecutionStatus,
    pub steps: usize,
    pub cancel_requested: bool,
}

/// What follows `control`: the new status, and whether the runner must stop after its step.
pub fn check_control(
    facts: ExecutionFacts,
    control: &Control,
    roles: &Roles,
) -> Result<StatusChange, ControlRefusal> {
    use ExecutionStatus as S;
    if !roles.may_decide_rollback() {
        return Err(ControlRefusal::NotADecider);
    }
    let wrong = Err(ControlRefusal::WrongStatus(facts.status));
    let to = match control {
        Control::Cancel => match facts.status {
            S::Running if facts.cancel_requested => Err(ControlRefusal::CancelAlreadyAsked),
            // The runner stops after the running step and records it.
            S::Running => Ok(S::Running),
            S::Queued | S::Waiting => Ok(S::Cancelled),
            _ => wrong,
        },
        Control::Kill => match facts.status {
            S::Running => Ok(S::Running),
            _ => wrong,
        },
        Control::Retry => match facts.status {
            S::Failed | S::Interrupted => Ok(S::Queued),
            _ => wrong,
        },
        Control::ResumeFrom(step) => match facts.status {
            S::Failed | S::Interrupted if *step < facts.steps => Ok(S::Queued),
            S::Failed | S::Interrupted => Err(ControlRefusal::NoSuchStep),
            _ => wrong,
        },
        Control::Abort => match facts.status {
            S::Failed | S::Interrupted | S::Waiting => Ok(S::Aborted),
            _ => wrong,
        },
        Control::ManualDone => match facts.status {
            S::Waiting => Ok(S::Queued),
            _ => wrong,
        },
        Control::ManualFailed => match facts.status {
            S::Waiting => Ok(S::Failed),
            _ => wrong,
        },
    }?;
    Ok(StatusChange::new(facts.status, to))
}

/// The tail of a step's output that is kept: the last `max` bytes, cut on a character boundary.
pub fn output_tail(output: &str, max: usize) -> &str {
    if output.len() <= max {
        return output;
    }
    let mut start = output.len() - max;
    while !output.is_char_boundary(start) {
        start += 1;
    }
    &output[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    // The rules' outcome, by the status they lead to.
    fn check_control(
        facts: ExecutionFacts,
        control: &Control,
        roles: &Roles,
    ) -> Result<ExecutionStatus, ControlRefusal> {
        super::check_control(facts, control, roles).map(StatusChange::to)
    }

    fn facts(status: ExecutionStatus) -> ExecutionFacts {
        ExecutionFacts {
            status,
            steps: 7,
            cancel_requested: false,
        }
    }

    #[test]
    fn what_a_person_may_do_with_an_execution() {
        use ExecutionStatus as S;
        let lead = Roles::parse(["sysadmin"]).unwrap();
        let qa = Roles::parse(["qa"]).unwrap();
        assert_eq!(
            check_control(facts(S::Failed), &Control::Retry, &qa),
            Err(ControlRefusal::NotADecider)
        );
        assert_eq!(
            check_control(facts(S::Failed), &Control::Retry, &lead),
            Ok(S::Queued)
        );
        assert_eq!(
            check_control(facts(S::Interrupted), &Control::ResumeFrom(3), &lead),
            Ok(S::Queued)
        );
        assert_eq!(
            check_control(facts(S::Failed), &Control::ResumeFrom(7), &lead),
            Err(ControlRefusal::NoSuchStep)
        );
        assert_eq!(
            check_control(facts(S::Succeeded), &Control::Retry, &lead),
            Err(ControlRefusal::WrongStatus(S::Succeeded))
        );
        assert_eq!(
            check_control(facts(S::Running), &Control::Cancel, &lead),
            Ok(S::Running)
        );
        let asked = ExecutionFacts {
            cancel_requested: true,
            ..facts(S::Running)
        };
        assert_eq!(
            check_control(asked, &Control::Cancel, &lead),
            Err(ControlRefusal::CancelAlreadyAsked)
        );
        assert_eq!(
            check_control(facts(S::Queued), &Control::Cancel, &lead),
            Ok(S::Cancelled)
        );
        assert_eq!(
            check_control(facts(S::Running), &Control::Abort, &lead),
            Err(ControlRefusal::WrongStatus(S::Running)),
            "a running step is cancelled, not abandoned midway"
        );
        assert_eq!(
            check_control(facts(S::Waiting), &Control::ManualDone, &lead),
            Ok(S::Queued)
        );
        assert_eq!(
            check_control(facts(S::Waiting), &Control::ManualFailed, &lead),
            Ok(S::Failed)
        );
    }

    #[test]
    fn the_tail_keeps_the_end_on_a_character_boundary() {
        assert_eq!(output_tail("abc", 10), "abc");
        assert_eq!(output_tail("abcdef", 3), "def");
        assert_eq!(output_tail("aé", 1), "");
        assert_eq!(output_tail("aéb", 2), "b");
    }
}

#[cfg(test)]
mod runner_transitions {
    use super::*;

    fn runner_transition(
        from: ExecutionStatus,
        event: RunnerEvent,
    ) -> Result<ExecutionStatus, ControlRefusal> {
        super::runner_transition(from, event).map(StatusChange::to)
    }

    #[test]
    fn the_runner_moves_an_execution_only_along_its_transitions() {
        use ExecutionStatus as S;
        use RunnerEvent as R;
        assert_eq!(runner_transition(S::Queued, R::Claimed), Ok(S::Running));
        assert_eq!(
            runner_transition(S::Running, R::AllStepsDone { skipped: true }),
            Ok(S::SucceededWithSkips)
        );
        assert_eq!(
            runner_transition(S::Running, R::LeaseExpired),
            Ok(S::Interrupted)
        );
        // A finished execution never becomes interrupted, a failed one never succeeds.
        assert!(runner_transition(S::Succeeded, R::LeaseExpired).is_err());
        assert!(runner_transition(S::Failed, R::AllStepsDone { skipped: false }).is_err());
        assert!(runner_transition(S::Running, R::Claimed).is_err());
    }
}
