//! Environments where the application runs (role `admin`). For now a name; the Plans issue
//! adds the target, paths, commands and database.
use crate::domain::Role;
use crate::i18n::Msg;
use crate::pages::accounts::AdminTabs;
use crate::pages::common::Refusal;
use crate::pages::CsrfField;
use crate::records::EnvironmentOption;
use crate::viewer::Viewer;
use leptos::prelude::*;

const FORM: &str = "add_environment";

#[server(endpoint = "list_environments")]
pub async fn list_environments() -> Result<Vec<EnvironmentOption>, ServerFnError> {
    use crate::backend::{environments, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.require_role(Role::Admin)
        .map_err(crate::backend::page_error)?;
    environments::options(&ctx.state.pool)
        .await
        .map_err(crate::backend::page_error)
}

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    if !viewer.has_role(Role::Admin) {
        return view! { <Refusal msg=Msg::Forbidden status=http::StatusCode::FORBIDDEN/> }
            .into_any();
    }
    let list = Resource::new(|| (), |_| list_environments());
    let add = ServerAction::<AddEnvironment>::new();
    let name = viewer.typed(FORM, "name").unwrap_or_default();
    let error = viewer.field_error(FORM, "name");
    view! {
        <h1>{t(Msg::AdminEnvironmentsTitle)}</h1>
        <AdminTabs/>
        <section class="card">
            <h2>{t(Msg::AddEnvironment)}</h2>
            <ActionForm action=add>
                <CsrfField/>
                <div class="field">
                    <label for="environment-name">{t(Msg::EnvironmentName)}</label>
                    <input id="environment-name" name="name" type="text" required maxlength="100" value=name/>
                    {error.map(|e| view! { <p class="error">{e}</p> })}
                </div>
                <button type="submit" class="primary">{t(Msg::AddEnvironment)}</button>
            </ActionForm>
        </section>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                crate::pages::common::loaded(list.await, |list| {
                    let items = list
                        .into_iter()
                        .map(|e| {
                            let href = format!("/admin/environments/{}", e.id);
                            let page = format!("/environments/{}", e.id);
                            view! {
                                <li>
                                    <a href=page>{e.name}</a>" — "<a href=href>{t(Msg::EditEnvironment)}</a>
                                </li>
                            }
                        })
                        .collect_view();
                    view! { <ul class="environments">{items}</ul> }
                })
            })}
        </Suspense>
    }
    .into_any()
}

#[server(endpoint = "add_environment")]
pub async fn add_environment(name: String) -> Result<(), ServerFnError> {
    use crate::backend::{environments, AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;
    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let admin = ctx.require_role(Role::Admin)?;
        let trimmed = name.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 100 {
            return Err(AppError::field("name", Msg::EnvironmentNameRequired));
        }
        environments::add(&ctx.state.pool, trimmed).await?;
        tracing::info!(admin = %admin.id, environment = trimmed, "environment added");
        Ok(Done::to("/admin/environments").with_notice(Text::with(Msg::EnvironmentAdded, trimmed)))
    }
    .await;
    ctx.finish(
        FormPost::new(FORM, "/admin/environments").keep("name", &name),
        outcome,
    )
    .await
}
