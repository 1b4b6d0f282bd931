//! The mailer: delivers the outbox (`FOR UPDATE SKIP LOCKED`) over SMTP with pooled
//! connections and TLS when the server offers it, or into `.eml` files when no SMTP server is
//! configured.
//!
//! What it guarantees:
//! - a message is marked `sending` by this mailer (a 30-second lease, renewed just before it is
//!   handed to SMTP) and handed over only if that write succeeded: with the database away,
//!   nothing is sent that could not be recorded;
//! - what SMTP accepted is recorded `sent`, the write retried until the database answers;
//!   only a crash between the two sends it again (after the lease, with the same Message-ID);
//! - a temporary failure (connection refused, timeout, 4xx) is retried with a growing delay
//!   (30 s, 1 min … at most 10 min) for the retry window (24 h by default), then the message is
//!   `failed` with the reason; a permanent refusal (5xx) is `bounced` at once. Both are shown
//!   on the incident and the dashboard, and a person sends them again from the incident's
//!   emails page.
use futures::StreamExt;
use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// A mailer's hold on the messages it is sending; past it (the mailer died), another takes
/// them.
const LEASE_SECONDS: f64 = 30.0;
/// The longest wait between two attempts at a message.
const MAX_DELAY_SECONDS: f64 = 600.0;
/// How long temporary failures are retried, by default.
pub const RETRY_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Messages delivered at once (as many pooled SMTP connections).
const CONCURRENCY: usize = 4;

#[derive(Clone)]
pub enum Delivery {
    /// `smtp://`: plain, or STARTTLS when the server offers it, over connections of our own.
    Smtp(SmtpPool),
    /// `smtps://`: TLS from the start, through lettre's own pooled transport.
    Smtps(AsyncSmtpTransport<Tokio1Executor>),
    /// One `.eml` file per message in this folder.
    Files(PathBuf),
}

/// SMTP connections opened by the mailer itself, with `TCP_NODELAY`.
///
/// lettre 0.11.23 writes a message's terminator (`.`) in a second small write and never sets
/// `TCP_NODELAY`: Nagle's algorithm holds that write until the server acknowledges the body,
/// which a server delays by up to 40 ms — every message waited that long (measured 56 ms
/// against 2 ms). Upstream fixed it (lettre PR #1159) in no release yet, and lettre's pooled
/// transport offers no way to set the option, so the connections are opened here and handed
/// to lettre's public `AsyncSmtpConnection::connect_with_transport`, which speaks SMTP over
/// them (EHLO, STARTTLS, MAIL/RCPT/DATA). When a lettre release carries the fix, this pool
/// can go back to `AsyncSmtpTransport`. `smtps://` still goes through lettre's transport (its
/// TLS-from-the-start connector is not public) and keeps the stall.
#[derive(Clone)]
pub struct SmtpPool {
    inner: std::sync::Arc<SmtpPoolInner>,
}

struct SmtpPoolInner {
    host: String,
    port: u16,
    tls: TlsParameters,
    hello: ClientId,
    timeout: Duration,
    /// Connections not in use, with when each was last used.
    idle: tokio::sync::Mutex<Vec<(AsyncSmtpConnection, std::time::Instant)>>,
}

impl SmtpPool {
    fn new(host: String, port: u16, tls: TlsParameters, timeout: Duration) -> SmtpPool {
        SmtpPool {
            inner: std::sync::Arc::new(SmtpPoolInner {
                host,
                port,
                tls,
                hello: ClientId::default(),
                timeout,
                idle: tokio::sync::Mutex::new(Vec::new()),
            }),
        }
    }

