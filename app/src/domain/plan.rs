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
    /// The requester took the plan back: like a rejection, it blocks this version.
    Withdrawn => "withdrawn",
});

/// Whether the person who gave a verdict may still approve now (read at every count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewerStanding {
    MayApprove,
    /// The account was deactivated after the verdict.
    Deactivated,
    /// The account no longer holds one of the four §2.2 roles.
    NoLongerDecider,
}

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
    /// The reviewer's account as it is now.
    pub standing: ReviewerStanding,
}

impl Review {
    /// Counts toward the plan as it is now: given on this fingerprint, and (for an approval)
    /// not expired and by someone who may still approve. Rejections and withdrawals don't
    /// expire, whoever gave them: a blocked plan stays blocked until it is revised.
    pub fn is_valid(&self, fingerprint: &str, policy: ApprovalPolicy, now: DateTime<Utc>) -> bool {
        self.fingerprint == fingerprint
            && match self.verdict {
                Verdict::Approved => {
                    now < self.at + policy.expiry() && self.standing == ReviewerStanding::MayApprove
                }
                Verdict::Rejected | Verdict::Withdrawn => true,
            }
    }
}

/// What a plan relies on besides its steps: where they run and the inventory facts that chose
/// them. Hashed into the fingerprint when the plan is saved; compared with the live facts at
/// every count, so that any change makes the plan stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanBasis {
    /// The environment's settings (target, database, paths, commands), its name left out.
    pub config: crate::domain::environment::EnvironmentConfig,
    /// Where `current` pointed (readlink) in the inventory.
    pub current_target: Option<String>,
    /// The release to restore was in the inventory.
    pub target_release_present: bool,
    /// The backup to restore as inventoried: size and sha256.
    pub backup: Option<BackupFacts>,
    /// The newest deployment recorded on the environment (§11.2).
    pub last_deployment: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFacts {
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// What changed since a plan was made; each has a message for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BasisChange {
    /// The target: local root folder, or SSH user, host, port, key file, known-hosts entry.
    Target,
    /// The database connection or where its password comes from.
    Database,
    /// Another setting of the environment: paths, commands, health URL, time zone.
    Settings,
    /// `current` points elsewhere now.
    Current,
    /// The release to restore is no longer on the target.
    ReleaseGone,
    /// The backup was rewritten or removed.
    Backup,
    /// A deployment was recorded since.
    Deployment,
    /// The plan predates these checks: revise it.
    Unknown,
}

