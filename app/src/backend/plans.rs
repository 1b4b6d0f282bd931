//! Rollback plans: their defaults, preparing and revising them (a new fingerprint each time),
//! and the verdicts of the approvers — each in one transaction holding the incident's row lock.
use crate::backend::error::FieldErrors;
use crate::backend::{environments, incidents, AppError};
use crate::domain::environment::{EnvironmentConfig, Target};
use crate::domain::lifecycle;
use crate::domain::plan::{
    check_review, status, ApprovalPolicy, PlanStatus, Review, ReviewRefusal, Verdict,
};
use crate::domain::runbook::{self, BackupChoice, Step};
use crate::domain::{Action, RollbackType};
use crate::i18n::{Msg, Text};
use crate::records::{
    PlanChoices, PlanPage, PlanRecord, PlanWaiting, ReviewRecord, ReviewStanding, RunsOn,
};
use crate::viewer::SignedInUser;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

pub use crate::domain::plan::{DefaultsProblem, PlanDefaults};

/// A hash over everything that will run — the environment and every step with its
/// arguments — and the plan's revision. Any edit gives another fingerprint, which voids the
/// approvals given before, even an edit that comes back to an earlier version.
pub fn fingerprint(environment: Uuid, revision: i32, steps: &[Step]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(environment.as_bytes());
    hasher.update(revision.to_be_bytes());
    // serde_json writes struct fields in declaration order: the same plan, the same bytes.
    hasher.update(serde_json::to_vec(steps).unwrap_or_default());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fingerprint;
    use crate::domain::runbook::{Operation, Step};
    use uuid::Uuid;

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
        let same = fingerprint(env, 1, &steps.clone());
        assert_eq!(fingerprint(env, 1, &steps), same);
        assert_ne!(fingerprint(env, 2, &steps), same, "another revision");
        assert_eq!(same.len(), 64);
        let mut other = steps.clone();
        other[0].operation = Operation::SwitchRelease {
            link: "/var/www/taskflow/current".into(),
            release_dir: "/var/www/taskflow/releases/2025-10-15_091844".into(),
        };
        assert_ne!(fingerprint(env, 1, &other), same, "another release");
        assert_ne!(
            fingerprint(Uuid::from_u128(8), 1, &steps),
            same,
            "another environment"
        );
        assert_ne!(fingerprint(env, 1, &[]), same, "a step less");
    }
}

/// The newest release older than `current` (by the time in their names).
pub fn pick_target_release(
    releases: &[(String, chrono::NaiveDateTime)],
    current: &str,
) -> Option<String> {
    let current_stamp = releases.iter().find(|(n, _)| n == current)?.1;
    releases
        .iter()
        .filter(|(_, stamp)| *stamp < current_stamp)
        .max_by_key(|(_, stamp)| *stamp)
        .map(|(name, _)| name.clone())
}

