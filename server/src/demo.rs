//! Demo data for `serve --demo`: one account per role (listed in the README).
use app::backend::accounts::{self, NewAccount};
use app::backend::AppError;
use app::domain::{EmailAddress, NewPassword, PersonName, Roles};
use sqlx::PgPool;

pub const DEMO_PASSWORD: &str = "taskflow-demo";

/// The release folders of the scenario, oldest first; `current` points to the last.
pub const SANDBOX_RELEASES: [&str; 3] = [
    "2025-10-15_091844",
    "2025-10-16_153012",
    "2025-10-17_104523",
];

/// Builds (or completes) the scenario's target in `root`, which stands for the server's `/`:
/// `/var/www/taskflow/releases/<3 releases>`, `current` → the defective v1.2.0 release, and the
/// two gzipped SQL dumps of a small TaskFlow-like schema in `/var/backups/taskflow`.
pub fn build_sandbox(root: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    let releases = root.join("var/www/taskflow/releases");
    for (release, version) in SANDBOX_RELEASES.iter().zip(["v1.1.7", "v1.1.8", "v1.2.0"]) {
        let dir = releases.join(release);
        std::fs::create_dir_all(dir.join("public"))?;
        std::fs::create_dir_all(dir.join("var/log"))?;
        std::fs::write(dir.join("VERSION"), format!("{version}\n"))?;
        // The log §6.2 reads: the defective release's shows the scenario's billing errors.
        let log = dir.join("var/log/prod.log");
        if !log.exists() {
            let text = if version == "v1.2.0" {
                "[2025-10-17 14:20:41] request.INFO: Matched route \"invoice_show\".\n\
                 [2025-10-17 14:21:02] request.CRITICAL: Uncaught PHP Exception TypeError: \
                 \"InvoiceCalculator::total(): Argument #1 must be of type array, null given\"\n"
            } else {
                "[2025-10-16 15:31:10] request.INFO: Matched route \"dashboard\".\n"
            };
            std::fs::write(log, text)?;
        }
    }
    let current = root.join("var/www/taskflow/current");
    if std::fs::symlink_metadata(&current).is_err() {
        // Relative, so that it resolves inside the sandbox too (an absolute link would point
        // at this machine's own /var/www).
        std::os::unix::fs::symlink("releases/2025-10-17_104523", &current)?;
    }
    let backups = root.join("var/backups/taskflow");
    std::fs::create_dir_all(&backups)?;
    for (file, users) in [
        ("db_backup_20251016_150000.sql.gz", 3),
        ("db_backup_20251017_103000.sql.gz", 4),
    ] {
        let path = backups.join(file);
        if path.exists() {
            continue;
        }
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path)?,
            flate2::Compression::default(),
        );
        gz.write_all(taskflow_dump(users).as_bytes())?;
        gz.finish()?;
    }
    Ok(())
}

/// A small TaskFlow-like dump (MySQL/MariaDB syntax) with `users` rows.
pub fn taskflow_dump(users: usize) -> String {
    let names = [
        "Alice Martin",
        "Bruno Petit",
        "Chloé Durand",
        "David Leroy",
        "Emma Roux",
    ];
    let mut sql = String::from(
        "-- TaskFlow database dump\n\
         DROP TABLE IF EXISTS tasks;\n\
         DROP TABLE IF EXISTS users;\n\
         CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, name VARCHAR(255) NOT NULL);\n\
         CREATE TABLE tasks (id INT PRIMARY KEY, user_id INT NOT NULL, title VARCHAR(255) NOT NULL, done BOOLEAN NOT NULL DEFAULT FALSE);\n",
    );
    for (i, name) in names.iter().take(users).enumerate() {
        let email = name.split(' ').next().unwrap_or("user").to_lowercase();
        sql.push_str(&format!(
            "INSERT INTO users (id, email, name) VALUES ({id}, '{email}@taskflow.example', '{name}');\n\
             INSERT INTO tasks (id, user_id, title, done) VALUES ({id}, {id}, 'Facturer le client {id}', FALSE);\n",
            id = i + 1
        ));
    }
    sql
}

