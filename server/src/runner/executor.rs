//! Runs one typed step on an environment's target. Nothing goes through a shell on a local
//! target: commands are argument lists, files are written and links switched with system
//! calls. On an SSH target each step is one `ssh` call whose script quotes every value.
//! Database passwords reach the client through its environment (locally) or through the
//! script's standard input (over SSH) — never argv, never the recorded output.
use super::process::{supervised, supervised_std, Group};
use app::backend::executions::StepOutcome;
use app::backend::inventory::local_path;
use app::backend::ssh::{quote, Place, SshTarget};
use app::domain::environment::{DatabaseConfig, DatabaseKind, EnvironmentConfig, PasswordSource};
use app::domain::runbook::{relative_link, Operation};
use app::domain::runner_note::{millis, sanitize, Note};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// A command step may run this long before it is stopped and failed (by default).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

fn ok(output: impl Into<String>) -> StepOutcome {
    StepOutcome {
        succeeded: true,
        exit_code: Some(0),
        output: output.into(),
        maintenance_file: None,
        untouched: false,
    }
}

fn failed(output: impl Into<String>) -> StepOutcome {
    StepOutcome {
        succeeded: false,
        exit_code: None,
        output: output.into(),
        maintenance_file: None,
        untouched: false,
    }
}

/// A failed step that changed nothing on the target (a restore that refused its file).
/// A restore refused before it touched anything, and why.
fn nothing_restored(reason: Note) -> String {
    Note::NothingRestored {
        reason: Box::new(reason),
    }
    .line()
}

fn untouched(output: impl Into<String>) -> StepOutcome {
    StepOutcome {
        untouched: true,
        ..failed(output)
    }
}

/// The exit code of a remote restore script that restored nothing: not a whole gzip file.
const NOTHING_RESTORED: i32 = 97;
/// … nothing restored: the file's sha256 is not the approved one.
const CHECKSUM_REFUSED: i32 = 96;
/// Remote maintenance-page removal: the page this execution wrote is not there.
const ABSENT: i32 = 93;
/// … removed, but the release served now has a maintenance page.
const STILL_SERVED: i32 = 94;

/// `name` in the folder `dir` (paths on the target).
fn join_target(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

/// A path's folder and file name (`/a/b/maintenance.html` → `/a/b`, `maintenance.html`).
fn split_path(path: &str) -> (String, String) {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some((dir, name)) => (
            if dir.is_empty() {
                "/".to_owned()
            } else {
                dir.to_owned()
            },
            name.to_owned(),
        ),
        None => (".".to_owned(), path.to_owned()),
    }
}

/// The folder `dir` (a path on the target) with every link resolved — through `current` to
/// the release it points to — as a path on the target, and as a local path. Refused when the
/// links lead outside the local target's root.
fn resolve_local_dir(root: &str, dir: &str) -> Result<(String, PathBuf), String> {
    let root_real =
        std::fs::canonicalize(root).map_err(|e| format!("the target's root {root}: {e}"))?;
    let real = std::fs::canonicalize(local_path(root, dir)).map_err(|e| format!("{dir}: {e}"))?;
    let inside = real
        .strip_prefix(&root_real)
        .map_err(|_| format!("{dir} leads outside the target's root folder"))?;
    Ok((format!("/{}", inside.display()), real))
}

/// The database password, from where the environment says it is. The error names the
/// variable or file, never a value.
fn password(db: &DatabaseConfig) -> Result<String, String> {
    match db.password_source {
        PasswordSource::Env => std::env::var(&db.password_ref).map_err(|_| {
            format!(
                "the database password variable {} is not set for the server",
                db.password_ref
            )
        }),
        PasswordSource::File => std::fs::read_to_string(&db.password_ref)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
            .map_err(|e| format!("the database password file {}: {e}", db.password_ref)),
    }
}

/// The client's arguments for a database, and the variable that carries its password.
fn client_args(
    kind: DatabaseKind,
    host: &str,
    port: u16,
    user: &str,
    name: &str,
) -> (Vec<String>, &'static str) {
    let port = port.to_string();
    match kind {
        DatabaseKind::Postgresql => (
            [
                "psql",
                "-X",
                "-q",
                "-h",
                host,
                "-p",
                &port,
                "-U",
                user,
                "-d",
                name,
                "-v",
                "ON_ERROR_STOP=1",
            ]
            .map(str::to_owned)
            .to_vec(),
            "PGPASSWORD",
        ),
        DatabaseKind::Mysql | DatabaseKind::Mariadb => (
            [
                kind.client_program(),
                "-h",
                host,
                "-P",
                &port,
                "-u",
                user,
                name,
            ]
            .map(str::to_owned)
            .to_vec(),
            "MYSQL_PWD",
        ),
    }
}

