//! Builds the application once, for `main` and for the tests alike.
use crate::config::Settings;
use crate::web::{assets, deploy_api, gate, health};
use app::backend::AppState;
use app::{shell, App};
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
    #[error("mail settings: {0}")]
    Mailer(crate::mailer::MailerError),
    #[error("the app's secrets could not be read or made: {0}")]
    Secrets(String),
}

/// Runs the app's migrations and the session store's.
pub async fn migrate(pool: &PgPool) -> Result<(), StartupError> {
    sqlx::migrate!("../migrations").run(pool).await?;
    PostgresStore::new(pool.clone()).migrate().await?;
    Ok(())
}

/// The mailer of these settings: SMTP, or `.eml` files in `data_dir/mail`.
pub fn mailer(settings: &Settings, pool: PgPool) -> Result<crate::mailer::Mailer, StartupError> {
    let delivery = crate::mailer::Delivery::from_settings(
        settings.smtp_url.as_deref(),
        settings.data_dir.join("mail"),
    )
    .map_err(StartupError::Mailer)?;
    crate::mailer::Mailer::new(
        pool,
        delivery,
        &settings.mail_from,
        settings.mail_per_second,
    )
    .map(|mailer| {
        mailer.with_retry_window(std::time::Duration::from_secs(
            u64::from(settings.mail_retry_hours) * 3600,
        ))
    })
    .map_err(StartupError::Mailer)
}

/// The web application on an open listener.
pub struct Application {
    listener: TcpListener,
    router: Router,
    session_store: PostgresStore,
    pool: PgPool,
    background_tasks: bool,
    runner_lease: std::time::Duration,
    runner_grace: std::time::Duration,
    asset_origins: Vec<String>,
    runner_stop: tokio_util::sync::CancellationToken,
    mailer: Option<crate::mailer::Mailer>,
    mail_stop: tokio::sync::watch::Sender<bool>,
}

