//! The rollback history (§11.2) and its figures: how often, how fast to decide (against the
//! 30-minute deadline of §2.2), how fast to restore (against the §3 estimates), and the mean
//! time to restore. Computed from the rows alone, so the page and the tests agree.
use crate::domain::{IncidentState, RollbackType};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One incident that had a rollback, as the history shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct RollbackRow {
    pub incident: i64,
    pub title: String,
    pub environment: String,
    pub kind: RollbackType,
    pub from_release: Option<String>,
    pub to_release: Option<String>,
    pub backup: Option<String>,
    pub approvers: Vec<String>,
    pub detected_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// When service came back (the successful execution's end).
    pub restored_at: Option<DateTime<Utc>>,
    pub state: IncidentState,
    /// The rollback's execution succeeded with steps a person skipped.
    #[serde(default)]
    pub skipped_steps: bool,
}

fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    to.signed_duration_since(from).num_minutes()
}

impl RollbackRow {
    /// Detection → decision.
    pub fn to_decide(&self) -> Option<i64> {
        self.decided_at.map(|d| minutes(self.detected_at, d))
    }

    /// Decision → restore done.
    pub fn to_restore(&self) -> Option<i64> {
        Some(minutes(self.decided_at?, self.restored_at?))
    }

    /// Detection → restore done.
    pub fn downtime(&self) -> Option<i64> {
        self.restored_at.map(|r| minutes(self.detected_at, r))
    }
}

/// §2.2: the decision within 30 minutes of detection.
pub const DECISION_DEADLINE_MINUTES: i64 = 30;

/// §3: the estimated duration of each kind of rollback, in minutes.
pub fn estimate(kind: RollbackType) -> (i64, i64) {
    match kind {
        RollbackType::Application => (5, 10),
        RollbackType::ApplicationDatabase => (15, 30),
        RollbackType::System => (30, 60),
    }
}

/// The figures of a set of rollbacks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Figures {
    /// `YYYY-MM` → rollbacks of each kind (application, application + database, system).
    pub per_month: Vec<(String, [usize; 3])>,
    /// Incidents decided, and those decided within 30 minutes.
    pub decided: usize,
    pub decided_in_time: usize,
    /// Restores done, and those within the §3 estimate of their kind (per kind, same order).
    pub restored: [usize; 3],
    pub restored_in_estimate: [usize; 3],
    /// Mean detection → restore, in minutes (MTTR).
    pub mean_time_to_restore: Option<f64>,
}

pub fn kind_index(kind: RollbackType) -> usize {
    match kind {
        RollbackType::Application => 0,
        RollbackType::ApplicationDatabase => 1,
        RollbackType::System => 2,
    }
}
