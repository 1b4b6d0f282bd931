//! The stylesheet and the small enhancement script, compiled into the binary so that it runs
//! from any folder.
use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = include_str!("../../../style/main.css");
const JS: &str = include_str!("../../../style/enhance.js");

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        CSS,
    )
}

pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        JS,
    )
}