impl Application {
    pub async fn build(settings: &Settings, pool: PgPool) -> Result<Application, StartupError> {
        let listener =
            TcpListener::bind(settings.bind)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: settings.bind,
                    source,
                })?;
        let pool_for_mailer = pool.clone();
        let session_store = PostgresStore::new(pool.clone());
        record_public_base(settings, &listener, &pool).await?;
        let visit_key = app::backend::session::VisitKey::load(&pool)
            .await
            .map_err(|e| StartupError::Secrets(e.to_string()))?;
        let router = router(settings, pool.clone(), session_store.clone(), visit_key);
        Ok(Application {
            listener,
            router,
            session_store,
            pool,
            background_tasks: settings.background_tasks,
            runner_lease: std::time::Duration::from_secs(u64::from(settings.runner_lease_seconds)),
            asset_origins: settings.asset_origins.clone(),
            runner_grace: std::time::Duration::from_secs(u64::from(
                settings.runner_shutdown_grace_seconds,
            )),
            runner_stop: tokio_util::sync::CancellationToken::new(),
            mailer: Some(mailer(settings, pool_for_mailer)?),
            mail_stop: tokio::sync::watch::channel(false).0,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Expired sessions and stale sign-in failures are deleted hourly, overdue incidents marked every 30 s, the targets'
    /// inventories read every 10 minutes.
    #[allow(clippy::type_complexity)]
    fn spawn_background_tasks(
        &mut self,
    ) -> (
        Vec<tokio::task::JoinHandle<()>>,
        Option<tokio::task::JoinHandle<()>>,
        Option<tokio::task::JoinHandle<()>>,
    ) {
        // Expired sessions are deleted hourly so that the table does not grow forever.
        let store = self.session_store.clone();
        let cleanup = tokio::spawn(async move {
            let every = tokio::time::Duration::from_secs(3600);
            if let Err(err) = store.continuously_delete_expired(every).await {
                tracing::warn!(error = %err, "session clean-up stopped");
            }
        });
        // Failed sign-ins that no longer count, devices unused for 90 days and form tokens older
        // than a day, hourly.
        let sign_in_purge = tokio::spawn({
            let pool = self.pool.clone();
            async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
                loop {
                    tick.tick().await;
                    let now = chrono::Utc::now();
                    match app::backend::sign_in::purge(&pool, now).await {
                        Ok(purged) => tracing::debug!(purged, "sign-in rows purged"),
                        Err(err) => tracing::warn!(error = %err, "sign-in purge failed"),
                    }
                    match app::backend::submissions::purge(&pool, now).await {
                        Ok(purged) => tracing::debug!(purged, "form tokens purged"),
                        Err(err) => tracing::warn!(error = %err, "form token purge failed"),
                    }
                    match app::backend::pending_posts::purge(&pool, now).await {
                        Ok(purged) => tracing::debug!(purged, "pending posts purged"),
                        Err(err) => tracing::warn!(error = %err, "pending post purge failed"),
                    }
                }
            }
        });
        let overdue = tokio::spawn(crate::overdue::watch(
            self.pool.clone(),
            std::time::Duration::from_secs(30),
        ));
        // The targets' inventories are read again every 10 minutes.
        let inventory = tokio::spawn({
            let pool = self.pool.clone();
            async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
                loop {
                    tick.tick().await;
                    if let Err(err) = app::backend::inventory::refresh_all(&pool).await {
                        tracing::warn!(error = %err, "periodic inventory failed");
                    }
                }
            }
        });
        // The runner executes queued plans; at shutdown it lets running steps end (run_until).
        let runner = tokio::spawn(
            crate::runner::Runner::new(self.pool.clone(), self.runner_lease)
                .with_shutdown(self.runner_stop.clone(), self.runner_grace)
                .with_asset_origins(self.asset_origins.clone())
                .run(std::time::Duration::from_secs(1)),
        );
        let tasks = vec![cleanup, sign_in_purge, overdue, inventory];
        // The mailer delivers the outbox; at shutdown it finishes its batch (see run_until).
        let mailer = self.mailer.take().map(|mailer| {
            tokio::spawn(mailer.run(
                std::time::Duration::from_secs(2),
                self.mail_stop.subscribe(),
            ))
        });
        (tasks, Some(runner), mailer)
    }

    /// Serves until `shutdown` completes, then lets running requests finish.
    pub async fn run_until(
        mut self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let (tasks, runner, mailer) = if self.background_tasks {
            self.spawn_background_tasks()
        } else {
            (Vec::new(), None, None)
        };
        let result = axum::serve(
            self.listener,
            // The client address throttles failed sign-ins per address.
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartupError::Serve);
        for task in tasks {
            task.abort();
        }
        // The runner starts nothing new and waits for running steps (up to its grace period,
        // then it kills them and records it).
        if let Some(runner) = runner {
            tracing::info!("stopping: waiting for running steps");
            self.runner_stop.cancel();
            let limit = self.runner_grace + std::time::Duration::from_secs(30);
            if tokio::time::timeout(limit, runner).await.is_err() {
                tracing::error!("the runner did not stop in time");
            }
        }
        // The mailer ends its batch: every message it sent is recorded as sent.
        if let Some(mailer) = mailer {
            let _ = self.mail_stop.send(true);
            let _ = tokio::time::timeout(std::time::Duration::from_secs(60), mailer).await;
        }
        result
    }
}

/// The demo's TaskFlow page (only with `serve --demo`): what the health check of the demo's
/// environment asks, served through the sandbox's `current` link.
fn demo_site(settings: &Settings) -> Router {
    let Some(sandbox) = settings.demo_sandbox.clone() else {
        return Router::new();
    };
    Router::new().route(
        "/demo/taskflow/",
        get(move || {
            let sandbox = sandbox.clone();
            async move {
                let (status, text) = crate::demo::taskflow_page(&sandbox);
                (
                    http::StatusCode::from_u16(status)
                        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
                    text,
                )
            }
        }),
    )
}

