//! An environment's page: its target and what the last inventory found (releases, `current`,
//! backups, ignored names), with a button to read it again.
use crate::domain::{lifecycle, Role};
use crate::i18n::Msg;
use crate::pages::common::Refusal;
use crate::pages::CsrfField;
use crate::records::{EnvironmentOverview, InventoryRecord};
use crate::viewer::Viewer;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[server(endpoint = "load_environment_overview")]
pub async fn load_environment_overview(
    id: String,
) -> Result<Option<EnvironmentOverview>, ServerFnError> {
    use crate::backend::{environments, inventory, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    let Ok(id) = id.parse() else {
        return Ok(None);
    };
    let Some(config) = environments::config(&ctx.state.pool, id)
        .await
        .map_err(crate::backend::page_error)?
    else {
        return Ok(None);
    };
    let target = match &config.target {
        crate::domain::environment::Target::Local { root } => format!("local: {root}"),
        crate::domain::environment::Target::Ssh {
            user, host, port, ..
        } => format!("ssh: {user}@{host}:{port}"),
    };
    let commands = config.useful_commands();
    let run_commands = config
        .commands
        .iter()
        .map(|(name, line)| (name.as_str().to_owned(), line.display(), line.allowed()))
        .collect();
    let pending = environments::pending_run_config(&ctx.state.pool, id)
        .await
        .map_err(crate::backend::page_error)?;
    let may_confirm = match (&pending, ctx.viewer.user.as_ref()) {
        (Some(p), Some(user)) => environments::may_confirm(user, p),
        _ => false,
    };
    let alert_intake = match ctx.viewer.user.as_ref() {
        Some(user) if user.roles.contains(Role::Admin) => {
            let settings = crate::backend::alerts::settings(&ctx.state.pool, id)
                .await
                .map_err(crate::backend::page_error)?;
            let base = crate::backend::settings::public_base(&ctx.state.pool)
                .await
                .map_err(crate::backend::page_error)?;
            settings.map(|s| crate::records::AlertIntakeView {
                url: format!("{base}/api/v1/alerts/alertmanager"),
                token_set_at: s.token_set_at,
                severities: s.rules.severities_text(),
                criteria: s.rules.criteria_text(),
            })
        }
        _ => None,
    };
    Ok(Some(EnvironmentOverview {
        id,
        alert_intake,
        commands,
        run_commands,
        may_confirm,
        pending: pending.map(|p| crate::records::PendingRunConfigView {
            changed_by: p.changed_by_name.unwrap_or_default(),
            since: p.since,
            target: p.change.target,
            commands: p.change.commands,
            outside: p.change.outside,
        }),
        name: config.name,
        target,
        inventory: inventory::load(&ctx.state.pool, id)
            .await
            .map_err(crate::backend::page_error)?,
    }))
}

/// Who may read a target's inventory on demand: the §2.2 roles and admins.
fn may_refresh(viewer: &Viewer) -> bool {
    viewer.user.as_ref().is_some_and(|u| {
        (u.roles.may_decide_rollback() && lifecycle::may_act(&u.roles))
            || u.roles.contains(Role::Admin)
    })
}

#[component]
pub fn EnvironmentPage() -> impl IntoView {
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default();
    let overview = Resource::new(move || id.clone(), load_environment_overview);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(Some(o)) => view! { <Overview overview=o/> }.into_any(),
                    Err(error) => view! { <crate::pages::common::LoadFailed error=error/> }.into_any(),
                    Ok(None) => view! {
                        <Refusal msg=Msg::UnknownEnvironment status=http::StatusCode::NOT_FOUND/>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(overview: EnvironmentOverview) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let refresh = ServerAction::<RefreshInventory>::new();
    let button = may_refresh(&viewer).then(|| {
        view! {
            <ActionForm action=refresh>
                <CsrfField/>
                <input type="hidden" name="id" value=overview.id.to_string()/>
                <button type="submit">{t(Msg::RefreshInventory)}</button>
            </ActionForm>
        }
    });
    let commands = overview
        .commands
        .iter()
        .map(|(kind, text)| {
            view! {
                <dt>{t(Msg::useful_command(*kind))}</dt>
                <dd><pre><code id=format!("cmd-{kind}")>{text.clone()}</code></pre></dd>
            }
        })
        .collect_view();
    let confirm = ServerAction::<ConfirmRunConfig>::new();
    let pending = overview.pending.clone().map(|p| {
        let control = if overview.may_confirm {
            view! {
                <ActionForm action=confirm>
                    <CsrfField/>
                    <input type="hidden" name="id" value=overview.id.to_string()/>
                    <button type="submit" class="primary" id="confirm-run-config">{t(Msg::RunConfigConfirm)}</button>
                </ActionForm>
            }
            .into_any()
        } else {
            view! { <p class="muted">{t(Msg::RunConfigWaitingForOther)}</p> }.into_any()
        };
        view! {
            <section class="card alert" id="run-config-pending" role="alert">
                <h2>{t(Msg::RunConfigPendingTitle)}</h2>
                <p>{Msg::RunConfigPendingBy.fill(lang, format!("{} ({})", p.changed_by, viewer.datetime(p.since)))}</p>
                {p.target.then(|| view! { <p>{t(Msg::RunConfigTargetChanged)}</p> })}
                {(!p.commands.is_empty()).then(|| view! { <p>{format!("{} {}", t(Msg::RunConfigCommandsChanged), p.commands.join(", "))}</p> })}
                {(!p.outside.is_empty()).then(|| view! { <p><strong>{format!("{} {}", t(Msg::RunConfigOutside), p.outside.join(", "))}</strong></p> })}
                {control}
            </section>
        }
    });
    let run_commands = overview
        .run_commands
        .iter()
        .map(|(name, line, allowed)| {
            let allowed = *allowed;
            view! {
                <dt>{name.clone()}</dt>
                <dd>
                    <pre><code id=format!("run-{name}")>{line.clone()}</code></pre>
                    {(!allowed).then(|| view! { <strong class="outside">{t(Msg::OutsideAllowList)}</strong> })}
                </dd>
            }
        })
        .collect_view();
    let allowed_list = Msg::AllowedPrograms.fill(
        lang,
        crate::domain::environment::ALLOWED_PROGRAMS.join(", "),
    );
    let inventory = match overview.inventory {
        Some(i) => view! { <InventoryView inventory=i/> }.into_any(),
        None => view! { <p class="muted">{t(Msg::NoInventoryYet)}</p> }.into_any(),
    };
    view! {
        <div class="title-row">
            <h1>{overview.name.clone()}</h1>
            <code>{overview.target.clone()}</code>
        </div>
        <crate::pages::alarms::AlarmBanners environment=overview.id.to_string()/>
        {pending}
        <section class="card" id="useful-commands">
            <h2>{t(Msg::UsefulCommands)}</h2>
            <dl class="commands">{commands}</dl>
        </section>
        <section class="card" id="run-commands">
            <h2>{t(Msg::RunCommandsTitle)}</h2>
            <p class="muted" id="allowed-programs">{allowed_list}</p>
            <dl class="commands">{run_commands}</dl>
        </section>
        <section class="card" id="inventory">
            <div class="title-row">
                <h2>{t(Msg::InventoryTitle)}</h2>
                {button}
            </div>
            {inventory}
        </section>
        {overview.alert_intake.clone().map(|intake| view! { <AlertIntake env=overview.id intake=intake/> })}
    }
}

fn alert_rules_key(env: uuid::Uuid) -> String {
    format!("alert-rules-{env}")
}

/// Alert intake (admins): the webhook's address, the token (made or replaced here, shown
/// once), and the rules that turn labels into a severity and §2.1 criteria.
#[component]
fn AlertIntake(env: uuid::Uuid, intake: crate::records::AlertIntakeView) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let rotate = ServerAction::<RotateAlertToken>::new();
    let save = ServerAction::<SaveAlertRules>::new();
    let key = alert_rules_key(env);
    let token_state = match intake.token_set_at {
        Some(at) => Msg::AlertTokenSetAt.fill(lang, viewer.datetime(at)),
        None => t(Msg::AlertTokenNone).to_owned(),
    };
    let rotate_label = if intake.token_set_at.is_some() {
        Msg::AlertTokenRotate
    } else {
        Msg::AlertTokenCreate
    };
    let field = move |name: &'static str, label: Msg, hint: Msg, stored: String| {
        let value = viewer.typed(&key, name).unwrap_or(stored);
        let error = viewer.field_error(&key, name);
        let id = format!("alert-{name}");
        let hint_id = format!("alert-{name}-hint");
        view! {
            <div class="field">
                <label for=id.clone()>{t(label)}</label>
                <crate::pages::common::TextArea id=id name=name rows=5 maxlength=20000
                    describedby=hint_id.clone() value=value/>
                <p class="muted" id=hint_id>{t(hint)}</p>
                {error.map(|e| view! { <p class="error">{e}</p> })}
            </div>
        }
    };
    view! {
        <section class="card" id="integrations">
            <h2>{t(Msg::IntegrationsTitle)}</h2>
            <crate::pages::common::FlashHere anchor="integrations"/>
            <h3>{t(Msg::AlertIntakeTitle)}</h3>
            <p>{t(Msg::AlertIntakeUrl)}" "<code id="alert-intake-url">{intake.url.clone()}</code></p>
            <p id="alert-token-state">{token_state}</p>
            <ActionForm action=rotate>
                <CsrfField/>
                <input type="hidden" name="id" value=env.to_string()/>
                <button type="submit" id="rotate-alert-token">{t(rotate_label)}</button>
            </ActionForm>
            <ActionForm action=save>
                <CsrfField/>
                <input type="hidden" name="id" value=env.to_string()/>
                {field("severities", Msg::AlertSeverityRules, Msg::AlertSeverityRulesHint, intake.severities.clone())}
                {field("criteria", Msg::AlertCriteriaRules, Msg::AlertCriteriaRulesHint, intake.criteria.clone())}
                <button type="submit" id="save-alert-rules">{t(Msg::Save)}</button>
            </ActionForm>
        </section>
    }
}

