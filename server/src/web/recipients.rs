//! Uploading a recipient list (CSV) for an incident's email, as a plain multipart form (it
//! works without JavaScript; its first field is the CSRF token, checked by the gate). The list is checked once and kept; the compose page then offers it to the send.
use app::backend::AppState;
use app::domain::email::RecipientList;
use app::i18n::Msg;
use app::viewer::{Flash, Viewer};
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use std::collections::HashMap;
use tower_sessions::Session;

/// The largest file accepted.
pub const MAX_UPLOAD_BYTES: usize = 8 * 1024 * 1024;

pub async fn upload(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    session: Session,
    Path(incident): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
    mut form: Multipart,
) -> Response {
    let template = query
        .get("template")
        .cloned()
        .unwrap_or_else(|| "users".into());
    let lang = query.get("lang").cloned().unwrap_or_else(|| "fr".into());
    let back = format!(
        "/incidents/{incident}/emails?template={}&lang={}",
        urlencode(&template),
        urlencode(&lang)
    );
    let Some(user) = viewer.user.as_ref() else {
        return Redirect::to("/login").into_response();
    };
    if !user.roles.may_decide_rollback() {
        return refuse(&session, &back, Msg::OnlyDecidersMaySend).await;
    }
    let mut file_name = String::new();
    let mut bytes = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                file_name = field.file_name().unwrap_or("").chars().take(200).collect();
                match field.bytes().await {
                    Ok(b) => bytes = b.to_vec(),
                    Err(_) => return refuse(&session, &back, Msg::UploadTooLarge).await,
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return refuse(&session, &back, Msg::UploadTooLarge).await,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let list = RecipientList::parse(&text);
    if list.valid.is_empty() {
        return refuse(&session, &back, Msg::UploadHasNoAddress).await;
    }
    let bad: Vec<(usize, String)> = list.bad.iter().take(1000).cloned().collect();
    let saved: Result<i64, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO recipient_lists (incident_id, file_name, addresses, bad_lines, bad_count,
                                      duplicates, truncated, uploaded_by)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = $1)
         RETURNING id",
    )
    .bind(incident)
    .bind(&file_name)
    .bind(&list.valid)
    .bind(serde_json::json!(bad))
    .bind(list.bad.len() as i32)
    .bind(list.duplicates as i32)
    .bind(list.truncated)
    .bind(user.id)
    .fetch_one(&state.pool)
    .await;
    match saved {
        Ok(id) => {
            tracing::info!(
                incident,
                list = id,
                addresses = list.valid.len(),
                "recipient list uploaded"
            );
            Redirect::to(&format!("{back}&list={id}")).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "recipient list upload");
            refuse(&session, &back, Msg::UnknownIncident).await
        }
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Back to the compose page with the reason shown.
async fn refuse(session: &Session, back: &str, msg: Msg) -> Response {
    let flash = Flash {
        alert: Some(msg.into()),
        ..Flash::default()
    };
    // Only signed-in deciders reach here: the flash goes in their session.
    let visit = app::backend::session::VisitCookie::default();
    let _ = app::backend::session::set_flash(session, &visit, flash).await;
    Redirect::to(back).into_response()
}
