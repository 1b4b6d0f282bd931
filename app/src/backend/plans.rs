//! Rollback plans: their defaults, preparing and revising them (a new fingerprint each time),
//! and the verdicts of the approvers — each in one transaction holding the incident's row lock.
use crate::backend::error::FieldErrors;
use crate::backend::timeline::{self, Event};
use crate::backend::transitions;
use crate::backend::{environments, incidents, AppError};
use crate::domain::environment::{EnvironmentConfig, Target};
use crate::domain::event::{PlanReviewed, PlanSaved};
use crate::domain::execution::ExecutionStatus;
use crate::domain::lifecycle;
use crate::domain::plan::{
    backup_time, check_review, choice_warnings, defective_release, pick_backup,
    pick_target_release, status, ApprovalPolicy, BackupFacts, Defective, DefectiveSource,
    DeploymentFact, PlanBasis, PlanStatus, Review, ReviewRefusal, ReviewerStanding, Verdict,
};
use crate::domain::runbook::{self, BackupChoice, Step};
use crate::domain::{Action, Roles, RollbackType};
use crate::i18n::{Msg, Text};
use crate::records::{
    PlanChoices, PlanPage, PlanRecord, PlanWaiting, ReviewRecord, ReviewStanding, RunsOn,
};
use crate::viewer::SignedInUser;
use chrono::{DateTime, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

pub use crate::domain::plan::{DefaultsProblem, PlanDefaults};

/// A hash over everything that decides what runs and where: the environment, the plan's
/// revision, every step with its arguments, and the facts the plan relies on (the target, the
/// database and its password source, the other settings, the inventory's `current`, release
/// and backup, the last deployment). Any edit gives another fingerprint, which voids the
/// approvals given before, even an edit that comes back to an earlier version.
pub fn fingerprint(environment: Uuid, revision: i32, steps: &[Step], basis: &PlanBasis) -> String {
    let mut hasher = Sha256::new();
    hasher.update(environment.as_bytes());
    hasher.update(revision.to_be_bytes());
    // serde_json writes struct fields in declaration order: the same plan, the same bytes.
    hasher.update(serde_json::to_vec(steps).unwrap_or_default());
    hasher.update(serde_json::to_vec(basis).unwrap_or_default());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fingerprint;
    use crate::domain::environment::{EnvironmentConfig, Target};
    use crate::domain::plan::PlanBasis;
    use crate::domain::runbook::{Operation, Step};
    use uuid::Uuid;

    fn basis() -> PlanBasis {
        PlanBasis {
            config: EnvironmentConfig {
                name: String::new(),
                ..crate::domain::runbook::tests::taskflow()
            },
            current_target: Some("releases/2025-10-17_104523".into()),
            target_release_present: true,
            backup: None,
            last_deployment: Some(3),
        }
    }

    #[test]
    fn any_change_makes_a_new_fingerprint() {
        let env = Uuid::from_u128(7);
        let steps = vec![Step {
            procedure_ref: "4.2/4".into(),
            operation: Operation::SwitchRelease {
                link: "/var/www/taskflow/current".into(),
                release_dir: "/var/www/taskflow/releases/2025-10-16_153012".into(),
            },
        }];
        let b = basis();
        let same = fingerprint(env, 1, &steps, &b);
        assert_eq!(fingerprint(env, 1, &steps, &b), same);
        assert_ne!(fingerprint(env, 2, &steps, &b), same, "another revision");
        assert_eq!(same.len(), 64);
        let mut other = steps.clone();
        other[0].operation = Operation::SwitchRelease {
            link: "/var/www/taskflow/current".into(),
            release_dir: "/var/www/taskflow/releases/2025-10-15_091844".into(),
        };
        assert_ne!(fingerprint(env, 1, &other, &b), same, "another release");
        assert_ne!(
            fingerprint(Uuid::from_u128(8), 1, &steps, &b),
            same,
            "another environment"
        );
        assert_ne!(fingerprint(env, 1, &[], &b), same, "a step less");
        let mut moved = basis();
        moved.config.target = Target::Local {
            root: "/srv/other".into(),
        };
        assert_ne!(fingerprint(env, 1, &steps, &moved), same, "another root");
        assert_eq!(
            b.changes(&moved),
            vec![crate::domain::plan::BasisChange::Target]
        );
        let mut host = basis();
        host.config.database.password_ref = "OTHER".into();
        assert_ne!(
            fingerprint(env, 1, &steps, &host),
            same,
            "another password source"
        );
        assert_eq!(
            b.changes(&host),
            vec![crate::domain::plan::BasisChange::Database]
        );
        let mut deployed = basis();
        deployed.last_deployment = Some(4);
        deployed.current_target = Some("releases/2025-10-16_153012".into());
        assert_eq!(
            b.changes(&deployed),
            vec![
                crate::domain::plan::BasisChange::Current,
                crate::domain::plan::BasisChange::Deployment
            ]
        );
    }
}

/// The facts of the environment as they are now that a plan on `target_release` and
/// `backup_file` relies on. `None`: the environment is gone.
pub async fn live_basis(
    conn: &mut PgConnection,
    environment: Uuid,
    target_release: Option<&str>,
    backup_file: Option<&str>,
) -> Result<Option<PlanBasis>, AppError> {
    let wanted = BasisWanted {
        environment,
        target_release: target_release.map(str::to_owned),
        backup_file: backup_file.map(str::to_owned),
    };
    Ok(live_bases(conn, std::slice::from_ref(&wanted))
        .await?
        .remove(0))
}

/// The facts one plan relies on: on which environment, which release and which backup.
struct BasisWanted {
    environment: Uuid,
    target_release: Option<String>,
    backup_file: Option<String>,
}

/// [`live_basis`] for each of `wanted`, in that order, in two queries however many there are
/// (lists assess every plan they show).
async fn live_bases(
    conn: &mut PgConnection,
    wanted: &[BasisWanted],
) -> Result<Vec<Option<PlanBasis>>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Facts {
        current_target: Option<String>,
        target_release_present: bool,
        backup_file: Option<String>,
        backup_size: Option<i64>,
        backup_sha256: Option<String>,
        last_deployment: Option<i64>,
    }
    let environments: Vec<Uuid> = wanted.iter().map(|w| w.environment).collect();
    let configs = environments::configs(&mut *conn, &environments).await?;
    let releases: Vec<Option<String>> = wanted.iter().map(|w| w.target_release.clone()).collect();
    let backups: Vec<Option<String>> = wanted.iter().map(|w| w.backup_file.clone()).collect();
    let facts: Vec<Facts> = sqlx::query_as(
        "SELECT (SELECT current_target FROM inventories WHERE environment_id = w.environment)
                  AS current_target,
                w.release IS NOT NULL AND EXISTS (
                    SELECT 1 FROM releases r
                    WHERE r.environment_id = w.environment AND r.name = w.release)
                  AS target_release_present,
                b.file_name AS backup_file, b.size_bytes AS backup_size,
                b.sha256 AS backup_sha256,
                (SELECT max(id) FROM deployments d WHERE d.environment_id = w.environment)
                  AS last_deployment
         FROM unnest($1::uuid[], $2::text[], $3::text[]) WITH ORDINALITY
              AS w(environment, release, backup, n)
         LEFT JOIN backups b ON b.environment_id = w.environment AND b.file_name = w.backup
         ORDER BY w.n",
    )
    .bind(&environments)
    .bind(&releases)
    .bind(&backups)
    .fetch_all(&mut *conn)
    .await?;
    Ok(wanted
        .iter()
        .zip(facts)
        .map(|(w, f)| {
            let mut config = configs.get(&w.environment)?.clone();
            config.name = String::new();
            Some(PlanBasis {
                config,
                current_target: f.current_target,
                target_release_present: f.target_release_present,
                backup: match (f.backup_file, f.backup_size, f.backup_sha256) {
                    (Some(file_name), Some(size_bytes), Some(sha256)) => Some(BackupFacts {
                        file_name,
                        size_bytes,
                        sha256,
                    }),
                    _ => None,
                },
                last_deployment: f.last_deployment,
            })
        })
        .collect())
}

