//! Every page and server-function request passes here once: the session's user is loaded (a
//! deactivated user's session ends at once), anonymous visitors are sent to sign in, form
//! posts are checked against cross-site forgery, and the resulting [`Viewer`] is handed on.
use app::backend::{accounts, session, AppError, AppState};
use app::i18n::{Lang, Msg};
use app::viewer::{Flash, Viewer};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

/// The largest form body the gate reads to find the token.
const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;
/// The largest multipart body: the largest upload and its form's other fields.
const MAX_MULTIPART_BYTES: usize = crate::web::recipients::MAX_UPLOAD_BYTES + 64 * 1024;

#[derive(Clone)]
pub struct GateState {
    pub app: AppState,
    /// `scheme://host[:port]` users reach the app at, when configured (for the Origin check
    /// behind a proxy that rewrites Host).
    pub public_origin: Option<String>,
    /// Signs anonymous visitors' cookies.
    pub visit_key: session::VisitKey,
    /// Cookies the gate sets are `Secure` (https).
    pub secure_cookies: bool,
}

/// Paths open without signing in.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/api/sign_in" | "/api/set_language")
}

pub async fn gate(
    State(gate): State<GateState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    match pass(&gate, &session, req, next).await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "request gate failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

async fn pass(
    gate: &GateState,
    session: &Session,
    mut req: Request,
    next: Next,
) -> Result<Response, AppError> {
    let path = req.uri().path().to_owned();
    let is_post = req.method() == Method::POST;

    let mut user = None;
    let mut ended = false;
    if let Some(id) = session::user_id(session).await? {
        match accounts::find(&gate.app.pool, id).await? {
            Some(account) if account.active => {
                session::renew(session, chrono::Utc::now()).await?;
                user = Some(account);
            }
            _ => {
                tracing::info!(user = %id, "session of a deactivated or deleted account ended");
                session::end(session).await?;
                ended = true;
            }
        }
    }
    // Anonymous visitors carry their state in a signed cookie: nothing is stored for them.
    let sent_visit = visit_cookie(req.headers());
    let opened = sent_visit.as_deref().and_then(|c| gate.visit_key.open(c));
    let visit = if user.is_some() {
        session::VisitCookie::quiet(opened)
    } else {
        session::VisitCookie::new(opened)
    };
    let lang = match user.as_ref() {
        Some(u) => session::lang(session).await?.unwrap_or(u.language),
        None => visit.get().lang.unwrap_or_default(),
    };
    req.extensions_mut().insert(visit.clone());
    if is_post {
        let token = match user {
            Some(_) => session::existing_csrf_token(session).await?,
            None => Some(visit.get().csrf),
        };
        let (checked, genuine) = check_forgery(gate, token.as_deref(), req).await;
        if !genuine {
            // From this site's own page, most often a session that expired (or was renewed by
            // a sign-in in another tab) while someone typed: nothing is done, and the text is
            // given back rather than refused bare.
            if let Some(stale) = stale_post(gate, &path, checked).await {
                let response = match user {
                    None => keep_for_sign_in(gate, &visit, &path, stale).await?,
                    Some(_) => {
                        session::set_flash(
                            session,
                            &visit,
                            Flash {
                                alert: Some(Msg::FormStaleTextKept.into()),
                                form: Some(stale.form),
                                values: stale.fields,
                                ..Flash::default()
                            },
                        )
                        .await?;
                        Redirect::to(&stale.back).into_response()
                    }
                };
                return finish_visit(gate, session, &visit, sent_visit.is_some(), response).await;
            }
            tracing::warn!(%path, "form post refused: cross-site or without a valid token");
            return Ok(forgery_refused(lang));
        }
        req = checked;
        if req.extensions().get::<TooLarge>().is_some() {
            let headers = req.headers().clone();
            let refused = refused_input(session, &visit, &headers, Msg::FormTooLarge.into()).await;
            return finish_visit(gate, session, &visit, sent_visit.is_some(), refused?).await;
        }
        if let Some(field) = req
            .extensions()
            .get::<ControlCharacters>()
            .map(|c| c.0.clone())
        {
            // NUL and control characters are never typed: refused for every form at once.
            let headers = req.headers().clone();
            let text = app::i18n::Text::with(Msg::ControlCharacters, field);
            let refused = refused_input(session, &visit, &headers, text).await;
            return finish_visit(gate, session, &visit, sent_visit.is_some(), refused?).await;
        }
    }

    if user.is_none() && !is_public(&path) {
        if ended {
            session::set_flash(
                session,
                &visit,
                Flash {
                    alert: Some(Msg::SessionEnded.into()),
                    ..Flash::default()
                },
            )
            .await?;
        }
        let target = if is_post || path == "/" {
            "/login".to_owned()
        } else {
            let wanted = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let wanted: String = form_urlencoded::byte_serialize(wanted.as_bytes()).collect();
            format!("/login?next={wanted}")
        };
        let response = Redirect::to(&target).into_response();
        return finish_visit(gate, session, &visit, sent_visit.is_some(), response).await;
    }
    if user.is_some() && path == "/login" && !is_post {
        return Ok(Redirect::to("/").into_response());
    }

    let flash = if is_post || path.starts_with("/api/") {
        None
    } else if user.is_some() {
        session::take_flash(session).await?
    } else {
        let flash = visit.get().flash;
        if flash.is_some() {
            visit.update(|v| v.flash = None);
        }
        flash
    };
    let time_zone = user
        .as_ref()
        .map(|u| u.time_zone.clone())
        .unwrap_or_else(|| app::viewer::DEFAULT_TIME_ZONE.to_owned());
    let viewer = Viewer {
        time_zone,
        csrf_token: match user {
            Some(_) => session::csrf_token(session).await?,
            None => visit.get().csrf,
        },
        user: user.map(|u| u.signed_in()),
        lang,
        flash,
    };
    req.extensions_mut().insert(viewer);
    let mut response = next.run(req).await;
    // Pages hold per-user data and form tokens: never cache them.
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-store"));
    finish_visit(gate, session, &visit, sent_visit.is_some(), response).await
}

/// The visitor's cookie as sent.
fn visit_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == session::VISIT_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Sends the visitor's cookie back when it changed, and drops it once signed in.
async fn finish_visit(
    gate: &GateState,
    session: &Session,
    visit: &session::VisitCookie,
    was_sent: bool,
    mut response: Response,
) -> Result<Response, AppError> {
    let secure = if gate.secure_cookies { "; Secure" } else { "" };
    let cookie = match visit.changed() {
        Some(mut changed) => {
            let mut sealed = gate.visit_key.seal(&changed);
            // A cookie holds 4 KB: what was typed goes first, then the field messages.
            if sealed.len() > 3500 {
                if let Some(flash) = changed.flash.as_mut() {
                    flash.values.clear();
                    flash.errors.clear();
                }
                sealed = gate.visit_key.seal(&changed);
            }
            Some(format!(
                "{}={sealed}; Path=/; HttpOnly; SameSite=Lax{secure}",
                session::VISIT_COOKIE
            ))
        }
        None if was_sent && session::user_id(session).await?.is_some() => Some(format!(
            "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}",
            session::VISIT_COOKIE
        )),
        None => None,
    };
    if let Some(value) = cookie.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Whether a post is genuine: sent from this site (Sec-Fetch-Site / Origin) and carrying the
/// session's token (form field `_csrf`, or header `X-CSRF-Token`). Gives the request back with
/// its body restored.
async fn check_forgery(gate: &GateState, token: Option<&str>, req: Request) -> (Request, bool) {
    if !same_origin(gate, req.headers()) {
        return (req, false);
    }
    let Some(expected) = token else {
        return (req, false);
    };
    if let Some(sent) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        let ok = bool::from(sent.as_bytes().ct_eq(expected.as_bytes()));
        return (req, ok);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // A file upload (multipart) carries the token as its first field, before the file (never
    // in the URL, where logs and the Referer would keep it).
    if content_type.starts_with("multipart/form-data") {
        let Ok(boundary) = multer::parse_boundary(content_type) else {
            return (req, false);
        };
        let (parts, body) = req.into_parts();
        let Some(bytes) = read_form(body, MAX_MULTIPART_BYTES).await else {
            let mut req = Request::from_parts(parts, Body::empty());
            req.extensions_mut().insert(TooLarge);
            return (req, true);
        };
        let ok = first_field_is_token(bytes.clone(), boundary, expected).await;
        return (Request::from_parts(parts, Body::from(bytes)), ok);
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return (req, false);
    }
    let (parts, body) = req.into_parts();
    let Some(bytes) = read_form(body, MAX_FORM_BYTES).await else {
        // Too large: refused as a whole. The rest was read, so the client gets the answer.
        let mut req = Request::from_parts(parts, Body::empty());
        req.extensions_mut().insert(TooLarge);
        return (req, true);
    };
    let ok = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == "_csrf")
        .is_some_and(|(_, sent)| bool::from(sent.as_bytes().ct_eq(expected.as_bytes())));
    let dirty = form_urlencoded::parse(&bytes)
        .find(|(name, value)| name != "password" && !app::domain::typed::is_clean_text(value))
        .map(|(name, _)| name.into_owned());
    let mut req = Request::from_parts(parts, Body::from(bytes));
    if let Some(field) = dirty {
        req.extensions_mut().insert(ControlCharacters(field));
    }
    (req, ok)
}

/// Whether a multipart body's first field is `_csrf` holding `expected`.
async fn first_field_is_token(bytes: axum::body::Bytes, boundary: String, expected: &str) -> bool {
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    let Ok(Some(field)) = form.next_field().await else {
        return false;
    };
    if field.name() != Some("_csrf") {
        return false;
    }
    field
        .text()
        .await
        .is_ok_and(|sent| bool::from(sent.as_bytes().ct_eq(expected.as_bytes())))
}

/// Reads a form body of at most `limit` bytes; a larger one is read on (up to 64 MiB) and
/// dropped, so that its sender is not cut off mid-upload and gets the refusal. `None`: too
/// large.
async fn read_form(body: Body, limit: usize) -> Option<axum::body::Bytes> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { return None };
        seen += chunk.len();
        if seen > 64 * 1024 * 1024 {
            return None;
        }
        if seen <= limit {
            kept.extend_from_slice(&chunk);
        }
    }
    (seen <= limit).then(|| kept.into())
}

