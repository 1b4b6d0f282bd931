//! Configuring an environment (role `admin`): target, paths, commands, database.
use crate::domain::environment::{CommandName, EnvironmentForm};
use crate::domain::Role;
use crate::i18n::Msg;
use crate::pages::accounts::AdminTabs;
use crate::pages::common::Refusal;
use crate::pages::CsrfField;
use crate::viewer::Viewer;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

fn form_key(id: &str) -> String {
    format!("environment:{id}")
}

#[cfg(feature = "ssr")]
fn problem_msg(problem: crate::domain::environment::FieldProblem) -> Msg {
    match problem {
        crate::domain::environment::FieldProblem::Required => Msg::FieldRequired,
        crate::domain::environment::FieldProblem::AbsolutePath => Msg::FieldAbsolutePath,
        crate::domain::environment::FieldProblem::Port => Msg::FieldPort,
        crate::domain::environment::FieldProblem::Url => Msg::FieldUrl,
        crate::domain::environment::FieldProblem::Command => Msg::FieldCommand,
        crate::domain::environment::FieldProblem::EnvVarName => Msg::FieldEnvVarName,
        crate::domain::environment::FieldProblem::TimeZone => Msg::FieldTimeZone,
    }
}

fn command_msg(name: CommandName) -> Msg {
    match name {
        CommandName::CacheClear => Msg::CmdCacheClear,
        CommandName::CacheWarmup => Msg::CmdCacheWarmup,
        CommandName::PhpFpmReload => Msg::CmdPhpFpmReload,
        CommandName::PhpFpmStop => Msg::CmdPhpFpmStop,
        CommandName::PhpFpmStart => Msg::CmdPhpFpmStart,
        CommandName::ApacheReload => Msg::CmdApacheReload,
    }
}

/// `commands[cache_clear]` → `form[commands][cache_clear]`: the server function's argument.
fn input_name(path: &str) -> String {
    match path.split_once('[') {
        Some((head, rest)) => format!("form[{head}][{rest}"),
        None => format!("form[{path}]"),
    }
}

#[server(endpoint = "load_environment")]
pub async fn load_environment(id: String) -> Result<Option<EnvironmentForm>, ServerFnError> {
    use crate::backend::{environments, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.require_role(Role::Admin)
        .map_err(crate::backend::page_error)?;
    let Ok(id) = id.parse() else {
        return Ok(None);
    };
    Ok(environments::config(&ctx.state.pool, id)
        .await
        .map_err(crate::backend::page_error)?
        .map(|c| EnvironmentForm::from_config(&c)))
}

#[component]
pub fn EnvironmentEditPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    if !viewer.has_role(Role::Admin) {
        return view! { <Refusal msg=Msg::Forbidden status=http::StatusCode::FORBIDDEN/> }
            .into_any();
    }
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default();
    let form = Resource::new(move || id.clone(), load_environment);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(Some(values)) => view! { <EnvironmentFormView values=values/> }.into_any(),
                    Err(error) => view! { <crate::pages::common::LoadFailed error=error/> }.into_any(),
                    Ok(None) => view! {
                        <Refusal msg=Msg::UnknownEnvironment status=http::StatusCode::NOT_FOUND/>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn EnvironmentFormView(values: EnvironmentForm) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default();
    let key = form_key(&id);
    let action = ServerAction::<SaveEnvironment>::new();
    // What the user typed after a refused save, else the stored value.
    let field = {
        let viewer = viewer.clone();
        let key = key.clone();
        move |path: &str, label: Msg, stored: &str| {
            let value = viewer
                .typed(&key, path)
                .unwrap_or_else(|| stored.to_owned());
            let error = viewer.field_error(&key, path);
            let input_id = format!("env-{}", path.replace(['[', ']'], "-"));
            let label_for = input_id.clone();
            view! {
                <div class="field">
                    <label for=label_for>{label.text(lang)}</label>
                    <input id=input_id name=input_name(path) type="text" value=value
                        aria-invalid=error.is_some().then_some("true")/>
                    {error.map(|e| view! { <p class="error">{e}</p> })}
                </div>
            }
        }
    };
    let choice = {
        let viewer = viewer.clone();
        let key = key.clone();
        move |path: &'static str, options: Vec<(&'static str, &'static str)>, stored: &str| {
            let chosen = viewer
                .typed(&key, path)
                .unwrap_or_else(|| stored.to_owned());
            options
                .into_iter()
                .map(|(value, label)| {
                    let input_id = format!("env-{path}-{value}");
                    let label_for = input_id.clone();
                    view! {
                        <label class="check" for=label_for>
                            <input type="radio" id=input_id name=input_name(path) value=value checked=chosen == value/>
                            {label}
                        </label>
                    }
                })
                .collect_view()
        }
    };
    let commands = CommandName::ALL
        .iter()
        .map(|name| {
            let path = format!("commands[{name}]");
            let stored = values
                .commands
                .get(name.as_str())
                .cloned()
                .unwrap_or_default();
            field(&path, command_msg(*name), &stored)
        })
        .collect_view();
    let v = &values;
    let f0 = field("name", Msg::Name, &v.name);
    let f1 = choice(
        "target",
        vec![("local", t(Msg::TargetLocal)), ("ssh", t(Msg::TargetSsh))],
        &v.target,
    );
    let f2 = field("local_root", Msg::LocalRoot, &v.local_root);
    let f3 = field("ssh_user", Msg::SshUser, &v.ssh_user);
    let f4 = field("ssh_host", Msg::SshHost, &v.ssh_host);
    let f5 = field("ssh_port", Msg::SshPort, &v.ssh_port);
    let f6 = field("ssh_key_path", Msg::SshKeyPath, &v.ssh_key_path);
    let f7 = field("ssh_known_hosts", Msg::SshKnownHosts, &v.ssh_known_hosts);
    let f8 = field("releases_dir", Msg::ReleasesDir, &v.releases_dir);
    let f9 = field("current_link", Msg::CurrentLink, &v.current_link);
    let f10 = field("backups_dir", Msg::BackupsDir, &v.backups_dir);
    let f11 = field("public_dir", Msg::PublicDir, &v.public_dir);
    let f12 = field("health_url", Msg::HealthUrl, &v.health_url);
    let time_zone = field("time_zone", Msg::TargetTimeZone, &v.time_zone);
    let f13 = choice(
        "db_kind",
        vec![
            ("mysql", "MySQL"),
            ("mariadb", "MariaDB"),
            ("postgresql", "PostgreSQL"),
        ],
        &v.db_kind,
    );
    let f14 = field("db_host", Msg::DbHost, &v.db_host);
    let f15 = field("db_port", Msg::DbPort, &v.db_port);
    let f16 = field("db_name", Msg::DbName, &v.db_name);
    let f17 = field("db_user", Msg::DbUser, &v.db_user);
    let f18 = choice(
        "db_password_source",
        vec![
            ("env", t(Msg::DbPasswordEnv)),
            ("file", t(Msg::DbPasswordFile)),
        ],
        &v.db_password_source,
    );
    let f19 = field("db_password_ref", Msg::DbPasswordRef, &v.db_password_ref);
    let title = v.name.clone();
    view! {
        <h1>{title}</h1>
        <AdminTabs/>
        <ActionForm action=action>
            <CsrfField/>
            <input type="hidden" name="id" value=id.clone()/>
            <section class="card">
                {f0}
                <fieldset class="choices">
                    <legend>{t(Msg::Target)}</legend>
                    {f1}
                </fieldset>
                <div class="grid">
                    {f2}
                    {f3}
                    {f4}
                    {f5}
                    {f6}
                </div>
                {f7}
            </section>
            <section class="card">
                <h2>{t(Msg::Paths)}</h2>
                <div class="grid">
                    {f8}
                    {f9}
                    {f10}
                    {f11}
                </div>
                {f12}
                {time_zone}
            </section>
            <section class="card">
                <h2>{t(Msg::Commands)}</h2>
                {commands}
            </section>
            <section class="card">
                <h2>{t(Msg::Database)}</h2>
                <fieldset class="choices">
                    <legend>{t(Msg::DbKind)}</legend>
                    {f13}
                </fieldset>
                <div class="grid">
                    {f14}
                    {f15}
                    {f16}
                    {f17}
                </div>
                <fieldset class="choices">
                    <legend>{t(Msg::DbPasswordSource)}</legend>
                    {f18}
                </fieldset>
                {f19}
            </section>
            <button type="submit" class="primary">{t(Msg::Save)}</button>
        </ActionForm>
    }
}

