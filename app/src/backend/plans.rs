//! Rollback plans. For now: the fingerprint that binds approvals to exactly what will run.
use crate::domain::runbook::Step;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A hash over everything that will run: the environment and every step with its arguments.
/// Any change to the plan gives another fingerprint, which voids the approvals given before.
pub fn fingerprint(environment: Uuid, steps: &[Step]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(environment.as_bytes());
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
        let same = fingerprint(env, &steps.clone());
        assert_eq!(fingerprint(env, &steps), same);
        assert_eq!(same.len(), 64);
        let mut other = steps.clone();
        other[0].operation = Operation::SwitchRelease {
            link: "/var/www/taskflow/current".into(),
            release_dir: "/var/www/taskflow/releases/2025-10-15_091844".into(),
        };
        assert_ne!(fingerprint(env, &other), same, "another release");
        assert_ne!(
            fingerprint(Uuid::from_u128(8), &steps),
            same,
            "another environment"
        );
        assert_ne!(fingerprint(env, &[]), same, "a step less");
    }
}

/// Why a plan can't get its defaults; each says what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
