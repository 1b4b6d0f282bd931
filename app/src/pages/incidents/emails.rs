//! The §7 emails of an incident: pick the template and language, read the email exactly as
//! it will arrive (text and HTML parts, filled in from the incident's facts, missing ones
//! marked), edit it, choose the audiences, send; then follow the delivery.
use super::StateBadge;
use crate::domain::email::EmailTemplate;
use crate::domain::Role;
use crate::i18n::{plural, Lang, Msg};
use crate::pages::common::TextArea;
use crate::pages::CsrfField;
use crate::records::{EmailSendRecord, IncidentSummary};
use crate::viewer::Viewer;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailPageData {
    pub incident: IncidentSummary,
    pub template: EmailTemplate,
    pub lang: Lang,
    pub subject: String,
    pub body: String,
    pub html: String,
    pub sends: Vec<EmailSendRecord>,
    pub list: Option<crate::records::UploadedList>,
    /// The messages that were not delivered (failed or bounced), with why.
    pub undelivered: Vec<crate::records::UndeliveredMessage>,
}

#[server(endpoint = "load_email_page")]
pub async fn load_email_page(
    incident: i64,
    template: EmailTemplate,
    lang: Lang,
    list: Option<i64>,
) -> Result<Option<EmailPageData>, ServerFnError> {
    use crate::backend::{emails, incidents, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let user = ctx.user().map_err(crate::backend::page_error)?;
    let pool = &ctx.state.pool;
    let Some(summary) = incidents::summary(pool, ctx.state.approval_policy, incident)
        .await
        .map_err(crate::backend::page_error)?
    else {
        return Ok(None);
    };
    let facts = emails::facts(pool, incident)
        .await
        .map_err(crate::backend::page_error)?;
    let (mut subject, mut body) =
        emails::render(template, lang, &facts, ctx.viewer.tz(), &user.name)
            .map_err(crate::backend::page_error)?;
    // After "Preview", the email shown is the one the sender edited.
    let key = format!("email:{incident}");
    if let (Some(edited_subject), Some(edited_body)) = (
        ctx.viewer.typed(&key, "subject"),
        ctx.viewer.typed(&key, "body"),
    ) {
        subject = edited_subject;
        body = edited_body;
    }
    let html = emails::html(lang, &subject, &body).map_err(crate::backend::page_error)?;
    Ok(Some(EmailPageData {
        incident: summary,
        template,
        lang,
        subject,
        body,
        html,
        sends: emails::progress(pool, incident)
            .await
            .map_err(crate::backend::page_error)?,
        list: match list {
            Some(list) => emails::uploaded_list(pool, incident, list)
                .await
                .map_err(crate::backend::page_error)?,
            None => None,
        },
        undelivered: emails::undelivered_messages(pool, incident)
            .await
            .map_err(crate::backend::page_error)?,
    }))
}

#[component]
pub fn EmailsPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let template = query
        .get("template")
        .and_then(|t| EmailTemplate::parse(&t))
        .unwrap_or(EmailTemplate::Internal);
    let lang = query
        .get("lang")
        .and_then(|l| Lang::parse(&l))
        .unwrap_or(expect_context::<Viewer>().lang);
    let list = query.get("list").and_then(|l| l.parse::<i64>().ok());
    super::incident_page(
        move |id| load_email_page(id, template, lang, list),
        |page| view! { <Emails page=page/> }.into_any(),
    )
}

