//! Spawns the real application on a random port with the test's own database, and a client
//! that behaves like a browser with JavaScript off (cookies, form posts, no auto-redirects).
use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use server::config::Settings;
use server::startup::{self, Application};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct horse battery";

/// The PostgreSQL server the tests use: scripts/test sets DATABASE_URL; run by hand, the
/// machine's own server is the default.
pub fn database_server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The URL of the database `pool` is connected to (on the server of DATABASE_URL).
pub async fn database_url(pool: &PgPool) -> String {
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .expect("current database");
    let base = database_server_url();
    let (server, _) = base.rsplit_once('/').expect("DATABASE_URL has a database");
    format!("{server}/{db}")
}

/// Waits (up to 5 s) until something listens on `port` of loopback.
pub fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A database of the test's own on the server of `DATABASE_URL`, empty (spawn_app migrates it).
///
/// Made with a connection of its own rather than through `#[sqlx::test]`, whose master pool is
/// shared by every test's runtime: when a runtime ended while that pool was closing a
/// connection, a permit could be lost, and after enough losses a test hung forever.
pub async fn test_database() -> PgPool {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::{ConnectOptions, Executor};
    use std::str::FromStr;
    static SEQUENCE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

    let url = database_server_url();
    let server = PgConnectOptions::from_str(&url).expect("DATABASE_URL parses");
    let mut admin = server.connect().await.expect("the test server answers");
    let pid = std::process::id();
    // Databases left by earlier runs of the suite (this process's own are in use) go first.
    SWEPT
        .get_or_init(|| async {
            let stale: Vec<String> = sqlx::query_scalar(
                "SELECT datname FROM pg_database WHERE datname LIKE 'rbd\\_test\\_%' AND datname NOT LIKE $1",
            )
            .bind(format!("rbd\\_test\\_{pid}\\_%"))
            .fetch_all(&mut admin)
            .await
            .expect("list old test databases");
            for name in stale {
                // Another suite running at the same time owns its databases: only those of a
                // process that is gone are leftovers (the name carries the process id).
                let owner = name
                    .strip_prefix("rbd_test_")
                    .and_then(|rest| rest.split('_').next())
                    .and_then(|pid| pid.parse::<u32>().ok());
                if owner.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
                {
                    continue;
                }
                let _ = admin
                    .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                    .await;
            }
        })
        .await;
    let n = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("rbd_test_{pid}_{n}");
    admin
        .execute(format!(r#"CREATE DATABASE "{name}" TEMPLATE template0 ENCODING 'UTF8'"#).as_str())
        .await
        .expect("test database created");
    // Generous: a request of the app may hold a connection while its session is saved.
    PgPoolOptions::new()
        .max_connections(20)
        .connect_with(server.database(&name))
        .await
        .expect("test database answers")
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _database: DatabaseGuard,
}

/// Drops a test's database when the test ends, passed or failed (dropping runs on unwind
/// too). A crashed run's leftovers go at the next run's start (`test_database`).
pub struct DatabaseGuard {
    name: String,
}

impl DatabaseGuard {
    /// The guard of the database `name` (on the server of `DATABASE_URL`).
    pub fn named(name: &str) -> DatabaseGuard {
        DatabaseGuard {
            name: name.to_owned(),
        }
    }

    /// The guard of the database `pool` is connected to.
    pub fn of(pool: &PgPool) -> DatabaseGuard {
        DatabaseGuard {
            name: pool
                .connect_options()
                .get_database()
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        if !self.name.starts_with("rbd_test_") {
            return;
        }
        let name = self.name.clone();
        // A runtime of its own on a thread of its own: the test's runtime may be shutting down.
        let dropped = std::thread::spawn(move || {
            use sqlx::{ConnectOptions, Executor};
            use std::str::FromStr;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let options =
                    sqlx::postgres::PgConnectOptions::from_str(&database_server_url()).ok()?;
                let mut admin = options.connect().await.ok()?;
                admin
                    .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("the test database {} could not be dropped", self.name);
        }
    }
}

pub fn test_settings() -> Settings {
    Settings {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        // Tests call the watchers' functions themselves, at the times they choose.
        background_tasks: false,
        ..Settings::default()
    }
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, test_settings()).await
}

pub async fn spawn_app_with(pool: PgPool, settings: Settings) -> TestApp {
    startup::migrate(&pool).await.expect("migrations run");
    let app = Application::build(&settings, pool.clone())
        .await
        .expect("app builds");
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        addr,
        _database: DatabaseGuard::of(&pool),
        pool,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    /// What the app's pool and the database server were doing, for a request that got no
    /// answer: read through a connection of its own, since the pool may be the problem.
    pub async fn diagnosis(&self) -> String {
        use sqlx::postgres::PgConnectOptions;
        use sqlx::ConnectOptions;
        use std::str::FromStr;
        let mut text = format!(
            "pool: {} connections, {} idle, closed: {}\n",
            self.pool.size(),
            self.pool.num_idle(),
            self.pool.is_closed()
        );
        let options = PgConnectOptions::from_str(&database_server_url()).expect("URL parses");
        match options.connect().await {
            Ok(mut conn) => {
                // One line per connection: database, state, what it waits on, for how long.
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT concat_ws(' | ', datname, state, wait_event_type || ':' || wait_event,
                                      (now() - xact_start)::text, left(query, 200))
                     FROM pg_stat_activity WHERE datname LIKE 'rbd_test_%'
                     ORDER BY datname",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap_or_default();
                for row in rows {
                    text.push_str(&row);
                    text.push('\n');
                }
            }
            Err(e) => text.push_str(&format!("no diagnosis connection: {e}\n")),
        }
        text
    }

    /// The URL of this test's own database, for processes started by the test.
    pub async fn database_url(&self) -> String {
        database_url(&self.pool).await
    }

    /// A real `rollback-desk serve` process on this test's database, with its background
    /// tasks (runner, mailer) and the extra settings `env`.
    pub async fn server_process(&self, env: &[(&str, &str)]) -> std::process::Child {
        let url = self.database_url().await;
        std::process::Command::new(env!("CARGO_BIN_EXE_rollback-desk"))
            .args(["serve"])
            .env("DATABASE_URL", &url)
            .env("RBD_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the rollback-desk binary starts")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops the server but keeps its database, for a test that starts another server on it
    /// (that one's guard drops it).
    pub async fn stop_keeping_database(mut self) {
        self._database.name.clear();
        self.stop().await;
    }

    /// Stops the server (graceful shutdown) and waits for it; its database is dropped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// A new account with `roles`, signed in in a browser of its own.
    pub async fn signed_in_browser(&self, email: &str, name: &str, roles: &[&str]) -> Browser {
        self.create_user(email, name, roles).await;
        let browser = Browser::new();
        let (to, _) = browser.sign_in(self, email, PASSWORD).await;
        assert_ne!(to, "/login", "{email} signs in");
        browser
    }

    pub async fn create_user(&self, email: &str, name: &str, roles: &[&str]) -> uuid::Uuid {
        use app::backend::accounts::{create, NewAccount};
        use app::domain::{EmailAddress, NewPassword, PersonName, Roles};
        create(
            &self.pool,
            &NewAccount {
                email: EmailAddress::parse(email).unwrap(),
                name: PersonName::parse(name).unwrap(),
                password: NewPassword::parse(PASSWORD).unwrap(),
                roles: Roles::parse(roles.iter().copied()).unwrap(),
            },
        )
        .await
        .expect("user created")
        .id
    }
}

impl TestApp {
    pub async fn create_environment(&self, name: &str) -> uuid::Uuid {
        sqlx::query_scalar("INSERT INTO environments (name) VALUES ($1) RETURNING id")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .expect("environment created")
    }

    /// A signed-in user with `roles`, as an `app` value for calling services directly.
    pub async fn signed_in_user(&self, email: &str, roles: &[&str]) -> app::viewer::SignedInUser {
        let id = self.create_user(email, email, roles).await;
        app::backend::accounts::find(&self.pool, id)
            .await
            .unwrap()
            .unwrap()
            .signed_in()
    }
}

/// A browser-like client: a cookie jar (it outlives a server restart), no redirects
/// followed automatically, so that tests see each 302/303.
pub struct Browser {
    pub client: Client,
}

impl Browser {
    pub fn new() -> Browser {
        Browser::from_address(std::net::IpAddr::from([127, 0, 0, 1]))
    }

    /// A browser whose connections come from `address` (any of 127.0.0.0/8 reaches the app):
    /// another client address, as the server sees it.
    pub fn from_address(address: std::net::IpAddr) -> Browser {
        let client = Client::builder()
            .local_address(address)
            .cookie_provider(Arc::new(Jar::default()))
            .redirect(Policy::none())
            // A request that never gets an answer fails its test instead of hanging the suite.
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("client");
        Browser { client }
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> Response {
        let res = self
            .client
            .get(app.url(path))
            .header("Accept", "text/html")
            .send()
            .await;
        match res {
            Ok(res) => res,
            Err(e) => panic!("GET {path} got no answer: {e:?}\n{}", app.diagnosis().await),
        }
    }

    /// GETs `path` and returns its status and HTML.
    pub async fn page(&self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let res = self.get(app, path).await;
        let status = res.status();
        (status, res.text().await.expect("body"))
    }

    /// Posts a form the way a browser with JavaScript off does: from `page` (which is read
    /// first for its form token), same origin, accepting HTML. Returns the response, unfollowed.
    pub async fn submit(
        &self,
        app: &TestApp,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let (_, html) = self.page(app, page).await;
        let token = csrf_token(&html).expect("the page carries a form token");
        self.post_with_token(app, page, action, &token, fields)
            .await
    }

    /// Posts a form from `page` carrying `token` (one the page held earlier, say), as
    /// [`Browser::submit`] does. Returns the response, unfollowed.
    pub async fn post_with_token(
        &self,
        app: &TestApp,
        page: &str,
        action: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("_csrf", token)];
        form.extend_from_slice(fields);
        let res = self
            .client
            .post(app.url(action))
            .header("Accept", "text/html")
            .header("Origin", format!("http://{}", app.addr))
            .header("Referer", app.url(page))
            .form(&form)
            .send()
            .await;
        match res {
            Ok(res) => res,
            Err(e) => panic!(
                "POST {action} got no answer: {e:?}\n{}",
                app.diagnosis().await
            ),
        }
    }

    /// Submits, then follows the redirect like a browser; returns where it landed and the HTML.
    pub async fn submit_and_follow(
        &self,
        app: &TestApp,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (String, String) {
        let res = self.submit(app, page, action, fields).await;
        assert!(
            res.status().is_redirection(),
            "a form post answers with a redirect, got {}",
            res.status()
        );
        let to = location(&res);
        let (_, html) = self.page(app, &to).await;
        (to, html)
    }

    pub async fn sign_in(&self, app: &TestApp, email: &str, password: &str) -> (String, String) {
        self.submit_and_follow(
            app,
            "/login",
            "/api/sign_in",
            &[("email", email), ("password", password)],
        )
        .await
    }
}

pub fn location(res: &Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The value of the first hidden field `name` of a page.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

pub fn csrf_token(html: &str) -> Option<String> {
    let marker = r#"name="_csrf" value=""#;
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// The value attribute of the input with `id`.
pub fn input_value(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!(r#"id="{id}""#))?;
    let tag_end = html[start..].find('>')? + start;
    let tag = &html[start..tag_end];
    let v = tag.find(r#"value=""#)? + 7;
    let end = tag[v..].find('"')?;
    Some(tag[v..v + end].to_owned())
}

/// A real OpenSSH server on a loopback port, for SSH targets: its own host key, one client
/// key, key authentication only, as the user running the tests.
pub struct Sshd {
    child: std::process::Child,
    pub port: u16,
    _dir: tempfile::TempDir,
    /// The client's private key.
    pub key_path: String,
    /// The `known_hosts` line of this server.
    pub known_hosts: String,
    pub user: String,
}

impl Sshd {
    pub fn start() -> Sshd {
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let keygen = |name: &str| {
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.path().join(name))
                .status()
                .expect("ssh-keygen (openssh-client) is installed");
            assert!(status.success());
        };
        keygen("host_key");
        keygen("client_key");
        std::fs::copy(
            dir.path().join("client_key.pub"),
            dir.path().join("authorized_keys"),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().display();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\n\
             AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\nStrictModes no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             PermitRootLogin prohibit-password\n"
        );
        std::fs::write(dir.path().join("sshd_config"), config).unwrap();
        // sshd's privilege separation folder.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(dir.path().join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd (openssh-server) is installed");
        wait_for_port(port);
        let host_key = std::fs::read_to_string(dir.path().join("host_key.pub")).unwrap();
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();
        Sshd {
            child,
            port,
            key_path: dir.path().join("client_key").display().to_string(),
            known_hosts: format!("[127.0.0.1]:{port} {}", host_key.trim()),
            _dir: dir,
            user,
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The processes (not zombies) of process group `pgid`, read from /proc: (pid, command line).
pub fn group_members(pgid: i32) -> Vec<(i32, String)> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …: the command may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2].parse() == Ok(pgid) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            members.push((pid, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }
    members
}

/// Whether process `pid` runs (not a zombie).
pub fn process_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// A PostgreSQL server of the test's own on a fixed port, that the test stops and starts
/// again (the app's database going away). Run as the `postgres` user when the test is root.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    pub port: u16,
}

impl PrivatePostgres {
    pub async fn start() -> PrivatePostgres {
        let bin = server::embedded_postgres::EmbeddedPostgres::find_binaries(None)
            .expect("PostgreSQL's server binaries are installed");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = PrivatePostgres { dir, bin, port };
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(pg.dir.path(), std::fs::Permissions::from_mode(0o777))
                .unwrap();
        }
        let data = pg.data();
        let status = pg
            .command("initdb")
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "-D",
            ])
            .arg(&data)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("initdb runs");
        assert!(status.success(), "initdb");
        pg.up();
        pg
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> std::process::Command {
        let is_root = nix::unistd::Uid::effective().is_root();
        let mut command = if is_root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
            c
        } else {
            std::process::Command::new(self.bin.join(program))
        };
        command.stdin(std::process::Stdio::null());
        command
    }

    /// Starts the server (again), waiting until it answers.
    pub fn up(&self) {
        let status = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-w", "-o"])
            .arg(format!(
                "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
                self.port
            ))
            .arg("start")
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "PostgreSQL starts");
    }

    /// Stops the server (fast: every connection is cut).
    pub fn down(&self) {
        let status = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-m", "fast", "stop"])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "PostgreSQL stops");
    }

    /// A pool on its `postgres` database that gives up quickly while the server is down.
    pub async fn pool(&self) -> PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect(&format!(
                "postgres://postgres@127.0.0.1:{}/postgres",
                self.port
            ))
            .await
            .expect("the private PostgreSQL answers")
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-m", "immediate", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Every event on the timelines reads back as a typed event (`domain::event::Event`) and has
/// a label on the timeline.
pub async fn assert_events_read(pool: &PgPool) {
    let rows: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT kind, details FROM incident_events ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert!(!rows.is_empty());
    for (kind, details) in rows {
        if let Err(err) = app::domain::event::Event::read(&kind, &details) {
            panic!("{err}: {details}");
        }
        assert!(
            app::i18n::Msg::event(&kind).is_some(),
            "the timeline has a label for {kind}"
        );
    }
}
