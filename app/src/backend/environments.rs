//! Environments: their names for pickers, and their full configuration for the admin page.
use crate::backend::AppError;
use crate::domain::environment::*;
use crate::i18n::Msg;
use crate::records::EnvironmentOption;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

pub async fn options(pool: &PgPool) -> Result<Vec<EnvironmentOption>, AppError> {
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM environments ORDER BY name")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| EnvironmentOption { id, name })
        .collect())
}

/// Adds an environment with the procedure's defaults (paths, commands, database).
pub async fn add(pool: &PgPool, name: &str) -> Result<Uuid, AppError> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO environments (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .bind(name)
    .fetch_optional(pool)
    .await?;
    id.ok_or_else(|| AppError::field("name", Msg::EnvironmentExists))
}

#[derive(sqlx::FromRow)]
struct ConfigRow {
    name: String,
    target: String,
    local_root: String,
    ssh_user: String,
    ssh_host: String,
    ssh_port: i32,
    ssh_key_path: String,
    ssh_known_hosts: String,
    releases_dir: String,
    current_link: String,
    backups_dir: String,
    public_dir: String,
    health_url: String,
    time_zone: String,
    commands: sqlx::types::Json<BTreeMap<String, Vec<String>>>,
    db_kind: String,
    db_host: String,
    db_port: i32,
    db_name: String,
    db_user: String,
    db_password_source: String,
    db_password_ref: String,
}

pub async fn config(
    db: impl sqlx::PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<EnvironmentConfig>, AppError> {
    sqlx::query_as::<_, ConfigRow>("SELECT * FROM environments WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(ConfigRow::into_config)
        .transpose()
}

/// The settings of each of these environments (those that exist), in one query.
pub async fn configs(
    db: impl sqlx::PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, EnvironmentConfig>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        #[sqlx(flatten)]
        config: ConfigRow,
    }
    sqlx::query_as::<_, Row>("SELECT * FROM environments WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|row| Ok((row.id, row.config.into_config()?)))
        .collect()
}

impl ConfigRow {
    fn into_config(self) -> Result<EnvironmentConfig, AppError> {
        let row = self;
        let port = |p: i32| u16::try_from(p).unwrap_or(0);
        // The table's CHECK constraints admit only known names; commands missing from an older
        // row fall back to the procedure's.
        let commands = CommandName::ALL
            .iter()
            .map(|name| {
                let stored = row
                    .commands
                    .get(name.as_str())
                    .cloned()
                    .and_then(CommandLine::from_argv);
                (*name, stored.unwrap_or_else(|| name.procedure_default()))
            })
            .collect();
        let target = match TargetKind::parse(&row.target) {
            Some(TargetKind::Ssh) => Target::Ssh {
                user: row.ssh_user,
                host: row.ssh_host,
                port: port(row.ssh_port),
                key_path: row.ssh_key_path,
                known_hosts: row.ssh_known_hosts,
            },
            _ => Target::Local {
                root: row.local_root,
            },
        };
        Ok(EnvironmentConfig {
            name: row.name,
            target,
            releases_dir: row.releases_dir,
            current_link: row.current_link,
            backups_dir: row.backups_dir,
            public_dir: row.public_dir,
            health_url: row.health_url,
            time_zone: row.time_zone,
            commands,
            database: DatabaseConfig {
                kind: DatabaseKind::parse(&row.db_kind).ok_or_else(|| {
                    AppError::Internal("unknown database kind in the database".to_owned())
                })?,
                host: row.db_host,
                port: port(row.db_port),
                name: row.db_name,
                user: row.db_user,
                password_source: PasswordSource::parse(&row.db_password_source).ok_or_else(
                    || AppError::Internal("unknown password source in the database".to_owned()),
                )?,
                password_ref: row.db_password_ref,
            },
        })
    }
}

/// What a save changed in what runs on the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunConfigChange {
    pub target: bool,
    /// The commands whose line changed.
    pub commands: Vec<String>,
    /// Programs of the new configuration outside the allow-list.
    pub outside: Vec<String>,
}

impl RunConfigChange {
    fn between(old: &EnvironmentConfig, new: &EnvironmentConfig) -> RunConfigChange {
        let mut outside: Vec<String> = new
            .commands
            .values()
            .filter(|c| !c.allowed())
            .map(|c| c.program().to_owned())
            .collect();
        outside.sort();
        outside.dedup();
        RunConfigChange {
            target: old.target != new.target,
            commands: CommandName::ALL
                .iter()
                .filter(|n| old.commands.get(n) != new.commands.get(n))
                .map(|n| n.as_str().to_owned())
                .collect(),
            outside,
        }
    }

    pub fn is_empty(&self) -> bool {
        !self.target && self.commands.is_empty()
    }
}

/// Saves `c` for `actor`. A change of the target or of a command (what runs on the
/// environment) is recorded and waits for a second person's confirmation
/// ([`confirm_run_config`]) before any plan on it executes: the admin role alone must not be
/// enough to make production run `sh -c …`. Returns what changed.
pub async fn save(
    pool: &PgPool,
    actor: Uuid,
    id: Uuid,
    c: &EnvironmentConfig,
) -> Result<RunConfigChange, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM environments WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let Some(old) = config(&mut *tx, id).await? else {
        return Err(AppError::Refused(Msg::UnknownEnvironment.into()));
    };
    let change = RunConfigChange::between(&old, c);
    write(&mut tx, id, c).await?;
    if !change.is_empty() {
        let details = serde_json::json!(change);
        sqlx::query(
            "UPDATE environments SET run_config_changed_by = $2, run_config_pending_since = now(),
                    run_config_change = $3
             WHERE id = $1",
        )
        .bind(id)
        .bind(actor)
        .bind(&details)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO environment_events (environment_id, actor_id, kind, details)
             VALUES ($1, $2, 'run_config_changed', $3)",
        )
        .bind(id)
        .bind(actor)
        .bind(&details)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(change)
}

