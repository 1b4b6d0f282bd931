//! The rules of rollback plans and their approvals (§5.1, DESIGN.md "Rollback plans and
//! approvals"), as pure functions over the facts: the server calls them inside the transaction
//! that holds the plan's row lock, the pages call them to show only what may be done.
use crate::domain::{Roles, RollbackType};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

named_enum!(Verdict {
    Approved => "approved",
    Rejected => "rejected",
});

/// How many approvals a plan that needs them must gather, and for how long one counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    required: u32,
    expiry_minutes: u32,
}

impl ApprovalPolicy {
    /// §5.1 asks for at least two people: a smaller number is raised to 2; an expiry of 0 is
    /// raised to 1 minute.
    pub fn new(required: u32, expiry_minutes: u32) -> ApprovalPolicy {
        ApprovalPolicy {
            required: required.max(2),
            expiry_minutes: expiry_minutes.max(1),
        }
    }

    pub fn required(self) -> u32 {
        self.required
    }

    pub fn expiry(self) -> Duration {
        Duration::minutes(i64::from(self.expiry_minutes))
    }
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy::new(2, 60)
    }
}

/// A database restore or a system rollback needs other people's approvals; a plain
/// application rollback needs only the decision of a §2.2 role.
pub fn needs_approvals(kind: RollbackType) -> bool {
    kind != RollbackType::Application
}

/// One verdict given on a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub reviewer: Uuid,
    pub verdict: Verdict,
    /// The fingerprint of the plan the reviewer read.
    pub fingerprint: String,
    pub at: DateTime<Utc>,
}

impl Review {
    /// Counts toward the plan as it is now: given on this fingerprint, and (for an approval)
    /// not expired. Rejections don't expire: a blocked plan stays blocked until it is revised.
    pub fn is_valid(&self, fingerprint: &str, policy: ApprovalPolicy, now: DateTime<Utc>) -> bool {
        self.fingerprint == fingerprint
            && (self.verdict == Verdict::Rejected || now < self.at + policy.expiry())
    }
}

/// Where a plan stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanStatus {
    /// Waiting for approvals: `have` valid ones of `need`.
    AwaitingApproval { have: u32, need: u32 },
    /// Has what it needs; the runner may execute it.
    Ready,
    /// A reviewer rejected this version of the plan.
    Rejected,
}

/// The plan's status from its reviews, at `now`.
pub fn status(
    kind: RollbackType,
    fingerprint: &str,
    reviews: &[Review],
    policy: ApprovalPolicy,
    now: DateTime<Utc>,
) -> PlanStatus {
    if !needs_approvals(kind) {
        return PlanStatus::Ready;
    }
    let valid = || {
        reviews
            .iter()
            .filter(move |r| r.is_valid(fingerprint, policy, now))
    };
    if valid().any(|r| r.verdict == Verdict::Rejected) {
        return PlanStatus::Rejected;
    }
    let approvers: BTreeSet<Uuid> = valid()
        .filter(|r| r.verdict == Verdict::Approved)
        .map(|r| r.reviewer)
        .collect();
    let have = u32::try_from(approvers.len()).unwrap_or(u32::MAX);
    if have >= policy.required() {
        PlanStatus::Ready
    } else {
        PlanStatus::AwaitingApproval {
            have,
            need: policy.required(),
        }
    }
}

/// Why a verdict is refused; each has a message for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewRefusal {
    /// Only the four §2.2 roles approve or reject.
    NotADecider,
    /// The person who prepared or last revised the plan can't approve it.
    OwnPlan,
    /// This plan needs no approval (an application rollback).
    NoApprovalNeeded,
    /// The plan changed since the reviewer read it.
    PlanChanged,
    /// This reviewer already gave a verdict that still counts.
    AlreadyReviewed,
    /// The plan is already rejected or ready.
    NotAwaiting,
}

/// Whether `reviewer` (holding `roles`) may give a verdict on the plan whose current
/// fingerprint is `fingerprint`, having read the version `seen`.
#[allow(clippy::too_many_arguments)]
pub fn check_review(
    kind: RollbackType,
    requester: Uuid,
    fingerprint: &str,
    reviews: &[Review],
    policy: ApprovalPolicy,
    now: DateTime<Utc>,
    reviewer: Uuid,
    roles: &Roles,
    seen: &str,
) -> Result<(), ReviewRefusal> {
    if !roles.may_decide_rollback() {
        return Err(ReviewRefusal::NotADecider);
    }
    if !needs_approvals(kind) {
        return Err(ReviewRefusal::NoApprovalNeeded);
    }
    if reviewer == requester {
        return Err(ReviewRefusal::OwnPlan);
    }
    if seen != fingerprint {
        return Err(ReviewRefusal::PlanChanged);
    }
    if reviews
        .iter()
        .any(|r| r.reviewer == reviewer && r.is_valid(fingerprint, policy, now))
    {
        return Err(ReviewRefusal::AlreadyReviewed);
    }
    match status(kind, fingerprint, reviews, policy, now) {
        PlanStatus::AwaitingApproval { .. } => Ok(()),
        PlanStatus::Ready | PlanStatus::Rejected => Err(ReviewRefusal::NotAwaiting),
    }
}

