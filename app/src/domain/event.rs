//! The incident's timeline: every kind of event, with its payload, in one typed enum. Events
//! are written only through [`Event`] (`backend::timeline::append`), so that a kind can't be
//! misspelt nor a payload miss a field; they are read back through [`Event::read`], which
//! fails loudly on an unknown kind or payload. The JSON is the one events have always been
//! stored with (`kind` column + `details` object): rows written before this enum still read.
use super::verification::ChecklistItem;
use super::{IncidentState, RollbackType, ValidationStep};
use crate::domain::email::EmailTemplate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A plan prepared or revised (§4.2, §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSaved {
    pub revision: i32,
    pub rollback_type: RollbackType,
    pub fingerprint: String,
    #[serde(default)]
    pub from_release: Option<String>,
    #[serde(default)]
    pub defective_source: Option<String>,
    #[serde(default)]
    pub target_release: Option<String>,
    #[serde(default)]
    pub backup: Option<String>,
    pub steps: usize,
}

/// A review of a plan: approved, rejected or withdrawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanReviewed {
    pub fingerprint: String,
    #[serde(default)]
    pub comment: String,
}

/// An execution, at one of its steps (from 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtStep {
    pub execution: i64,
    pub step: usize,
}

/// A step's end, by the runner (attempt, exit code) or by a person (note, `manual`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepEnded {
    pub execution: i64,
    pub step: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "details", rename_all = "snake_case")]
pub enum Event {
    /// The incident was opened; its fields as typed (the description left out).
    Created(Map<String, Value>),
    /// A step of the §2.2 validation procedure.
    StepRecorded {
        step: ValidationStep,
        number: u8,
        note: String,
    },
    Decided {
        /// `rollback` or `fix_forward`.
        decision: String,
        #[serde(default)]
        rollback_type: Option<RollbackType>,
        reason: String,
    },
    Cancelled {
        reason: String,
    },
    /// The fields that changed, each `{before, after}`.
    Edited(Map<String, Value>),
    Commented {
        body: String,
    },
    /// The 30-minute decision deadline passed (§2.2).
    Overdue {
        deadline_minutes: i64,
    },
    StateChanged {
        from: IncidentState,
        to: IncidentState,
    },
    PlanPrepared(PlanSaved),
    PlanRevised(PlanSaved),
    PlanApproved(PlanReviewed),
    PlanRejected(PlanReviewed),
    PlanWithdrawn(PlanReviewed),
    PlanReady {
        fingerprint: String,
    },
    ExecutionQueued {
        execution: i64,
        fingerprint: String,
    },
    ExecutionStarted {
        execution: i64,
    },
    StepStarted {
        execution: i64,
        step: usize,
        attempt: i32,
    },
    StepSucceeded(StepEnded),
    StepFailed(StepEnded),
    ExecutionSucceeded {
        execution: i64,
        #[serde(default)]
        skipped: Vec<usize>,
    },
    ExecutionCancelled {
        execution: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
    },
    ExecutionCancelRequested {
        execution: i64,
    },
    ExecutionKillRequested(AtStep),
    ExecutionRetried(AtStep),
    ExecutionResumed {
        execution: i64,
        step: usize,
        #[serde(default)]
        note: String,
        #[serde(default)]
        skipped: Vec<usize>,
    },
    ExecutionAborted {
        execution: i64,
        #[serde(default)]
        note: String,
    },
    /// Its runner died (the lease expired).
    ExecutionInterrupted(AtStep),
    /// Its server stopped after the running step.
    ExecutionServerStopped(AtStep),
    EmailQueued {
        send: i64,
        template: EmailTemplate,
        lang: String,
        subject: String,
        recipients: usize,
    },
    EmailResent {
        count: usize,
        #[serde(default)]
        recipients: Vec<String>,
    },
    ChecklistItemTicked {
        item: ChecklistItem,
        #[serde(default)]
        note: String,
    },
    CheckRerunRequested {
        item: ChecklistItem,
    },
    AutomaticCheck {
        item: ChecklistItem,
        passed: bool,
    },
    MonitoringCheckFailed {
        slot: i32,
        #[serde(default)]
        failed: Vec<ChecklistItem>,
    },
    MonitoringCheckConfirmed {
        slot: i32,
        #[serde(default)]
        note: String,
    },
    IncidentResolved {
        restored_at: DateTime<Utc>,
        downtime_minutes: i64,
        #[serde(default)]
        early: bool,
        #[serde(default)]
        reason: String,
    },
    PostMortemCreated {
        due_at: DateTime<Utc>,
    },
    PostMortemSaved {
        revision: i32,
    },
    PostMortemFinalized {},
    PostMortemReminded {},
    /// An alert (Alertmanager, Grafana) opened the incident or joined it.
    AlertReceived {
        alert: i64,
        name: String,
        fingerprint: String,
        starts_at: DateTime<Utc>,
    },
    /// The sender said the alert no longer fires: recorded, nothing is closed.
    AlertResolved {
        alert: i64,
        name: String,
        fingerprint: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ends_at: Option<DateTime<Utc>>,
    },
}

