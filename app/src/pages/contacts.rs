//! Contacts (§10): the team by role (§10.1), who is on call now and next (§10.2, 24/7), the
//! hosting support (§10.3). Admins, the tech lead and the project manager keep it up to date.
use crate::domain::on_call::on_call_at;
use crate::domain::Role;
use crate::i18n::{duration_text, Msg};
use crate::pages::CsrfField;
use crate::records::{ContactBook, HostingSupport, WhoToCall};
use crate::viewer::Viewer;
use leptos::prelude::*;

/// The roles a contact may have (§10.1 lists the technical team).
const CONTACT_ROLES: [Role; 7] = [
    Role::TechLead,
    Role::SeniorDevOncall,
    Role::Sysadmin,
    Role::Dba,
    Role::ProjectManager,
    Role::Developer,
    Role::Qa,
];

#[server(endpoint = "load_contacts")]
pub async fn load_contacts() -> Result<(ContactBook, bool), ServerFnError> {
    use crate::backend::{contacts, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let user = ctx.user().map_err(crate::backend::page_error)?;
    Ok((
        contacts::book(&ctx.state.pool, chrono::Utc::now())
            .await
            .map_err(crate::backend::page_error)?,
        contacts::may_manage(user),
    ))
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let data = Resource::new(|| (), |_| load_contacts());
    view! {
        <h1>{viewer.t(Msg::ContactsTitle)}</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                crate::pages::common::loaded(data.await, |(book, manage)| view! { <Contacts book=book manage=manage/> })
            })}
        </Suspense>
    }
}

/// Who to call now: the people on call, and the hosting support (the incident page and the
/// contacts page).
#[component]
pub fn OnCallNow(who: WhoToCall) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let now = chrono::Utc::now();
    let on_call = who.on_call;
    let people = if on_call.is_empty() {
        view! { <p class="flash alert">{t(Msg::NobodyOnCall)}</p> }.into_any()
    } else {
        on_call
            .into_iter()
            .map(|s| {
                let left = (s.ends_at - now).num_minutes();
                view! {
                    <p class="on-call">
                        <strong>{s.name.clone()}</strong>" · "
                        <a href=format!("tel:{}", s.phone)>{s.phone.clone()}</a>" · "
                        <a href=format!("mailto:{}", s.email)>{s.email.clone()}</a>
                        <span class="muted">" — "{Msg::OnCallUntil.fill(lang, format!("{} ({})", viewer.datetime(s.ends_at), duration_text(lang, left)))}</span>
                    </p>
                }
            })
            .collect_view()
            .into_any()
    };
    let h = who.hosting;
    let hosting = (!h.provider.is_empty() || !h.phone.is_empty()).then(|| {
        view! {
            <p class="hosting">
                {t(Msg::HostingSupport)}" : "<strong>{h.provider.clone()}</strong>" · "
                <a href=format!("tel:{}", h.phone)>{h.phone.clone()}</a>
            </p>
        }
    });
    view! { <div id="on-call-now">{people}{hosting}</div> }
}

#[component]
fn Contacts(book: ContactBook, manage: bool) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let rows = book
        .contacts
        .iter()
        .map(|c| {
            let remove = manage.then(|| view! { <RemoveContact id=c.id.to_string()/> });
            view! {
                <tr>
                    <td>{t(Msg::role(c.role))}</td>
                    <td>{c.name.clone()}</td>
                    <td><a href=format!("tel:{}", c.phone)>{c.phone.clone()}</a></td>
                    <td><a href=format!("mailto:{}", c.email)>{c.email.clone()}</a></td>
                    <td>{remove}</td>
                </tr>
            }
        })
        .collect_view();
    let shifts = book
        .shifts
        .iter()
        .map(|s| {
            view! {
                <tr>
                    <td>{s.name.clone()}</td>
                    <td>{viewer.datetime(s.starts_at)}</td>
                    <td>{viewer.datetime(s.ends_at)}</td>
                </tr>
            }
        })
        .collect_view();
    let h = book.hosting.clone();
    let forms = manage.then(|| {
        view! {
            <AddContact/>
            <AddShift book=book.clone()/>
            <HostingForm hosting=book.hosting.clone()/>
        }
    });
    view! {
        <section class="card" id="on-call">
            <h2>{t(Msg::OnCallTitle)}</h2>
            <p class="muted">{t(Msg::OnCallHelp)}</p>
            <OnCallNow who=WhoToCall {
                on_call: on_call_at(&book.shifts, chrono::Utc::now()).into_iter().cloned().collect(),
                hosting: book.hosting.clone(),
            }/>
            <table class="list" id="shifts">
                <thead><tr><th>{t(Msg::Name)}</th><th>{t(Msg::ShiftStart)}</th><th>{t(Msg::ShiftEnd)}</th></tr></thead>
                <tbody>{shifts}</tbody>
            </table>
        </section>
        <section class="card" id="team">
            <h2>{t(Msg::TeamTitle)}</h2>
            <table class="list">
                <thead><tr><th>{t(Msg::Role)}</th><th>{t(Msg::Name)}</th><th>{t(Msg::Phone)}</th><th>{t(Msg::Email)}</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
        <section class="card" id="hosting">
            <h2>{t(Msg::HostingSupport)}" (§10.3)"</h2>
            <ul>
                <li>{t(Msg::HostingProvider)}" : "{h.provider.clone()}</li>
                <li>{t(Msg::Phone)}" : "<a href=format!("tel:{}", h.phone)>{h.phone.clone()}</a></li>
                <li>{t(Msg::Email)}" : "<a href=format!("mailto:{}", h.email)>{h.email.clone()}</a></li>
                <li>{t(Msg::HostingPortal)}" : "{h.portal.clone()}</li>
            </ul>
        </section>
        {forms}
    }
}

