//! The rollback history: every incident decided for a rollback, with its plan, approvers and
//! times, filtered by environment, kind and period (detection date, in the viewer's zone).
use super::AppError;
use crate::domain::figures::{kind_index, Figures, RollbackRow, DECISION_DEADLINE_MINUTES};
use crate::domain::RollbackType;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// Counts the changes to incidents made by this process ([`rollbacks_changed`]): figures
/// kept by [`FiguresCache`] are computed again after any.
static CHANGES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Called on every change of an incident's state (the transitions), which is where
/// decisions, restorations and resolutions are recorded.
pub fn rollbacks_changed() {
    CHANGES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// How long figures are kept at most: changes made by another instance (or committed while
/// the figures were being computed) show within this time.
const FIGURES_KEPT: std::time::Duration = std::time::Duration::from_secs(30);

/// At most this many filter combinations are kept.
const FIGURES_KEPT_MAX: usize = 256;

/// The History figures last computed per (filter, time zone): they read every rollback the
/// filter keeps, which at 10,000 incidents costs tens of milliseconds, while they change
/// only when an incident does.
#[derive(Default)]
pub struct FiguresCache(std::sync::Mutex<HashMap<(HistoryFilter, String), KeptFigures>>);

#[derive(Clone)]
struct KeptFigures {
    changes: u64,
    at: std::time::Instant,
    figures: Figures,
    computed_at: DateTime<Utc>,
}

impl std::fmt::Debug for FiguresCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FiguresCache(…)")
    }
}

/// [`figures`], from `cache` when nothing changed since they were computed (and for at most
/// [`FIGURES_KEPT`]), with when they were computed.
pub async fn figures_kept(
    pool: &PgPool,
    cache: &FiguresCache,
    filter: &HistoryFilter,
    tz: &str,
) -> Result<(Figures, DateTime<Utc>), AppError> {
    let key = (filter.clone(), tz.to_owned());
    // Read before computing: a change during the computation makes the result old at once.
    let changes = CHANGES.load(std::sync::atomic::Ordering::Relaxed);
    let kept = cache.0.lock().ok().and_then(|map| map.get(&key).cloned());
    if let Some(kept) = kept.filter(|k| k.changes == changes && k.at.elapsed() < FIGURES_KEPT) {
        return Ok((kept.figures, kept.computed_at));
    }
    let (at, computed_at) = (std::time::Instant::now(), Utc::now());
    let fresh = figures(pool, filter, tz).await?;
    if let Ok(mut map) = cache.0.lock() {
        if map.len() >= FIGURES_KEPT_MAX {
            map.clear();
        }
        map.insert(
            key,
            KeptFigures {
                changes,
                at,
                figures: fresh.clone(),
                computed_at,
            },
        );
    }
    Ok((fresh, computed_at))
}

/// The History page's filters, as its GET form sends them (empty = all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Rows of the History table per page.
pub const PAGE_SIZE: i64 = 50;
/// The highest page asked for.
pub const MAX_PAGE: i64 = 10_000;

/// The incidents the filter keeps (`$1`–`$5`: environment, kind, from, to, time zone).
const FILTERED: &str = "FROM incidents i
     WHERE i.decision = 'rollback'
       AND ($1::uuid IS NULL OR i.environment_id = $1)
       AND ($2::text IS NULL OR i.rollback_type = $2)
       AND ($3::date IS NULL OR (i.detected_at AT TIME ZONE $5)::date >= $3)
       AND ($4::date IS NULL OR (i.detected_at AT TIME ZONE $5)::date <= $4)";

/// When service came back: recorded, else the end of the successful execution.
const RESTORED_AT: &str = "COALESCE(i.restored_at, (SELECT max(x.finished_at) FROM executions x
     WHERE x.incident_id = i.id AND x.status IN ('succeeded', 'succeeded_with_skips')))";

fn rows_query(tail: &str) -> String {
    format!(
        "SELECT i.id AS incident, i.title, e.name AS environment, i.rollback_type AS kind,
                p.from_release, p.target_release AS to_release, p.backup_file AS backup,
                COALESCE((SELECT array_agg(u.name ORDER BY r.at) FROM plan_reviews r
                 JOIN users u ON u.id = r.reviewer_id
                 WHERE r.plan_id = p.id AND r.verdict = 'approved' AND r.fingerprint = p.fingerprint),
                         '{{}}') AS approvers,
                i.detected_at, i.decided_at, {RESTORED_AT} AS restored_at, i.state,
                EXISTS (SELECT 1 FROM executions x WHERE x.incident_id = i.id
                        AND x.status = 'succeeded_with_skips') AS skipped_steps
         FROM (SELECT i.* {FILTERED} ORDER BY i.detected_at DESC, i.id DESC {tail}) i
         JOIN environments e ON e.id = i.environment_id
         LEFT JOIN plans p ON p.incident_id = i.id
         ORDER BY i.detected_at DESC, i.id DESC"
    )
}