impl PlanBasis {
    /// What differs between the facts the plan was made from (`self`) and `now`.
    pub fn changes(&self, now: &PlanBasis) -> Vec<BasisChange> {
        let mut changes = Vec::new();
        if self.config.target != now.config.target {
            changes.push(BasisChange::Target);
        }
        if self.config.database != now.config.database {
            changes.push(BasisChange::Database);
        }
        let rest = |c: &crate::domain::environment::EnvironmentConfig| {
            let mut c = c.clone();
            c.target = now.config.target.clone();
            c.database = now.config.database.clone();
            c.name = String::new();
            c
        };
        if rest(&self.config) != rest(&now.config) {
            changes.push(BasisChange::Settings);
        }
        if self.current_target != now.current_target {
            changes.push(BasisChange::Current);
        }
        if self.target_release_present && !now.target_release_present {
            changes.push(BasisChange::ReleaseGone);
        }
        if self.backup != now.backup {
            changes.push(BasisChange::Backup);
        }
        if self.last_deployment != now.last_deployment {
            changes.push(BasisChange::Deployment);
        }
        changes
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
    /// Its requester withdrew this version.
    Withdrawn,
    /// What it relies on changed since it was made: it must be revised.
    Stale { changes: Vec<BasisChange> },
    /// An execution of this version is under way (queued, running, waiting for a person, or
    /// stopped on a failure).
    Executing,
    /// An execution of this version succeeded.
    Executed,
}

impl PlanStatus {
    /// The plan as it stands, from its reviews' status, what changed since it was made, and
    /// the latest execution of this version.
    pub fn overall(
        reviewed: PlanStatus,
        changes: Vec<BasisChange>,
        execution: Option<crate::domain::execution::ExecutionStatus>,
    ) -> PlanStatus {
        use crate::domain::execution::ExecutionStatus as E;
        match execution {
            Some(E::Succeeded | E::SucceededWithSkips) => return PlanStatus::Executed,
            Some(e) if e.holds_environment() => return PlanStatus::Executing,
            _ => {}
        }
        if !changes.is_empty() {
            return PlanStatus::Stale { changes };
        }
        reviewed
    }
}

/// The plan's status from its reviews, at `now`.
pub fn status(
    kind: RollbackType,
    fingerprint: &str,
    reviews: &[Review],
    policy: ApprovalPolicy,
    now: DateTime<Utc>,
) -> PlanStatus {
    let valid = || {
        reviews
            .iter()
            .filter(move |r| r.is_valid(fingerprint, policy, now))
    };
    if valid().any(|r| r.verdict == Verdict::Withdrawn) {
        return PlanStatus::Withdrawn;
    }
    if !needs_approvals(kind) {
        return PlanStatus::Ready;
    }
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
    /// Only the person who prepared or last revised the plan withdraws it.
    NotTheRequester,
    /// This plan needs no approval (an application rollback).
    NoApprovalNeeded,
    /// The plan changed since the reviewer read it.
    PlanChanged,
    /// This reviewer already gave a verdict that still counts.
    AlreadyReviewed,
    /// The plan is not waiting for this verdict (rejected, withdrawn, stale, executed…).
    NotAwaiting,
}

/// Whether `reviewer` (holding `roles`) may give `verdict` on the plan whose current
/// fingerprint is `fingerprint` and whose status is `current`, having read the version `seen`.
/// An approval needs a plan awaiting approvals; a rejection may still stop a ready plan
/// (§5.1: one rejection blocks it); the requester may withdraw a plan that is not yet running.
#[allow(clippy::too_many_arguments)]
pub fn check_review(
    kind: RollbackType,
    requester: Uuid,
    fingerprint: &str,
    current: &PlanStatus,
    reviews: &[Review],
    policy: ApprovalPolicy,
    now: DateTime<Utc>,
    reviewer: Uuid,
    roles: &Roles,
    seen: &str,
    verdict: Verdict,
) -> Result<(), ReviewRefusal> {
    if !roles.may_decide_rollback() {
        return Err(ReviewRefusal::NotADecider);
    }
    if verdict == Verdict::Withdrawn {
        if reviewer != requester {
            return Err(ReviewRefusal::NotTheRequester);
        }
        if seen != fingerprint {
            return Err(ReviewRefusal::PlanChanged);
        }
        return match current {
            PlanStatus::AwaitingApproval { .. } | PlanStatus::Ready => Ok(()),
            _ => Err(ReviewRefusal::NotAwaiting),
        };
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
    match (current, verdict) {
        (PlanStatus::AwaitingApproval { .. }, _) => Ok(()),
        (PlanStatus::Ready, Verdict::Rejected) => Ok(()),
        _ => Err(ReviewRefusal::NotAwaiting),
    }
}

named_enum!(
    /// Where the defective release of a plan came from.
    DefectiveSource {
        /// The incident's suspect release (a release name or a deployed version in its text).
        Suspect => "suspect",
        /// The last deployment recorded before the detection time (§11.2).
        Deployment => "deployment",
        /// Where `current` points: the last resort.
        Current => "current",
    }
);

/// A deployment as the plan's rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentFact {
    pub version: String,
    pub release: String,
    pub deployed_at: DateTime<Utc>,
}

/// The release the incident is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Defective {
    pub release: String,
    pub source: DefectiveSource,
    /// Its version, when a deployment of it is recorded.
    pub version: Option<String>,
    /// When it was deployed: the recorded deployment, else the time in the release's name.
    pub deployed_at: Option<DateTime<Utc>>,
    /// `deployed_at` comes from a recorded deployment (not from the folder name).
    pub deployment_recorded: bool,
}

/// The release's time from its folder name, in the target's time zone.
fn release_time(release: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    let local = chrono::NaiveDateTime::parse_from_str(release, "%Y-%m-%d_%H%M%S").ok()?;
    Some(
        tz.from_local_datetime(&local)
            .earliest()?
            .with_timezone(&Utc),
    )
}

