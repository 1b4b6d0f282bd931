//! Real headless Chromium (Debian's chromium + chromium-driver) with JavaScript off.
use crate::helpers::*;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Chromium {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Chromium {
    async fn start(javascript: bool) -> Chromium {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (scripts/test installs chromium-driver)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut prefs = serde_json::Map::new();
        if !javascript {
            prefs.insert(
                "profile.managed_default_content_settings.javascript".into(),
                2.into(),
            );
        }
        let options = serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": prefs,
        });
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Chromium {
            client,
            driver,
            _profile: profile,
        }
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// The element's text; retried for a while when the page is being replaced under it
    /// (after a form post the old page's elements go stale).
    async fn text(&self, css: &str) -> String {
        let mut last = None;
        for _ in 0..50 {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => match element.text().await {
                    Ok(text) => return text,
                    Err(e) => last = Some(e),
                },
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: {last:?}");
    }

    /// Waits (up to 10 s) until the element `css` exists and its text contains `needle`: a
    /// form that redirects to the same URL gives no other sign that the new page is there.
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never showed {needle:?}; last text: {last:?}");
    }

    /// Waits (up to 10 s) until the browser is at `expected` after a click.
    async fn wait_path(&self, expected: &str) {
        let mut last = String::new();
        for _ in 0..100 {
            last = self.path().await;
            if last == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never reached {expected}; still at {last}");
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    async fn goto(&self, app: &TestApp, path: &str) {
        self.client.goto(&app.url(path)).await.unwrap();
    }

    /// How the page sticks out of the viewport sideways ("415 > 390" and the innermost
    /// elements that do, to say what to mend), or `None` when it fits.
    async fn overflow(&self) -> Option<String> {
        let widths = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .unwrap();
        let widths: Vec<i64> = serde_json::from_value(widths).unwrap();
        if widths[0] <= widths[1] {
            return None;
        }
        Some(format!(
            "{} > {} {}",
            widths[0],
            widths[1],
            self.too_wide().await
        ))
    }

    /// The innermost elements that stick out of the viewport, to say what to mend.
    async fn too_wide(&self) -> serde_json::Value {
        self.client
            .execute(
                "const w = window.innerWidth; return [...document.querySelectorAll('main *')]
                   .filter(e => e.getBoundingClientRect().right > w + 1
                                && ![...e.children].some(c => c.getBoundingClientRect().right > w + 1))
                   .slice(0, 6)
                   .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right));",
                vec![],
            )
            .await
            .unwrap()
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    async fn quit(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_switch_language_with_javascript_off() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_user(
        "claire@taskflow.example",
        "Claire Dubois",
        &["tech_lead", "admin"],
    )
    .await;

    // The enhancement script marks <html class="js"> when it runs: it does with JavaScript on…
    let with_js = Chromium::start(true).await;
    with_js.client.goto(&app.url("/login")).await.unwrap();
    assert!(with_js.client.find(Locator::Css("html.js")).await.is_ok());
    with_js.quit().await;

    // …and not here, so everything below works without any script.
    let browser = Chromium::start(false).await;
    browser.client.goto(&app.url("/admin/users")).await.unwrap();
    assert_eq!(browser.path().await, "/login");
    assert!(browser.client.find(Locator::Css("html.js")).await.is_err());
    assert_eq!(browser.text("h1").await, "Connexion");

    browser.fill("#email", "claire@taskflow.example").await;
    browser.fill("#password", "wrong password").await;
    browser.click("button.primary").await;
    browser.wait_text("[role=alert]", "incorrect").await;
    assert_eq!(browser.path().await, "/login");
    let kept = browser
        .client
        .find(Locator::Css("#email"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("claire@taskflow.example"));

    browser.fill("#password", PASSWORD).await;
    browser.click("button.primary").await;
    // Back where they wanted to go.
    browser.wait_path("/admin/users").await;
    browser.click("nav a[href='/']").await;
    browser.wait_text("h1", "Tableau de bord").await;
    assert_eq!(browser.path().await, "/");
    assert!(browser
        .text("main")
        .await
        .contains("Bienvenue, Claire Dubois."));
    browser.screenshot("dashboard-fr").await;

    browser.click("[data-testid=switch-language]").await;
    browser.wait_text("h1", "Dashboard").await;
    assert_eq!(browser.path().await, "/");
    assert!(browser.text("nav").await.contains("Post-mortems"));
    assert!(browser
        .text("main")
        .await
        .contains("Welcome, Claire Dubois."));
    browser.screenshot("dashboard-en").await;

    browser.click("[data-testid=switch-language]").await;
    browser.wait_text("h1", "Tableau de bord").await;

    browser.click("button.link").await; // sign out
    browser.wait_text("[role=status]", "déconnecté").await;
    assert_eq!(browser.path().await, "/login");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_an_incident_record_the_steps_and_decide_with_javascript_off() {
    let pool = test_database().await;
    let app = spawn_app(pool).await;
    app.create_environment("TaskFlow production").await;
    app.create_user("claire@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    let browser = Chromium::start(false).await;
    browser.client.goto(&app.url("/login")).await.unwrap();
    browser.fill("#email", "claire@taskflow.example").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button.primary").await;
    browser.wait_text("h1", "Tableau de bord").await;

    browser.click("a[href='/incidents/new']").await;
    browser.wait_text("h1", "Ouvrir un incident").await;
    browser
        .fill("#title", "Erreurs critiques dans le module de facturation")
        .await;
    browser
        .fill("#description", "Erreurs 500 sur /billing depuis la v1.2.0")
        .await;
    browser
        .fill("#suspect_release", "2025-10-17_104523 (v1.2.0)")
        .await;
    browser.click("#criterion-critical_feature_failure").await;
    browser.screenshot("incident-new").await;
    browser.click("button.primary").await;
    browser.wait_text("[role=status]", "ouvert").await;
    let page = browser.path().await;
    assert!(page.starts_with("/incidents/"), "{page}");
    assert!(browser.text(".deadline-box").await.contains("il reste"));

    for (step, note) in [
        ("identification", "Erreurs 500 sur /billing"),
        ("impact_evaluation", "Facturation indisponible pour tous"),
        ("no_quick_fix", "Pas de correctif sûr en 30 minutes"),
    ] {
        browser.fill(&format!("#note-{step}"), note).await;
        browser.click(&format!("#step-{step} button")).await;
        browser
            .wait_text(&format!("#step-{step} .done"), note)
            .await;
        assert_eq!(browser.path().await, page);
    }
    browser.click("#decision-rollback-application").await;
    browser
        .fill(
            "#decision-reason",
            "Module de facturation en erreur, pas de migration",
        )
        .await;
    browser.click("#decision button.primary").await;
    assert_eq!(browser.path().await, page);
    assert!(browser
        .text("#decision")
        .await
        .contains("Rollback applicatif (sans base de données)"));
    browser.wait_text(".title-row .state", "Décidé").await;
    let timeline = browser.text("#timeline").await;
    for entry in [
        "Décision prise",
        "Étape enregistrée",
        "Incident ouvert",
        "En évaluation → Décidé",
    ] {
        assert!(timeline.contains(entry), "{entry} in {timeline}");
    }
    // Newest first.
    assert!(timeline.find("Décision prise").unwrap() < timeline.find("Incident ouvert").unwrap());
    browser.screenshot("incident-decided").await;
    browser.quit().await;

    // With JavaScript on, the time left before the decision deadline ticks (to the second).
    let waiting: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by)
         SELECT 'Export PDF lent', now() - interval '5 minutes', 'urgent', environment_id, created_by
         FROM incidents LIMIT 1 RETURNING id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let with_js = Chromium::start(true).await;
    with_js.client.goto(&app.url("/login")).await.unwrap();
    with_js.fill("#email", "claire@taskflow.example").await;
    with_js.fill("#password", PASSWORD).await;
    with_js.click("button.primary").await;
    with_js.wait_text("h1", "Tableau de bord").await;
    with_js
        .client
        .goto(&app.url(&format!("/incidents/{waiting}")))
        .await
        .unwrap();
    let first = with_js.text(".deadline-box .deadline").await;
    assert!(
        first.starts_with("il reste 2") && first.ends_with(" s"),
        "{first}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = with_js.text(".deadline-box .deadline").await;
    assert_ne!(first, later, "the countdown moves");
    with_js.quit().await;
}

impl Chromium {
    async fn sign_in(&self, app: &TestApp, email: &str, password: &str) {
        self.client.goto(&app.url("/login")).await.unwrap();
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("button.primary").await;
        self.wait_text("h1", "Tableau de bord").await;
    }

    async fn sign_out(&self) {
        self.click("button.link").await;
        self.wait_text("[role=status]", "déconnecté").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_approve_a_database_restore_with_javascript_off() {
    use crate::plans::{scenario, CLAIRE, MARC, PREVIOUS, SOPHIE};
    use server::demo::DEMO_PASSWORD;
    let s = scenario("application_database").await;
    let claire = s.user(CLAIRE).await;
    let fingerprint = s.prepare(&claire, PREVIOUS).await;
    let plan_page = s.plan_page();

    let browser = Chromium::start(false).await;
    // Marc finds the plan waiting for him on his dashboard, reads it and approves.
    browser.sign_in(&s.app, MARC, DEMO_PASSWORD).await;
    let waiting = browser.text(".attention-approval-waiting").await;
    assert!(
        waiting.contains("Erreurs critiques dans le module de facturation"),
        "{waiting}"
    );
    assert!(waiting.contains("en attente de votre avis"), "{waiting}");
    browser.click(".attention-approval-waiting a").await;
    browser.wait_text("h1", "Plan de rollback").await;
    assert_eq!(browser.path().await, plan_page);
    assert!(browser
        .text("#data-loss")
        .await
        .contains("depuis la sauvegarde du 17/10/2025 10:30"));
    assert!(browser.text(".fingerprint").await.contains(&fingerprint));
    browser
        .fill("#review-comment", "Sauvegarde vérifiée, OK")
        .await;
    browser.click("#approve").await;
    browser
        .wait_text("[role=status]", "Approbation enregistrée")
        .await;
    assert!(browser.text(".plan-status").await.contains("1/2"));
    assert!(browser.text(".reviews").await.contains("Marc Lefèvre"));
    assert!(
        browser.client.find(Locator::Css("#approve")).await.is_err(),
        "Marc has given his verdict"
    );
    browser.sign_out().await;

    // Sophie approves: two distinct people, the plan is ready.
    browser.sign_in(&s.app, SOPHIE, DEMO_PASSWORD).await;
    browser.client.goto(&s.app.url(&plan_page)).await.unwrap();
    browser.click("#approve").await;
    browser.wait_text(".plan-status", "Prêt à exécuter").await;
    browser.screenshot("plan-ready").await;
    browser.sign_out().await;

    // Claire, who prepared it, never had an approve button.
    browser.sign_in(&s.app, CLAIRE, DEMO_PASSWORD).await;
    browser.client.goto(&s.app.url(&plan_page)).await.unwrap();
    browser.wait_text("h1", "Plan de rollback").await;
    assert!(browser.client.find(Locator::Css("#approve")).await.is_err());
    // She executes: the form after the steps asks for the tick and the environment's name;
    // the button alone does not submit (required fields, JavaScript off).
    for (width, height) in [(1366, 900), (390, 844)] {
        browser.client.set_window_size(width, height).await.unwrap();
        // The anchor scrolls to the form, JavaScript off.
        browser
            .client
            .goto(&s.app.url(&format!("{plan_page}#execute")))
            .await
            .unwrap();
        browser.wait_text("#execute", "TaskFlow production").await;
        browser
            .screenshot(&format!("plan-execute-confirm-{width}"))
            .await;
    }
    browser.click("#execute-plan").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        browser.path().await,
        plan_page,
        "not submitted without the tick"
    );
    browser.click("#execute-read-warning").await;
    browser
        .fill("#execute-environment-name", "TaskFlow production")
        .await;
    browser.click("#execute-plan").await;
    browser
        .wait_path(&format!("/incidents/{}/execution", s.incident))
        .await;
    browser.quit().await;

    // Her forged post is refused all the same.
    let forged = s.browser(CLAIRE).await;
    let (_, html) = forged
        .submit_and_follow(
            &s.app,
            &plan_page,
            "/api/review_plan",
            &[
                ("incident_id", &s.incident.to_string()),
                ("fingerprint", &fingerprint),
                ("verdict", "approved"),
                ("comment", ""),
            ],
        )
        .await;
    assert!(html.contains("Vous avez préparé ce plan"), "{html}");
    let reviews: i64 = sqlx::query_scalar("SELECT count(*) FROM plan_reviews")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(reviews, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_a_plan_and_handle_its_failure_with_javascript_off() {
    use crate::plans::{scenario, CLAIRE, PREVIOUS};
    use server::demo::DEMO_PASSWORD;
    let s = scenario("application").await;
    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;

    let browser = Chromium::start(false).await;
    browser.sign_in(&s.app, CLAIRE, DEMO_PASSWORD).await;
    browser
        .client
        .goto(&s.app.url(&s.plan_page()))
        .await
        .unwrap();
    browser.click("#execute-plan").await;
    let execution_page = format!("/incidents/{}/execution", s.incident);
    browser.wait_path(&execution_page).await;
    browser.wait_text(".exec-status", "En file d'attente").await;

    // The runner works; the health check asks https://taskflow.app, which this machine can't
    // reach, so the last step (§4.2 step 7) fails.
    server::runner::Runner::new(s.app.pool.clone(), Duration::from_secs(30))
        .tick()
        .await
        .unwrap();
    browser.click("#execution a[href$='/execution']").await;
    browser.wait_text(".exec-status", "Échouée").await;
    assert!(browser.text("#exec-step-2").await.contains("réussie"));
    let check = browser.text("#exec-step-7").await;
    assert!(
        check.contains("échouée"),
        "{}",
        browser.text("#execution").await
    );
    assert!(check.contains("GET https://taskflow.app"), "{check}");
    // Issue 16 §3: the top of the page says which step failed, why, where `current` points
    // now, and offers the controls — above the steps, not 3,000 px down.
    let summary = browser.text("#failure-summary").await;
    assert!(
        summary.contains("Échec à l'étape 7 — Vérifier que le site répond"),
        "{summary}"
    );
    assert!(summary.contains("GET https://taskflow.app"), "{summary}");
    assert!(
        summary.contains("(après ") && !summary.contains("(after "),
        "the runner's words in French: {summary}"
    );
    assert!(
        browser
            .text("#failure-current")
            .await
            .contains("current pointe maintenant vers 2025-10-16_153012"),
        "{summary}"
    );
    let resume = browser.text("#resume-step").await;
    assert!(
        resume.contains("7 — Vérifier que le site répond"),
        "{resume}"
    );
    let order = browser
        .client
        .execute(
            "const y = s => document.querySelector(s).getBoundingClientRect().top;
             return [y('#failure-summary'), y('#exec-controls'), y('.plan-steps')];",
            vec![],
        )
        .await
        .unwrap();
    let order: Vec<f64> = serde_json::from_value(order).unwrap();
    assert!(
        order[0] < order[1] && order[1] < order[2],
        "summary, controls, then steps: {order:?}"
    );
    for (width, height) in [(1366, 900), (390, 844)] {
        browser.client.set_window_size(width, height).await.unwrap();
        browser
            .screenshot(&format!("execution-failed-{width}"))
            .await;
        assert_eq!(browser.overflow().await, None, "{width} px");
    }
    browser.client.set_window_size(1280, 900).await.unwrap();

    // The incident page says so; Claire aborts from the execution page: back to the plan.
    browser
        .client
        .goto(&s.app.url(&format!("/incidents/{}", s.incident)))
        .await
        .unwrap();
    browser
        .wait_text("#execution-alert", "a échoué à l'étape 7")
        .await;
    let badge = browser.text(".title-row .state").await;
    assert!(
        badge.contains("Exécution échouée à l'étape 7 — Vérifier que le site répond"),
        "{badge}"
    );
    let timeline = browser.text(".timeline").await;
    assert!(
        timeline.contains("7 — Vérifier que le site répond"),
        "step names in the timeline: {timeline}"
    );
    browser.click("#execution-alert a").await;
    browser.wait_path(&execution_page).await;
    // Abort asks first: the tick, then the button.
    browser.click("#exec-abort-confirm").await;
    browser.click("#exec-abort").await;
    browser.wait_text(".exec-status", "Abandonnée").await;
    // Back to the plan, which the aborted execution made stale: it switched `current` before
    // failing, so the plan must be revised before anything runs again.
    browser
        .client
        .goto(&s.app.url(&s.plan_page()))
        .await
        .unwrap();
    browser.wait_text(".title-row .state", "Périmé").await;
    assert!(browser.text("#plan-stale").await.contains("current"));
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tick_the_checklist_and_reach_monitoring_with_javascript_off() {
    let app = spawn_app(test_database().await).await;
    let v = crate::verification::Verifying::new(app, "").await;
    v.run_checks().await;
    v.app
        .create_user("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;

    let browser = Chromium::start(false).await;
    browser
        .sign_in(&v.app, "qa@taskflow.example", PASSWORD)
        .await;
    browser
        .client
        .goto(&v.app.url(&format!("/incidents/{}", v.incident)))
        .await
        .unwrap();
    browser.click("#open-verification").await;
    browser.wait_path(&v.page()).await;
    // The runner's evidence is on the page.
    let database = browser.text("#item-database").await;
    assert!(
        database.contains("OK") && database.contains("SELECT COUNT(*) FROM users"),
        "{database}"
    );

    browser.fill("#note-sign_in", "connexion testée").await;
    browser.click("#tick-sign_in").await;
    browser.wait_text("#item-sign_in", "Quentin QA").await;
    for item in ["main_features", "emails"] {
        browser.click(&format!("#tick-{item}")).await;
        browser
            .wait_text(&format!("#item-{item}"), "Quentin QA")
            .await;
    }
    browser
        .wait_text(".title-row .state", "En vérification")
        .await;
    browser.click("#tick-sessions").await;
    browser
        .wait_text(".title-row .state", "Sous surveillance")
        .await;
    let monitoring = browser.text("#monitoring").await;
    assert!(
        monitoring.contains("Prochain contrôle : n° 1"),
        "{monitoring}"
    );
    assert!(browser
        .text("#item-sign_in")
        .await
        .contains("connexion testée"));
    browser.screenshot("verification-monitoring").await;
    browser.quit().await;
    v.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fill_the_post_mortem_add_two_actions_and_finalize_with_javascript_off() {
    let app = spawn_app(test_database().await).await;
    let v = crate::verification::Verifying::new(app, "").await;
    v.run_checks().await;
    v.app
        .create_user("lead@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    let lead = v
        .app
        .signed_in_user("other-lead@taskflow.example", &["tech_lead"])
        .await;
    v.tick_manual_items(&lead).await;
    app::backend::verification::resolve(
        &v.app.pool,
        &lead,
        v.incident,
        "stable",
        chrono::Utc::now(),
    )
    .await
    .unwrap();

    let browser = Chromium::start(false).await;
    browser
        .sign_in(&v.app, "lead@taskflow.example", PASSWORD)
        .await;
    browser
        .client
        .goto(&v.app.url(&format!("/incidents/{}", v.incident)))
        .await
        .unwrap();
    browser.click("#open-post-mortem").await;
    let page = format!("/incidents/{}/post-mortem", v.incident);
    browser.wait_path(&page).await;
    assert!(browser.text("#missing").await.contains("Manquent"));
    browser
        .fill(
            "#pm-summary",
            "La facturation a cassé ; rollback applicatif.",
        )
        .await;
    browser
        .fill("#pm-root-cause", "Migration non testée.")
        .await;
    browser
        .fill("#action-text-0", "Ajouter des tests de facturation")
        .await;
    browser
        .fill("#action-text-1", "Alerte sur les erreurs 500")
        .await;
    browser.click("#pm-save").await;
    browser
        .wait_text("[role=status]", "Post-mortem enregistré.")
        .await;
    // Saved: two actions, and two empty rows to add more.
    let first = browser
        .client
        .find(fantoccini::Locator::Css("#action-text-0"))
        .await
        .unwrap();
    assert_eq!(
        first.prop("value").await.unwrap().as_deref(),
        Some("Ajouter des tests de facturation")
    );
    assert!(browser
        .client
        .find(fantoccini::Locator::Css("#action-text-3"))
        .await
        .is_ok());
    browser.screenshot("post-mortem-saved").await;

    browser.click("#pm-finalize-confirm").await;
    browser.click("#pm-finalize").await;
    browser
        .wait_text("#finalized", "Finalisé par Claire Dubois")
        .await;
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#pm-save"))
            .await
            .is_err(),
        "locked"
    );
    let read = browser.text("#post-mortem-read").await;
    assert!(
        read.contains("Migration non testée.") && read.contains("Alerte sur les erreurs 500"),
        "{read}"
    );
    browser.screenshot("post-mortem-finalized").await;
    browser.quit().await;
    assert_eq!(v.state().await, "closed");
    v.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_page_draws_its_charts() {
    let app = spawn_app(test_database().await).await;
    crate::history::seed(&app).await;
    app.create_user("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let browser = Chromium::start(false).await;
    browser.sign_in(&app, "qa@taskflow.example", PASSWORD).await;
    browser.client.goto(&app.url("/history")).await.unwrap();
    browser.wait_text("#fig-decided", "13/30").await;
    for chart in ["#chart-months", "#chart-decide", "#chart-restore"] {
        let svg = browser
            .client
            .find(fantoccini::Locator::Css(chart))
            .await
            .unwrap();
        let (_, _, width, height) = svg.rectangle().await.unwrap();
        assert!(
            width > 100.0 && height > 50.0,
            "{chart} is drawn: {width}×{height}"
        );
    }
    browser.screenshot("history-charts").await;
    browser.quit().await;
}

/// Clickjacking: a page of the same site on another port frames the plan page of a signed-in
/// approver; the browser must refuse to show it (frame-ancestors 'none', X-Frame-Options DENY),
/// so there is nothing there to click.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_origin_of_the_same_site_cannot_frame_the_app() {
    let app = spawn_app(test_database().await).await;
    app.create_user("claire@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    let target = app.url("/");
    let framing = format!(
        "<!DOCTYPE html><html><body><h1>Prize</h1>\
         <iframe id=\"victim\" src=\"{target}\" width=\"800\" height=\"600\"></iframe></body></html>"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let attacker = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move {
        let page = axum::Router::new().route(
            "/",
            axum::routing::get(move || async move { axum::response::Html(framing) }),
        );
        axum::serve(listener, page).await.unwrap();
    });

    let browser = Chromium::start(true).await;
    browser
        .sign_in(&app, "claire@taskflow.example", PASSWORD)
        .await;
    browser.client.goto(&attacker).await.unwrap();
    browser.wait_text("h1", "Prize").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let frame = browser.client.find(Locator::Css("#victim")).await.unwrap();
    frame.enter_frame().await.unwrap();
    let inside = browser.client.source().await.unwrap();
    assert!(
        !inside.contains("Tableau de bord") && !inside.contains("<form"),
        "the app rendered inside another origin's frame: {inside}"
    );
    browser.client.enter_parent_frame().await.unwrap();
    // The app itself still loads with its scripts on (its policy allows its own script).
    browser.client.goto(&target).await.unwrap();
    browser.wait_text("h1", "Tableau de bord").await;
    assert!(browser.client.find(Locator::Css("html.js")).await.is_ok());
    browser.quit().await;
}

/// Issue 16 §5: at 390 px no page of the procedure's scenario scrolls sideways (wide tables
/// scroll inside their card, hashes and paths wrap). Measured with JavaScript on (the pages
/// are the same without it); a screenshot of each is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_scrolls_sideways_on_a_phone() {
    use crate::plans::{scenario, CLAIRE, MARC, PREVIOUS};
    use app::domain::plan::Verdict;
    use server::demo::DEMO_PASSWORD;
    let s = scenario("application_database").await;
    let claire = s.user(CLAIRE).await;
    let fingerprint = s.prepare(&claire, PREVIOUS).await;
    s.review(
        &s.user(MARC).await,
        Verdict::Approved,
        &fingerprint,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let browser = Chromium::start(true).await;
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.sign_in(&s.app, CLAIRE, DEMO_PASSWORD).await;
    let id = s.incident;
    let mut wide = Vec::new();
    let mut inaccessible = Vec::new();
    for path in [
        "/".to_owned(),
        "/incidents".to_owned(),
        "/incidents/new".to_owned(),
        format!("/incidents/{id}"),
        format!("/incidents/{id}/plan"),
        format!("/incidents/{id}/emails?template=internal&lang=fr"),
        "/history".to_owned(),
        "/post-mortems".to_owned(),
        "/contacts".to_owned(),
        format!("/environments/{}", s.environment),
    ] {
        browser.goto(&s.app, &path).await;
        let name = path.trim_matches('/').replace(['/', '?', '=', '&'], "-");
        browser
            .screenshot(&format!(
                "phone-{}",
                if name.is_empty() { "dashboard" } else { &name }
            ))
            .await;
        // Issue 16 §8: text contrast at least 4.5:1 (charts included), headings in order.
        let a11y = browser
            .client
            .execute(
                "const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
                     v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                   return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
                 const bg = e => { for (; e; e = e.parentElement) {
                     const c = getComputedStyle(e).backgroundColor, m = c.match(/[\\d.]+/g);
                     if (m && (m.length < 4 || Number(m[3]) > 0.5)) return c; }
                   return 'rgb(255, 255, 255)'; };
                 const low = [];
                 document.querySelectorAll('body *').forEach(e => {
                   if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) return;
                   const s = getComputedStyle(e);
                   if (s.visibility === 'hidden' || s.display === 'none' || !e.getBoundingClientRect().width) return;
                   const a = lum(s.color), b = lum(bg(e));
                   const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
                   if (ratio < 4.5) low.push(e.tagName + '.' + e.className + ' ' + ratio.toFixed(2) + ' ' + e.textContent.trim().slice(0, 30));
                 });
                 let previous = 0; const jumps = [];
                 document.querySelectorAll('h1, h2, h3, h4, h5, h6').forEach(h => {
                   const level = Number(h.tagName[1]);
                   if (level > previous + 1) jumps.push(h.tagName + ' after h' + previous + ': ' + h.textContent.trim().slice(0, 30));
                   previous = level; });
                 return [low.slice(0, 8), jumps];",
                vec![],
            )
            .await
            .unwrap();
        if a11y != serde_json::json!([[], []]) {
            inaccessible.push(format!("{path}: {a11y}"));
        }
        if let Some(overflow) = browser.overflow().await {
            wide.push(format!("{path}: {overflow}"));
        }
    }
    assert!(wide.is_empty(), "pages wider than the phone: {wide:#?}");
    assert!(
        inaccessible.is_empty(),
        "low contrast or headings out of order: {inaccessible:#?}"
    );
    browser.quit().await;
}

/// Issue 16 §3: with JavaScript on, a running execution's card refreshes in place — new output
/// appears without a reload, and the focus stays on the button someone is about to press.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_log_grows_without_stealing_focus() {
    use crate::plans::{scenario, CLAIRE, PREVIOUS};
    use server::demo::DEMO_PASSWORD;
    let s = scenario("application").await;
    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;
    let execution = s.execute(&claire).await;
    // As the runner leaves it while step 1 runs.
    sqlx::query("UPDATE executions SET status = 'running', started_at = now() WHERE id = $1")
        .bind(execution)
        .execute(&s.app.pool)
        .await
        .unwrap();

    let browser = Chromium::start(true).await;
    browser.sign_in(&s.app, CLAIRE, DEMO_PASSWORD).await;
    let page = format!("/incidents/{}/execution", s.incident);
    browser.goto(&s.app, &page).await;
    browser.wait_text(".exec-status", "En cours").await;
    assert!(!browser.text("#exec-step-1").await.contains("réussie"));
    // A mark that a reload would wipe, and the focus on Stop.
    browser
        .client
        .execute(
            "window.notReloaded = true; document.getElementById('exec-cancel').focus();",
            vec![],
        )
        .await
        .unwrap();

    // Step 1 ends, with output, while the execution goes on.
    sqlx::query(
        "INSERT INTO execution_steps (execution_id, position, attempt, status, finished_at,
                                      exit_code, output)
         VALUES ($1, 0, 1, 'succeeded', now(), 0, 'current -> releases/2025-10-17_104500')",
    )
    .bind(execution)
    .execute(&s.app.pool)
    .await
    .unwrap();
    browser.wait_text("#exec-step-1", "réussie").await;
    assert!(browser
        .text("#exec-step-1")
        .await
        .contains("current -> releases/2025-10-17_104500"));
    let after = browser
        .client
        .execute(
            "return [window.notReloaded === true, document.activeElement.id];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        after,
        serde_json::json!([true, "exec-cancel"]),
        "no reload, focus kept"
    );
    browser.quit().await;
}

/// Issue 16 §1 and §5: the dashboard with its attention kinds and an approver's plan page, at
/// 1366 and 390 px: nothing wider than the screen, screenshots kept under target/screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_the_plan_at_both_widths() {
    use crate::plans::{scenario, CLAIRE, MARC, PREVIOUS};
    use server::demo::DEMO_PASSWORD;
    let s = scenario("application_database").await;
    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;
    let pool = &s.app.pool;
    let incident = |title: &'static str, state: &'static str, minutes_ago: i32| async move {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state,
                                    monitoring_started_at)
             SELECT $1, now() - make_interval(mins => $3), 'urgent', $4, id, $2,
                    CASE WHEN $2 = 'monitoring' THEN now() - interval '32 minutes' END
             FROM users LIMIT 1 RETURNING id",
        )
        .bind(title)
        .bind(state)
        .bind(minutes_ago)
        .bind(s.environment)
        .fetch_one(pool)
        .await
        .unwrap()
    };
    incident(
        "Paiements bloqués depuis la mise en production",
        "detected",
        45,
    )
    .await;
    incident("Lenteurs sur l'export des factures", "evaluating", 25).await;
    let watched = incident("Surveillance après rollback", "monitoring", 120).await;
    sqlx::query(
        "INSERT INTO monitoring_checks (incident_id, slot, due_at, taken_at, passed)
         VALUES ($1, 1, now() - interval '17 minutes', now() - interval '17 minutes', false),
                ($1, 2, now() - interval '2 minutes', NULL, NULL)",
    )
    .bind(watched)
    .execute(pool)
    .await
    .unwrap();
    let closed = incident("Ancien incident", "closed", 4000).await;
    sqlx::query(
        "INSERT INTO post_mortems (incident_id, created_at, due_at, content, saved_at)
         VALUES ($1, now() - interval '50 hours', now() - interval '2 hours', '{}', now())",
    )
    .bind(closed)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO corrective_actions (incident_id, position, action, owner_id, due_on, status)
         SELECT $1, 0, 'Ajouter un test de non-régression sur la facturation', id,
                current_date - 3, 'to_do' FROM users WHERE email = $2",
    )
    .bind(closed)
    .bind(MARC)
    .execute(pool)
    .await
    .unwrap();

    let browser = Chromium::start(true).await;
    browser.sign_in(&s.app, MARC, DEMO_PASSWORD).await;
    for (width, height) in [(1366, 900), (390, 844)] {
        browser.client.set_window_size(width, height).await.unwrap();
        for (name, path) in [("dashboard", "/".to_owned()), ("plan", s.plan_page())] {
            browser.goto(&s.app, &path).await;
            browser.screenshot(&format!("{name}-{width}")).await;
            assert_eq!(browser.overflow().await, None, "{name} at {width} px");
        }
        let attention = {
            browser.goto(&s.app, "/").await;
            browser.text("#attention").await
        };
        for line in [
            "Contrôle de surveillance n° 1 en échec",
            "Décision en retard",
            "Décision due à",
            "Plan en attente de votre avis",
            "Contrôle de surveillance n° 2 à confirmer maintenant",
            "Post-mortem en retard",
            "Votre action corrective en retard",
        ] {
            assert!(
                attention.contains(line),
                "{line} at {width} px: {attention}"
            );
        }
    }
    browser.quit().await;
}

/// Issue 16 §8: the approver's part of the main flow with the keyboard alone — from the top of
/// the plan page, Tab reaches the comment field and the Approve button in order, Enter
/// approves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approver_approves_with_the_keyboard_alone() {
    use crate::plans::{scenario, CLAIRE, MARC, PREVIOUS};
    use fantoccini::key::Key;
    use server::demo::DEMO_PASSWORD;
    let s = scenario("application_database").await;
    let claire = s.user(CLAIRE).await;
    s.prepare(&claire, PREVIOUS).await;
    let browser = Chromium::start(false).await;
    browser.sign_in(&s.app, MARC, DEMO_PASSWORD).await;
    browser.goto(&s.app, &s.plan_page()).await;
    browser.wait_text("h1", "Plan de rollback").await;
    let active = || async {
        browser
            .client
            .execute(
                "return document.activeElement.id || document.activeElement.tagName;",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let mut seen = Vec::new();
    for _ in 0..80 {
        browser
            .client
            .active_element()
            .await
            .unwrap()
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap();
        let id = active().await;
        seen.push(id.clone());
        if id == "approve" {
            break;
        }
    }
    assert_eq!(
        seen.last().map(String::as_str),
        Some("approve"),
        "Tab reaches Approve: {seen:?}"
    );
    let comment = seen.iter().position(|id| id == "review-comment");
    assert!(
        comment.is_some_and(|c| c < seen.len() - 1),
        "the comment comes before the button: {seen:?}"
    );
    browser
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    browser.wait_text(".reviews", "Marc Lefèvre").await;
    let approvals: i64 =
        sqlx::query_scalar("SELECT count(*) FROM plan_reviews WHERE verdict = 'approved'")
            .fetch_one(&s.app.pool)
            .await
            .unwrap();
    assert_eq!(approvals, 1);
    browser.quit().await;
}