/// A form body over [`MAX_FORM_BYTES`].
#[derive(Clone)]
struct TooLarge;

/// A posted field holding NUL or another control character (its name).
#[derive(Clone)]
struct ControlCharacters(String);

/// A post refused for what it holds: a browser goes back to its page with the message, a script gets 400.
async fn refused_input(
    session: &Session,
    visit: &session::VisitCookie,
    headers: &HeaderMap,
    text: app::i18n::Text,
) -> Result<Response, AppError> {
    let from_browser = crate::web::api_errors::accepts_html(headers);
    if !from_browser {
        let public = app::records::PublicError {
            status: 400,
            message: text,
            fields: Default::default(),
            reference: None,
        };
        return Ok((
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_vec(&public).unwrap_or_default(),
        )
            .into_response());
    }
    session::set_flash(
        session,
        visit,
        Flash {
            alert: Some(text),
            ..Flash::default()
        },
    )
    .await?;
    let back = crate::web::api_errors::back_to(headers);
    Ok(Redirect::to(&back).into_response())
}

/// A post comes from this site: the browser says so (`Sec-Fetch-Site`), and its `Origin`, when
/// sent, is this server's, scheme included (`http://host` is another origin than
/// `https://host`): `public_url`'s origin, or the Host served over the scheme the app is
/// reached by (`public_url`'s, else plain http).
fn same_origin(gate: &GateState, headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    match header("origin") {
        None => true,
        Some(origin) => {
            let scheme = gate
                .public_origin
                .as_deref()
                .and_then(|o| o.split_once("://"))
                .map_or("http", |(scheme, _)| scheme);
            let host_matches = header("host")
                .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")));
            host_matches || gate.public_origin.as_deref() == Some(origin)
        }
    }
}