    /// A connection: an idle one still answering, or a new one.
    async fn take(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        loop {
            let next = self.inner.idle.lock().await.pop();
            let Some((mut connection, used)) = next else {
                break;
            };
            // A connection idle for a while may have been closed by the server: ask first.
            if used.elapsed() < Duration::from_secs(5) || connection.test_connected().await {
                return Ok(connection);
            }
            connection.abort().await;
        }
        self.connect().await
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        let inner = &self.inner;
        let tcp = tokio::time::timeout(
            inner.timeout,
            tokio::net::TcpStream::connect((inner.host.as_str(), inner.port)),
        )
        .await
        .map_err(|_| SmtpError::Io(std::io::Error::from(std::io::ErrorKind::TimedOut)))?
        .map_err(SmtpError::Io)?;
        // The point of this pool: no Nagle wait before the message's terminator.
        tcp.set_nodelay(true).map_err(SmtpError::Io)?;
        let mut connection = tokio::time::timeout(
            inner.timeout,
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &inner.hello),
        )
        .await
        .map_err(|_| SmtpError::Io(std::io::Error::from(std::io::ErrorKind::TimedOut)))?
        .map_err(SmtpError::Smtp)?;
        if connection.can_starttls() {
            connection
                .starttls(inner.tls.clone(), &inner.hello)
                .await
                .map_err(SmtpError::Smtp)?;
        }
        Ok(connection)
    }

    /// A connection that can serve again, kept for the next message.
    async fn give_back(&self, connection: AsyncSmtpConnection) {
        self.inner
            .idle
            .lock()
            .await
            .push((connection, std::time::Instant::now()));
    }

    async fn send(&self, message: &Message) -> Result<(), SmtpError> {
        let mut connection = self.take().await?;
        let sent = tokio::time::timeout(
            self.inner.timeout,
            connection.send(message.envelope(), &message.formatted()),
        )
        .await;
        match sent {
            Ok(Ok(_)) => {
                self.give_back(connection).await;
                Ok(())
            }
            Ok(Err(e)) => {
                // A refused message leaves the connection usable; a broken one is dropped.
                if connection.has_broken() {
                    connection.abort().await;
                } else {
                    self.give_back(connection).await;
                }
                Err(SmtpError::Smtp(e))
            }
            Err(_) => {
                connection.abort().await;
                Err(SmtpError::Io(std::io::Error::from(
                    std::io::ErrorKind::TimedOut,
                )))
            }
        }
    }
}

/// Why an SMTP delivery failed.
#[derive(Debug, thiserror::Error)]
enum SmtpError {
    #[error("{0}")]
    Io(std::io::Error),
    #[error("{0}")]
    Smtp(lettre::transport::smtp::Error),
}

impl SmtpError {
    /// A permanent refusal (5xx): retrying would change nothing.
    fn is_permanent(&self) -> bool {
        matches!(self, SmtpError::Smtp(e) if e.is_permanent())
    }
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
        let timeout = Duration::from_secs(20);
        match scheme {
            "smtp" => Ok(Delivery::Smtp(SmtpPool::new(host, port, tls, timeout))),
            "smtps" => Ok(Delivery::Smtps(
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    .port(port)
                    .tls(Tls::Wrapper(tls))
                    .timeout(Some(timeout))
                    .pool_config(PoolConfig::new().max_size(CONCURRENCY as u32))
                    .build(),
            )),
            other => Err(MailerError::Settings(format!("unknown scheme {other}"))),
        }
    }
}

