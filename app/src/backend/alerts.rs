//! Alert intake: an environment's token, its rules (severity and §2.1 criteria from labels),
//! and what a received payload does — open an incident, join one, or only record that an
//! alert resolved. One payload is one transaction.
use crate::backend::timeline::{self, Event};
use crate::backend::AppError;
use crate::domain::alert::{web_link, Alert, AlertRules, Payload, Status};
use crate::domain::{Role, Severity};
use crate::i18n::{Msg, Text};
use crate::records::AlertRecord;
use crate::viewer::SignedInUser;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// The states of an incident that is still open (an alert may join it).
const OPEN: &str = "i.state NOT IN ('resolved', 'closed', 'fix_forward', 'cancelled')";

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The environment whose alert token this is. Tokens are 256 random bits, so an unsalted
/// sha256 is enough to keep them unusable from a copy of the database, and lets the token
/// itself name its environment.
pub async fn environment_of_token(pool: &PgPool, token: &str) -> Result<Option<Uuid>, AppError> {
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    Ok(
        sqlx::query_scalar("SELECT id FROM environments WHERE alert_token_hash = $1")
            .bind(hash(token))
            .fetch_optional(pool)
            .await?,
    )
}

/// Who may change an environment's integrations: admins.
fn may_configure(actor: &SignedInUser) -> Result<(), AppError> {
    if actor.roles.contains(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Makes a new alert token for `env` (the old one stops working at once) and returns it: it
/// is shown once and only its hash is kept.
pub async fn rotate_token(
    pool: &PgPool,
    actor: &SignedInUser,
    env: Uuid,
) -> Result<String, AppError> {
    use rand::RngCore;
    may_configure(actor)?;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = format!(
        "rbd_alert_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let done = sqlx::query(
        "UPDATE environments SET alert_token_hash = $2, alert_token_set_at = now() WHERE id = $1",
    )
    .bind(env)
    .bind(hash(&token))
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Refused(Msg::UnknownEnvironment.into()));
    }
    tracing::info!(user = %actor.id, environment = %env, "alert token rotated");
    Ok(token)
}

/// An environment's alert settings, as its page shows them.
pub struct AlertSettings {
    pub token_set_at: Option<DateTime<Utc>>,
    pub rules: AlertRules,
}

#[derive(sqlx::FromRow)]
struct RulesRow {
    alert_token_set_at: Option<DateTime<Utc>>,
    alert_severity_map: sqlx::types::Json<std::collections::BTreeMap<String, Severity>>,
    alert_criteria_map: sqlx::types::Json<Vec<(String, String, crate::domain::Criterion)>>,
}

pub async fn settings(
    conn: impl sqlx::PgExecutor<'_>,
    env: Uuid,
) -> Result<Option<AlertSettings>, AppError> {
    let row = sqlx::query_as::<_, RulesRow>(
        "SELECT alert_token_set_at, alert_severity_map, alert_criteria_map
         FROM environments WHERE id = $1",
    )
    .bind(env)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| AlertSettings {
        token_set_at: r.alert_token_set_at,
        rules: AlertRules {
            severities: r.alert_severity_map.0,
            criteria: r.alert_criteria_map.0,
        },
    }))
}

/// Saves the rules typed on the environment page; a line that can't be read is named next
/// to its field and nothing is saved.
pub async fn save_rules(
    pool: &PgPool,
    actor: &SignedInUser,
    env: Uuid,
    severities: &str,
    criteria: &str,
) -> Result<(), AppError> {
    may_configure(actor)?;
    let mut errors = std::collections::BTreeMap::new();
    let severities = AlertRules::parse_severities(severities)
        .map_err(|line| errors.insert("severities".into(), Text::with(Msg::AlertRuleLine, line)))
        .ok();
    let criteria = AlertRules::parse_criteria(criteria)
        .map_err(|line| errors.insert("criteria".into(), Text::with(Msg::AlertRuleLine, line)))
        .ok();
    let (Some(severities), Some(criteria)) = (severities, criteria) else {
        return Err(AppError::Invalid(errors));
    };
    let done = sqlx::query(
        "UPDATE environments SET alert_severity_map = $2, alert_criteria_map = $3 WHERE id = $1",
    )
    .bind(env)
    .bind(sqlx::types::Json(&severities))
    .bind(sqlx::types::Json(&criteria))
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Refused(Msg::UnknownEnvironment.into()));
    }
    Ok(())
}