/// A post from this site's own page that no session's token matches: what it carried.
struct StalePost {
    /// The page it came from (a local path).
    back: String,
    /// The form's key on that page (one whose text is given back).
    form: String,
    fields: std::collections::BTreeMap<String, String>,
}

/// The post as a [`StalePost`], when a browser sent it from this site; `None` otherwise (a
/// script's post without an origin, another site's, a file upload).
async fn stale_post(gate: &GateState, path: &str, req: Request) -> Option<StalePost> {
    let headers = req.headers().clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let origin = header("origin")?;
    let urlencoded = header(header::CONTENT_TYPE.as_str())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !same_origin(gate, &headers) || !urlencoded {
        return None;
    }
    let bytes = read_form(req.into_body(), MAX_FORM_BYTES).await?;
    // A page opened in an earlier session carries that session's token; a post with none is
    // no such page (refused as a forgery).
    form_urlencoded::parse(&bytes).find(|(name, value)| name == "_csrf" && !value.is_empty())?;
    // Tokens and passwords are never kept; the rest is what the person typed or chose.
    let fields: std::collections::BTreeMap<String, String> = form_urlencoded::parse(&bytes)
        .filter(|(name, _)| !name.starts_with('_') && !name.contains("password"))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let back = header("referer")
        .and_then(|r| r.strip_prefix(origin))
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && p.len() <= 2000)
        .map(|p| p.split('#').next().unwrap_or(p).to_owned())
        .unwrap_or_else(|| "/".to_owned());
    // Only forms whose text is worth giving back; any other stale post is refused as before.
    let form = app::pages::restorable_form(path, &fields)?;
    Some(StalePost { back, form, fields })
}

