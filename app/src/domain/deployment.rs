//! A deployment as recorded by people, the CLI or a deploy script (§11.2), with the §9.2
//! pre-deployment checklist.
use serde::{Deserialize, Serialize};

named_enum!(
    /// The nine items of the §9.2 pre-deployment checklist.
    ChecklistItem {
        TestsGreen => "tests_green",
        CodeReviewed => "code_reviewed",
        DocsUpdated => "docs_updated",
        MigrationsTested => "migrations_tested",
        RecentBackup => "recent_backup",
        TeamAvailable => "team_available",
        OffPeak => "off_peak",
        UsersNotified => "users_notified",
        RollbackPlanReady => "rollback_plan_ready",
    }
);

/// A version label such as v1.2.0 or 1.2.0-rc.1: letters, digits and `.-+_`, 1 to 50.
pub fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 50
        && v.chars().any(|c| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-+_".contains(c))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DeploymentRecord {
    pub environment: String,
    pub version: String,
    pub release: String,
    pub deployed_at: chrono::DateTime<chrono::Utc>,
    pub checklist: Vec<ChecklistItem>,
    pub source: String,
    pub rolled_back_at: Option<chrono::DateTime<chrono::Utc>>,
    pub rollback_reason: Option<String>,
}
