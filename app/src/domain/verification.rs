//! Verification after a rollback (§6): the ten items of the §6.1 checklist, which of them a
//! machine checks, and the §6.3 monitoring window — two hours, a check every 15 minutes.
//! The schedule is computed from the window's start and a given `now`, so it is the same for
//! the page, the runner and the tests.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

named_enum!(
    /// The §6.1 items, in the procedure's order.
    ChecklistItem {
        MainUrl => "main_url",
        HomePage => "home_page",
        SignIn => "sign_in",
        MainFeatures => "main_features",
        Logs => "logs",
        Database => "database",
        Emails => "emails",
        Sessions => "sessions",
        Assets => "assets",
        Performance => "performance",
    }
);

impl ChecklistItem {
    /// Checked by the runner (with evidence) rather than ticked by a person.
    pub fn is_automatic(self) -> bool {
        !matches!(
            self,
            ChecklistItem::SignIn
                | ChecklistItem::MainFeatures
                | ChecklistItem::Emails
                | ChecklistItem::Sessions
        )
    }

    pub fn automatic() -> impl Iterator<Item = ChecklistItem> {
        ChecklistItem::ALL
            .iter()
            .copied()
            .filter(|i| i.is_automatic())
    }
}

named_enum!(
    /// Where an item stands. A person's tick and an automatic pass are both `passed`;
    /// `waiting`: a manual item nobody has ticked yet; `queued`: an automatic item the runner
    /// has yet to check (first time, or a re-run asked).
    ItemStatus {
        Waiting => "waiting",
        Queued => "queued",
        Running => "running",
        Passed => "passed",
        Failed => "failed",
    }
);

/// The §6.3 window: how long, and how often a check is due.
pub const WINDOW_MINUTES: i64 = 120;
pub const CHECK_EVERY_MINUTES: i64 = 15;
/// Checks in the window: at +15, +30, … +120 minutes.
pub const CHECKS: i32 = (WINDOW_MINUTES / CHECK_EVERY_MINUTES) as i32;

/// When check `slot` (1 to [`CHECKS`]) of a window started at `started` is due.
pub fn due_at(started: DateTime<Utc>, slot: i32) -> DateTime<Utc> {
    started + Duration::minutes(CHECK_EVERY_MINUTES * i64::from(slot))
}

/// When the window ends.
pub fn window_end(started: DateTime<Utc>) -> DateTime<Utc> {
    started + Duration::minutes(WINDOW_MINUTES)
}

/// A check of the window as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotState {
    /// A person confirmed it.
    Done,
    /// Due now: it may be confirmed until the next one is due.
    Due,
    /// Its time passed with nobody confirming it.
    Missed,
    Upcoming,
}

/// A check is confirmed within its 15 minutes, or it is missed: a confirmation an hour late
/// would say the logs were read every 15 minutes when they were not.
pub fn slot_state(due: DateTime<Utc>, confirmed: bool, now: DateTime<Utc>) -> SlotState {
    if confirmed {
        SlotState::Done
    } else if now < due {
        SlotState::Upcoming
    } else if now < due + Duration::minutes(CHECK_EVERY_MINUTES) {
        SlotState::Due
    } else {
        SlotState::Missed
    }
}

/// The next check not yet due, if the window still has one.
pub fn next_due(started: DateTime<Utc>, now: DateTime<Utc>) -> Option<(i32, DateTime<Utc>)> {
    (1..=CHECKS)
        .map(|slot| (slot, due_at(started, slot)))
        .find(|(_, due)| *due > now)
}

/// The check due now, if any (the one a person may confirm, the runner takes).
pub fn due_now(started: DateTime<Utc>, now: DateTime<Utc>) -> Option<i32> {
    (1..=CHECKS).find(|slot| slot_state(due_at(started, *slot), false, now) == SlotState::Due)
}

/// Why the incident can't be resolved yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResolveProblem {
    /// Before the end of the 2-hour window, a reason is needed.
    ReasonNeeded,
}

/// §6.3: resolving waits for the end of the window; earlier only with a reason.
pub fn check_resolve(
    started: DateTime<Utc>,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(), ResolveProblem> {
    if now >= window_end(started) || !reason.trim().is_empty() {
        Ok(())
    } else {
        Err(ResolveProblem::ReasonNeeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 17, h, m, 0).unwrap()
    }

    #[test]
    fn ten_items_six_of_them_automatic() {
        assert_eq!(ChecklistItem::ALL.len(), 10);
        assert_eq!(ChecklistItem::automatic().count(), 6);
        assert!(!ChecklistItem::SignIn.is_automatic());
        assert!(ChecklistItem::Logs.is_automatic());
    }

    #[test]
    fn a_check_every_fifteen_minutes_for_two_hours() {
        // The window of the procedure's scenario: restored at 14:30.
        let started = at(14, 30);
        assert_eq!(CHECKS, 8);
        assert_eq!(due_at(started, 1), at(14, 45));
        assert_eq!(due_at(started, CHECKS), at(16, 30));
        assert_eq!(window_end(started), at(16, 30));

        assert_eq!(next_due(started, at(14, 30)), Some((1, at(14, 45))));
        assert_eq!(due_now(started, at(14, 44)), None);
        // Due from 14:45 until 15:00, then missed if nobody confirmed it.
        assert_eq!(due_now(started, at(14, 45)), Some(1));
        assert_eq!(next_due(started, at(14, 45)), Some((2, at(15, 0))));
        assert_eq!(slot_state(at(14, 45), false, at(14, 59)), SlotState::Due);
        assert_eq!(slot_state(at(14, 45), false, at(15, 0)), SlotState::Missed);
        assert_eq!(slot_state(at(14, 45), true, at(15, 0)), SlotState::Done);
        assert_eq!(
            slot_state(at(15, 0), false, at(14, 50)),
            SlotState::Upcoming
        );
        assert_eq!(due_now(started, at(15, 0)), Some(2));
        // The last check is due at the end of the window and may be confirmed after it.
        assert_eq!(due_now(started, at(16, 40)), Some(8));
        assert_eq!(next_due(started, at(16, 30)), None);
        assert_eq!(due_now(started, at(16, 45)), None);
    }

    #[test]
    fn resolving_early_needs_a_reason() {
        let started = at(14, 30);
        assert_eq!(
            check_resolve(started, at(16, 29), "  "),
            Err(ResolveProblem::ReasonNeeded)
        );
        assert_eq!(
            check_resolve(started, at(16, 29), "stable, team agrees"),
            Ok(())
        );
        assert_eq!(check_resolve(started, at(16, 30), ""), Ok(()));
    }
}
