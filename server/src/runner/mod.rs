//! The runner: a background worker of the server that claims queued executions (several
//! server processes may share one database: `FOR UPDATE SKIP LOCKED` and a lease make each
//! execution run in one place) and runs their steps in order, renewing its lease while a
//! step runs. It stops at the first failed step. If it dies, the lease expires and another
//! runner marks the execution `interrupted`; nothing is run again until a person says so.
//!
//! Its work runs as independent tasks ([`Runner::run`]): the rescue of dead executions (every
//! second), the dispatch of queued executions (woken by `NOTIFY`, one task per execution; the
//! database allows one active execution per environment), the §6.1 checklist items and the
//! §6.3 monitoring checks — so that a long step (or a slow check) never delays another
//! incident's check or the detection of a dead server.
//!
//! Faults it survives:
//! - the database going away while a step runs: renewals and the step's result are retried
//!   until it is back; the step goes on (only a lease really taken by another runner stops
//!   it);
//! - its own death: each step runs in a process group that dies with it ([`process`]), and a
//!   retry is refused while a process of the group lives;
//! - a shutdown (SIGTERM): no new execution or step is started; the running step may finish
//!   within the grace period (then its group is killed and that recorded), and the execution
//!   is left `interrupted`, to be resumed by a person.
pub mod checks;
pub mod executor;
pub mod process;
mod verification;

use app::backend::executions::{self, Claimed, Next, StepOutcome};
use app::backend::AppError;
use app::domain::runner_note::Note;
use executor::Executor;
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How long a stopping server lets a running step finish, by default (`RBD_RUNNER_SHUTDOWN_GRACE_SECONDS`).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(300);

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
    /// Origins besides the health URL's whose assets the §6.1 check fetches (a CDN).
    asset_origins: Arc<[String]>,
    /// Cancelled when the server stops.
    stop: CancellationToken,
    grace: Duration,
    /// The executions this runner is running now (never taken for dead by its own sweep).
    running: Arc<Mutex<HashSet<i64>>>,
    /// This machine, as recorded with the steps' process groups.
    host: Arc<str>,
}

/// The two kinds of §6 work, each a task of its own.
#[derive(Debug, Clone, Copy)]
enum Verification {
    /// §6.1: the automatic items of a checklist.
    ChecklistItems,
    /// §6.3: the checks of a monitoring window, each at its due time.
    Monitoring,
}

