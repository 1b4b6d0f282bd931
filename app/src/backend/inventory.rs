//! Inventory of an environment's target: the releases, where `current` points (readlink,
//! §4.2 step 3), the database backups (§5.2 step 2). Names that don't match the expected
//! patterns are listed as ignored and never used.
use crate::backend::AppError;
use crate::domain::environment::EnvironmentConfig;
use chrono::{NaiveDateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::path::{Component, Path, PathBuf};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub stamp: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub file_name: String,
    pub taken_at: NaiveDateTime,
    pub size_bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    /// Oldest first.
    pub releases: Vec<Release>,
    pub current_target: Option<String>,
    pub current_release: Option<String>,
    /// `current` points to something that does not exist.
    pub current_dangling: bool,
    /// Oldest first.
    pub backups: Vec<Backup>,
    pub ignored: Vec<String>,
}

/// `2025-10-17_104523` → 2025-10-17 10:45:23.
pub fn parse_release_name(name: &str) -> Option<NaiveDateTime> {
    let valid = name.len() == 17
        && name.chars().enumerate().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == '_',
            _ => c.is_ascii_digit(),
        });
    valid
        .then(|| NaiveDateTime::parse_from_str(name, "%Y-%m-%d_%H%M%S").ok())
        .flatten()
}

