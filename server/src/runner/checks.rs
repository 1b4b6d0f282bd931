//! The automatic items of the §6.1 checklist: each check returns whether it passed and the
//! evidence a person reads (statuses, times, the lines found). The runner runs them for the
//! checklist and at each check of the §6.3 monitoring window (`verification.rs`).
use app::backend::inventory::local_path;
use app::backend::ssh::Place;
use app::domain::environment::EnvironmentConfig;
use app::domain::runbook::Operation;
use app::domain::runner_note::{millis, Note};
use std::time::{Duration, Instant};

/// A request that got no answer, in the HTTP client's words.
fn http_failed(url: &str, e: &reqwest::Error) -> String {
    Note::HttpFailed {
        url: url.to_owned(),
        error: e.to_string(),
        ms: None,
    }
    .line()
}

/// A check's outcome and what shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub passed: bool,
    pub evidence: String,
}

fn result(passed: bool, evidence: impl Into<String>) -> CheckResult {
    CheckResult {
        passed,
        evidence: evidence.into(),
    }
}

/// §6.1 "the application answers at its main URL" and "the home page loads without error":
/// 200 or 302, with the time it took.
pub async fn main_url(http: &reqwest::Client, url: &str) -> CheckResult {
    let started = Instant::now();
    match http.get(url).timeout(Duration::from_secs(10)).send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            let ms = millis(started.elapsed());
            result(
                matches!(status, 200 | 302),
                Note::HttpAnswered {
                    url: url.to_owned(),
                    status,
                    ms,
                }
                .line(),
            )
        }
        Err(e) => result(false, http_failed(url, &e)),
    }
}

/// §6.1 "the home page loads without error": followed through its redirects, the page
/// answers 200 with a body.
pub async fn home_page(follow: &reqwest::Client, url: &str) -> CheckResult {
    let started = Instant::now();
    match follow
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
    {
        Ok(res) => {
            let status = res.status().as_u16();
            let landed = res.url().to_string();
            let body = res.bytes().await.map(|b| b.len()).unwrap_or(0);
            let ms = millis(started.elapsed());
            result(
                status == 200 && body > 0,
                Note::HttpLanded {
                    url: url.to_owned(),
                    status,
                    landed,
                    bytes: body,
                    ms,
                }
                .line(),
            )
        }
        Err(e) => result(false, http_failed(url, &e)),
    }
}

/// The CSS, JavaScript and image URLs a page references (`<link href>` of stylesheets and
/// icons, `src` of scripts and images), resolved against the page's URL.
pub fn asset_urls(page: &str, html: &str) -> Vec<String> {
    let Ok(base) = reqwest::Url::parse(page) else {
        return Vec::new();
    };
    let mut urls = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(open) = lower[at..].find('<') {
        let start = at + open;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        let original = &html[start..end];
        let attribute =
            if tag.starts_with("<link") && (tag.contains("stylesheet") || tag.contains("icon")) {
                Some("href=")
            } else if tag.starts_with("<script") || tag.starts_with("<img") {
                Some("src=")
            } else {
                None
            };
        if let Some(name) = attribute {
            if let Some(pos) = tag.find(name) {
                let value = &original[pos + name.len()..];
                let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
                let value = match quote {
                    Some(q) => value[1..].split(q).next().unwrap_or(""),
                    None => value.split([' ', '>']).next().unwrap_or(""),
                };
                if let Ok(url) = base.join(value) {
                    if matches!(url.scheme(), "http" | "https") {
                        urls.push(url.to_string());
                    }
                }
            }
        }
        at = end.max(start + 1);
    }
    urls.sort();
    urls.dedup();
    urls
}

/// An origin as compared for the assets check: scheme, host and port (the default port
/// made explicit, so that `https://a` and `https://a:443` are the same).
fn origin_of(url: &reqwest::Url) -> Option<(String, String, u16)> {
    Some((
        url.scheme().to_owned(),
        url.host_str()?.to_ascii_lowercase(),
        url.port_or_known_default()?,
    ))
}