/// A change of what runs on an environment, waiting for confirmation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingRunConfig {
    pub changed_by: Option<Uuid>,
    pub changed_by_name: Option<String>,
    pub since: chrono::DateTime<chrono::Utc>,
    pub change: RunConfigChange,
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    changed_by: Option<Uuid>,
    changed_by_name: Option<String>,
    since: chrono::DateTime<chrono::Utc>,
    #[sqlx(json)]
    change: RunConfigChange,
}

pub async fn pending_run_config(
    db: impl sqlx::PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<PendingRunConfig>, AppError> {
    let row: Option<PendingRow> = sqlx::query_as(
        "SELECT e.run_config_changed_by AS changed_by, u.name AS changed_by_name,
                e.run_config_pending_since AS since, e.run_config_change AS change
         FROM environments e LEFT JOIN users u ON u.id = e.run_config_changed_by
         WHERE e.id = $1 AND e.run_config_pending_since IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| PendingRunConfig {
        changed_by: r.changed_by,
        changed_by_name: r.changed_by_name,
        since: r.since,
        change: r.change,
    }))
}

/// Who may confirm a change of what runs: an admin or a §2.2 decider, never its author.
pub fn may_confirm(actor: &crate::viewer::SignedInUser, pending: &PendingRunConfig) -> bool {
    pending.changed_by != Some(actor.id)
        && crate::domain::lifecycle::may_act(&actor.roles)
        && (actor.roles.contains(crate::domain::Role::Admin) || actor.roles.may_decide_rollback())
}