/// One page (from 1) of the rollbacks `filter` keeps, newest first, and whether more follow.
/// Only that page's incidents are read and joined.
pub async fn page(
    pool: &PgPool,
    filter: &HistoryFilter,
    tz: &str,
    page: i64,
) -> Result<(Vec<RollbackRow>, bool), AppError> {
    let page = page.clamp(1, MAX_PAGE);
    let query = rows_query("LIMIT $6 OFFSET $7");
    let rows = filtered(sqlx::query_as::<_, RollbackRow>(&query), filter, tz)
        .bind(PAGE_SIZE + 1)
        .bind((page - 1) * PAGE_SIZE)
        .fetch_all(pool)
        .await?;
    Ok(super::one_page(rows, PAGE_SIZE))
}

/// `query` with the filter's values bound as `$1`–`$5` (see [`FILTERED`]).
fn filtered<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    filter: &'q HistoryFilter,
    tz: &'q str,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    query
        .bind(filter.environment)
        .bind(filter.kind.map(|k| k.as_str()))
        .bind(filter.from)
        .bind(filter.to)
        .bind(tz)
}

/// Every rollback `filter` keeps, newest first, as a stream (the CSV export: never all in
/// memory at once).
pub fn all<'a>(
    pool: &'a PgPool,
    filter: &'a HistoryFilter,
    tz: &'a str,
    query: &'a str,
) -> impl futures::Stream<Item = Result<RollbackRow, sqlx::Error>> + 'a {
    filtered(sqlx::query_as::<_, RollbackRow>(query), filter, tz).fetch(pool)
}

/// The query [`all`] runs.
pub fn all_query() -> String {
    rows_query("")
}

/// The figures of every rollback `filter` keeps, computed in the database over the whole
/// filtered period (not the page): months counted in `tz`; minutes truncated as the table
/// shows them.
pub async fn figures(pool: &PgPool, filter: &HistoryFilter, tz: &str) -> Result<Figures, AppError> {
    let with = format!(
        "WITH r AS (SELECT i.rollback_type AS kind, i.detected_at, i.decided_at,
                           {RESTORED_AT} AS restored_at {FILTERED})"
    );
    let months_query = format!(
        "{with} SELECT to_char(detected_at AT TIME ZONE $5, 'YYYY-MM'), kind, count(*)
         FROM r GROUP BY 1, 2 ORDER BY 1"
    );
    let months: Vec<(String, String, i64)> = filtered(sqlx::query_as(&months_query), filter, tz)
        .fetch_all(pool)
        .await?;
    let mut f = Figures::default();
    for (month, kind, n) in months {
        let kind = RollbackType::parse(&kind)
            .ok_or_else(|| AppError::Internal(format!("rollback type {kind}")))?;
        match f.per_month.last_mut() {
            Some((m, counts)) if *m == month => counts[kind_index(kind)] += n as usize,
            _ => {
                let mut counts = [0; 3];
                counts[kind_index(kind)] = n as usize;
                f.per_month.push((month, counts));
            }
        }
    }
    #[derive(sqlx::FromRow)]
    struct Totals {
        decided: i64,
        decided_in_time: i64,
        restored: Vec<i64>,
        restored_in_estimate: Vec<i64>,
        mean_downtime: Option<f64>,
    }
    let minutes = |from: &str, to: &str| format!("trunc(extract(epoch FROM {to} - {from}) / 60)");
    let (decide, restore, down) = (
        minutes("detected_at", "decided_at"),
        minutes("decided_at", "restored_at"),
        minutes("detected_at", "restored_at"),
    );
    let per_kind = |condition: &str| {
        RollbackType::ALL
            .iter()
            .map(|k| {
                let (_, most) = crate::domain::figures::estimate(*k);
                let condition = condition.replace("{most}", &most.to_string());
                format!(
                    "count(*) FILTER (WHERE kind = '{}' AND {condition})",
                    k.as_str()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let totals_query = format!(
        "{with} SELECT count(decided_at) AS decided,
                count(*) FILTER (WHERE {decide} <= {DECISION_DEADLINE_MINUTES}) AS decided_in_time,
                ARRAY[{}] AS restored,
                ARRAY[{}] AS restored_in_estimate,
                avg({down})::float8 AS mean_downtime
         FROM r",
        per_kind("decided_at IS NOT NULL AND restored_at IS NOT NULL"),
        per_kind(&format!(
            "decided_at IS NOT NULL AND restored_at IS NOT NULL AND {restore} <= {{most}}"
        )),
    );
    let totals: Totals = filtered(sqlx::query_as(&totals_query), filter, tz)
        .fetch_one(pool)
        .await?;
    let three = |v: &[i64]| [0, 1, 2].map(|k| v.get(k).copied().unwrap_or(0) as usize);
    f.decided = totals.decided as usize;
    f.decided_in_time = totals.decided_in_time as usize;
    f.restored = three(&totals.restored);
    f.restored_in_estimate = three(&totals.restored_in_estimate);
    f.mean_time_to_restore = totals.mean_downtime;
    Ok(f)
}
