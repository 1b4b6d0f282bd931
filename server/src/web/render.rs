//! Pages and server functions run on single-threaded workers, and a page that does not
//! render in time is rendered again.
//!
//! Leptos' server rendering waits on resources through wakers shared between the render and
//! the tasks it spawns. On a work-stealing runtime those tasks run on other threads, where
//! rare races between a resource finishing and Suspense registering its waker are known
//! (leptos issues #4851, #4673). Pinning each request to one thread — its spawned tasks run
//! there too — takes that class away; requests still run in parallel, one per worker.
//!
//! A rare hang remains (about one page in tens of thousands, seen in the test suite): the
//! request passed the gate, its database connections are idle, and the page's resource is
//! never loaded. Its cause is not found. A GET is safe to repeat, so one that has not rendered
//! after [`RENDER_PATIENCE`] is abandoned and rendered once more, with a warning in the log.
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use std::time::Duration;
use tokio_util::task::LocalPoolHandle;

/// Far beyond any page's normal time (milliseconds), well within a browser's patience.
const RENDER_PATIENCE: Duration = Duration::from_secs(15);

fn workers() -> &'static LocalPoolHandle {
    static WORKERS: OnceLock<LocalPoolHandle> = OnceLock::new();
    WORKERS.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        LocalPoolHandle::new(threads.max(2))
    })
}

/// Middleware: runs the rest of the request on a single-threaded worker.
pub async fn on_one_thread(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return render(req, next).await;
    }
    // A GET has no body to lose: keep its parts to render it again if it hangs.
    let (parts, body) = req.into_parts();
    let again = Request::from_parts(parts.clone(), Body::empty());
    let first = workers().spawn_pinned({
        let next = next.clone();
        move || next.run(Request::from_parts(parts, body))
    });
    let abort = first.abort_handle();
    match tokio::time::timeout(RENDER_PATIENCE, first).await {
        Ok(Ok(response)) => response,
        Ok(Err(err)) => failed(err),
        Err(_) => {
            abort.abort();
            tracing::warn!(
                path = %again.uri().path(),
                "a page did not render in time: rendering it again"
            );
            render(again, next).await
        }
    }
}

async fn render(req: Request, next: Next) -> Response {
    match workers().spawn_pinned(move || next.run(req)).await {
        Ok(response) => response,
        Err(err) => failed(err),
    }
}

fn failed(err: tokio::task::JoinError) -> Response {
    tracing::error!(error = %err, "a page's rendering task failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}
