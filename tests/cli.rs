//! The `rollback-desk` binary: `user add`, `migrate`.
use crate::helpers::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn rollback_desk(url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollback-desk"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_then_sign_in() {
    let pool = test_database().await;
    let url = database_url(&pool).await;
    let out = rollback_desk(&url, &["migrate"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = rollback_desk(
        &url,
        &[
            "user",
            "add",
            "--email",
            "Sophie.Martin@TaskFlow.example",
            "--name",
            "Sophie Martin",
            "--role",
            "sysadmin",
            "--role",
            "dba",
        ],
        "a long cli password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("sophie.martin@taskflow.example"), "{said}");

    // A bad role and a short password are refused with a one-line reason.
    let out = rollback_desk(
        &url,
        &[
            "user",
            "add",
            "--email",
            "x@taskflow.example",
            "--name",
            "X",
            "--role",
            "boss",
        ],
        "a long cli password\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
    let out = rollback_desk(
        &url,
        &[
            "user",
            "add",
            "--email",
            "x@taskflow.example",
            "--name",
            "X",
            "--role",
            "qa",
        ],
        "short\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    let app = spawn_app(pool).await;
    let (to, html) = Browser::new()
        .sign_in(
            &app,
            "sophie.martin@taskflow.example",
            "a long cli password",
        )
        .await;
    assert_eq!(to, "/");
    assert!(html.contains("Administrateur système, DBA"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_record_from_the_command_line() {
    let pool = test_database().await;
    let _dropped_at_the_end = DatabaseGuard::of(&pool);
    let url = database_url(&pool).await;
    assert!(rollback_desk(&url, &["migrate"], "").status.success());
    sqlx::query("INSERT INTO environments (name) VALUES ('TaskFlow production')")
        .execute(&pool)
        .await
        .unwrap();
    let out = rollback_desk(
        &url,
        &[
            "deploy",
            "record",
            "--environment",
            "TaskFlow production",
            "--version",
            "v1.2.0",
            "--release",
            "2025-10-17_104523",
            "--at",
            "2025-10-17T10:45:23+02:00",
            "--check",
            "tests_green",
            "--check",
            "recent_backup",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (at, source): (chrono::DateTime<chrono::Utc>, String) =
        sqlx::query_as("SELECT deployed_at, source FROM deployments")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(at.to_rfc3339(), "2025-10-17T08:45:23+00:00");
    assert_eq!(source, "cli");
    let out = rollback_desk(
        &url,
        &[
            "deploy",
            "record",
            "--environment",
            "Nowhere",
            "--version",
            "v1",
            "--release",
            "x",
        ],
        "",
    );
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("release: The release name must be YYYY-MM-DD_HHMMSS"),
        "{said}"
    );
}
