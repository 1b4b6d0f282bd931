//! Roles of DESIGN.md "Roles and permissions". A user holds one or more.
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    TechLead,
    ProjectManager,
    Sysadmin,
    SeniorDevOncall,
    Developer,
    Qa,
    Dba,
    Viewer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::TechLead,
        Role::ProjectManager,
        Role::Sysadmin,
        Role::SeniorDevOncall,
        Role::Developer,
        Role::Qa,
        Role::Dba,
        Role::Viewer,
        Role::Admin,
    ];

    /// The four roles of §2.2 allowed to trigger a rollback (decide, plan, approve, execute).
    pub const ROLLBACK_DECIDERS: [Role; 4] = [
        Role::TechLead,
        Role::ProjectManager,
        Role::Sysadmin,
        Role::SeniorDevOncall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::TechLead => "tech_lead",
            Role::ProjectManager => "project_manager",
            Role::Sysadmin => "sysadmin",
            Role::SeniorDevOncall => "senior_dev_oncall",
            Role::Developer => "developer",
            Role::Qa => "qa",
            Role::Dba => "dba",
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn may_decide_rollback(self) -> bool {
        Role::ROLLBACK_DECIDERS.contains(&self)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty, sorted, duplicate-free set of roles: what an account holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Roles(Vec<Role>);

impl Roles {
    /// Parses role names; `None` when empty or when a name is unknown.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<Roles> {
        let mut roles = Vec::new();
        for name in names {
            roles.push(Role::parse(name.trim())?);
        }
        roles.sort();
        roles.dedup();
        (!roles.is_empty()).then_some(Roles(roles))
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|r| r.as_str().to_owned()).collect()
    }

    pub fn may_decide_rollback(&self) -> bool {
        self.0.iter().any(|r| r.may_decide_rollback())
    }
}

// Stored as text (contacts.role): read back through `parse`; an unknown role is a decoding
// error, never dropped.
#[cfg(feature = "ssr")]
impl sqlx::Type<sqlx::Postgres> for Role {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <String as sqlx::Type<sqlx::Postgres>>::type_info()
    }
    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <String as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

#[cfg(feature = "ssr")]
impl<'r> sqlx::Decode<'r, sqlx::Postgres> for Role {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Role::parse(text).ok_or_else(|| format!("unknown role in the database: {text:?}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sorts_and_dedups() {
        let roles = Roles::parse(["qa", "admin", "qa"]).unwrap();
        assert_eq!(roles.names(), vec!["qa", "admin"]);
        assert!(Roles::parse(["qa", "boss"]).is_none());
        assert!(Roles::parse([]).is_none());
    }

    #[test]
    fn only_the_four_section_2_2_roles_decide() {
        let deciders: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.may_decide_rollback())
            .collect();
        assert_eq!(deciders, Role::ROLLBACK_DECIDERS.to_vec());
    }
}
