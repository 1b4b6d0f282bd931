//! Page benchmarks against a "Fortunes" baseline measured in the same run (issue 17).
//!
//! The baseline is the TechEmpower Fortunes handler written with the same axum + sqlx: one
//! query, a row added, sorted, an escaped HTML table. It is what a page of this stack costs
//! when it does the least a page can do; each page's rate is printed as a ratio to it.
//! Measures are interleaved (baseline, page, baseline, page…) so that the machine's load
//! weighs on both alike, at 10, 1,000 and 10,000 incidents seeded through the app's schema,
//! and at a fixed rate of 200 requests a second the dashboard's and the baseline's p50/p99.
//!
//! Run with `./scripts/bench pages` (a release build; PostgreSQL at `DATABASE_URL`).
//! `RBD_BENCH_SECONDS` (default 2) is the length of each closed-loop measure.
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 16;

/// The Fortunes handler: every row, one added, sorted by message, escaped into a table.
async fn fortunes(
    axum::extract::State(pool): axum::extract::State<sqlx::PgPool>,
) -> axum::response::Html<String> {
    let mut rows: Vec<(i32, String)> = sqlx::query_as("SELECT id, message FROM fortune")
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
    rows.push((0, "Additional fortune added at request time.".to_owned()));
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    let mut html = String::from(
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>\
         <tr><th>id</th><th>message</th></tr>",
    );
    for (id, message) in rows {
        html.push_str(&format!(
            "<tr><td>{id}</td><td>{}</td></tr>",
            escape(&message)
        ));
    }
    html.push_str("</table></body></html>");
    axum::response::Html(html)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// Requests a second over `seconds`, `CONNECTIONS` requests in flight.
async fn rate(client: &reqwest::Client, url: &str, seconds: f64) -> f64 {
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let workers = (0..CONNECTIONS).map(|_| {
        let (client, url) = (client.clone(), url.to_owned());
        tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < end {
                let res = client.get(&url).send().await.expect("an answer");
                assert!(res.status().is_success(), "{url}: {}", res.status());
                let _ = res.bytes().await;
                done += 1;
            }
            done
        })
    });
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    total as f64 / seconds
}

/// p50 and p99 latency (ms) of requests started at `per_second` for `seconds`.
async fn latency(client: &reqwest::Client, url: &str, per_second: u32, seconds: u32) -> (f64, f64) {
    let gap = Duration::from_secs_f64(1.0 / f64::from(per_second));
    let start = tokio::time::Instant::now();
    let mut requests = Vec::new();
    for n in 0..per_second * seconds {
        tokio::time::sleep_until(start + gap * n).await;
        let (client, url) = (client.clone(), url.to_owned());
        requests.push(tokio::spawn(async move {
            let sent = Instant::now();
            let res = client.get(&url).send().await.expect("an answer");
            let _ = res.bytes().await;
            sent.elapsed().as_secs_f64() * 1000.0
        }));
    }
    let mut times = Vec::new();
    for r in requests {
        times.push(r.await.unwrap());
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.50), at(0.99))
}

/// Brings the incidents to `count` (the environment's, through the app's schema: incidents,
/// some decided for a rollback and restored, with post-mortems).
async fn seed_incidents(
    pool: &sqlx::PgPool,
    environment: uuid::Uuid,
    user: uuid::Uuid,
    count: i64,
) {
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
        .fetch_one(pool)
        .await
        .unwrap();
    if have >= count {
        return;
    }
    sqlx::query(
        "WITH i AS (
           INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state,
                                  decision, rollback_type, decision_reason, decided_at, decided_by,
                                  restored_at)
           SELECT 'Incident ' || n, now() - n * interval '1 hour', 'urgent', $1, $2,
                  CASE WHEN n % 10 = 0 THEN 'detected' ELSE 'closed' END,
                  CASE WHEN n % 10 = 0 THEN NULL ELSE 'rollback' END,
                  CASE WHEN n % 10 = 0 THEN NULL ELSE 'application' END,
                  CASE WHEN n % 10 = 0 THEN NULL ELSE 'r' END,
                  CASE WHEN n % 10 = 0 THEN NULL ELSE now() - n * interval '1 hour' + interval '5 minutes' END,
                  CASE WHEN n % 10 = 0 THEN NULL ELSE $2 END,
                  CASE WHEN n % 10 = 0 THEN NULL ELSE now() - n * interval '1 hour' + interval '15 minutes' END
           FROM generate_series($3::bigint + 1, $4::bigint) AS n
           RETURNING id, state)
         INSERT INTO post_mortems (incident_id, created_at, due_at, content, saved_at, finalized_at)
         SELECT id, now(), now() + interval '48 hours', '{}', now(), now() FROM i
         WHERE state = 'closed'",
    )
    .bind(environment)
    .bind(user)
    .bind(have)
    .bind(count)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

