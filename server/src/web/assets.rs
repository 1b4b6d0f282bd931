//! The stylesheet and the small enhancement script, compiled into the binary so that it runs
//! from any folder.
use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = include_str!("../../../style/main.css");
const JS: &str = include_str!("../../../style/enhance.js");
const ICON: &str = include_str!("../../../style/favicon.svg");

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

pub async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
}
