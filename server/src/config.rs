//! Settings: defaults, then an optional TOML file, then environment variables (`RBD_*`, and
//! `DATABASE_URL`). Every setting is documented in the README's table.
use app::backend::SignInPolicy;
use app::domain::plan::ApprovalPolicy;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Address and port the web server listens on.
    pub bind: SocketAddr,
    /// PostgreSQL to use; without it the app runs its own in `data_dir/postgres`.
    pub database_url: Option<String>,
    /// Folder for the app's own data (embedded PostgreSQL, later mail files).
    pub data_dir: PathBuf,
    /// Folder of the PostgreSQL server binaries, when they are not where they are looked for.
    pub postgres_bin_dir: Option<PathBuf>,
    /// The address users reach the app at; `https://…` makes cookies `Secure`.
    pub public_url: Option<String>,
    /// A session ends after this many hours without a request.
    pub session_idle_hours: u32,
    pub sign_in_slow_after: u32,
    pub sign_in_slow_base_seconds: u32,
    pub sign_in_lock_after: u32,
    pub sign_in_lock_minutes: u32,
    /// The token deploy scripts send to `POST /api/v1/deployments`; unset: the API is off.
    pub deploy_api_token: Option<String>,
    /// Approvals a database restore or system rollback needs (§5.1; never fewer than 2).
    pub approvals_required: u32,
    /// Minutes an approval counts for.
    pub approval_expiry_minutes: u32,
    /// The demo's sandbox target (set by `serve --demo`, not configurable): the server then
    /// serves the demo's TaskFlow page at `/demo/taskflow/`.
    #[serde(skip)]
    pub demo_sandbox: Option<PathBuf>,
    /// The SMTP server (`smtp://host:port`, STARTTLS when offered; `smtps://host:port`). Unset:
    /// emails are written as `.eml` files into `data_dir/mail`.
    pub smtp_url: Option<String>,
    /// The sender of the emails.
    pub mail_from: String,
    /// At most this many messages per second. 200 by default: what a relay of one's own
    /// (Postfix, Exim) takes without queueing; hosted relays state their own limits (often
    /// 10–100 a second) and should be set here.
    pub mail_per_second: u32,
    /// Seconds a runner holds an execution without renewing its lease; past it, the execution
    /// is declared interrupted.
    pub runner_lease_seconds: u32,
    /// Seconds a stopping server lets a running step finish before it kills the step's
    /// processes (and records that).
    pub runner_shutdown_grace_seconds: u32,
    /// Hours the mailer keeps retrying a message that fails for a temporary reason before it
    /// marks it failed (a person can then send it again).
    pub mail_retry_hours: u32,
    /// Origins (`https://cdn.example`) besides each environment's health URL whose assets the
    /// §6.1 check fetches; assets elsewhere are listed, not fetched.
    pub asset_origins: Vec<String>,
    /// Run the periodic tasks (overdue watcher, inventories, session clean-up). Tests turn them
    /// off and call the same functions at the moments they choose.
    pub background_tasks: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let policy = SignInPolicy::default();
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: None,
            data_dir: PathBuf::from("data"),
            postgres_bin_dir: None,
            public_url: None,
            session_idle_hours: 12,
            sign_in_slow_after: policy.slow_after,
            sign_in_slow_base_seconds: policy.slow_base_seconds,
            sign_in_lock_after: policy.lock_after,
            sign_in_lock_minutes: policy.lock_minutes,
            deploy_api_token: None,
            approvals_required: 2,
            approval_expiry_minutes: 60,
            runner_lease_seconds: 30,
            runner_shutdown_grace_seconds: 300,
            mail_retry_hours: 24,
            demo_sandbox: None,
            smtp_url: None,
            mail_from: "Rollback Desk <rollback-desk@localhost>".to_owned(),
            mail_per_second: 200,
            asset_origins: Vec::new(),
            background_tasks: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("configuration file {0} not found")]
    MissingFile(PathBuf),
}

impl Settings {
    /// Reads the settings; `file` is the TOML file named on the command line or in
    /// `RBD_CONFIG`, else `rollback-desk.toml` when it exists.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.into())),
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file("rollback-desk.toml")),
        }
        figment
            .merge(Env::prefixed("RBD_").ignore(&["config"]))
            .merge(Env::raw().only(&["database_url"]))
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    pub fn sign_in_policy(&self) -> SignInPolicy {
        SignInPolicy {
            slow_after: self.sign_in_slow_after,
            slow_base_seconds: self.sign_in_slow_base_seconds,
            lock_after: self.sign_in_lock_after.max(1),
            lock_minutes: self.sign_in_lock_minutes,
        }
    }

    pub fn approval_policy(&self) -> ApprovalPolicy {
        ApprovalPolicy::new(self.approvals_required, self.approval_expiry_minutes)
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}
