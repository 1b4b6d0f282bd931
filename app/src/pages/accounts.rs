//! Administration of accounts: add, change roles, deactivate (role `admin`).
use crate::domain::{Role, Roles};
use crate::i18n::{Lang, Msg};
use crate::pages::common::CsrfField;
use crate::pages::common::Refusal;
use crate::viewer::Viewer;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

const ADD_FORM: &str = "add_account";

fn roles_form(id: Uuid) -> String {
    format!("roles:{id}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub roles: Roles,
    pub active: bool,
    /// Sign-in is locked or slowed for some address, or closed to new devices.
    pub locked: bool,
}

/// One unlock, as listed under the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockLine {
    pub at: chrono::DateTime<chrono::Utc>,
    pub account: String,
    pub actor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsPageData {
    pub rows: Vec<AccountRow>,
    pub unlocks: Vec<UnlockLine>,
}

#[server(endpoint = "list_accounts")]
pub async fn list_accounts() -> Result<AccountsPageData, ServerFnError> {
    use crate::backend::{accounts, sign_in, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.require_role(Role::Admin)
        .map_err(crate::backend::page_error)?;
    let pool = &ctx.state.pool;
    let list = accounts::list(pool)
        .await
        .map_err(crate::backend::page_error)?;
    let locked = sign_in::locked_accounts(pool, &ctx.state.sign_in_policy, chrono::Utc::now())
        .await
        .map_err(crate::backend::page_error)?;
    let unlocks = sign_in::recent_unlocks(pool, 10)
        .await
        .map_err(crate::backend::page_error)?;
    Ok(AccountsPageData {
        rows: list
            .into_iter()
            .map(|a| AccountRow {
                locked: locked.contains(&a.email),
                id: a.id,
                email: a.email,
                name: a.name,
                roles: a.roles,
                active: a.active,
            })
            .collect(),
        unlocks: unlocks
            .into_iter()
            .map(|u| UnlockLine {
                at: u.at,
                account: u.account,
                actor: u.actor,
            })
            .collect(),
    })
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    if !viewer.has_role(Role::Admin) {
        return view! { <Refusal msg=Msg::Forbidden status=http::StatusCode::FORBIDDEN/> }
            .into_any();
    }
    let accounts = Resource::new(|| (), |_| list_accounts());
    let add = ServerAction::<AddAccount>::new();
    let typed = |name: &str| viewer.typed(ADD_FORM, name).unwrap_or_default();
    let error = |name: &str| {
        viewer
            .field_error(ADD_FORM, name)
            .map(|e| view! { <p class="error" id=format!("add-{name}-error")>{e}</p> })
    };
    let (email, name, roles_error) = (typed("email"), typed("name"), error("roles"));
    let (email_error, name_error, password_error) =
        (error("email"), error("name"), error("password"));
    let add_roles = typed_roles(&viewer, ADD_FORM).unwrap_or_default();
    view! {
        <h1>{t(Msg::AdminUsersTitle)}</h1>
        <AdminTabs/>
        <section class="card">
            <h2>{t(Msg::AddUser)}</h2>
            <ActionForm action=add>
                <CsrfField/>
                <div class="grid">
                    <div class="field">
                        <label for="add-email">{t(Msg::Email)}</label>
                        <input id="add-email" name="email" type="email" required value=email
                            aria-describedby="add-email-error"/>
                        {email_error}
                    </div>
                    <div class="field">
                        <label for="add-name">{t(Msg::Name)}</label>
                        <input id="add-name" name="name" type="text" required value=name
                            aria-describedby="add-name-error"/>
                        {name_error}
                    </div>
                    <div class="field">
                        <label for="add-password">{t(Msg::InitialPassword)}</label>
                        <input id="add-password" name="password" type="password" required
                            minlength="12" autocomplete="new-password"
                            aria-describedby="add-password-error"/>
                        {password_error}
                    </div>
                </div>
                <RoleChoices lang=lang id_prefix="add".to_owned() checked=add_roles/>
                {roles_error}
                <button type="submit" class="primary">{t(Msg::CreateAccount)}</button>
            </ActionForm>
        </section>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                crate::pages::common::loaded(accounts.await, |data| view! {
                    <AccountsTable rows=data.rows/>
                    <Unlocks lines=data.unlocks/>
                })
            })}
        </Suspense>
    }
    .into_any()
}

/// The latest unlocks: who lifted a sign-in lock, for whom, when.
#[component]
fn Unlocks(lines: Vec<UnlockLine>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    if lines.is_empty() {
        return ().into_any();
    }
    let items = lines
        .into_iter()
        .map(|l| {
            view! {
                <li>{format!("{} · {} — {} {}", viewer.datetime(l.at), l.account, Msg::UnlockedBy.text(lang), l.actor.unwrap_or_default())}</li>
            }
        })
        .collect_view();
    view! {
        <section class="card" id="recent-unlocks">
            <h2>{Msg::RecentUnlocks.text(lang)}</h2>
            <ul>{items}</ul>
        </section>
    }
    .into_any()
}

