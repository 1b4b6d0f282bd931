//! The built-in runbooks as typed operations: §4.2 for `application` rollbacks and §5.2 (which
//! includes §4.2) for `application_database` rollbacks, filled with an environment's paths and
//! commands. Plans render these steps before any approval; the runner executes the same list.
use crate::domain::environment::{CommandName, DatabaseKind, EnvironmentConfig};
use serde::{Deserialize, Serialize};

/// The procedure's maintenance text (§5.2 step 1).
pub const MAINTENANCE_TEXT: &str = "Application en maintenance. Retour prévu dans 15 minutes.";

/// One thing the runner does. Never a shell string: commands are argument lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    /// Read where `current` points (readlink), to record the release left.
    ReadCurrent { link: String },
    /// Point `current` at a release atomically: a new link under a temporary name, then a
    /// rename over `current`, so that `current` always exists.
    SwitchRelease { link: String, release_dir: String },
    /// Run a configured command in a folder.
    RunCommand {
        name: CommandName,
        argv: Vec<String>,
        cwd: String,
    },
    /// Ask a URL and accept only these statuses (§4.2 step 7: 200 or 302).
    HttpCheck {
        url: String,
        expect: Vec<u16>,
        timeout_seconds: u32,
    },
    /// Write the maintenance page (§5.2 step 1). The runner resolves `path`'s folder once
    /// (through `current` to the release it points to, the page that is served), writes
    /// there, and records the absolute path it wrote.
    MaintenanceOn { path: String, text: String },
    /// Remove exactly the file step 1 wrote (§5.2 step 10), then check that the release now
    /// served at `path` has no maintenance page. A file that is not there fails the step.
    MaintenanceOff { path: String },
    /// Check that the backup is a whole gzip file with the inventoried checksum before using it.
    VerifyBackup { path: String, sha256: String },
    /// Stream the decompressed dump into the database client (no uncompressed file, unlike
    /// §5.2 steps 4–6). The restore checks the whole gzip and its sha256 itself first, so that
    /// skipping the verification step can never restore an unverified file.
    RestoreDatabase {
        path: String,
        /// The inventoried checksum; a plan saved before it was recorded here has none, and
        /// its restore refuses to run.
        #[serde(default)]
        sha256: String,
        kind: DatabaseKind,
        host: String,
        port: u16,
        name: String,
        user: String,
    },
    /// §5.2 step 7: the tables are there and `users` answers.
    VerifyDatabase {
        kind: DatabaseKind,
        host: String,
        port: u16,
        name: String,
        user: String,
        queries: Vec<String>,
    },
    /// A step of a system rollback (§3.3) that a person does and ticks.
    Manual { instruction: String },
    /// Remove temporary files if they are there (§5.2 step 11).
    CleanUp { paths: Vec<String> },
}

