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
    use app::backend::history::{self, HistoryFilter};
    use futures::StreamExt;
    if viewer.user.is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let filter = HistoryFilter::parse(get("environment"), get("kind"), get("from"), get("to"));
    // Rows go out as the database yields them, a chunk of lines at a time: an export of the
    // whole history never sits in memory.
    let (chunks, body) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(8);
    tokio::spawn(async move {
        let tz = viewer.tz();
        let query = history::all_query();
        let mut rows = history::all(&state.pool, &filter, tz.name(), &query);
        let mut lines = csv_lines(&viewer, None);
        while let Some(row) = rows.next().await {
            let row = match row {
                Ok(row) => row,
                Err(err) => {
                    tracing::error!(error = %err, "rollback history export");
                    let _ = chunks
                        .send(Err(std::io::Error::other("export stopped")))
                        .await;
                    return;
                }
            };
            lines.extend(csv_lines(&viewer, Some(&row)));
            if lines.len() >= 64 * 1024
                && chunks.send(Ok(std::mem::take(&mut lines))).await.is_err()
            {
                return;
            }
        }
        let _ = chunks.send(Ok(lines)).await;
    });
    let stream = futures::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|chunk| (chunk, body))
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"rollbacks.csv\"",
            ),
        ],
        axum::body::Body::from_stream(stream.boxed()),
    )
        .into_response()
}

/// The CSV bytes of one row, or of the header (with the byte-order mark spreadsheets need)
/// when `row` is `None`.
fn csv_lines(viewer: &Viewer, row: Option<&app::domain::figures::RollbackRow>) -> Vec<u8> {
    use app::i18n::Msg;
    let lang = viewer.lang;
    let t = |m: Msg| m.text(lang);
    let minutes = |m: Option<i64>| m.map(|m| m.to_string()).unwrap_or_default();
    let record: Vec<String> = match row {
        None => vec![
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
        ],
        Some(r) => vec![
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
        ],
    };
    let start = if row.is_none() {
        vec![0xEF, 0xBB, 0xBF]
    } else {
        Vec::new()
    };
    let mut out = csv::Writer::from_writer(start);
    // Writing to memory can't fail.
    let _ = out.write_record(record.into_iter().map(spreadsheet_safe));
    out.into_inner().unwrap_or_default()
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