/// `db_backup_20251017_103000.sql.gz` → 2025-10-17 10:30:00.
pub fn parse_backup_name(name: &str) -> Option<NaiveDateTime> {
    let stamp = name.strip_prefix("db_backup_")?.strip_suffix(".sql.gz")?;
    let valid = stamp.len() == 15
        && stamp
            .chars()
            .enumerate()
            .all(|(i, c)| if i == 8 { c == '_' } else { c.is_ascii_digit() });
    valid
        .then(|| NaiveDateTime::parse_from_str(stamp, "%Y%m%d_%H%M%S").ok())
        .flatten()
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Ssh(#[from] crate::backend::ssh::SshError),
    #[error("unexpected answer from the target: {0}")]
    Garbled(String),
}

/// Where a configured absolute path lives on this machine for a local target: under its root.
pub fn local_path(root: &str, path: &str) -> PathBuf {
    let relative: PathBuf = Path::new(path)
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    Path::new(root).join(relative)
}

/// Reads the target (blocking work: call from `spawn_blocking`).
pub fn read(config: &EnvironmentConfig) -> Result<Inventory, InventoryError> {
    match crate::backend::ssh::Place::of(&config.target) {
        crate::backend::ssh::Place::Local { root } => read_local(&root, config),
        crate::backend::ssh::Place::Ssh(ssh) => read_ssh(&ssh, config),
    }
}

/// The script an SSH inventory runs (GNU find, readlink and sha256sum, as on the Debian and
/// Ubuntu servers of the procedure). It prints NUL-separated records, so that no file name can
/// pass for another record: `R type name` per release entry, `P` the releases folder resolved,
/// `C` where `current` points and `A` that resolved (`E` when it exists), `B type name size`
/// per backup entry, `H name sha256` per backup file.
fn inventory_script(config: &EnvironmentConfig) -> String {
    use crate::backend::ssh::quote;
    format!(
        r#"export LC_ALL=C
r={r}; c={c}; b={b}
find "$r" -mindepth 1 -maxdepth 1 -printf 'R\0%y\0%f\0' || exit 3
printf 'P\0%s\0' "$(readlink -f -- "$r")"
if [ -L "$c" ]; then
  printf 'C\0%s\0A\0%s\0' "$(readlink -- "$c")" "$(readlink -m -- "$c")"
  if [ -e "$c" ]; then printf 'E\0'; fi
fi
find "$b" -mindepth 1 -maxdepth 1 -printf 'B\0%y\0%f\0%s\0' || exit 4
cd "$b" || exit 4
for f in db_backup_*.sql.gz; do
  if [ -f "$f" ]; then printf 'H\0%s\0%s\0' "$f" "$(sha256sum < "$f" | cut -d' ' -f1)"; fi
done
"#,
        r = quote(&config.releases_dir),
        c = quote(&config.current_link),
        b = quote(&config.backups_dir),
    )
}

fn read_ssh(
    target: &crate::backend::ssh::SshTarget,
    config: &EnvironmentConfig,
) -> Result<Inventory, InventoryError> {
    let output = target.run(&inventory_script(config), 15)?;
    parse_records(&output.stdout)
}

/// Turns the records of [`inventory_script`] into an inventory, by the same rules as a local
/// reading.
fn parse_records(stdout: &[u8]) -> Result<Inventory, InventoryError> {
    let text = String::from_utf8_lossy(stdout);
    let mut tokens = text.split('\0');
    let mut next = |what: &str| {
        tokens
            .next()
            .map(str::to_owned)
            .ok_or_else(|| InventoryError::Garbled(format!("missing {what}")))
    };
    let mut inventory = Inventory::default();
    let (mut releases_dir, mut resolved) = (None, None);
    let mut exists = false;
    let mut backups: Vec<(String, String, u64)> = Vec::new();
    let mut sums: std::collections::HashMap<String, String> = Default::default();
    loop {
        let tag = match next("tag") {
            Ok(tag) if tag.is_empty() => break,
            Ok(tag) => tag,
            Err(_) => break,
        };
        match tag.as_str() {
            "R" => {
                let (kind, name) = (next("type")?, next("name")?);
                match parse_release_name(&name) {
                    Some(stamp) if kind == "d" => inventory.releases.push(Release { name, stamp }),
                    _ => inventory.ignored.push(format!("releases/{name}")),
                }
            }
            "P" => releases_dir = Some(next("releases folder")?),
            "C" => inventory.current_target = Some(next("link")?),
            "A" => resolved = Some(next("resolved link")?),
            "E" => exists = true,
            "B" => {
                let (kind, name, size) = (next("type")?, next("name")?, next("size")?);
                let size = size
                    .parse()
                    .map_err(|_| InventoryError::Garbled(format!("size {size}")))?;
                backups.push((kind, name, size));
            }
            "H" => {
                let (name, sum) = (next("name")?, next("sha256")?);
                sums.insert(name, sum);
            }
            other => return Err(InventoryError::Garbled(format!("record {other:?}"))),
        }
    }
    inventory
        .releases
        .sort_by(|a, b| a.stamp.cmp(&b.stamp).then(a.name.cmp(&b.name)));
    if inventory.current_target.is_some() {
        inventory.current_dangling = !exists;
        let resolved = resolved.unwrap_or_default();
        let (parent, name) = resolved.rsplit_once('/').unwrap_or(("", &resolved));
        let in_releases = releases_dir.as_deref() == Some(parent);
        inventory.current_release = (in_releases
            && inventory.releases.iter().any(|r| r.name == name))
        .then(|| name.to_owned());
    }
    for (kind, name, size_bytes) in backups {
        let sum = sums.remove(&name);
        match (parse_backup_name(&name), sum) {
            (Some(taken_at), Some(sha256)) if kind == "f" => inventory.backups.push(Backup {
                file_name: name,
                taken_at,
                size_bytes,
                sha256,
            }),
            _ => inventory.ignored.push(format!("backups/{name}")),
        }
    }
    inventory.backups.sort_by_key(|b| b.taken_at);
    inventory.ignored.sort();
    Ok(inventory)
}

fn read_local(root: &str, config: &EnvironmentConfig) -> Result<Inventory, InventoryError> {
    let read_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| InventoryError::Read { path, source }
    };
    let mut inventory = Inventory::default();

    let releases_dir = local_path(root, &config.releases_dir);
    for entry in std::fs::read_dir(&releases_dir).map_err(read_err(&releases_dir))? {
        let entry = entry.map_err(read_err(&releases_dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        match parse_release_name(&name) {
            Some(stamp) if is_dir => inventory.releases.push(Release { name, stamp }),
            _ => inventory.ignored.push(format!("releases/{name}")),
        }
    }
    inventory
        .releases
        .sort_by(|a, b| a.stamp.cmp(&b.stamp).then(a.name.cmp(&b.name)));

    let current = local_path(root, &config.current_link);
    if let Ok(target) = std::fs::read_link(&current) {
        let shown = target.display().to_string();
        // Resolve relative links the way the file system does, then map back into the root.
        let absolute = if target.is_absolute() {
            local_path(root, &shown)
        } else {
            current.parent().unwrap_or(Path::new("/")).join(&target)
        };
        inventory.current_dangling = !absolute.exists();
        let in_releases = absolute
            .parent()
            .and_then(|p| p.canonicalize().ok())
            .zip(releases_dir.canonicalize().ok())
            .is_some_and(|(parent, releases)| parent == releases);
        let name = absolute
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        inventory.current_release =
            name.filter(|n| in_releases && inventory.releases.iter().any(|r| &r.name == n));
        inventory.current_target = Some(shown);
    }

    let backups_dir = local_path(root, &config.backups_dir);
    for entry in std::fs::read_dir(&backups_dir).map_err(read_err(&backups_dir))? {
        let entry = entry.map_err(read_err(&backups_dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        match parse_backup_name(&name) {
            Some(taken_at) if is_file => {
                let path = entry.path();
                let (size_bytes, sha256) = hash_file(&path).map_err(read_err(&path))?;
                inventory.backups.push(Backup {
                    file_name: name,
                    taken_at,
                    size_bytes,
                    sha256,
                });
            }
            _ => inventory.ignored.push(format!("backups/{name}")),
        }
    }
    inventory.backups.sort_by_key(|b| b.taken_at);
    inventory.ignored.sort();
    Ok(inventory)
}

fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)?;
    let digest = hasher.finalize();
    Ok((size, digest.iter().map(|b| format!("{b:02x}")).collect()))
}

/// Reads the target, then replaces the stored inventory in one short transaction. The
/// reading (SSH, hashing every backup) holds no row lock, so nobody waits on it (opening an
/// incident on the environment, saving its settings); the write checks under the
/// environment's lock that the settings are still those the target was read with, and reads
/// again if they changed meanwhile. A target that can't be read keeps the previous lists and
/// records the error. `Ok(None)`: no such environment.
pub async fn refresh(
    pool: &PgPool,
    environment: Uuid,
) -> Result<Option<Result<Inventory, String>>, AppError> {
    for _ in 0..3 {
        let Some(config) = crate::backend::environments::config(pool, environment).await? else {
            return Ok(None);
        };
        let read = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || read(&config))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?
        };
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT 1 FROM environments WHERE id = $1 FOR NO KEY UPDATE")
            .bind(environment)
            .execute(&mut *tx)
            .await?;
        let now = crate::backend::environments::config(&mut *tx, environment).await?;
        if now.as_ref() != Some(&config) {
            // Edited while the target was read: that reading may be of another target.
            continue;
        }
        return write(tx, environment, read).await.map(Some);
    }
    Err(AppError::Internal(
        "the environment kept changing while its target was read".into(),
    ))
}

