//! A PostgreSQL of the app's own, for when no `DATABASE_URL` is given: a cluster in the data
//! folder, started on a private loopback port, stopped cleanly on shutdown.
//!
//! PostgreSQL refuses to run as root, so when the app runs as root the server runs as the
//! unprivileged `postgres` user (the folder is handed over to it).
use nix::sys::signal::{kill, Signal};
use nix::unistd::{chown, Gid, Pid, Uid, User};
use rand::distributions::{Alphanumeric, DistString};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const SUPERUSER: &str = "rollback_desk";
const RUN_AS_WHEN_ROOT: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPostgresError {
    #[error(
        "PostgreSQL server not found: install the `postgresql` package (Debian/Ubuntu: \
         apt-get install postgresql), or set DATABASE_URL"
    )]
    NotInstalled,
    #[error("running as root, but there is no `{RUN_AS_WHEN_ROOT}` user to run PostgreSQL as (PostgreSQL refuses root)")]
    NoUnprivilegedUser,
    #[error("{action}: {source}")]
    Io {
        action: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Failed(String),
}

fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedPostgresError {
    let action = action.into();
    move |source| EmbeddedPostgresError::Io { action, source }
}

/// A running embedded server. Stop it with [`EmbeddedPostgres::stop`]; dropping it also asks
/// it to stop.
pub struct EmbeddedPostgres {
    cluster: PathBuf,
    port: u16,
    password: String,
    child: Option<Child>,
}

