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

/// Incidents the list counts at most; past it the pager says "+" (counting stops there).
/// Fifty pages: past them people filter rather than page, and counting more made the list's
/// cost grow with the table (a count of 10,000 rows cost six times the page's own query).
pub const INCIDENT_COUNT_CAP: i64 = 1_000;

/// "+" after a number derived from a count of incidents that reached the cap (there may be
/// more), else nothing.
pub fn beyond_incident_count(total: i64) -> &'static str {
    if total > INCIDENT_COUNT_CAP {
        "+"
    } else {
        ""
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub id: i64,
    pub title: String,
    pub state: IncidentState,
    pub severity: Severity,
    pub environment: String,
    /// Its page: inventory, useful commands (§11.1).
    pub environment_id: Uuid,
    pub detected_at: DateTime<Utc>,
    /// A §6.3 monitoring check failed at this time (lowered when a later one passes).
    pub monitoring_alert_at: Option<DateTime<Utc>>,
    /// The status of the incident's latest execution.
    pub execution: Option<crate::domain::execution::ExecutionStatus>,
    /// The latest execution's step to run next (numbered from 1) and what it does: where a
    /// failed or interrupted execution stopped.
    pub execution_step: Option<(usize, Option<crate::domain::runbook::Operation>)>,
    /// Where its plan stands (filled in for incidents waiting to execute).
    pub plan: Option<crate::domain::plan::PlanStatus>,
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
    /// The rollback plan's status, once there is one.
    pub plan: Option<crate::domain::plan::PlanStatus>,
    /// The latest execution's status and the step it is at (from 0).
    pub execution: Option<(crate::domain::execution::ExecutionStatus, usize)>,
    /// Newest first.
    pub events: Vec<EventRecord>,
    /// Each execution's steps, by execution id: the timeline names the step of a step event.
    pub step_operations: Vec<(i64, Vec<crate::domain::runbook::Operation>)>,
    /// Who to call (§10), for an open incident.
    pub on_call: Option<WhoToCall>,
    /// The alerts that opened or joined it, oldest first.
    pub alerts: Vec<AlertRecord>,
}

/// An alert received from Alertmanager or Grafana, as the incident page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AlertRecord {
    pub name: String,
    pub summary: String,
    pub fingerprint: String,
    pub starts_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// http(s) only.
    pub generator_url: Option<String>,
    pub dashboard_url: Option<String>,
    pub panel_url: Option<String>,
    /// The deployment live when it started (§11.2).
    pub deployed_version: Option<String>,
    pub deployed_release: Option<String>,
    pub deployed_at: Option<DateTime<Utc>>,
}

impl IncidentDetail {
    pub fn step(&self, step: ValidationStep) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.step == step)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct BackupRecord {
    pub file_name: String,
    pub taken_at: chrono::NaiveDateTime,
    pub size_bytes: i64,
    pub sha256: String,
}

/// Where the target's `current` link pointed when last read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CurrentPointer {
    pub taken_at: DateTime<Utc>,
    pub current_release: Option<String>,
    pub current_target: Option<String>,
    pub current_dangling: bool,
    /// Why the target could not be read, when it could not.
    pub error: Option<String>,
}

/// The last inventory of an environment's target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct InventoryRecord {
    pub taken_at: DateTime<Utc>,
    pub current_release: Option<String>,
    pub current_target: Option<String>,
    pub current_dangling: bool,
    pub ignored: Vec<String>,
    pub error: Option<String>,
    /// Newest first.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub releases: Vec<(String, chrono::NaiveDateTime)>,
    /// Newest first.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub backups: Vec<BackupRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentOverview {
    pub id: Uuid,
    pub name: String,
    pub target: String,
    pub inventory: Option<InventoryRecord>,
    /// §11.1 with this environment's paths filled in.
    pub commands: Vec<(crate::domain::environment::UsefulCommand, String)>,
    /// The commands the runner runs: name, line, whether its program is allowed.
    pub run_commands: Vec<(String, String, bool)>,
    /// A change of target or commands waiting for a second person.
    pub pending: Option<PendingRunConfigView>,
    /// The viewer may confirm it.
    pub may_confirm: bool,
    /// Alert intake, for admins only (who may change it).
    pub alert_intake: Option<AlertIntakeView>,
}