const CONTACT_FORM: &str = "contact";

#[component]
fn AddContact() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<AddContactAction>::new();
    let typed = |n: &str| viewer.typed(CONTACT_FORM, n).unwrap_or_default();
    let error = |n: &str| {
        viewer
            .field_error(CONTACT_FORM, n)
            .map(|e| view! { <p class="error">{e}</p> })
    };
    let (name, phone, email, role) = (typed("name"), typed("phone"), typed("email"), typed("role"));
    let (name_error, phone_error, email_error) = (error("name"), error("phone"), error("email"));
    let roles = CONTACT_ROLES
        .iter()
        .map(|r| view! { <option value=r.as_str() selected=r.as_str() == role>{viewer.t(Msg::role(*r))}</option> })
        .collect_view();
    view! {
        <section class="card">
            <h2>{viewer.t(Msg::AddContact)}</h2>
            <ActionForm action=server>
                <CsrfField/>
                <div class="grid">
                    <div class="field"><label for="contact-role">{viewer.t(Msg::Role)}</label><select id="contact-role" name="role">{roles}</select></div>
                    <div class="field"><label for="contact-name">{viewer.t(Msg::Name)}</label><input id="contact-name" name="name" required value=name/>{name_error}</div>
                    <div class="field"><label for="contact-phone">{viewer.t(Msg::Phone)}</label><input id="contact-phone" name="phone" type="tel" required value=phone/>{phone_error}</div>
                    <div class="field"><label for="contact-email">{viewer.t(Msg::Email)}</label><input id="contact-email" name="email" type="email" required value=email/>{email_error}</div>
                </div>
                <button type="submit" class="primary" id="add-contact">{viewer.t(Msg::AddContact)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn RemoveContact(id: String) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<RemoveContactAction>::new();
    view! {
        <ActionForm action=server attr:class="inline">
            <CsrfField/>
            <input type="hidden" name="id" value=id/>
            <button type="submit" class="link">{viewer.t(Msg::Remove)}</button>
        </ActionForm>
    }
}

const SHIFT_FORM: &str = "shift";

#[component]
fn AddShift(book: ContactBook) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<AddShiftAction>::new();
    let typed = |n: &str| viewer.typed(SHIFT_FORM, n).unwrap_or_default();
    let error = |n: &str| {
        viewer
            .field_error(SHIFT_FORM, n)
            .map(|e| view! { <p class="error">{e}</p> })
    };
    let chosen = typed("contact");
    let contacts = book
        .contacts
        .iter()
        .map(|c| {
            let v = c.id.to_string();
            let selected = v == chosen;
            view! { <option value=v selected=selected>{c.name.clone()}</option> }
        })
        .collect_view();
    let (starts, ends) = (typed("starts_at"), typed("ends_at"));
    let (starts_error, ends_error, contact_error) =
        (error("starts_at"), error("ends_at"), error("contact"));
    view! {
        <section class="card">
            <h2>{viewer.t(Msg::AddShift)}</h2>
            <p class="muted">{Msg::ShiftTimeZone.fill(viewer.lang, &viewer.time_zone)}</p>
            <ActionForm action=server>
                <CsrfField/>
                <div class="grid">
                    <div class="field"><label for="shift-contact">{viewer.t(Msg::Name)}</label><select id="shift-contact" name="contact">{contacts}</select>{contact_error}</div>
                    <div class="field"><label for="shift-start">{viewer.t(Msg::ShiftStart)}</label><input id="shift-start" name="starts_at" type="datetime-local" required value=starts/>{starts_error}</div>
                    <div class="field"><label for="shift-end">{viewer.t(Msg::ShiftEnd)}</label><input id="shift-end" name="ends_at" type="datetime-local" required value=ends/>{ends_error}</div>
                </div>
                <button type="submit" class="primary" id="add-shift">{viewer.t(Msg::AddShift)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn HostingForm(hosting: HostingSupport) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<SaveHosting>::new();
    view! {
        <section class="card">
            <h2>{viewer.t(Msg::HostingSupport)}</h2>
            <ActionForm action=server>
                <CsrfField/>
                <div class="grid">
                    <div class="field"><label for="hosting-provider">{viewer.t(Msg::HostingProvider)}</label><input id="hosting-provider" name="provider" maxlength="200" value=hosting.provider/></div>
                    <div class="field"><label for="hosting-phone">{viewer.t(Msg::Phone)}</label><input id="hosting-phone" name="phone" maxlength="40" value=hosting.phone/></div>
                    <div class="field"><label for="hosting-email">{viewer.t(Msg::Email)}</label><input id="hosting-email" name="email" maxlength="254" value=hosting.email/></div>
                    <div class="field"><label for="hosting-portal">{viewer.t(Msg::HostingPortal)}</label><input id="hosting-portal" name="portal" maxlength="500" value=hosting.portal/></div>
                </div>
                <button type="submit" id="save-hosting">{viewer.t(Msg::Save)}</button>
            </ActionForm>
        </section>
    }
}

#[server(endpoint = "add_contact")]
pub async fn add_contact_action(
    role: String,
    name: String,
    phone: String,
    email: String,
) -> Result<(), ServerFnError> {
    use crate::backend::error::FieldErrors;
    use crate::backend::{contacts, Done, FormPost, RequestCtx};
    use crate::domain::{EmailAddress, PersonName};
    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let user = ctx.user()?;
        let mut errors = FieldErrors::default();
        let role = errors.check("role", Role::parse(&role), Msg::UnknownPerson);
        let name = errors.check("name", PersonName::parse(&name), Msg::NameRequired);
        let phone = errors.check(
            "phone",
            Some(phone.trim()).filter(|p| (1..=40).contains(&p.chars().count())),
            Msg::PhoneInvalid,
        );
        let email = errors.check("email", EmailAddress::parse(&email), Msg::EmailRequired);
        errors.into_result()?;
        let (Some(role), Some(name), Some(phone), Some(email)) = (role, name, phone, email) else {
            return Err(crate::backend::AppError::Internal("checked above".into()));
        };
        contacts::add_contact(&ctx.state.pool, user, role, &name, phone, &email).await?;
        Ok(Done::to("/contacts".to_owned()).with_notice(Msg::ExecutionUpdated.into()))
    }
    .await;
    let post = FormPost::new(CONTACT_FORM, "/contacts")
        .keep("role", &role)
        .keep("name", &name)
        .keep("phone", &phone)
        .keep("email", &email);
    ctx.finish(post, outcome).await
}

#[server(endpoint = "remove_contact")]
pub async fn remove_contact_action(id: String) -> Result<(), ServerFnError> {
    use crate::backend::{contacts, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let user = ctx.user()?;
        let id =
            uuid::Uuid::parse_str(&id).map_err(|_| AppError::Refused(Msg::UnknownPerson.into()))?;
        contacts::remove_contact(&ctx.state.pool, user, id).await?;
        Ok(Done::to("/contacts".to_owned()).with_notice(Msg::ExecutionUpdated.into()))
    }
    .await;
    ctx.finish(FormPost::new("remove-contact", "/contacts"), outcome)
        .await
}

#[server(endpoint = "add_shift")]
pub async fn add_shift_action(
    contact: String,
    starts_at: String,
    ends_at: String,
) -> Result<(), ServerFnError> {
    use crate::backend::error::FieldErrors;
    use crate::backend::{contacts, AppError, Done, FormPost, RequestCtx};
    use crate::domain::on_call::from_local;
    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let user = ctx.user()?;
        let tz = ctx.viewer.tz();
        let mut errors = FieldErrors::default();
        let mut local = |name: &str, text: &str| {
            let naive = crate::domain::typed::parse_local_datetime(text);
            let parsed = errors.check(name, naive, Msg::BadDateTime)?;
            errors.check(name, from_local(parsed, tz).ok(), Msg::TimeSkippedByDst)
        };
        let (starts, ends) = (local("starts_at", &starts_at), local("ends_at", &ends_at));
        let contact = errors.check(
            "contact",
            uuid::Uuid::parse_str(&contact).ok(),
            Msg::UnknownPerson,
        );
        errors.into_result()?;
        let (Some(starts), Some(ends), Some(contact)) = (starts, ends, contact) else {
            return Err(AppError::Internal("checked above".into()));
        };
        contacts::add_shift(&ctx.state.pool, user, contact, starts, ends).await?;
        Ok(Done::to("/contacts".to_owned()).with_notice(Msg::ExecutionUpdated.into()))
    }
    .await;
    let post = FormPost::new(SHIFT_FORM, "/contacts")
        .keep("contact", &contact)
        .keep("starts_at", &starts_at)
        .keep("ends_at", &ends_at);
    ctx.finish(post, outcome).await
}

#[server(endpoint = "save_hosting")]
pub async fn save_hosting(
    provider: String,
    phone: String,
    email: String,
    portal: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{contacts, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let user = ctx.user()?;
        let cut = |s: &str, n: usize| s.trim().chars().take(n).collect::<String>();
        let hosting = HostingSupport {
            provider: cut(&provider, 200),
            phone: cut(&phone, 40),
            email: cut(&email, 254),
            portal: cut(&portal, 500),
        };
        contacts::save_hosting(&ctx.state.pool, user, &hosting).await?;
        Ok(Done::to("/contacts".to_owned()).with_notice(Msg::ExecutionUpdated.into()))
    }
    .await;
    ctx.finish(FormPost::new("hosting", "/contacts"), outcome)
        .await
}
