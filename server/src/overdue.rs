//! The overdue watcher: marks incidents whose 30-minute decision deadline (§2.2) passed
//! without a decision, once each, with an event; and reminds post-mortems due within 12 hours
//! (§8.1: 48 hours after the rollback), once each.
use app::backend::{incidents, post_mortems};
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
        match post_mortems::remind_due(&pool, chrono::Utc::now()).await {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(?ids, "post-mortems due soon: reminders queued")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "post-mortem reminders failed"),
        }
    }
}

/// The escalation email of §2.2 is queued with the marking (once per incident); this logs it.
fn escalate(ids: &[i64]) {
    for id in ids {
        tracing::warn!(incident = id, "decision deadline passed without a decision");
    }
}