/// The incident's facts that choose a plan's defaults.
#[derive(sqlx::FromRow)]
struct IncidentFacts {
    environment_id: Uuid,
    suspect_release: String,
    detected_at: DateTime<Utc>,
    time_zone: String,
}

/// The inventory as the defaults read it.
struct Inventoried {
    current_release: Option<String>,
    /// Names, oldest first.
    releases: Vec<String>,
    backups: Vec<(String, NaiveDateTime, String)>,
    deployments: Vec<DeploymentFact>,
    tz: chrono_tz::Tz,
}

async fn inventoried(
    conn: &mut PgConnection,
    incident: i64,
) -> Result<Option<(Uuid, IncidentFacts, Option<Inventoried>)>, AppError> {
    let Some(facts) = sqlx::query_as::<_, IncidentFacts>(
        "SELECT i.environment_id, i.suspect_release, i.detected_at, e.time_zone
         FROM incidents i JOIN environments e ON e.id = i.environment_id WHERE i.id = $1",
    )
    .bind(incident)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let environment = facts.environment_id;
    let inventory: Option<Option<String>> =
        sqlx::query_scalar("SELECT current_release FROM inventories WHERE environment_id = $1")
            .bind(environment)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(current_release) = inventory else {
        return Ok(Some((environment, facts, None)));
    };
    let releases: Vec<String> =
        sqlx::query_scalar("SELECT name FROM releases WHERE environment_id = $1 ORDER BY name")
            .bind(environment)
            .fetch_all(&mut *conn)
            .await?;
    let backups: Vec<(String, NaiveDateTime, String)> =
        sqlx::query_as("SELECT file_name, taken_at, sha256 FROM backups WHERE environment_id = $1")
            .bind(environment)
            .fetch_all(&mut *conn)
            .await?;
    let deployments: Vec<(String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT version, release, deployed_at FROM deployments WHERE environment_id = $1",
    )
    .bind(environment)
    .fetch_all(&mut *conn)
    .await?;
    let tz = facts.time_zone.parse().unwrap_or(chrono_tz::Europe::Paris);
    Ok(Some((
        environment,
        facts,
        Some(Inventoried {
            current_release,
            releases,
            backups,
            deployments: deployments
                .into_iter()
                .map(|(version, release, deployed_at)| DeploymentFact {
                    version,
                    release,
                    deployed_at,
                })
                .collect(),
            tz,
        }),
    )))
}

/// The incident's defective release, from its facts and the inventory.
fn defective_of(facts: &IncidentFacts, inv: &Inventoried) -> Option<Defective> {
    defective_release(
        &facts.suspect_release,
        &inv.deployments,
        &inv.releases,
        inv.current_release.as_deref(),
        facts.detected_at,
        inv.tz,
    )
}

