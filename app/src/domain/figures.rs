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

/// The figures of `rows`; months are counted in `tz`.
pub fn figures(rows: &[RollbackRow], tz: chrono_tz::Tz) -> Figures {
    let mut f = Figures::default();
    let mut months: std::collections::BTreeMap<String, [usize; 3]> = Default::default();
    let mut downtimes = Vec::new();
    for r in rows {
        let month = r.detected_at.with_timezone(&tz).format("%Y-%m").to_string();
        months.entry(month).or_default()[kind_index(r.kind)] += 1;
        if let Some(m) = r.to_decide() {
            f.decided += 1;
            if m <= DECISION_DEADLINE_MINUTES {
                f.decided_in_time += 1;
            }
        }
        if let Some(m) = r.to_restore() {
            let k = kind_index(r.kind);
            f.restored[k] += 1;
            if m <= estimate(r.kind).1 {
                f.restored_in_estimate[k] += 1;
            }
        }
        if let Some(d) = r.downtime() {
            downtimes.push(d as f64);
        }
    }
    f.per_month = months.into_iter().collect();
    if !downtimes.is_empty() {
        f.mean_time_to_restore = Some(downtimes.iter().sum::<f64>() / downtimes.len() as f64);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn decide_restore_and_mttr() {
        let at = |d, h, m| Utc.with_ymd_and_hms(2025, 10, d, h, m, 0).unwrap();
        let row = |kind, detected, decided, restored| RollbackRow {
            incident: 1,
            title: String::new(),
            environment: String::new(),
            kind,
            from_release: None,
            to_release: None,
            backup: None,
            approvers: vec![],
            detected_at: detected,
            decided_at: decided,
            restored_at: restored,
            state: IncidentState::Resolved,
            skipped_steps: false,
        };
        let rows = vec![
            // The procedure's scenario: 14:22, decided 14:25, restored 14:30.
            row(
                RollbackType::Application,
                at(17, 12, 22),
                Some(at(17, 12, 25)),
                Some(at(17, 12, 30)),
            ),
            // 40 minutes to decide, 35 to restore a database (over 30).
            {
                let detected = at(31, 23, 30);
                let decided = detected + chrono::Duration::minutes(40);
                let restored = decided + chrono::Duration::minutes(35);
                row(
                    RollbackType::ApplicationDatabase,
                    detected,
                    Some(decided),
                    Some(restored),
                )
            },
            row(RollbackType::System, at(20, 9, 0), None, None),
        ];
        let f = figures(&rows, chrono_tz::Europe::Paris);
        // 31 October 23:30 UTC is 1 November in Paris (winter time, UTC+1).
        assert_eq!(
            f.per_month,
            vec![
                ("2025-10".to_owned(), [1, 0, 1]),
                ("2025-11".to_owned(), [0, 1, 0])
            ]
        );
        assert_eq!((f.decided, f.decided_in_time), (2, 1));
        assert_eq!(f.restored, [1, 1, 0]);
        assert_eq!(f.restored_in_estimate, [1, 0, 0]);
        assert_eq!(f.mean_time_to_restore, Some((8.0 + 75.0) / 2.0));
    }
}
