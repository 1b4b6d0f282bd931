//! Environments' configuration (§4, §5): target, paths, commands as argument lists, database.
use crate::helpers::*;
use reqwest::StatusCode;

fn taskflow_form(root: &str) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = [
        ("name", "TaskFlow production"),
        ("target", "local"),
        ("local_root", root),
        ("ssh_user", ""),
        ("ssh_host", ""),
        ("ssh_port", "22"),
        ("ssh_key_path", ""),
        ("ssh_known_hosts", ""),
        ("releases_dir", "/var/www/taskflow/releases"),
        ("current_link", "/var/www/taskflow/current"),
        ("backups_dir", "/var/backups/taskflow"),
        ("public_dir", "/var/www/taskflow/current/public"),
        ("health_url", "https://taskflow.app"),
        ("time_zone", "Europe/Paris"),
        ("db_kind", "mariadb"),
        ("db_host", "127.0.0.1"),
        ("db_port", "3306"),
        ("db_name", "taskflow_prod"),
        ("db_user", "user_prod"),
        ("db_password_source", "env"),
        ("db_password_ref", "TASKFLOW_DB_PASSWORD"),
    ]
    .iter()
    .map(|(k, v)| (format!("form[{k}]"), v.to_string()))
    .collect();
    for (name, command) in [
        (
            "cache_clear",
            "php bin/console cache:clear --env=prod --no-warmup",
        ),
        ("cache_warmup", "php bin/console cache:warmup --env=prod"),
        ("php_fpm_reload", "sudo systemctl reload php8.3-fpm"),
        ("php_fpm_stop", "sudo systemctl stop php8.3-fpm"),
        ("php_fpm_start", "sudo systemctl start php8.3-fpm"),
        ("apache_reload", "sudo systemctl reload 'apache2; rm -rf /'"),
    ] {
        form.push((format!("form[commands][{name}]"), command.to_owned()));
    }
    form
}

