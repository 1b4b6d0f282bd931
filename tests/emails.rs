//! The §7 emails (issue 6): composed from the incident's facts, queued in the outbox, and
//! delivered to a real SMTP server process on loopback (aiosmtpd, from PyPI).
use crate::helpers::*;
use crate::plans::{scenario, CLAIRE, PREVIOUS};
use app::domain::email::RecipientList;
use server::mailer::{Delivery, Mailer};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A real SMTP server that keeps what it receives in a maildir.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start_on(port: u16, dir: &Path) -> SmtpServer {
        // The handler makes the maildir itself (it must not exist yet).
        let maildir = dir.join("inbox");
        let child = std::process::Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
            ])
            .arg("aiosmtpd.handlers.Mailbox")
            .arg(&maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (scripts/test installs it)");
        wait_for_port(port);
        SmtpServer {
            child,
            port,
            maildir,
        }
    }

    /// The messages received, parsed by Python's email package: subject, to, message-id,
    /// text part, HTML part.
    fn received(&self) -> Vec<serde_json::Value> {
        let new = self.maildir.join("new");
        if !new.exists() {
            return Vec::new();
        }
        // One Python process parses them all (its email package decodes headers and parts).
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import email, email.policy, json, os, sys\n\
                 d = sys.argv[1]\n\
                 out = []\n\
                 for name in sorted(os.listdir(d)):\n\
                 \x20   m = email.message_from_binary_file(open(os.path.join(d, name), 'rb'), policy=email.policy.default)\n\
                 \x20   out.append({'subject': m['subject'], 'to': m['to'], 'from': m['from'],\n\
                 \x20     'message_id': m['message-id'],\n\
                 \x20     'text': m.get_body(('plain',)).get_content(), 'html': m.get_body(('html',)).get_content()})\n\
                 print(json.dumps(out))",
            ])
            .arg(&new)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn mailer(app: &TestApp, port: u16) -> Mailer {
    let delivery = Delivery::from_settings(
        Some(&format!("smtp://127.0.0.1:{port}")),
        PathBuf::from("/nonexistent"),
    )
    .unwrap();
    Mailer::new(
        app.pool.clone(),
        delivery,
        "Rollback Desk <desk@taskflow.example>",
        1000,
    )
    .unwrap()
}

