//! `POST /api/v1/deployments`: a deploy script records a deployment with an API token
//! (`Authorization: Bearer …`). JSON in, JSON out; no session, so no cookie and no CSRF risk.
use app::backend::deployments::{self, NewDeployment};
use app::backend::AppError;
use app::i18n::Lang;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use subtle::ConstantTimeEq;

#[derive(Clone)]
pub struct DeployApi {
    pub pool: PgPool,
    /// None: the endpoint is off.
    pub token: Option<Arc<str>>,
}

#[derive(Deserialize)]
struct Body {
    environment: String,
    version: String,
    release: String,
    /// RFC 3339; default: now.
    deployed_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    checklist: Vec<String>,
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub async fn record(State(api): State<DeployApi>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(expected) = api.token.as_deref() else {
        return answer(
            StatusCode::NOT_FOUND,
            json!({ "error": "the deploy API is off: set RBD_DEPLOY_API_TOKEN to turn it on" }),
        );
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let authorized = sent.is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())));
    if !authorized {
        tracing::warn!("deploy API: missing or wrong token");
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "missing or wrong API token (Authorization: Bearer …)" }),
        );
    }
    let body: Body = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(err) => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("invalid JSON: {err}") }),
            )
        }
    };
    let new = NewDeployment {
        environment: body.environment,
        version: body.version,
        release: body.release,
        deployed_at: body.deployed_at.unwrap_or_else(chrono::Utc::now),
        checklist: body.checklist,
    };
    match deployments::record(&api.pool, &new, "api", None).await {
        Ok(id) => {
            tracing::info!(deployment = id, "deployment recorded through the API");
            answer(StatusCode::CREATED, json!({ "id": id }))
        }
        Err(AppError::Invalid(errors)) => {
            let errors: serde_json::Map<String, serde_json::Value> = errors
                .into_iter()
                .map(|(field, text)| (field, json!(text.render(Lang::En))))
                .collect();
            answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "errors": errors }),
            )
        }
        Err(err) => {
            tracing::error!(error = %err, "deploy API failed");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "internal error" }),
            )
        }
    }
}
