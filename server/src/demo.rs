//! Demo data for `serve --demo`: one account per role (listed in the README).
use app::backend::accounts::{self, NewAccount};
use app::backend::AppError;
use app::domain::{EmailAddress, NewPassword, PersonName, Roles};
use sqlx::PgPool;

pub const DEMO_PASSWORD: &str = "taskflow-demo";

/// (email, name, role) of the demo accounts.
pub const DEMO_ACCOUNTS: [(&str, &str, &str); 9] = [
    (
        "claire.dubois@taskflow.example",
        "Claire Dubois",
        "tech_lead",
    ),
    (
        "marc.lefevre@taskflow.example",
        "Marc Lefèvre",
        "project_manager",
    ),
    (
        "sophie.martin@taskflow.example",
        "Sophie Martin",
        "sysadmin",
    ),
    (
        "julien.moreau@taskflow.example",
        "Julien Moreau",
        "senior_dev_oncall",
    ),
    (
        "thomas.bernard@taskflow.example",
        "Thomas Bernard",
        "developer",
    ),
    ("camille.petit@taskflow.example", "Camille Petit", "qa"),
    ("nadia.haddad@taskflow.example", "Nadia Haddad", "dba"),
    ("paul.roux@taskflow.example", "Paul Roux", "viewer"),
    ("admin@taskflow.example", "Alex Admin", "admin"),
];

/// Creates the demo accounts that don't exist yet; returns how many were created.
pub async fn seed(pool: &PgPool) -> Result<usize, AppError> {
    let mut created = 0;
    for (email, name, role) in DEMO_ACCOUNTS {
        let (Some(email), Some(name), Some(password), Some(roles)) = (
            EmailAddress::parse(email),
            PersonName::parse(name),
            NewPassword::parse(DEMO_PASSWORD),
            Roles::parse([role]),
        ) else {
            return Err(AppError::Internal(format!(
                "demo account {email} is invalid"
            )));
        };
        let new = NewAccount {
            email,
            name,
            password,
            roles,
        };
        match accounts::create(pool, &new).await {
            Ok(_) => created += 1,
            Err(AppError::Invalid(_)) => {} // already there
            Err(other) => return Err(other),
        }
    }
    Ok(created)
}