/// The defective release: the incident's suspect when it names a known release or a deployed
/// version; else the last deployment recorded before the detection (whatever later rollbacks
/// did to `current`); else where `current` points.
pub fn defective_release(
    suspect: &str,
    deployments: &[DeploymentFact],
    releases: &[String],
    current: Option<&str>,
    detected_at: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Option<Defective> {
    let known =
        |r: &str| releases.iter().any(|x| x == r) || deployments.iter().any(|d| d.release == r);
    let tokens: Vec<&str> = suspect
        .split(|c: char| c.is_whitespace() || "()[],;:".contains(c))
        .filter(|t| !t.is_empty())
        .collect();
    let named = tokens
        .iter()
        .find(|t| known(t))
        .map(|t| (*t).to_owned())
        .or_else(|| {
            tokens.iter().find_map(|t| {
                deployments
                    .iter()
                    .filter(|d| d.version.eq_ignore_ascii_case(t))
                    .max_by_key(|d| d.deployed_at)
                    .map(|d| d.release.clone())
            })
        });
    let (release, source) = match named {
        Some(release) => (release, DefectiveSource::Suspect),
        None => match deployments
            .iter()
            .filter(|d| d.deployed_at <= detected_at)
            .max_by_key(|d| d.deployed_at)
        {
            Some(d) => (d.release.clone(), DefectiveSource::Deployment),
            None => (current?.to_owned(), DefectiveSource::Current),
        },
    };
    let deployment = deployments.iter().find(|d| d.release == release);
    Some(Defective {
        version: deployment.map(|d| d.version.clone()),
        deployed_at: deployment
            .map(|d| d.deployed_at)
            .or_else(|| release_time(&release, tz)),
        deployment_recorded: deployment.is_some(),
        release,
        source,
    })
}

/// The newest release older than `defective` (release names sort as their times).
pub fn pick_target_release(releases: &[String], defective: &str) -> Option<String> {
    releases
        .iter()
        .filter(|r| r.as_str() < defective)
        .max()
        .cloned()
}

/// The newest backup taken strictly before `deployed_at`; backup names carry the target's
/// local time, hence `tz`.
pub fn pick_backup(
    backups: &[(String, chrono::NaiveDateTime, String)],
    tz: chrono_tz::Tz,
    deployed_at: DateTime<Utc>,
) -> Option<(crate::domain::runbook::BackupChoice, DateTime<Utc>)> {
    backups
        .iter()
        .filter_map(|(file, local, sha)| {
            let taken = backup_time(*local, tz)?;
            (taken < deployed_at).then(|| {
                (
                    crate::domain::runbook::BackupChoice {
                        file_name: file.clone(),
                        sha256: sha.clone(),
                    },
                    taken,
                )
            })
        })
        .max_by_key(|(_, taken)| *taken)
}

/// When a backup was taken, from the local time in its name.
pub fn backup_time(local: chrono::NaiveDateTime, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    Some(
        tz.from_local_datetime(&local)
            .earliest()?
            .with_timezone(&Utc),
    )
}

/// Why a plan can't get its defaults; each says what is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultsProblem {
    /// The target was never inventoried.
    NoInventory,
    /// No suspect release, no deployment before the detection, no `current`.
    NoDefectiveRelease,
    /// No release older than the defective one to go back to.
    NoOlderRelease { defective: String },
    /// §5.2 step 3: no backup was taken before the defective deployment.
    NoEarlierBackup {
        version: String,
        deployed_at: Option<DateTime<Utc>>,
    },
}

/// What a new plan proposes (§4.2 step 4, §5.2 step 3), with the facts that chose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDefaults {
    pub defective: Defective,
    /// Where `current` points now.
    pub current_release: Option<String>,
    /// The newest release older than the defective one.
    pub target_release: String,
    /// For a database rollback: the newest backup taken before the defective deployment.
    pub backup: Option<crate::domain::runbook::BackupChoice>,
    pub backup_taken_at: Option<DateTime<Utc>>,
}

/// What differs from the proposal in a hand-picked choice: accepted, and said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChoiceWarning {
    /// An older release than proposed: the releases between are undone too.
    ReleaseOlderThanProposed { proposed: String },
    /// An older backup than proposed: more data is lost.
    BackupOlderThanProposed {
        proposed: String,
        proposed_taken_at: DateTime<Utc>,
    },
    /// Taken after the defective deployment: it may hold what the defective version wrote.
    BackupAfterDeployment { deployed_at: DateTime<Utc> },
}

