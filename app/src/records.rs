//! What pages show of incidents: read models the server fills and the pages render.
use crate::domain::{Criterion, Decision, IncidentState, Severity, ValidationStep};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// §2.2: the decision must be taken at most 30 minutes after detection.
pub const DECISION_DELAY_MINUTES: i64 = 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentOption {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub id: i64,
    pub title: String,
    pub state: IncidentState,
    pub severity: Severity,
    pub environment: String,
    pub detected_at: DateTime<Utc>,
}

impl IncidentSummary {
    pub fn deadline(&self) -> DateTime<Utc> {
        decision_deadline(self.detected_at)
    }

    /// Past the decision deadline with no decision.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.state.awaits_decision() && now > self.deadline()
    }
}

pub fn decision_deadline(detected_at: DateTime<Utc>) -> DateTime<Utc> {
    detected_at + Duration::minutes(DECISION_DELAY_MINUTES)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: ValidationStep,
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub decision: Decision,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub at: DateTime<Utc>,
    /// `None`: the system.
    pub actor: Option<String>,
    pub kind: String,
    pub details: serde_json::Value,
    /// A comment's Markdown, rendered to safe HTML on the server.
    pub html: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub summary: IncidentSummary,
    pub description: String,
    pub suspect_release: String,
    pub criteria: Vec<Criterion>,
    pub criteria_other: String,
    pub created_by: String,
    pub overdue_marked: bool,
    pub steps: Vec<StepRecord>,
    pub decision: Option<DecisionRecord>,
    /// Newest first.
    pub events: Vec<EventRecord>,
}

impl IncidentDetail {
    pub fn step(&self, step: ValidationStep) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.step == step)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupRecord {
    pub file_name: String,
    pub taken_at: chrono::NaiveDateTime,
    pub size_bytes: i64,
    pub sha256: String,
}

/// The last inventory of an environment's target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryRecord {
    pub taken_at: DateTime<Utc>,
    pub current_release: Option<String>,
    pub current_target: Option<String>,
    pub current_dangling: bool,
    pub ignored: Vec<String>,
    pub error: Option<String>,
    /// Newest first.
    pub releases: Vec<(String, chrono::NaiveDateTime)>,
    /// Newest first.
    pub backups: Vec<BackupRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentOverview {
    pub id: Uuid,
    pub name: String,
    pub target: String,
    pub inventory: Option<InventoryRecord>,
}
