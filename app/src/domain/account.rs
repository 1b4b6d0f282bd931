//! Input of account forms, parsed once into values that can't be invalid.
use serde::{Deserialize, Serialize};
use std::fmt;

/// A lower-cased e-mail address with one `@`, a dot in the domain and no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Option<EmailAddress> {
        let email = input.trim().to_lowercase();
        let (local, domain) = email.split_once('@')?;
        let valid = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        valid.then_some(EmailAddress(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(input: &str) -> Option<PersonName> {
        let name = input.trim();
        let len = name.chars().count();
        ((1..=100).contains(&len) && !name.chars().any(char::is_control))
            .then(|| PersonName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 12 characters, at most 256 (argon2 input stays bounded).
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 12;

    pub fn parse(input: &str) -> Option<NewPassword> {
        let len = input.chars().count();
        (Self::MIN_CHARS..=256)
            .contains(&len)
            .then(|| NewPassword(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

// Never print a password, even in a debug log.
impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            EmailAddress::parse("  Lea.Martin@TaskFlow.Example ")
                .unwrap()
                .as_str(),
            "lea.martin@taskflow.example"
        );
        for bad in [
            "",
            "lea",
            "@x.fr",
            "lea@",
            "lea@x",
            "le a@x.fr",
            "a@b@c.fr",
            "a@.fr",
        ] {
            assert!(EmailAddress::parse(bad).is_none(), "{bad} accepted");
        }
    }

    #[test]
    fn names_and_passwords_are_bounded() {
        assert!(PersonName::parse("   ").is_none());
        assert_eq!(PersonName::parse(" Léa ").unwrap().as_str(), "Léa");
        assert!(PersonName::parse(&"x".repeat(101)).is_none());
        assert!(NewPassword::parse("short").is_none());
        assert!(NewPassword::parse("long enough pw").is_some());
        assert_eq!(
            format!("{:?}", NewPassword::parse("long enough pw").unwrap()),
            "NewPassword(***)"
        );
    }
}
