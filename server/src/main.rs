//! `rollback-desk`: serve the app, run migrations, manage users.
use anyhow::{bail, Context};
use app::backend::accounts::{self, NewAccount};
use app::domain::{EmailAddress, NewPassword, PersonName, Roles};
use clap::{Parser, Subcommand};
use server::config::Settings;
use server::embedded_postgres::EmbeddedPostgres;
use server::startup::{self, Application};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::io::BufRead;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "rollback-desk",
    version,
    about = "Coordinates deployment rollbacks"
)]
struct Cli {
    /// TOML configuration file (default: ./rollback-desk.toml when it exists).
    #[arg(long, global = true, env = "RBD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (the default).
    Serve {
        /// Seed the demo accounts of the README.
        #[arg(long)]
        demo: bool,
    },
    /// Run the database migrations and exit.
    Migrate,
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Deployments (§11.2).
    Deploy {
        #[command(subcommand)]
        command: DeployCommand,
    },
}

#[derive(Subcommand)]
enum DeployCommand {
    /// Record that a version was deployed as a release.
    Record {
        /// The environment's name, e.g. "TaskFlow production".
        #[arg(long)]
        environment: String,
        /// e.g. v1.2.0
        #[arg(long)]
        version: String,
        /// The release folder's name, e.g. 2025-10-17_104523.
        #[arg(long)]
        release: String,
        /// When (RFC 3339, e.g. 2025-10-17T10:45:23+02:00); default: now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// A §9.2 checklist item that was ticked (repeat): tests_green, code_reviewed,
        /// docs_updated, migrations_tested, recent_backup, team_available, off_peak,
        /// users_notified, rollback_plan_ready.
        #[arg(long = "check")]
        checklist: Vec<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// A role (repeat for several): tech_lead, project_manager, sysadmin,
        /// senior_dev_oncall, developer, qa, dba, viewer, admin.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
}

#[tokio::main]
async fn main() {
    return_large_buffers();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into()),
        )
        .init();
    if let Err(err) = run(Cli::parse()).await {
        eprintln!("rollback-desk: {err:#}");
        std::process::exit(1);
    }
}

/// Each password hash (argon2id) takes a 19 MiB buffer. glibc serves a block that large with
/// mmap, but after the first one is freed it raises its mmap threshold to that size, so later
/// buffers come from the arena of whichever thread hashed and stay there after use: idle, the
/// server kept 180 MiB and more (330 MiB after ten sign-ins at once). A fixed threshold keeps
/// large blocks mmapped, so each buffer goes back to the system when the hash is done.
fn return_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes the allocator's process-wide settings (every arena's),
        // with a valid parameter and value; it has no pointer to misuse.
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
        if set != 1 {
            eprintln!("rollback-desk: mallopt(M_MMAP_THRESHOLD) refused");
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    let (pool, embedded) = connect(&settings).await?;
    let outcome = match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => serve(&settings, pool.clone(), demo).await,
        Command::Migrate => {
            startup::migrate(&pool).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User {
            command: UserCommand::Add { email, name, roles },
        } => add_user(&pool, &email, &name, &roles).await,
        Command::Deploy {
            command:
                DeployCommand::Record {
                    environment,
                    version,
                    release,
                    at,
                    checklist,
                },
        } => {
            startup::migrate(&pool).await?;
            let new = app::backend::deployments::NewDeployment {
                environment,
                version,
                release,
                deployed_at: at
                    .map(|a| a.with_timezone(&chrono::Utc))
                    .unwrap_or_else(chrono::Utc::now),
                checklist,
            };
            match app::backend::deployments::record(&pool, &new, "cli", None).await {
                Ok(id) => {
                    println!(
                        "deployment {id} recorded: {} as release {}",
                        new.version, new.release
                    );
                    Ok(())
                }
                Err(app::backend::AppError::Invalid(errors)) => {
                    let reasons: Vec<String> = errors
                        .iter()
                        .map(|(field, text)| {
                            format!("{field}: {}", text.render(app::i18n::Lang::En))
                        })
                        .collect();
                    Err(anyhow::anyhow!(
                        "deployment not recorded: {}",
                        reasons.join("; ")
                    ))
                }
                Err(other) => Err(other.into()),
            }
        }
    };
    pool.close().await;
    if let Some(embedded) = embedded {
        embedded.stop().await?;
    }
    outcome
}