/// Runs a prepared process (from [`supervised`]) to its end (or the timeout), feeding it
/// `stdin`, and returns its combined output. Its input stays open until it ends (over SSH, the
/// end of input means the runner is gone). A timeout, or dropping this future (a kill, an
/// abort, a shutdown), kills its whole process group.
async fn run_process(
    mut command: tokio::process::Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> StepOutcome {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return failed(
                Note::CouldNotStart {
                    error: e.to_string(),
                }
                .line(),
            )
        }
    };
    let group = Group::of(&child);
    let (_input_open, input_closed) = tokio::sync::oneshot::channel::<()>();
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        tokio::spawn(async move {
            let _ = pipe.write_all(&bytes).await;
            let _ = input_closed.await;
        });
    }
    // Output is read as it comes, so that the step's page shows it while it runs (the runner
    // records what came every second); all of it is the step's output at the end.
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return failed(
            Note::CouldNotRun {
                error: "no output pipes".into(),
            }
            .line(),
        );
    };
    let streams = async {
        let (out, err) = tokio::join!(collect(stdout), collect(stderr));
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, out?, err?))
    };
    match tokio::time::timeout(timeout, streams).await {
        Err(_) => failed(
            Note::TimedOut {
                seconds: timeout.as_secs(),
            }
            .line(),
        ),
        Ok(Err(e)) => failed(
            Note::CouldNotRun {
                error: e.to_string(),
            }
            .line(),
        ),
        Ok(Ok((status, stdout, stderr))) => {
            group.ended();
            let out = std::process::Output {
                status,
                stdout,
                stderr,
            };
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let text = sanitize(&text);
            StepOutcome {
                succeeded: out.status.success(),
                exit_code: out.status.code(),
                output: text,
                maintenance_file: None,
                untouched: false,
            }
        }
    }
}

/// Reads a process's output to its end, each chunk also appended to the step's live output.
async fn collect(mut pipe: impl tokio::io::AsyncRead + Unpin) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut all = Vec::new();
    let mut chunk = vec![0u8; 8192];
    loop {
        let n = pipe.read(&mut chunk).await?;
        if n == 0 {
            return Ok(all);
        }
        super::process::append_live(&sanitize(&String::from_utf8_lossy(&chunk[..n])));
        all.extend_from_slice(&chunk[..n]);
    }
}

/// What runs on an SSH target around a step's script: the first line of input is the
/// database password (empty for other steps); the script runs in the background while a
/// watcher reads the rest of the input, which ends only when the connection does — the runner
/// died or killed its `ssh` — and then kills the whole remote process group (sshd makes each
/// session a group of its own).
fn remote_wrapper(script: &str) -> String {
    format!(
        "IFS= read -r RBD_SECRET || exit 1\n\
         exec 3<&0\n\
         (\n{script}\n) </dev/null &\n\
         job=$!\n\
         ( cat <&3 >/dev/null 2>&1; kill -KILL 0 ) >/dev/null 2>&1 &\n\
         watcher=$!\n\
         exec 3<&-\n\
         wait $job; status=$?\n\
         kill $watcher 2>/dev/null\n\
         exit $status"
    )
}

/// Runs `script` on an SSH target, the password line (if any) first on its input.
async fn over_ssh(
    target: &SshTarget,
    script: &str,
    password_line: Option<Vec<u8>>,
    timeout: Duration,
) -> StepOutcome {
    let (command, known_hosts) = match target.command(&remote_wrapper(script), 15) {
        Ok(prepared) => prepared,
        Err(e) => return failed(e.to_string()),
    };
    let stdin = password_line.unwrap_or_else(|| b"\n".to_vec());
    let outcome = run_process(supervised_std(&command), Some(stdin), timeout).await;
    drop(known_hosts);
    outcome
}