/// What a link at `link` holds to point at `target` (both absolute): a path relative to the
/// link's folder, so that the link means the same under a local target's root folder as on
/// the server itself.
pub fn relative_link(link: &str, target: &str) -> String {
    use std::path::{Component, Path};
    let normal = |p: &str| -> Vec<String> {
        Path::new(p)
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect()
    };
    let mut from = normal(link);
    from.pop();
    let to = normal(target);
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(to[common..].iter().cloned());
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

fn quote(arg: &str) -> String {
    shell_words::quote(arg).into_owned()
}

fn client(kind: DatabaseKind, host: &str, port: u16, user: &str, name: &str) -> String {
    match kind {
        DatabaseKind::Postgresql => format!(
            "psql -h {} -p {port} -U {} -d {} -v ON_ERROR_STOP=1",
            quote(host),
            quote(user),
            quote(name)
        ),
        DatabaseKind::Mysql | DatabaseKind::Mariadb => format!(
            "{} -h {} -P {port} -u {} {}",
            kind.client_program(),
            quote(host),
            quote(user),
            quote(name)
        ),
    }
}

impl Operation {
    /// What the step does, as the command line a person would type to do the same by hand
    /// (the dry run shown on the plan). The runner does exactly this, without a shell; the
    /// database password is passed in the client's environment, never on a command line.
    pub fn command_text(&self) -> String {
        match self {
            Operation::ReadCurrent { link } => format!("readlink {}", quote(link)),
            Operation::SwitchRelease { link, release_dir } => {
                let next = format!("{link}.rollback-desk-next");
                format!(
                    "ln -s {} {} && mv -T {} {}",
                    quote(&relative_link(link, release_dir)),
                    quote(&next),
                    quote(&next),
                    quote(link)
                )
            }
            Operation::RunCommand { argv, cwd, .. } => format!(
                "cd {} && {}",
                quote(cwd),
                argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
            ),
            Operation::HttpCheck {
                url,
                expect,
                timeout_seconds,
            } => format!(
                "curl -s -o /dev/null -w '%{{http_code}}' --max-time {timeout_seconds} {}  # {}",
                quote(url),
                expect
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
            Operation::MaintenanceOn { path, text } => {
                format!("echo {} > {}", quote(text), quote(path))
            }
            Operation::MaintenanceOff { path } => format!("rm {}", quote(path)),
            Operation::VerifyBackup { path, sha256 } => format!(
                "gzip -t {} && sha256sum {}  # {sha256}",
                quote(path),
                quote(path)
            ),
            Operation::RestoreDatabase {
                path,
                sha256,
                kind,
                host,
                port,
                name,
                user,
            } => format!(
                "gzip -t {p} && sha256sum {p}  # {sha256}\ngunzip -c {p} | {}",
                client(*kind, host, *port, user, name),
                p = quote(path),
            ),
            Operation::VerifyDatabase {
                kind,
                host,
                port,
                name,
                user,
                queries,
            } => queries
                .iter()
                .map(|q| {
                    let flag = match kind {
                        DatabaseKind::Postgresql => "-c",
                        _ => "-e",
                    };
                    format!(
                        "{} {flag} {}",
                        client(*kind, host, *port, user, name),
                        quote(q)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Operation::Manual { instruction } => instruction.clone(),
            Operation::CleanUp { paths } => format!(
                "rm -f -- {}",
                paths.iter().map(|p| quote(p)).collect::<Vec<_>>().join(" ")
            ),
        }
    }
}

/// A step of a runbook: its place in the procedure and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Where the procedure says so, e.g. "4.2/4" (section 4.2, step 4).
    pub procedure_ref: String,
    pub operation: Operation,
}

/// The backup a database rollback restores, as inventoried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupChoice {
    pub file_name: String,
    pub sha256: String,
}

fn join(dir: &str, name: &str) -> String {
    format!("{}/{}", dir.trim_end_matches('/'), name)
}

/// The placeholders a configured command may use, each standing for a whole argument (an
/// argument that is exactly `{release}` becomes the path; nothing is spliced into text, so no
/// value can turn into several arguments).
pub const PLACEHOLDERS: [&str; 3] = ["{release}", "{current}", "{releases}"];

fn command(config: &EnvironmentConfig, name: CommandName, cwd: &str, release: &str) -> Operation {
    let argv = config
        .commands
        .get(&name)
        .cloned()
        .unwrap_or_else(|| name.procedure_default());
    let argv = argv
        .argv()
        .iter()
        .map(|arg| match arg.as_str() {
            "{release}" => release.to_owned(),
            "{current}" => config.current_link.clone(),
            "{releases}" => config.releases_dir.clone(),
            _ => arg.clone(),
        })
        .collect();
    Operation::RunCommand {
        name,
        argv,
        cwd: cwd.to_owned(),
    }
}

fn step(procedure_ref: &str, operation: Operation) -> Step {
    Step {
        procedure_ref: procedure_ref.to_owned(),
        operation,
    }
}

/// §4.2: switch `current` to `target_release`, clear and warm the cache, reload the services,
/// check the site answers.
pub fn application(config: &EnvironmentConfig, target_release: &str) -> Vec<Step> {
    let current = config.current_link.clone();
    let release = join(&config.releases_dir, target_release);
    vec![
        step(
            "4.2/3",
            Operation::ReadCurrent {
                link: current.clone(),
            },
        ),
        step(
            "4.2/4",
            Operation::SwitchRelease {
                link: current.clone(),
                release_dir: join(&config.releases_dir, target_release),
            },
        ),
        step(
            "4.2/5",
            command(config, CommandName::CacheClear, &current, &release),
        ),
        step(
            "4.2/5",
            command(config, CommandName::CacheWarmup, &current, &release),
        ),
        step(
            "4.2/6",
            command(config, CommandName::PhpFpmReload, &current, &release),
        ),
        step(
            "4.2/6",
            command(config, CommandName::ApacheReload, &current, &release),
        ),
        step(
            "4.2/7",
            Operation::HttpCheck {
                url: config.health_url.clone(),
                expect: vec![200, 302],
                timeout_seconds: 10,
            },
        ),
    ]
}

/// §5.2: maintenance on, verify the backup, stop PHP-FPM, restore, verify the database, then §4.2
/// (with PHP-FPM started instead of reloaded), reload Apache, maintenance off.
pub fn application_database(
    config: &EnvironmentConfig,
    target_release: &str,
    backup: &BackupChoice,
) -> Vec<Step> {
    let db = &config.database;
    let maintenance = join(&config.public_dir, "maintenance.html");
    let backup_path = join(&config.backups_dir, &backup.file_name);
    let current = config.current_link.clone();
    let release = join(&config.releases_dir, target_release);
    let mut steps = vec![
        step(
            "5.2/1",
            Operation::MaintenanceOn {
                path: maintenance.clone(),
                text: MAINTENANCE_TEXT.to_owned(),
            },
        ),
        step(
            "5.2/3",
            Operation::VerifyBackup {
                path: backup_path.clone(),
                sha256: backup.sha256.clone(),
            },
        ),
        step(
            "5.2/5",
            command(config, CommandName::PhpFpmStop, &current, &release),
        ),
        step(
            "5.2/6",
            Operation::RestoreDatabase {
                path: backup_path,
                sha256: backup.sha256.clone(),
                kind: db.kind,
                host: db.host.clone(),
                port: db.port,
                name: db.name.clone(),
                user: db.user.clone(),
            },
        ),
        step(
            "5.2/7",
            Operation::VerifyDatabase {
                kind: db.kind,
                host: db.host.clone(),
                port: db.port,
                name: db.name.clone(),
                user: db.user.clone(),
                queries: vec![
                    match db.kind {
                        DatabaseKind::Postgresql => {
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'".to_owned()
                        }
                        _ => "SHOW TABLES".to_owned(),
                    },
                    "SELECT COUNT(*) FROM users".to_owned(),
                ],
            },
        ),
    ];
    // §5.2 step 8: the application rollback of §4 — without its service reloads and check,
    // which steps 9 and later do once PHP-FPM is started again.
    steps.extend(
        application(config, target_release)
            .into_iter()
            .filter(|s| {
                !matches!(
                    s.operation,
                    Operation::RunCommand {
                        name: CommandName::PhpFpmReload | CommandName::ApacheReload,
                        ..
                    } | Operation::HttpCheck { .. }
                )
            })
            .map(|s| Step {
                procedure_ref: format!("5.2/8 ({})", s.procedure_ref),
                ..s
            }),
    );
    steps.extend([
        step(
            "5.2/9",
            command(config, CommandName::PhpFpmStart, &current, &release),
        ),
        step(
            "5.2/9",
            command(config, CommandName::ApacheReload, &current, &release),
        ),
        step("5.2/10", Operation::MaintenanceOff { path: maintenance }),
        // §5.2 step 11: the runner writes no uncompressed dump, but one left by a restore done
        // by hand holds the customers' data in clear; and a switch cut short leaves its link.
        step(
            "5.2/11",
            Operation::CleanUp {
                paths: vec![
                    join(&config.backups_dir, "restore_temp.sql"),
                    format!("{}.rollback-desk-next", config.current_link),
                ],
            },
        ),
        step(
            "4.2/7",
            Operation::HttpCheck {
                url: config.health_url.clone(),
                expect: vec![200, 302],
                timeout_seconds: 10,
            },
        ),
    ]);
    steps
}

/// §3.3: a system rollback is the list of steps its author wrote, done and ticked by people.
pub fn system(instructions: &[String]) -> Vec<Step> {
    instructions
        .iter()
        .map(|instruction| {
            step(
                "3.3",
                Operation::Manual {
                    instruction: instruction.clone(),
                },
            )
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::environment::{CommandLine, DatabaseConfig, PasswordSource, Target};

    /// The procedure's TaskFlow production environment, for tests.
    pub(crate) fn taskflow() -> EnvironmentConfig {
        EnvironmentConfig {
            name: "TaskFlow production".into(),
            target: Target::Local {
                root: "/srv/sandbox".into(),
            },
            releases_dir: "/var/www/taskflow/releases".into(),
            current_link: "/var/www/taskflow/current".into(),
            backups_dir: "/var/backups/taskflow".into(),
            public_dir: "/var/www/taskflow/current/public".into(),
            health_url: "https://taskflow.app".into(),
            time_zone: "Europe/Paris".into(),
            commands: CommandName::ALL
                .iter()
                .map(|n| (*n, n.procedure_default()))
                .collect(),
            database: DatabaseConfig {
                kind: DatabaseKind::Mysql,
                host: "127.0.0.1".into(),
                port: 3306,
                name: "taskflow_prod".into(),
                user: "user_prod".into(),
                password_source: PasswordSource::Env,
                password_ref: "TASKFLOW_DB_PASSWORD".into(),
            },
        }
    }

    fn refs(steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|s| s.procedure_ref.as_str()).collect()
    }

    #[test]
    fn placeholders_stand_for_whole_arguments() {
        let mut config = taskflow();
        config.commands.insert(
            CommandName::CacheClear,
            CommandLine::parse("rm -rf {release}/var/cache x{release}").unwrap(),
        );
        config.commands.insert(
            CommandName::CacheWarmup,
            CommandLine::parse("php {current}/bin/console {release}").unwrap(),
        );
        let steps = application(&config, "2025-10-16_153012");
        let Operation::RunCommand { argv, .. } = &steps[2].operation else {
            panic!()
        };
        assert_eq!(
            argv,
            &["rm", "-rf", "{release}/var/cache", "x{release}"],
            "only whole arguments"
        );
        let Operation::RunCommand { argv, .. } = &steps[3].operation else {
            panic!()
        };
        assert_eq!(
            argv,
            &[
                "php",
                "{current}/bin/console",
                "/var/www/taskflow/releases/2025-10-16_153012"
            ]
        );
    }

    #[test]
    fn links_are_relative_to_their_folder() {
        assert_eq!(
            relative_link(
                "/var/www/taskflow/current",
                "/var/www/taskflow/releases/2025-10-16_153012"
            ),
            "releases/2025-10-16_153012"
        );
        assert_eq!(
            relative_link("/srv/app/current", "/opt/rel/1"),
            "../../opt/rel/1"
        );
    }

    #[test]
    fn the_application_runbook_follows_section_4_2() {
        let steps = application(&taskflow(), "2025-10-16_153012");
        assert_eq!(
            refs(&steps),
            ["4.2/3", "4.2/4", "4.2/5", "4.2/5", "4.2/6", "4.2/6", "4.2/7"]
        );
        assert_eq!(
            steps[1].operation,
            Operation::SwitchRelease {
                link: "/var/www/taskflow/current".into(),
                release_dir: "/var/www/taskflow/releases/2025-10-16_153012".into()
            }
        );
        let Operation::RunCommand { argv, cwd, .. } = &steps[2].operation else {
            panic!("{steps:?}")
        };
        assert_eq!(
            argv,
            &[
                "php",
                "bin/console",
                "cache:clear",
                "--env=prod",
                "--no-warmup"
            ]
        );
        assert_eq!(cwd, "/var/www/taskflow/current");
        assert_eq!(
            steps[6].operation,
            Operation::HttpCheck {
                url: "https://taskflow.app".into(),
                expect: vec![200, 302],
                timeout_seconds: 10
            }
        );
    }

    #[test]
    fn the_database_runbook_follows_section_5_2_around_4_2() {
        let mut config = taskflow();
        config.commands.insert(
            CommandName::PhpFpmStop,
            CommandLine::parse("systemctl stop php8.2-fpm").unwrap(),
        );
        let backup = BackupChoice {
            file_name: "db_backup_20251017_103000.sql.gz".into(),
            sha256: "ab".into(),
        };
        let steps = application_database(&config, "2025-10-16_153012", &backup);
        assert_eq!(
            refs(&steps),
            [
                "5.2/1",
                "5.2/3",
                "5.2/5",
                "5.2/6",
                "5.2/7",
                "5.2/8 (4.2/3)",
                "5.2/8 (4.2/4)",
                "5.2/8 (4.2/5)",
                "5.2/8 (4.2/5)",
                "5.2/9",
                "5.2/9",
                "5.2/10",
                "5.2/11",
                "4.2/7"
            ]
        );
        assert_eq!(
            steps[0].operation,
            Operation::MaintenanceOn {
                path: "/var/www/taskflow/current/public/maintenance.html".into(),
                text: MAINTENANCE_TEXT.into()
            }
        );
        let Operation::RunCommand { argv, .. } = &steps[2].operation else {
            panic!()
        };
        assert_eq!(
            argv,
            &["systemctl", "stop", "php8.2-fpm"],
            "the environment's own command"
        );
        let Operation::RestoreDatabase { path, .. } = &steps[3].operation else {
            panic!()
        };
        assert_eq!(
            path,
            "/var/backups/taskflow/db_backup_20251017_103000.sql.gz"
        );
        let Operation::VerifyDatabase { queries, .. } = &steps[4].operation else {
            panic!()
        };
        assert_eq!(queries, &["SHOW TABLES", "SELECT COUNT(*) FROM users"]);
        assert_eq!(
            steps[3].operation.command_text(),
            "gzip -t /var/backups/taskflow/db_backup_20251017_103000.sql.gz && sha256sum /var/backups/taskflow/db_backup_20251017_103000.sql.gz  # ab\ngunzip -c /var/backups/taskflow/db_backup_20251017_103000.sql.gz | mysql -h 127.0.0.1 -P 3306 -u user_prod taskflow_prod"
        );
        assert_eq!(
            steps[0].operation.command_text(),
            "echo 'Application en maintenance. Retour prévu dans 15 minutes.' > /var/www/taskflow/current/public/maintenance.html"
        );
        assert!(steps.iter().all(|s| !matches!(
            s.operation,
            Operation::RunCommand {
                name: CommandName::PhpFpmReload,
                ..
            }
        )));
    }
}