async fn write(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    environment: Uuid,
    read: Result<Inventory, InventoryError>,
) -> Result<Result<Inventory, String>, AppError> {
    let outcome = match read {
        Ok(inventory) => {
            sqlx::query("DELETE FROM releases WHERE environment_id = $1")
                .bind(environment)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM backups WHERE environment_id = $1")
                .bind(environment)
                .execute(&mut *tx)
                .await?;
            for r in &inventory.releases {
                sqlx::query(
                    "INSERT INTO releases (environment_id, name, stamp) VALUES ($1, $2, $3)",
                )
                .bind(environment)
                .bind(&r.name)
                .bind(r.stamp)
                .execute(&mut *tx)
                .await?;
            }
            for b in &inventory.backups {
                sqlx::query(
                    "INSERT INTO backups (environment_id, file_name, taken_at, size_bytes, sha256)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(environment)
                .bind(&b.file_name)
                .bind(b.taken_at)
                .bind(i64::try_from(b.size_bytes).unwrap_or(i64::MAX))
                .bind(&b.sha256)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO inventories (environment_id, taken_at, current_release, current_target,
                                          current_dangling, ignored, error)
                 VALUES ($1, $2, $3, $4, $5, $6, NULL)
                 ON CONFLICT (environment_id) DO UPDATE SET taken_at = $2, current_release = $3,
                     current_target = $4, current_dangling = $5, ignored = $6, error = NULL",
            )
            .bind(environment)
            .bind(Utc::now())
            .bind(&inventory.current_release)
            .bind(&inventory.current_target)
            .bind(inventory.current_dangling)
            .bind(&inventory.ignored)
            .execute(&mut *tx)
            .await?;
            Ok(inventory)
        }
        Err(err) => {
            let message = err.to_string();
            sqlx::query(
                "INSERT INTO inventories (environment_id, taken_at, error) VALUES ($1, $2, $3)
                 ON CONFLICT (environment_id) DO UPDATE SET taken_at = $2, error = $3",
            )
            .bind(environment)
            .bind(Utc::now())
            .bind(&message)
            .execute(&mut *tx)
            .await?;
            Err(message)
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// The stored inventory of an environment, for its page.
pub async fn load(
    pool: &PgPool,
    environment: Uuid,
) -> Result<Option<crate::records::InventoryRecord>, AppError> {
    let Some(mut inventory) = sqlx::query_as::<_, crate::records::InventoryRecord>(
        "SELECT taken_at, current_release, current_target, current_dangling, ignored, error
             FROM inventories WHERE environment_id = $1",
    )
    .bind(environment)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    inventory.releases = sqlx::query_as(
        "SELECT name, stamp FROM releases WHERE environment_id = $1 ORDER BY stamp DESC, name DESC",
    )
    .bind(environment)
    .fetch_all(pool)
    .await?;
    inventory.backups = sqlx::query_as(
        "SELECT file_name, taken_at, size_bytes, sha256 FROM backups
         WHERE environment_id = $1 ORDER BY taken_at DESC",
    )
    .bind(environment)
    .fetch_all(pool)
    .await?;
    Ok(Some(inventory))
}

/// Where `current` pointed at the environment's last inventory, and when that was read.
pub async fn current(
    pool: &PgPool,
    environment: Uuid,
) -> Result<Option<crate::records::CurrentPointer>, AppError> {
    Ok(sqlx::query_as(
        "SELECT taken_at, current_release, current_target, current_dangling, error
         FROM inventories WHERE environment_id = $1",
    )
    .bind(environment)
    .fetch_optional(pool)
    .await?)
}

/// Refreshes every environment's inventory (the periodic task).
pub async fn refresh_all(pool: &PgPool) -> Result<(), AppError> {
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM environments")
        .fetch_all(pool)
        .await?;
    for id in ids {
        if let Some(Err(message)) = refresh(pool, id).await? {
            tracing::warn!(environment = %id, %message, "inventory failed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_parsed_strictly() {
        assert_eq!(
            parse_release_name("2025-10-17_104523").unwrap().to_string(),
            "2025-10-17 10:45:23"
        );
        for bad in [
            "2025-10-17_10452",
            "2025-13-17_104523",
            "2025-10-17_104523 ",
            "../x",
            "2025-10-17_10452;",
        ] {
            assert!(parse_release_name(bad).is_none(), "{bad}");
        }
        assert_eq!(
            parse_backup_name("db_backup_20251017_103000.sql.gz")
                .unwrap()
                .to_string(),
            "2025-10-17 10:30:00"
        );
        for bad in [
            "db_backup_20251017_103000.sql",
            "db_backup_2025.sql.gz",
            "x_db_backup_20251017_103000.sql.gz",
        ] {
            assert!(parse_backup_name(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn local_paths_stay_under_the_root() {
        assert_eq!(
            local_path("/srv/sandbox", "/var/www/taskflow/releases"),
            PathBuf::from("/srv/sandbox/var/www/taskflow/releases")
        );
        assert_eq!(
            local_path("/srv/sandbox", "/var/../../etc"),
            PathBuf::from("/srv/sandbox/var/etc")
        );
    }
}
