//! The History page: the §11.2 version table per environment, and recording a deployment with
//! its §9.2 checklist.
use crate::domain::deployment::{ChecklistItem, DeploymentRecord};
use crate::domain::lifecycle;
use crate::i18n::Msg;
use crate::pages::CsrfField;
use crate::records::EnvironmentOption;
use crate::viewer::Viewer;
use leptos::prelude::*;
use std::collections::HashMap;

const FORM: &str = "record_deployment";

#[server(endpoint = "load_history")]
pub async fn load_history() -> Result<(Vec<DeploymentRecord>, Vec<EnvironmentOption>), ServerFnError>
{
    use crate::backend::{deployments, environments, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    Ok((
        deployments::history(&ctx.state.pool)
            .await
            .map_err(crate::backend::page_error)?,
        environments::options(&ctx.state.pool)
            .await
            .map_err(crate::backend::page_error)?,
    ))
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let data = Resource::new(|| (), |_| load_history());
    let query = leptos_router::hooks::use_query_map().get_untracked();
    let get = |name: &str| query.get(name).unwrap_or_default();
    let filters = super::rollbacks::Filters {
        environment: get("environment"),
        kind: get("kind"),
        from: get("from"),
        to: get("to"),
        page: get("page"),
    };
    let rollbacks = {
        let f = filters.clone();
        Resource::new(
            move || f.clone(),
            |f| super::rollbacks::load_rollbacks(f.environment, f.kind, f.from, f.to, f.page),
        )
    };
    view! {
        <h1>{t(Msg::HistoryTitle)}</h1>
        <Suspense fallback=|| ()>
            {move || {
                let filters = filters.clone();
                Suspend::new(async move {
                    crate::pages::common::loaded(rollbacks.await, |history| view! { <super::rollbacks::Rollbacks history=history filters=filters/> })
                })
            }}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                crate::pages::common::loaded(data.await, |(deployments, environments)| view! {
                    <VersionTable deployments=deployments/>
                    <RecordForm environments=environments/>
                })
            })}
        </Suspense>
    }
}

