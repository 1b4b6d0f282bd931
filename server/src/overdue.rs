//! The overdue watcher: marks incidents whose 30-minute decision deadline (§2.2) passed
//! without a decision, once each, with an event.
use app::backend::incidents;
use sqlx::PgPool;
use std::time::Duration;

pub async fn watch(pool: PgPool, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match incidents::mark_overdue(&pool, chrono::Utc::now()).await {
            Ok(ids) if !ids.is_empty() => escalate(&ids),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "overdue watcher: check failed"),
        }
    }
}

/// The escalation email of §2.2 is queued with the marking (once per incident); this logs it.
fn escalate(ids: &[i64]) {
    for id in ids {
        tracing::warn!(incident = id, "decision deadline passed without a decision");
    }
}
