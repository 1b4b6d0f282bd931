//! Server functions' errors as their clients should see them. `server_fn` answers every error
//! with 500 and its internal text (a missing form field is "Args|missing field `x`"). Here the
//! answer becomes what the request deserves: 400 for a malformed request, the status our code
//! chose (4xx for refusals, 5xx for faults) otherwise, a body that is never internal text, and
//! for a browser's form a redirect back with the message in the flash.
use app::backend::{session, AppError};
use app::i18n::Msg;
use app::records::PublicError;
use app::viewer::Flash;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// server_fn's marker header on an error response.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";

pub async fn answer(session: Session, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let from_browser = accepts_html(req.headers());
    let back = back_to(req.headers());
    let path = req.uri().path().to_owned();
    let visit = req
        .extensions()
        .get::<session::VisitCookie>()
        .cloned()
        .unwrap_or_default();
    let res = next.run(req).await;
    if !res.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return res;
    }
    let status = res.status();
    let bytes = to_bytes(res.into_body(), 1024 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let (kind, data) = text.split_once('|').unwrap_or(("", ""));
    let public = match kind {
        // Our own errors: public already (see `backend::error`), status already chosen.
        "ServerError" => serde_json::from_str::<PublicError>(data).ok(),
        _ => None,
    }
    .unwrap_or_else(|| match kind {
        "Args" | "MissingArg" | "Deserialization" => {
            tracing::info!(%path, reason = %data, "malformed server function request");
            AppError::Refused(Msg::BadRequest.into()).into_public(Msg::InternalErrorRef)
        }
        // Logged with a reference by the one mapping of errors.
        _ => AppError::Internal(format!("server function {path}: {text}"))
            .into_public(Msg::InternalErrorRef),
    });
    let code = StatusCode::from_u16(public.status).unwrap_or(status);
    if from_browser {
        let flash = Flash {
            alert: Some(public.message),
            errors: public.fields,
            ..Flash::default()
        };
        if let Err(err) = session::set_flash(&session, &visit, flash).await {
            tracing::error!(error = %err, "flash not saved");
        }
        return Redirect::to(&back).into_response();
    }
    let mut res = Response::new(Body::from(serde_json::to_vec(&public).unwrap_or_default()));
    *res.status_mut() = code;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The request comes from a browser's form (it accepts HTML), not from a script.
pub(crate) fn accepts_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Where a refused request goes back to: its Referer's path on this site, else the dashboard.
pub(crate) fn back_to(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(same_site_path)
        .unwrap_or_else(|| "/".to_owned())
}

/// The path and query of a Referer on this site (a path that starts with one `/`).
fn same_site_path(referer: &str) -> Option<String> {
    let rest = referer.split_once("://").map_or(referer, |(_, r)| r);
    let path = &rest[rest.find('/')?..];
    (path.starts_with('/') && !path.starts_with("//")).then(|| path.to_owned())
}