/// The demo's MariaDB database, restored by the demo's database rollback.
pub const DEMO_DATABASE: &str = "taskflow_demo";

/// The demo's database on this machine's MariaDB (127.0.0.1:3306, root): created if missing
/// and loaded with today's data (5 users), so that restoring the backup visibly goes back to 4.
/// Without MariaDB the demo still runs; its restore step then fails and says why.
pub fn prepare_database(sandbox: &std::path::Path, database: &str) -> Result<(), String> {
    use std::io::Write;
    std::fs::write(sandbox.join("db-password"), "").map_err(|e| e.to_string())?;
    let mariadb = |args: &[&str], stdin: Option<String>| -> Result<(), String> {
        let mut child = std::process::Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("mariadb client: {e}"))?;
        if let (Some(mut pipe), Some(text)) = (child.stdin.take(), stdin) {
            pipe.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    };
    mariadb(
        &["-e", &format!("CREATE DATABASE IF NOT EXISTS `{database}`")],
        None,
    )?;
    mariadb(&[database], Some(taskflow_dump(5)))
}

/// TaskFlow's home page in the demo, served through the sandbox's `current` link: 500 for
/// the defective v1.2.0 (the billing errors), the maintenance text while it is up, 200 else.
pub fn taskflow_page(sandbox: &std::path::Path) -> (u16, String) {
    use app::backend::inventory::local_path;
    let current = sandbox.join("var/www/taskflow/current");
    // An absolute link means a path of the server: under the sandbox here.
    let release = match std::fs::read_link(&current) {
        Ok(target) if target.is_absolute() => {
            local_path(&sandbox.to_string_lossy(), &target.to_string_lossy())
        }
        Ok(target) => sandbox.join("var/www/taskflow").join(target),
        Err(_) => return (500, "current is missing".into()),
    };
    if let Ok(text) = std::fs::read_to_string(release.join("public/maintenance.html")) {
        return (503, text);
    }
    match std::fs::read_to_string(release.join("VERSION")) {
        Ok(v) if v.trim() == "v1.2.0" => (
            500,
            "TaskFlow v1.2.0 — Erreur 500 : le module de facturation ne répond pas.".into(),
        ),
        Ok(v) => (200, format!("TaskFlow {} — OK", v.trim())),
        Err(e) => (500, e.to_string()),
    }
}

/// Points the demo environment's health check at the demo's TaskFlow page on this server.
pub async fn point_health_check(pool: &PgPool, url: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE environments SET health_url = $1 WHERE name = 'TaskFlow production'")
        .bind(url)
        .execute(pool)
        .await?;
    Ok(())
}