/// The warnings for a chosen release and backup against the proposal.
pub fn choice_warnings(
    defaults: &PlanDefaults,
    target_release: Option<&str>,
    backup: Option<(&str, DateTime<Utc>)>,
) -> Vec<ChoiceWarning> {
    let mut warnings = Vec::new();
    if let Some(target) = target_release {
        if target < defaults.target_release.as_str() {
            warnings.push(ChoiceWarning::ReleaseOlderThanProposed {
                proposed: defaults.target_release.clone(),
            });
        }
    }
    if let Some((file, taken)) = backup {
        if let Some(deployed_at) = defaults.defective.deployed_at {
            if taken >= deployed_at {
                warnings.push(ChoiceWarning::BackupAfterDeployment { deployed_at });
            }
        }
        if let (Some(proposed), Some(proposed_at)) = (&defaults.backup, defaults.backup_taken_at) {
            if taken < proposed_at && proposed.file_name != file {
                warnings.push(ChoiceWarning::BackupOlderThanProposed {
                    proposed: proposed.file_name.clone(),
                    proposed_taken_at: proposed_at,
                });
            }
        }
    }
    warnings
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
            standing: ReviewerStanding::MayApprove,
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
    fn approvals_count_only_from_people_who_may_still_approve() {
        let p = ApprovalPolicy::default();
        let mut gone = review(2, Verdict::Approved, "f", 1);
        gone.standing = ReviewerStanding::Deactivated;
        let mut demoted = review(3, Verdict::Approved, "f", 1);
        demoted.standing = ReviewerStanding::NoLongerDecider;
        let reviews = [review(1, Verdict::Approved, "f", 0), gone, demoted];
        assert_eq!(
            status(DB, "f", &reviews, p, at(2)),
            PlanStatus::AwaitingApproval { have: 1, need: 2 }
        );
        let mut rejected_then_left = review(4, Verdict::Rejected, "f", 1);
        rejected_then_left.standing = ReviewerStanding::Deactivated;
        assert_eq!(
            status(DB, "f", &[rejected_then_left], p, at(2)),
            PlanStatus::Rejected,
            "a rejection blocks whoever gave it"
        );
    }

    #[test]
    fn the_overall_status_puts_executions_and_changes_first() {
        use crate::domain::execution::ExecutionStatus as E;
        assert_eq!(
            PlanStatus::overall(PlanStatus::Ready, vec![BasisChange::Target], None),
            PlanStatus::Stale {
                changes: vec![BasisChange::Target]
            }
        );
        assert_eq!(
            PlanStatus::overall(
                PlanStatus::Ready,
                vec![BasisChange::Current],
                Some(E::Succeeded)
            ),
            PlanStatus::Executed
        );
        assert_eq!(
            PlanStatus::overall(PlanStatus::Ready, vec![], Some(E::Failed)),
            PlanStatus::Executing
        );
        assert_eq!(
            PlanStatus::overall(PlanStatus::Ready, vec![], Some(E::Aborted)),
            PlanStatus::Ready
        );
    }

    #[test]
    fn the_defective_release_comes_from_the_incident() {
        let tz = chrono_tz::Europe::Paris;
        let deployed = |version: &str, release: &str, day: u32, h: u32| DeploymentFact {
            version: version.into(),
            release: release.into(),
            deployed_at: chrono::NaiveDate::from_ymd_opt(2025, 10, day)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
                .and_utc(),
        };
        let deployments = [
            deployed("v1.1.7", "2025-10-15_091844", 15, 7),
            deployed("v1.1.8", "2025-10-16_153012", 16, 13),
            deployed("v1.2.0", "2025-10-17_104523", 17, 8),
        ];
        let releases: Vec<String> = [
            "2025-10-15_091844",
            "2025-10-16_153012",
            "2025-10-17_104523",
        ]
        .map(String::from)
        .to_vec();
        let today = at(60 * 24 * 400);
        // Named in the text, by release or by version.
        let d = defective_release(
            "2025-10-17_104523 (v1.2.0)",
            &deployments,
            &releases,
            Some("2025-10-16_153012"),
            today,
            tz,
        )
        .unwrap();
        assert_eq!(
            (d.release.as_str(), d.source),
            ("2025-10-17_104523", DefectiveSource::Suspect)
        );
        let d = defective_release("la v1.1.8", &deployments, &releases, None, today, tz).unwrap();
        assert_eq!(d.release, "2025-10-16_153012");
        // Not named: the last deployment before the detection, whatever `current` is now.
        let d = defective_release(
            "",
            &deployments,
            &releases,
            Some("2025-10-16_153012"),
            today,
            tz,
        )
        .unwrap();
        assert_eq!(
            (d.release.as_str(), d.source),
            ("2025-10-17_104523", DefectiveSource::Deployment)
        );
        assert_eq!(d.version.as_deref(), Some("v1.2.0"));
        assert_eq!(
            pick_target_release(&releases, &d.release).as_deref(),
            Some("2025-10-16_153012")
        );
        // No deployment recorded: `current`, dated by its folder name.
        let d =
            defective_release("", &[], &releases, Some("2025-10-17_104523"), today, tz).unwrap();
        assert_eq!(d.source, DefectiveSource::Current);
        assert!(!d.deployment_recorded);
        assert_eq!(
            d.deployed_at.unwrap().to_rfc3339(),
            "2025-10-17T08:45:23+00:00"
        );
        assert!(defective_release("", &[], &releases, None, today, tz).is_none());
        assert_eq!(pick_target_release(&releases, "2025-10-15_091844"), None);
    }

    #[test]
    fn hand_picked_choices_are_accepted_with_what_differs() {
        let at_ = |h: u32| {
            chrono::NaiveDate::from_ymd_opt(2025, 10, 17)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
                .and_utc()
        };
        let defaults = PlanDefaults {
            defective: Defective {
                release: "2025-10-17_104523".into(),
                source: DefectiveSource::Deployment,
                version: Some("v1.2.0".into()),
                deployed_at: Some(at_(8)),
                deployment_recorded: true,
            },
            current_release: None,
            target_release: "2025-10-16_153012".into(),
            backup: Some(crate::domain::runbook::BackupChoice {
                file_name: "db_backup_20251017_073000.sql.gz".into(),
                sha256: "ab".into(),
            }),
            backup_taken_at: Some(at_(7)),
        };
        assert_eq!(
            choice_warnings(
                &defaults,
                Some("2025-10-16_153012"),
                Some(("db_backup_20251017_073000.sql.gz", at_(7)))
            ),
            vec![]
        );
        assert_eq!(
            choice_warnings(
                &defaults,
                Some("2025-10-15_091844"),
                Some(("db_backup_20251016_010000.sql.gz", at_(1)))
            ),
            vec![
                ChoiceWarning::ReleaseOlderThanProposed {
                    proposed: "2025-10-16_153012".into()
                },
                ChoiceWarning::BackupOlderThanProposed {
                    proposed: "db_backup_20251017_073000.sql.gz".into(),
                    proposed_taken_at: at_(7)
                },
            ]
        );
        assert_eq!(
            choice_warnings(
                &defaults,
                None,
                Some(("db_backup_20251017_120000.sql.gz", at_(12)))
            ),
            vec![ChoiceWarning::BackupAfterDeployment {
                deployed_at: at_(8)
            }]
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
                &status(DB, "f", reviews, p, at(5)),
                reviews,
                p,
                at(5),
                Uuid::from_u128(who),
                roles,
                seen,
                Verdict::Approved,
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
        // A ready plan may still be rejected (§5.1), not approved once more.
        let ready = [
            review(1, Verdict::Approved, "f", 0),
            review(2, Verdict::Approved, "f", 1),
        ];
        let verdict_on_ready = |verdict| {
            check_review(
                DB,
                requester,
                "f",
                &PlanStatus::Ready,
                &ready,
                p,
                at(5),
                Uuid::from_u128(3),
                &lead(),
                "f",
                verdict,
            )
        };
        assert_eq!(verdict_on_ready(Verdict::Rejected), Ok(()));
        assert_eq!(
            verdict_on_ready(Verdict::Approved),
            Err(ReviewRefusal::NotAwaiting)
        );
        assert_eq!(
            verdict_on_ready(Verdict::Withdrawn),
            Err(ReviewRefusal::NotTheRequester)
        );
        assert_eq!(
            check_review(
                DB,
                requester,
                "f",
                &PlanStatus::Ready,
                &ready,
                p,
                at(5),
                requester,
                &lead(),
                "f",
                Verdict::Withdrawn
            ),
            Ok(()),
            "the requester withdraws a ready plan"
        );
        let stale = PlanStatus::Stale {
            changes: vec![BasisChange::Current],
        };
        assert_eq!(
            check_review(
                DB,
                requester,
                "f",
                &stale,
                &[],
                p,
                at(5),
                Uuid::from_u128(1),
                &lead(),
                "f",
                Verdict::Approved
            ),
            Err(ReviewRefusal::NotAwaiting),
            "a stale plan can't be approved"
        );
        assert_eq!(
            check_review(
                RollbackType::Application,
                requester,
                "f",
                &PlanStatus::Ready,
                &[],
                p,
                at(0),
                Uuid::from_u128(1),
                &lead(),
                "f",
                Verdict::Approved,
            ),
            Err(ReviewRefusal::NoApprovalNeeded)
        );
    }
}