/// A second person confirms the pending change of what runs on `id` (an event).
pub async fn confirm_run_config(
    pool: &PgPool,
    actor: &crate::viewer::SignedInUser,
    id: Uuid,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM environments WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let Some(pending) = pending_run_config(&mut *tx, id).await? else {
        return Err(AppError::Refused(Msg::RunConfigNothingToConfirm.into()));
    };
    if pending.changed_by == Some(actor.id) {
        return Err(AppError::Refused(Msg::RunConfigSecondPerson.into()));
    }
    if !may_confirm(actor, &pending) {
        return Err(AppError::Forbidden);
    }
    sqlx::query(
        "UPDATE environments SET run_config_pending_since = NULL, run_config_change = NULL
         WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO environment_events (environment_id, actor_id, kind, details)
         VALUES ($1, $2, 'run_config_confirmed', $3)",
    )
    .bind(id)
    .bind(actor.id)
    .bind(serde_json::json!(pending.change))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn write(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: Uuid,
    c: &EnvironmentConfig,
) -> Result<(), AppError> {
    let (target, local_root, ssh_user, ssh_host, ssh_port, ssh_key_path, ssh_known_hosts) =
        match &c.target {
            Target::Local { root } => ("local", root.as_str(), "", "", 22, "", ""),
            Target::Ssh {
                user,
                host,
                port,
                key_path,
                known_hosts,
            } => (
                "ssh",
                "/",
                user.as_str(),
                host.as_str(),
                i32::from(*port),
                key_path.as_str(),
                known_hosts.as_str(),
            ),
        };
    let commands: BTreeMap<&str, &[String]> = c
        .commands
        .iter()
        .map(|(k, v)| (k.as_str(), v.argv()))
        .collect();
    let d = &c.database;
    let updated = sqlx::query(
        "UPDATE environments SET name = $2, target = $3, local_root = $4, ssh_user = $5,
            ssh_host = $6, ssh_port = $7, ssh_key_path = $8, ssh_known_hosts = $9,
            releases_dir = $10, current_link = $11, backups_dir = $12, public_dir = $13,
            health_url = $14, commands = $15, db_kind = $16, db_host = $17, db_port = $18,
            db_name = $19, db_user = $20, db_password_source = $21, db_password_ref = $22,
            time_zone = $23, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(&c.name)
    .bind(target)
    .bind(local_root)
    .bind(ssh_user)
    .bind(ssh_host)
    .bind(ssh_port)
    .bind(ssh_key_path)
    .bind(ssh_known_hosts)
    .bind(&c.releases_dir)
    .bind(&c.current_link)
    .bind(&c.backups_dir)
    .bind(&c.public_dir)
    .bind(&c.health_url)
    .bind(sqlx::types::Json(commands))
    .bind(d.kind.as_str())
    .bind(&d.host)
    .bind(i32::from(d.port))
    .bind(&d.name)
    .bind(&d.user)
    .bind(d.password_source.as_str())
    .bind(&d.password_ref)
    .bind(&c.time_zone)
    .execute(&mut **tx)
    .await;
    match updated {
        Ok(done) if done.rows_affected() == 0 => {
            Err(AppError::Refused(Msg::UnknownEnvironment.into()))
        }
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(AppError::field("name", Msg::EnvironmentExists))
        }
        Err(e) => Err(e.into()),
    }
}

/// The environments whose database a restore left partial, of one environment or of all
/// (few: at most one per environment).
pub async fn partial_restores(
    pool: &PgPool,
    environment: Option<Uuid>,
) -> Result<Vec<crate::records::PartialRestoreRecord>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id AS environment_id, name AS environment,
                (partial_restore ->> 'incident')::bigint AS incident,
                (partial_restore ->> 'execution')::bigint AS execution,
                (partial_restore ->> 'step')::int AS step,
                partial_restore ->> 'backup' AS backup,
                (partial_restore ->> 'since')::timestamptz AS since
         FROM environments
         WHERE partial_restore IS NOT NULL AND ($1::uuid IS NULL OR id = $1)
         ORDER BY name",
    )
    .bind(environment)
    .fetch_all(pool)
    .await?)
}