fn with(form: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    form.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if k == key {
                    value.to_owned()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

fn refs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_configures_an_environment() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app.create_environment("TaskFlow production").await;
    let admin = app
        .signed_in_browser("admin@taskflow.example", "Alex Admin", &["admin"])
        .await;
    let page = format!("/admin/environments/{env}");

    // New environments start with the procedure's commands.
    let (status, html) = admin.page(&app, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        input_value(&html, "env-commands-cache_clear-").as_deref(),
        Some("php bin/console cache:clear --env=prod --no-warmup")
    );

    let mut form = vec![("id".to_owned(), env.to_string())];
    form.extend(taskflow_form("/srv/rollback-desk/sandbox"));
    let bad = with(
        &with(
            &with(&form, "form[local_root]", "relative"),
            "form[db_port]",
            "99999",
        ),
        "form[commands][cache_clear]",
        "'unclosed",
    );
    let (to, html) = admin
        .submit_and_follow(&app, &page, "/api/save_environment", &refs(&bad))
        .await;
    assert_eq!(to, page);
    assert!(html.contains("Un chemin absolu est attendu"), "{html}");
    assert!(html.contains("Un port entre 1 et 65535."));
    assert!(
        html.contains("Elle n&#x27;est jamais passée à un shell.")
            || html.contains("Elle n'est jamais passée à un shell.")
    );
    assert_eq!(
        input_value(&html, "env-local_root").as_deref(),
        Some("relative"),
        "typed value kept"
    );
    let untouched: String = sqlx::query_scalar("SELECT local_root FROM environments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(untouched, "/", "nothing saved");

    let (_, html) = admin
        .submit_and_follow(&app, &page, "/api/save_environment", &refs(&form))
        .await;
    assert!(
        html.contains("Environnement TaskFlow production enregistré."),
        "{html}"
    );
    let (root, kind, reference, apache): (String, String, String, serde_json::Value) = sqlx::query_as(
        "SELECT local_root, db_kind, db_password_ref, commands->'apache_reload' FROM environments",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (root.as_str(), kind.as_str(), reference.as_str()),
        (
            "/srv/rollback-desk/sandbox",
            "mariadb",
            "TASKFLOW_DB_PASSWORD"
        )
    );
    // Quoted text stays one argument: nothing is ever interpreted by a shell.
    assert_eq!(
        apache,
        serde_json::json!(["sudo", "systemctl", "reload", "apache2; rm -rf /"])
    );
    let (_, html) = admin.page(&app, &page).await;
    let shown = input_value(&html, "env-commands-apache_reload-").unwrap();
    assert!(
        shown.starts_with("sudo systemctl reload ") && shown.contains("apache2; rm -rf /"),
        "{shown}"
    );

    // SSH targets need their user, host, key and known-hosts entry.
    let ssh = with(
        &with(&form, "form[target]", "ssh"),
        "form[ssh_host]",
        "serveur-production.taskflow.app",
    );
    let (_, html) = admin
        .submit_and_follow(&app, &page, "/api/save_environment", &refs(&ssh))
        .await;
    assert!(html.contains("Ce champ est requis."), "{html}");

    // Only admins.
    let lead = app
        .signed_in_browser("claire@taskflow.example", "Claire", &["tech_lead"])
        .await;
    assert_eq!(lead.page(&app, &page).await.0, StatusCode::FORBIDDEN);
    let forged = with(&form, "form[local_root]", "/");
    let (_, html) = lead
        .submit_and_follow(&app, "/", "/api/save_environment", &refs(&forged))
        .await;
    assert!(html.contains("pas le droit"), "{html}");
    let root: String = sqlx::query_scalar("SELECT local_root FROM environments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(root, "/srv/rollback-desk/sandbox");
}

/// A target folder like the procedure's: three releases, `current`, two backups, odd names.
fn scenario_target(root: &std::path::Path) {
    use std::os::unix::fs::symlink;
    let releases = root.join("var/www/taskflow/releases");
    for release in [
        "2025-10-15_091844",
        "2025-10-16_153012",
        "2025-10-17_104523",
        "not a release",
        "2025-10-18_000000; rm -rf",
    ] {
        std::fs::create_dir_all(releases.join(release)).unwrap();
    }
    std::fs::write(
        releases.join("2025-10-19_000000"),
        "a file, not a release folder",
    )
    .unwrap();
    // As on the server: an absolute path of the target (the environment's root stands for /).
    symlink(
        "/var/www/taskflow/releases/2025-10-17_104523",
        root.join("var/www/taskflow/current"),
    )
    .unwrap();
    let backups = root.join("var/backups/taskflow");
    std::fs::create_dir_all(&backups).unwrap();
    std::fs::write(
        backups.join("db_backup_20251016_150000.sql.gz"),
        b"older dump",
    )
    .unwrap();
    std::fs::write(
        backups.join("db_backup_20251017_103000.sql.gz"),
        b"dump before v1.2.0",
    )
    .unwrap();
    std::fs::write(backups.join("db_backup_2025.sql.gz"), b"bad name").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_reads_a_real_target() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    let env = app.create_environment("TaskFlow production").await;
    let target = tempfile::tempdir().unwrap();
    scenario_target(target.path());
    sqlx::query("UPDATE environments SET local_root = $1")
        .bind(target.path().to_str().unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let browser = app
        .signed_in_browser("sophie@taskflow.example", "Sophie", &["sysadmin"])
        .await;
    let page = format!("/environments/{env}");
    let env_id = env.to_string();
    let fields = [("id", env_id.as_str())];
    let refresh = || browser.submit_and_follow(&app, &page, "/api/refresh_inventory", &fields);

    let (_, html) = refresh().await;
    assert!(html.contains("Inventaire lu."), "{html}");
    // §11.1 with the environment's paths, ready to copy.
    assert!(
        html.contains("<code id=\"cmd-list_releases\">ls -lt /var/www/taskflow/releases/</code>"),
        "{html}"
    );
    assert!(
        html.contains("<code id=\"cmd-follow_logs\">tail -f /var/www/taskflow/current/var/log/prod.log</code>"),
        "{html}"
    );
    assert!(
        html.contains("<code>2025-10-17_104523</code>"),
        "current release shown: {html}"
    );
    let releases: Vec<String> = sqlx::query_scalar("SELECT name FROM releases ORDER BY stamp")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        releases,
        [
            "2025-10-15_091844",
            "2025-10-16_153012",
            "2025-10-17_104523"
        ]
    );
    let (current, ignored): (Option<String>, Vec<String>) =
        sqlx::query_as("SELECT current_release, ignored FROM inventories")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(current.as_deref(), Some("2025-10-17_104523"));
    assert_eq!(
        ignored,
        [
            "backups/db_backup_2025.sql.gz",
            "releases/2025-10-18_000000; rm -rf",
            "releases/2025-10-19_000000",
            "releases/not a release",
        ]
    );
    let (file, size, sha): (String, i64, String) = sqlx::query_as(
        "SELECT file_name, size_bytes, sha256 FROM backups ORDER BY taken_at DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (file.as_str(), size),
        ("db_backup_20251017_103000.sql.gz", 18)
    );
    // sha256 of "dump before v1.2.0", computed independently.
    let expected = std::process::Command::new("sha256sum")
        .arg(target.path().join("var/backups/taskflow").join(&file))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&expected.stdout).starts_with(&sha));

    // A dangling current link, an outside link, an empty backups folder.
    let current = target.path().join("var/www/taskflow/current");
    std::fs::remove_file(&current).unwrap();
    std::os::unix::fs::symlink("releases/2025-10-20_000000", &current).unwrap();
    for entry in std::fs::read_dir(target.path().join("var/backups/taskflow")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let (_, html) = refresh().await;
    assert!(
        html.contains("pointe vers un dossier qui n&#x27;existe pas")
            || html.contains("pointe vers un dossier qui n'existe pas"),
        "{html}"
    );
    let backups: i64 = sqlx::query_scalar("SELECT count(*) FROM backups")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(backups, 0);
    std::fs::remove_file(&current).unwrap();
    std::os::unix::fs::symlink("../x", &current).unwrap();
    std::fs::create_dir_all(target.path().join("var/www/x")).unwrap();
    let (_, html) = refresh().await;
    assert!(
        html.contains("current pointe hors des releases : ../x"),
        "{html}"
    );

    // A missing folder: the error is shown, the previous lists kept.
    std::fs::remove_dir_all(target.path().join("var/backups")).unwrap();
    let (_, html) = refresh().await;
    assert!(
        html.contains("Lecture de l&#x27;inventaire impossible")
            || html.contains("Lecture de l'inventaire impossible"),
        "{html}"
    );
    let releases: i64 = sqlx::query_scalar("SELECT count(*) FROM releases")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(releases, 3);

    // Read-only and non-§2.2 users can look but not trigger a read.
    let dev = app
        .signed_in_browser("thomas@taskflow.example", "Thomas", &["developer"])
        .await;
    let (status, html) = dev.page(&app, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("/api/refresh_inventory"));
    let (_, html) = dev
        .submit_and_follow(
            &app,
            &page,
            "/api/refresh_inventory",
            &[("id", &env.to_string())],
        )
        .await;
    assert!(html.contains("pas le droit"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_defaults_to_the_previous_release_and_the_backup_before_the_deployment() {
    let pool = test_database().await;
    use app::backend::plans::{defaults, DefaultsProblem};
    let app = spawn_app(pool).await;
    server::demo::seed(&app.pool).await.unwrap();
    let sandbox = tempfile::tempdir().unwrap();
    server::demo::build_sandbox(sandbox.path()).unwrap();
    server::demo::seed_scenario(&app.pool, sandbox.path())
        .await
        .unwrap();
    let env: uuid::Uuid = sqlx::query_scalar("SELECT id FROM environments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    let conn = &mut *conn;
    // Incident #1 of the scenario: v1.2.0, release 2025-10-17_104523.
    assert_eq!(
        defaults(conn, 1, true).await.unwrap(),
        Err(DefaultsProblem::NoInventory)
    );
    app::backend::inventory::refresh(&app.pool, env)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    let chosen = defaults(conn, 1, true).await.unwrap().unwrap();
    assert_eq!(chosen.current_release.as_deref(), Some("2025-10-17_104523"));
    assert_eq!(chosen.defective.release, "2025-10-17_104523");
    assert_eq!(chosen.target_release, "2025-10-16_153012");
    assert_eq!(chosen.defective.version.as_deref(), Some("v1.2.0"));
    // v1.2.0 went out at 10:45 Paris time; the 10:30 backup is the one just before (§5.2 step 3).
    assert_eq!(
        chosen.backup.unwrap().file_name,
        "db_backup_20251017_103000.sql.gz"
    );

    // Read in the wrong time zone, 10:30 would be after 08:45 UTC: the time zone matters.
    sqlx::query("UPDATE environments SET time_zone = 'UTC'")
        .execute(&app.pool)
        .await
        .unwrap();
    let in_utc = defaults(conn, 1, true).await.unwrap().unwrap();
    assert_eq!(
        in_utc.backup.unwrap().file_name,
        "db_backup_20251016_150000.sql.gz"
    );
    sqlx::query("UPDATE environments SET time_zone = 'Europe/Paris'")
        .execute(&app.pool)
        .await
        .unwrap();

    // With no backup before the deployment, there is no database plan, and it says why.
    for entry in std::fs::read_dir(sandbox.path().join("var/backups/taskflow")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    app::backend::inventory::refresh(&app.pool, env)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match defaults(conn, 1, true).await.unwrap() {
        Err(DefaultsProblem::NoEarlierBackup { version, .. }) => assert_eq!(version, "v1.2.0"),
        other => panic!("{other:?}"),
    }
    // An application rollback needs no backup.
    assert!(defaults(conn, 1, false).await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ssh_target_reads_like_a_local_one() {
    use app::backend::inventory;
    use app::domain::environment::Target;
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let sshd = Sshd::start();
    let target = tempfile::tempdir().unwrap();
    scenario_target(target.path());
    // Real absolute paths on the SSH host (this machine), and a relative current link.
    let current = target.path().join("var/www/taskflow/current");
    std::fs::remove_file(&current).unwrap();
    std::os::unix::fs::symlink("releases/2025-10-17_104523", &current).unwrap();
    let root = target.path().display().to_string();
    sqlx::query(
        "UPDATE environments SET target = 'ssh', ssh_user = $1, ssh_host = '127.0.0.1',
             ssh_port = $2, ssh_key_path = $3, ssh_known_hosts = $4,
             releases_dir = $5 || '/var/www/taskflow/releases',
             current_link = $5 || '/var/www/taskflow/current',
             backups_dir = $5 || '/var/backups/taskflow'",
    )
    .bind(&sshd.user)
    .bind(i32::from(sshd.port))
    .bind(&sshd.key_path)
    .bind(&sshd.known_hosts)
    .bind(&root)
    .execute(&app.pool)
    .await
    .unwrap();
    let config = app::backend::environments::config(&app.pool, env)
        .await
        .unwrap()
        .unwrap();
    let over_ssh = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || inventory::read(&config))
            .await
            .unwrap()
            .expect("the SSH target is read")
    };
    // The same folders read locally give exactly the same inventory.
    let mut local = config.clone();
    local.target = Target::Local { root: "/".into() };
    let here = inventory::read(&local).unwrap();
    assert_eq!(over_ssh, here);
    assert_eq!(
        over_ssh.current_release.as_deref(),
        Some("2025-10-17_104523")
    );
    assert_eq!(over_ssh.releases.len(), 3);
    assert_eq!(over_ssh.backups.len(), 2);
    assert!(over_ssh
        .ignored
        .contains(&"releases/2025-10-18_000000; rm -rf".to_owned()));

    // Through the page's button and the stored inventory.
    let browser = app
        .signed_in_browser("sophie@taskflow.example", "Sophie", &["sysadmin"])
        .await;
    let page = format!("/environments/{env}");
    let (_, html) = browser
        .submit_and_follow(
            &app,
            &page,
            "/api/refresh_inventory",
            &[("id", &env.to_string())],
        )
        .await;
    assert!(html.contains("Inventaire lu."), "{html}");
    assert!(html.contains("<code>2025-10-17_104523</code>"), "{html}");

    // Another host key than the one configured: refused (no trust on first use), said so.
    let other = Sshd::start();
    sqlx::query("UPDATE environments SET ssh_known_hosts = $1")
        .bind(
            other
                .known_hosts
                .replace(&other.port.to_string(), &sshd.port.to_string()),
        )
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, html) = browser
        .submit_and_follow(
            &app,
            &page,
            "/api/refresh_inventory",
            &[("id", &env.to_string())],
        )
        .await;
    assert!(
        html.contains("Lecture de l&#x27;inventaire impossible")
            || html.contains("Lecture de l'inventaire impossible"),
        "{html}"
    );
    assert!(html.contains("Host key verification failed"), "{html}");
    let releases: i64 = sqlx::query_scalar("SELECT count(*) FROM releases")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(releases, 3, "the previous lists are kept");
}
