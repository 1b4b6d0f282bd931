//! The signed-in user's own page: their password (with the current one), language and time
//! zone.
use crate::i18n::{Lang, Msg};
use crate::pages::common::CsrfField;
use crate::viewer::Viewer;
use leptos::prelude::*;

const PASSWORD_FORM: &str = "profile:password";
const PREFERENCES_FORM: &str = "profile:preferences";

#[component]
pub fn ProfilePage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let Some(user) = viewer.user.clone() else {
        return ().into_any();
    };
    let password = ServerAction::<ChangePassword>::new();
    let preferences = ServerAction::<SavePreferences>::new();
    let error = |form: &str, name: &str| {
        viewer
            .field_error(form, name)
            .map(|e| view! { <p class="error" id=format!("profile-{name}-error")>{e}</p> })
    };
    let (tz_error, current_error, new_error, repeat_error) = (
        error(PREFERENCES_FORM, "time_zone"),
        error(PASSWORD_FORM, "current_password"),
        error(PASSWORD_FORM, "new_password"),
        error(PASSWORD_FORM, "repeat_password"),
    );
    let time_zone = viewer
        .typed(PREFERENCES_FORM, "time_zone")
        .unwrap_or_else(|| viewer.time_zone.clone());
    view! {
        <h1>{t(Msg::ProfileTitle)}</h1>
        <p>{format!("{} · {}", user.name, user.email)}</p>
        <section class="card" id="preferences">
            <h2>{t(Msg::Preferences)}</h2>
            <ActionForm action=preferences>
                <CsrfField/>
                <div class="field">
                    <label for="profile-lang">{t(Msg::Language)}</label>
                    <select id="profile-lang" name="lang">
                        <option value="fr" selected=lang == Lang::Fr>"Français"</option>
                        <option value="en" selected=lang == Lang::En>"English"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="profile-time_zone">{t(Msg::TimeZone)}</label>
                    <input type="text" id="profile-time_zone" name="time_zone" value=time_zone required=true autocomplete="off"/>
                    <p class="muted">{t(Msg::TimeZoneHelp)}</p>
                    {tz_error}
                </div>
                <button type="submit" class="primary" id="save-preferences">{t(Msg::Save)}</button>
            </ActionForm>
        </section>
        <section class="card" id="password">
            <h2>{t(Msg::ChangePassword)}</h2>
            <ActionForm action=password>
                <CsrfField/>
                <div class="field">
                    <label for="profile-current_password">{t(Msg::CurrentPassword)}</label>
                    <input type="password" id="profile-current_password" name="current_password" autocomplete="current-password" required=true/>
                    {current_error}
                </div>
                <div class="field">
                    <label for="profile-new_password">{t(Msg::NewPasswordLabel)}</label>
                    <input type="password" id="profile-new_password" name="new_password" autocomplete="new-password" minlength="12" required=true/>
                    {new_error}
                </div>
                <div class="field">
                    <label for="profile-repeat_password">{t(Msg::RepeatPassword)}</label>
                    <input type="password" id="profile-repeat_password" name="repeat_password" autocomplete="new-password" required=true/>
                    {repeat_error}
                </div>
                <button type="submit" id="change-password">{t(Msg::ChangePassword)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[server(endpoint = "change_password")]
pub async fn change_password(
    #[server(default)] current_password: String,
    #[server(default)] new_password: String,
    #[server(default)] repeat_password: String,
) -> Result<(), ServerFnError> {
    use crate::backend::error::FieldErrors;
    use crate::backend::{accounts, Done, FormPost, RequestCtx};
    use crate::domain::NewPassword;
    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let user = ctx.user()?;
        let mut errors = FieldErrors::default();
        errors.check(
            "current_password",
            (!current_password.is_empty()).then_some(()),
            Msg::PasswordRequired,
        );
        let new = errors.check(
            "new_password",
            NewPassword::parse(&new_password),
            Msg::PasswordTooShort,
        );
        errors.check(
            "repeat_password",
            (new_password == repeat_password).then_some(()),
            Msg::PasswordsDiffer,
        );
        errors.into_result()?;
        let Some(new) = new else {
            return Err(crate::backend::AppError::Internal(
                "checked password missing".into(),
            ));
        };
        accounts::change_password(&ctx.state.pool, user.id, &current_password, &new).await?;
        tracing::info!(user = %user.id, "password changed");
        Ok(Done::to("/profile").with_notice(Msg::PasswordChanged.into()))
    }
    .await;
    // Passwords are never kept in the form.
    ctx.finish(FormPost::new(PASSWORD_FORM, "/profile"), outcome)
        .await
}

#[server(endpoint = "save_preferences")]
pub async fn save_preferences(
    #[server(default)] lang: String,
    #[server(default)] time_zone: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{accounts, session, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let user = ctx.user()?;
        let chosen = Lang::parse(&lang).ok_or(AppError::Refused(Msg::BadRequest.into()))?;
        let zone = time_zone.trim();
        if zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(AppError::field("time_zone", Msg::UnknownTimeZone));
        }
        accounts::set_preferences(&ctx.state.pool, user.id, chosen, zone).await?;
        session::set_lang(&ctx.session, &ctx.visit, chosen).await?;
        Ok(Done::to("/profile").with_notice(Msg::PreferencesSaved.into()))
    }
    .await;
    ctx.finish(
        FormPost::new(PREFERENCES_FORM, "/profile").keep("time_zone", &time_zone),
        outcome,
    )
    .await
}