/// An environment's alert intake as its page shows it to an admin: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertIntakeView {
    /// The webhook's absolute address.
    pub url: String,
    pub token_set_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The rules as the form shows them ("value: severity" lines, "label=value: criterion").
    pub severities: String,
    pub criteria: String,
}

/// A change of what runs on an environment, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRunConfigView {
    pub changed_by: String,
    pub since: chrono::DateTime<chrono::Utc>,
    pub target: bool,
    pub commands: Vec<String>,
    pub outside: Vec<String>,
}

/// Where a plan's steps run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RunsOn {
    Local {
        root: String,
    },
    Ssh {
        user: String,
        host: String,
        port: u16,
    },
}

/// Whether a verdict counts toward the plan as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewStanding {
    Counts,
    Expired,
    /// Given on an earlier version of the plan (another fingerprint).
    EarlierVersion,
    /// The approver's account was deactivated since: the approval no longer counts.
    Deactivated,
    /// The approver no longer holds a §2.2 role: the approval no longer counts.
    NoLongerDecider,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRecord {
    pub reviewer: Uuid,
    pub name: String,
    pub verdict: crate::domain::plan::Verdict,
    pub comment: String,
    pub at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub standing: ReviewStanding,
}

/// A rollback plan as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub kind: crate::domain::RollbackType,
    pub environment_name: String,
    pub runs_on: Option<RunsOn>,
    /// The defective release the plan rolls back from, and where that came from.
    pub from_release: Option<String>,
    pub defective_source: Option<crate::domain::plan::DefectiveSource>,
    pub target_release: Option<String>,
    pub backup_file: Option<String>,
    pub backup_taken_at: Option<DateTime<Utc>>,
    pub defective_version: Option<String>,
    pub defective_deployed_at: Option<DateTime<Utc>>,
    pub steps: Vec<crate::domain::runbook::Step>,
    /// What changed since the plan was made (a stale plan says what).
    pub changes: Vec<crate::domain::plan::BasisChange>,
    /// What the chosen release and backup change against the proposal.
    pub warnings: Vec<crate::domain::plan::ChoiceWarning>,
    /// `current` already pointed at the release to restore when the plan was made.
    pub current_is_target: bool,
    /// The latest execution of this version, if any.
    pub execution: Option<i64>,
    pub fingerprint: String,
    pub revision: i32,
    pub requested_by: Uuid,
    pub requested_by_name: String,
    pub updated_at: DateTime<Utc>,
    pub status: crate::domain::plan::PlanStatus,
    /// Oldest first.
    pub reviews: Vec<ReviewRecord>,
    pub required: u32,
    pub expiry_minutes: i64,
}

/// A plan waiting for the viewer's verdict (dashboard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanWaiting {
    pub incident: i64,
    pub title: String,
    pub kind: crate::domain::RollbackType,
    pub status: crate::domain::plan::PlanStatus,
}

/// What the plan form offers: the target's releases and backups from the last inventory,
/// and the defaults (or why there are none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanChoices {
    pub current_release: Option<String>,
    /// Newest first.
    pub releases: Vec<String>,
    /// Newest first: file name and when it was taken.
    pub backups: Vec<(String, DateTime<Utc>)>,
    /// The release the incident is about, when it can be told.
    pub defective: Option<crate::domain::plan::Defective>,
    pub defaults: Result<crate::domain::plan::PlanDefaults, crate::domain::plan::DefaultsProblem>,
}

/// Everything the plan page needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanPage {
    pub incident: IncidentSummary,
    pub rollback: Option<crate::domain::RollbackType>,
    pub plan: Option<PlanRecord>,
    pub choices: PlanChoices,
}

/// One attempt at a step of an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepAttempt {
    pub position: usize,
    pub attempt: i32,
    pub status: crate::domain::execution::StepStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    /// The tail of stdout and stderr.
    pub output: String,
    /// Who ticked a manual step or recorded a decision on it.
    pub done_by: Option<String>,
    pub note: String,
}

