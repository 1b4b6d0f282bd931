//! Pieces every page shares: the header with navigation, the language switch and sign-out,
//! the flash banner, and the form token.
use crate::i18n::{Lang, Msg};
use crate::viewer::Viewer;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The hidden field that carries the session's form token (checked by the server on every
/// post).
#[component]
pub fn CsrfField() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    view! { <input type="hidden" name="_csrf" value=viewer.csrf_token/> }
}

/// The hidden one-time token of a form whose repeat would do the work twice (a fresh one at
/// each rendering; `backend::submissions`).
#[component]
pub fn OnceField() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let token = crate::backend::submissions::new_token();
    #[cfg(not(feature = "ssr"))]
    let token = String::new();
    view! { <input type="hidden" name="once" value=token/> }
}

/// The tick that confirms an action which can't be undone, for forms that work with
/// JavaScript off: the server refuses the post without it
/// (`backend::form::require_confirmation`), the message shown next to it.
#[component]
pub fn ConfirmTick(form: String, id: String, label: Msg) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let error = viewer
        .field_error(&form, "confirm")
        .map(|e| view! { <p class="error" id=format!("{id}-error")>{e}</p> });
    view! {
        <div class="field check confirm">
            <input type="checkbox" id=id.clone() name="confirm" value="yes" required=true/>
            <label for=id>{viewer.t(label)}</label>
            {error}
        </div>
    }
}

/// Sets the HTTP status of the page being rendered (403, 404 …).
pub fn set_status(status: http::StatusCode) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

/// A page that only says no (with its HTTP status): no role, no such thing.
#[component]
pub fn Refusal(msg: Msg, status: http::StatusCode) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    set_status(status);
    view! { <p class="flash alert" role="alert">{viewer.t(msg)}</p> }
}

/// A page load that failed: what the user may do, and for a fault the reference that is in
/// the server's log. Never the internal error's text (see `backend::error`).
#[component]
pub fn LoadFailed(error: ServerFnError) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let public = crate::records::PublicError::of(&error);
    if let Ok(status) = http::StatusCode::from_u16(public.status) {
        set_status(status);
    }
    view! {
        <p class="flash alert" role="alert" id="load-failed">{public.message.render(viewer.lang)}</p>
    }
}

/// Renders a loaded value, or says why it could not be loaded.
pub fn loaded<T, V: IntoView + 'static>(
    result: Result<T, ServerFnError>,
    render: impl FnOnce(T) -> V,
) -> AnyView {
    match result {
        Ok(value) => render(value).into_any(),
        Err(error) => view! { <LoadFailed error=error/> }.into_any(),
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A `<textarea>` holding `value`. Leptos' server renderer writes a textarea's text unescaped,
/// so a typed `</textarea><script>` would break out of it: the value is escaped here instead.
#[component]
pub fn TextArea(
    id: String,
    name: &'static str,
    #[prop(default = 3)] rows: u32,
    #[prop(optional)] maxlength: Option<u32>,
    #[prop(optional)] required: bool,
    #[prop(optional)] describedby: Option<String>,
    #[prop(into)] value: String,
) -> impl IntoView {
    view! {
        <textarea
            id=id
            name=name
            rows=rows
            maxlength=maxlength
            required=required
            aria-describedby=describedby
            inner_html=escape_html(&value)
        ></textarea>
    }
}

/// A path of this site to go back to after a form; anything else (another site, `//host`)
/// becomes `/`, so that a form can't be turned into an open redirect.
#[cfg(any(feature = "ssr", test))]
pub fn local_path(candidate: &str) -> String {
    let ok = candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.contains('\\')
        && !candidate.chars().any(char::is_control);
    if ok {
        candidate.to_owned()
    } else {
        "/".to_owned()
    }
}

#[component]
pub fn Header() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let location = use_location();
    let here = location.pathname.get_untracked();
    let back = {
        let query = location.search.get_untracked();
        if query.is_empty() {
            here.clone()
        } else {
            format!("{here}?{query}")
        }
    };
    let set_language = ServerAction::<SetLanguage>::new();
    let sign_out = ServerAction::<SignOut>::new();

    let nav = viewer.user.clone().map(|user| {
        let mut links = vec![
            ("/", Msg::NavDashboard),
            ("/incidents", Msg::NavIncidents),
            ("/history", Msg::NavHistory),
            ("/post-mortems", Msg::NavPostMortems),
            ("/contacts", Msg::NavContacts),
        ];
        if user.roles.contains(crate::domain::Role::Admin) {
            links.push(("/admin/users", Msg::NavAdmin));
        }
        let items = links
            .into_iter()
            .map(|(href, msg)| {
                let current = if href == "/" {
                    here == "/"
                } else {
                    here.starts_with(href)
                };
                view! {
                    <li>
                        <a href=href aria-current=current.then_some("page")>{t(msg)}</a>
                    </li>
                }
            })
            .collect_view();
        let roles = user
            .roles
            .iter()
            .map(|r| t(Msg::role(r)))
            .collect::<Vec<_>>()
            .join(", ");
        view! {
            <nav aria-label=t(Msg::MainNavigation)>
                <ul>{items}</ul>
            </nav>
            <div class="who">
                <span class="who-label">{t(Msg::SignedInAs)}" "</span>
                <a href="/profile" class="who-name" id="my-account"><strong>{user.name}</strong></a>
                <span class="who-roles">{roles}</span>
                <ActionForm action=sign_out>
                    <CsrfField/>
                    <button type="submit" class="link">{t(Msg::SignOut)}</button>
                </ActionForm>
            </div>
        }
    });

    let other = match lang {
        Lang::Fr => Lang::En,
        Lang::En => Lang::Fr,
    };
    view! {
        <header class="top">
            <a class="brand" href="/">{t(Msg::AppName)}</a>
            {nav}
            <ActionForm action=set_language>
                <CsrfField/>
                <input type="hidden" name="back" value=back/>
                <input type="hidden" name="lang" value=other.code()/>
                <button
                    type="submit"
                    class="lang"
                    lang=other.code()
                    title=t(Msg::Language)
                    data-testid="switch-language"
                >
                    {match other {
                        Lang::Fr => "Français",
                        Lang::En => "English",
                    }}
                </button>
            </ActionForm>
        </header>
    }
}

/// The notice or alert left by the previous form post.
#[component]
pub fn FlashBanner() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    // A message for a section of the page is shown there (FlashHere), not at the top.
    let flash = viewer
        .flash
        .clone()
        .filter(|f| f.anchor.is_none())
        .unwrap_or_default();
    let notice = flash.notice.map(|n| {
        view! { <p class="flash notice" role="status">{viewer.render(&n)}</p> }
    });
    let alert = flash.alert.map(|a| {
        view! { <p class="flash alert" role="alert">{viewer.render(&a)}</p> }
    });
    // A server function that failed before it could answer (malformed post) comes back here
    // with `__err` in the query: say so instead of showing nothing.
    let failed =
        use_location().query.get_untracked().get("__err").map(
            |_| view! { <p class="flash alert" role="alert">{viewer.t(Msg::InternalError)}</p> },
        );
    view! { {notice} {alert} {failed} }
}