/// The demo's plans, once: incident #1's application rollback, ready to execute, and a third
/// incident decided for a database restore whose plan has one approval of two.
pub async fn seed_plans(pool: &PgPool) -> Result<bool, AppError> {
    use app::backend::plans::{self, PlanChange, PlanInput};
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM plans")
        .fetch_one(pool)
        .await?;
    if existing > 0 {
        return Ok(false);
    }
    let environment: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM environments WHERE name = 'TaskFlow production'")
            .fetch_one(pool)
            .await?;
    app::backend::inventory::refresh(pool, environment).await?;
    let person = |email: &'static str| async move {
        let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(pool)
            .await?;
        app::backend::accounts::find(pool, id)
            .await?
            .map(|a| a.signed_in())
            .ok_or_else(|| AppError::Internal("demo account".into()))
    };
    let claire = person("claire.dubois@taskflow.example").await?;
    let julien = person("julien.moreau@taskflow.example").await?;
    let marc = person("marc.lefevre@taskflow.example").await?;
    let decided: Option<i64> =
        sqlx::query_scalar("SELECT id FROM incidents WHERE state = 'decided' ORDER BY id LIMIT 1")
            .fetch_optional(pool)
            .await?;
    let input = PlanInput {
        target_release: SANDBOX_RELEASES[1].to_owned(),
        backup: "db_backup_20251017_103000.sql.gz".to_owned(),
        manual_steps: String::new(),
    };
    if let Some(id) = decided {
        plans::save(pool, &claire, id, PlanChange::Prepare, &input).await?;
    }
    // A database restore decided ten minutes ago, waiting for a second approval.
    use app::backend::incidents::{self, IncidentFields, NewIncident, Perform};
    use app::domain::{Criterion, Decision, RollbackType, Severity, ValidationStep};
    let id = incidents::open(
        pool,
        &julien,
        &NewIncident {
            fields: IncidentFields {
                title: "Données de factures corrompues par la migration v1.2.0".into(),
                description: "La migration de la v1.2.0 a réécrit les montants des factures en                               double ; les nouvelles factures sont fausses."
                    .into(),
                severity: Severity::Critical,
                suspect_release: "2025-10-17_104523 (v1.2.0)".into(),
                criteria: vec![Criterion::UserDataLoss, Criterion::IrreversibleMigration],
                criteria_other: String::new(),
            },
            detected_at: chrono::Utc::now() - chrono::Duration::minutes(12),
            environment_id: environment,
        },
    )
    .await?;
    for (step, note) in [
        (
            ValidationStep::Identification,
            "Montants doublés depuis la migration 2025_10_17.",
        ),
        (
            ValidationStep::ImpactEvaluation,
            "Toutes les factures créées depuis 10h45.",
        ),
        (
            ValidationStep::NoQuickFix,
            "Migration irréversible : pas de correctif sûr.",
        ),
    ] {
        incidents::perform(
            pool,
            &julien,
            id,
            Perform::RecordStep {
                step,
                note: note.into(),
            },
        )
        .await?;
    }
    incidents::perform(
        pool,
        &julien,
        id,
        Perform::Decide {
            decision: Decision::Rollback(RollbackType::ApplicationDatabase),
            reason: "Restauration de la sauvegarde de 10h30 et retour à la v1.1.8.".into(),
        },
    )
    .await?;
    let fingerprint = plans::save(pool, &claire, id, PlanChange::Prepare, &input).await?;
    plans::review(
        pool,
        app::domain::plan::ApprovalPolicy::default(),
        &marc,
        id,
        app::domain::plan::Verdict::Approved,
        &fingerprint,
        "Sauvegarde de 10h30 vérifiée.",
        chrono::Utc::now(),
    )
    .await?;
    Ok(true)
}

/// (email, name, role) of the demo accounts.
pub const DEMO_ACCOUNTS: [(&str, &str, &str); 9] = [
    (
        "claire.dubois@taskflow.example",
        "Claire Dubois",
        "tech_lead",
    ),
    (
        "marc.lefevre@taskflow.example",
        "Marc Lefèvre",
        "project_manager",
    ),
    (
        "sophie.martin@taskflow.example",
        "Sophie Martin",
        "sysadmin",
    ),
    (
        "julien.moreau@taskflow.example",
        "Julien Moreau",
        "senior_dev_oncall",
    ),
    (
        "thomas.bernard@taskflow.example",
        "Thomas Bernard",
        "developer",
    ),
    ("camille.petit@taskflow.example", "Camille Petit", "qa"),
    ("nadia.haddad@taskflow.example", "Nadia Haddad", "dba"),
    ("paul.roux@taskflow.example", "Paul Roux", "viewer"),
    ("admin@taskflow.example", "Alex Admin", "admin"),
];

