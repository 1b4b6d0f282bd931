use sqlx::PgPool;

/// What every server function and page loader needs, built once at start-up.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub sign_in_policy: SignInPolicy,
    pub approval_policy: crate::domain::plan::ApprovalPolicy,
    /// Where emails are written when no SMTP server is configured.
    pub mail_dir: Option<std::path::PathBuf>,
    /// The app is reached over https: cookies it sets itself are `Secure`.
    pub secure_cookies: bool,
    /// The History figures last computed.
    pub figures: std::sync::Arc<crate::backend::history::FiguresCache>,
}

/// How repeated failed sign-ins for one account are slowed, then refused for a while.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInPolicy {
    /// From this many consecutive failures on, each new attempt must wait (doubling each time).
    pub slow_after: u32,
    /// The first wait, in seconds.
    pub slow_base_seconds: u32,
    /// At this many consecutive failures the account is locked.
    pub lock_after: u32,
    /// For how long, in minutes.
    pub lock_minutes: u32,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        SignInPolicy {
            slow_after: 3,
            slow_base_seconds: 2,
            lock_after: 6,
            lock_minutes: 15,
        }
    }
}