/// The message of a post made from the section `anchor`, shown in that section (where the
/// browser lands after the redirect) instead of at the top of a long page.
#[component]
pub fn FlashHere(#[prop(into)] anchor: String) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let flash = viewer
        .flash
        .clone()
        .filter(|f| f.anchor.as_deref() == Some(anchor.as_str()))
        .unwrap_or_default();
    let notice = flash.notice.map(|n| {
        view! { <p class="flash notice" role="status">{viewer.render(&n)}</p> }
    });
    let alert = flash.alert.map(|a| {
        view! { <p class="flash alert" role="alert">{viewer.render(&a)}</p> }
    });
    view! { {notice} {alert} }
}

/// Previous / next links of a paged list: `path?query&page=N`, the filters kept.
#[component]
pub fn Pager(
    path: &'static str,
    #[prop(into)] query: String,
    page: i64,
    more: bool,
    id: &'static str,
) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let link = move |n: i64| {
        if query.is_empty() {
            format!("{path}?page={n}")
        } else {
            format!("{path}?{query}&page={n}")
        }
    };
    (page > 1 || more).then(|| {
        view! {
            <nav class="pager" id=id aria-label=viewer.t(Msg::PagesLabel)>
                {(page > 1).then(|| view! { <a rel="prev" class="pager-prev" href=link(page - 1)>{viewer.t(Msg::PreviousPage)}</a> })}
                <span class="muted">{Msg::PageOf.fill(viewer.lang, page)}</span>
                {more.then(|| view! { <a rel="next" class="pager-next" href=link(page + 1)>{viewer.t(Msg::NextPage)}</a> })}
            </nav>
        }
    })
}

#[server(endpoint = "set_language")]
pub async fn set_language(lang: String, back: String) -> Result<(), ServerFnError> {
    use crate::backend::{accounts, session, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = local_path(&back);
    let outcome = async {
        let lang = Lang::parse(&lang).ok_or(AppError::Refused(Msg::InternalError.into()))?;
        session::set_lang(&ctx.session, &ctx.visit, lang).await?;
        if let Some(user) = &ctx.viewer.user {
            accounts::set_language(&ctx.state.pool, user.id, lang).await?;
        }
        Ok(Done::to(back.clone()))
    }
    .await;
    ctx.finish(FormPost::new("language", back.clone()), outcome)
        .await
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    use crate::backend::{session, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let lang = ctx.viewer.lang;
    let outcome = async {
        session::end(&ctx.session).await?;
        // The signed-out visitor keeps their language on the sign-in page.
        session::set_lang(&ctx.session, &ctx.visit, lang).await?;
        Ok(Done::to("/login").with_notice(Msg::SignedOut.into()))
    }
    .await;
    ctx.finish(FormPost::new("sign_out", "/"), outcome).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_is_escaped() {
        assert_eq!(
            super::escape_html(r#"</textarea><script>"x" & 'y'"#),
            "&lt;/textarea&gt;&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(super::local_path("/incidents?x=1"), "/incidents?x=1");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil",
            "",
            "javascript:x",
        ] {
            assert_eq!(super::local_path(bad), "/", "{bad}");
        }
    }
}