/// §6.1 "assets (CSS, JS, images) load": every asset of the home page answers 200.
///
/// Only assets of the health URL's origin and of `cdn_origins` are fetched, and redirects
/// only within them: the home page is the target's content, and fetching whatever it names
/// would let it make the runner request any host or port (internal services included) and
/// show the answers to every user. Others are listed as not fetched.
pub async fn assets(http: &reqwest::Client, url: &str, cdn_origins: &[String]) -> CheckResult {
    let Ok(base) = reqwest::Url::parse(url) else {
        return result(
            false,
            Note::NotAUrl {
                url: url.to_owned(),
            }
            .line(),
        );
    };
    let mut allowed: Vec<(String, String, u16)> = origin_of(&base).into_iter().collect();
    allowed.extend(
        cdn_origins
            .iter()
            .filter_map(|o| reqwest::Url::parse(o).ok())
            .filter_map(|o| origin_of(&o)),
    );
    let page = match http.get(url).timeout(Duration::from_secs(10)).send().await {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(e) => return result(false, http_failed(url, &e)),
    };
    let urls = asset_urls(url, &page);
    if urls.is_empty() {
        return result(true, Note::NoAssetReferenced.line());
    }
    let within = allowed.clone();
    let assets_client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            let inside = origin_of(attempt.url()).is_some_and(|o| within.contains(&o));
            if attempt.previous().len() >= 10 || !inside {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .unwrap_or_default();
    let mut lines = Vec::new();
    let mut passed = true;
    let mut fetched = 0;
    for asset in urls {
        let inside = reqwest::Url::parse(&asset)
            .ok()
            .and_then(|u| origin_of(&u))
            .is_some_and(|o| allowed.contains(&o));
        if !inside {
            lines.push(Note::AssetNotFetched { asset }.line());
            continue;
        }
        fetched += 1;
        let status = match assets_client
            .get(&asset)
            .timeout(Duration::from_secs(10))
            .send()
            .await
        {
            Ok(res) => res.status().as_u16().to_string(),
            Err(e) => format!("error: {e}"),
        };
        if status != "200" {
            passed = false;
        }
        lines.push(Note::AssetAnswered { asset, status }.line());
    }
    if fetched == 0 {
        lines.insert(0, Note::NoAssetOfOrigin.line());
    }
    result(passed, lines.join("\n"))
}

/// §6.1 "performance is normal (response time < 2 s)": `samples` requests, the median and the
/// worst both under the limit.
pub async fn response_time(
    http: &reqwest::Client,
    url: &str,
    samples: usize,
    limit: Duration,
) -> CheckResult {
    let mut times = Vec::new();
    for _ in 0..samples.max(1) {
        let started = Instant::now();
        let answered = http
            .get(url)
            .timeout(limit * 3)
            .send()
            .await
            .and_then(|r| r.error_for_status());
        let took = started.elapsed();
        if let Err(e) = answered {
            return result(false, http_failed(url, &e));
        }
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    result(
        worst < limit,
        Note::ResponseTimes {
            requests: times.len(),
            median_ms: millis(median),
            worst_ms: millis(worst),
            limit_ms: millis(limit),
        }
        .line(),
    )
}

/// §6.1 "the database answers" (§6.2 `SELECT COUNT(*) FROM users`), through the environment's
/// database settings, like the runner's verification step.
pub async fn database(
    executor: &super::executor::Executor,
    config: &EnvironmentConfig,
) -> CheckResult {
    let db = &config.database;
    let step = Operation::VerifyDatabase {
        kind: db.kind,
        host: db.host.clone(),
        port: db.port,
        name: db.name.clone(),
        user: db.user.clone(),
        queries: vec!["SELECT COUNT(*) FROM users".to_owned()],
    };
    let outcome = executor.run(config, &step, None).await;
    result(outcome.succeeded, outcome.output.trim().to_owned())
}

/// §6.1 "the logs hold no critical errors" (§6.2 `tail -n 50 var/log/prod.log`): the last
/// `lines` lines of the application's log, and those that are CRITICAL, ERROR or EMERGENCY.
pub async fn log_tail(config: &EnvironmentConfig, log: &str, lines: usize) -> CheckResult {
    let text = match Place::of(&config.target) {
        Place::Ssh(target) => {
            let script = format!("tail -n {lines} -- {}", app::backend::ssh::quote(log));
            match tokio::task::spawn_blocking(move || target.run(&script, 15)).await {
                Ok(Ok(out)) => String::from_utf8_lossy(&out.stdout).into_owned(),
                Ok(Err(e)) => return result(false, e.to_string()),
                Err(e) => return result(false, e.to_string()),
            }
        }
        Place::Local { root } => match std::fs::read_to_string(local_path(&root, log)) {
            Ok(text) => text,
            Err(e) => {
                return result(
                    false,
                    Note::FileError {
                        path: log.to_owned(),
                        error: e.to_string(),
                    }
                    .line(),
                )
            }
        },
    };
    let all: Vec<&str> = text.lines().collect();
    let tail = &all[all.len().saturating_sub(lines)..];
    let critical: Vec<&str> = tail
        .iter()
        .copied()
        .filter(|l| {
            let upper = l.to_ascii_uppercase();
            ["CRITICAL", "ERROR", "EMERGENCY"]
                .iter()
                .any(|level| upper.contains(level))
        })
        .collect();
    if critical.is_empty() {
        result(true, Note::LogClean { lines: tail.len() }.line())
    } else {
        result(
            false,
            app::domain::runner_note::sanitize(&critical.join("\n")),
        )
    }
}