/// A signed-out visitor's stale post: kept for their next sign-in, then they are sent to sign
/// in and, once signed in, back to the page with it.
async fn keep_for_sign_in(
    gate: &GateState,
    visit: &session::VisitCookie,
    path: &str,
    stale: StalePost,
) -> Result<Response, AppError> {
    let kept = if stale.back == "/login" {
        None
    } else {
        let previous = visit.get().pending;
        app::backend::pending_posts::keep(
            &gate.app.pool,
            previous,
            &stale.back,
            &stale.form,
            &stale.fields,
        )
        .await?
    };
    visit.update(|v| {
        v.pending = kept;
        v.flash = Some(Flash {
            alert: Some(
                if kept.is_some() {
                    Msg::SessionExpiredTextKept
                } else {
                    Msg::SessionExpiredPostAgain
                }
                .into(),
            ),
            ..Flash::default()
        });
    });
    tracing::info!(%path, kept = kept.is_some(), "form posted after the session ended: sign-in asked");
    let next: String = form_urlencoded::byte_serialize(stale.back.as_bytes()).collect();
    Ok(Redirect::to(&format!("/login?next={next}")).into_response())
}

fn forgery_refused(lang: Lang) -> Response {
    let title = Msg::FormRejected.text(lang);
    let back = Msg::BackToDashboard.text(lang);
    let html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"/style/main.css\"><title>Rollback Desk</title></head>\
         <body><main id=\"main\"><p class=\"flash alert\" role=\"alert\">{title}</p>\
         <p><a href=\"/\">{back}</a></p></main></body></html>",
        lang.code()
    );
    (StatusCode::FORBIDDEN, Html(html)).into_response()
}
