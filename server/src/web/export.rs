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
