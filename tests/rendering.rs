//! Pages keep rendering while other apps are built in the same process.
//!
//! `leptos_server` has one process-wide flag that stops resources from loading; it is on while
//! a route list is generated (leptos-rs/leptos#4773). The suite builds many apps in one process,
//! so a page rendering while another app generated its routes could wait forever for a
//! resource that never loaded. Route lists are generated once per process now.
use crate::helpers::{spawn_app, test_database, test_settings};
use server::startup::Application;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_apps_are_built() {
    let app = spawn_app(test_database().await).await;
    let browser = app
        .signed_in_browser("admin@example.com", "Admin", &["admin"])
        .await;
    let pool = app.pool.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut built = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let other = Application::build(&test_settings(), pool.clone())
                    .await
                    .expect("app builds");
                drop(other);
                built += 1;
                tokio::task::yield_now().await;
            }
            built
        }
    });
    // Each of these pages loads a resource; none may wait for long.
    let pages = ["/admin/users", "/", "/incidents"];
    for round in 0..150 {
        let path = pages[round % pages.len()];
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(5), browser.page(&app, path)).await;
        let Ok((status, html)) = answer else {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            panic!(
                "GET {path} (round {round}) did not render in 5 s while apps were built\n{}",
                app.diagnosis().await
            );
        };
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("</html>"), "{path} rendered whole");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let built = builder.await.expect("builder");
    assert!(built > 10, "apps were built meanwhile ({built})");
    app.stop().await;
}

/// Issue 17 §2: pages carry what they show — no serialized copy of their data for a client
/// bundle that is never built (the execution page sent 64 KiB of output per step twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_no_copy_of_their_data_for_hydration() {
    use crate::plans::{scenario, CLAIRE, PREVIOUS};
    let s = scenario("application").await;
    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;
    s.execute(&claire).await;
    s.run().await;
    let browser = s.browser(CLAIRE).await;
    let id = s.incident;
    for page in [
        "/".to_owned(),
        format!("/incidents/{id}"),
        format!("/incidents/{id}/plan"),
        format!("/incidents/{id}/execution"),
    ] {
        let (status, html) = browser.page(&s.app, &page).await;
        assert_eq!(status, 200, "{page}");
        assert!(html.contains("</main>"), "{page} rendered");
        assert!(
            !html.contains("__RESOLVED_RESOURCES[0]"),
            "{page} carries a serialized copy of its data"
        );
    }
    // The execution page shows the failed step's output once.
    let (_, html) = browser
        .page(&s.app, &format!("/incidents/{id}/execution"))
        .await;
    assert_eq!(
        html.matches("GET https://taskflow.app").count(),
        2,
        "once in the failure summary, once in the step: {html}"
    );
}