/// An execution as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub id: i64,
    pub status: crate::domain::execution::ExecutionStatus,
    pub next_step: usize,
    pub steps: Vec<crate::domain::runbook::Step>,
    pub cancel_requested: bool,
    pub fingerprint: String,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Every attempt, by step then attempt.
    pub attempts: Vec<StepAttempt>,
}

/// One email send and how far its delivery is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct EmailSendRecord {
    pub id: i64,
    pub template: String,
    pub subject: String,
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    pub sent: i64,
    pub failed: i64,
    pub bounced: i64,
    pub pending: i64,
}

/// A recipient list uploaded for an incident's email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadedList {
    pub id: i64,
    pub file_name: String,
    pub count: usize,
    /// The first bad lines: (line number, text).
    pub bad: Vec<(usize, String)>,
    pub bad_count: usize,
    pub duplicates: usize,
    pub truncated: bool,
}

/// One §6.1 item of an incident's checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ChecklistItemRecord {
    pub item: crate::domain::verification::ChecklistItem,
    pub status: crate::domain::verification::ItemStatus,
    pub evidence: String,
    pub checked_at: Option<DateTime<Utc>>,
    /// Who ticked it; `None` for the runner.
    pub checked_by: Option<String>,
    pub note: String,
}

/// One automatic result within a monitoring check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResultRecord {
    pub item: crate::domain::verification::ChecklistItem,
    pub passed: bool,
    pub evidence: String,
}

/// One §6.3 monitoring check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct MonitoringCheckRecord {
    pub slot: i32,
    pub due_at: DateTime<Utc>,
    pub taken_at: Option<DateTime<Utc>>,
    pub passed: Option<bool>,
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub results: Vec<CheckResultRecord>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub note: String,
}

/// The verification of an incident: its checklist, its monitoring window, how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct VerificationRecord {
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub items: Vec<ChecklistItemRecord>,
    pub monitoring_started_at: Option<DateTime<Utc>>,
    pub alert_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub checks: Vec<MonitoringCheckRecord>,
    pub restored_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution_note: String,
}

/// A post-mortem as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PostMortemRecord {
    pub incident_id: i64,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub revision: i32,
    /// Stored as JSON; content that no longer reads is an error, never an empty form.
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub content: crate::domain::post_mortem::PostMortemContent,
    pub saved_by: Option<String>,
    pub saved_at: DateTime<Utc>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub finalized_by: Option<String>,
}

/// A line of the post-mortems list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostMortemSummary {
    pub incident_id: i64,
    pub title: String,
    pub due_at: DateTime<Utc>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub missing: usize,
}

/// An open corrective action, with where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CorrectiveActionRecord {
    pub incident_id: i64,
    pub incident_title: String,
    pub action: String,
    pub owner: Option<String>,
    pub due_on: Option<chrono::NaiveDate>,
    pub status: crate::domain::post_mortem::ActionStatus,
}

/// Someone who can be chosen (participants, action owners).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PersonChoice {
    pub id: Uuid,
    pub name: String,
    /// Role names: a participant's choice offers only accounts of the matching roles.
    pub roles: Vec<String>,
}

/// A §10.1 contact.
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub id: Uuid,
    pub role: crate::domain::Role,
    pub name: String,
    pub phone: String,
    pub email: String,
}

/// §10.3.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostingSupport {
    pub provider: String,
    pub phone: String,
    pub email: String,
    pub portal: String,
}

/// Who to call: the contacts, the shifts from now on, the hosting support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactBook {
    pub contacts: Vec<ContactRecord>,
    pub shifts: Vec<crate::domain::on_call::Shift>,
    pub hosting: HostingSupport,
}

/// Who to call now: the shifts covering this moment, and the hosting support.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WhoToCall {
    pub on_call: Vec<crate::domain::on_call::Shift>,
    pub hosting: HostingSupport,
}

/// What a failed page load or a refused request tells the user: a message in their language,
/// the fields it is about, and for a fault a reference that is also in the server's log.
/// Never internal text (built by `backend::error`, the one place that maps errors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicError {
    pub status: u16,
    pub message: crate::i18n::Text,
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, crate::i18n::Text>,
    pub reference: Option<String>,
}

