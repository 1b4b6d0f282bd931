//! Security headers on every response the server sends: pages, server functions, exports,
//! health, errors, static files (the outermost layer). A page already carries its own
//! Content-Security-Policy with its script nonce (`app::pages::shell`); every other response
//! gets the same policy without a nonce.
use app::backend::security::{content_security_policy, fixed_headers};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{HeaderName, HeaderValue, CONTENT_SECURITY_POLICY};

/// Whether responses carry HSTS (the app is served over https).
#[derive(Clone, Copy)]
pub struct Hsts(pub bool);

pub async fn security_headers(
    State(Hsts(hsts)): State<Hsts>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        if let Ok(value) = HeaderValue::from_str(&content_security_policy(None)) {
            headers.insert(CONTENT_SECURITY_POLICY, value);
        }
    }
    for (name, value) in fixed_headers(hsts) {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}
