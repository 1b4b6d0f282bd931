//! Runner benchmarks, printed as ratios against baselines measured in the same run:
//!
//! 1. Restore: the runner's streaming restore of a gzipped dump (about `RBD_BENCH_MB`, 200 MB
//!    of SQL by default) into MariaDB, against the procedure's way (§5.2 steps 4–6): `gunzip -c
//!    > restore_temp.sql`, then `mariadb < restore_temp.sql`, same dump, same server.
//! 2. Overhead: an execution of `RBD_BENCH_STEPS` (100) `true` commands through the queue and
//!    the runner (PostgreSQL at `DATABASE_URL`), against running `true` that many times.
//!
//! 3. Mailer: `RBD_BENCH_MAILS` (10,000) messages from the outbox to a local SMTP sink
//!    (aiosmtpd) through the pooled mailer, against one SMTP connection per message.
//!
//! Run with `./scripts/bench runner [overhead|restore|mailer]` (or `cargo bench -p server --bench
//! runner`).
use app::domain::environment::*;
use app::domain::runbook::{Operation, Step};
use server::runner::executor::Executor;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mariadb(args: &[&str]) -> Command {
    let mut c = Command::new("mariadb");
    c.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root"])
        .args(args);
    c
}

fn run(mut c: Command) {
    let out = c.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn config(root: &str, db: &str, password_file: &str) -> EnvironmentConfig {
    EnvironmentConfig {
        name: "bench".into(),
        target: Target::Local { root: root.into() },
        releases_dir: "/".into(),
        current_link: "/current".into(),
        backups_dir: "/".into(),
        public_dir: "/".into(),
        health_url: "http://127.0.0.1:9/".into(),
        time_zone: "UTC".into(),
        commands: Default::default(),
        database: DatabaseConfig {
            kind: DatabaseKind::Mariadb,
            host: "127.0.0.1".into(),
            port: 3306,
            name: db.into(),
            user: "root".into(),
            password_source: PasswordSource::File,
            password_ref: password_file.into(),
        },
    }
}

fn restore(rt: &tokio::runtime::Runtime, dir: &std::path::Path) {
    let mb: usize = std::env::var("RBD_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dump = dir.join("db_backup_20251017_103000.sql.gz");
    {
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&dump).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(b"DROP TABLE IF EXISTS users;\nCREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(255), name VARCHAR(255));\n").unwrap();
        let (mut written, mut id) = (0usize, 0u64);
        while written < mb * 1024 * 1024 {
            let mut line = String::from("INSERT INTO users VALUES ");
            for i in 0..1000 {
                id += 1;
                if i > 0 {
                    line.push(',');
                }
                line.push_str(&format!(
                    "({id},'user{id}@taskflow.example','Utilisateur numéro {id}')"
                ));
            }
            line.push_str(";\n");
            written += line.len();
            gz.write_all(line.as_bytes()).unwrap();
        }
        gz.finish().unwrap();
    }
    let db = format!("rbd_bench_{}", std::process::id());
    run(mariadb(&["-e", &format!("CREATE DATABASE {db}")]));
    let password = dir.join("password");
    std::fs::write(&password, "").unwrap();

    // The procedure: decompress to a file, then feed it to the client.
    let started = Instant::now();
    let temp = dir.join("restore_temp.sql");
    let status = Command::new("gunzip")
        .arg("-c")
        .arg(&dump)
        .stdout(std::fs::File::create(&temp).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let temp_size = std::fs::metadata(&temp).unwrap().len();
    let mut client = mariadb(&[&db]);
    client.stdin(std::fs::File::open(&temp).unwrap());
    run(client);
    let baseline = started.elapsed();
    std::fs::remove_file(&temp).unwrap();

    // The runner: verify the gzip, then stream it into the client.
    let config = config("/", &db, &password.display().to_string());
    let sha256: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(std::fs::read(&dump).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let step = Operation::RestoreDatabase {
        path: dump.display().to_string(),
        sha256,
        kind: DatabaseKind::Mariadb,
        host: "127.0.0.1".into(),
        port: 3306,
        name: db.clone(),
        user: "root".into(),
    };
    let started = Instant::now();
    let outcome = rt.block_on(Executor::new().run(&config, &step, None));
    let ours = started.elapsed();
    assert!(outcome.succeeded, "{}", outcome.output);
    run(mariadb(&["-e", &format!("DROP DATABASE {db}")]));

    println!(
        "restore of {mb} MB of SQL ({} MB gzipped)",
        std::fs::metadata(&dump).unwrap().len() / 1_048_576
    );
    println!(
        "  procedure (gunzip to file, then mariadb) {:>8.2} s, {} MB written to disk",
        baseline.as_secs_f64(),
        temp_size / 1_048_576
    );
    println!(
        "  runner (verify gzip, then stream)        {:>8.2} s, 0 MB written to disk",
        ours.as_secs_f64()
    );
    println!(
        "  ratio runner / procedure                 {:>8.3}",
        ours.as_secs_f64() / baseline.as_secs_f64()
    );
}

fn overhead(rt: &tokio::runtime::Runtime, dir: &std::path::Path) {
    let steps: usize = std::env::var("RBD_BENCH_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    // Baseline: the bare processes.
    let started = Instant::now();
    for _ in 0..steps {
        assert!(Command::new("true")
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success());
    }
    let bare = started.elapsed();

    rt.block_on(async {
        use sqlx::Executor as _;
        let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL at DATABASE_URL");
        let db = format!("rbd_bench_{}", std::process::id());
        admin.execute(format!("DROP DATABASE IF EXISTS {db}").as_str()).await.unwrap();
        admin.execute(format!("CREATE DATABASE {db}").as_str()).await.unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        let pool = sqlx::PgPool::connect(&format!("{base}/{db}")).await.unwrap();
        server::startup::migrate(&pool).await.unwrap();
        let user: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO users (email, name, password_hash, roles) VALUES ('b@x.example', 'B', 'x', '{sysadmin}') RETURNING id",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        let env: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO environments (name, local_root) VALUES ('bench', $1) RETURNING id",
        )
        .bind(dir.display().to_string())
        .fetch_one(&pool)
        .await
        .unwrap();
        let incident: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state,
                 decision, rollback_type) VALUES ('b', now(), 'normal', $1, $2, 'executing', 'rollback', 'application')
             RETURNING id",
        )
        .bind(env)
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap();
        let list: Vec<Step> = (0..steps)
            .map(|_| Step {
                procedure_ref: "bench".into(),
                operation: Operation::RunCommand {
                    name: CommandName::CacheClear,
                    argv: vec!["true".into()],
                    cwd: "/".into(),
                },
            })
            .collect();
        let json = serde_json::to_value(&list).unwrap();
        let plan: i64 = sqlx::query_scalar(
            "INSERT INTO plans (incident_id, environment_id, rollback_type, target_release, steps, fingerprint, requested_by)
             VALUES ($1, $2, 'application', 'x', $3, repeat('a', 64), $4) RETURNING id",
        )
        .bind(incident)
        .bind(env)
        .bind(&json)
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap();
        let config = app::backend::environments::config(&pool, env)
            .await
            .unwrap()
            .unwrap();
        let queued = Instant::now();
        let execution: i64 = sqlx::query_scalar(
            "INSERT INTO executions (incident_id, plan_id, environment_id, fingerprint, steps, requested_by, config)
             VALUES ($1, $2, $3, repeat('a', 64), $4, $5, $6) RETURNING id",
        )
        .bind(incident)
        .bind(plan)
        .bind(env)
        .bind(&json)
        .bind(user)
        .bind(serde_json::to_value(&config).unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
        let runner = server::runner::Runner::new(pool.clone(), Duration::from_secs(30));
        assert!(runner.tick().await.unwrap());
        let total = queued.elapsed();
        let first: f64 = sqlx::query_scalar(
            "SELECT EXTRACT(EPOCH FROM (min(s.started_at) - e.created_at))::float8
             FROM execution_steps s JOIN executions e ON e.id = s.execution_id
             WHERE e.id = $1 GROUP BY e.created_at",
        )
        .bind(execution)
        .fetch_one(&pool)
        .await
        .unwrap();
        let per_step = (total.as_secs_f64() - first) / steps as f64;
        let per_bare = bare.as_secs_f64() / steps as f64;
        println!("execution of {steps} `true` steps");
        println!("  queued → first step started            {:>8.1} ms", first * 1000.0);
        println!("  per step through the runner            {:>8.2} ms", per_step * 1000.0);
        println!("  per bare process (baseline)            {:>8.2} ms", per_bare * 1000.0);
        println!("  ratio runner step / bare process       {:>8.2}", per_step / per_bare);
        pool.close().await;
        admin.execute(format!("DROP DATABASE {db}").as_str()).await.unwrap();
    });
}

/// A bare SMTP client on one connection (`TCP_NODELAY`, each command one write): the ceiling
/// a mailer could reach against this sink.
async fn raw_smtp(port: u16, from: usize, count: usize) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.set_nodelay(true).unwrap();
    let (read, mut write) = tcp.into_split();
    let mut lines = BufReader::new(read).lines();
    // A reply: lines until one whose code is followed by a space.
    async fn reply(lines: &mut tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>) {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.as_bytes().get(3) != Some(&b'-') {
                assert!(line.starts_with('2') || line.starts_with('3'), "{line}");
                return;
            }
        }
    }
    reply(&mut lines).await;
    write.write_all(b"EHLO bench\r\n").await.unwrap();
    reply(&mut lines).await;
    for n in from..from + count {
        for command in [
            "MAIL FROM:<desk@taskflow.example>\r\n".to_owned(),
            format!("RCPT TO:<user{n}@example.com>\r\n"),
            "DATA\r\n".to_owned(),
            format!(
                "From: desk@taskflow.example\r\nTo: user{n}@example.com\r\n\
                 Subject: Incident technique resolu - TaskFlow\r\n\r\nLe service est retabli.\r\n.\r\n"
            ),
        ] {
            write.write_all(command.as_bytes()).await.unwrap();
            reply(&mut lines).await;
        }
    }
    write.write_all(b"QUIT\r\n").await.unwrap();
}

