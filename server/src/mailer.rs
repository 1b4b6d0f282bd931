//! The mailer: delivers the outbox (`FOR UPDATE SKIP LOCKED`, a lease per row) over SMTP with
//! pooled connections and TLS when the server offers it, or into `.eml` files when no SMTP
//! server is configured. A failure is retried with a growing delay; a permanent refusal (5xx)
//! marks the row failed, or bounced when the mailbox does not exist. A row is marked sent in
//! the moment after the server accepted it; a crash in between sends it again after the lease,
//! with the same Message-ID.
use futures::StreamExt;
use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// After this many attempts a message is given up as failed.
const MAX_ATTEMPTS: i32 = 8;
/// Messages delivered at once (as many pooled SMTP connections).
const CONCURRENCY: usize = 4;

#[derive(Clone)]
pub enum Delivery {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `.eml` file per message in this folder.
    Files(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("SMTP settings: {0}")]
    Settings(String),
}

impl Delivery {
    /// `smtp://host:port` (STARTTLS when offered), `smtps://host:port` (TLS from the start), or
    /// none: files in `dir`.
    pub fn from_settings(smtp_url: Option<&str>, dir: PathBuf) -> Result<Delivery, MailerError> {
        let Some(url) = smtp_url else {
            return Ok(Delivery::Files(dir));
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| MailerError::Settings(format!("not an smtp:// URL: {url}")))?;
        let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse::<u16>()
                    .map_err(|_| MailerError::Settings(format!("bad port in {url}")))?,
            ),
            None => (
                rest.trim_end_matches('/').to_owned(),
                if scheme == "smtps" { 465 } else { 25 },
            ),
        };
        let tls =
            TlsParameters::new(host.clone()).map_err(|e| MailerError::Settings(e.to_string()))?;
        let tls = match scheme {
            "smtps" => Tls::Wrapper(tls),
            "smtp" => Tls::Opportunistic(tls),
            other => return Err(MailerError::Settings(format!("unknown scheme {other}"))),
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)))
            .pool_config(PoolConfig::new().max_size(4))
            .build();
        Ok(Delivery::Smtp(transport))
    }
}

pub struct Mailer {
    pool: PgPool,
    delivery: Delivery,
    from: Mailbox,
    batch: i64,
    /// Pause between two messages (the configured rate).
    pace: Duration,
}

/// What became of one message.
enum Outcome {
    Sent,
    /// Try again later.
    Retry(String),
    Failed(String),
    Bounced(String),
}

impl Mailer {
    pub fn new(
        pool: PgPool,
        delivery: Delivery,
        from: &str,
        per_second: u32,
    ) -> Result<Mailer, MailerError> {
        Ok(Mailer {
            pool,
            delivery,
            from: from
                .parse()
                .map_err(|e| MailerError::Settings(format!("mail_from {from}: {e}")))?,
            batch: 100,
            pace: Duration::from_secs_f64(1.0 / f64::from(per_second.max(1))),
        })
    }