impl EmbeddedPostgres {
    /// Finds the server binaries: the given folder, `pg_config --bindir`, or the newest
    /// `/usr/lib/postgresql/<version>/bin` (Debian's layout).
    pub fn find_binaries(configured: Option<&Path>) -> Result<PathBuf, EmbeddedPostgresError> {
        let has_server =
            |dir: &Path| dir.join("postgres").is_file() && dir.join("initdb").is_file();
        if let Some(dir) = configured {
            return if has_server(dir) {
                Ok(dir.to_path_buf())
            } else {
                Err(EmbeddedPostgresError::NotInstalled)
            };
        }
        if let Ok(out) = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
        {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if out.status.success() && has_server(&dir) {
                return Ok(dir);
            }
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse::<u32>().ok()?;
                Some((version, e.path().join("bin")))
            })
            .filter(|(_, dir)| has_server(dir))
            .collect();
        versions.sort();
        versions
            .pop()
            .map(|(_, dir)| dir)
            .ok_or(EmbeddedPostgresError::NotInstalled)
    }

    /// Creates the cluster in `data_dir/postgres` on first use, then starts it.
    pub async fn start(
        data_dir: &Path,
        bin_dir: Option<&Path>,
    ) -> Result<EmbeddedPostgres, EmbeddedPostgresError> {
        let bin = Self::find_binaries(bin_dir)?;
        let run_as = if Uid::effective().is_root() {
            let user = User::from_name(RUN_AS_WHEN_ROOT)
                .ok()
                .flatten()
                .ok_or(EmbeddedPostgresError::NoUnprivilegedUser)?;
            Some((user.uid, user.gid))
        } else {
            None
        };
        std::fs::create_dir_all(data_dir)
            .map_err(io(format!("creating {}", data_dir.display())))?;
        let data_dir = data_dir
            .canonicalize()
            .map_err(io(format!("reading {}", data_dir.display())))?;
        if run_as.is_some() {
            // The postgres user must be able to reach its cluster inside our folder.
            let mode = std::fs::metadata(&data_dir)
                .map_err(io(format!("reading {}", data_dir.display())))?
                .permissions()
                .mode();
            if mode & 0o001 == 0 {
                std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(mode | 0o011))
                    .map_err(io(format!(
                        "opening {} to the postgres user",
                        data_dir.display()
                    )))?;
            }
        }
        let cluster = data_dir.join("postgres");
        let password_file = data_dir.join("postgres-password");

        if !cluster.join("PG_VERSION").exists() {
            init_cluster(&bin, &cluster, &password_file, run_as).await?;
        }
        let password = std::fs::read_to_string(&password_file)
            .map_err(io(format!("reading {}", password_file.display())))?
            .trim()
            .to_owned();

        // A previous run that died without stopping its server (killed, power loss) leaves it
        // running or leaves its lock file: stop it first, so that this start can't fail on it.
        if cluster.join("postmaster.pid").exists() {
            let mut stop = Command::new(bin.join("pg_ctl"));
            stop.arg("stop")
                .arg("-D")
                .arg(&cluster)
                .args(["-m", "fast", "-w", "-t", "30"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some((uid, gid)) = run_as {
                stop.uid(uid.as_raw()).gid(gid.as_raw());
            }
            let stopped = stop.status().await.map(|s| s.success()).unwrap_or(false);
            tracing::warn!(
                stopped,
                "found the embedded PostgreSQL of an earlier run still marked as running"
            );
        }

        let port = free_port()?;
        let log_path = data_dir.join("postgres.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&log_path)
            .map_err(io(format!("opening {}", log_path.display())))?;
        let log_err = log.try_clone().map_err(io("opening the log"))?;
        let mut command = Command::new(bin.join("postgres"));
        command
            .arg("-D")
            .arg(&cluster)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            // No socket file: the port on loopback is the only way in.
            .args(["-c", "unix_socket_directories="])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            // Its own process group: Ctrl-C reaches the app, which then stops PostgreSQL in
            // order, after the web server has finished its requests.
            .process_group(0)
            .kill_on_drop(false);
        if let Some((uid, gid)) = run_as {
            command.uid(uid.as_raw()).gid(gid.as_raw());
        }
        let child = command
            .spawn()
            .map_err(io(format!("starting {}", bin.join("postgres").display())))?;
        let mut server = EmbeddedPostgres {
            cluster,
            port,
            password,
            child: Some(child),
        };
        server.wait_ready(&log_path).await?;
        tracing::info!(port, cluster = %server.cluster.display(), "embedded PostgreSQL started");
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/postgres",
            self.password, self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    async fn wait_ready(&mut self, log: &Path) -> Result<(), EmbeddedPostgresError> {
        use sqlx::Connection;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(conn) = sqlx::PgConnection::connect(&self.url()).await {
                let _ = conn.close().await;
                return Ok(());
            }
            let exited = match self.child.as_mut() {
                Some(child) => child.try_wait().ok().flatten().is_some(),
                None => true,
            };
            if exited || tokio::time::Instant::now() > deadline {
                let tail = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = tail.lines().rev().take(5).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(EmbeddedPostgresError::Failed(format!(
                    "the embedded PostgreSQL did not start (log {}): {}",
                    log.display(),
                    tail.join(" / ")
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fast shutdown (SIGINT: open transactions are rolled back, data is safe), waiting for it.
    pub async fn stop(mut self) -> Result<(), EmbeddedPostgresError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGINT);
        }
        match tokio::time::timeout(Duration::from_secs(60), child.wait()).await {
            Ok(_) => {
                tracing::info!("embedded PostgreSQL stopped");
                Ok(())
            }
            Err(_) => {
                let _ = child.start_kill();
                Err(EmbeddedPostgresError::Failed(
                    "the embedded PostgreSQL did not stop within 60 s; it was killed".into(),
                ))
            }
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        // Last resort (a panic, an early return): ask for a fast shutdown.
        if let Some(pid) = self.child.as_ref().and_then(Child::id) {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGINT);
        }
    }
}

async fn init_cluster(
    bin: &Path,
    cluster: &Path,
    password_file: &Path,
    run_as: Option<(Uid, Gid)>,
) -> Result<(), EmbeddedPostgresError> {
    std::fs::create_dir_all(cluster).map_err(io(format!("creating {}", cluster.display())))?;
    std::fs::set_permissions(cluster, std::fs::Permissions::from_mode(0o700))
        .map_err(io("restricting the cluster folder"))?;
    let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
    std::fs::write(password_file, &password).map_err(io("writing the database password"))?;
    std::fs::set_permissions(password_file, std::fs::Permissions::from_mode(0o600))
        .map_err(io("restricting the database password file"))?;
    // initdb reads the password from a file that its user can read; removed right after.
    let pwfile = cluster.with_extension("pwfile");
    std::fs::write(&pwfile, &password).map_err(io("writing initdb's password file"))?;
    std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o600))
        .map_err(io("restricting initdb's password file"))?;
    if let Some((uid, gid)) = run_as {
        for path in [cluster, pwfile.as_path()] {
            chown(path, Some(uid), Some(gid)).map_err(|e| EmbeddedPostgresError::Io {
                action: format!("handing {} to the postgres user", path.display()),
                source: e.into(),
            })?;
        }
    }
    let mut command = Command::new(bin.join("initdb"));
    command
        .arg("-D")
        .arg(cluster)
        .args([
            "-U",
            SUPERUSER,
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .stdin(Stdio::null());
    if let Some((uid, gid)) = run_as {
        command.uid(uid.as_raw()).gid(gid.as_raw());
    }
    let out = command.output().await.map_err(io("running initdb"));
    let _ = std::fs::remove_file(&pwfile);
    let out = out?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(cluster);
        return Err(EmbeddedPostgresError::Failed(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    tracing::info!(cluster = %cluster.display(), "created the embedded PostgreSQL cluster");
    Ok(())
}

fn free_port() -> Result<u16, EmbeddedPostgresError> {
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(io("finding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io("finding a free port"))?
        .port();
    Ok(port)
}