fn defaults_from(
    facts: &IncidentFacts,
    inv: &Inventoried,
    with_backup: bool,
) -> Result<PlanDefaults, DefaultsProblem> {
    let defective = defective_of(facts, inv).ok_or(DefaultsProblem::NoDefectiveRelease)?;
    let target_release = pick_target_release(&inv.releases, &defective.release).ok_or(
        DefaultsProblem::NoOlderRelease {
            defective: defective.release.clone(),
        },
    )?;
    let mut defaults = PlanDefaults {
        defective,
        current_release: inv.current_release.clone(),
        target_release,
        backup: None,
        backup_taken_at: None,
    };
    if with_backup {
        let no_backup = || DefaultsProblem::NoEarlierBackup {
            version: defaults
                .defective
                .version
                .clone()
                .unwrap_or_else(|| defaults.defective.release.clone()),
            deployed_at: defaults.defective.deployed_at,
        };
        let deployed_at = defaults.defective.deployed_at.ok_or_else(no_backup)?;
        let (backup, taken) =
            pick_backup(&inv.backups, inv.tz, deployed_at).ok_or_else(no_backup)?;
        defaults.backup = Some(backup);
        defaults.backup_taken_at = Some(taken);
    }
    Ok(defaults)
}

/// The defaults of a plan for `incident` (§4.2 step 4, §5.2 step 3), from the incident, its
/// environment's last inventory and its deployments; `with_backup` for a database rollback.
pub async fn defaults(
    conn: &mut PgConnection,
    incident: i64,
    with_backup: bool,
) -> Result<Result<PlanDefaults, DefaultsProblem>, AppError> {
    match inventoried(conn, incident).await? {
        None | Some((_, _, None)) => Ok(Err(DefaultsProblem::NoInventory)),
        Some((_, facts, Some(inv))) => Ok(defaults_from(&facts, &inv, with_backup)),
    }
}

/// What the plan form carries, as typed.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub target_release: String,
    pub backup: String,
    /// For a system rollback: one step per line.
    pub manual_steps: String,
}

/// Preparing the plan or revising it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanChange {
    Prepare,
    Revise,
}

/// At most this many manual steps, each at most this long.
const MAX_MANUAL_STEPS: usize = 50;
const MAX_MANUAL_STEP_LEN: usize = 500;

/// The steps of a system rollback, one per non-empty line.
pub fn parse_manual_steps(typed: &str) -> Option<Vec<String>> {
    let steps: Vec<String> = typed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let ok = !steps.is_empty()
        && steps.len() <= MAX_MANUAL_STEPS
        && steps
            .iter()
            .all(|s| s.chars().count() <= MAX_MANUAL_STEP_LEN);
    ok.then_some(steps)
}

/// The plan's facts checked against the last inventory: the defective release, the release
/// to go back to, the backup, and the steps they make.
struct Checked {
    defective: Option<Defective>,
    target_release: Option<String>,
    backup: Option<(BackupChoice, DateTime<Utc>)>,
    steps: Vec<Step>,
}

async fn check_input(
    conn: &mut PgConnection,
    incident: i64,
    config: &EnvironmentConfig,
    kind: RollbackType,
    input: &PlanInput,
) -> Result<Checked, AppError> {
    if kind == RollbackType::System {
        let steps = parse_manual_steps(&input.manual_steps)
            .ok_or_else(|| AppError::field("manual_steps", Msg::ManualStepsRequired))?;
        return Ok(Checked {
            defective: None,
            target_release: None,
            backup: None,
            steps: runbook::system(&steps),
        });
    }
    let Some((_, facts, Some(inv))) = inventoried(conn, incident).await? else {
        return Err(problem(DefaultsProblem::NoInventory));
    };
    // The defective release and its deployment time; the proposal itself may be missing (no
    // older release, no earlier backup) while a hand-picked choice is still possible.
    let defective =
        defective_of(&facts, &inv).ok_or_else(|| problem(DefaultsProblem::NoDefectiveRelease))?;
    let target = input.target_release.trim();
    let mut errors = FieldErrors::default();
    let known = inv.releases.iter().any(|r| r == target);
    errors.check(
        "target_release",
        known.then_some(()),
        Msg::TargetReleaseInvalid,
    );
    if known {
        // §4.2 step 4 goes back: never to the defective release itself or anything newer.
        errors.check(
            "target_release",
            (target < defective.release.as_str()).then_some(()),
            Msg::TargetReleaseNotOlder,
        );
    }
    let mut backup = None;
    if kind == RollbackType::ApplicationDatabase {
        let chosen = input.backup.trim();
        backup = inv
            .backups
            .iter()
            .find(|(file, _, _)| file == chosen)
            .and_then(|(file, local, sha256)| {
                Some((
                    BackupChoice {
                        file_name: file.clone(),
                        sha256: sha256.clone(),
                    },
                    backup_time(*local, inv.tz)?,
                ))
            });
        errors.check("backup", backup.as_ref(), Msg::BackupNotInInventory);
    }
    errors.into_result()?;
    let steps = match &backup {
        Some((choice, _)) => runbook::application_database(config, target, choice),
        None => runbook::application(config, target),
    };
    Ok(Checked {
        defective: Some(defective),
        target_release: Some(target.to_owned()),
        backup,
        steps,
    })
}