/// What a payload did.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Received {
    /// Incidents opened.
    pub opened: Vec<i64>,
    /// Alerts that joined an open incident.
    pub joined: usize,
    /// Alerts already received (same fingerprint and start): nothing added.
    pub repeated: usize,
    /// Resolved alerts recorded on their incident.
    pub resolved: usize,
    /// Resolved alerts this app never received firing: nothing to record.
    pub unknown: usize,
}

/// The deployment live on `env` at `at` (§11.2): id, version, release.
async fn live_deployment(
    tx: &mut Transaction<'_, Postgres>,
    env: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<(i64, String, String)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, version, release FROM deployments
         WHERE environment_id = $1 AND deployed_at <= $2
         ORDER BY deployed_at DESC, id DESC LIMIT 1",
    )
    .bind(env)
    .bind(at)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Takes a checked payload for environment `env`, in one transaction.
pub async fn receive(
    pool: &PgPool,
    env: Uuid,
    payload: &Payload,
    now: DateTime<Utc>,
) -> Result<Received, AppError> {
    let mut tx = pool.begin().await?;
    // Two deliveries of one group (Alertmanager retries, several replicas) open one incident.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text || $2, 0))")
        .bind(env)
        .bind(&payload.group_key)
        .execute(&mut *tx)
        .await?;
    let settings = settings(&mut *tx, env)
        .await?
        .ok_or_else(|| AppError::Refused(Msg::UnknownEnvironment.into()))?;
    let mut received = Received::default();
    for alert in &payload.alerts {
        match alert.status {
            Status::Firing => {
                fire(
                    &mut tx,
                    env,
                    &payload.group_key,
                    alert,
                    &settings.rules,
                    now,
                    &mut received,
                )
                .await?
            }
            Status::Resolved => resolve(&mut tx, env, alert, now, &mut received).await?,
        }
    }
    tx.commit().await?;
    Ok(received)
}