/// Checks that `path` is a whole gzip file whose bytes hash to `sha256` (blocking).
fn verify_gzip(path: &Path, sha256: Option<&str>) -> Result<Note, Note> {
    let file = std::fs::File::open(path).map_err(|e| Note::FileError {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    let mut hasher = Sha256::new();
    let tee = TeeReader {
        inner: std::io::BufReader::new(file),
        hasher: &mut hasher,
    };
    let mut gz = flate2::read::MultiGzDecoder::new(tee);
    let size = std::io::copy(&mut gz, &mut std::io::sink()).map_err(|e| Note::NotWholeGzip {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    drop(gz);
    let sum: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match sha256 {
        Some(expected) if expected != sum => Err(Note::ChecksumDiffers {
            actual: sum,
            expected: expected.to_owned(),
        }),
        _ => Ok(Note::GzipOk {
            bytes: size,
            sha256: sum,
        }),
    }
}

struct TeeReader<'a, R> {
    inner: R,
    hasher: &'a mut Sha256,
}

impl<R: std::io::Read> std::io::Read for TeeReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Runs the operations of plans; holds the HTTP client of the health checks.
#[derive(Clone)]
pub struct Executor {
    http: reqwest::Client,
    timeout: Duration,
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new()
    }
}

impl Executor {
    pub fn new() -> Executor {
        Executor {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            timeout: COMMAND_TIMEOUT,
        }
    }

    /// Commands (and SSH steps) running longer than `timeout` are stopped and fail.
    pub fn with_timeout(mut self, timeout: Duration) -> Executor {
        self.timeout = timeout;
        self
    }

    /// Runs `operation`; `maintenance_file` is the page this execution wrote at §5.2 step 1,
    /// the one §5.2 step 10 removes.
    pub async fn run(
        &self,
        config: &EnvironmentConfig,
        operation: &Operation,
        maintenance_file: Option<&str>,
    ) -> StepOutcome {
        match (Place::of(&config.target), operation) {
            (
                _,
                Operation::HttpCheck {
                    url,
                    expect,
                    timeout_seconds,
                },
            ) => self.http_check(url, expect, *timeout_seconds).await,
            (_, Operation::Manual { .. }) => failed(Note::ManualStepByAPerson.line()),
            (Place::Local { root }, op) => {
                local(&root, config, op, maintenance_file, self.timeout).await
            }
            (Place::Ssh(target), op) => {
                remote(&target, config, op, maintenance_file, self.timeout).await
            }
        }
    }

    async fn http_check(&self, url: &str, expect: &[u16], timeout_seconds: u32) -> StepOutcome {
        let started = Instant::now();
        let answer = self
            .http
            .get(url)
            .timeout(Duration::from_secs(u64::from(timeout_seconds.max(1))))
            .send()
            .await;
        let ms = millis(started.elapsed());
        match answer {
            Ok(res) => {
                let status = res.status().as_u16();
                let line = Note::HttpAnswered {
                    url: url.to_owned(),
                    status,
                    ms,
                }
                .line();
                StepOutcome {
                    succeeded: expect.contains(&status),
                    exit_code: Some(i32::from(status)),
                    output: line,
                    maintenance_file: None,
                    untouched: false,
                }
            }
            Err(e) => failed(
                Note::HttpFailed {
                    url: url.to_owned(),
                    error: e.to_string(),
                    ms: Some(ms),
                }
                .line(),
            ),
        }
    }
}

/// A step on the runner's own machine, every path taken under `root`.
async fn local(
    root: &str,
    config: &EnvironmentConfig,
    operation: &Operation,
    maintenance_file: Option<&str>,
    timeout: Duration,
) -> StepOutcome {
    let at = |path: &str| local_path(root, path);
    match operation {
        Operation::ReadCurrent { link } => match std::fs::read_link(at(link)) {
            Ok(target) => ok(Note::LinkReads {
                link: link.clone(),
                target: target.display().to_string(),
            }
            .line()),
            Err(e) => failed(
                Note::ReadLinkFailed {
                    link: link.clone(),
                    error: e.to_string(),
                }
                .line(),
            ),
        },
        Operation::SwitchRelease { link, release_dir } => switch_release(
            &at(link),
            &at(release_dir),
            &relative_link(link, release_dir),
        ),
        Operation::RunCommand { argv, cwd, .. } => {
            let Some((program, args)) = argv.split_first() else {
                return failed("empty command");
            };
            let mut command = supervised(program, args);
            command.current_dir(at(cwd));
            run_process(command, None, timeout).await
        }
        Operation::MaintenanceOn { path, text } => {
            // Resolved once: the page lands in the release that is served now, and that exact
            // file is the one step 10 removes.
            let (dir, name) = split_path(path);
            let (served, real) = match resolve_local_dir(root, &dir) {
                Ok(resolved) => resolved,
                Err(message) => return failed(message),
            };
            let file = join_target(&served, &name);
            match std::fs::write(real.join(&name), format!("{text}\n")) {
                Ok(()) => StepOutcome {
                    maintenance_file: Some(file.clone()),
                    ..ok(Note::MaintenanceWritten {
                        file: file.clone(),
                        path: path.clone(),
                    }
                    .line())
                },
                Err(e) => failed(
                    Note::FileError {
                        path: file,
                        error: e.to_string(),
                    }
                    .line(),
                ),
            }
        }
        Operation::MaintenanceOff { path } => {
            let Some(file) = maintenance_file else {
                return failed(Note::NoMaintenanceWritten { path: path.clone() }.line());
            };
            match std::fs::remove_file(at(file)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return failed(
                        Note::MaintenanceAbsent {
                            file: file.to_owned(),
                        }
                        .line(),
                    )
                }
                Err(e) => {
                    return failed(
                        Note::FileError {
                            path: file.to_owned(),
                            error: e.to_string(),
                        }
                        .line(),
                    )
                }
            }
            // The release served now (after the switch) must show no maintenance page either.
            let (dir, name) = split_path(path);
            match resolve_local_dir(root, &dir) {
                Ok((served, real)) if real.join(&name).exists() => failed(
                    Note::MaintenanceStillServed {
                        file: file.to_owned(),
                        served: join_target(&served, &name),
                    }
                    .line(),
                ),
                Ok((served, _)) => ok(Note::MaintenanceRemoved {
                    file: file.to_owned(),
                    served,
                }
                .line()),
                Err(message) => failed(format!(
                    "{}\n{message}",
                    Note::Removed {
                        path: file.to_owned()
                    }
                    .line()
                )),
            }
        }
        Operation::VerifyBackup { path, sha256 } => {
            let (file, sha) = (at(path), sha256.clone());
            match tokio::task::spawn_blocking(move || verify_gzip(&file, Some(&sha))).await {
                Ok(Ok(note)) => ok(note.line()),
                Ok(Err(note)) => failed(note.line()),
                Err(e) => failed(e.to_string()),
            }
        }
        Operation::RestoreDatabase {
            path,
            sha256,
            kind,
            host,
            port,
            name,
            user,
        } => {
            if sha256.is_empty() {
                return untouched(Note::NoChecksum.line());
            }
            let secret = match password(&config.database) {
                Ok(secret) => secret,
                Err(message) => return untouched(nothing_restored(Note::Plain { text: message })),
            };
            let (argv, variable) = client_args(*kind, host, *port, user, name);
            restore_local(at(path), sha256.clone(), argv, variable, secret, timeout).await
        }
        Operation::VerifyDatabase {
            kind,
            host,
            port,
            name,
            user,
            queries,
        } => {
            let secret = match password(&config.database) {
                Ok(secret) => secret,
                Err(message) => return failed(message),
            };
            let (argv, variable) = client_args(*kind, host, *port, user, name);
            let mut all = String::new();
            for query in queries {
                let mut command = supervised(&argv[0], &argv[1..]);
                command.env(variable, &secret);
                match kind {
                    DatabaseKind::Postgresql => command.args(["-A", "-t", "-c", query]),
                    _ => command.args(["-N", "-B", "-e", query]),
                };
                let outcome = run_process(command, None, timeout).await;
                all.push_str(&format!("{query}\n{}\n", outcome.output.trim_end()));
                if !outcome.succeeded {
                    return StepOutcome {
                        output: all,
                        ..outcome
                    };
                }
            }
            ok(all)
        }
        Operation::CleanUp { paths } => {
            let mut report = String::new();
            for path in paths {
                match std::fs::remove_file(at(path)) {
                    Ok(()) => {
                        report.push_str(&Note::Removed { path: path.clone() }.line());
                        report.push('\n');
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return failed(format!("{report}{path}: {e}")),
                }
            }
            ok(if report.is_empty() {
                Note::NothingToCleanUp.line()
            } else {
                report
            })
        }
        Operation::HttpCheck { .. } | Operation::Manual { .. } => failed("not a target step"),
    }
}

/// Points `link` at the release atomically: a new link under a temporary name, then a rename
/// over the old one (rename(2) replaces it in one step), so that `link` always exists.
fn switch_release(link: &Path, release: &Path, holds: &str) -> StepOutcome {
    if !release.is_dir() {
        return failed(
            Note::NotAReleaseFolder {
                path: release.display().to_string(),
            }
            .line(),
        );
    }
    // Already there (an earlier rollback went to this release): nothing to change; say so,
    // after checking that the link does resolve to the release.
    if let (Ok(now), Ok(wanted)) = (std::fs::canonicalize(link), std::fs::canonicalize(release)) {
        if now == wanted && std::fs::symlink_metadata(link).is_ok_and(|m| m.is_symlink()) {
            let held = std::fs::read_link(link)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            return ok(Note::AlreadyThere {
                link: link.display().to_string(),
                target: held,
                release: release.display().to_string(),
            }
            .line());
        }
    }
    let before = std::fs::read_link(link)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "(none)".into());
    let mut next = link.as_os_str().to_owned();
    next.push(".rollback-desk-next");
    let next = PathBuf::from(next);
    let _ = std::fs::remove_file(&next);
    if let Err(e) = std::os::unix::fs::symlink(holds, &next) {
        return failed(format!("symlink {}: {e}", next.display()));
    }
    match std::fs::rename(&next, link) {
        Ok(()) => ok(Note::Switched {
            link: link.display().to_string(),
            target: holds.to_owned(),
            before,
        }
        .line()),
        Err(e) => {
            let _ = std::fs::remove_file(&next);
            failed(format!("rename over {}: {e}", link.display()))
        }
    }
}

/// Streams the decompressed dump into the database client: the gzip is checked whole first,
/// and no uncompressed file is ever written.
async fn restore_local(
    dump: PathBuf,
    sha256: String,
    argv: Vec<String>,
    variable: &'static str,
    secret: String,
    timeout: Duration,
) -> StepOutcome {
    // The restore checks the file itself (whole gzip, the approved sha256): skipping the
    // verification step can't restore an unverified file.
    let checked = {
        let dump = dump.clone();
        tokio::task::spawn_blocking(move || verify_gzip(&dump, Some(&sha256))).await
    };
    match checked {
        Ok(Ok(_)) => {}
        Ok(Err(note)) => return untouched(nothing_restored(note)),
        Err(e) => {
            return untouched(nothing_restored(Note::Plain {
                text: e.to_string(),
            }))
        }
    }
    // A thread decompresses into a bounded channel; the client's stdin is written from it.
    // The client is a tokio process: a kill or timeout (dropping this future) stops it.
    let (chunks, mut incoming) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    let reader = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        use std::io::Read;
        let file = std::fs::File::open(&dump)?;
        let mut gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
        let mut total = 0u64;
        loop {
            let mut buf = vec![0u8; 256 * 1024];
            let n = gz.read(&mut buf)?;
            if n == 0 {
                return Ok(total);
            }
            buf.truncate(n);
            total += n as u64;
            if chunks.blocking_send(buf).is_err() {
                return Err(std::io::Error::other("the database client stopped reading"));
            }
        }
    });
    let mut command = supervised(&argv[0], &argv[1..]);
    command
        .env(variable, &secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return untouched(nothing_restored(Note::CouldNotStart {
                error: e.to_string(),
            }))
        }
    };
    let group = Group::of(&child);
    let Some(mut stdin) = child.stdin.take() else {
        return failed("the database client has no input");
    };
    let writer = tokio::spawn(async move {
        while let Some(chunk) = incoming.recv().await {
            if stdin.write_all(&chunk).await.is_err() {
                break;
            }
        }
        // Closing stdin ends the client's input.
        drop(stdin);
    });
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => {
            return failed(
                Note::TimedOut {
                    seconds: timeout.as_secs(),
                }
                .line(),
            )
        }
        Ok(Err(e)) => {
            return failed(
                Note::CouldNotRun {
                    error: e.to_string(),
                }
                .line(),
            )
        }
        Ok(Ok(out)) => out,
    };
    group.ended();
    let _ = writer.await;
    let pumped = match reader.await {
        Ok(result) => result,
        Err(e) => Err(std::io::Error::other(e.to_string())),
    };
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    let mut text = sanitize(&text);
    let note = match &pumped {
        Ok(bytes) => Note::SqlStreamed { bytes: *bytes },
        Err(e) => Note::StreamingStopped {
            error: e.to_string(),
        },
    };
    text.push_str(&note.line());
    text.push('\n');
    StepOutcome {
        succeeded: out.status.success() && pumped.is_ok(),
        exit_code: out.status.code(),
        output: text,
        maintenance_file: None,
        untouched: false,
    }
}