/// An event that can't be read: an unknown kind, or a payload that does not fit it.
#[derive(Debug, thiserror::Error)]
#[error("event {kind}: {source}")]
pub struct UnreadableEvent {
    pub kind: String,
    #[source]
    pub source: serde_json::Error,
}

impl Event {
    /// The kind and the details as stored.
    pub fn to_row(&self) -> (String, Value) {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        let details = match value.get_mut("details").map(Value::take) {
            Some(Value::Null) | None => Value::Object(Map::new()),
            Some(details) => details,
        };
        (kind, details)
    }

    /// The stored name of the kind (`step_started`).
    pub fn kind(&self) -> String {
        self.to_row().0
    }

    /// An event as stored, read back.
    pub fn read(kind: &str, details: &Value) -> Result<Event, UnreadableEvent> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "details": details })).map_err(
            |source| UnreadableEvent {
                kind: kind.to_owned(),
                source,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_keep_the_stored_shape_and_read_back() {
        let started = Event::StepStarted {
            execution: 3,
            step: 2,
            attempt: 1,
        };
        let (kind, details) = started.to_row();
        assert_eq!(kind, "step_started");
        assert_eq!(
            details,
            serde_json::json!({ "execution": 3, "step": 2, "attempt": 1 })
        );
        assert_eq!(Event::read(&kind, &details).unwrap(), started);
        let done = Event::PostMortemFinalized {};
        assert_eq!(
            done.to_row(),
            ("post_mortem_finalized".into(), serde_json::json!({}))
        );
        assert_eq!(
            Event::read("post_mortem_finalized", &serde_json::json!({})).unwrap(),
            done
        );
        // A manual step's end keeps its old shape (no attempt, no exit code).
        let manual = Event::StepSucceeded(StepEnded {
            execution: 1,
            step: 4,
            attempt: None,
            exit_code: None,
            note: Some("fait".into()),
            manual: true,
        });
        assert_eq!(
            manual.to_row().1,
            serde_json::json!({ "execution": 1, "step": 4, "note": "fait", "manual": true })
        );
    }

    #[test]
    fn an_unknown_kind_or_a_wrong_payload_is_loud() {
        assert!(Event::read("made_up", &serde_json::json!({})).is_err());
        assert!(Event::read(
            "state_changed",
            &serde_json::json!({ "from": "nowhere", "to": "decided" })
        )
        .is_err());
    }

    #[test]
    fn rows_written_before_the_enum_read() {
        for (kind, details) in [
            (
                "created",
                serde_json::json!({ "title": "t", "severity": "critical" }),
            ),
            (
                "decided",
                serde_json::json!({ "decision": "rollback", "rollback_type": "application", "reason": "r" }),
            ),
            (
                "decided",
                serde_json::json!({ "decision": "fix_forward", "rollback_type": null, "reason": "r" }),
            ),
            (
                "step_recorded",
                serde_json::json!({ "step": "identification", "number": 1, "note": "vu" }),
            ),
            (
                "step_failed",
                serde_json::json!({ "execution": 1, "step": 2, "attempt": 1, "exit_code": null }),
            ),
            ("execution_cancelled", serde_json::json!({ "execution": 1 })),
            (
                "plan_prepared",
                serde_json::json!({ "revision": 1, "rollback_type": "application", "fingerprint": "f",
                "from_release": "a", "defective_source": "suspect", "target_release": "b", "backup": null, "steps": 9 }),
            ),
        ] {
            assert!(Event::read(kind, &details).is_ok(), "{kind} {details}");
        }
    }
}
