//! Every process a step starts runs in a process group of its own, under a small `sh`
//! supervisor that is the group's leader:
//! - it dies with the runner: `PR_SET_PDEATHSIG` sends it SIGTERM when the server goes
//!   (kill -9 included), and its trap kills the whole group — grandchildren (`sudo`,
//!   `sh -c …`) too. (The signal follows the thread that forked: steps are started from the
//!   runtime's worker threads, which live as long as the server.)
//! - *Kill*, a timeout, an abort and a shutdown kill the whole group (a [`Group`] dropped
//!   before its process ended);
//! - its id is reported to the runner ([`report`]), which records it with the step so that a
//!   retry is refused while any process of it lives.
//!
//! The supervisor gets the command as positional arguments (`"$@"`): nothing typed is ever
//! part of its script. It keeps its standard input for the command (`exec 3<&0`: a background
//! job's input would be /dev/null otherwise).
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::ffi::OsStr;

const SUPERVISOR: &str = r#"exec 3<&0; trap 'kill -KILL 0' TERM HUP INT; "$@" <&3 3<&- & wait $!"#;

tokio::task_local! {
    /// Where the runner listens for the process groups its step starts.
    static GROUPS: tokio::sync::mpsc::UnboundedSender<i32>;
}

/// Runs `work` with the process groups it starts reported to `groups`.
pub async fn reporting<F: std::future::Future>(
    groups: tokio::sync::mpsc::UnboundedSender<i32>,
    work: F,
) -> F::Output {
    GROUPS.scope(groups, work).await
}

fn report(pgid: i32) {
    let _ = GROUPS.try_with(|groups| groups.send(pgid));
}

/// What a running step has printed so far, for its page while it runs.
pub type LiveOutput = std::sync::Arc<std::sync::Mutex<String>>;

tokio::task_local! {
    /// Where a step's processes append their output as it comes.
    static LIVE: LiveOutput;
}

/// Runs `work` with its processes' output also appended to `live` as it comes.
pub async fn live<F: std::future::Future>(live: LiveOutput, work: F) -> F::Output {
    LIVE.scope(live, work).await
}

/// Appends `text` to the running step's live output, if the runner listens.
pub fn append_live(text: &str) {
    let _ = LIVE.try_with(|live| {
        if let Ok(mut buffer) = live.lock() {
            buffer.push_str(text);
        }
    });
}

/// `program args…` prepared to run under the supervisor, in a group of its own.
pub fn supervised<S: AsRef<OsStr>>(
    program: impl AsRef<OsStr>,
    args: impl IntoIterator<Item = S>,
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(SUPERVISOR)
        .arg("rollback-desk-step")
        .arg(program)
        .args(args)
        .process_group(0);
    let runner = nix::unistd::getpid();
    // SAFETY: between fork and exec only async-signal-safe calls (prctl, getppid), no
    // allocation.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
            // The runner may have died before the line above: then the supervisor must not run.
            if nix::unistd::getppid() != runner {
                return Err(std::io::Error::from_raw_os_error(nix::libc::ESRCH));
            }
            Ok(())
        });
    }
    command
}

/// The same command as a prepared `std` one (e.g. `ssh …`), under the supervisor.
pub fn supervised_std(command: &std::process::Command) -> tokio::process::Command {
    let mut supervised = supervised(command.get_program(), command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => supervised.env(key, value),
            None => supervised.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        supervised.current_dir(dir);
    }
    supervised
}

/// A started step process's group: killed whole when dropped, unless [`Group::ended`] said the
/// process ended by itself.
pub struct Group {
    pgid: Option<i32>,
}

impl Group {
    /// The group of a child started from [`supervised`] (its pid is the group's id); reported
    /// to the runner.
    pub fn of(child: &tokio::process::Child) -> Group {
        let pgid = child.id().and_then(|pid| i32::try_from(pid).ok());
        if let Some(pgid) = pgid {
            report(pgid);
        }
        Group { pgid }
    }

    /// The process ended by itself: what it left running is not killed (a daemon a restart
    /// command started, for instance).
    pub fn ended(mut self) {
        self.pgid = None;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            // Linux keeps a group's id from being reused while any member lives, so this
            // reaches only what is left of the step (even if its leader is already reaped).
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
}
