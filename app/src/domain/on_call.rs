//! Contacts and on-call (§10): who is on call at a given moment. Shifts are typed in a local
//! time zone and stored in UTC; a shift covers [start, end), so at a handover the next person
//! is on call. A local time that doesn't exist (the spring-forward gap) is refused; one that
//! happens twice (the autumn fall-back) means its first occurrence.
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// An on-call shift of a contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Shift {
    pub id: i64,
    pub contact: uuid::Uuid,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Shift {
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// Who is on call at `at` (several people may overlap).
pub fn on_call_at(shifts: &[Shift], at: DateTime<Utc>) -> Vec<&Shift> {
    shifts.iter().filter(|s| s.covers(at)).collect()
}

/// Why a local time can't be a shift's start or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTimeProblem {
    /// Skipped by a daylight-saving change (e.g. 02:30 on the last Sunday of March in Paris).
    DoesNotExist,
}

/// A local date and time in `tz` as UTC.
pub fn from_local(
    local: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> Result<DateTime<Utc>, LocalTimeProblem> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(LocalTimeProblem::DoesNotExist),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use chrono_tz::Europe::Paris;

    fn local(d: u32, m: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn shift(id: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> Shift {
        Shift {
            id,
            contact: uuid::Uuid::from_u128(id as u128),
            name: format!("n{id}"),
            phone: String::new(),
            email: String::new(),
            starts_at: from,
            ends_at: to,
        }
    }

    #[test]
    fn the_next_person_at_the_handover() {
        let a = from_local(local(17, 10, 8, 0), Paris).unwrap();
        let b = from_local(local(17, 10, 20, 0), Paris).unwrap();
        let c = from_local(local(18, 10, 8, 0), Paris).unwrap();
        let shifts = vec![shift(1, a, b), shift(2, b, c)];
        let who = |at: DateTime<Utc>| {
            on_call_at(&shifts, at)
                .iter()
                .map(|s| s.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(who(b - chrono::Duration::seconds(1)), vec![1]);
        assert_eq!(who(b), vec![2], "at the handover, the next one");
        assert_eq!(who(c), Vec::<i64>::new(), "nobody after the last shift");
        // 08:00 in Paris is 06:00 UTC in October (summer time).
        assert_eq!(a, Utc.with_ymd_and_hms(2025, 10, 17, 6, 0, 0).unwrap());
    }

    #[test]
    fn across_the_daylight_saving_changes() {
        // The night the clocks go back (26 October 2025, 03:00 → 02:00): 20:00 to 08:00 is
        // 13 hours, and 02:30 happens twice (the first one is taken).
        let start = from_local(local(25, 10, 20, 0), Paris).unwrap();
        let end = from_local(local(26, 10, 8, 0), Paris).unwrap();
        assert_eq!((end - start).num_hours(), 13);
        assert_eq!(
            from_local(local(26, 10, 2, 30), Paris).unwrap(),
            Utc.with_ymd_and_hms(2025, 10, 26, 0, 30, 0).unwrap()
        );
        let night = vec![shift(1, start, end)];
        assert_eq!(
            on_call_at(
                &night,
                Utc.with_ymd_and_hms(2025, 10, 26, 6, 59, 0).unwrap()
            )
            .len(),
            1
        );
        assert_eq!(
            on_call_at(&night, Utc.with_ymd_and_hms(2025, 10, 26, 7, 0, 0).unwrap()).len(),
            0
        );
        // In spring (30 March 2025) 02:30 does not exist in Paris; 20:00 to 08:00 is 11 hours.
        assert_eq!(
            from_local(local(30, 3, 2, 30), Paris),
            Err(LocalTimeProblem::DoesNotExist)
        );
        let start = from_local(local(29, 3, 20, 0), Paris).unwrap();
        let end = from_local(local(30, 3, 8, 0), Paris).unwrap();
        assert_eq!((end - start).num_hours(), 11);
        // The same shift typed in New York time covers other UTC hours.
        let ny = from_local(local(17, 10, 8, 0), chrono_tz::America::New_York).unwrap();
        assert_eq!(ny, Utc.with_ymd_and_hms(2025, 10, 17, 12, 0, 0).unwrap());
    }
}