/// The configured database, or the app's own PostgreSQL in the data folder.
async fn connect(settings: &Settings) -> anyhow::Result<(PgPool, Option<EmbeddedPostgres>)> {
    let (url, embedded) = match &settings.database_url {
        Some(url) => (url.clone(), None),
        None => {
            let pg =
                EmbeddedPostgres::start(&settings.data_dir, settings.postgres_bin_dir.as_deref())
                    .await?;
            (pg.url(), Some(pg))
        }
    };
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&url)
        .await
        .context("connecting to PostgreSQL")?;
    Ok((pool, embedded))
}

async fn serve(settings: &Settings, pool: PgPool, demo: bool) -> anyhow::Result<()> {
    startup::migrate(&pool).await?;
    let mut settings = settings.clone();
    if demo {
        let created = server::demo::seed(&pool).await?;
        let sandbox = settings.data_dir.join("sandbox");
        server::demo::build_sandbox(&sandbox)
            .with_context(|| format!("building the demo target in {}", sandbox.display()))?;
        let sandbox = sandbox.canonicalize().context("locating the demo target")?;
        let scenario = server::demo::seed_scenario(&pool, &sandbox).await?;
        server::demo::seed_contacts(&pool).await?;
        if let Err(message) = server::demo::prepare_database(&sandbox, server::demo::DEMO_DATABASE)
        {
            tracing::warn!(%message, "no demo database on MariaDB: the demo's restore will fail");
        }
        tracing::info!(created, scenario, "demo data ready");
        settings.demo_sandbox = Some(sandbox);
    }
    let app = Application::build(&settings, pool.clone()).await?;
    let addr = app.local_addr();
    if demo {
        // The plans' health checks ask this server's demo TaskFlow page.
        server::demo::point_health_check(&pool, &format!("http://{addr}/demo/taskflow/")).await?;
        let plans = server::demo::seed_plans(&pool).await?;
        tracing::info!(plans, "demo plans ready");
    }
    println!("Rollback Desk is running at http://{addr}/  (Ctrl-C to stop)");
    if demo {
        println!(
            "Demo accounts: admin@taskflow.example, claire.dubois@taskflow.example, … \
             password `{}` (see README)",
            server::demo::DEMO_PASSWORD
        );
    }
    app.run_until(shutdown_signal()).await?;
    tracing::info!("web server stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

async fn add_user(pool: &PgPool, email: &str, name: &str, roles: &[String]) -> anyhow::Result<()> {
    startup::migrate(pool).await?;
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']);
    let Some(email) = EmailAddress::parse(email) else {
        bail!("invalid email address: {email}");
    };
    let Some(name) = PersonName::parse(name) else {
        bail!("invalid name: it must have 1 to 100 characters");
    };
    let Some(password) = NewPassword::parse(password) else {
        bail!(
            "the password (standard input) must have {} to 256 characters",
            NewPassword::MIN_CHARS
        );
    };
    let Some(roles) = Roles::parse(roles.iter().map(String::as_str)) else {
        bail!("unknown role in {roles:?}: use tech_lead, project_manager, sysadmin, senior_dev_oncall, developer, qa, dba, viewer or admin");
    };
    let account = accounts::create(
        pool,
        &NewAccount {
            email,
            name,
            password,
            roles,
        },
    )
    .await
    .map_err(|e| match e {
        app::backend::AppError::Invalid(_) => {
            anyhow::anyhow!("an account with this email already exists")
        }
        other => other.into(),
    })?;
    println!(
        "added {} ({}) with roles {}",
        account.name,
        account.email,
        account.roles.names().join(", ")
    );
    Ok(())
}