/// The newest backup taken strictly before `deployed_at`; backup names carry the target's
/// local time, hence `tz`.
pub fn pick_backup(
    backups: &[(String, chrono::NaiveDateTime, String)],
    tz: chrono_tz::Tz,
    deployed_at: chrono::DateTime<chrono::Utc>,
) -> Option<(
    crate::domain::runbook::BackupChoice,
    chrono::DateTime<chrono::Utc>,
)> {
    use chrono::TimeZone;
    backups
        .iter()
        .filter_map(|(file, local, sha)| {
            let taken = tz
                .from_local_datetime(local)
                .earliest()?
                .with_timezone(&chrono::Utc);
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

/// The defaults of a plan on `environment`, from its last inventory and its deployments. The
/// defective release is the current one; `with_backup` for a database rollback.
pub async fn defaults(
    pool: &sqlx::PgPool,
    environment: Uuid,
    with_backup: bool,
) -> Result<Result<PlanDefaults, DefaultsProblem>, crate::backend::AppError> {
    let inventory: Option<(Option<String>,)> =
        sqlx::query_as("SELECT current_release FROM inventories WHERE environment_id = $1")
            .bind(environment)
            .fetch_optional(pool)
            .await?;
    let Some((current,)) = inventory else {
        return Ok(Err(DefaultsProblem::NoInventory));
    };
    let Some(current) = current else {
        return Ok(Err(DefaultsProblem::NoCurrentRelease));
    };
    let releases: Vec<(String, chrono::NaiveDateTime)> =
        sqlx::query_as("SELECT name, stamp FROM releases WHERE environment_id = $1")
            .bind(environment)
            .fetch_all(pool)
            .await?;
    let Some(target_release) = pick_target_release(&releases, &current) else {
        return Ok(Err(DefaultsProblem::NoOlderRelease));
    };
    let deployment: Option<(String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT version, deployed_at FROM deployments WHERE environment_id = $1 AND release = $2",
    )
    .bind(environment)
    .bind(&current)
    .fetch_optional(pool)
    .await?;
    let mut defaults = PlanDefaults {
        current_release: current.clone(),
        target_release,
        defective_version: deployment.as_ref().map(|d| d.0.clone()),
        defective_deployed_at: deployment.as_ref().map(|d| d.1),
        backup: None,
        backup_taken_at: None,
    };
    if with_backup {
        let Some((version, deployed_at)) = deployment else {
            return Ok(Err(DefaultsProblem::NoDeployment { release: current }));
        };
        let tz: String = sqlx::query_scalar("SELECT time_zone FROM environments WHERE id = $1")
            .bind(environment)
            .fetch_one(pool)
            .await?;
        let tz = tz.parse().unwrap_or(chrono_tz::Europe::Paris);
        let backups: Vec<(String, chrono::NaiveDateTime, String)> = sqlx::query_as(
            "SELECT file_name, taken_at, sha256 FROM backups WHERE environment_id = $1",
        )
        .bind(environment)
        .fetch_all(pool)
        .await?;
        match pick_backup(&backups, tz, deployed_at) {
            Some((backup, taken)) => {
                defaults.backup = Some(backup);
                defaults.backup_taken_at = Some(taken);
            }
            None => {
                return Ok(Err(DefaultsProblem::NoEarlierBackup {
                    version,
                    deployed_at,
                }))
            }
        }
    }
    Ok(Ok(defaults))
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

/// The plan's facts checked against the last inventory: the release to go back to, the
/// backup, and the steps they make.
struct Checked {
    from_release: Option<String>,
    target_release: Option<String>,
    backup: Option<(BackupChoice, DateTime<Utc>)>,
    steps: Vec<Step>,
}

async fn check_input(
    tx: &mut Transaction<'_, Postgres>,
    environment: Uuid,
    config: &EnvironmentConfig,
    kind: RollbackType,
    input: &PlanInput,
) -> Result<Checked, AppError> {
    if kind == RollbackType::System {
        let steps = parse_manual_steps(&input.manual_steps)
            .ok_or_else(|| AppError::field("manual_steps", Msg::ManualStepsRequired))?;
        return Ok(Checked {
            from_release: None,
            target_release: None,
            backup: None,
            steps: runbook::system(&steps),
        });
    }
    let current: Option<Option<String>> =
        sqlx::query_scalar("SELECT current_release FROM inventories WHERE environment_id = $1")
            .bind(environment)
            .fetch_optional(&mut **tx)
            .await?;
    let current = match current {
        None => return Err(problem(DefaultsProblem::NoInventory)),
        Some(None) => return Err(problem(DefaultsProblem::NoCurrentRelease)),
        Some(Some(current)) => current,
    };
    let target = input.target_release.trim();
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM releases WHERE environment_id = $1 AND name = $2)",
    )
    .bind(environment)
    .bind(target)
    .fetch_one(&mut **tx)
    .await?;
    let mut errors = FieldErrors::default();
    errors.check(
        "target_release",
        (known && target != current).then_some(()),
        Msg::TargetReleaseInvalid,
    );
    let mut backup = None;
    if kind == RollbackType::ApplicationDatabase {
        let deployment: Option<(String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT version, deployed_at FROM deployments WHERE environment_id = $1 AND release = $2",
        )
        .bind(environment)
        .bind(&current)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((_, deployed_at)) = deployment else {
            return Err(problem(DefaultsProblem::NoDeployment { release: current }));
        };
        let row: Option<(NaiveDateTime, String)> = sqlx::query_as(
            "SELECT taken_at, sha256 FROM backups WHERE environment_id = $1 AND file_name = $2",
        )
        .bind(environment)
        .bind(input.backup.trim())
        .fetch_optional(&mut **tx)
        .await?;
        let tz = config.time_zone.parse().unwrap_or(chrono_tz::Europe::Paris);
        // §5.2 step 3: only a backup taken before the defective deployment holds sound data.
        backup = row.and_then(|(local, sha256)| {
            pick_backup(
                &[(input.backup.trim().to_owned(), local, sha256)],
                tz,
                deployed_at,
            )
        });
        errors.check("backup", backup.as_ref(), Msg::BackupMustPrecedeDeployment);
    }
    errors.into_result()?;
    let steps = match &backup {
        Some((choice, _)) => runbook::application_database(config, target, choice),
        None => runbook::application(config, target),
    };
    Ok(Checked {
        from_release: Some(current),
        target_release: Some(target.to_owned()),
        backup,
        steps,
    })
}

/// What the user reads when a plan can't be made.
pub fn problem_text(problem: &DefaultsProblem) -> Text {
    match problem {
        DefaultsProblem::NoInventory => Msg::PlanNoInventory.into(),
        DefaultsProblem::NoCurrentRelease => Msg::PlanNoCurrentRelease.into(),
        DefaultsProblem::NoOlderRelease => Msg::PlanNoOlderRelease.into(),
        DefaultsProblem::NoDeployment { release } => Text::with(Msg::PlanNoDeployment, release),
        DefaultsProblem::NoEarlierBackup { version, .. } => {
            Text::with(Msg::PlanNoEarlierBackup, version)
        }
    }
}

fn problem(problem: DefaultsProblem) -> AppError {
    AppError::Refused(problem_text(&problem))
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
    let (state, facts) = incidents::lock(&mut tx, incident).await?;
    let action = match change {
        PlanChange::Prepare => Action::PreparePlan,
        PlanChange::Revise => Action::RevisePlan,
    };
    let next = lifecycle::check(state, action, &actor.roles, &facts)?;
    let kind = facts
        .rollback
        .ok_or(AppError::Refused(Text::with(Msg::NotInThisState, state)))?;
    let environment: Uuid =
        sqlx::query_scalar("SELECT environment_id FROM incidents WHERE id = $1")
            .bind(incident)
            .fetch_one(&mut *tx)
            .await?;
    let config = environments::config(&mut *tx, environment)
        .await?
        .ok_or(AppError::Refused(Msg::UnknownEnvironment.into()))?;
    let checked = check_input(&mut tx, environment, &config, kind, input).await?;
    let steps = serde_json::to_value(&checked.steps)
        .map_err(|e| AppError::Internal(format!("plan steps: {e}")))?;
    let existing: Option<(i32, serde_json::Value)> =
        sqlx::query_as("SELECT revision, steps FROM plans WHERE incident_id = $1 FOR UPDATE")
            .bind(incident)
            .fetch_optional(&mut *tx)
            .await?;
    if existing
        .as_ref()
        .is_some_and(|(_, before)| *before == steps)
    {
        return Err(AppError::Refused(Msg::PlanUnchanged.into()));
    }
    let revision = existing.map_or(1, |(revision, _)| revision + 1);
    let fingerprint = fingerprint(environment, revision, &checked.steps);
    let (backup_file, backup_sha, backup_taken_at) = match &checked.backup {
        Some((choice, taken)) => (
            Some(choice.file_name.clone()),
            Some(choice.sha256.clone()),
            Some(*taken),
        ),
        None => (None, None, None),
    };
    sqlx::query(
        "INSERT INTO plans (incident_id, environment_id, rollback_type, from_release,
                            target_release, backup_file, backup_sha256, backup_taken_at, steps,
                            fingerprint, requested_by, revision)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (incident_id) DO UPDATE SET
             from_release = EXCLUDED.from_release, target_release = EXCLUDED.target_release,
             backup_file = EXCLUDED.backup_file, backup_sha256 = EXCLUDED.backup_sha256,
             backup_taken_at = EXCLUDED.backup_taken_at, steps = EXCLUDED.steps,
             fingerprint = EXCLUDED.fingerprint, requested_by = EXCLUDED.requested_by,
             revision = EXCLUDED.revision, updated_at = now()",
    )
    .bind(incident)
    .bind(environment)
    .bind(kind.as_str())
    .bind(&checked.from_release)
    .bind(&checked.target_release)
    .bind(&backup_file)
    .bind(&backup_sha)
    .bind(backup_taken_at)
    .bind(steps)
    .bind(&fingerprint)
    .bind(actor.id)
    .bind(revision)
    .execute(&mut *tx)
    .await?;
    incidents::append_event(
        &mut tx,
        incident,
        Some(actor.id),
        match change {
            PlanChange::Prepare => "plan_prepared",
            PlanChange::Revise => "plan_revised",
        },
        json!({
            "revision": revision, "rollback_type": kind, "fingerprint": fingerprint,
            "from_release": checked.from_release, "target_release": checked.target_release,
            "backup": backup_file, "steps": checked.steps.len(),
        }),
    )
    .await?;
    incidents::set_state(&mut tx, incident, Some(actor.id), state, next).await?;
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

/// The plan's verdicts, oldest first, each with its comment and the reviewer's name.
pub(crate) async fn reviews(
    db: impl sqlx::PgExecutor<'_>,
    plan: i64,
) -> Result<Vec<(Review, String, String)>, AppError> {
    let rows: Vec<(Uuid, String, String, DateTime<Utc>, String, String)> = sqlx::query_as(
        "SELECT r.reviewer_id, r.verdict, r.fingerprint, r.at, r.comment, u.name
         FROM plan_reviews r JOIN users u ON u.id = r.reviewer_id
         WHERE r.plan_id = $1 ORDER BY r.id",
    )
    .bind(plan)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(reviewer, verdict, fingerprint, at, comment, name)| {
            Some((
                Review {
                    reviewer,
                    verdict: Verdict::parse(&verdict)?,
                    fingerprint,
                    at,
                },
                comment,
                name,
            ))
        })
        .collect())
}

