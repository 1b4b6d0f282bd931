//! The post-mortem of §8: due 48 hours after the rollback ends (§8.1), its required
//! participants, the §8.3 template's fields, and its corrective actions. Parsed from the form
//! once; what is stored is always valid.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// §8.1: the meeting takes place within 48 hours of the rollback.
pub const DUE_HOURS: i64 = 48;

pub fn due_at(rollback_ended: DateTime<Utc>) -> DateTime<Utc> {
    rollback_ended + Duration::hours(DUE_HOURS)
}

named_enum!(
    /// A corrective action's progress (§8.3 "Statut").
    ActionStatus {
        ToDo => "to_do",
        InProgress => "in_progress",
        Done => "done",
    }
);

named_enum!(
    /// The four participants §8.1 requires.
    Participant {
        TechLead => "tech_lead",
        Deployer => "deployer",
        Qa => "qa",
        ProjectManager => "project_manager",
    }
);

impl Participant {
    /// The roles an account needs to be chosen as this participant: the deployer is whoever
    /// deploys (developers, the senior on call, sysadmins, tech leads).
    pub fn roles(self) -> &'static [crate::domain::Role] {
        use crate::domain::Role as R;
        match self {
            Participant::TechLead => &[R::TechLead],
            Participant::Deployer => &[R::Developer, R::SeniorDevOncall, R::Sysadmin, R::TechLead],
            Participant::Qa => &[R::Qa],
            Participant::ProjectManager => &[R::ProjectManager],
        }
    }

    /// Whether an account holding `roles` (their names) may be chosen as this participant.
    pub fn admits(self, roles: &[String]) -> bool {
        self.roles()
            .iter()
            .any(|r| roles.iter().any(|held| held == r.as_str()))
    }
}

/// One row of the corrective actions table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrectiveAction {
    pub action: String,
    pub owner: Option<Uuid>,
    pub due_on: Option<NaiveDate>,
    pub status: ActionStatus,
}

/// Everything the form holds; a saved revision is a copy of it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PostMortemContent {
    pub summary: String,
    /// One entry per line, `HH:MM - what happened`.
    pub chronology: String,
    pub root_cause: String,
    pub users_affected: String,
    pub duration_minutes: Option<i64>,
    pub data_loss: bool,
    pub services: String,
    /// One point per line.
    pub went_well: String,
    pub to_improve: String,
    pub lessons: String,
    /// Participant name (`tech_lead`, …) → user.
    pub participants: std::collections::BTreeMap<String, Uuid>,
    pub meeting_at: Option<DateTime<Utc>>,
    pub meeting_late_reason: String,
    pub actions: Vec<CorrectiveAction>,
}

impl PostMortemContent {
    /// The §8.1 participants nobody was chosen for.
    pub fn missing(&self) -> Vec<Participant> {
        Participant::ALL
            .iter()
            .copied()
            .filter(|p| !self.participants.contains_key(p.as_str()))
            .collect()
    }

    /// The chronology's lines as (time, what), for the export.
    pub fn chronology_lines(&self) -> Vec<(String, String)> {
        lines(&self.chronology)
            .into_iter()
            .map(|l| match l.split_once(" - ") {
                Some((time, what)) => (time.trim().to_owned(), what.trim().to_owned()),
                None => (String::new(), l),
            })
            .collect()
    }
}

/// The non-empty lines of a text, trimmed, without a leading "- ".
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_start_matches("- ").trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Why a meeting date is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingProblem {
    /// Outside the 48 hours with no reason given.
    LateWithoutReason,
    /// Before the rollback ended.
    BeforeTheRollback,
}

/// §8.1: the meeting falls within the 48 hours after the rollback, or carries a reason.
pub fn check_meeting(
    rollback_ended: DateTime<Utc>,
    meeting: DateTime<Utc>,
    reason: &str,
) -> Result<(), MeetingProblem> {
    if meeting < rollback_ended {
        Err(MeetingProblem::BeforeTheRollback)
    } else if meeting > due_at(rollback_ended) && reason.trim().is_empty() {
        Err(MeetingProblem::LateWithoutReason)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_meeting_within_48_hours_or_with_a_reason() {
        let ended = Utc.with_ymd_and_hms(2025, 10, 17, 12, 38, 0).unwrap();
        assert_eq!(
            due_at(ended),
            Utc.with_ymd_and_hms(2025, 10, 19, 12, 38, 0).unwrap()
        );
        assert_eq!(
            check_meeting(ended, ended + Duration::hours(20), ""),
            Ok(())
        );
        assert_eq!(
            check_meeting(ended, ended + Duration::hours(48), ""),
            Ok(())
        );
        assert_eq!(
            check_meeting(ended, ended + Duration::hours(49), " "),
            Err(MeetingProblem::LateWithoutReason)
        );
        assert_eq!(
            check_meeting(ended, ended + Duration::hours(49), "tech lead away"),
            Ok(())
        );
        assert_eq!(
            check_meeting(ended, ended - Duration::hours(1), "x"),
            Err(MeetingProblem::BeforeTheRollback)
        );
    }

    #[test]
    fn who_is_missing_and_the_chronology() {
        let mut content = PostMortemContent {
            chronology:
                "10:45 - Déploiement de la version v1.2.0\n\n- 14:22 - Détection du problème\nnote"
                    .into(),
            ..Default::default()
        };
        content.participants.insert("qa".into(), Uuid::from_u128(1));
        assert_eq!(
            content.missing(),
            vec![
                Participant::TechLead,
                Participant::Deployer,
                Participant::ProjectManager
            ]
        );
        assert_eq!(
            content.chronology_lines(),
            vec![
                (
                    "10:45".to_owned(),
                    "Déploiement de la version v1.2.0".to_owned()
                ),
                ("14:22".to_owned(), "Détection du problème".to_owned()),
                (String::new(), "note".to_owned()),
            ]
        );
    }
}