/// Links between the admin pages.
#[component]
pub fn AdminTabs() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let here = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    let tabs = [
        ("/admin/users", Msg::AdminUsersTitle),
        ("/admin/environments", Msg::AdminEnvironmentsTitle),
    ]
    .into_iter()
    .map(|(href, msg)| {
        let current = (here == href).then_some("page");
        view! { <a href=href aria-current=current>{viewer.t(msg)}</a> }
    })
    .collect_view();
    view! { <nav class="tabs" aria-label=viewer.t(Msg::AdminSections)>{tabs}</nav> }
}

/// The roles the user had ticked in `form` before a refused post, if that form was posted.
fn typed_roles(viewer: &Viewer, form: &str) -> Option<Vec<Role>> {
    let flash = viewer.flash.as_ref()?;
    (flash.form.as_deref() == Some(form)).then(|| {
        Role::ALL
            .into_iter()
            .filter(|r| flash.values.contains_key(&format!("roles[{r}]")))
            .collect()
    })
}

#[component]
fn RoleChoices(lang: Lang, id_prefix: String, checked: Vec<Role>) -> impl IntoView {
    let boxes = Role::ALL
        .into_iter()
        .map(|role| {
            let id = format!("{id_prefix}-role-{role}");
            let label_for = id.clone();
            view! {
                <label class="check" for=label_for>
                    <input type="checkbox" id=id name=format!("roles[{role}]") value="on"
                        checked=checked.contains(&role)/>
                    {Msg::role(role).text(lang)}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="roles">
            <legend>{Msg::Roles.text(lang)}</legend>
            {boxes}
        </fieldset>
    }
}

#[component]
fn AccountsTable(rows: Vec<AccountRow>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let save_roles = ServerAction::<SaveRoles>::new();
    let set_active = ServerAction::<SetAccountActive>::new();
    let unlock = ServerAction::<UnlockAccount>::new();
    let body = rows
        .into_iter()
        .map(|row| {
            let form = roles_form(row.id);
            let checked = typed_roles(&viewer, &form).unwrap_or_else(|| row.roles.iter().collect());
            let roles_error = viewer.field_error(&form, "roles");
            let (status, toggle) = if row.active {
                (Msg::Active, Msg::Deactivate)
            } else {
                (Msg::Inactive, Msg::Reactivate)
            };
            view! {
                <tr class:inactive=!row.active>
                    <td data-label=t(Msg::Name)>{row.name.clone()}</td>
                    <td data-label=t(Msg::Email)>{row.email.clone()}</td>
                    <td data-label=t(Msg::Roles)>
                        <ActionForm action=save_roles>
                            <CsrfField/>
                            <input type="hidden" name="user_id" value=row.id.to_string()/>
                            <RoleChoices lang=lang id_prefix=row.id.to_string() checked=checked/>
                            {roles_error.map(|e| view! { <p class="error">{e}</p> })}
                            <button type="submit">{t(Msg::SaveRoles)}</button>
                        </ActionForm>
                    </td>
                    <td data-label=t(Msg::Status)>
                        {t(status)}
                        {row.locked.then(|| view! { " · "<strong class="locked">{t(Msg::AccountLockedBadge)}</strong> })}
                    </td>
                    <td data-label=t(Msg::Actions)>
                        {row.locked.then(|| view! {
                            <ActionForm action=unlock>
                                <CsrfField/>
                                <input type="hidden" name="user_id" value=row.id.to_string()/>
                                <button type="submit" id=format!("unlock-{}", row.id)>{t(Msg::AccountUnlock)}</button>
                            </ActionForm>
                        })}
                        <ActionForm action=set_active>
                            <CsrfField/>
                            <input type="hidden" name="user_id" value=row.id.to_string()/>
                            <input type="hidden" name="active" value=(!row.active).to_string()/>
                            {row.active.then(|| view! {
                                <crate::pages::common::ConfirmTick form=format!("account_active:{}", row.id) id=format!("deactivate-confirm-{}", row.id) label=Msg::ConfirmDeactivate/>
                            })}
                            <button type="submit" class:danger=row.active>
                                {t(toggle)}
                            </button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="accounts">
            <thead>
                <tr>
                    <th scope="col">{t(Msg::Name)}</th>
                    <th scope="col">{t(Msg::Email)}</th>
                    <th scope="col">{t(Msg::Roles)}</th>
                    <th scope="col">{t(Msg::Status)}</th>
                    <th scope="col">{t(Msg::Actions)}</th>
                </tr>
            </thead>
            <tbody>{body}</tbody>
        </table>
    }
}

/// The role names of ticked checkboxes named `roles[<role>]`.
#[cfg(feature = "ssr")]
fn ticked(roles: &Option<HashMap<String, String>>) -> Option<Roles> {
    Roles::parse(roles.iter().flat_map(|m| m.keys().map(String::as_str)))
}

#[cfg(feature = "ssr")]
fn keep_roles(
    mut post: crate::backend::FormPost,
    roles: &Option<HashMap<String, String>>,
) -> crate::backend::FormPost {
    for name in roles.iter().flat_map(|m| m.keys()) {
        post = post.keep(&format!("roles[{name}]"), "on");
    }
    post
}

#[server(endpoint = "add_account")]
pub async fn add_account(
    email: String,
    name: String,
    password: String,
    roles: Option<HashMap<String, String>>,
) -> Result<(), ServerFnError> {
    use crate::backend::accounts::{self, NewAccount};
    use crate::backend::error::FieldErrors;
    use crate::backend::{AppError, Done, FormPost, RequestCtx};
    use crate::domain::{EmailAddress, NewPassword, PersonName};
    use crate::i18n::Text;

    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let admin = ctx.require_role(Role::Admin)?;
        let mut errors = FieldErrors::default();
        let email = errors.check("email", EmailAddress::parse(&email), Msg::EmailRequired);
        let name = errors.check("name", PersonName::parse(&name), Msg::NameRequired);
        let password = errors.check(
            "password",
            NewPassword::parse(&password),
            Msg::PasswordTooShort,
        );
        let roles = errors.check("roles", ticked(&roles), Msg::RolesRequired);
        errors.into_result()?;
        let (Some(email), Some(name), Some(password), Some(roles)) = (email, name, password, roles)
        else {
            return Err(AppError::Internal("checked fields missing".into()));
        };
        let account = accounts::create(
            &ctx.state.pool,
            &NewAccount {
                email,
                name,
                password,
                roles,
            },
        )
        .await?;
        tracing::info!(admin = %admin.id, user = %account.id, "account created");
        Ok(Done::to("/admin/users").with_notice(Text::with(Msg::AccountCreated, &account.email)))
    }
    .await;
    let post = keep_roles(
        FormPost::new(ADD_FORM, "/admin/users")
            .keep("email", &email)
            .keep("name", &name),
        &roles,
    );
    ctx.finish(post, outcome).await
}

#[server(endpoint = "save_roles")]
pub async fn save_roles(
    user_id: String,
    roles: Option<HashMap<String, String>>,
) -> Result<(), ServerFnError> {
    use crate::backend::{accounts, AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;

    let ctx = RequestCtx::load().await?;
    let target = Uuid::parse_str(&user_id).ok();
    let form = target.map(roles_form).unwrap_or_default();
    let outcome = async {
        let admin = ctx.require_role(Role::Admin)?;
        let target = target.ok_or(AppError::Refused(Msg::UnknownUser.into()))?;
        let roles = ticked(&roles).ok_or(AppError::field("roles", Msg::RolesRequired))?;
        let account = accounts::set_roles(&ctx.state.pool, admin, target, &roles).await?;
        tracing::info!(admin = %admin.id, user = %account.id, roles = ?account.roles, "roles changed");
        Ok(Done::to("/admin/users").with_notice(Text::with(Msg::RolesSaved, &account.name)))
    }
    .await;
    let post = keep_roles(FormPost::new(form, "/admin/users"), &roles);
    ctx.finish(post, outcome).await
}

#[server(endpoint = "set_account_active")]
pub async fn set_account_active(
    user_id: String,
    active: bool,
    #[server(default)] confirm: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{accounts, AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;

    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let admin = ctx.require_role(Role::Admin)?;
        let target =
            Uuid::parse_str(&user_id).map_err(|_| AppError::Refused(Msg::UnknownUser.into()))?;
        if !active && admin.id != target {
            crate::backend::form::require_confirmation(&confirm)?;
        }
        let account = accounts::set_active(&ctx.state.pool, admin, target, active).await?;
        tracing::info!(admin = %admin.id, user = %account.id, active, "account status changed");
        let msg = if active {
            Msg::AccountReactivated
        } else {
            Msg::AccountDeactivated
        };
        Ok(Done::to("/admin/users").with_notice(Text::with(msg, &account.name)))
    }
    .await;
    ctx.finish(
        FormPost::new(format!("account_active:{user_id}"), "/admin/users"),
        outcome,
    )
    .await
}

/// An administrator lifts the sign-in locks of an account (recorded as an account event).
#[server(endpoint = "unlock_account")]
pub async fn unlock_account(user_id: String) -> Result<(), ServerFnError> {
    use crate::backend::{accounts, sign_in, AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;

    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let admin = ctx.require_role(Role::Admin)?;
        let target =
            Uuid::parse_str(&user_id).map_err(|_| AppError::Refused(Msg::UnknownUser.into()))?;
        let account = accounts::find(&ctx.state.pool, target)
            .await?
            .ok_or(AppError::Refused(Msg::UnknownUser.into()))?;
        if !sign_in::unlock(&ctx.state.pool, admin.id, target).await? {
            return Err(AppError::Refused(Msg::AccountNothingToUnlock.into()));
        }
        tracing::info!(admin = %admin.id, user = %target, "sign-in unlocked");
        Ok(Done::to("/admin/users").with_notice(Text::with(Msg::AccountUnlocked, &account.name)))
    }
    .await;
    ctx.finish(FormPost::new("account_unlock", "/admin/users"), outcome)
        .await
}