fn main() {
    let seconds: f64 = std::env::var("RBD_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2.0);
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        use sqlx::Executor as _;
        let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL at DATABASE_URL");
        let db = format!("rbd_bench_pages_{}", std::process::id());
        admin.execute(format!("CREATE DATABASE {db}").as_str()).await.unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .connect(&format!("{base}/{db}"))
            .await
            .unwrap();
        server::startup::migrate(&pool).await.unwrap();
        // The baseline's table: TechEmpower's twelve fortunes (one with markup to escape).
        pool.execute(
            "CREATE TABLE fortune (id integer PRIMARY KEY, message text NOT NULL);
             INSERT INTO fortune SELECT n, CASE n WHEN 7 THEN '<script>alert(\"This should not be displayed in a browser alert box.\");</script>'
                                      ELSE 'Fortune number ' || n END
             FROM generate_series(1, 12) AS n;",
        )
        .await
        .unwrap();
        let baseline_app = axum::Router::new()
            .route("/fortunes", axum::routing::get(fortunes))
            .with_state(pool.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let baseline_url = format!("http://{}/fortunes", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, baseline_app).await });

        let settings = server::config::Settings {
            bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            background_tasks: false,
            ..server::config::Settings::default()
        };
        let app = server::startup::Application::build(&settings, pool.clone())
            .await
            .unwrap();
        let addr = app.local_addr();
        tokio::spawn(async move { app.run_until(std::future::pending()).await });
        let site = format!("http://{addr}");

        let environment: uuid::Uuid =
            sqlx::query_scalar("INSERT INTO environments (name) VALUES ('TaskFlow production') RETURNING id")
                .fetch_one(&pool)
                .await
                .unwrap();
        use app::backend::accounts::{create, NewAccount};
        use app::domain::{EmailAddress, NewPassword, PersonName, Roles};
        let user = create(
            &pool,
            &NewAccount {
                email: EmailAddress::parse("claire@taskflow.example").unwrap(),
                name: PersonName::parse("Claire Dubois").unwrap(),
                password: NewPassword::parse("correct horse battery").unwrap(),
                roles: Roles::parse(["tech_lead"]).unwrap(),
            },
        )
        .await
        .unwrap();
        // Signed in as a browser is: the session cookie, the form token.
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .unwrap();
        let login = client.get(format!("{site}/login")).send().await.unwrap().text().await.unwrap();
        let token = login
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the sign-in form's token")
            .to_owned();
        let signed = client
            .post(format!("{site}/api/sign_in"))
            .header("Accept", "text/html")
            .header("Origin", &site)
            .form(&[
                ("_csrf", token.as_str()),
                ("email", "claire@taskflow.example"),
                ("password", "correct horse battery"),
            ])
            .send()
            .await
            .unwrap();
        assert!(signed.status().is_redirection(), "signed in");
        let session_cookie = signed
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("rollback_desk_session="))
            .and_then(|c| c.split(';').next())
            .unwrap_or_default()
            .to_owned();
        let plain = reqwest::Client::builder()
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .unwrap();

        // `RBD_BENCH_PAGES` and `RBD_BENCH_COUNTS` (comma-separated) narrow a run, for profiling.
        let pages_env = std::env::var("RBD_BENCH_PAGES").unwrap_or_default();
        let pages: Vec<&str> = if pages_env.is_empty() {
            vec!["/", "/incidents/1", "/incidents", "/history", "/post-mortems"]
        } else {
            pages_env.split(',').collect()
        };
        let counts: Vec<i64> = std::env::var("RBD_BENCH_COUNTS")
            .ok()
            .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![10, 1_000, 10_000]);
        println!(
            "pages against Fortunes (axum + sqlx, same run, interleaved; {CONNECTIONS} connections, {seconds} s a measure)"
        );
        println!("{:>10}  {:<16} {:>10} {:>10} {:>7}", "incidents", "page", "req/s", "Fortunes", "ratio");
        let mut at_ten = std::collections::HashMap::new();
        if std::env::var_os("RBD_BENCH_HOLD").is_some() {
            // For profiling from outside (wrk, perf): seeded, signed in, then served until
            // interrupted.
            seed_incidents(&pool, environment, user.id, counts[0]).await;
            println!("serving {site} and Fortunes at {baseline_url}; Cookie: {session_cookie}");
            std::future::pending::<()>().await;
        }
        for &count in &counts {
            seed_incidents(&pool, environment, user.id, count).await;
            for &page in &pages {
                // Warm up, then baseline and page alternately, twice each.
                rate(&client, &format!("{site}{page}"), 0.3).await;
                let (mut ours, mut theirs) = (0.0, 0.0);
                for _ in 0..2 {
                    theirs += rate(&plain, &baseline_url, seconds).await;
                    ours += rate(&client, &format!("{site}{page}"), seconds).await;
                }
                let (ours, theirs) = (ours / 2.0, theirs / 2.0);
                if count == counts[0] {
                    at_ten.insert(page, ours);
                }
                println!(
                    "{count:>10}  {page:<16} {ours:>10.0} {theirs:>10.0} {:>7.3}   ({:.2} of its rate at {})",
                    ours / theirs,
                    ours / at_ten[page],
                    counts[0]
                );
            }
        }
        let (fortune_p50, fortune_p99) = latency(&plain, &baseline_url, 200, 5).await;
        let (p50, p99) = latency(&client, &format!("{site}/"), 200, 5).await;
        println!("at 200 requests/s for 5 s, {} incidents (ms):", counts[counts.len() - 1]);
        println!("  Fortunes   p50 {fortune_p50:>7.2}  p99 {fortune_p99:>7.2}");
        println!("  dashboard  p50 {p50:>7.2}  p99 {p99:>7.2}   p99 ratio {:.2}", p99 / fortune_p99);
        pool.close().await;
        admin
            .execute(format!("DROP DATABASE {db} WITH (FORCE)").as_str())
            .await
            .unwrap();
    });
}
