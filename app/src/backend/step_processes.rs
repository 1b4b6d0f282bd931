//! The processes of a step: each step's command runs in a process group of its own, whose id
//! the runner records with the machine it runs on. A retry or resume of an execution is
//! refused while a recorded group of an earlier attempt still has a process (the runner that
//! started it may have died, or lost its lease, while the command ran on).
use nix::sys::signal::killpg;
use nix::unistd::Pid;
use sqlx::{Postgres, Transaction};

/// This machine as recorded with a process group: its host name and the kernel's boot id
/// (a group recorded before a reboot is gone, whatever its number).
pub fn this_host() -> String {
    let name = nix::unistd::gethostname()
        .ok()
        .and_then(|n| n.into_string().ok())
        .unwrap_or_default();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    format!("{name} {}", boot.trim())
}

/// Whether process group `pgid` of this machine has a live process. Read from /proc rather
/// than with kill(2), which also counts zombies (a killed step's leader may wait a while to
/// be reaped by the runtime).
pub fn group_alive(pgid: i32) -> bool {
    if pgid <= 1 {
        return false;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        // No /proc: kill(2) with signal 0 (EPERM means it exists under another user).
        return match killpg(Pid::from_raw(pgid), None) {
            Ok(()) => true,
            Err(errno) => errno == nix::errno::Errno::EPERM,
        };
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // pid (comm) state ppid pgrp …: the command may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.len() > 2 && fields[0] != "Z" && fields[2].parse() == Ok(pgid)
    })
}

/// A recorded process group of an earlier attempt that may still run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StillRunning {
    /// The step (from 1).
    pub step: usize,
    pub process_group: i32,
    /// The machine's name, when it is another one than this (then it can't be checked here).
    pub elsewhere: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RecordedGroup {
    position: i32,
    process_group: i32,
    process_host: String,
}

/// The first recorded group of execution `id` that may still have a process: of the
/// attempts that were cut short (interrupted) and of the latest attempt at `position`.
pub async fn earlier_attempt_running(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    position: usize,
) -> Result<Option<StillRunning>, sqlx::Error> {
    let groups = sqlx::query_as::<_, RecordedGroup>(
        "SELECT position, process_group, process_host FROM execution_steps s
         WHERE execution_id = $1 AND process_group IS NOT NULL
           AND (status IN ('interrupted', 'running')
                OR (position = $2 AND attempt = (SELECT max(attempt) FROM execution_steps
                                                 WHERE execution_id = $1 AND position = $2)))
         ORDER BY position, attempt",
    )
    .bind(id)
    .bind(position as i32)
    .fetch_all(&mut **tx)
    .await?;
    let here = this_host();
    let name = |host: &str| host.split_whitespace().next().unwrap_or("?").to_owned();
    for group in groups {
        let step = usize::try_from(group.position).unwrap_or(0) + 1;
        if group.process_host != here {
            if name(&group.process_host) == name(&here) {
                // This machine before a reboot: nothing of it runs any more.
                continue;
            }
            return Ok(Some(StillRunning {
                step,
                process_group: group.process_group,
                elsewhere: Some(name(&group.process_host)),
            }));
        }
        if group_alive(group.process_group) {
            return Ok(Some(StillRunning {
                step,
                process_group: group.process_group,
                elsewhere: None,
            }));
        }
    }
    Ok(None)
}
