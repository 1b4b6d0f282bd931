//! The runner: a background worker of the server that claims queued executions (several
//! server processes may share one database: `FOR UPDATE SKIP LOCKED` and a lease make each
//! execution run in one place) and runs their steps in order, renewing its lease while a
//! step runs. It stops at the first failed step. If it dies, the lease expires and another
//! runner marks the execution `interrupted`; nothing is run again until a person says so.
pub mod checks;
pub mod executor;
mod verification;

use app::backend::executions::{self, Claimed, Next};
use app::backend::AppError;
use executor::Executor;
use std::time::Duration;
use uuid::Uuid;

#[derive(Clone)]
pub struct Runner {
    pool: sqlx::PgPool,
    /// This runner's identity in leases.
    owner: Uuid,
    lease: Duration,
    executor: Executor,
    /// For the §6.1 checks: one client that reports redirects, one that follows them.
    http: reqwest::Client,
    follow: reqwest::Client,
}

impl Runner {
    pub fn new(pool: sqlx::PgPool, lease: Duration) -> Runner {
        Runner {
            pool,
            owner: Uuid::new_v4(),
            lease: lease.max(Duration::from_secs(1)),
            executor: Executor::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            follow: reqwest::Client::new(),
        }
    }

    /// The same runner with another executor (e.g. a shorter command timeout).
    pub fn with_executor(mut self, executor: Executor) -> Runner {
        self.executor = executor;
        self
    }

    /// Works forever: expired leases, then the next queued execution; sleeps `idle` when
    /// there is nothing to do.
    pub async fn run(self, idle: Duration) {
        loop {
            match self.tick().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, "runner"),
            }
            tokio::time::sleep(idle).await;
        }
    }

    /// One round: the next execution if one is queued, else one check of verification (§6).
    /// Returns whether it did something.
    pub async fn tick(&self) -> Result<bool, AppError> {
        if self.execute_next().await? {
            return Ok(true);
        }
        self.verify(chrono::Utc::now()).await
    }

    /// Marks executions whose lease expired as interrupted, then runs the oldest queued one as
    /// far as it goes. Returns whether it ran one.
    pub async fn execute_next(&self) -> Result<bool, AppError> {
        let expired = executions::expire_leases(&self.pool).await?;
        if expired > 0 {
            tracing::warn!(expired, "executions interrupted (their runner stopped)");
        }
        let Some(claimed) = executions::claim(&self.pool, self.owner, self.lease).await? else {
            return Ok(false);
        };
        tracing::info!(
            execution = claimed.id,
            incident = claimed.incident,
            "execution claimed"
        );
        self.execute(claimed).await?;
        Ok(true)
    }

    async fn execute(&self, claimed: Claimed) -> Result<(), AppError> {
        let result = self.run_steps(&claimed).await;
        // The target changed (or may have): read it again, so that every page shows where
        // `current` points now and plans relying on the old facts become stale.
        match app::backend::inventory::refresh(&self.pool, claimed.environment).await {
            Ok(Some(Err(message))) => {
                tracing::warn!(environment = %claimed.environment, %message, "inventory after an execution")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "inventory after an execution"),
        }
        result
    }

    async fn run_steps(&self, claimed: &Claimed) -> Result<(), AppError> {
        // The settings as they were when the execution was queued, never the live ones.
        let config = claimed.config.clone();
        let mut maintenance_file = claimed.maintenance_file.clone();
        loop {
            let next = executions::advance(&self.pool, claimed.id, self.owner).await?;
            let Next::Run { position, attempt } = next else {
                tracing::info!(execution = claimed.id, ?next, "execution stops");
                return Ok(());
            };
            let Some(step) = claimed.steps.get(position) else {
                return Err(AppError::Internal("step out of range".into()));
            };
            tracing::info!(
                execution = claimed.id,
                step = position + 1,
                attempt,
                "step starts"
            );
            let outcome = match &config {
                Some(config) => {
                    self.run_step(
                        claimed.id,
                        config,
                        &step.operation,
                        maintenance_file.as_deref(),
                    )
                    .await?
                }
                None => Some(executions::StepOutcome {
                    output: "this execution was queued before executions kept the environment's \
                             settings: abort it and execute the plan again"
                        .into(),
                    ..Default::default()
                }),
            };
            let Some(outcome) = outcome else {
                // The lease is gone (another runner declared us dead): drop the step, which
                // kills its process, and leave the execution to people.
                tracing::warn!(execution = claimed.id, "lease lost during a step");
                return Ok(());
            };
            tracing::info!(
                execution = claimed.id,
                step = position + 1,
                succeeded = outcome.succeeded,
                exit_code = ?outcome.exit_code,
                "step ends"
            );
            if outcome.maintenance_file.is_some() {
                maintenance_file = outcome.maintenance_file.clone();
            }
            let recorded = executions::end_step(
                &self.pool, claimed.id, self.owner, position, attempt, &outcome,
            )
            .await?;
            if !recorded || !outcome.succeeded {
                return Ok(());
            }
        }
    }

    /// Runs one step while renewing the lease and watching for a kill request. `None`: the
    /// lease was lost.
    async fn run_step(
        &self,
        execution: i64,
        config: &app::domain::environment::EnvironmentConfig,
        operation: &app::domain::runbook::Operation,
        maintenance_file: Option<&str>,
    ) -> Result<Option<executions::StepOutcome>, AppError> {
        let work = self.executor.run(config, operation, maintenance_file);
        tokio::pin!(work);
        let mut renewal = tokio::time::interval(self.lease / 3);
        renewal.tick().await;
        let mut kill_check = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                outcome = &mut work => return Ok(Some(outcome)),
                _ = renewal.tick() => {
                    if !executions::renew(&self.pool, execution, self.owner, self.lease).await? {
                        return Ok(None);
                    }
                }
                _ = kill_check.tick() => {
                    if let Some(who) = executions::kill_requested(&self.pool, execution).await? {
                        // Dropping the step's future kills its process.
                        return Ok(Some(executions::StepOutcome {
                            output: format!("killed at the request of user {who}"),
                            ..Default::default()
                        }));
                    }
                }
            }
        }
    }
}
