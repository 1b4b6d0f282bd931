//! The runner under faults (issue "Runner and mailer under faults"): real server processes
//! killed with SIGKILL or stopped with SIGTERM, a real sshd, the app's own PostgreSQL stopped
//! and started again during a step.
use crate::helpers::*;
use crate::runner::{attempts, command, queue, runner, status, sysadmin};
use app::backend::executions;
use app::domain::execution::Control;
use server::runner::Runner;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

/// Waits up to `limit` for `done`.
async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The process group recorded with the step's latest attempt, waited for (up to 5 s).
async fn wait_for_group(app: &TestApp, execution: i64, position: i32) -> i32 {
    for _ in 0..100 {
        if let Some(group) = recorded_group(app, execution, position).await {
            return group;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the step's process group is recorded")
}

/// The process group recorded with a step's attempt.
async fn recorded_group(app: &TestApp, execution: i64, position: i32) -> Option<i32> {
    sqlx::query_scalar(
        "SELECT process_group FROM execution_steps WHERE execution_id = $1 AND position = $2
         ORDER BY attempt DESC LIMIT 1",
    )
    .bind(execution)
    .bind(position)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn events(app: &TestApp, incident: i64) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM incident_events WHERE incident_id = $1 ORDER BY id")
        .bind(incident)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// A command whose child runs on (a grandchild of the runner), writing markers.
const SLOW: &str =
    "echo start >> markers; sh -c 'sleep 30; echo grandchild >> markers'; echo end >> markers";

#[tokio::test]
async fn a_step_dies_with_its_killed_server_and_a_retry_waits_for_any_process_left() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let markers = root.path().join("markers");
    let (incident, execution) =
        queue(&app, root.path(), vec![command(&["sh", "-c", SLOW], "/")]).await;
    let mut server = app
        .server_process(&[("RBD_RUNNER_LEASE_SECONDS", "2")])
        .await;
    assert!(
        eventually(Duration::from_secs(15), || read(&markers) == "start\n").await,
        "the server's runner started the step"
    );
    // The group is recorded with the attempt, and holds the command and its child.
    let group = wait_for_group(&app, execution, 0).await;
    assert!(
        group_members(group)
            .iter()
            .any(|(_, cmd)| cmd.contains("sleep 30")),
        "{:?}",
        group_members(group)
    );

    // kill -9: the server can't clean up; its step's processes die with it all the same.
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(5), || group_members(group).is_empty()).await,
        "no process of the step outlives the server: {:?}",
        group_members(group)
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!runner(&app).tick().await.unwrap());
    assert_eq!(status(&app, execution).await, "interrupted");
    assert_eq!(read(&markers), "start\n", "nothing of it ran on");

    // Had a process of the attempt stayed alive (here a real one, standing for an orphan in
    // the recorded group), a retry is refused with a message, and accepted once it is gone.
    let mut orphan = std::process::Command::new("sleep")
        .arg("60")
        .process_group(0)
        .spawn()
        .unwrap();
    let orphan_group = orphan.id() as i32;
    sqlx::query("UPDATE execution_steps SET process_group = $2 WHERE execution_id = $1")
        .bind(execution)
        .bind(orphan_group)
        .execute(&app.pool)
        .await
        .unwrap();
    let admin = sysadmin(&app).await;
    let refused = executions::control(&app.pool, &admin, incident, Control::Retry, "")
        .await
        .unwrap_err();
    let text = format!("{:?}", refused);
    assert!(text.contains("EarlierAttemptRunning"), "{text}");
    assert_eq!(
        status(&app, execution).await,
        "interrupted",
        "nothing changed"
    );
    orphan.kill().unwrap();
    orphan.wait().unwrap();
    executions::control(&app.pool, &admin, incident, Control::Retry, "")
        .await
        .unwrap();
    // The retried attempt runs once, as the markers show (stopped by a 3 s timeout here).
    let fast = Runner::new(app.pool.clone(), Duration::from_secs(30)).with_executor(
        server::runner::executor::Executor::new().with_timeout(Duration::from_secs(3)),
    );
    fast.tick().await.unwrap();
    let done = attempts(&app, execution).await;
    assert_eq!(done.len(), 2, "{done:?}");
    assert_eq!(done[1].2, "failed", "stopped by the timeout: {done:?}");
    assert_eq!(
        read(&markers),
        "start\nstart\n",
        "one run per attempt, never two at once"
    );
    let group = recorded_group(&app, execution, 0).await.unwrap();
    assert!(
        eventually(Duration::from_secs(3), || group_members(group).is_empty()).await,
        "a timeout kills the whole group: {:?}",
        group_members(group)
    );
    assert!(events(&app, incident)
        .await
        .contains(&"execution_retried".to_owned()));
}

