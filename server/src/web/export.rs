//! The post-mortem exported as Markdown (§8.3 layout), French or English, for any signed-in
//! user (the gate sends others to sign in).
use app::backend::{post_mortems, AppState};
use app::i18n::Lang;
use app::viewer::Viewer;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::collections::HashMap;

pub async fn post_mortem(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(incident): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if viewer.user.is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let lang = query
        .get("lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or(viewer.lang);
    match post_mortems::markdown(&state.pool, incident, lang).await {
        Ok(Some((file, text))) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/markdown; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file}\""),
                ),
            ],
            text,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, incident, "post-mortem export");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The rollback history as CSV, filtered like the History page; UTF-8 with a byte-order mark
/// so that spreadsheet programs read the accents right.
pub async fn rollbacks_csv(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    use app::backend::history::{rollbacks, HistoryFilter};
    use app::i18n::Msg;
    if viewer.user.is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let filter = HistoryFilter::parse(get("environment"), get("kind"), get("from"), get("to"));
    let tz = viewer.tz();
    let rows = match rollbacks(&state.pool, &filter, tz.name()).await {
        Ok(rows) => rows,
        Err(err) => {
            tracing::error!(error = %err, "rollback history export");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let lang = viewer.lang;
    let t = |m: Msg| m.text(lang);
    let mut out = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let header = [
        "#".to_owned(),
        t(Msg::Title).to_owned(),
        t(Msg::Environment).to_owned(),
        t(Msg::RollbackTypeLabel).to_owned(),
        t(Msg::Releases).to_owned(),
        t(Msg::Backup).to_owned(),
        t(Msg::Approvers).to_owned(),
        t(Msg::DetectedAt).to_owned(),
        format!("{} (min)", t(Msg::ColToDecide)),
        format!("{} (min)", t(Msg::ColToRestore)),
        format!("{} (min)", t(Msg::ColDowntime)),
        t(Msg::Outcome).to_owned(),
    ];
    let minutes = |m: Option<i64>| m.map(|m| m.to_string()).unwrap_or_default();
    let mut result = out.write_record(header.map(spreadsheet_safe));
    for r in &rows {
        if result.is_err() {
            break;
        }
        result = out.write_record(
            [
                r.incident.to_string(),
                r.title.clone(),
                r.environment.clone(),
                t(Msg::rollback_type(r.kind)).to_owned(),
                format!(
                    "{} → {}",
                    r.from_release.as_deref().unwrap_or("—"),
                    r.to_release.as_deref().unwrap_or("—")
                ),
                r.backup.clone().unwrap_or_default(),
                r.approvers.join(", "),
                viewer.datetime(r.detected_at),
                minutes(r.to_decide()),
                minutes(r.to_restore()),
                minutes(r.downtime()),
                if r.skipped_steps {
                    format!(
                        "{} · {}",
                        t(Msg::state(r.state)),
                        t(Msg::ExecSucceededWithSkips)
                    )
                } else {
                    t(Msg::state(r.state)).to_owned()
                },
            ]
            .map(spreadsheet_safe),
        );
    }
    match result
        .map_err(|e| e.to_string())
        .and_then(|_| out.into_inner().map_err(|e| e.to_string()))
    {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"rollbacks.csv\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "rollback history export");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a leading TAB or CR,
/// OWASP "CSV injection") gets a leading apostrophe, so that an incident titled
/// `=HYPERLINK(…)` is shown as text and never evaluated. Every CSV the app writes goes
/// through it.
pub fn spreadsheet_safe(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formula_starts_are_neutralised_and_the_rest_kept() {
        for cell in ["=1+1", "+33 1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(cell.into()), format!("'{cell}"));
        }
        for cell in ["Facturation", "", "12", "— → v1.2.0", " =x"] {
            assert_eq!(spreadsheet_safe(cell.into()), cell);
        }
    }
}