/// How one step's run ended.
enum StepRun {
    Ended(StepOutcome),
    /// Another runner took the execution for dead: the step was stopped (its group killed).
    LeaseLost,
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
            asset_origins: Arc::from(Vec::new()),
            stop: CancellationToken::new(),
            grace: SHUTDOWN_GRACE,
            running: Arc::default(),
            host: app::backend::step_processes::this_host().into(),
        }
    }

    /// The same runner with another executor (e.g. a shorter command timeout).
    pub fn with_executor(mut self, executor: Executor) -> Runner {
        self.executor = executor;
        self
    }

    /// The same runner, also fetching the §6.1 assets of `origins` (`RBD_ASSET_ORIGINS`).
    pub fn with_asset_origins(mut self, origins: Vec<String>) -> Runner {
        self.asset_origins = origins.into();
        self
    }

    /// The same runner, stopping when `stop` is cancelled and letting a running step finish
    /// for `grace`.
    pub fn with_shutdown(mut self, stop: CancellationToken, grace: Duration) -> Runner {
        self.stop = stop;
        self.grace = grace;
        self
    }

    /// Works until stopped, as independent tasks: the sweep of expired leases, the dispatch
    /// of queued executions (polled every `idle`, and woken at once by `NOTIFY`), and the §6
    /// checks. Returns when stopped and every running execution has left its step.
    pub async fn run(self, idle: Duration) {
        let sweeper = tokio::spawn(self.clone().sweep());
        let items = tokio::spawn(
            self.clone()
                .verify_forever(idle, Verification::ChecklistItems),
        );
        let monitoring = tokio::spawn(self.clone().verify_forever(idle, Verification::Monitoring));
        self.dispatch(idle).await;
        sweeper.abort();
        items.abort();
        monitoring.abort();
    }

    /// Every second: executions whose runner died become interrupted (within one lease).
    async fn sweep(self) {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            let here: Vec<i64> = self.running_here();
            match executions::expire_leases(&self.pool, &here).await {
                Ok(0) => {}
                Ok(expired) => {
                    tracing::warn!(expired, "executions interrupted (their runner stopped)")
                }
                Err(err) => tracing::warn!(error = %err, "runner: lease sweep"),
            }
        }
    }

    fn running_here(&self) -> Vec<i64> {
        self.running
            .lock()
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default()
    }

    /// One kind of §6 check, one after another, on time whatever the executions (and the
    /// other kind) do.
    async fn verify_forever(self, idle: Duration, kind: Verification) {
        loop {
            let now = chrono::Utc::now();
            let done = match kind {
                Verification::ChecklistItems => self.check_next_item(now).await,
                Verification::Monitoring => self.take_due_check(now).await,
            };
            match done {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, ?kind, "runner: verification"),
            }
            tokio::time::sleep(idle).await;
        }
    }

    /// Claims queued executions and runs each in a task of its own.
    async fn dispatch(&self, idle: Duration) {
        let mut listener: Option<sqlx::postgres::PgListener> = None;
        let mut executions = tokio::task::JoinSet::new();
        while !self.stop.is_cancelled() {
            if listener.is_none() {
                listener = self.listen().await;
            }
            loop {
                match executions::claim(&self.pool, self.owner, self.lease).await {
                    Ok(Some(claimed)) => {
                        let runner = self.clone();
                        executions.spawn(async move { runner.execute(claimed).await });
                    }
                    Ok(None) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "runner: claim");
                        break;
                    }
                }
            }
            let woken = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.stop.cancelled() => {}
                _ = tokio::time::sleep(idle) => {}
                Some(ended) = executions.join_next() => {
                    if let Err(err) = ended {
                        tracing::error!(error = %err, "runner: an execution's task ended abnormally");
                    }
                }
                heard = woken => {
                    if let Err(err) = heard {
                        tracing::warn!(error = %err, "runner: lost the queue's notifications (polling)");
                        listener = None;
                    }
                }
            }
        }
        // Stopping: every running execution ends its step (within the grace period).
        while executions.join_next().await.is_some() {}
    }

    async fn listen(&self) -> Option<sqlx::postgres::PgListener> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(|err| tracing::warn!(error = %err, "runner: LISTEN (polling instead)"))
            .ok()?;
        listener
            .listen(executions::QUEUED_CHANNEL)
            .await
            .map_err(|err| tracing::warn!(error = %err, "runner: LISTEN (polling instead)"))
            .ok()?;
        Some(listener)
    }

    /// One round, one thing after another (tests): the next execution if one is queued, else
    /// one check of verification (§6). Returns whether it did something.
    pub async fn tick(&self) -> Result<bool, AppError> {
        if self.execute_next().await? {
            return Ok(true);
        }
        self.verify(chrono::Utc::now()).await
    }

    /// Marks executions whose lease expired as interrupted, then runs the oldest queued one as
    /// far as it goes. Returns whether it ran one.
    pub async fn execute_next(&self) -> Result<bool, AppError> {
        let expired = executions::expire_leases(&self.pool, &self.running_here()).await?;
        if expired > 0 {
            tracing::warn!(expired, "executions interrupted (their runner stopped)");
        }
        let Some(claimed) = executions::claim(&self.pool, self.owner, self.lease).await? else {
            return Ok(false);
        };
        self.execute(claimed).await;
        Ok(true)
    }

    async fn execute(&self, claimed: Claimed) {
        tracing::info!(
            execution = claimed.id,
            incident = claimed.incident,
            "execution claimed"
        );
        if let Ok(mut running) = self.running.lock() {
            running.insert(claimed.id);
        }
        self.run_steps(&claimed).await;
        if let Ok(mut running) = self.running.lock() {
            running.remove(&claimed.id);
        }
        // The target changed (or may have): read it again, so that every page shows where
        // `current` points now and plans relying on the old facts become stale.
        match app::backend::inventory::refresh(&self.pool, claimed.environment).await {
            Ok(Some(Err(message))) => {
                tracing::warn!(environment = %claimed.environment, %message, "inventory after an execution")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "inventory after an execution"),
        }
    }

    /// Runs a bookkeeping query until the database answers: 0.5 s, 1 s, 2 s … 10 s apart.
    /// `None` when it fails otherwise than by an unreachable database, or when the server
    /// stops (and the grace period is over) before it answered.
    async fn persist<T, F, Fut>(&self, what: &str, mut query: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        let mut wait = Duration::from_millis(500);
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            match query().await {
                Ok(value) => return Some(value),
                Err(err) if err.is_unavailable() => {
                    tracing::warn!(error = %err, what, "runner: database unreachable, retrying")
                }
                Err(err) => {
                    // Not a blip: retrying would fail the same way. The execution's lease runs
                    // out and it becomes interrupted, for a person to look at.
                    tracing::error!(error = %err, what, "runner: bookkeeping failed");
                    return None;
                }
            }
            if self.stop.is_cancelled() {
                let at = *deadline.get_or_insert_with(|| tokio::time::Instant::now() + self.grace);
                if tokio::time::Instant::now() >= at {
                    tracing::error!(what, "runner: stopping before the database came back");
                    return None;
                }
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(10));
        }
    }

    async fn run_steps(&self, claimed: &Claimed) {
        // The settings as they were when the execution was queued, never the live ones.
        let config = claimed.config.clone();
        let mut maintenance_file = claimed.maintenance_file.clone();
        loop {
            if self.stop.is_cancelled() {
                // No new step on a stopping server: the execution waits for a person.
                let stopped = self
                    .persist("interrupt", || {
                        executions::interrupt_for_shutdown(&self.pool, claimed.id, self.owner)
                    })
                    .await;
                tracing::warn!(
                    execution = claimed.id,
                    ?stopped,
                    "execution interrupted: the server stops"
                );
                return;
            }
            let Some(next) = self
                .persist("advance", || {
                    executions::advance(&self.pool, claimed.id, self.owner)
                })
                .await
            else {
                return;
            };
            let Next::Run { position, attempt } = next else {
                tracing::info!(execution = claimed.id, ?next, "execution stops");
                return;
            };
            tracing::info!(
                execution = claimed.id,
                step = position + 1,
                attempt,
                "step starts"
            );
            let outcome = match (claimed.steps.get(position), &config) {
                (None, _) => StepOutcome {
                    output: Note::StepOutOfRange.line(),
                    ..Default::default()
                },
                (Some(_), None) => StepOutcome {
                    output: Note::QueuedWithoutSettings.line(),
                    ..Default::default()
                },
                (Some(step), Some(config)) => {
                    match self
                        .run_step(
                            claimed.id,
                            position,
                            attempt,
                            config,
                            &step.operation,
                            maintenance_file.as_deref(),
                        )
                        .await
                    {
                        StepRun::Ended(outcome) => outcome,
                        StepRun::LeaseLost => {
                            tracing::warn!(
                                execution = claimed.id,
                                "lease lost during a step: stopped"
                            );
                            return;
                        }
                    }
                }
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
            let recorded = self
                .persist("end of step", || {
                    executions::end_step(
                        &self.pool, claimed.id, self.owner, position, attempt, &outcome,
                    )
                })
                .await;
            if recorded != Some(true) || !outcome.succeeded {
                return;
            }
        }
    }

    /// Runs one step while renewing the lease, recording its process group and watching for a
    /// kill request and the server's stop. A database that does not answer stops none of it.
    async fn run_step(
        &self,
        execution: i64,
        position: usize,
        attempt: i32,
        config: &app::domain::environment::EnvironmentConfig,
        operation: &app::domain::runbook::Operation,
        maintenance_file: Option<&str>,
    ) -> StepRun {
        let killed = |why: String| {
            StepRun::Ended(StepOutcome {
                output: why,
                ..Default::default()
            })
        };
        // Never two runs of one command at once (an earlier attempt cut short by a crash).
        let earlier = self
            .persist("earlier attempt", || async {
                let mut tx = self.pool.begin().await?;
                Ok(app::backend::step_processes::earlier_attempt_running(
                    &mut tx, execution, position,
                )
                .await?)
            })
            .await
            .flatten();
        if let Some(earlier) = earlier.filter(|e| e.elsewhere.is_none()) {
            return killed(
                Note::EarlierAttemptRunning {
                    step: earlier.step,
                    group: earlier.process_group,
                }
                .line(),
            );
        }
        let (groups, mut started) = tokio::sync::mpsc::unbounded_channel();
        let live = process::LiveOutput::default();
        let mut shown = 0;
        let work = process::reporting(
            groups,
            process::live(
                live.clone(),
                self.executor.run(config, operation, maintenance_file),
            ),
        );
        tokio::pin!(work);
        let mut renewal = tokio::time::interval(self.lease / 3);
        renewal.tick().await;
        let mut every_second = tokio::time::interval(Duration::from_secs(1));
        let mut unrecorded: Vec<i32> = Vec::new();
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                outcome = &mut work => {
                    return StepRun::Ended(outcome);
                }
                Some(group) = started.recv() => {
                    unrecorded.push(group);
                    self.record_groups(execution, position, attempt, &mut unrecorded).await;
                }
                _ = renewal.tick() => {
                    match executions::renew(&self.pool, execution, self.owner, self.lease).await {
                        Ok(true) => {}
                        // Dropping the step's future kills its process group.
                        Ok(false) => return StepRun::LeaseLost,
                        Err(err) => tracing::warn!(error = %err, execution, "runner: lease renewal failed; the step goes on"),
                    }
                }
                _ = every_second.tick() => {
                    self.record_groups(execution, position, attempt, &mut unrecorded).await;
                    // What the step printed so far, for its page (the end replaces it).
                    let so_far = live.lock().map(|l| l.clone()).unwrap_or_default();
                    if so_far.len() != shown {
                        match executions::record_live_output(&self.pool, execution, position, attempt, &so_far).await {
                            Ok(()) => shown = so_far.len(),
                            Err(err) => tracing::warn!(error = %err, execution, "runner: live output not recorded"),
                        }
                    }
                    match executions::kill_requested(&self.pool, execution).await {
                        Ok(Some(who)) => return killed(Note::KilledOnRequest { by: who.to_string() }.line()),
                        Ok(None) => {}
                        Err(err) => tracing::warn!(error = %err, execution, "runner: kill check failed"),
                    }
                    if deadline.is_some_and(|at| tokio::time::Instant::now() >= at) {
                        return killed(Note::KilledAtShutdown { seconds: self.grace.as_secs() }.line());
                    }
                }
                _ = self.stop.cancelled(), if deadline.is_none() => {
                    tracing::warn!(execution, step = position + 1, grace = self.grace.as_secs(),
                        "the server stops: waiting for the running step");
                    deadline = Some(tokio::time::Instant::now() + self.grace);
                }
            }
        }
    }

    async fn record_groups(
        &self,
        execution: i64,
        position: usize,
        attempt: i32,
        groups: &mut Vec<i32>,
    ) {
        while let Some(&group) = groups.first() {
            match executions::record_process(
                &self.pool, execution, position, attempt, group, &self.host,
            )
            .await
            {
                Ok(()) => {
                    groups.remove(0);
                }
                Err(err) => {
                    tracing::warn!(error = %err, execution, "runner: could not record a process group yet");
                    return;
                }
            }
        }
    }
}
