//! The runner's part of verification (§6): it checks the automatic items of the §6.1
//! checklist (queued when an execution succeeds, or again when a person asks), and takes the
//! automatic checks of the §6.3 monitoring window at each due time.
use super::checks::{self, CheckResult};
use super::Runner;
use app::backend::{environments, verification, AppError};
use app::domain::environment::EnvironmentConfig;
use app::domain::verification::ChecklistItem;
use app::records::CheckResultRecord;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// §6.1: "performance is normal (response time < 2 s)".
const RESPONSE_LIMIT: Duration = Duration::from_secs(2);
const RESPONSE_SAMPLES: usize = 5;
/// §6.2 reads `var/log/prod.log` in the current release, its last 50 lines.
const LOG_FILE: &str = "var/log/prod.log";
const LOG_LINES: usize = 50;

impl Runner {
    /// One automatic item, or one due monitoring check, as of `now`. Returns whether it did
    /// one. Tests pass their own `now` to walk the 2-hour window.
    pub async fn verify(&self, now: DateTime<Utc>) -> Result<bool, AppError> {
        if self.check_next_item(now).await? {
            return Ok(true);
        }
        self.take_due_check(now).await
    }

    /// One queued automatic item of a §6.1 checklist, if any.
    pub async fn check_next_item(&self, now: DateTime<Utc>) -> Result<bool, AppError> {
        if let Some(claimed) = verification::claim_item(&self.pool, self.lease).await? {
            let result = match environments::config(&self.pool, claimed.environment).await? {
                Some(config) => self.check(&config, claimed.item).await,
                None => CheckResult {
                    passed: false,
                    evidence: "the environment is gone".into(),
                },
            };
            tracing::info!(
                incident = claimed.incident,
                item = %claimed.item,
                passed = result.passed,
                "checklist item checked"
            );
            verification::record_item(&self.pool, &claimed, result.passed, &result.evidence, now)
                .await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// One due check of a §6.3 monitoring window, if any.
    pub async fn take_due_check(&self, now: DateTime<Utc>) -> Result<bool, AppError> {
        if let Some(claimed) = verification::claim_due_check(&self.pool, now, self.lease).await? {
            let mut results = Vec::new();
            if let Some(config) = environments::config(&self.pool, claimed.environment).await? {
                for item in ChecklistItem::automatic() {
                    let r = self.check(&config, item).await;
                    results.push(CheckResultRecord {
                        item,
                        passed: r.passed,
                        evidence: r.evidence,
                    });
                }
            }
            let passed = !results.is_empty() && results.iter().all(|r| r.passed);
            tracing::info!(
                incident = claimed.incident,
                slot = claimed.slot,
                passed,
                "monitoring check taken"
            );
            verification::record_check(&self.pool, &claimed, &results, now).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Runs the check of one automatic item against the environment.
    pub async fn check(&self, config: &EnvironmentConfig, item: ChecklistItem) -> CheckResult {
        let url = config.health_url.as_str();
        match item {
            ChecklistItem::MainUrl => checks::main_url(&self.http, url).await,
            ChecklistItem::HomePage => checks::home_page(&self.follow, url).await,
            ChecklistItem::Assets => checks::assets(&self.follow, url, &self.asset_origins).await,
            ChecklistItem::Performance => {
                checks::response_time(&self.http, url, RESPONSE_SAMPLES, RESPONSE_LIMIT).await
            }
            ChecklistItem::Database => checks::database(&self.executor, config).await,
            ChecklistItem::Logs => {
                let log = format!("{}/{LOG_FILE}", config.current_link.trim_end_matches('/'));
                checks::log_tail(config, &log, LOG_LINES).await
            }
            // Ticked by people; never queued for the runner.
            ChecklistItem::SignIn
            | ChecklistItem::MainFeatures
            | ChecklistItem::Emails
            | ChecklistItem::Sessions => CheckResult {
                passed: false,
                evidence: "checked by a person".into(),
            },
        }
    }
}