/// What the user reads when a plan can't be made.
pub fn problem_text(problem: &DefaultsProblem) -> Text {
    match problem {
        DefaultsProblem::NoInventory => Msg::PlanNoInventory.into(),
        DefaultsProblem::NoDefectiveRelease => Msg::PlanNoDefectiveRelease.into(),
        DefaultsProblem::NoOlderRelease { defective } => {
            Text::with(Msg::PlanNoOlderRelease, defective)
        }
        DefaultsProblem::NoEarlierBackup { version, .. } => {
            Text::with(Msg::PlanNoEarlierBackup, version)
        }
    }
}

fn problem(problem: DefaultsProblem) -> AppError {
    AppError::Refused(problem_text(&problem))
}

/// A plan row.
#[derive(sqlx::FromRow, Clone)]
struct PlanRow {
    id: i64,
    incident_id: i64,
    environment_id: Uuid,
    rollback_type: String,
    from_release: Option<String>,
    target_release: Option<String>,
    backup_file: Option<String>,
    backup_taken_at: Option<DateTime<Utc>>,
    steps: serde_json::Value,
    fingerprint: String,
    revision: i32,
    requested_by: Uuid,
    updated_at: DateTime<Utc>,
    basis: Option<serde_json::Value>,
    defective_source: Option<String>,
}

const PLAN_COLUMNS: &str = "p.id, p.incident_id, p.environment_id, p.rollback_type,
    p.from_release, p.target_release, p.backup_file, p.backup_taken_at, p.steps, p.fingerprint,
    p.revision, p.requested_by, p.updated_at, p.basis, p.defective_source";

impl PlanRow {
    fn kind(&self) -> Result<RollbackType, AppError> {
        RollbackType::parse(&self.rollback_type)
            .ok_or_else(|| AppError::Internal(format!("plan type {}", self.rollback_type)))
    }

    fn steps(&self) -> Result<Vec<Step>, AppError> {
        serde_json::from_value(self.steps.clone())
            .map_err(|e| AppError::Internal(format!("plan steps: {e}")))
    }

    fn basis(&self) -> Option<PlanBasis> {
        self.basis
            .clone()
            .and_then(|b| serde_json::from_value(b).ok())
    }
}

/// The plan of `incident`, locked (`FOR NO KEY UPDATE`) when `lock`: after the incident's
/// lock, always (see [`incidents::lock`]).
async fn plan_row(
    conn: &mut PgConnection,
    incident: i64,
    lock: bool,
) -> Result<Option<PlanRow>, AppError> {
    Ok(sqlx::query_as::<_, PlanRow>(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans p WHERE p.incident_id = $1 {}",
        if lock { "FOR NO KEY UPDATE" } else { "" }
    ))
    .bind(incident)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The latest execution of this version of the plan: its id and status.
async fn latest_execution(
    conn: &mut PgConnection,
    plan: &PlanRow,
) -> Result<Option<(i64, ExecutionStatus)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, status FROM executions WHERE plan_id = $1 AND fingerprint = $2
         ORDER BY id DESC LIMIT 1",
    )
    .bind(plan.id)
    .bind(&plan.fingerprint)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Where a plan stands now, with its verdicts: the reviews (from people who may still
/// approve), what changed since it was made, and the latest execution of this version.
async fn assess(
    conn: &mut PgConnection,
    policy: ApprovalPolicy,
    plan: &PlanRow,
    now: DateTime<Utc>,
) -> Result<Assessed, AppError> {
    let mut all = assess_all(conn, policy, std::slice::from_ref(plan), now).await?;
    all.pop()
        .ok_or_else(|| AppError::Internal("a plan without its assessment".to_owned()))
}

/// What [`assess`] finds: the status, what changed in the facts, the verdicts given.
type Assessed = (
    PlanStatus,
    Vec<crate::domain::plan::BasisChange>,
    Vec<ReviewRow>,
);

/// [`assess`] for each of `plans`, in that order, in four queries however many there are.
async fn assess_all(
    conn: &mut PgConnection,
    policy: ApprovalPolicy,
    plans: &[PlanRow],
    now: DateTime<Utc>,
) -> Result<Vec<Assessed>, AppError> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = plans.iter().map(|p| p.id).collect();
    let mut given = reviews_of(&mut *conn, &ids).await?;
    let wanted: Vec<BasisWanted> = plans
        .iter()
        .map(|p| BasisWanted {
            environment: p.environment_id,
            target_release: p.target_release.clone(),
            backup_file: p.backup_file.clone(),
        })
        .collect();
    let live = live_bases(conn, &wanted).await?;
    let fingerprints: Vec<&str> = plans.iter().map(|p| p.fingerprint.as_str()).collect();
    // The latest execution of each plan's version.
    let executions: HashMap<i64, ExecutionStatus> = sqlx::query_as::<_, (i64, ExecutionStatus)>(
        "SELECT DISTINCT ON (e.plan_id) e.plan_id, e.status
         FROM executions e
         JOIN unnest($1::bigint[], $2::text[]) AS p(id, fingerprint)
           ON e.plan_id = p.id AND e.fingerprint = p.fingerprint
         ORDER BY e.plan_id, e.id DESC",
    )
    .bind(&ids)
    .bind(&fingerprints)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    plans
        .iter()
        .zip(live)
        .map(|(plan, live)| {
            let kind = plan.kind()?;
            let given = given.remove(&plan.id).unwrap_or_default();
            let plain: Vec<Review> = given.iter().map(|r| r.review.clone()).collect();
            let reviewed = status(kind, &plan.fingerprint, &plain, policy, now);
            let changes = match (plan.basis(), live) {
                (None, _) => vec![crate::domain::plan::BasisChange::Unknown],
                (Some(basis), Some(live)) => basis.changes(&live),
                (Some(_), None) => vec![crate::domain::plan::BasisChange::Settings],
            };
            let execution = executions.get(&plan.id).copied();
            Ok((
                PlanStatus::overall(reviewed, changes.clone(), execution),
                changes,
                given,
            ))
        })
        .collect()
}