pub struct Mailer {
    pool: PgPool,
    /// This mailer's identity in its holds on messages.
    owner: uuid::Uuid,
    retry_window: Duration,
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
            owner: uuid::Uuid::new_v4(),
            retry_window: RETRY_WINDOW,
            delivery,
            from: from
                .parse()
                .map_err(|e| MailerError::Settings(format!("mail_from {from}: {e}")))?,
            batch: 100,
            pace: Duration::from_secs_f64(1.0 / f64::from(per_second.max(1))),
        })
    }

    /// The same mailer, retrying temporary failures for `window` (`mail_retry_hours`).
    pub fn with_retry_window(mut self, window: Duration) -> Mailer {
        self.retry_window = window;
        self
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

    /// Delivers one batch of due messages (and those a dead mailer held); returns how many it
    /// took.
    pub async fn tick(&self) -> Result<usize, MailerError> {
        #[derive(sqlx::FromRow)]
        struct Claimed {
            id: i64,
            send_id: i64,
            recipient: String,
            message_id: String,
            attempts: i32,
            /// The retry window is over: a temporary failure now fails it.
            last_chance: bool,
        }
        #[derive(sqlx::FromRow)]
        struct Content {
            id: i64,
            subject: String,
            body_text: String,
            body_html: String,
        }
        let claimed: Vec<Claimed> = sqlx::query_as(
            "UPDATE outbox SET status = 'sending', locked_by = $2,
                 locked_until = now() + make_interval(secs => $3), attempts = attempts + 1
             WHERE id IN (SELECT id FROM outbox
                          WHERE (status = 'pending' AND next_attempt_at <= now())
                             OR (status = 'sending' AND locked_until < now())
                          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING id, send_id, recipient, message_id, attempts,
                       created_at + make_interval(secs => $4) < now() AS last_chance",
        )
        .bind(self.batch)
        .bind(self.owner)
        .bind(LEASE_SECONDS)
        .bind(self.retry_window.as_secs_f64())
        .fetch_all(&self.pool)
        .await?;
        let mut send_ids: Vec<i64> = claimed.iter().map(|c| c.send_id).collect();
        send_ids.sort_unstable();
        send_ids.dedup();
        let sends: HashMap<i64, Content> = sqlx::query_as::<_, Content>(
            "SELECT id, subject, body_text, body_html FROM email_sends WHERE id = ANY($1)",
        )
        .bind(&send_ids)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
        // Up to `CONCURRENCY` messages at once over the pooled connections, started no faster
        // than the configured rate (timers can't pause for less than a millisecond: above
        // 1,000 a second, no pause).
        let start = tokio::time::Instant::now();
        let paced = self.pace >= Duration::from_millis(1);
        let sends = &sends;
        let count = claimed.len();
        futures::stream::iter(claimed.into_iter().enumerate())
            .map(|(n, c)| async move {
                if paced {
                    tokio::time::sleep_until(start + self.pace * n as u32).await;
                }
                let Some(content) = sends.get(&c.send_id) else {
                    return;
                };
                // Handed to SMTP only if this mailer still holds it, as written just now.
                match self.hold(c.id).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(err) => {
                        tracing::warn!(error = %err, outbox = c.id, "mailer: not sent (database unreachable)");
                        return;
                    }
                }
                let outcome = match self.message(
                    &c.recipient,
                    &c.message_id,
                    &content.subject,
                    &content.body_text,
                    &content.body_html,
                ) {
                    Ok(message) => self.deliver(c.id, &c.recipient, message).await,
                    Err(e) => Outcome::Failed(e),
                };
                self.record(c.id, c.attempts, c.last_chance, outcome).await;
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<()>>()
            .await;
        Ok(count)
    }

    /// Renews this mailer's hold on a message just before it is sent; false when another
    /// mailer took it meanwhile.
    async fn hold(&self, id: i64) -> Result<bool, sqlx::Error> {
        let held = sqlx::query(
            "UPDATE outbox SET locked_until = now() + make_interval(secs => $3)
             WHERE id = $1 AND locked_by = $2 AND status = 'sending'",
        )
        .bind(id)
        .bind(self.owner)
        .bind(LEASE_SECONDS)
        .execute(&self.pool)
        .await?;
        Ok(held.rows_affected() == 1)
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
            Delivery::Smtp(pool) => match pool.send(&message).await {
                Ok(()) => Outcome::Sent,
                Err(e) if e.is_permanent() => Outcome::Bounced(e.to_string()),
                Err(e) => Outcome::Retry(e.to_string()),
            },
            Delivery::Smtps(transport) => match transport.send(message).await {
                Ok(_) => Outcome::Sent,
                // A permanent refusal (5xx): retrying would change nothing.
                Err(e) if e.is_permanent() => Outcome::Bounced(e.to_string()),
                Err(e) => Outcome::Retry(e.to_string()),
            },
        }
    }

    /// Records what became of a message, retrying until the database answers (a message SMTP
    /// accepted must never stay claimable, or it would be sent twice).
    async fn record(&self, id: i64, attempts: i32, last_chance: bool, outcome: Outcome) {
        let (status, error) = match outcome {
            Outcome::Sent => ("sent", None),
            Outcome::Failed(e) => ("failed", Some(e)),
            Outcome::Bounced(e) => ("bounced", Some(e)),
            Outcome::Retry(e) if last_chance => (
                "failed",
                Some(format!(
                    "{e} (still failing after {attempts} attempts over {} h)",
                    self.retry_window.as_secs().div_ceil(3600)
                )),
            ),
            Outcome::Retry(e) => ("pending", Some(e)),
        };
        // Retries wait 30 s, 1 min, 2 min, 4 min … (at most 10 minutes).
        let delay = (30.0 * 2f64.powi(attempts.saturating_sub(1).min(10))).min(MAX_DELAY_SECONDS);
        let mut wait = Duration::from_millis(200);
        loop {
            let written = sqlx::query(
                "UPDATE outbox SET status = $2, last_error = $3, locked_until = NULL,
                     locked_by = NULL, sent_at = CASE WHEN $2 = 'sent' THEN now() END,
                     next_attempt_at = now() + make_interval(secs => $4)
                 WHERE id = $1",
            )
            .bind(id)
            .bind(status)
            .bind(&error)
            .bind(delay)
            .execute(&self.pool)
            .await;
            match written {
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(error = %err, outbox = id, status, "mailer: could not record yet, retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
        if status != "sent" {
            tracing::warn!(outbox = id, status, "email not delivered");
        }
    }
}
