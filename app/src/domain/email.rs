//! The emails of §7: which template, and the recipient lists people paste or upload.
use crate::domain::EmailAddress;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

named_enum!(EmailTemplate {
    Internal => "internal",
    Users => "users",
});

/// At most this many recipients in one send.
pub const MAX_RECIPIENTS: usize = 100_000;

/// A pasted or uploaded recipient list, checked: the valid addresses once each (in the order
/// given), the lines that are not addresses, and how many duplicates were dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientList {
    pub valid: Vec<String>,
    /// (line number from 1, the line as typed).
    pub bad: Vec<(usize, String)>,
    pub duplicates: usize,
    /// More than [`MAX_RECIPIENTS`] valid addresses: the rest were not kept.
    pub truncated: bool,
}

impl RecipientList {
    /// One address per line, or CSV whose first column is the address (a header line such as
    /// `email,name` is skipped). Blank lines are ignored; addresses compare case-insensitively.
    pub fn parse(text: &str) -> RecipientList {
        let mut list = RecipientList::default();
        let mut seen = BTreeSet::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() {
                continue;
            }
            let first = line
                .split([',', ';', '\t'])
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"')
                .trim();
            if number == 0
                && matches!(
                    first.to_lowercase().as_str(),
                    "email" | "e-mail" | "mail" | "adresse"
                )
            {
                continue;
            }
            // What mail servers refuse in an address, refused here already.
            let plain = !first.contains(['<', '>', '(', ')', '[', ']', '\\', ',', ';', ':', '"']);
            match EmailAddress::parse(first).filter(|_| plain) {
                Some(address) => {
                    let address = address.as_str().to_owned();
                    if !seen.insert(address.to_lowercase()) {
                        list.duplicates += 1;
                    } else if list.valid.len() >= MAX_RECIPIENTS {
                        list.truncated = true;
                    } else {
                        list.valid.push(address);
                    }
                }
                None => list
                    .bad
                    .push((number + 1, line.chars().take(200).collect())),
            }
        }
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_list_is_checked_and_deduplicated() {
        let list = RecipientList::parse(
            "email,name\nalice@example.com,Alice\n\n\"bob@example.com\";Bob\nnot an address\nALICE@example.com\n<script>@x\n",
        );
        assert_eq!(list.valid, ["alice@example.com", "bob@example.com"]);
        assert_eq!(list.duplicates, 1);
        assert_eq!(
            list.bad,
            [
                (5, "not an address".to_owned()),
                (7, "<script>@x".to_owned())
            ]
        );
        assert!(!list.truncated);
        assert_eq!(RecipientList::parse(""), RecipientList::default());
    }
}