/// The status of the plan of `incident` as it is now (`None`: no plan), for the server's
/// checks. The caller holds the incident's lock when it acts on the answer.
pub async fn status_now(
    conn: &mut PgConnection,
    policy: ApprovalPolicy,
    incident: i64,
    now: DateTime<Utc>,
) -> Result<Option<PlanStatus>, AppError> {
    let Some(plan) = plan_row(conn, incident, false).await? else {
        return Ok(None);
    };
    Ok(Some(assess(conn, policy, &plan, now).await?.0))
}

/// The plans' statuses of these incidents (those that have one), for lists and badges.
pub async fn statuses(
    pool: &PgPool,
    policy: ApprovalPolicy,
    incidents: &[i64],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, PlanStatus>, AppError> {
    let mut conn = pool.acquire().await?;
    let rows = sqlx::query_as::<_, PlanRow>(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans p WHERE p.incident_id = ANY($1)"
    ))
    .bind(incidents)
    .fetch_all(&mut *conn)
    .await?;
    let assessed = assess_all(&mut conn, policy, &rows, now).await?;
    Ok(rows
        .iter()
        .zip(assessed)
        .map(|(row, (status, _, _))| (row.incident_id, status))
        .collect())
}

/// Prepares or revises the plan of incident `incident`. Returns its new fingerprint.
pub async fn save(
    pool: &PgPool,
    actor: &SignedInUser,
    incident: i64,
    change: PlanChange,
    input: &PlanInput,
) -> Result<String, AppError> {
    let mut tx = pool.begin().await?;
    let (state, facts) = transitions::lock(&mut tx, incident).await?;
    let action = match change {
        PlanChange::Prepare => Action::PreparePlan,
        PlanChange::Revise => Action::RevisePlan,
    };
    let next = lifecycle::check(state, action, &actor.roles, &facts)?;
    let kind = facts
        .rollback
        .ok_or(AppError::Refused(Text::with(Msg::NotInThisState, state)))?;
    let environment = incidents::environment_of(&mut *tx, incident)
        .await?
        .ok_or(AppError::Refused(Msg::UnknownIncident.into()))?;
    let config = environments::config(&mut *tx, environment)
        .await?
        .ok_or(AppError::Refused(Msg::UnknownEnvironment.into()))?;
    let checked = check_input(&mut tx, incident, &config, kind, input).await?;
    let basis = live_basis(
        &mut tx,
        environment,
        checked.target_release.as_deref(),
        checked.backup.as_ref().map(|(b, _)| b.file_name.as_str()),
    )
    .await?
    .ok_or(AppError::Refused(Msg::UnknownEnvironment.into()))?;
    let steps = serde_json::to_value(&checked.steps)
        .map_err(|e| AppError::Internal(format!("plan steps: {e}")))?;
    let basis_json =
        serde_json::to_value(&basis).map_err(|e| AppError::Internal(format!("plan basis: {e}")))?;
    let existing = plan_row(&mut tx, incident, true).await?;
    // The same steps on the same facts, not blocked: nothing to revise. A stale, rejected or
    // withdrawn plan may be saved again as it is: that is a new version for new approvals.
    if let Some(before) = &existing {
        let (status_before, _, _) =
            assess(&mut tx, ApprovalPolicy::default(), before, Utc::now()).await?;
        let blocked = matches!(
            status_before,
            PlanStatus::Stale { .. } | PlanStatus::Rejected | PlanStatus::Withdrawn
        );
        if before.steps == steps && before.basis.as_ref() == Some(&basis_json) && !blocked {
            return Err(AppError::Refused(Msg::PlanUnchanged.into()));
        }
    }
    let revision = existing.as_ref().map_or(1, |p| p.revision + 1);
    let fingerprint = fingerprint(environment, revision, &checked.steps, &basis);
    let (backup_file, backup_sha, backup_taken_at) = match &checked.backup {
        Some((choice, taken)) => (
            Some(choice.file_name.clone()),
            Some(choice.sha256.clone()),
            Some(*taken),
        ),
        None => (None, None, None),
    };
    let defective_release = checked.defective.as_ref().map(|d| d.release.clone());
    let defective_source = checked.defective.as_ref().map(|d| d.source.as_str());
    sqlx::query(
        "INSERT INTO plans (incident_id, environment_id, rollback_type, from_release,
                            target_release, backup_file, backup_sha256, backup_taken_at, steps,
                            fingerprint, requested_by, revision, basis, defective_release,
                            defective_source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $4, $14)
         ON CONFLICT (incident_id) DO UPDATE SET
             from_release = EXCLUDED.from_release, target_release = EXCLUDED.target_release,
             backup_file = EXCLUDED.backup_file, backup_sha256 = EXCLUDED.backup_sha256,
             backup_taken_at = EXCLUDED.backup_taken_at, steps = EXCLUDED.steps,
             fingerprint = EXCLUDED.fingerprint, requested_by = EXCLUDED.requested_by,
             revision = EXCLUDED.revision, basis = EXCLUDED.basis,
             defective_release = EXCLUDED.defective_release,
             defective_source = EXCLUDED.defective_source, updated_at = now()",
    )
    .bind(incident)
    .bind(environment)
    .bind(kind.as_str())
    .bind(&defective_release)
    .bind(&checked.target_release)
    .bind(&backup_file)
    .bind(&backup_sha)
    .bind(backup_taken_at)
    .bind(steps)
    .bind(&fingerprint)
    .bind(actor.id)
    .bind(revision)
    .bind(basis_json)
    .bind(defective_source)
    .execute(&mut *tx)
    .await?;
    let saved = PlanSaved {
        revision,
        rollback_type: kind,
        fingerprint: fingerprint.clone(),
        from_release: defective_release.map(|r| r.to_string()),
        defective_source: defective_source.map(str::to_owned),
        target_release: checked.target_release.clone(),
        backup: backup_file.clone(),
        steps: checked.steps.len(),
    };
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        match change {
            PlanChange::Prepare => Event::PlanPrepared(saved),
            PlanChange::Revise => Event::PlanRevised(saved),
        },
    )
    .await?;
    transitions::apply(&mut tx, incident, Some(actor.id), next).await?;
    if crate::domain::plan::needs_approvals(kind) {
        crate::backend::emails::notify(
            &mut tx,
            incident,
            crate::backend::emails::Automatic::ApprovalRequested {
                requester: actor.id,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(fingerprint)
}

/// A verdict with its comment and the reviewer's name.
pub(crate) struct ReviewRow {
    pub review: Review,
    pub comment: String,
    pub name: String,
}

#[derive(sqlx::FromRow)]
struct ReviewDbRow {
    plan_id: i64,
    reviewer_id: Uuid,
    verdict: String,
    fingerprint: String,
    at: DateTime<Utc>,
    comment: String,
    name: String,
    active: bool,
    roles: Vec<String>,
}

/// The verdicts on each of these plans, oldest first, each with whether its reviewer may
/// still approve, in one query.
async fn reviews_of(
    conn: &mut PgConnection,
    plans: &[i64],
) -> Result<HashMap<i64, Vec<ReviewRow>>, AppError> {
    let rows: Vec<ReviewDbRow> = sqlx::query_as(
        "SELECT r.plan_id, r.reviewer_id, r.verdict, r.fingerprint, r.at, r.comment, u.name,
                u.active, u.roles
         FROM plan_reviews r JOIN users u ON u.id = r.reviewer_id
         WHERE r.plan_id = ANY($1) ORDER BY r.plan_id, r.id",
    )
    .bind(plans)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: HashMap<i64, Vec<ReviewRow>> = HashMap::new();
    for row in rows {
        let verdict = Verdict::parse(&row.verdict)
            .ok_or_else(|| AppError::Internal(format!("verdict {}", row.verdict)))?;
        let standing = if !row.active {
            ReviewerStanding::Deactivated
        } else if !Roles::parse(row.roles.iter().map(String::as_str))
            .is_some_and(|r| r.may_decide_rollback())
        {
            ReviewerStanding::NoLongerDecider
        } else {
            ReviewerStanding::MayApprove
        };
        out.entry(row.plan_id).or_default().push(ReviewRow {
            review: Review {
                reviewer: row.reviewer_id,
                verdict,
                fingerprint: row.fingerprint,
                at: row.at,
                standing,
            },
            comment: row.comment,
            name: row.name,
        });
    }
    Ok(out)
}

impl From<ReviewRefusal> for AppError {
    fn from(refusal: ReviewRefusal) -> AppError {
        AppError::Refused(
            match refusal {
                ReviewRefusal::NotADecider => Msg::OnlyDecidersMayApprove,
                ReviewRefusal::OwnPlan => Msg::CannotApproveOwnPlan,
                ReviewRefusal::NotTheRequester => Msg::OnlyRequesterWithdraws,
                ReviewRefusal::NoApprovalNeeded => Msg::PlanNeedsNoApproval,
                ReviewRefusal::PlanChanged => Msg::PlanChangedSinceRead,
                ReviewRefusal::AlreadyReviewed => Msg::AlreadyReviewed,
                ReviewRefusal::NotAwaiting => Msg::PlanNotAwaiting,
            }
            .into(),
        )
    }
}

/// A verdict on the plan of `incident` by `actor`, who read the version `seen`. All rules are
/// checked against the locked incident and plan rows, so two approvers posting at the same
/// moment are counted one after the other. Returns the plan's status after it.
#[allow(clippy::too_many_arguments)]
pub async fn review(
    pool: &PgPool,
    policy: ApprovalPolicy,
    actor: &SignedInUser,
    incident: i64,
    verdict: Verdict,
    seen: &str,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<PlanStatus, AppError> {
    // A rejection says why: the preparer must know what to change.
    if verdict == Verdict::Rejected && comment.trim().is_empty() {
        return Err(AppError::field("comment", Msg::RejectionNeedsReason));
    }
    let mut tx = pool.begin().await?;
    let action = match verdict {
        Verdict::Withdrawn => Action::WithdrawPlan,
        _ => Action::ReviewPlan,
    };
    transitions::begin(&mut tx, incident, action, &actor.roles).await?;
    let plan = plan_row(&mut tx, incident, true)
        .await?
        .ok_or(AppError::Refused(Msg::NoPlanYet.into()))?;
    let kind = plan.kind()?;
    let (current, _, given) = assess(&mut tx, policy, &plan, now).await?;
    let mut given: Vec<Review> = given.into_iter().map(|r| r.review).collect();
    check_review(
        kind,
        plan.requested_by,
        &plan.fingerprint,
        &current,
        &given,
        policy,
        now,
        actor.id,
        &actor.roles,
        seen,
        verdict,
    )?;
    sqlx::query(
        "INSERT INTO plan_reviews (plan_id, reviewer_id, verdict, fingerprint, comment, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(plan.id)
    .bind(actor.id)
    .bind(verdict.as_str())
    .bind(&plan.fingerprint)
    .bind(comment)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    given.push(Review {
        reviewer: actor.id,
        verdict,
        fingerprint: plan.fingerprint.clone(),
        at: now,
        standing: ReviewerStanding::MayApprove,
    });
    let after = status(kind, &plan.fingerprint, &given, policy, now);
    let reviewed = PlanReviewed {
        fingerprint: plan.fingerprint.clone(),
        comment: comment.to_string(),
    };
    timeline::append(
        &mut tx,
        incident,
        Some(actor.id),
        match verdict {
            Verdict::Approved => Event::PlanApproved(reviewed),
            Verdict::Rejected => Event::PlanRejected(reviewed),
            Verdict::Withdrawn => Event::PlanWithdrawn(reviewed),
        },
    )
    .await?;
    if after == PlanStatus::Ready && current != PlanStatus::Ready {
        timeline::append(
            &mut tx,
            incident,
            None,
            Event::PlanReady {
                fingerprint: plan.fingerprint.clone(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// The plan of `incident` as its page shows it, with its status at `now`.
pub async fn load(
    pool: &PgPool,
    policy: ApprovalPolicy,
    incident: i64,
    now: DateTime<Utc>,
) -> Result<Option<PlanRecord>, AppError> {
    let mut conn = pool.acquire().await?;
    let Some(plan) = plan_row(&mut conn, incident, false).await? else {
        return Ok(None);
    };
    let kind = plan.kind()?;
    let steps = plan.steps()?;
    let (status, changes, given) = assess(&mut conn, policy, &plan, now).await?;
    let requested_by_name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
        .bind(plan.requested_by)
        .fetch_one(&mut *conn)
        .await?;
    let deployment: Option<(String, DateTime<Utc>)> = match &plan.from_release {
        Some(release) => sqlx::query_as(
            "SELECT version, deployed_at FROM deployments WHERE environment_id = $1 AND release = $2",
        )
        .bind(plan.environment_id)
        .bind(release)
        .fetch_optional(&mut *conn)
        .await?,
        None => None,
    };
    let config = environments::config(&mut *conn, plan.environment_id).await?;
    let environment_name = config.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    let basis = plan.basis();
    let runs_on = basis
        .as_ref()
        .map(|b| b.config.target.clone())
        .or_else(|| config.map(|c| c.target))
        .map(|t| match t {
            Target::Local { root } => RunsOn::Local { root },
            Target::Ssh {
                user, host, port, ..
            } => RunsOn::Ssh { user, host, port },
        });
    let executed_execution = latest_execution(&mut conn, &plan).await?.map(|(id, _)| id);
    // What the hand-picked choices change against the proposal, said next to them.
    let warnings = match (
        kind,
        defaults(
            &mut conn,
            incident,
            kind == RollbackType::ApplicationDatabase,
        )
        .await?,
    ) {
        (RollbackType::System, _) | (_, Err(_)) => Vec::new(),
        (_, Ok(d)) => choice_warnings(
            &d,
            plan.target_release.as_deref(),
            plan.backup_file.as_deref().zip(plan.backup_taken_at),
        ),
    };
    let current_is_target = basis
        .as_ref()
        .and_then(|b| b.current_target.as_deref())
        .zip(plan.target_release.as_deref())
        .is_some_and(|(current, target)| current.trim_end_matches('/').ends_with(target));
    Ok(Some(PlanRecord {
        kind,
        environment_name,
        runs_on,
        from_release: plan.from_release.clone(),
        defective_source: plan
            .defective_source
            .as_deref()
            .and_then(DefectiveSource::parse),
        target_release: plan.target_release.clone(),
        backup_file: plan.backup_file.clone(),
        backup_taken_at: plan.backup_taken_at,
        defective_version: deployment.as_ref().map(|d| d.0.clone()),
        defective_deployed_at: deployment.map(|d| d.1),
        steps,
        status,
        changes,
        warnings,
        current_is_target,
        execution: executed_execution,
        reviews: given
            .into_iter()
            .map(|r| {
                let ReviewRow {
                    review,
                    comment,
                    name,
                } = r;
                ReviewRecord {
                    standing: if review.fingerprint != plan.fingerprint {
                        ReviewStanding::EarlierVersion
                    } else if review.verdict == Verdict::Approved
                        && review.standing == ReviewerStanding::Deactivated
                    {
                        ReviewStanding::Deactivated
                    } else if review.verdict == Verdict::Approved
                        && review.standing == ReviewerStanding::NoLongerDecider
                    {
                        ReviewStanding::NoLongerDecider
                    } else if review.is_valid(&plan.fingerprint, policy, now) {
                        ReviewStanding::Counts
                    } else {
                        ReviewStanding::Expired
                    },
                    reviewer: review.reviewer,
                    name,
                    verdict: review.verdict,
                    comment,
                    at: review.at,
                    expires_at: review.at + policy.expiry(),
                }
            })
            .collect(),
        fingerprint: plan.fingerprint,
        revision: plan.revision,
        requested_by: plan.requested_by,
        requested_by_name,
        updated_at: plan.updated_at,
        required: policy.required(),
        expiry_minutes: policy.expiry().num_minutes(),
    }))
}

/// Plans of open incidents that wait on someone: those waiting for `user`'s verdict, and
/// those approved but not yet executed. One query for the plans (bounded), then each plan's
/// standing; never a query per plan for its title.
pub async fn open_for(
    pool: &PgPool,
    policy: ApprovalPolicy,
    user: &SignedInUser,
    now: DateTime<Utc>,
) -> Result<OpenPlans, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        plan: PlanRow,
        title: String,
    }
    let mut conn = pool.acquire().await?;
    let rows = sqlx::query_as::<_, Row>(&format!(
        "SELECT {PLAN_COLUMNS}, i.title FROM plans p JOIN incidents i ON i.id = p.incident_id
         WHERE i.state = 'awaiting_approval' ORDER BY i.detected_at LIMIT 50"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let plans: Vec<PlanRow> = rows.iter().map(|r| r.plan.clone()).collect();
    let assessed = assess_all(&mut conn, policy, &plans, now).await?;
    let mut open = OpenPlans::default();
    for (Row { plan, title }, (current, _, given)) in rows.into_iter().zip(assessed) {
        let kind = plan.kind()?;
        let given: Vec<Review> = given.into_iter().map(|r| r.review).collect();
        let ready = current == PlanStatus::Ready;
        // Waiting for this reader's verdict (the requester never approves their own plan).
        let may = !ready
            && user.roles.may_decide_rollback()
            && plan.requested_by != user.id
            && check_review(
                kind,
                plan.requested_by,
                &plan.fingerprint,
                &current,
                &given,
                policy,
                now,
                user.id,
                &user.roles,
                &plan.fingerprint,
                Verdict::Approved,
            )
            .is_ok();
        let line = PlanWaiting {
            incident: plan.incident_id,
            title,
            kind,
            status: current,
        };
        if ready {
            // Ready since its last approval of this version.
            let since = given
                .iter()
                .filter(|r| r.fingerprint == plan.fingerprint)
                .map(|r| r.at)
                .max()
                .unwrap_or(plan.updated_at);
            open.ready.push((line, since));
        } else if may {
            open.waiting.push((line, plan.updated_at));
        }
    }
    Ok(open)
}

/// What [`open_for`] finds, each with since when.
#[derive(Default)]
pub struct OpenPlans {
    pub waiting: Vec<(PlanWaiting, DateTime<Utc>)>,
    pub ready: Vec<(PlanWaiting, DateTime<Utc>)>,
}

/// Everything the plan page of `incident` shows, at `now`.
pub async fn page(
    pool: &PgPool,
    policy: ApprovalPolicy,
    incident: i64,
    now: DateTime<Utc>,
) -> Result<Option<PlanPage>, AppError> {
    let Some(summary) = incidents::summary(pool, policy, incident).await? else {
        return Ok(None);
    };
    let (environment, rollback): (Uuid, Option<String>) =
        sqlx::query_as("SELECT environment_id, rollback_type FROM incidents WHERE id = $1")
            .bind(incident)
            .fetch_one(pool)
            .await?;
    let rollback = rollback.as_deref().and_then(RollbackType::parse);
    let plan = load(pool, policy, incident, now).await?;
    let inventory = crate::backend::inventory::load(pool, environment).await?;
    let tz: chrono_tz::Tz = environments::config(pool, environment)
        .await?
        .and_then(|c| c.time_zone.parse().ok())
        .unwrap_or(chrono_tz::Europe::Paris);
    let mut conn = pool.acquire().await?;
    let defaults = defaults(
        &mut conn,
        incident,
        rollback == Some(RollbackType::ApplicationDatabase),
    )
    .await?;
    // The defective release even when no proposal could be made, for the form's choices.
    let defective = match &defaults {
        Ok(d) => Some(d.defective.clone()),
        Err(_) => match inventoried(&mut conn, incident).await? {
            Some((_, facts, Some(inv))) => defective_of(&facts, &inv),
            _ => None,
        },
    };
    let choices = PlanChoices {
        current_release: inventory.as_ref().and_then(|i| i.current_release.clone()),
        releases: inventory
            .as_ref()
            .map(|i| i.releases.iter().map(|(name, _)| name.clone()).collect())
            .unwrap_or_default(),
        backups: inventory
            .map(|i| {
                i.backups
                    .into_iter()
                    .filter_map(|b| Some((b.file_name, backup_time(b.taken_at, tz)?)))
                    .collect()
            })
            .unwrap_or_default(),
        defective,
        defaults,
    };
    Ok(Some(PlanPage {
        incident: summary,
        rollback,
        plan,
        choices,
    }))
}