/// A step on an SSH target: one `ssh` call each.
async fn remote(
    target: &SshTarget,
    config: &EnvironmentConfig,
    operation: &Operation,
    maintenance_file: Option<&str>,
    timeout: Duration,
) -> StepOutcome {
    let password_line = || password(&config.database).map(|p| format!("{p}\n").into_bytes());
    match operation {
        Operation::ReadCurrent { link } => {
            over_ssh(
                target,
                &format!("readlink -- {}", quote(link)),
                None,
                timeout,
            )
            .await
        }
        Operation::SwitchRelease { link, release_dir } => {
            let next = format!("{link}.rollback-desk-next");
            // GNU mv -T renames over the old link (rename(2)): `current` always exists.
            let script = format!(
                "test -d {dir} || {{ echo \"{dir_shown} is not a release folder\" >&2; exit 1; }}\n\
                 if test -L {link} && [ \"$(cd -P -- {link} && pwd -P)\" = \"$(cd -P -- {dir} && pwd -P)\" ]; then\n\
                 echo \"{link_shown} already points to $(readlink -- {link}): nothing changed\"; exit 0; fi\n\
                 rm -f -- {next} && ln -s -- {holds} {next} && mv -T -- {next} {link} && readlink -- {link}",
                link_shown = link.replace(['"', '\\', '$', '`'], "_"),
                dir = quote(release_dir),
                dir_shown = release_dir.replace(['"', '\\', '$', '`'], "_"),
                next = quote(&next),
                holds = quote(&relative_link(link, release_dir)),
                link = quote(link),
            );
            over_ssh(target, &script, None, timeout).await
        }
        Operation::RunCommand { argv, cwd, .. } => {
            let command: Vec<String> = argv.iter().map(|a| quote(a)).collect();
            let script = format!("cd -- {} && {}", quote(cwd), command.join(" "));
            over_ssh(target, &script, None, timeout).await
        }
        Operation::MaintenanceOn { path, text } => {
            // Resolved once on the target (`cd -P`: through `current` to the served release);
            // the script's last line is the file it wrote.
            let (dir, name) = split_path(path);
            let script = format!(
                "d=$(cd -P -- {dir} && pwd -P) || exit 1\n\
                 printf '%s\\n' {text} > \"$d\"/{name} && printf '%s\\n' \"$d\"/{name}",
                dir = quote(&dir),
                text = quote(text),
                name = quote(&name),
            );
            let outcome = over_ssh(target, &script, None, timeout).await;
            if !outcome.succeeded {
                return outcome;
            }
            let file = outcome
                .output
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_owned();
            StepOutcome {
                maintenance_file: (!file.is_empty()).then(|| file.clone()),
                output: Note::MaintenanceWritten {
                    file: file.clone(),
                    path: path.clone(),
                }
                .line(),
                ..outcome
            }
        }
        Operation::MaintenanceOff { path } => {
            let Some(file) = maintenance_file else {
                return failed(Note::NoMaintenanceWritten { path: path.clone() }.line());
            };
            let (dir, name) = split_path(path);
            // The script says what it found by its exit code (and prints the folder served
            // now); the words are the runner's, in the reader's language.
            let script = format!(
                "test -e {file} || exit {ABSENT}\n\
                 rm -- {file} || exit 1\n\
                 d=$(cd -P -- {dir} && pwd -P) || exit 1\n\
                 if test -e \"$d\"/{name}; then echo \"$d\"/{name}; exit {STILL_SERVED}; fi\n\
                 echo \"$d\"",
                file = quote(file),
                dir = quote(&dir),
                name = quote(&name),
            );
            let outcome = over_ssh(target, &script, None, timeout).await;
            let shown = outcome.output.trim().to_owned();
            match (outcome.succeeded, outcome.exit_code) {
                (true, _) => ok(Note::MaintenanceRemoved {
                    file: file.to_owned(),
                    served: shown,
                }
                .line()),
                (false, Some(ABSENT)) => failed(
                    Note::MaintenanceAbsent {
                        file: file.to_owned(),
                    }
                    .line(),
                ),
                (false, Some(STILL_SERVED)) => failed(
                    Note::MaintenanceStillServed {
                        file: file.to_owned(),
                        served: shown,
                    }
                    .line(),
                ),
                _ => outcome,
            }
        }
        Operation::VerifyBackup { path, sha256 } => {
            let script = format!(
                "gzip -t -- {p} && sha256sum < {p} | cut -d' ' -f1",
                p = quote(path)
            );
            let outcome = over_ssh(target, &script, None, timeout).await;
            if outcome.succeeded && outcome.output.trim() != sha256 {
                return failed(
                    Note::ChecksumDiffers {
                        actual: outcome.output.trim().to_owned(),
                        expected: sha256.clone(),
                    }
                    .line(),
                );
            }
            outcome
        }
        Operation::RestoreDatabase {
            path,
            sha256,
            kind,
            host,
            port,
            name,
            user,
        } => {
            if sha256.is_empty() {
                return untouched(Note::NoChecksum.line());
            }
            let stdin = match password_line() {
                Ok(line) => line,
                Err(message) => return untouched(nothing_restored(Note::Plain { text: message })),
            };
            let (argv, variable) = client_args(*kind, host, *port, user, name);
            let client: Vec<String> = argv.iter().map(|a| quote(a)).collect();
            // The password is the first line of input (read by the wrapper); the dump streams from the
            // target's own file into the client there.
            // Refusals come back as exit codes (and what gzip said, or the file's sha256):
            // nothing was restored, said in the runner's words.
            let script = format!(
                "export {variable}=\"$RBD_SECRET\"; unset RBD_SECRET\n\
                 gzip -t -- {p} 2>&1 || exit {NOTHING_RESTORED}\n\
                 s=$(sha256sum < {p} | cut -d' ' -f1)\n\
                 [ \"$s\" = {sha} ] || {{ echo \"$s\"; exit {CHECKSUM_REFUSED}; }}\n\
                 gunzip -c -- {p} | {client}",
                p = quote(path),
                sha = quote(sha256),
                client = client.join(" "),
            );
            let outcome = over_ssh(target, &script, Some(stdin), timeout).await;
            match outcome.exit_code {
                Some(NOTHING_RESTORED) => untouched(nothing_restored(Note::NotWholeGzip {
                    path: path.clone(),
                    error: outcome.output.trim().to_owned(),
                })),
                Some(CHECKSUM_REFUSED) => untouched(nothing_restored(Note::ChecksumDiffers {
                    actual: outcome.output.trim().to_owned(),
                    expected: sha256.clone(),
                })),
                _ => outcome,
            }
        }
        Operation::VerifyDatabase {
            kind,
            host,
            port,
            name,
            user,
            queries,
        } => {
            let stdin = match password_line() {
                Ok(line) => line,
                Err(message) => return failed(message),
            };
            let (argv, variable) = client_args(*kind, host, *port, user, name);
            let client: Vec<String> = argv.iter().map(|a| quote(a)).collect();
            let flag = match kind {
                DatabaseKind::Postgresql => "-A -t -c",
                _ => "-N -B -e",
            };
            let runs: Vec<String> = queries
                .iter()
                .map(|q| format!("{} {flag} {}", client.join(" "), quote(q)))
                .collect();
            let script = format!(
                "export {variable}=\"$RBD_SECRET\"; unset RBD_SECRET\n{}",
                runs.join(" && \\\n")
            );
            over_ssh(target, &script, Some(stdin), timeout).await
        }
        Operation::CleanUp { paths } => {
            let quoted: Vec<String> = paths.iter().map(|p| quote(p)).collect();
            over_ssh(
                target,
                &format!("rm -f -- {}", quoted.join(" ")),
                None,
                timeout,
            )
            .await
        }
        Operation::HttpCheck { .. } | Operation::Manual { .. } => failed("not a target step"),
    }
}