/// The pages' routes, generated once per process. Generating them switches on a process-wide
/// flag of `leptos_server` that stops every resource from loading (leptos-rs/leptos#4773); a
/// page that started rendering in that instant, in any app of the process, waited forever for
/// a resource that never loaded. The suite builds many apps in one process: it hung that way
/// (`tests/rendering.rs`). Pages used to render on a single-threaded pool against suspected
/// waker races; measured, it cost 10–35 % of throughput and the suite ran 20 times without it
/// and without a hang, so pages render on the shared runtime like every request.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(
    settings: &Settings,
    pool: PgPool,
    session_store: PostgresStore,
    visit_key: app::backend::session::VisitKey,
) -> Router {
    let state = AppState {
        pool: pool.clone(),
        sign_in_policy: settings.sign_in_policy(),
        approval_policy: settings.approval_policy(),
        mail_dir: settings
            .smtp_url
            .is_none()
            .then(|| settings.data_dir.join("mail")),
        secure_cookies: settings.secure_cookies(),
        figures: Default::default(),
    };
    let leptos_options = LeptosOptions::builder()
        .output_name("rollback-desk")
        .site_addr(settings.bind)
        .build();
    let routes = route_list();
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let pages = Router::new()
        .leptos_routes_with_context(&leptos_options, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::render_app_to_stream_with_context(context, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        }))
        .with_state(leptos_options);

    let idle = time::Duration::hours(settings.session_idle_hours.max(1).into());
    let sessions = SessionManagerLayer::new(session_store)
        .with_name("rollback_desk_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure_cookies())
        .with_expiry(Expiry::OnInactivity(idle));
    // The recipient-list upload: a plain multipart form behind the same gate.
    let uploads = Router::new()
        .route(
            "/incidents/{id}/recipients",
            axum::routing::post(crate::web::recipients::upload),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::web::recipients::MAX_UPLOAD_BYTES,
        ))
        .route(
            "/incidents/{id}/post-mortem.md",
            get(crate::web::export::post_mortem),
        )
        .route(
            "/history/rollbacks.csv",
            get(crate::web::export::rollbacks_csv),
        )
        // `/admin` lands on the first admin page.
        .route(
            "/admin",
            get(|| async { axum::response::Redirect::to("/admin/users") }),
        )
        .with_state(state.clone());
    let gate_state = gate::GateState {
        app: state,
        public_origin: settings.public_url.as_deref().map(origin_of),
        visit_key,
        secure_cookies: settings.secure_cookies(),
    };
    let pages = pages
        .merge(uploads)
        .layer(axum::middleware::from_fn(crate::web::api_errors::answer))
        .layer(axum::middleware::from_fn_with_state(gate_state, gate::gate))
        .layer(sessions);

    let deploy_api = deploy_api::DeployApi {
        pool: pool.clone(),
        token: settings
            .deploy_api_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(Into::into),
    };
    Router::new()
        .route(
            "/api/v1/deployments",
            axum::routing::post(deploy_api::record),
        )
        .with_state(deploy_api)
        .route(
            "/api/v1/alerts/alertmanager",
            axum::routing::post(crate::web::alerts_api::receive),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(pool)
        .merge(demo_site(settings))
        .route("/style/main.css", get(assets::stylesheet))
        .route("/style/enhance.js", get(assets::script))
        .route("/style/favicon.svg", get(assets::favicon))
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(
            crate::web::host::KnownHost::from_public_url(settings.public_url.as_deref()),
            crate::web::host::known_host,
        ))
        .layer(axum::middleware::from_fn_with_state(
            crate::web::headers::Hsts(settings.secure_cookies()),
            crate::web::headers::security_headers,
        ))
}

/// Records the address users reach the app at, for the links of automatic emails: `public_url`,
/// else the address it listens on (`localhost` for an unspecified one).
async fn record_public_base(
    settings: &Settings,
    listener: &TcpListener,
    pool: &PgPool,
) -> Result<(), StartupError> {
    let base = match settings.public_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let addr = listener.local_addr().unwrap_or(settings.bind);
            if addr.ip().is_unspecified() {
                format!("http://localhost:{}", addr.port())
            } else {
                format!("http://{addr}")
            }
        }
    };
    sqlx::query(
        "INSERT INTO app_settings (name, value) VALUES ('public_base', $1)
         ON CONFLICT (name) DO UPDATE SET value = $1",
    )
    .bind(&base)
    .execute(pool)
    .await?;
    Ok(())
}

/// `https://desk.example.com/some/path` → `https://desk.example.com`.
fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split('/').next().unwrap_or(rest);
            format!("{scheme}://{authority}")
        }
        None => url.trim_end_matches('/').to_owned(),
    }
}
