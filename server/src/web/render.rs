//! Pages and server functions run on single-threaded workers.
//!
//! Leptos' server rendering waits on resources through wakers shared between the render and
//! the tasks it spawns. Pinning each request to one thread — its spawned tasks run there too —
//! keeps a page's reactive work on one thread; requests still run in parallel, one per worker.
//!
//! The rare hang once blamed on thread races had another cause: route-list generation switches
//! off resource loading process-wide (leptos-rs/leptos#4773). Routes are generated once per
//! process now (`startup::route_list`); `tests/rendering.rs` shows the hang and its end.
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use tokio_util::task::LocalPoolHandle;

fn workers() -> &'static LocalPoolHandle {
    static WORKERS: OnceLock<LocalPoolHandle> = OnceLock::new();
    WORKERS.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        LocalPoolHandle::new(threads.max(2))
    })
}

/// Middleware: runs the rest of the request on a single-threaded worker.
pub async fn on_one_thread(req: Request, next: Next) -> Response {
    match workers().spawn_pinned(move || next.run(req)).await {
        Ok(response) => response,
        Err(err) => failed(err),
    }
}

fn failed(err: tokio::task::JoinError) -> Response {
    tracing::error!(error = %err, "a page's rendering task failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}