/// Makes or replaces the environment's alert token; the new one is shown once, in the notice.
#[server(endpoint = "rotate_alert_token")]
pub async fn rotate_alert_token(id: String) -> Result<(), ServerFnError> {
    use crate::backend::{alerts, AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;
    let ctx = RequestCtx::load().await?;
    let back = format!("/environments/{id}");
    let outcome = async {
        let user = ctx.user()?;
        let env: uuid::Uuid = id
            .parse()
            .map_err(|_| AppError::Refused(Msg::UnknownEnvironment.into()))?;
        let token = alerts::rotate_token(&ctx.state.pool, user, env).await?;
        Ok(Done::to(back.clone()).with_notice(Text::with(Msg::AlertTokenShownOnce, token)))
    }
    .await;
    ctx.finish(
        FormPost::new("rotate_alert_token", back.clone()).at("integrations"),
        outcome,
    )
    .await
}

#[server(endpoint = "save_alert_rules")]
pub async fn save_alert_rules(
    id: String,
    severities: String,
    criteria: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{alerts, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/environments/{id}");
    let env: Option<uuid::Uuid> = id.parse().ok();
    let outcome = async {
        let user = ctx.user()?;
        let env = env.ok_or_else(|| AppError::Refused(Msg::UnknownEnvironment.into()))?;
        alerts::save_rules(&ctx.state.pool, user, env, &severities, &criteria).await?;
        Ok(Done::to(back.clone()).with_notice(Msg::AlertRulesSaved.into()))
    }
    .await;
    let form = FormPost::new(env.map(alert_rules_key).unwrap_or_default(), back.clone())
        .at("integrations")
        .keep("severities", &severities)
        .keep("criteria", &criteria);
    ctx.finish(form, outcome).await
}

#[component]
fn InventoryView(inventory: InventoryRecord) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let error = inventory.error.clone().map(
        |e| view! { <p class="flash alert" role="alert">{Msg::InventoryFailed.fill(lang, e)}</p> },
    );
    let current = match (&inventory.current_target, &inventory.current_release) {
        (None, _) => view! { <p class="flash alert">{t(Msg::CurrentMissing)}</p> }.into_any(),
        (Some(target), _) if inventory.current_dangling => {
            view! { <p class="flash alert">{Msg::CurrentDangling.fill(lang, target)}</p> }.into_any()
        }
        (Some(_), Some(release)) => view! { <p><strong>{t(Msg::CurrentRelease)}" : "</strong><code>{release.clone()}</code></p> }.into_any(),
        (Some(target), None) => view! { <p class="flash alert">{Msg::CurrentOutside.fill(lang, target)}</p> }.into_any(),
    };
    let releases = inventory
        .releases
        .iter()
        .map(|(name, stamp)| {
            let is_current = inventory.current_release.as_deref() == Some(name.as_str());
            view! {
                <tr class:current=is_current>
                    <td><code>{name.clone()}</code>{is_current.then(|| view! { " ← "{t(Msg::Current)} })}</td>
                    <td>{stamp.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                </tr>
            }
        })
        .collect_view();
    let backups = inventory
        .backups
        .iter()
        .map(|b| {
            view! {
                <tr>
                    <td><code>{b.file_name.clone()}</code></td>
                    <td>{b.taken_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                    <td>{format!("{:.1} KiB", b.size_bytes as f64 / 1024.0)}</td>
                    <td><code title=b.sha256.clone()>{b.sha256.chars().take(12).collect::<String>()}</code></td>
                </tr>
            }
        })
        .collect_view();
    let ignored = (!inventory.ignored.is_empty()).then(|| {
        let items = inventory
            .ignored
            .iter()
            .map(|n| view! { <li><code>{n.clone()}</code></li> })
            .collect_view();
        view! { <h3>{t(Msg::Ignored)}</h3><ul class="ignored">{items}</ul> }
    });
    view! {
        <p class="muted">{Msg::InventoryTaken.fill(lang, viewer.datetime(inventory.taken_at))}</p>
        {error}
        {current}
        <h3>{t(Msg::Releases)}</h3>
        <table class="releases"><tbody>{releases}</tbody></table>
        <h3>{t(Msg::Backups)}</h3>
        <table class="backups">
            <thead><tr><th>{t(Msg::Name)}</th><th>{t(Msg::TakenAt)}</th><th>{t(Msg::Size)}</th><th>"sha256"</th></tr></thead>
            <tbody>{backups}</tbody>
        </table>
        {ignored}
    }
}

#[server(endpoint = "refresh_inventory")]
pub async fn refresh_inventory(id: String) -> Result<(), ServerFnError> {
    use crate::backend::{inventory, AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;
    let ctx = RequestCtx::load().await?;
    let back = format!("/environments/{id}");
    let outcome = async {
        let user = ctx.user()?;
        if !may_refresh(&ctx.viewer) {
            return Err(AppError::Forbidden);
        }
        let env_id = id
            .parse()
            .map_err(|_| AppError::Refused(Msg::UnknownEnvironment.into()))?;
        tracing::info!(user = %user.id, environment = %env_id, "inventory requested");
        match inventory::refresh(&ctx.state.pool, env_id).await? {
            Some(Ok(_)) => Ok(Done::to(back.clone()).with_notice(Msg::InventoryRefreshed.into())),
            Some(Err(message)) => Err(AppError::Refused(Text::with(Msg::InventoryFailed, message))),
            None => Err(AppError::Refused(Msg::UnknownEnvironment.into())),
        }
    }
    .await;
    ctx.finish(FormPost::new("inventory", back.clone()), outcome)
        .await
}

/// A second person confirms a change of the environment's target or commands.
#[server(endpoint = "confirm_run_config")]
pub async fn confirm_run_config(id: String) -> Result<(), ServerFnError> {
    use crate::backend::{environments, AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;
    let ctx = RequestCtx::load().await?;
    let back = format!("/environments/{id}");
    let outcome = async {
        let user = ctx.user()?;
        let env: uuid::Uuid = id
            .parse()
            .map_err(|_| AppError::Refused(Msg::UnknownEnvironment.into()))?;
        environments::confirm_run_config(&ctx.state.pool, user, env).await?;
        let name = environments::config(&ctx.state.pool, env)
            .await?
            .map(|c| c.name)
            .unwrap_or_default();
        tracing::info!(user = %user.id, environment = %env, "run configuration confirmed");
        Ok(Done::to(back.clone()).with_notice(Text::with(Msg::RunConfigConfirmed, name)))
    }
    .await;
    ctx.finish(FormPost::new("confirm_run_config", back.clone()), outcome)
        .await
}
