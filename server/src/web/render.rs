//! Pages and server functions run on single-threaded workers.
//!
//! Leptos' server rendering waits on resources through wakers shared between the render and
//! the tasks it spawns. On a work-stealing runtime those tasks run on other threads, and a
//! rare race between a resource finishing and Suspense registering its waker left a response
//! unanswered for good (seen about once in ten runs of the test suite; leptos issues #4851,
//! #4673). Pinning each request to one thread — its spawned tasks run there too — takes the
//! race away; requests still run in parallel, one per worker.
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
        Err(err) => {
            tracing::error!(error = %err, "a page's rendering task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
