//! The vocabulary of an incident (§2, §3, §10.2): severity, trigger criteria, validation steps,
//! decisions and rollback types.
use serde::{Deserialize, Serialize};

named_enum!(
    /// §10.2: how fast someone must be on it.
    Severity { Critical => "critical", Urgent => "urgent", Normal => "normal" }
);

impl Severity {
    /// The intervention delay of §10.2.
    pub fn sla_minutes(self) -> i64 {
        match self {
            Severity::Critical => 15,
            Severity::Urgent => 60,
            Severity::Normal => 240,
        }
    }
}

named_enum!(
    /// The seven trigger criteria of §2.1.
    Criterion {
        CriticalErrors => "critical_errors",
        UserDataLoss => "user_data_loss",
        MajorPerformance => "major_performance",
        IrreversibleMigration => "irreversible_migration",
        SecurityFlaw => "security_flaw",
        ProductionIncompatibility => "production_incompatibility",
        CriticalFeatureFailure => "critical_feature_failure",
    }
);

named_enum!(
    /// The three rollback types of §3.
    RollbackType {
        Application => "application",
        ApplicationDatabase => "application_database",
        System => "system",
    }
);

impl RollbackType {
    /// The estimated duration of §3, in minutes.
    pub fn estimate_minutes(self) -> (u32, u32) {
        match self {
            RollbackType::Application => (5, 10),
            RollbackType::ApplicationDatabase => (15, 30),
            RollbackType::System => (30, 60),
        }
    }

    /// A rollback that can't be undone by running it again: it overwrites the database
    /// (§5.1) or restores the server. Its execution asks for the warning ticked and the
    /// environment's name typed.
    pub fn restores_data_or_system(self) -> bool {
        matches!(
            self,
            RollbackType::ApplicationDatabase | RollbackType::System
        )
    }
}

named_enum!(
    /// The five steps of the §2.2 validation procedure, in order.
    ValidationStep {
        Identification => "identification",
        ImpactEvaluation => "impact_evaluation",
        NoQuickFix => "no_quick_fix",
        Decision => "decision",
        Communication => "communication",
    }
);

impl ValidationStep {
    pub fn number(self) -> u8 {
        match self {
            ValidationStep::Identification => 1,
            ValidationStep::ImpactEvaluation => 2,
            ValidationStep::NoQuickFix => 3,
            ValidationStep::Decision => 4,
            ValidationStep::Communication => 5,
        }
    }

    /// Steps 1–3 must be done before the decision (§2.2, DESIGN.md).
    pub const BEFORE_DECISION: [ValidationStep; 3] = [
        ValidationStep::Identification,
        ValidationStep::ImpactEvaluation,
        ValidationStep::NoQuickFix,
    ];
}

/// What the responders decided (§2.2 step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Rollback(RollbackType),
    FixForward,
}

impl Decision {
    /// The form value: `rollback:<type>` or `fix_forward`.
    pub fn as_form_value(self) -> String {
        match self {
            Decision::Rollback(t) => format!("rollback:{t}"),
            Decision::FixForward => "fix_forward".to_owned(),
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        match s.split_once(':') {
            Some(("rollback", t)) => RollbackType::parse(t).map(Decision::Rollback),
            None if s == "fix_forward" => Some(Decision::FixForward),
            _ => None,
        }
    }
}