#[component]
fn Emails(page: EmailPageData) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let t = move |m: Msg| m.text(viewer.lang);
    let id = page.incident.id;
    let key = format!("email:{id}");
    let may_send = viewer
        .user
        .as_ref()
        .is_some_and(|u| u.roles.may_decide_rollback());
    let subject = viewer
        .typed(&key, "subject")
        .unwrap_or(page.subject.clone());
    let body = viewer.typed(&key, "body").unwrap_or(page.body.clone());
    let users = viewer.typed(&key, "users").unwrap_or_default();
    let error = |name: &str| {
        viewer
            .field_error(&key, name)
            .map(|e| view! { <p class="error">{e}</p> })
    };
    let (subject_error, body_error, users_error) =
        (error("subject"), error("body"), error("users"));
    let choose = {
        let templates = EmailTemplate::ALL
            .iter()
            .map(|tpl| {
                let label = match tpl {
                    EmailTemplate::Internal => t(Msg::TemplateInternal),
                    EmailTemplate::Users => t(Msg::TemplateUsers),
                };
                view! { <option value=tpl.as_str() selected=*tpl == page.template>{label}</option> }
            })
            .collect_view();
        view! {
            <form method="get" class="inline" id="choose-template">
                <label for="template">{t(Msg::Template)}</label>
                <select id="template" name="template">{templates}</select>
                <label for="lang">{t(Msg::Language)}</label>
                <select id="lang" name="lang">
                    <option value="fr" selected=page.lang == Lang::Fr>"Français"</option>
                    <option value="en" selected=page.lang == Lang::En>"English"</option>
                </select>
                <button type="submit">{t(Msg::ShowEmail)}</button>
            </form>
        }
    };
    let roles = Role::ROLLBACK_DECIDERS
        .iter()
        .chain([Role::Developer, Role::Qa, Role::Dba].iter())
        .map(|role| {
            let name = format!("roles[{}]", role.as_str());
            let input_id = format!("role-{}", role.as_str());
            let checked = viewer.typed(&key, &name).is_some()
                || (page.template == EmailTemplate::Internal
                    && viewer.flash.is_none()
                    && Role::ROLLBACK_DECIDERS.contains(role));
            let label_for = input_id.clone();
            view! {
                <label class="check" for=label_for>
                    <input type="checkbox" id=input_id name=name value="on" checked=checked/>
                    {t(Msg::role(*role))}
                </label>
            }
        })
        .collect_view();
    let sends = page
        .sends
        .iter()
        .map(|s| {
            view! {
                <tr>
                    <td>{viewer.datetime(s.at)}</td>
                    <td>{s.subject.clone()}</td>
                    <td>{s.by.clone().unwrap_or_default()}</td>
                    <td class="num">{s.sent}</td>
                    <td class="num">{s.pending}</td>
                    <td class="num">{s.failed + s.bounced}</td>
                </tr>
            }
        })
        .collect_view();
    let resend = ServerAction::<ResendEmails>::new();
    let undelivered = (!page.undelivered.is_empty()).then(|| {
        let rows = page
            .undelivered
            .clone()
            .into_iter()
            .map(|m| {
                let status = if m.status == "bounced" {
                    t(Msg::StatusBounced)
                } else {
                    t(Msg::StatusFailed)
                };
                view! {
                    <tr>
                        <td>{m.recipient}</td>
                        <td>{m.subject}</td>
                        <td>{status}</td>
                        <td class="reason">{m.reason}</td>
                        <td>
                            {may_send.then(|| view! {
                                <ActionForm action=resend>
                                    <CsrfField/>
                                    <input type="hidden" name="incident_id" value=id/>
                                    <input type="hidden" name="message" value=m.id/>
                                    <button type="submit">{t(Msg::ResendOne)}</button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="card alarm" id="undelivered">
                <h2>{t(Msg::UndeliveredRecipients)}</h2>
                {may_send.then(|| view! {
                    <ActionForm action=resend>
                        <CsrfField/>
                        <input type="hidden" name="incident_id" value=id/>
                        <button type="submit" class="primary" id="resend-all">{t(Msg::ResendAll)}</button>
                    </ActionForm>
                })}
                <div class="table-scroll">
                    <table>
                        <thead><tr>
                            <th>{t(Msg::Email)}</th><th>{t(Msg::Subject)}</th><th>{t(Msg::NotDelivered)}</th>
                            <th></th><th></th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </section>
        }
    });
    let action = ServerAction::<SendEmail>::new();
    let upload_action = format!(
        "/incidents/{id}/recipients?template={}&lang={}",
        page.template.as_str(),
        page.lang.code(),
    );
    let uploaded = page.list.clone().map(|l| {
        let summary = format!(
            "{} ({}) — {} · {} · {}",
            l.file_name,
            l.id,
            plural(viewer.lang, l.count, Msg::AddressKept, Msg::AddressesKept),
            plural(
                viewer.lang,
                l.duplicates,
                Msg::DuplicateRemoved,
                Msg::DuplicatesRemoved
            ),
            plural(
                viewer.lang,
                l.bad_count,
                Msg::LineSkipped,
                Msg::LinesSkipped
            ),
        );
        let bad = l
            .bad
            .iter()
            .map(|(n, text)| view! { <li>{format!("{n} : {text}")}</li> })
            .collect_view();
        view! {
            <div class="uploaded" id="uploaded-list">
                <p><strong>{Msg::UploadedList.fill(viewer.lang, summary)}</strong></p>
                <ul class="bad-lines">{bad}</ul>
            </div>
        }
    });
    let list_id = page.list.as_ref().map(|l| l.id);
    view! {
        <p><a href=format!("/incidents/{id}")>"← "{t(Msg::BackToIncident)}</a></p>
        <div class="title-row">
            <h1>{t(Msg::EmailsTitle)}" — #"{id}" "{page.incident.title.clone()}</h1>
            <StateBadge incident=page.incident.clone()/>
        </div>
        <section class="card">{choose}</section>
        <section class="card" id="preview">
            <h2>{t(Msg::AsItWillArrive)}</h2>
            <p><strong>{t(Msg::Subject)}" : "</strong><span id="preview-subject">{page.subject.clone()}</span></p>
            <pre class="email-text" id="preview-text">{page.body.clone()}</pre>
            <iframe class="email-html" title=t(Msg::HtmlPart) sandbox="" srcdoc=page.html.clone()></iframe>
        </section>
        {may_send.then(|| view! {
            <section class="card" id="send">
                <h2>{t(Msg::EditAndSend)}</h2>
                <ActionForm action=action>
                    <CsrfField/>
                    <crate::pages::common::OnceField/>
                    <input type="hidden" name="incident_id" value=id/>
                    <input type="hidden" name="template" value=page.template.as_str()/>
                    <input type="hidden" name="lang" value=page.lang.code()/>
                    <div class="field">
                        <label for="email-subject">{t(Msg::Subject)}</label>
                        <input id="email-subject" name="subject" type="text" required maxlength="300" value=subject/>
                        {subject_error}
                    </div>
                    <div class="field">
                        <label for="email-body">{t(Msg::Message)}</label>
                        <TextArea id="email-body".to_owned() name="body" rows=18 required=true value=body/>
                        {body_error}
                    </div>
                    <fieldset class="choices">
                        <legend>{t(Msg::TeamAudience)}</legend>
                        {roles}
                    </fieldset>
                    {uploaded}
                    {list_id.map(|l| view! { <input type="hidden" name="list" value=l/> })}
                    <div class="field">
                        <label for="email-users">{t(Msg::UsersAudience)}</label>
                        <TextArea id="email-users".to_owned() name="users" rows=5 value=users/>
                        {users_error}
                    </div>
                    <button type="submit" name="intent" value="preview" id="preview-email">{t(Msg::PreviewEmail)}</button>
                    " "
                    <button type="submit" name="intent" value="send" class="primary" id="send-email">{t(Msg::SendEmail)}</button>
                </ActionForm>
                <form method="post" enctype="multipart/form-data" action=upload_action id="upload-list">
                    // The token first: the gate reads only the first field.
                    <CsrfField/>
                    <label for="recipients-file">{t(Msg::UploadList)}</label>
                    <input type="file" id="recipients-file" name="file" accept=".csv,text/csv,text/plain"/>
                    <button type="submit">{t(Msg::Upload)}</button>
                </form>
            </section>
        })}
        {undelivered}
        <section class="card" id="deliveries">
            <h2>{t(Msg::Deliveries)}</h2>
            <p><a href="/mail">{t(Msg::MailTitle)}</a></p>
            <table>
                <thead><tr>
                    <th>{t(Msg::SentAt)}</th><th>{t(Msg::Subject)}</th><th>{t(Msg::SentBy)}</th>
                    <th>{t(Msg::Delivered)}</th><th>{t(Msg::Pending)}</th><th>{t(Msg::NotDelivered)}</th>
                </tr></thead>
                <tbody>{sends}</tbody>
            </table>
        </section>
    }
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "send_email")]
pub async fn send_email(
    incident_id: i64,
    template: String,
    lang: String,
    subject: String,
    body: String,
    #[server(default)] roles: Option<std::collections::HashMap<String, String>>,
    #[server(default)] users: String,
    #[server(default)] list: Option<i64>,
    #[server(default)] intent: String,
    #[server(default)] once: String,
) -> Result<(), ServerFnError> {
    use crate::backend::emails::{self, NewSend};
    use crate::backend::{AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!(
        "/incidents/{incident_id}/emails?template={template}&lang={lang}{}",
        list.map(|l| format!("&list={l}")).unwrap_or_default()
    );
    let chosen: Vec<Role> = roles
        .iter()
        .flat_map(|m| m.keys())
        .filter_map(|r| Role::parse(r))
        .collect();
    let outcome = async {
        let user = ctx.user()?;
        if intent == "preview" {
            // Nothing sent: the page shows the edited email as it will arrive.
            return Ok(Done::to(back.clone())
                .with_notice(Msg::PreviewShown.into())
                .keeping_form());
        }
        let template = EmailTemplate::parse(&template)
            .ok_or(AppError::Refused(Msg::InternalError.into()))?;
        let lang = Lang::parse(&lang).ok_or(AppError::Refused(Msg::InternalError.into()))?;
        let queued = emails::send_once(
            &ctx.state.pool,
            user,
            incident_id,
            &NewSend {
                template,
                lang,
                subject: &subject,
                body: &body,
                roles: chosen.clone(),
                users: &users,
                list,
            },
            Some(once.as_str()).filter(|o| !o.is_empty()),
        )
        .await?;
        tracing::info!(incident = incident_id, user = %user.id, send = queued.id, recipients = queued.recipients, "email queued");
        let skipped: Vec<String> = queued
            .list
            .bad
            .iter()
            .take(20)
            .map(|(line, text)| format!("{line} ({text})"))
            .collect();
        let reader = ctx.viewer.lang;
        let summary = format!(
            "{} · {} · {}{}",
            queued.recipients,
            plural(reader, queued.list.duplicates, Msg::DuplicateRemoved, Msg::DuplicatesRemoved),
            plural(reader, queued.list.bad.len(), Msg::LineSkipped, Msg::LinesSkipped),
            if skipped.is_empty() {
                String::new()
            } else {
                format!(" : {}", skipped.join(", "))
            }
        );
        Ok(Done::to(back.clone()).with_notice(crate::i18n::Text::with(Msg::EmailQueued, summary)))
    }
    .await;
    let mut post = FormPost::new(format!("email:{incident_id}"), back.clone())
        .keep("subject", &subject)
        .keep("body", &body)
        .keep("users", &users);
    for role in &chosen {
        post = post.keep(&format!("roles[{}]", role.as_str()), "on");
    }
    ctx.finish(post, outcome).await
}

/// Sends the incident's undelivered messages again: all, or one (`message`).
#[server(endpoint = "resend_emails")]
pub async fn resend_emails(
    incident_id: i64,
    #[server(default)] message: Option<i64>,
) -> Result<(), ServerFnError> {
    use crate::backend::{emails, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/emails#undelivered");
    let outcome = async {
        let user = ctx.user()?;
        let count = emails::resend(&ctx.state.pool, user, incident_id, message).await?;
        tracing::info!(incident = incident_id, user = %user.id, count, "undelivered emails queued again");
        Ok(Done::to(back.clone()).with_notice(crate::i18n::Text::with(Msg::Resent, count)))
    }
    .await;
    ctx.finish(
        FormPost::new(format!("resend:{incident_id}"), back.clone()),
        outcome,
    )
    .await
}
