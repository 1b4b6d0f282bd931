//! Without an SMTP server (the embedded default), emails become `.eml` files in the data
//! folder; these pages list them and show each one as it would arrive (raw).
use crate::i18n::Msg;
use crate::pages::common::Refusal;
use crate::viewer::Viewer;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailFile {
    pub name: String,
    pub size: u64,
}

#[cfg(feature = "ssr")]
fn mail_dir(
    ctx: &crate::backend::RequestCtx,
) -> Result<std::path::PathBuf, crate::backend::AppError> {
    use crate::backend::AppError;
    let user = ctx.user()?;
    if !(user.roles.may_decide_rollback() || user.roles.contains(crate::domain::Role::Admin)) {
        return Err(AppError::Forbidden);
    }
    ctx.state
        .mail_dir
        .clone()
        .ok_or(AppError::Refused(Msg::SmtpConfigured.into()))
}

/// A file name of the mail folder, never a path.
#[cfg(feature = "ssr")]
fn plain_name(name: &str) -> bool {
    name.ends_with(".eml")
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.-_".contains(c))
}

#[server(endpoint = "list_mail_files")]
pub async fn list_mail_files() -> Result<Result<Vec<MailFile>, Msg>, ServerFnError> {
    use crate::backend::{AppError, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let dir = match mail_dir(&ctx) {
        Ok(dir) => dir,
        Err(AppError::Refused(text)) => return Ok(Err(text.msg)),
        Err(_) => return Ok(Err(Msg::Forbidden)),
    };
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if plain_name(&name) {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                files.push(MailFile { name, size });
            }
        }
    }
    // Newest first: names start with the outbox row's number.
    files.sort_by(|a, b| b.name.cmp(&a.name));
    files.truncate(500);
    Ok(Ok(files))
}

#[server(endpoint = "read_mail_file")]
pub async fn read_mail_file(name: String) -> Result<Result<String, Msg>, ServerFnError> {
    use crate::backend::{AppError, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let dir = match mail_dir(&ctx) {
        Ok(dir) => dir,
        Err(AppError::Refused(text)) => return Ok(Err(text.msg)),
        Err(_) => return Ok(Err(Msg::Forbidden)),
    };
    if !plain_name(&name) {
        return Ok(Err(Msg::NotFound));
    }
    Ok(std::fs::read_to_string(dir.join(&name)).map_err(|_| Msg::NotFound))
}

#[component]
pub fn MailPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let t = move |m: Msg| m.text(viewer.lang);
    let files = Resource::new(|| (), |_| list_mail_files());
    view! {
        <h1>{t(Msg::MailTitle)}</h1>
        <p class="muted">{t(Msg::MailIntro)}</p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match files.await {
                    Ok(Ok(files)) => {
                        let rows = files
                            .into_iter()
                            .map(|f| view! {
                                <li><a href=format!("/mail/{}", f.name)>{f.name.clone()}</a>" ("{f.size}" o)"</li>
                            })
                            .collect_view();
                        view! { <ul class="mail-files">{rows}</ul> }.into_any()
                    }
                    Ok(Err(msg)) => view! { <Refusal msg=msg status=http::StatusCode::FORBIDDEN/> }.into_any(),
                    Err(e) => view! { <crate::pages::common::LoadFailed error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn MailFilePage() -> impl IntoView {
    let name = use_params_map()
        .get_untracked()
        .get("name")
        .unwrap_or_default();
    let shown = name.clone();
    let file = Resource::new(move || name.clone(), read_mail_file);
    view! {
        <p><a href="/mail">"← /mail"</a></p>
        <h1>{shown}</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match file.await {
                    Ok(Ok(text)) => view! { <pre class="email-text">{text}</pre> }.into_any(),
                    Ok(Err(msg)) => view! { <Refusal msg=msg status=http::StatusCode::NOT_FOUND/> }.into_any(),
                    Err(e) => view! { <crate::pages::common::LoadFailed error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