/// One users' email queued for `n` recipients (user1@example.com …), straight in the outbox.
async fn queue_bulk(app: &TestApp, n: i32) {
    let send: i64 = sqlx::query_scalar(
        "INSERT INTO email_sends (template, lang, subject, body_text, body_html)
         VALUES ('users', 'fr', 'Incident technique résolu - TaskFlow', 'Le service est rétabli.',
                 '<p>Le service est rétabli.</p>') RETURNING id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO outbox (send_id, recipient, message_id)
         SELECT $1, 'user' || n || '@example.com', gen_random_uuid()::text || '@rollback-desk'
         FROM generate_series(1, $2) AS n",
    )
    .bind(send)
    .bind(n)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// The procedure's incident, rolled back for real (the health check on a local site).
async fn rolled_back() -> crate::plans::Scenario {
    let s = scenario("application").await;
    let site = crate::runner::taskflow_site(s.sandbox.path().to_path_buf()).await;
    sqlx::query("UPDATE environments SET health_url = $1")
        .bind(&site)
        .execute(&s.app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE incidents SET decision_reason = 'Erreurs <script>alert(1)</script> dans la facturation' WHERE id = $1")
        .bind(s.incident)
        .execute(&s.app.pool)
        .await
        .unwrap();
    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;
    s.execute(&claire).await;
    s.run().await;
    assert_eq!(s.state().await, "verifying");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_internal_email_is_filled_in_and_delivered_over_smtp() {
    let s = rolled_back().await;
    let claire = s.browser(CLAIRE).await;
    let page = format!("/incidents/{}/emails?template=internal&lang=fr", s.incident);
    let (_, html) = claire.page(&s.app, &page).await;
    for expected in [
        "[URGENT] Rollback effectué - Application TaskFlow",
        "Version déployée (défectueuse) : v1.2.0 (release 2025-10-17_104523)",
        "Version restaurée : v1.1.8 (release 2025-10-16_153012)",
        "Perte de données : Non",
        "Aucune perte de données (rollback applicatif uniquement)",
        "Claire Dubois",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    assert!(
        !html.contains("<script>alert(1)"),
        "escaped everywhere: {html}"
    );
    let (_, english) = claire
        .page(
            &s.app,
            &format!("/incidents/{}/emails?template=internal&lang=en", s.incident),
        )
        .await;
    assert!(english.contains("[URGENT] Rollback done - TaskFlow application"));
    assert!(english.contains("Data loss: No"));
    // Users' email: the window, and what is not known is said missing, not invented.
    let (_, users) = claire
        .page(
            &s.app,
            &format!("/incidents/{}/emails?template=users&lang=fr", s.incident),
        )
        .await;
    assert!(
        users.contains("Incident technique résolu - TaskFlow"),
        "{users}"
    );
    assert!(
        users.contains("Aucune donnée n&#x27;a été perdue.")
            || users.contains("Aucune donnée n'a été perdue.")
    );

    let facts = app::backend::emails::facts(&s.app.pool, s.incident)
        .await
        .unwrap();
    let (subject, body) = app::backend::emails::render(
        app::domain::email::EmailTemplate::Internal,
        app::i18n::Lang::Fr,
        &facts,
        chrono_tz::Europe::Paris,
        "Claire Dubois",
    )
    .unwrap();
    // The team by role also holds the §10.1 contacts of that role (not the others).
    sqlx::query(
        "INSERT INTO contacts (role, name, phone, email) VALUES
         ('tech_lead', 'Claire (astreinte)', '+33 6 00 00 00 01', 'astreinte.tech@taskflow.example'),
         ('dba', 'Nadia Haddad', '+33 6 00 00 00 02', 'dba@taskflow.example')",
    )
    .execute(&s.app.pool)
    .await
    .unwrap();
    let (_, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/send_email",
            &[
                ("incident_id", &s.incident.to_string()),
                ("template", "internal"),
                ("lang", "fr"),
                ("subject", &subject),
                ("body", &body),
                ("roles[tech_lead]", "on"),
                (
                    "users",
                    "a@example.com\nnot an address\nA@example.com\nb@example.com\n",
                ),
            ],
        )
        .await;
    assert!(html.contains("E-mail mis en file pour 4"), "{html}");
    assert!(html.contains("1 doublon retiré ·"), "{html}");
    assert!(html.contains("2 (not an address)"), "{html}");

    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start_on(free_port(), maildir.path());
    assert_eq!(mailer(&s.app, smtp.port).tick().await.unwrap(), 4);
    let received = smtp.received();
    assert_eq!(received.len(), 4);
    let mut to: Vec<String> = received
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    assert_eq!(
        to,
        [
            "a@example.com",
            "astreinte.tech@taskflow.example",
            "b@example.com",
            "claire.dubois@taskflow.example"
        ]
    );
    let one = &received[0];
    assert_eq!(
        one["subject"],
        "[URGENT] Rollback effectué - Application TaskFlow"
    );
    assert!(one["from"]
        .as_str()
        .unwrap()
        .contains("desk@taskflow.example"));
    assert!(one["message_id"]
        .as_str()
        .unwrap()
        .ends_with("@rollback-desk>"));
    let text = one["text"].as_str().unwrap();
    assert!(
        text.contains("Raison : Erreurs <script>alert(1)</script> dans la facturation"),
        "{text}"
    );
    let html_part = one["html"].as_str().unwrap();
    assert!(
        html_part.contains("Erreurs &lt;script&gt;alert(1)&lt;"),
        "{html_part}"
    );
    assert!(!html_part.contains("<script>"));

    let (_, html) = claire.page(&s.app, &page).await;
    assert!(
        html.contains(r#"<td class="num">4</td><td class="num">0</td><td class="num">0</td>"#),
        "progress: {html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_down_nothing_is_lost_and_each_message_arrives_once() {
    let s = rolled_back().await;
    let claire = s.user(CLAIRE).await;
    let users: String = (0..20).map(|n| format!("user{n}@example.com\n")).collect();
    let queued = app::backend::emails::send(
        &s.app.pool,
        &claire,
        s.incident,
        &app::backend::emails::NewSend {
            template: app::domain::email::EmailTemplate::Users,
            lang: app::i18n::Lang::Fr,
            subject: "Incident technique résolu - TaskFlow",
            body: "Chers utilisateurs,\n\nLe service est rétabli.",
            roles: vec![],
            users: &users,
            list: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(queued.recipients, 20);
    // The SMTP server is down: every message stays pending, with the error.
    let port = free_port();
    let down = mailer(&s.app, port);
    assert_eq!(down.tick().await.unwrap(), 20);
    let (pending, errors): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'pending'), count(last_error) FROM outbox",
    )
    .fetch_one(&s.app.pool)
    .await
    .unwrap();
    assert_eq!((pending, errors), (20, 20));
    assert_eq!(down.tick().await.unwrap(), 0, "not before the retry delay");

    // A mailer that died holding 5 rows: they wait for its lease; the others go.
    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start_on(port, maildir.path());
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&s.app.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE outbox SET status = 'sending', locked_by = gen_random_uuid(),
             locked_until = now() + interval '1 hour'
         WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 5)",
    )
    .execute(&s.app.pool)
    .await
    .unwrap();
    let up = mailer(&s.app, smtp.port);
    assert_eq!(up.tick().await.unwrap(), 15);
    // Its hold runs out (30 s in real time): another mailer takes them.
    sqlx::query(
        "UPDATE outbox SET locked_until = now() - interval '1 second' WHERE status = 'sending'",
    )
    .execute(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(up.tick().await.unwrap(), 5);
    assert_eq!(up.tick().await.unwrap(), 0);
    let received = smtp.received();
    assert_eq!(received.len(), 20);
    let mut to: Vec<String> = received
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 20, "each once");
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(sent, 20);
}

#[test]
fn a_five_megabyte_list_keeps_the_first_hundred_thousand() {
    let mut text = String::from("email,name\n");
    let mut n = 0;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&format!("person{n}@example.com,Person {n}\n"));
        if n % 1000 == 0 {
            text.push_str("garbage line\n");
            text.push_str(&format!("PERSON{n}@example.com\n"));
        }
        n += 1;
    }
    let list = RecipientList::parse(&text);
    assert_eq!(list.valid.len(), 100_000);
    assert!(list.truncated);
    assert!(list.bad.iter().all(|(_, l)| l == "garbage line"));
    assert!(list.duplicates > 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_messages_become_eml_files() {
    let s = rolled_back().await;
    let claire = s.user(CLAIRE).await;
    app::backend::emails::send(
        &s.app.pool,
        &claire,
        s.incident,
        &app::backend::emails::NewSend {
            template: app::domain::email::EmailTemplate::Internal,
            lang: app::i18n::Lang::En,
            subject: "[URGENT] Rollback done - TaskFlow application",
            body: "Hello,\n\nA rollback was done.",
            roles: vec![app::domain::Role::TechLead, app::domain::Role::Sysadmin],
            users: "",
            list: None,
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = Mailer::new(
        s.app.pool.clone(),
        Delivery::from_settings(None, dir.path().join("mail")).unwrap(),
        "Rollback Desk <desk@taskflow.example>",
        1000,
    )
    .unwrap();
    assert_eq!(files.tick().await.unwrap(), 2);
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2);
    assert!(
        names[0].ends_with("-claire.dubois@taskflow.example.eml"),
        "{names:?}"
    );
    let eml = std::fs::read_to_string(dir.path().join("mail").join(&names[0])).unwrap();
    assert!(
        eml.contains("Subject: [URGENT] Rollback done - TaskFlow application"),
        "{eml}"
    );
    assert!(eml.contains("Content-Type: text/html"));
}

async fn queued_for(app: &TestApp, template: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT o.recipient FROM outbox o JOIN email_sends s ON s.id = o.send_id
         WHERE s.template = $1 ORDER BY o.recipient",
    )
    .bind(template)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_emails_reach_the_people_who_act() {
    use crate::plans::{JULIEN, MARC, SOPHIE};
    let s = scenario("application").await;
    // An execution that fails (the health check can't reach https://taskflow.app).
    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;
    assert!(
        queued_for(&s.app, "approval_requested").await.is_empty(),
        "an application plan needs no approval"
    );
    app::backend::executions::start(
        &s.app.pool,
        app::domain::plan::ApprovalPolicy::default(),
        &claire,
        s.incident,
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    server::runner::Runner::new(s.app.pool.clone(), Duration::from_secs(30))
        .tick()
        .await
        .unwrap();
    let deciders = {
        let mut all = vec![CLAIRE, MARC, SOPHIE, JULIEN];
        all.sort();
        all
    };
    assert_eq!(queued_for(&s.app, "execution_failed").await, deciders);
    let (subject, body): (String, String) = sqlx::query_as(
        "SELECT subject, body_text FROM email_sends WHERE template = 'execution_failed'",
    )
    .fetch_one(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(
        subject,
        format!(
            "[ÉCHEC] Le rollback de l'incident #{} a échoué à l'étape 7",
            s.incident
        )
    );
    assert!(body.contains("relancer l'étape"));
    // The email links to the page where it is done, absolute, and the link opens it.
    let link = format!("http://{}/incidents/{}/execution", s.app.addr, s.incident);
    assert!(body.contains(&link), "{body}");
    let claire = s.browser(CLAIRE).await;
    let (status, html) = claire
        .page(&s.app, &format!("/incidents/{}/execution", s.incident))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(html.contains("exec-status"), "{html}");

    // The decision deadline of the open incident passes: escalated once.
    let later = chrono::Utc::now() + chrono::Duration::minutes(40);
    app::backend::incidents::mark_overdue(&s.app.pool, later)
        .await
        .unwrap();
    app::backend::incidents::mark_overdue(&s.app.pool, later)
        .await
        .unwrap();
    assert_eq!(queued_for(&s.app, "deadline_passed").await, deciders);
    let body: String =
        sqlx::query_scalar("SELECT body_text FROM email_sends WHERE template = 'deadline_passed'")
            .fetch_one(&s.app.pool)
            .await
            .unwrap();
    assert!(
        body.contains(&format!("http://{}/incidents/", s.app.addr)),
        "{body}"
    );

    // A database plan asks the others for approval, never its requester; in their language.
    sqlx::query("UPDATE users SET language = 'en' WHERE email = $1")
        .bind(MARC)
        .execute(&s.app.pool)
        .await
        .unwrap();
    let s2 = scenario("application_database").await;
    sqlx::query("UPDATE users SET language = 'en' WHERE email = $1")
        .bind(MARC)
        .execute(&s2.app.pool)
        .await
        .unwrap();
    s2.prepare(&s2.user(CLAIRE).await, PREVIOUS).await;
    let mut others = vec![MARC, SOPHIE, JULIEN];
    others.sort();
    assert_eq!(queued_for(&s2.app, "approval_requested").await, others);
    let english: String = sqlx::query_scalar(
        "SELECT s.subject FROM email_sends s JOIN outbox o ON o.send_id = s.id
         WHERE s.template = 'approval_requested' AND o.recipient = $1",
    )
    .bind(MARC)
    .fetch_one(&s2.app.pool)
    .await
    .unwrap();
    assert!(
        english.starts_with("[APPROVAL] Rollback plan of incident #"),
        "{english}"
    );
    let english: String = sqlx::query_scalar(
        "SELECT s.body_text FROM email_sends s JOIN outbox o ON o.send_id = s.id
         WHERE s.template = 'approval_requested' AND o.recipient = $1",
    )
    .bind(MARC)
    .fetch_one(&s2.app.pool)
    .await
    .unwrap();
    assert!(
        english.contains(&format!(
            "http://{}/incidents/{}/plan",
            s2.app.addr, s2.incident
        )),
        "{english}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_files_page_lists_and_shows_the_eml_files() {
    let data = tempfile::tempdir().unwrap();
    let settings = server::config::Settings {
        data_dir: data.path().to_owned(),
        ..test_settings()
    };
    let app = spawn_app_with(test_database().await, settings).await;
    std::fs::create_dir_all(data.path().join("mail")).unwrap();
    std::fs::write(
        data.path().join("mail/00000001-a@example.com.eml"),
        "Subject: <b>hello</b>\r\n\r\nbody",
    )
    .unwrap();
    std::fs::write(data.path().join("secret.txt"), "secret").unwrap();
    let sophie = app
        .signed_in_browser("sophie@taskflow.example", "Sophie", &["sysadmin"])
        .await;
    let (_, html) = sophie.page(&app, "/mail").await;
    assert!(
        html.contains(r#"href="/mail/00000001-a@example.com.eml""#),
        "{html}"
    );
    let (_, html) = sophie.page(&app, "/mail/00000001-a@example.com.eml").await;
    assert!(html.contains("Subject: &lt;b&gt;hello&lt;/b&gt;"), "{html}");
    let (status, html) = sophie.page(&app, "/mail/..%2Fsecret.txt").await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    assert!(!html.contains("secret\n") && !html.contains(">secret<"));
    let dev = app
        .signed_in_browser("thomas@taskflow.example", "Thomas", &["developer"])
        .await;
    let (status, _) = dev.page(&app, "/mail").await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_file_is_uploaded_checked_and_sent_to_everyone_once() {
    let s = rolled_back().await;
    let claire = s.browser(CLAIRE).await;
    let page = format!("/incidents/{}/emails?template=users&lang=fr", s.incident);
    let (_, html) = claire.page(&s.app, &page).await;
    assert!(html.contains(r#"enctype="multipart/form-data""#), "{html}");
    let token = csrf_token(&html).unwrap();
    // About 5 MB: 120,000 addresses, a bad line and a duplicate every thousand.
    let mut csv = String::from("email,name\n");
    for n in 0..120_000 {
        csv.push_str(&format!("client{n}@example.com,Client numéro {n}\n"));
        if n % 1000 == 0 {
            csv.push_str("pas une adresse\n");
            csv.push_str(&format!("CLIENT{n}@EXAMPLE.COM\n"));
        }
    }
    assert!(csv.len() > 4 * 1024 * 1024);
    let action = html
        .split("id=\"upload-list\"")
        .next()
        .and_then(|before| before.rsplit("<form").next())
        .unwrap()
        .to_owned();
    assert!(
        !action.contains("_csrf"),
        "the token is not in the URL: {action}"
    );
    // `in_body`: the token as the form's first field; otherwise in the URL, as it once was.
    let upload = |token: Option<String>, in_body: bool| {
        // The forged post carries a small file, so that the refusal comes quickly.
        let body = match token {
            Some(_) if in_body => csv.clone(),
            _ => "email\nclient1@example.com\n".to_owned(),
        };
        let mut form = reqwest::multipart::Form::new();
        let mut query = String::new();
        match (&token, in_body) {
            (Some(t), true) => form = form.text("_csrf", t.clone()),
            (Some(t), false) => query = format!("&_csrf={t}"),
            (None, _) => {}
        }
        let form = form.part(
            "file",
            reqwest::multipart::Part::bytes(body.into_bytes()).file_name("clients.csv"),
        );
        claire
            .client
            .post(s.app.url(&format!(
                "/incidents/{}/recipients?template=users&lang=fr{query}",
                s.incident
            )))
            .header("Origin", format!("http://{}", s.app.addr))
            .header("Accept", "text/html")
            .multipart(form)
            .send()
    };
    // Without the token, or with it in the URL: refused, nothing kept.
    let forged = upload(None, true).await.unwrap();
    assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
    let in_url = upload(Some(token.clone()), false).await.unwrap();
    assert_eq!(in_url.status(), reqwest::StatusCode::FORBIDDEN);
    let lists: i64 = sqlx::query_scalar("SELECT count(*) FROM recipient_lists")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(lists, 0);

    let res = upload(Some(token), true).await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = location(&res);
    assert!(to.contains("&list="), "{to}");
    let (_, html) = claire.page(&s.app, &to).await;
    assert!(html.contains("Liste importée : clients.csv"), "{html}");
    assert!(html.contains("100000 adresses retenues"), "{html}");
    assert!(html.contains("120 lignes ignorées"), "{html}");
    assert!(html.contains("3 : pas une adresse"), "{html}");
    let list: String = to.rsplit_once("list=").unwrap().1.to_owned();

    let (_, html) = claire
        .submit_and_follow(
            &s.app,
            &to,
            "/api/send_email",
            &[
                ("incident_id", &s.incident.to_string()),
                ("template", "users"),
                ("lang", "fr"),
                ("subject", "Incident technique résolu - TaskFlow"),
                ("body", "Chers utilisateurs,\n\nLe service est rétabli."),
                ("list", &list),
                ("users", "client1@example.com\nnouveau@example.com"),
            ],
        )
        .await;
    assert!(html.contains("E-mail mis en file pour 100001"), "{html}");
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT lower(recipient)) FROM outbox")
            .fetch_one(&s.app.pool)
            .await
            .unwrap();
    assert_eq!((rows, distinct), (100_001, 100_001));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edited_email_is_previewed_before_it_is_sent() {
    let s = rolled_back().await;
    let claire = s.browser(CLAIRE).await;
    let page = format!("/incidents/{}/emails?template=internal&lang=fr", s.incident);
    let (_, html) = claire
        .submit_and_follow(
            &s.app,
            &page,
            "/api/send_email",
            &[
                ("incident_id", &s.incident.to_string()),
                ("template", "internal"),
                ("lang", "fr"),
                ("subject", "Rollback effectué <b>ce matin</b>"),
                ("body", "Bonjour,\n\nTout est rentré dans l'ordre.\nMerci."),
                ("roles[sysadmin]", "on"),
                ("intent", "preview"),
            ],
        )
        .await;
    assert!(
        html.contains("rien n&#x27;est envoyé") || html.contains("rien n'est envoyé"),
        "{html}"
    );
    assert!(
        html.contains(
            r#"<span id="preview-subject">Rollback effectué &lt;b&gt;ce matin&lt;/b&gt;</span>"#
        ),
        "{html}"
    );
    assert!(
        html.contains("Tout est rentré dans l&#x27;ordre.")
            || html.contains("Tout est rentré dans l'ordre.")
    );
    // What was typed stays in the form, the roles too.
    assert!(
        html.contains(r#"value="Rollback effectué &lt;b&gt;ce matin&lt;/b&gt;""#),
        "{html}"
    );
    assert!(
        html.contains(r#"id="role-sysadmin" name="roles[sysadmin]" value="on" checked"#),
        "{html}"
    );
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(queued, 0, "nothing sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_that_does_not_exist_is_marked_bounced() {
    let s = rolled_back().await;
    let claire = s.user(CLAIRE).await;
    app::backend::emails::send(
        &s.app.pool,
        &claire,
        s.incident,
        &app::backend::emails::NewSend {
            template: app::domain::email::EmailTemplate::Users,
            lang: app::i18n::Lang::Fr,
            subject: "Incident technique résolu - TaskFlow",
            body: "Le service est rétabli.",
            roles: vec![],
            users: "nobody@example.com\nsomeone@example.com",
            list: None,
        },
    )
    .await
    .unwrap();
    // An SMTP server that refuses one mailbox (550) and takes the rest.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("refusing.py"),
        "class Handler:\n\
         \x20   async def handle_RCPT(self, server, session, envelope, address, rcpt_options):\n\
         \x20       if address.startswith('nobody@'):\n\
         \x20           return '550 5.1.1 No such user here'\n\
         \x20       envelope.rcpt_tos.append(address)\n\
         \x20       return '250 OK'\n\
         \x20   async def handle_DATA(self, server, session, envelope):\n\
         \x20       return '250 Message accepted for delivery'\n",
    )
    .unwrap();
    let port = free_port();
    let mut smtp = std::process::Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "refusing.Handler",
        ])
        .env("PYTHONPATH", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    mailer(&s.app, port).tick().await.unwrap();
    let _ = smtp.kill();
    let _ = smtp.wait();
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT recipient, status, last_error FROM outbox ORDER BY recipient")
            .fetch_all(&s.app.pool)
            .await
            .unwrap();
    assert_eq!(rows[0].0, "nobody@example.com");
    assert_eq!(rows[0].1, "bounced", "{rows:?}");
    assert!(
        rows[0].2.as_deref().unwrap_or("").contains("No such user"),
        "{rows:?}"
    );
    assert_eq!(
        (rows[1].0.as_str(), rows[1].1.as_str()),
        ("someone@example.com", "sent")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restarted_mid_batch_sends_each_message_once() {
    let app = spawn_app(test_database().await).await;
    queue_bulk(&app, 300).await;
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start_on(free_port(), dir.path());
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let settings = [
        ("RBD_SMTP_URL", smtp_url.as_str()),
        ("RBD_MAIL_PER_SECOND", "100"),
    ];
    let sent = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM outbox WHERE status = 'sent'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    // Stopped (SIGTERM) in the middle of the batch…
    let mut first = app.server_process(&settings).await;
    for _ in 0..300 {
        if sent().await >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    first.wait().unwrap();
    let recorded = sent().await;
    assert!(
        recorded > 0 && recorded < 300,
        "stopped mid-batch: {recorded}"
    );
    assert_eq!(
        smtp.received().len() as i64,
        recorded,
        "everything sent is recorded as sent"
    );
    // …and started again: the rest is delivered, nothing twice.
    let mut second = app.server_process(&settings).await;
    for _ in 0..600 {
        if sent().await == 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = second.kill();
    let _ = second.wait();
    assert_eq!(sent().await, 300);
    let received = smtp.received();
    assert_eq!(received.len(), 300);
    let mut to: Vec<String> = received
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 300, "each recipient once");
}

#[tokio::test]
async fn smtp_down_past_the_retry_window_fails_with_the_reason_and_a_resend_delivers_once() {
    let s = rolled_back().await;
    let claire = s.user(CLAIRE).await;
    let users: String = (0..3).map(|n| format!("user{n}@example.com\n")).collect();
    app::backend::emails::send(
        &s.app.pool,
        &claire,
        s.incident,
        &app::backend::emails::NewSend {
            template: app::domain::email::EmailTemplate::Users,
            lang: app::i18n::Lang::Fr,
            subject: "Incident technique résolu - TaskFlow",
            body: "Chers utilisateurs,\n\nLe service est rétabli.",
            roles: vec![],
            users: &users,
            list: None,
        },
    )
    .await
    .unwrap();
    let port = free_port();
    let down = mailer(&s.app, port);
    assert!(down.tick().await.unwrap() >= 3);
    let statuses = || async {
        sqlx::query_as::<_, (String, String)>(
            "SELECT status, COALESCE(last_error, '') FROM outbox
             WHERE recipient LIKE 'user_@example.com' ORDER BY recipient",
        )
        .fetch_all(&s.app.pool)
        .await
        .unwrap()
    };
    assert!(
        statuses().await.iter().all(|(st, _)| st == "pending"),
        "retried, not given up"
    );
    // The clock moves past the retry window (24 h): the next failure is final, with why.
    sqlx::query(
        "UPDATE outbox SET created_at = now() - interval '25 hours', next_attempt_at = now()",
    )
    .execute(&s.app.pool)
    .await
    .unwrap();
    assert!(down.tick().await.unwrap() >= 3);
    let after = statuses().await;
    assert!(
        after
            .iter()
            .all(|(st, why)| st == "failed" && why.contains("24 h") && why.len() > 20),
        "{after:?}"
    );
    // Shown on the dashboard and on the incident, with a way to send them again.
    let browser = s
        .app
        .signed_in_browser("lead2@taskflow.example", "Lead", &["tech_lead"])
        .await;
    let (_, dashboard) = browser.page(&s.app, "/").await;
    assert!(dashboard.contains("E-mails non remis"), "dashboard");
    assert!(dashboard.contains(&format!("/incidents/{}/emails#undelivered", s.incident)));
    let (_, incident) = browser
        .page(&s.app, &format!("/incidents/{}", s.incident))
        .await;
    assert!(incident.contains("E-mails non remis"), "incident");
    let path = format!("/incidents/{}/emails", s.incident);
    let (_, page) = browser.page(&s.app, &path).await;
    assert!(page.contains("user1@example.com") && page.contains("id=\"resend-all\""));
    // Resend them (the page's form, with its CSRF token).
    let res = browser
        .submit(
            &s.app,
            &path,
            "/api/resend_emails",
            &[("incident_id", &s.incident.to_string())],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let after = statuses().await;
    assert!(after.iter().all(|(st, _)| st == "pending"), "{after:?}");
    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start_on(port, maildir.path());
    let up = mailer(&s.app, smtp.port);
    assert!(up.tick().await.unwrap() >= 3);
    assert_eq!(up.tick().await.unwrap(), 0);
    assert!(statuses().await.iter().all(|(st, _)| st == "sent"));
    let received = smtp.received();
    let mut to: Vec<String> = received
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_owned())
        .filter(|to| to.starts_with("user"))
        .collect();
    to.sort();
    assert_eq!(
        to,
        [
            "user0@example.com",
            "user1@example.com",
            "user2@example.com"
        ],
        "each once"
    );
    let (_, dashboard) = browser.page(&s.app, "/").await;
    assert!(!dashboard.contains("E-mails non remis"));
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM incident_events WHERE incident_id = $1")
            .bind(s.incident)
            .fetch_all(&s.app.pool)
            .await
            .unwrap();
    assert!(kinds.contains(&"email_resent".to_owned()));
    assert_events_read(&s.app.pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_database_stopped_during_a_send_of_500_sends_none_twice() {
    let pg = PrivatePostgres::start().await;
    let app = spawn_app(pg.pool().await).await;
    queue_bulk(&app, 500).await;
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start_on(free_port(), dir.path());
    let delivery = Delivery::from_settings(
        Some(&format!("smtp://127.0.0.1:{}", smtp.port)),
        PathBuf::from("/nonexistent"),
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mailer = Mailer::new(
        app.pool.clone(),
        delivery,
        "Rollback Desk <desk@taskflow.example>",
        200,
    )
    .unwrap();
    let task = tokio::spawn(mailer.run(Duration::from_millis(200), stopped));
    let count = |smtp: &SmtpServer| {
        std::fs::read_dir(smtp_new(smtp))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    for _ in 0..300 {
        if count(&smtp) >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        count(&smtp) >= 100 && count(&smtp) < 500,
        "stopped mid-send"
    );
    pg.down();
    tokio::time::sleep(Duration::from_secs(4)).await;
    pg.up();
    let mut sent = 0;
    for _ in 0..600 {
        sent = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM outbox WHERE status = 'sent'")
            .fetch_one(&app.pool)
            .await
            .unwrap_or(0);
        if sent == 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
    assert_eq!(
        sent, 500,
        "every message delivered once the database is back"
    );
    let received = smtp.received();
    let mut ids: Vec<String> = received
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let total = ids.len();
    ids.dedup();
    assert_eq!(
        (total, ids.len()),
        (500, 500),
        "0 duplicates at the SMTP server"
    );
    app.stop().await;
}

fn smtp_new(smtp: &SmtpServer) -> PathBuf {
    smtp.maildir.join("new")
}

/// Issue 15 §5: the send form posted twice (a double click, at the same moment, then once
/// more) queues the email once; the repeat says so and shows what the first queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_post_of_the_send_form_sends_once() {
    let s = rolled_back().await;
    let claire = s.browser(CLAIRE).await;
    let page = format!("/incidents/{}/emails?template=users&lang=fr", s.incident);
    let (_, html) = claire.page(&s.app, &page).await;
    let csrf = csrf_token(&html).unwrap();
    let once = hidden_value(&html, "once").expect("the send form carries a one-time token");
    let incident = s.incident.to_string();
    let fields = [
        ("_csrf", csrf.as_str()),
        ("once", once.as_str()),
        ("incident_id", incident.as_str()),
        ("template", "users"),
        ("lang", "fr"),
        ("subject", "Incident technique résolu - TaskFlow"),
        ("body", "Chers utilisateurs,\n\nLe service est rétabli."),
        ("users", "client1@example.com\nclient2@example.com"),
        ("intent", "send"),
    ];
    let post = || {
        claire
            .client
            .post(s.app.url("/api/send_email"))
            .header("Accept", "text/html")
            .header("Origin", format!("http://{}", s.app.addr))
            .header("Referer", s.app.url(&page))
            .form(&fields)
            .send()
    };
    let (a, b) = tokio::join!(post(), post());
    assert!(a.unwrap().status().is_redirection());
    assert!(b.unwrap().status().is_redirection());
    let counts = || async {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT (SELECT count(*) FROM email_sends WHERE template = 'users'),
                    (SELECT count(*) FROM outbox o JOIN email_sends e ON e.id = o.send_id
                     WHERE e.template = 'users')",
        )
        .fetch_one(&s.app.pool)
        .await
        .unwrap()
    };
    assert_eq!(
        counts().await,
        (1, 2),
        "one send, one message per recipient"
    );

    let again = post().await.unwrap();
    let to = location(&again);
    assert!(
        to.starts_with(&format!("/incidents/{}/emails", s.incident)),
        "{to}"
    );
    let (_, html) = claire.page(&s.app, &to).await;
    assert!(
        html.contains("Ce formulaire avait déjà été envoyé"),
        "{html}"
    );
    assert!(
        html.contains("rien n&#x27;a été refait") || html.contains("rien n'a été refait"),
        "{html}"
    );
    assert!(html.contains("E-mail mis en file pour 2"), "{html}");
    assert_eq!(counts().await, (1, 2));

    // A fresh page has a fresh token: sending again on purpose works.
    let (_, html) = claire.page(&s.app, &page).await;
    assert_ne!(hidden_value(&html, "once").unwrap(), once);
}