async fn fire(
    tx: &mut Transaction<'_, Postgres>,
    env: Uuid,
    group_key: &str,
    alert: &Alert,
    rules: &AlertRules,
    now: DateTime<Utc>,
    received: &mut Received,
) -> Result<(), AppError> {
    let fingerprint = alert.fingerprint.trim();
    let starts_at = alert.detected_at(now);
    let seen: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM alerts
                        WHERE environment_id = $1 AND fingerprint = $2 AND starts_at = $3)",
    )
    .bind(env)
    .bind(fingerprint)
    .bind(starts_at)
    .fetch_one(&mut **tx)
    .await?;
    if seen {
        received.repeated += 1;
        return Ok(());
    }
    // An open incident this alert belongs to: one it already fires on, else its group's.
    let open: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT i.id FROM alerts a JOIN incidents i ON i.id = a.incident_id
         WHERE a.environment_id = $1 AND {OPEN}
           AND ((a.fingerprint = $2 AND a.resolved_at IS NULL) OR a.group_key = $3)
         ORDER BY (a.fingerprint = $2) DESC, i.detected_at LIMIT 1"
    ))
    .bind(env)
    .bind(fingerprint)
    .bind(group_key)
    .fetch_optional(&mut **tx)
    .await?;
    let deployment = live_deployment(tx, env, starts_at).await?;
    let incident = match open {
        Some(id) => {
            sqlx::query("SELECT id FROM incidents WHERE id = $1 FOR NO KEY UPDATE")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            received.joined += 1;
            id
        }
        None => {
            let new = super::incidents::NewIncident {
                fields: super::incidents::IncidentFields {
                    title: alert.title(),
                    description: alert.description(),
                    severity: rules.severity(alert),
                    suspect_release: deployment
                        .as_ref()
                        .map(|(_, _, release)| release.clone())
                        .unwrap_or_default(),
                    criteria: rules.criteria(alert),
                    criteria_other: String::new(),
                },
                detected_at: starts_at,
                environment_id: env,
            };
            let id = super::incidents::insert(tx, &new, None).await?;
            received.opened.push(id);
            id
        }
    };
    let alert_id: i64 = sqlx::query_scalar(
        "INSERT INTO alerts (environment_id, incident_id, fingerprint, group_key, name, labels,
                             annotations, starts_at, generator_url, dashboard_url, panel_url,
                             deployment_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(env)
    .bind(incident)
    .bind(fingerprint)
    .bind(group_key)
    .bind(alert.name())
    .bind(sqlx::types::Json(&alert.labels))
    .bind(sqlx::types::Json(&alert.annotations))
    .bind(starts_at)
    .bind(web_link(&alert.generator_url))
    .bind(web_link(&alert.dashboard_url))
    .bind(web_link(&alert.panel_url))
    .bind(deployment.as_ref().map(|(id, _, _)| *id))
    .fetch_one(&mut **tx)
    .await?;
    timeline::append(
        tx,
        incident,
        None,
        Event::AlertReceived {
            alert: alert_id,
            name: alert.name().to_owned(),
            fingerprint: fingerprint.to_owned(),
            starts_at,
        },
    )
    .await?;
    Ok(())
}

async fn resolve(
    tx: &mut Transaction<'_, Postgres>,
    env: Uuid,
    alert: &Alert,
    now: DateTime<Utc>,
    received: &mut Received,
) -> Result<(), AppError> {
    // Alertmanager writes endsAt; a zero or future one means "now".
    let ends_at = alert
        .ends_at
        .filter(|t| t.timestamp() > 0 && *t <= now)
        .unwrap_or(now);
    let firing: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT id, incident_id, name FROM alerts
         WHERE environment_id = $1 AND fingerprint = $2 AND resolved_at IS NULL
         ORDER BY id",
    )
    .bind(env)
    .bind(alert.fingerprint.trim())
    .fetch_all(&mut **tx)
    .await?;
    if firing.is_empty() {
        received.unknown += 1;
        return Ok(());
    }
    for (id, incident, name) in firing {
        sqlx::query("SELECT id FROM incidents WHERE id = $1 FOR NO KEY UPDATE")
            .bind(incident)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE alerts SET resolved_at = $2 WHERE id = $1")
            .bind(id)
            .bind(ends_at)
            .execute(&mut **tx)
            .await?;
        timeline::append(
            tx,
            incident,
            None,
            Event::AlertResolved {
                alert: id,
                name,
                fingerprint: alert.fingerprint.trim().to_owned(),
                ends_at: Some(ends_at),
            },
        )
        .await?;
        received.resolved += 1;
    }
    Ok(())
}

/// The alerts of incident `id`, oldest first, with the deployment live when each started.
pub async fn of_incident(pool: &PgPool, id: i64) -> Result<Vec<AlertRecord>, AppError> {
    Ok(sqlx::query_as::<_, AlertRecord>(
        "SELECT a.name, COALESCE(a.annotations->>'summary', '') AS summary, a.fingerprint,
                a.starts_at, a.received_at, a.resolved_at, a.generator_url, a.dashboard_url,
                a.panel_url, d.version AS deployed_version, d.release AS deployed_release,
                d.deployed_at
         FROM alerts a LEFT JOIN deployments d ON d.id = a.deployment_id
         WHERE a.incident_id = $1 ORDER BY a.starts_at, a.id LIMIT 200",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}
