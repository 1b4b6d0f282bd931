//! `POST /api/v1/alerts/alertmanager`: Prometheus Alertmanager's and Grafana alerting's
//! webhook. The bearer token names the environment; the payload is read and checked whole
//! (at most 1 MiB) before one transaction does what it says. JSON in, JSON out, no session.
use app::backend::alerts;
use app::domain::alert::{Payload, MAX_PAYLOAD_BYTES};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sqlx::PgPool;

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub async fn receive(State(pool): State<PgPool>, headers: HeaderMap, body: Body) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let env = match alerts::environment_of_token(&pool, token).await {
        Ok(Some(env)) => env,
        Ok(None) => {
            tracing::warn!("alert intake: missing or wrong token");
            return answer(
                StatusCode::UNAUTHORIZED,
                json!({ "error": "missing or wrong alert token (Authorization: Bearer …, from the environment's page)" }),
            );
        }
        Err(err) => return failed(&err),
    };
    // One byte more than allowed tells an oversized body from one of exactly the limit.
    let bytes = match axum::body::to_bytes(body, MAX_PAYLOAD_BYTES + 1).await {
        Ok(bytes) if bytes.len() <= MAX_PAYLOAD_BYTES => bytes,
        _ => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("the payload is larger than {MAX_PAYLOAD_BYTES} bytes") }),
            )
        }
    };
    let payload = match Payload::parse(&bytes) {
        Ok(payload) => payload,
        Err(err) => {
            tracing::info!(environment = %env, reason = %err, "alert payload refused");
            return answer(StatusCode::BAD_REQUEST, json!({ "error": err.to_string() }));
        }
    };
    match alerts::receive(&pool, env, &payload, chrono::Utc::now()).await {
        Ok(received) => {
            tracing::info!(environment = %env, ?received, "alerts received");
            answer(StatusCode::OK, json!(received))
        }
        Err(err) => failed(&err),
    }
}

fn failed(err: &app::backend::AppError) -> Response {
    tracing::error!(error = %err, "alert intake failed");
    let status = if err.is_unavailable() {
        // Alertmanager retries a 5xx: the alert is not lost.
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    answer(status, json!({ "error": "internal error" }))
}