/// Median and spread (min–max) of per-round rates.
fn summary(mut rates: Vec<f64>) -> (f64, f64, f64) {
    rates.sort_by(f64::total_cmp);
    (rates[rates.len() / 2], rates[0], rates[rates.len() - 1])
}

fn mailer(rt: &tokio::runtime::Runtime) {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let count: usize = std::env::var("RBD_BENCH_MAILS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sink = Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Sink",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    rt.block_on(async {
        use sqlx::Executor as _;
        let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL at DATABASE_URL");
        let db = format!("rbd_bench_mail_{}", std::process::id());
        admin.execute(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str()).await.unwrap();
        admin.execute(format!("CREATE DATABASE {db}").as_str()).await.unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        let pool = sqlx::PgPool::connect(&format!("{base}/{db}")).await.unwrap();
        server::startup::migrate(&pool).await.unwrap();
        let send: i64 = sqlx::query_scalar(
            "INSERT INTO email_sends (template, lang, subject, body_text, body_html)
             VALUES ('users', 'fr', 'Incident technique résolu - TaskFlow', 'Le service est rétabli.', '<p>Le service est rétabli.</p>')
             RETURNING id",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        // Recipients numbered from `from`: one send never has the same recipient twice.
        let queue = |from: usize, n: usize| {
            let pool = pool.clone();
            async move {
                sqlx::query(
                    "INSERT INTO outbox (send_id, recipient, message_id)
                     SELECT $1, 'user' || n || '@example.com', gen_random_uuid()::text || '@bench'
                     FROM generate_series($3::bigint, $3::bigint + $2 - 1) AS n",
                )
                .bind(send)
                .bind(n as i64)
                .bind(from as i64)
                .execute(&pool)
                .await
                .unwrap();
            }
        };
        let delivery = server::mailer::Delivery::from_settings(
            Some(&format!("smtp://127.0.0.1:{port}")),
            std::path::PathBuf::from("/nonexistent"),
        )
        .unwrap();
        let mailer = server::mailer::Mailer::new(
            pool.clone(),
            delivery,
            "Rollback Desk <desk@taskflow.example>",
            1_000_000,
        )
        .unwrap();

        // Rounds interleaved, so that the machine's load weighs on each measure alike.
        let rounds = 3;
        let (per_connection, per_round) = ((count / 50).max(50), (count / 5).max(200));
        let (mut fresh, mut raw, mut ours) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            // Baseline 1: a new connection for every message (lettre's transport, no pool).
            let started = Instant::now();
            for n in 0..per_connection {
                let transport =
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
                        .port(port)
                        .build();
                let message = Message::builder()
                    .from("Rollback Desk <desk@taskflow.example>".parse().unwrap())
                    .to(format!("user{n}@example.com").parse().unwrap())
                    .subject("Incident technique résolu - TaskFlow")
                    .body("Le service est rétabli.".to_owned())
                    .unwrap();
                transport.send(message).await.unwrap();
            }
            fresh.push(per_connection as f64 / started.elapsed().as_secs_f64());
            // Baseline 2: a bare client on one connection.
            let started = Instant::now();
            raw_smtp(port, round * per_round, per_round).await;
            raw.push(per_round as f64 / started.elapsed().as_secs_f64());
            // The mailer: from the outbox, each message recorded.
            queue(round * per_round, per_round).await;
            let started = Instant::now();
            while mailer.tick().await.unwrap() > 0 {}
            ours.push(per_round as f64 / started.elapsed().as_secs_f64());
        }
        // The target: `count` users' emails through the outbox, pace unlimited.
        queue(rounds * per_round, count).await;
        let started = Instant::now();
        while mailer.tick().await.unwrap() > 0 {}
        let all = started.elapsed();
        let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(sent as usize, count + rounds * per_round);
        let (f, fl, fh) = summary(fresh);
        let (r, rl, rh) = summary(raw);
        let (o, ol, oh) = summary(ours);
        println!("mailer: {rounds} interleaved rounds to a local SMTP sink (median, min–max, messages/s)");
        println!("  one connection per message (lettre) {f:>8.0}  {fl:.0}–{fh:.0}");
        println!("  bare SMTP client, one connection    {r:>8.0}  {rl:.0}–{rh:.0}");
        println!("  outbox + mailer (4 connections)     {o:>8.0}  {ol:.0}–{oh:.0}");
        println!("  ratio mailer / one per message      {:>8.2}", o / f);
        println!("  ratio mailer / bare client          {:>8.2}", o / r);
        println!("  {count} messages through the outbox in {:.1} s", all.as_secs_f64());
        pool.close().await;
        admin.execute(format!("DROP DATABASE {db} WITH (FORCE)").as_str()).await.unwrap();
    });
    let _ = sink.kill();
    let _ = sink.wait();
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // `cargo bench` adds flags such as `--bench`; the first other argument picks one part.
    let only = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    if only.is_empty() || only == "overhead" {
        overhead(&rt, dir.path());
    }
    if only.is_empty() || only == "restore" {
        restore(&rt, dir.path());
    }
    if only.is_empty() || only == "mailer" {
        mailer(&rt);
    }
}
