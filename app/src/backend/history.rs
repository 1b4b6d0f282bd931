//! The rollback history: every incident decided for a rollback, with its plan, approvers and
//! times, filtered by environment, kind and period (detection date, in the viewer's zone).
use super::AppError;
use crate::domain::figures::RollbackRow;
use crate::domain::RollbackType;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// The History page's filters, as its GET form sends them (empty = all).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryFilter {
    pub environment: Option<Uuid>,
    pub kind: Option<RollbackType>,
    /// Detected on or after this day, and on or before that one.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl HistoryFilter {
    /// From the query string's values; a value that doesn't parse is ignored.
    pub fn parse(environment: &str, kind: &str, from: &str, to: &str) -> HistoryFilter {
        HistoryFilter {
            environment: Uuid::parse_str(environment.trim()).ok(),
            kind: RollbackType::parse(kind.trim()),
            from: crate::domain::typed::parse_date(from),
            to: crate::domain::typed::parse_date(to),
        }
    }
}

pub async fn rollbacks(
    pool: &PgPool,
    filter: &HistoryFilter,
    tz: &str,
) -> Result<Vec<RollbackRow>, AppError> {
    Ok(sqlx::query_as::<_, RollbackRow>(
        "SELECT i.id AS incident, i.title, e.name AS environment, i.rollback_type AS kind,
                p.from_release, p.target_release AS to_release, p.backup_file AS backup,
                COALESCE((SELECT array_agg(u.name ORDER BY r.at) FROM plan_reviews r
                 JOIN users u ON u.id = r.reviewer_id
                 WHERE r.plan_id = p.id AND r.verdict = 'approved' AND r.fingerprint = p.fingerprint),
                         '{}') AS approvers,
                i.detected_at, i.decided_at,
                COALESCE(i.restored_at, (SELECT max(x.finished_at) FROM executions x
                                         WHERE x.incident_id = i.id AND x.status IN ('succeeded', 'succeeded_with_skips')))
                    AS restored_at,
                i.state,
                EXISTS (SELECT 1 FROM executions x WHERE x.incident_id = i.id
                        AND x.status = 'succeeded_with_skips') AS skipped_steps
         FROM incidents i JOIN environments e ON e.id = i.environment_id
         LEFT JOIN plans p ON p.incident_id = i.id
         WHERE i.decision = 'rollback'
           AND ($1::uuid IS NULL OR i.environment_id = $1)
           AND ($2::text IS NULL OR i.rollback_type = $2)
           AND ($3::date IS NULL OR (i.detected_at AT TIME ZONE $5)::date >= $3)
           AND ($4::date IS NULL OR (i.detected_at AT TIME ZONE $5)::date <= $4)
         ORDER BY i.detected_at DESC, i.id DESC",
    )
    .bind(filter.environment)
    .bind(filter.kind.map(|k| k.as_str()))
    .bind(filter.from)
    .bind(filter.to)
    .bind(tz)
    .fetch_all(pool)
    .await?)
}