#[component]
fn VersionTable(deployments: Vec<DeploymentRecord>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    if deployments.is_empty() {
        return view! { <p class="muted">{t(Msg::NoDeployments)}</p> }.into_any();
    }
    let mut by_environment: Vec<(String, Vec<DeploymentRecord>)> = Vec::new();
    for d in deployments {
        match by_environment.last_mut() {
            Some((name, list)) if *name == d.environment => list.push(d),
            _ => by_environment.push((d.environment.clone(), vec![d])),
        }
    }
    let date = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&viewer.tz())
            .format("%Y-%m-%d")
            .to_string()
    };
    by_environment
        .into_iter()
        .map(|(environment, list)| {
            let rows = list
                .into_iter()
                .map(|d| {
                    let checks = format!("{}/9", d.checklist.len());
                    view! {
                        <tr>
                            <td data-label=t(Msg::Version)>{d.version}</td>
                            <td data-label=t(Msg::Release)><code>{d.release}</code></td>
                            <td data-label=t(Msg::DeployedAt)>{date(d.deployed_at)}</td>
                            <td data-label=t(Msg::RolledBackAt)>{d.rolled_back_at.map(date).unwrap_or_else(|| "-".into())}</td>
                            <td data-label=t(Msg::RollbackReason)>{d.rollback_reason.unwrap_or_else(|| "-".into())}</td>
                            <td data-label=t(Msg::Checklist)>{checks}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section class="card">
                    <h2>{t(Msg::VersionTable)}" — "{environment}</h2>
                    <table class="versions">
                        <thead>
                            <tr>
                                <th scope="col">{t(Msg::Version)}</th>
                                <th scope="col">{t(Msg::Release)}</th>
                                <th scope="col">{t(Msg::DeployedAt)}</th>
                                <th scope="col">{t(Msg::RolledBackAt)}</th>
                                <th scope="col">{t(Msg::RollbackReason)}</th>
                                <th scope="col">"§9.2"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </section>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
fn RecordForm(environments: Vec<EnvironmentOption>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    if !viewer
        .user
        .as_ref()
        .is_some_and(|u| lifecycle::may_act(&u.roles))
    {
        return ().into_any();
    }
    let action = ServerAction::<RecordDeployment>::new();
    let typed = |name: &str| viewer.typed(FORM, name).unwrap_or_default();
    let error = |name: &str| {
        viewer
            .field_error(FORM, name)
            .map(|e| view! { <p class="error">{e}</p> })
    };
    let chosen = typed("environment");
    let options = environments
        .into_iter()
        .map(|e| {
            let selected = e.name == chosen;
            let value = e.name.clone();
            view! { <option value=value selected=selected>{e.name}</option> }
        })
        .collect_view();
    let now = viewer.input_datetime(chrono::Utc::now());
    let deployed_at = viewer.typed(FORM, "deployed_at").unwrap_or(now);
    let checks = ChecklistItem::ALL
        .iter()
        .map(|item| {
            let name = format!("checklist[{item}]");
            let id = format!("check-{item}");
            let label_for = id.clone();
            let checked = viewer.typed(FORM, &name).is_some();
            view! {
                <label class="check" for=label_for>
                    <input type="checkbox" id=id name=name value="on" checked=checked/>
                    {t(Msg::checklist_item(*item))}
                </label>
            }
        })
        .collect_view();
    let (version, release) = (typed("version"), typed("release"));
    let (environment_error, version_error, release_error, at_error, checklist_error) = (
        error("environment"),
        error("version"),
        error("release"),
        error("deployed_at"),
        error("checklist"),
    );
    view! {
        <section class="card" id="record-deployment">
            <h2>{t(Msg::RecordDeployment)}</h2>
            <ActionForm action=action>
                <CsrfField/>
                <div class="grid">
                    <div class="field">
                        <label for="deployment-environment">{t(Msg::Environment)}</label>
                        <select id="deployment-environment" name="environment">{options}</select>
                        {environment_error}
                    </div>
                    <div class="field">
                        <label for="deployment-version">{t(Msg::Version)}</label>
                        <input id="deployment-version" name="version" type="text" required placeholder="v1.2.0" value=version/>
                        {version_error}
                    </div>
                    <div class="field">
                        <label for="deployment-release">{t(Msg::Release)}</label>
                        <input id="deployment-release" name="release" type="text" required placeholder="2025-10-17_104523" value=release/>
                        {release_error}
                    </div>
                    <div class="field">
                        <label for="deployment-at">{t(Msg::DeployedAt)}</label>
                        <input id="deployment-at" name="deployed_at" type="datetime-local" required value=deployed_at/>
                        {at_error}
                    </div>
                </div>
                <fieldset class="choices">
                    <legend>{t(Msg::Checklist)}</legend>
                    {checks}
                    {checklist_error}
                </fieldset>
                <button type="submit" class="primary">{t(Msg::RecordDeployment)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[server(endpoint = "record_deployment")]
pub async fn record_deployment(
    environment: String,
    version: String,
    release: String,
    deployed_at: String,
    checklist: Option<HashMap<String, String>>,
) -> Result<(), ServerFnError> {
    use crate::backend::deployments::{self, NewDeployment};
    use crate::backend::{AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;
    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let user = ctx.user()?;
        if !lifecycle::may_act(&user.roles) {
            return Err(AppError::Refused(Msg::ReadOnlyAccount.into()));
        }
        let at = ctx
            .viewer
            .parse_input_datetime(&deployed_at)
            .ok_or(AppError::field("deployed_at", Msg::DetectedAtInvalid))?;
        let new = NewDeployment {
            environment: environment.clone(),
            version: version.clone(),
            release: release.clone(),
            deployed_at: at,
            checklist: checklist.iter().flat_map(|m| m.keys().cloned()).collect(),
        };
        let id = deployments::record(&ctx.state.pool, &new, "ui", Some(user.id)).await?;
        tracing::info!(deployment = id, user = %user.id, "deployment recorded");
        Ok(Done::to("/history").with_notice(Text::with(Msg::DeploymentRecorded, version.trim())))
    }
    .await;
    let mut post = FormPost::new(FORM, "/history")
        .keep("environment", &environment)
        .keep("version", &version)
        .keep("release", &release)
        .keep("deployed_at", &deployed_at);
    for name in checklist.iter().flat_map(|m| m.keys()) {
        post = post.keep(&format!("checklist[{name}]"), "on");
    }
    ctx.finish(post, outcome).await
}