#[tokio::test]
async fn kill_leaves_no_process_of_the_steps_group() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let markers = root.path().join("markers");
    let (incident, execution) =
        queue(&app, root.path(), vec![command(&["sh", "-c", SLOW], "/")]).await;
    let run = tokio::spawn({
        let runner = runner(&app);
        async move { runner.tick().await.unwrap() }
    });
    assert!(eventually(Duration::from_secs(10), || read(&markers) == "start\n").await);
    let group = wait_for_group(&app, execution, 0).await;
    assert!(
        group_members(group).len() >= 2,
        "{:?}",
        group_members(group)
    );
    let admin = sysadmin(&app).await;
    executions::control(&app.pool, &admin, incident, Control::Kill, "")
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status(&app, execution).await, "failed");
    assert!(
        eventually(Duration::from_secs(2), || group_members(group).is_empty()).await,
        "Kill leaves nothing of the step: {:?}",
        group_members(group)
    );
    assert_eq!(read(&markers), "start\n");
}

#[tokio::test]
async fn an_ssh_step_dies_on_the_target_when_it_is_killed() {
    let app = spawn_app(test_database().await).await;
    let sshd = Sshd::start();
    let root = tempfile::tempdir().unwrap();
    let pidfile = root.path().join("remote.pid");
    let script = format!("sh -c 'echo $$ > {}; exec sleep 45'", pidfile.display());
    let (incident, execution) = queue(
        &app,
        Path::new("/"),
        vec![command(&["sh", "-c", &script], "/")],
    )
    .await;
    crate::runner::use_ssh(&app, incident, &sshd).await;
    let run = tokio::spawn({
        let runner = runner(&app);
        async move { runner.tick().await.unwrap() }
    });
    assert!(
        eventually(Duration::from_secs(15), || read(&pidfile)
            .trim()
            .parse::<i32>()
            .is_ok())
        .await,
        "the command started on the target"
    );
    let remote: i32 = read(&pidfile).trim().parse().unwrap();
    assert!(process_alive(remote));
    let admin = sysadmin(&app).await;
    executions::control(&app.pool, &admin, incident, Control::Kill, "")
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status(&app, execution).await, "failed");
    assert!(
        eventually(Duration::from_secs(5), || !process_alive(remote)).await,
        "the remote command dies with its connection"
    );
}

#[tokio::test]
async fn sigterm_lets_the_running_step_finish_and_starts_no_other() {
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let markers = root.path().join("markers");
    let (incident, execution) = queue(
        &app,
        root.path(),
        vec![
            command(
                &[
                    "sh",
                    "-c",
                    "echo start >> markers; sleep 3; echo end >> markers",
                ],
                "/",
            ),
            command(&["sh", "-c", "echo second >> markers"], "/"),
        ],
    )
    .await;
    let mut server = app.server_process(&[]).await;
    assert!(eventually(Duration::from_secs(15), || read(&markers) == "start\n").await);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let mut exited = None;
    for _ in 0..300 {
        if let Some(status) = server.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exited = exited.expect("the server exits after the step");
    assert!(exited.success(), "a clean exit: {exited:?}");
    assert_eq!(
        read(&markers),
        "start\nend\n",
        "the step ended; the next never started"
    );
    let done = attempts(&app, execution).await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].2, "succeeded");
    assert_eq!(status(&app, execution).await, "interrupted");
    assert!(events(&app, incident)
        .await
        .contains(&"execution_server_stopped".to_owned()));
    // A person resumes it: the second step runs.
    let admin = sysadmin(&app).await;
    executions::control(&app.pool, &admin, incident, Control::Retry, "")
        .await
        .unwrap();
    runner(&app).tick().await.unwrap();
    assert_eq!(status(&app, execution).await, "succeeded");
    assert_eq!(read(&markers), "start\nend\nsecond\n");
}