/// Why a plan can't get its defaults; each says what is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultsProblem {
    /// The target was never inventoried.
    NoInventory,
    /// `current` does not point to a known release.
    NoCurrentRelease,
    /// No release older than the current one to go back to.
    NoOlderRelease,
    /// No recorded deployment of the defective release.
    NoDeployment { release: String },
    /// §5.2 step 3: no backup was taken before the defective deployment.
    NoEarlierBackup {
        version: String,
        deployed_at: chrono::DateTime<chrono::Utc>,
    },
}

/// What a new plan proposes (§4.2 step 4, §5.2 step 3), with the facts that chose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDefaults {
    pub current_release: String,
    /// The newest release older than the current one.
    pub target_release: String,
    pub defective_version: Option<String>,
    pub defective_deployed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// For a database rollback: the newest backup taken before the defective deployment.
    pub backup: Option<crate::domain::runbook::BackupChoice>,
    pub backup_taken_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_760_700_000, 0).unwrap() + Duration::minutes(minute)
    }

    fn review(who: u128, verdict: Verdict, fingerprint: &str, minute: i64) -> Review {
        Review {
            reviewer: Uuid::from_u128(who),
            verdict,
            fingerprint: fingerprint.into(),
            at: at(minute),
        }
    }

    const DB: RollbackType = RollbackType::ApplicationDatabase;

    fn lead() -> Roles {
        Roles::parse(["tech_lead"]).unwrap()
    }

    #[test]
    fn the_policy_never_asks_fewer_than_two() {
        assert_eq!(ApprovalPolicy::new(0, 60).required(), 2);
        assert_eq!(ApprovalPolicy::new(1, 60).required(), 2);
        assert_eq!(ApprovalPolicy::new(3, 60).required(), 3);
    }

    #[test]
    fn two_distinct_valid_approvals_make_a_database_plan_ready() {
        let p = ApprovalPolicy::default();
        let one = [review(1, Verdict::Approved, "f", 0)];
        assert_eq!(
            status(DB, "f", &one, p, at(1)),
            PlanStatus::AwaitingApproval { have: 1, need: 2 }
        );
        let twice = [
            review(1, Verdict::Approved, "f", 0),
            review(1, Verdict::Approved, "f", 1),
        ];
        assert_eq!(
            status(DB, "f", &twice, p, at(2)),
            PlanStatus::AwaitingApproval { have: 1, need: 2 },
            "the same person twice counts once"
        );
        let two = [
            review(1, Verdict::Approved, "f", 0),
            review(2, Verdict::Approved, "f", 1),
        ];
        assert_eq!(status(DB, "f", &two, p, at(2)), PlanStatus::Ready);
        assert_eq!(
            status(DB, "g", &two, p, at(2)),
            PlanStatus::AwaitingApproval { have: 0, need: 2 },
            "an edited plan needs new approvals"
        );
        assert_eq!(
            status(DB, "f", &two, p, at(60)),
            PlanStatus::AwaitingApproval { have: 1, need: 2 },
            "the first approval expired after 60 minutes"
        );
        assert_eq!(
            status(RollbackType::Application, "f", &[], p, at(0)),
            PlanStatus::Ready
        );
    }

    #[test]
    fn one_rejection_blocks_until_the_plan_is_revised() {
        let p = ApprovalPolicy::default();
        let reviews = [
            review(1, Verdict::Approved, "f", 0),
            review(2, Verdict::Approved, "f", 1),
            review(3, Verdict::Rejected, "f", 2),
        ];
        assert_eq!(status(DB, "f", &reviews, p, at(500)), PlanStatus::Rejected);
        assert_eq!(
            status(DB, "g", &reviews, p, at(3)),
            PlanStatus::AwaitingApproval { have: 0, need: 2 }
        );
    }

    #[test]
    fn who_may_review() {
        let p = ApprovalPolicy::default();
        let requester = Uuid::from_u128(9);
        let check = |reviews: &[Review], who: u128, roles: &Roles, seen: &str| {
            check_review(
                DB,
                requester,
                "f",
                reviews,
                p,
                at(5),
                Uuid::from_u128(who),
                roles,
                seen,
            )
        };
        assert_eq!(check(&[], 1, &lead(), "f"), Ok(()));
        assert_eq!(check(&[], 9, &lead(), "f"), Err(ReviewRefusal::OwnPlan));
        let dev = Roles::parse([Role::Developer.as_str(), Role::Dba.as_str()]).unwrap();
        assert_eq!(check(&[], 1, &dev, "f"), Err(ReviewRefusal::NotADecider));
        assert_eq!(check(&[], 1, &lead(), "e"), Err(ReviewRefusal::PlanChanged));
        let mine = [review(1, Verdict::Approved, "f", 0)];
        assert_eq!(
            check(&mine, 1, &lead(), "f"),
            Err(ReviewRefusal::AlreadyReviewed)
        );
        let expired = [review(1, Verdict::Approved, "f", -120)];
        assert_eq!(
            check(&expired, 1, &lead(), "f"),
            Ok(()),
            "an expired approval may be given again"
        );
        let rejected = [review(2, Verdict::Rejected, "f", 0)];
        assert_eq!(
            check(&rejected, 1, &lead(), "f"),
            Err(ReviewRefusal::NotAwaiting)
        );
        assert_eq!(
            check_review(
                RollbackType::Application,
                requester,
                "f",
                &[],
                p,
                at(0),
                Uuid::from_u128(1),
                &lead(),
                "f"
            ),
            Err(ReviewRefusal::NoApprovalNeeded)
        );
    }
}