#[server(endpoint = "save_environment")]
pub async fn save_environment(id: String, form: EnvironmentForm) -> Result<(), ServerFnError> {
    use crate::backend::{environments, AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;
    let ctx = RequestCtx::load().await?;
    let back = format!("/admin/environments/{id}");
    let outcome = async {
        let admin = ctx.require_role(Role::Admin)?;
        let env_id = id
            .parse()
            .map_err(|_| AppError::Refused(Msg::UnknownEnvironment.into()))?;
        let config = form.parse().map_err(|problems| {
            AppError::Invalid(
                problems
                    .into_iter()
                    .map(|(field, problem)| (field, Text::plain(problem_msg(problem))))
                    .collect(),
            )
        })?;
        let change = environments::save(&ctx.state.pool, admin.id, env_id, &config).await?;
        tracing::info!(admin = %admin.id, environment = %env_id, ?change, "environment configured");
        let notice = if change.is_empty() {
            Msg::EnvironmentSaved
        } else {
            Msg::RunConfigSavedPending
        };
        Ok(Done::to(back.clone()).with_notice(Text::with(notice, &config.name)))
    }
    .await;
    let mut post = FormPost::new(form_key(&id), back.clone());
    let typed = [
        ("name", &form.name),
        ("target", &form.target),
        ("local_root", &form.local_root),
        ("ssh_user", &form.ssh_user),
        ("ssh_host", &form.ssh_host),
        ("ssh_port", &form.ssh_port),
        ("ssh_key_path", &form.ssh_key_path),
        ("ssh_known_hosts", &form.ssh_known_hosts),
        ("releases_dir", &form.releases_dir),
        ("current_link", &form.current_link),
        ("backups_dir", &form.backups_dir),
        ("public_dir", &form.public_dir),
        ("health_url", &form.health_url),
        ("time_zone", &form.time_zone),
        ("db_kind", &form.db_kind),
        ("db_host", &form.db_host),
        ("db_port", &form.db_port),
        ("db_name", &form.db_name),
        ("db_user", &form.db_user),
        ("db_password_source", &form.db_password_source),
        ("db_password_ref", &form.db_password_ref),
    ];
    for (name, value) in typed {
        post = post.keep(name, value);
    }
    for (name, value) in &form.commands {
        post = post.keep(&format!("commands[{name}]"), value);
    }
    ctx.finish(post, outcome).await
}
