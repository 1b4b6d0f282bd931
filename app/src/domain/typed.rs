//! What people type that is not free text: dates within years a person means, text without
//! NUL or control characters. Every form and the deploy API read typed values through these.
use chrono::{Datelike, NaiveDate, NaiveDateTime};

/// The years a typed date may fall in: anything else is a typing error (−5000, 99999), and
/// PostgreSQL would refuse or misread it.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// `d` when its year is one a person means.
pub fn sane<D: Datelike>(d: D) -> Option<D> {
    YEARS.contains(&d.year()).then_some(d)
}

/// A date typed as `YYYY-MM-DD`.
pub fn parse_date(typed: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(typed.trim(), "%Y-%m-%d")
        .ok()
        .and_then(sane)
}

/// A date and time typed as a `datetime-local` input sends it (`YYYY-MM-DDTHH:MM`, seconds
/// allowed), or with a space for the `T`.
pub fn parse_local_datetime(typed: &str) -> Option<NaiveDateTime> {
    let typed = typed.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(typed, format).ok())
        .and_then(sane)
}

/// Text a person may type: no NUL, no control character but line breaks and tabs.
pub fn is_clean_text(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_outside_sane_years_are_refused() {
        assert!(parse_date("2025-10-17").is_some());
        assert!(parse_date("-5000-01-01").is_none());
        assert!(parse_date("99999-01-01").is_none());
        assert!(parse_date("1899-12-31").is_none());
        assert!(parse_local_datetime("2025-10-17T14:22").is_some());
        assert!(parse_local_datetime("2025-10-17 14:22").is_some());
        assert!(parse_local_datetime("99999-12-31T23:59").is_none());
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(is_clean_text("ligne 1\nligne 2\tfin"));
        assert!(!is_clean_text("a\0b"));
        assert!(!is_clean_text("\u{1b}[31m"));
    }
}
