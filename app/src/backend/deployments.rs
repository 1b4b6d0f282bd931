//! Recording deployments — from the page, the CLI and the deploy API alike — and the §11.2
//! version table.
use crate::backend::inventory::parse_release_name;
use crate::backend::AppError;
use crate::domain::deployment::{valid_version, ChecklistItem, DeploymentRecord};
use crate::i18n::Msg;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A deployment to record, as received (checked by [`record`]).
pub struct NewDeployment {
    pub environment: String,
    pub version: String,
    pub release: String,
    pub deployed_at: DateTime<Utc>,
    pub checklist: Vec<String>,
}

/// Checks and records a deployment; `source` says where it came from (ui, cli, api, demo).
pub async fn record(
    pool: &PgPool,
    new: &NewDeployment,
    source: &str,
    recorded_by: Option<Uuid>,
) -> Result<i64, AppError> {
    let mut errors = BTreeMap::new();
    let mut need = |field: &str, ok: bool, msg: Msg| {
        if !ok {
            errors.insert(field.to_owned(), msg.into());
        }
    };
    need(
        "version",
        valid_version(new.version.trim()),
        Msg::VersionInvalid,
    );
    need(
        "release",
        parse_release_name(new.release.trim()).is_some(),
        Msg::ReleaseInvalid,
    );
    need(
        "deployed_at",
        new.deployed_at <= Utc::now() + chrono::Duration::minutes(1)
            && crate::domain::typed::sane(new.deployed_at).is_some(),
        Msg::DeployedInFuture,
    );
    let checklist: Option<Vec<ChecklistItem>> = new
        .checklist
        .iter()
        .map(|c| ChecklistItem::parse(c.trim()))
        .collect();
    need("checklist", checklist.is_some(), Msg::UnknownChecklistItem);
    let environment: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM environments WHERE name = $1")
            .bind(new.environment.trim())
            .fetch_optional(pool)
            .await?;
    need(
        "environment",
        environment.is_some(),
        Msg::UnknownEnvironment,
    );
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (Some(environment), Some(mut checklist)) = (environment, checklist) else {
        return Err(AppError::Internal("checked fields missing".into()));
    };
    checklist.sort();
    checklist.dedup();
    let names: Vec<&str> = checklist.iter().map(|c| c.as_str()).collect();
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO deployments (environment_id, version, release, deployed_at, checklist, source, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (environment_id, release) DO NOTHING RETURNING id",
    )
    .bind(environment)
    .bind(new.version.trim())
    .bind(new.release.trim())
    .bind(new.deployed_at)
    .bind(&names)
    .bind(source)
    .bind(recorded_by)
    .fetch_optional(pool)
    .await?;
    id.ok_or_else(|| AppError::field("release", Msg::ReleaseAlreadyRecorded))
}

/// The §11.2 table: every deployment, newest first.
/// Deployments shown per environment on the History page: the latest ones (the §11.2 table
/// is read for what was deployed lately; a page never holds every deployment ever made).
pub const HISTORY_PER_ENVIRONMENT: i64 = 20;

pub async fn history(pool: &PgPool) -> Result<Vec<DeploymentRecord>, AppError> {
    Ok(sqlx::query_as(
        "SELECT e.name AS environment, d.version, d.release, d.deployed_at, d.checklist,
                d.source, d.rolled_back_at, d.rollback_reason
             FROM environments e
             CROSS JOIN LATERAL (SELECT * FROM deployments d WHERE d.environment_id = e.id
                                 ORDER BY d.deployed_at DESC LIMIT $1) d
             ORDER BY e.name, d.deployed_at DESC",
    )
    .bind(HISTORY_PER_ENVIRONMENT)
    .fetch_all(pool)
    .await?)
}
