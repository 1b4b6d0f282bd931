//! Rollback plans. For now: the fingerprint that binds approvals to exactly what will run.
use crate::domain::runbook::Step;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A hash over everything that will run: the environment and every step with its arguments.
/// Any change to the plan gives another fingerprint, which voids the approvals given before.
pub fn fingerprint(environment: Uuid, steps: &[Step]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(environment.as_bytes());
    // serde_json writes struct fields in declaration order: the same plan, the same bytes.
    hasher.update(serde_json::to_vec(steps).unwrap_or_default());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fingerprint;
    use crate::domain::runbook::{Operation, Step};
    use uuid::Uuid;

    #[test]
    fn any_change_makes_a_new_fingerprint() {
        let env = Uuid::from_u128(7);
        let steps = vec![Step {
            procedure_ref: "4.2/4".into(),
            operation: Operation::SwitchRelease {
                link: "/var/www/taskflow/current".into(),
                release_dir: "/var/www/taskflow/releases/2025-10-16_153012".into(),
            },
        }];
        let same = fingerprint(env, &steps.clone());
        assert_eq!(fingerprint(env, &steps), same);
        assert_eq!(same.len(), 64);
        let mut other = steps.clone();
        other[0].operation = Operation::SwitchRelease {
            link: "/var/www/taskflow/current".into(),
            release_dir: "/var/www/taskflow/releases/2025-10-15_091844".into(),
        };
        assert_ne!(fingerprint(env, &other), same, "another release");
        assert_ne!(
            fingerprint(Uuid::from_u128(8), &steps),
            same,
            "another environment"
        );
        assert_ne!(fingerprint(env, &[]), same, "a step less");
    }
}
