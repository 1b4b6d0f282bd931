//! The sign-in page.
use crate::i18n::Msg;
use crate::pages::common::CsrfField;
use crate::viewer::Viewer;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

const FORM: &str = "sign_in";

#[component]
pub fn SignInPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let action = ServerAction::<SignIn>::new();
    let next = viewer
        .typed(FORM, "next")
        .or_else(|| use_query_map().get_untracked().get("next"))
        .unwrap_or_else(|| "/".to_owned());
    let email = viewer.typed(FORM, "email").unwrap_or_default();
    let email_error = viewer.field_error(FORM, "email");
    let password_error = viewer.field_error(FORM, "password");
    let email_invalid = email_error.is_some().then_some("true");
    let password_invalid = password_error.is_some().then_some("true");
    // Put the cursor where the user has something to do.
    let focus_password = !email.is_empty() && email_error.is_none();
    view! {
        <section class="card narrow">
            <h1>{t(Msg::SignInTitle)}</h1>
            <p class="muted">{t(Msg::SignInIntro)}</p>
            <ActionForm action=action>
                <CsrfField/>
                <input type="hidden" name="next" value=next/>
                <div class="field">
                    <label for="email">{t(Msg::Email)}</label>
                    <input
                        id="email"
                        name="email"
                        type="email"
                        autocomplete="username"
                        required
                        autofocus=!focus_password
                        value=email
                        aria-invalid=email_invalid
                        aria-describedby="email-error"
                    />
                    {email_error.map(|e| view! { <p class="error" id="email-error">{e}</p> })}
                </div>
                <div class="field">
                    <label for="password">{t(Msg::Password)}</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        autofocus=focus_password
                        aria-invalid=password_invalid
                        aria-describedby="password-error"
                    />
                    {password_error.map(|e| view! { <p class="error" id="password-error">{e}</p> })}
                </div>
                <button type="submit" class="primary">{t(Msg::SignInButton)}</button>
            </ActionForm>
        </section>
    }
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::backend::error::FieldErrors;
    use crate::backend::{session, sign_in, Done, FormPost, RequestCtx};
    use crate::domain::EmailAddress;
    use crate::pages::common::local_path;

    let ctx = RequestCtx::load().await?;
    let next = local_path(next.as_deref().unwrap_or("/"));
    let outcome = async {
        let mut errors = FieldErrors::default();
        let address = errors.check("email", EmailAddress::parse(&email), Msg::EmailRequired);
        errors.check(
            "password",
            (!password.is_empty()).then_some(()),
            Msg::PasswordRequired,
        );
        errors.into_result()?;
        let address = address.ok_or(crate::backend::AppError::Internal("unreachable".into()))?;
        let origin = sign_in::origin_of_request();
        let sign_in::SignedIn {
            account,
            device_token,
        } = sign_in::authenticate(
            &ctx.state.pool,
            &ctx.state.sign_in_policy,
            &address,
            &password,
            &origin,
        )
        .await?;
        session::start_signed_in(&ctx.session, account.id, account.language).await?;
        sign_in::remember_device(&device_token, ctx.state.secure_cookies);
        tracing::info!(user = %account.id, "signed in");
        // A form posted after the session expired: back to its page, the text in the form.
        if let Some(id) = ctx.visit.get().pending {
            if let Some(kept) =
                crate::backend::pending_posts::take(&ctx.state.pool, id, chrono::Utc::now()).await?
            {
                session::set_flash(
                    &ctx.session,
                    &ctx.visit,
                    crate::viewer::Flash {
                        form: Some(kept.form),
                        values: kept.fields.0,
                        notice: Some(Msg::TextRestored.into()),
                        ..crate::viewer::Flash::default()
                    },
                )
                .await?;
                return Ok(Done::to(kept.back));
            }
        }
        Ok(Done::to(next.clone()))
    }
    .await;
    let post = FormPost::new(FORM, "/login")
        .keep("email", &email)
        .keep("next", &next);
    ctx.finish(post, outcome).await
}
