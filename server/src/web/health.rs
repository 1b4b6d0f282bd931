//! Probes for load balancers: `/healthz` (the process answers) and `/readyz` (so does the
//! database).
use axum::extract::State;
use axum::http::StatusCode;
use sqlx::PgPool;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(pool): State<PgPool>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&pool).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "readiness probe: database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