/// Creates the demo accounts that don't exist yet; returns how many were created.
pub async fn seed(pool: &PgPool) -> Result<usize, AppError> {
    // Accounts already there are skipped before anything is hashed: a restart with `--demo`
    // costs no argon2 run (nor its memory) for the nine demo passwords.
    let emails: Vec<&str> = DEMO_ACCOUNTS.iter().map(|(email, _, _)| *email).collect();
    let existing: Vec<String> = sqlx::query_scalar("SELECT email FROM users WHERE email = ANY($1)")
        .bind(&emails)
        .fetch_all(pool)
        .await?;
    let mut created = 0;
    for (email, name, role) in DEMO_ACCOUNTS
        .iter()
        .filter(|(email, _, _)| !existing.iter().any(|e| e == email))
    {
        let (Some(email), Some(name), Some(password), Some(roles)) = (
            EmailAddress::parse(email),
            PersonName::parse(name),
            NewPassword::parse(DEMO_PASSWORD),
            Roles::parse([*role]),
        ) else {
            return Err(AppError::Internal(format!(
                "demo account {email} is invalid"
            )));
        };
        let new = NewAccount {
            email,
            name,
            password,
            roles,
        };
        match accounts::create(pool, &new).await {
            Ok(_) => created += 1,
            Err(AppError::Invalid(_)) => {} // already there
            Err(other) => return Err(other),
        }
    }
    Ok(created)
}