impl From<ReviewRefusal> for AppError {
    fn from(refusal: ReviewRefusal) -> AppError {
        AppError::Refused(
            match refusal {
                ReviewRefusal::NotADecider => Msg::OnlyDecidersMayApprove,
                ReviewRefusal::OwnPlan => Msg::CannotApproveOwnPlan,
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
    let mut tx = pool.begin().await?;
    let (state, facts) = incidents::lock(&mut tx, incident).await?;
    lifecycle::check(state, Action::ReviewPlan, &actor.roles, &facts)?;
    let (plan, kind, fingerprint, requester): (i64, String, String, Uuid) = sqlx::query_as(
        "SELECT id, rollback_type, fingerprint, requested_by FROM plans
         WHERE incident_id = $1 FOR UPDATE",
    )
    .bind(incident)
    .fetch_one(&mut *tx)
    .await?;
    let kind = RollbackType::parse(&kind).ok_or(AppError::Internal("plan type".into()))?;
    let mut given: Vec<Review> = reviews(&mut *tx, plan)
        .await?
        .into_iter()
        .map(|(r, _, _)| r)
        .collect();
    check_review(
        kind,
        requester,
        &fingerprint,
        &given,
        policy,
        now,
        actor.id,
        &actor.roles,
        seen,
    )?;
    sqlx::query(
        "INSERT INTO plan_reviews (plan_id, reviewer_id, verdict, fingerprint, comment, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(plan)
    .bind(actor.id)
    .bind(verdict.as_str())
    .bind(&fingerprint)
    .bind(comment)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    given.push(Review {
        reviewer: actor.id,
        verdict,
        fingerprint: fingerprint.clone(),
        at: now,
    });
    let after = status(kind, &fingerprint, &given, policy, now);
    incidents::append_event(
        &mut tx,
        incident,
        Some(actor.id),
        match verdict {
            Verdict::Approved => "plan_approved",
            Verdict::Rejected => "plan_rejected",
        },
        json!({ "fingerprint": fingerprint, "comment": comment }),
    )
    .await?;
    if after == PlanStatus::Ready {
        incidents::append_event(
            &mut tx,
            incident,
            None,
            "plan_ready",
            json!({ "fingerprint": fingerprint }),
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
    #[allow(clippy::type_complexity)]
    let row: Option<(
        i64,
        Uuid,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<DateTime<Utc>>,
        serde_json::Value,
        String,
        i32,
        Uuid,
        String,
        DateTime<Utc>,
    )> = sqlx::query_as(
        "SELECT p.id, p.environment_id, p.rollback_type, p.from_release, p.target_release,
                p.backup_file, p.backup_taken_at, p.steps, p.fingerprint, p.revision,
                p.requested_by, u.name, p.updated_at
         FROM plans p JOIN users u ON u.id = p.requested_by WHERE p.incident_id = $1",
    )
    .bind(incident)
    .fetch_optional(pool)
    .await?;
    let Some((
        id,
        environment,
        kind,
        from_release,
        target_release,
        backup_file,
        backup_taken_at,
        steps,
        fingerprint,
        revision,
        requested_by,
        requested_by_name,
        updated_at,
    )) = row
    else {
        return Ok(None);
    };
    let kind = RollbackType::parse(&kind).ok_or(AppError::Internal("plan type".into()))?;
    let steps: Vec<Step> = serde_json::from_value(steps)
        .map_err(|e| AppError::Internal(format!("plan steps: {e}")))?;
    let given = reviews(pool, id).await?;
    let plain: Vec<Review> = given.iter().map(|(r, _, _)| r.clone()).collect();
    let deployment: Option<(String, DateTime<Utc>)> = match &from_release {
        Some(release) => sqlx::query_as(
            "SELECT version, deployed_at FROM deployments WHERE environment_id = $1 AND release = $2",
        )
        .bind(environment)
        .bind(release)
        .fetch_optional(pool)
        .await?,
        None => None,
    };
    let config = environments::config(pool, environment).await?;
    let environment_name = config.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    let runs_on = config.map(|c| c.target).map(|t| match t {
        Target::Local { root } => RunsOn::Local { root },
        Target::Ssh {
            user, host, port, ..
        } => RunsOn::Ssh { user, host, port },
    });
    Ok(Some(PlanRecord {
        kind,
        environment_name,
        runs_on,
        from_release,
        target_release,
        backup_file,
        backup_taken_at,
        defective_version: deployment.as_ref().map(|d| d.0.clone()),
        defective_deployed_at: deployment.map(|d| d.1),
        steps,
        status: status(kind, &fingerprint, &plain, policy, now),
        reviews: given
            .into_iter()
            .map(|(r, comment, name)| ReviewRecord {
                standing: if r.fingerprint != fingerprint {
                    ReviewStanding::EarlierVersion
                } else if r.is_valid(&fingerprint, policy, now) {
                    ReviewStanding::Counts
                } else {
                    ReviewStanding::Expired
                },
                reviewer: r.reviewer,
                name,
                verdict: r.verdict,
                comment,
                at: r.at,
                expires_at: r.at + policy.expiry(),
            })
            .collect(),
        fingerprint,
        revision,
        requested_by,
        requested_by_name,
        updated_at,
        required: policy.required(),
        expiry_minutes: policy.expiry().num_minutes(),
    }))
}

/// Plans that wait for `user`'s verdict: awaiting approvals, not theirs, not yet reviewed by
/// them in this version.
pub async fn waiting_for(
    pool: &PgPool,
    policy: ApprovalPolicy,
    user: &SignedInUser,
    now: DateTime<Utc>,
) -> Result<Vec<PlanWaiting>, AppError> {
    if !user.roles.may_decide_rollback() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT p.id, i.id, i.title, p.rollback_type, p.fingerprint FROM plans p
         JOIN incidents i ON i.id = p.incident_id
         WHERE i.state = 'awaiting_approval' AND p.requested_by <> $1 ORDER BY i.detected_at",
    )
    .bind(user.id)
    .fetch_all(pool)
    .await?;
    let mut waiting = Vec::new();
    for (plan, incident, title, kind, fingerprint) in rows {
        let Some(kind) = RollbackType::parse(&kind) else {
            continue;
        };
        let given: Vec<Review> = reviews(pool, plan)
            .await?
            .into_iter()
            .map(|(r, _, _)| r)
            .collect();
        let may = check_review(
            kind,
            Uuid::nil(),
            &fingerprint,
            &given,
            policy,
            now,
            user.id,
            &user.roles,
            &fingerprint,
        )
        .is_ok();
        if may {
            waiting.push(PlanWaiting {
                incident,
                title,
                kind,
                status: status(kind, &fingerprint, &given, policy, now),
            });
        }
    }
    Ok(waiting)
}

/// Everything the plan page of `incident` shows, at `now`.
pub async fn page(
    pool: &PgPool,
    policy: ApprovalPolicy,
    incident: i64,
    now: DateTime<Utc>,
) -> Result<Option<PlanPage>, AppError> {
    let Some(summary) = incidents::summary(pool, incident).await? else {
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
                    .filter_map(|b| {
                        use chrono::TimeZone;
                        let taken = tz.from_local_datetime(&b.taken_at).earliest()?;
                        Some((b.file_name, taken.with_timezone(&Utc)))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        defaults: defaults(
            pool,
            environment,
            rollback == Some(RollbackType::ApplicationDatabase),
        )
        .await?,
    };
    Ok(Some(PlanPage {
        incident: summary,
        rollback,
        plan,
        choices,
    }))
}
