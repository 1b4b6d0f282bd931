//! Running a fixed script on an SSH target with the OpenSSH client: key authentication only,
//! the host checked against the environment's own known-hosts entry (never trust on first
//! use), no password prompt, a connection timeout.
//!
//! OpenSSH hands the remote command to the remote user's shell, so whatever goes into the
//! script is quoted here with [`quote`]; users' input never reaches it (the paths come from an
//! admin's environment configuration, checked absolute).
use std::io::Write;
use std::process::{Command, Output, Stdio};

#[derive(Debug, Clone)]
pub struct SshTarget {
    pub user: String,
    pub host: String,
    pub port: u16,
    pub key_path: String,
    pub known_hosts: String,
}

/// Where an environment's target is reached: a folder of this machine, or over SSH.
#[derive(Debug, Clone)]
pub enum Place {
    Local { root: String },
    Ssh(SshTarget),
}

impl Place {
    pub fn of(target: &crate::domain::environment::Target) -> Place {
        use crate::domain::environment::Target;
        match target {
            Target::Local { root } => Place::Local { root: root.clone() },
            Target::Ssh {
                user,
                host,
                port,
                key_path,
                known_hosts,
            } => Place::Ssh(SshTarget {
                user: user.clone(),
                host: host.clone(),
                port: *port,
                key_path: key_path.clone(),
                known_hosts: known_hosts.clone(),
            }),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("could not start ssh: {0}")]
    Start(std::io::Error),
    #[error("ssh to {target} failed (exit {code:?}): {stderr}")]
    Failed {
        target: String,
        code: Option<i32>,
        stderr: String,
    },
}

/// A shell word that stands for exactly `s`.
pub fn quote(s: &str) -> String {
    shell_words::quote(s).into_owned()
}

impl SshTarget {
    pub fn destination(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }

    /// The `ssh` command that runs `script` on the target, and the known-hosts file it reads
    /// (keep it until the command has ended).
    pub fn command(
        &self,
        script: &str,
        timeout_seconds: u32,
    ) -> Result<(Command, tempfile::NamedTempFile), SshError> {
        // The entry lives in a file of its own for the time of the call.
        let mut known_hosts = tempfile::NamedTempFile::new().map_err(SshError::Start)?;
        known_hosts
            .write_all(format!("{}\n", self.known_hosts.trim()).as_bytes())
            .map_err(SshError::Start)?;
        let mut command = Command::new("ssh");
        command
            .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                known_hosts.path().display()
            ))
            .args([
                "-o",
                "GlobalKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
            ])
            .arg("-o")
            .arg(format!("ConnectTimeout={timeout_seconds}"))
            .args(["-o", "IdentitiesOnly=yes", "-i"])
            .arg(&self.key_path)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("--")
            .arg(self.destination())
            .arg(script);
        Ok((command, known_hosts))
    }

    /// Runs `script` on the target and returns what it printed (blocking).
    pub fn run(&self, script: &str, timeout_seconds: u32) -> Result<Output, SshError> {
        let (mut command, _known_hosts) = self.command(script, timeout_seconds)?;
        let output = command
            .stdin(Stdio::null())
            .output()
            .map_err(SshError::Start)?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(SshError::Failed {
                target: format!("{}:{}", self.destination(), self.port),
                code: output.status.code(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }
}