/// The §10 contacts of the demo team, a week of on-call shifts from today (Julien, then
/// Sophie, 12 hours each, handing over at 08:00 and 20:00 Paris time) and the hosting support.
/// Only into an empty contact table.
pub async fn seed_contacts(pool: &PgPool) -> Result<bool, AppError> {
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM contacts)")
        .fetch_one(pool)
        .await?;
    if any {
        return Ok(false);
    }
    let mut tx = pool.begin().await?;
    let mut ids = Vec::new();
    for (role, name, phone, email) in [
        (
            "tech_lead",
            "Claire Dubois",
            "+33 6 11 22 33 44",
            "claire.dubois@taskflow.example",
        ),
        (
            "senior_dev_oncall",
            "Julien Moreau",
            "+33 6 22 33 44 55",
            "julien.moreau@taskflow.example",
        ),
        (
            "sysadmin",
            "Sophie Martin",
            "+33 6 33 44 55 66",
            "sophie.martin@taskflow.example",
        ),
        (
            "dba",
            "Nadia Haddad",
            "+33 6 44 55 66 77",
            "nadia.haddad@taskflow.example",
        ),
    ] {
        let id: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO contacts (role, name, phone, email) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(role)
        .bind(name)
        .bind(phone)
        .bind(email)
        .fetch_one(&mut *tx)
        .await?;
        ids.push(id);
    }
    let paris = chrono_tz::Europe::Paris;
    let today = chrono::Utc::now().with_timezone(&paris).date_naive();
    for half_day in 0..16 {
        let day = today - chrono::Duration::days(1) + chrono::Duration::days(half_day / 2);
        let hour = if half_day % 2 == 0 { 8 } else { 20 };
        let local = |d: chrono::NaiveDate, h: u32| {
            d.and_hms_opt(h, 0, 0)
                .and_then(|n| app::domain::on_call::from_local(n, paris).ok())
        };
        let start = local(day, hour);
        let end = if hour == 8 {
            local(day, 20)
        } else {
            local(day + chrono::Duration::days(1), 8)
        };
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        // Julien days, Sophie nights.
        let who = if hour == 8 { ids[1] } else { ids[2] };
        sqlx::query(
            "INSERT INTO on_call_shifts (contact_id, starts_at, ends_at) VALUES ($1, $2, $3)",
        )
        .bind(who)
        .bind(start)
        .bind(end)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO hosting_support (id, provider, phone, email, portal)
         VALUES (true, 'Hébergeur de démonstration', '+33 1 23 45 67 89',
                 'support@hebergeur.example', 'https://portail.hebergeur.example')
         ON CONFLICT (id) DO NOTHING",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The procedure's scenario (DESIGN.md): the TaskFlow production environment, the v1.2.0
/// incident of 17/10/2025 decided for an application rollback, and an open incident a few
/// minutes old to show the countdown. Only seeded into an empty incident table.
pub async fn seed_scenario(pool: &PgPool, sandbox: &std::path::Path) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    // Serialise concurrent seeders (two servers started with --demo).
    sqlx::query("LOCK TABLE incidents IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        return Ok(false);
    }
    // The environment is the sandbox target: a folder standing for the server's `/`.
    // Commands that do real work in the sandbox instead of php and systemctl, and the demo's
    // own MariaDB database (root, the empty password of this machine's MariaDB, in a file).
    let environment: uuid::Uuid = sqlx::query_scalar(
        r#"INSERT INTO environments (name, target, local_root, db_kind, db_port, db_name, db_user,
               db_password_source, db_password_ref, commands)
         VALUES ('TaskFlow production', 'local', $1, 'mariadb', 3306, $2, 'root', 'file', $3, '{
             "cache_clear": ["rm", "-rf", "var/cache/prod"],
             "cache_warmup": ["mkdir", "-p", "var/cache/prod"],
             "php_fpm_reload": ["echo", "demo: systemctl reload php8.3-fpm"],
             "php_fpm_stop": ["echo", "demo: systemctl stop php8.3-fpm"],
             "php_fpm_start": ["echo", "demo: systemctl start php8.3-fpm"],
             "apache_reload": ["echo", "demo: systemctl reload apache2"]}')
         ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id"#,
    )
    .bind(sandbox.to_string_lossy().as_ref())
    .bind(DEMO_DATABASE)
    .bind(sandbox.join("db-password").to_string_lossy().as_ref())
    .fetch_one(&mut *tx)
    .await?;
    let user = |email: &'static str| {
        sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM users WHERE email = $1").bind(email)
    };
    let julien = user("julien.moreau@taskflow.example")
        .fetch_one(&mut *tx)
        .await?;
    let claire = user("claire.dubois@taskflow.example")
        .fetch_one(&mut *tx)
        .await?;
    let thomas = user("thomas.bernard@taskflow.example")
        .fetch_one(&mut *tx)
        .await?;

    // 17/10/2025, Paris time (UTC+2): detected 14:22, decided 14:28.
    let at = |hh: u32, mm: u32| {
        chrono::NaiveDate::from_ymd_opt(2025, 10, 17)
            .and_then(|d| d.and_hms_opt(hh - 2, mm, 0))
            .map(|t| t.and_utc())
            .ok_or_else(|| AppError::Internal("demo time".into()))
    };
    let detected = at(14, 22)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (title, description, detected_at, severity, environment_id,
             suspect_release, criteria, state, decision, rollback_type, decision_reason,
             decided_at, decided_by, created_by, created_at)
         VALUES ($1, $2, $3, 'critical', $4, '2025-10-17_104523 (v1.2.0)',
             ARRAY['critical_errors', 'critical_feature_failure'], 'decided', 'rollback',
             'application', $5, $6, $7, $8, $3) RETURNING id",
    )
    .bind("Erreurs critiques dans le module de facturation (v1.2.0)")
    .bind("Depuis le déploiement de la v1.2.0, la génération des factures échoue (erreurs 500 sur /billing). Les autres modules répondent.")
    .bind(detected)
    .bind(environment)
    .bind("Erreurs critiques dans le module de facturation ; pas de migration de base de données dans la v1.2.0 : rollback applicatif.")
    .bind(at(14, 28)?)
    .bind(claire)
    .bind(julien)
    .fetch_one(&mut *tx)
    .await?;
    let steps = [
        (
            "identification",
            julien,
            at(14, 23)?,
            "Erreurs 500 sur /billing depuis la v1.2.0 (release 2025-10-17_104523).",
        ),
        (
            "impact_evaluation",
            julien,
            at(14, 25)?,
            "Facturation indisponible pour tous les clients ; le reste de l'application répond.",
        ),
        (
            "no_quick_fix",
            claire,
            at(14, 27)?,
            "Cause non identifiée, aucun correctif sûr en moins de 30 minutes.",
        ),
        (
            "decision",
            claire,
            at(14, 28)?,
            "Rollback applicatif vers v1.1.8 (release 2025-10-16_153012).",
        ),
    ];
    let event = |at, actor: Option<uuid::Uuid>, kind: &'static str, details: serde_json::Value| {
        sqlx::query("INSERT INTO incident_events (incident_id, at, actor_id, kind, details) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(at)
            .bind(actor)
            .bind(kind)
            .bind(details)
    };
    event(detected, Some(julien), "created", serde_json::json!({"title": "Erreurs critiques dans le module de facturation (v1.2.0)", "severity": "critical"}))
        .execute(&mut *tx)
        .await?;
    for (number, (step, by, when, note)) in steps.into_iter().enumerate() {
        sqlx::query("INSERT INTO incident_steps (incident_id, step, recorded_by, recorded_at, note) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(step)
            .bind(by)
            .bind(when)
            .bind(note)
            .execute(&mut *tx)
            .await?;
        if step == "decision" {
            event(when, Some(by), "decided", serde_json::json!({"decision": "rollback", "rollback_type": "application", "reason": note}))
                .execute(&mut *tx)
                .await?;
            event(
                when,
                Some(by),
                "state_changed",
                serde_json::json!({"from": "evaluating", "to": "decided"}),
            )
            .execute(&mut *tx)
            .await?;
        } else {
            event(
                when,
                Some(by),
                "step_recorded",
                serde_json::json!({"step": step, "number": number + 1, "note": note}),
            )
            .execute(&mut *tx)
            .await?;
            if number == 0 {
                event(
                    when,
                    Some(by),
                    "state_changed",
                    serde_json::json!({"from": "detected", "to": "evaluating"}),
                )
                .execute(&mut *tx)
                .await?;
            }
        }
    }

    // §11.2: the version table of the document.
    for (version, release, deployed_hour, rolled_back) in [
        ("v1.0.0", "2025-10-01_100000", (2025, 10, 1, 8), None),
        ("v1.1.0", "2025-10-08_100000", (2025, 10, 8, 8), None),
        ("v1.1.8", "2025-10-16_153012", (2025, 10, 16, 13), None),
        (
            "v1.2.0",
            "2025-10-17_104523",
            (2025, 10, 17, 8),
            Some("Erreur module facturation"),
        ),
    ] {
        let (y, m, d, h) = deployed_hour;
        let deployed = chrono::NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, 45, 23))
            .map(|t| t.and_utc())
            .ok_or_else(|| AppError::Internal("demo time".into()))?;
        sqlx::query(
            "INSERT INTO deployments (environment_id, version, release, deployed_at, checklist,
                 source, rolled_back_at, rollback_reason)
             VALUES ($1, $2, $3, $4, ARRAY['tests_green', 'code_reviewed', 'recent_backup'], 'demo',
                 CASE WHEN $5::text IS NULL THEN NULL ELSE $6::timestamptz END, $5)
             ON CONFLICT (environment_id, release) DO NOTHING",
        )
        .bind(environment)
        .bind(version)
        .bind(release)
        .bind(deployed)
        .bind(rolled_back)
        .bind(at(14, 30)?)
        .execute(&mut *tx)
        .await?;
    }

    let now = chrono::Utc::now();
    let fresh = now - chrono::Duration::minutes(6);
    let open: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (title, description, detected_at, severity, environment_id,
             suspect_release, criteria, created_by, created_at)
         VALUES ('Export PDF des tâches très lent', $1, $2, 'urgent', $3, '2025-10-17_104523 (v1.2.0)',
             ARRAY['major_performance'], $4, $2) RETURNING id",
    )
    .bind("L'export PDF prend plus de 15 secondes depuis ce matin.")
    .bind(fresh)
    .bind(environment)
    .bind(thomas)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO incident_events (incident_id, at, actor_id, kind, details) VALUES ($1, $2, $3, 'created', $4)")
        .bind(open)
        .bind(fresh)
        .bind(thomas)
        .bind(serde_json::json!({"title": "Export PDF des tâches très lent", "severity": "urgent"}))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}