#[tokio::test]
async fn a_step_survives_the_apps_database_going_away_for_longer_than_the_lease() {
    let pg = PrivatePostgres::start().await;
    let app = spawn_app(pg.pool().await).await;
    let root = tempfile::tempdir().unwrap();
    let markers = root.path().join("markers");
    let (incident, execution) = queue(
        &app,
        root.path(),
        vec![command(
            &[
                "sh",
                "-c",
                "echo start >> markers; sleep 12; echo end >> markers",
            ],
            "/",
        )],
    )
    .await;
    // A lease of 2 s: the database is away for 4 leases.
    let run = tokio::spawn({
        let runner = Runner::new(app.pool.clone(), Duration::from_secs(2));
        async move { runner.tick().await }
    });
    assert!(eventually(Duration::from_secs(10), || read(&markers) == "start\n").await);
    pg.down();
    tokio::time::sleep(Duration::from_secs(8)).await;
    pg.up();
    let ran = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the runner ends")
        .unwrap();
    assert!(ran.is_ok(), "{ran:?}");
    assert_eq!(read(&markers), "start\nend\n", "the step ran to its end");
    let done = attempts(&app, execution).await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].2, "succeeded", "{done:?}");
    assert_eq!(status(&app, execution).await, "succeeded");
    assert!(events(&app, incident)
        .await
        .contains(&"execution_succeeded".to_owned()));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_cut_halfway_leaves_the_database_partially_restored_until_a_retry_completes() {
    use crate::runner::{mariadb, use_database};
    use app::domain::environment::DatabaseKind;
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let secret = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let password_file = root.path().join("db-password");
    std::fs::write(&password_file, format!("{secret}\n")).unwrap();
    let db = format!("rbd_{}", uuid::Uuid::new_v4().simple());
    mariadb(&format!(
        "CREATE DATABASE {db}; CREATE USER '{db}'@'%' IDENTIFIED BY '{secret}';
         CREATE USER '{db}'@'localhost' IDENTIFIED BY '{secret}';
         GRANT ALL ON {db}.* TO '{db}'@'%'; GRANT ALL ON {db}.* TO '{db}'@'localhost';
         CREATE TABLE {db}.slow (x int);"
    ));
    // A dump that writes some rows, then (while the table `slow` exists) takes its time.
    let sql = "DROP TABLE IF EXISTS users; CREATE TABLE users (id INT PRIMARY KEY);\n\
               INSERT INTO users VALUES (1), (2);\n\
               DO SLEEP(IF(EXISTS(SELECT 1 FROM information_schema.tables\n\
                   WHERE table_schema = DATABASE() AND table_name = 'slow'), 30, 0));\n\
               INSERT INTO users VALUES (3), (4);\n";
    std::fs::create_dir_all(root.path().join("backups")).unwrap();
    let dump = root.path().join("backups/db_backup_20251017_103000.sql.gz");
    {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&dump).unwrap(),
            flate2::Compression::default(),
        );
        gz.write_all(sql.as_bytes()).unwrap();
        gz.finish().unwrap();
    }
    let steps = crate::runner::restore_steps(
        root.path(),
        DatabaseKind::Mariadb,
        3306,
        &db,
        &db,
        "/backups/db_backup_20251017_103000.sql.gz",
    );
    let (incident, execution) = queue(&app, root.path(), steps).await;
    use_database(
        &app,
        incident,
        DatabaseKind::Mariadb,
        3306,
        &db,
        &db,
        &password_file,
    )
    .await;
    let run = tokio::spawn({
        let runner = runner(&app);
        async move { runner.tick().await.unwrap() }
    });
    let started = eventually(Duration::from_secs(15), || {
        std::process::Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "-N", "-B", "-e"])
            .arg(format!("SELECT COUNT(*) FROM {db}.users"))
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "2")
    })
    .await;
    if !started {
        let finished = run.is_finished();
        panic!(
            "the restore wrote nothing: {:?}, runner finished: {finished}, {:?}",
            attempts(&app, execution).await,
            sqlx::query_as::<_, (String, String)>(
                "SELECT status, COALESCE(config::text, '') FROM executions WHERE id = $1"
            )
            .bind(execution)
            .fetch_one(&app.pool)
            .await
            .unwrap()
        );
    }
    let admin = sysadmin(&app).await;
    executions::control(&app.pool, &admin, incident, Control::Kill, "")
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status(&app, execution).await, "failed");
    assert_eq!(
        mariadb(&format!("SELECT COUNT(*) FROM {db}.users")),
        "2",
        "partial"
    );

    // Loud: the incident, its environment and the dashboard say so.
    let env: uuid::Uuid = sqlx::query_scalar("SELECT environment_id FROM incidents WHERE id = $1")
        .bind(incident)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let browser = app
        .signed_in_browser("lead@taskflow.example", "Lead", &["tech_lead"])
        .await;
    for path in [
        "/".to_owned(),
        format!("/incidents/{incident}"),
        format!("/incidents/{incident}/execution"),
        format!("/environments/{env}"),
    ] {
        let (code, html) = browser.page(&app, &path).await;
        assert_eq!(code, 200, "{path}");
        assert!(
            html.contains("Base de données partiellement restaurée"),
            "{path}"
        );
        assert!(html.contains("db_backup_20251017_103000.sql.gz"), "{path}");
    }
    // The only ways forward: retry the restore (or abort and restore another backup).
    let (_, html) = browser
        .page(&app, &format!("/incidents/{incident}/execution"))
        .await;
    assert!(html.contains(r#"id="exec-retry""#), "retry offered");
    assert!(
        html.contains(r#"<option value="0""#) && !html.contains(r#"<option value="1""#),
        "resuming past the restore is not offered"
    );
    let refused = executions::control(
        &app.pool,
        &admin,
        incident,
        Control::ResumeFrom(1),
        "done by hand",
    )
    .await
    .unwrap_err();
    assert!(
        format!("{refused:?}").contains("PartialRestoreOnlyRetry"),
        "{refused:?}"
    );
    mariadb(&format!("DROP TABLE {db}.slow"));
    executions::control(&app.pool, &admin, incident, Control::Retry, "")
        .await
        .unwrap();
    runner(&app).tick().await.unwrap();
    assert_eq!(
        status(&app, execution).await,
        "succeeded",
        "{:?}",
        attempts(&app, execution).await
    );
    assert_eq!(mariadb(&format!("SELECT COUNT(*) FROM {db}.users")), "4");
    let (_, html) = browser.page(&app, &format!("/environments/{env}")).await;
    assert!(!html.contains("Base de données partiellement restaurée"));
    let (_, html) = browser.page(&app, "/").await;
    assert!(!html.contains("Base de données partiellement restaurée"));
    assert_events_read(&app.pool).await;
    mariadb(&format!(
        "DROP DATABASE {db}; DROP USER '{db}'@'%'; DROP USER '{db}'@'localhost'"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_servers_execution_is_interrupted_within_one_lease_and_a_queued_one_starts_at_once()
{
    let app = spawn_app(test_database().await).await;
    let root = tempfile::tempdir().unwrap();
    let lease = [("RBD_RUNNER_LEASE_SECONDS", "3")];
    // Server A takes a long step, server B is idle.
    let (_, long) = queue(
        &app,
        root.path(),
        vec![command(&["sh", "-c", "echo a >> long; sleep 60"], "/")],
    )
    .await;
    let mut a = app.server_process(&lease).await;
    assert!(
        eventually(Duration::from_secs(15), || read(&root.path().join("long"))
            == "a\n")
        .await
    );
    let mut b = app.server_process(&lease).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // B is woken by the queue's notification: the execution starts at once, not at a poll.
    let mut delays = Vec::new();
    for n in 0..3 {
        let marker = format!("quick-{n}");
        let (_, quick) = queue(
            &app,
            root.path(),
            vec![command(
                &["sh", "-c", "echo done > \"$1\"", "sh", &marker],
                "/",
            )],
        )
        .await;
        let queued_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        sqlx::query("SELECT pg_notify('rollback_desk_executions', '')")
            .execute(&app.pool)
            .await
            .unwrap();
        assert!(
            eventually(Duration::from_secs(5), || root
                .path()
                .join(&marker)
                .exists())
            .await
        );
        let started: chrono::DateTime<chrono::Utc> =
            sqlx::query_scalar("SELECT started_at FROM executions WHERE id = $1")
                .bind(quick)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        delays.push((started - queued_at).num_milliseconds());
    }
    assert!(
        delays.iter().all(|ms| *ms < 200),
        "started within 200 ms: {delays:?}"
    );
    // A dies: B finds its execution within one lease (plus its 1 s sweep).
    a.kill().unwrap();
    a.wait().unwrap();
    let killed = std::time::Instant::now();
    let mut interrupted = false;
    while killed.elapsed() < Duration::from_secs(10) {
        if status(&app, long).await == "interrupted" {
            interrupted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = killed.elapsed();
    let _ = b.kill();
    let _ = b.wait();
    assert!(interrupted, "interrupted by the other server");
    assert!(
        took < Duration::from_millis(4500),
        "within one lease of 3 s (+ the sweep): {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revising_a_plan_after_an_interrupted_run_never_goes_back_to_the_defective_release() {
    use crate::plans::{CLAIRE, PREVIOUS};
    use app::domain::plan::ApprovalPolicy;
    const DEFECTIVE: &str = "2025-10-17_104523";
    let d = crate::rollback_core::demo().await;
    let app = &d.app;
    let claire = crate::rollback_core::person(app, CLAIRE).await;
    executions::start(
        &app.pool,
        ApprovalPolicy::default(),
        &claire,
        1,
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    // A runner takes it, switches `current` (the first steps ran) and dies in the next step.
    let owner = uuid::Uuid::new_v4();
    let claimed = executions::claim(&app.pool, owner, Duration::from_secs(1))
        .await
        .unwrap()
        .expect("claimed");
    let link = d.sandbox.join("var/www/taskflow/current");
    let next = d.sandbox.join("var/www/taskflow/current.next");
    std::os::unix::fs::symlink(format!("releases/{PREVIOUS}"), &next).unwrap();
    std::fs::rename(&next, &link).unwrap();
    executions::advance(&app.pool, claimed.id, owner)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(executions::expire_leases(&app.pool, &[]).await.unwrap(), 1);
    executions::control(
        &app.pool,
        &claire,
        1,
        Control::Abort,
        "the runner died mid-way",
    )
    .await
    .unwrap();
    app::backend::inventory::refresh(&app.pool, claimed.environment)
        .await
        .unwrap();

    let browser = Browser::new();
    browser
        .sign_in(app, CLAIRE, server::demo::DEMO_PASSWORD)
        .await;
    let (_, html) = browser.page(app, "/incidents/1/plan").await;
    assert!(
        html.contains(&format!(r#"<option value="{PREVIOUS}" selected"#)),
        "the release before the defective one is chosen: {html}"
    );
    assert!(
        !html.contains(&format!(r#"<option value="{DEFECTIVE}""#)),
        "the defective release is not offered"
    );
    assert!(!html.contains(r#"class="error""#));
    // A browser sending it anyway is refused, next to the field, and nothing is saved.
    let before: String = sqlx::query_scalar("SELECT fingerprint FROM plans WHERE incident_id = 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let (_, html) = browser
        .submit_and_follow(
            app,
            "/incidents/1/plan",
            "/api/save_plan",
            &[
                ("incident_id", "1"),
                ("change", "revise"),
                ("target_release", DEFECTIVE),
                ("backup", ""),
            ],
        )
        .await;
    assert!(
        html.contains(r#"class="error""#),
        "a message next to the field"
    );
    let after: (String, String) =
        sqlx::query_as("SELECT fingerprint, target_release FROM plans WHERE incident_id = 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(after.0, before, "nothing saved");
    assert_ne!(after.1, DEFECTIVE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_step_on_one_environment_never_delays_another_incidents_monitoring_check() {
    let app = spawn_app(test_database().await).await;
    let (v, _) = crate::verification::Verifying::monitoring(app).await;
    // Another incident's execution on another environment: a long step.
    let root = tempfile::tempdir().unwrap();
    let (_, long) = queue(
        &v.app,
        root.path(),
        vec![command(&["sh", "-c", "echo a > long; sleep 30"], "/")],
    )
    .await;
    let stop = tokio_util::sync::CancellationToken::new();
    let runner = Runner::new(v.app.pool.clone(), Duration::from_secs(30))
        .with_shutdown(stop.clone(), Duration::from_secs(1));
    let run = tokio::spawn(runner.run(Duration::from_millis(500)));
    assert!(
        eventually(Duration::from_secs(10), || root
            .path()
            .join("long")
            .exists())
        .await
    );
    // The monitoring check falls due while the step runs.
    let due: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "UPDATE monitoring_checks SET due_at = now() + interval '2 seconds'
         WHERE incident_id = $1 AND slot = 1 RETURNING due_at",
    )
    .bind(v.incident)
    .fetch_one(&v.app.pool)
    .await
    .unwrap();
    let mut taken: Option<chrono::DateTime<chrono::Utc>> = None;
    for _ in 0..100 {
        taken = sqlx::query_scalar(
            "SELECT taken_at FROM monitoring_checks WHERE incident_id = $1 AND slot = 1",
        )
        .bind(v.incident)
        .fetch_one(&v.app.pool)
        .await
        .unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let taken = taken.expect("the check was taken during the step");
    assert_eq!(status(&v.app, long).await, "running", "the step still runs");
    let late = taken - due;
    assert!(
        late < chrono::Duration::milliseconds(1500),
        "on time, not after the step: {late:?}"
    );
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(15), run)
        .await
        .expect("the runner stops")
        .unwrap();
    let done = attempts(&v.app, long).await;
    assert!(done[0].4.contains("server stopped"), "{done:?}");
    v.drop_database().await;
}