    /// Delivers until `stop` turns true, waking every `idle` when the outbox is empty. It
    /// stops between batches only, so that a restart never leaves a message sent but not
    /// recorded (which would send it again).
    pub async fn run(self, idle: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let rest = match self.tick().await {
                Ok(0) => true,
                Ok(_) => false,
                Err(err) => {
                    tracing::warn!(error = %err, "mailer");
                    true
                }
            };
            if rest {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }

    /// Delivers one batch of due messages; returns how many it tried.
    pub async fn tick(&self) -> Result<usize, MailerError> {
        let claimed: Vec<(i64, i64, String, String, i32)> = sqlx::query_as(
            "UPDATE outbox SET locked_until = now() + interval '2 minutes', attempts = attempts + 1
             WHERE id IN (SELECT id FROM outbox
                          WHERE status = 'pending' AND next_attempt_at <= now()
                            AND (locked_until IS NULL OR locked_until < now())
                          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING id, send_id, recipient, message_id, attempts",
        )
        .bind(self.batch)
        .fetch_all(&self.pool)
        .await?;
        let mut sends: HashMap<i64, (String, String, String)> = HashMap::new();
        for (_, send, ..) in &claimed {
            if !sends.contains_key(send) {
                let row: (String, String, String) = sqlx::query_as(
                    "SELECT subject, body_text, body_html FROM email_sends WHERE id = $1",
                )
                .bind(send)
                .fetch_one(&self.pool)
                .await?;
                sends.insert(*send, row);
            }
        }
        // Up to `CONCURRENCY` messages at once over the pooled connections, started no faster
        // than the configured rate (timers can't pause for less than a millisecond: above
        // 1,000 a second, no pause).
        let start = tokio::time::Instant::now();
        let paced = self.pace >= Duration::from_millis(1);
        let sends = &sends;
        let count = claimed.len();
        let results: Vec<Result<(), MailerError>> =
            futures::stream::iter(claimed.into_iter().enumerate())
                .map(
                    |(n, (id, send, recipient, message_id, attempts))| async move {
                        if paced {
                            tokio::time::sleep_until(start + self.pace * n as u32).await;
                        }
                        let (subject, text, html) = &sends[&send];
                        let outcome =
                            match self.message(&recipient, &message_id, subject, text, html) {
                                Ok(message) => self.deliver(id, &recipient, message).await,
                                Err(e) => Outcome::Failed(e),
                            };
                        self.record(id, attempts, outcome).await
                    },
                )
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        results.into_iter().collect::<Result<Vec<()>, _>>()?;
        Ok(count)
    }

    fn message(
        &self,
        to: &str,
        message_id: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<Message, String> {
        let to: Mailbox = to.parse().map_err(|e| format!("address {to}: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{message_id}>")))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(header::ContentType::TEXT_PLAIN)
                            .body(text.to_owned()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(header::ContentType::TEXT_HTML)
                            .body(html.to_owned()),
                    ),
            )
            .map_err(|e| e.to_string())
    }

    async fn deliver(&self, id: i64, recipient: &str, message: Message) -> Outcome {
        match &self.delivery {
            Delivery::Files(dir) => {
                let safe: String = recipient
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "@.-_".contains(c) {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let path = dir.join(format!("{id:08}-{safe}.eml"));
                let written = tokio::fs::create_dir_all(dir)
                    .await
                    .and(tokio::fs::write(&path, message.formatted()).await);
                match written {
                    Ok(()) => Outcome::Sent,
                    Err(e) => Outcome::Retry(format!("{}: {e}", path.display())),
                }
            }
            Delivery::Smtp(transport) => match transport.send(message).await {
                Ok(_) => Outcome::Sent,
                Err(e) if e.is_permanent() => {
                    let text = e.to_string();
                    // 550/551/553: no such mailbox.
                    if text.contains("550") || text.contains("551") || text.contains("553") {
                        Outcome::Bounced(text)
                    } else {
                        Outcome::Failed(text)
                    }
                }
                Err(e) => Outcome::Retry(e.to_string()),
            },
        }
    }

    async fn record(&self, id: i64, attempts: i32, outcome: Outcome) -> Result<(), MailerError> {
        let (status, error) = match outcome {
            Outcome::Sent => ("sent", None),
            Outcome::Failed(e) => ("failed", Some(e)),
            Outcome::Bounced(e) => ("bounced", Some(e)),
            Outcome::Retry(e) if attempts >= MAX_ATTEMPTS => ("failed", Some(e)),
            Outcome::Retry(e) => ("pending", Some(e)),
        };
        // Retries wait 30 s, 1 min, 2 min, 4 min … (at most an hour).
        let delay = 30.0 * 2f64.powi(attempts.saturating_sub(1).min(7));
        sqlx::query(
            "UPDATE outbox SET status = $2, last_error = $3, locked_until = NULL,
                 sent_at = CASE WHEN $2 = 'sent' THEN now() END,
                 next_attempt_at = now() + make_interval(secs => $4)
             WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(error)
        .bind(delay.min(3600.0))
        .execute(&self.pool)
        .await?;
        if status != "sent" {
            tracing::warn!(outbox = id, status, "email not delivered");
        }
        Ok(())
    }
}