impl PublicError {
    /// The public error a server function's error carries (anything else is shown as a fault).
    pub fn of(err: &leptos::prelude::ServerFnError) -> PublicError {
        let text = match err {
            leptos::prelude::ServerFnError::ServerError(text) => Some(text.as_str()),
            _ => None,
        };
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(PublicError {
                status: 500,
                message: crate::i18n::Msg::InternalError.into(),
                fields: Default::default(),
                reference: None,
            })
    }
}

/// An environment whose database a restore left partial (issue "Runner and mailer under
/// faults"): shown on the dashboard, the incident and the environment until a restore
/// completes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PartialRestoreRecord {
    pub environment_id: Uuid,
    pub environment: String,
    pub incident: i64,
    pub execution: i64,
    /// The restore step (from 0).
    pub step: i32,
    pub backup: String,
    pub since: DateTime<Utc>,
}

/// An email send with messages that were not delivered (failed after the retry time, or
/// bounced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct UndeliveredRecord {
    pub incident: Option<i64>,
    pub title: String,
    pub count: i64,
}

/// One message that was not delivered, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct UndeliveredMessage {
    pub id: i64,
    pub subject: String,
    pub recipient: String,
    pub status: String,
    pub reason: String,
    pub attempts: i32,
}

/// What is broken and must be seen first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Alarms {
    pub partial_restores: Vec<PartialRestoreRecord>,
    pub undelivered: Vec<UndeliveredRecord>,
}

/// One line of the dashboard's "needs attention now".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentionItem {
    pub kind: AttentionKind,
    pub incident: i64,
    pub title: String,
    /// Since when it is so (a deadline: when it is or was due).
    pub since: DateTime<Utc>,
    /// The page where it is handled.
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttentionKind {
    ExecutionFailed {
        step: i32,
        operation: Option<crate::domain::runbook::Operation>,
    },
    ExecutionInterrupted {
        step: i32,
        operation: Option<crate::domain::runbook::Operation>,
    },
    MonitoringFailed {
        slot: i32,
    },
    DecisionOverdue,
    DecisionDueSoon,
    /// A plan the reader may approve.
    ApprovalWaiting {
        kind: crate::domain::RollbackType,
    },
    /// Approved, not yet executed.
    PlanReady {
        kind: crate::domain::RollbackType,
    },
    /// A §6.3 check due now, to confirm within its 15 minutes.
    MonitoringDue {
        slot: i32,
    },
    PostMortemOverdue,
    PostMortemDueSoon,
    /// The reader's corrective action past its date.
    ActionOverdue {
        action: String,
        due_on: chrono::NaiveDate,
    },
}

impl AttentionKind {
    /// Most urgent first.
    pub fn urgency(&self) -> u8 {
        match self {
            AttentionKind::ExecutionFailed { .. } => 0,
            AttentionKind::ExecutionInterrupted { .. } => 1,
            AttentionKind::MonitoringFailed { .. } => 2,
            AttentionKind::DecisionOverdue => 3,
            AttentionKind::DecisionDueSoon => 4,
            AttentionKind::ApprovalWaiting { .. } => 5,
            AttentionKind::PlanReady { .. } => 6,
            AttentionKind::MonitoringDue { .. } => 7,
            AttentionKind::PostMortemOverdue => 8,
            AttentionKind::PostMortemDueSoon => 9,
            AttentionKind::ActionOverdue { .. } => 10,
        }
    }

    /// A class for its line.
    pub fn class(&self) -> &'static str {
        match self {
            AttentionKind::ExecutionFailed { .. } => "exec-failed",
            AttentionKind::ExecutionInterrupted { .. } => "exec-interrupted",
            AttentionKind::MonitoringFailed { .. } => "monitoring-failed",
            AttentionKind::DecisionOverdue => "decision-overdue",
            AttentionKind::DecisionDueSoon => "decision-due",
            AttentionKind::PostMortemOverdue => "post-mortem-overdue",
            AttentionKind::PostMortemDueSoon => "post-mortem-due",
            AttentionKind::ApprovalWaiting { .. } => "approval-waiting",
            AttentionKind::PlanReady { .. } => "plan-ready",
            AttentionKind::MonitoringDue { .. } => "monitoring-due",
            AttentionKind::ActionOverdue { .. } => "action-overdue",
        }
    }
}
