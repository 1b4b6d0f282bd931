//! Post-mortems (§8): the list (time left, overdue first), the §8.3 template as one form with
//! the §8.2 questions beside the fields they feed, the open corrective actions, and the
//! Markdown export (served by the server at `/incidents/:id/post-mortem.md`).
use crate::domain::post_mortem::{
    lines, ActionStatus, CorrectiveAction, Participant, PostMortemContent,
};
use crate::i18n::Msg;
use crate::pages::common::TextArea;
use crate::pages::CsrfField;
use crate::records::{
    CorrectiveActionRecord, IncidentSummary, PersonChoice, PostMortemRecord, PostMortemSummary,
};
use crate::viewer::Viewer;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[server(endpoint = "list_post_mortems")]
pub async fn list_post_mortems(page: i64) -> Result<(Vec<PostMortemSummary>, bool), ServerFnError> {
    use crate::backend::{post_mortems, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    post_mortems::list(&ctx.state.pool, page)
        .await
        .map_err(crate::backend::page_error)
}

#[server(endpoint = "list_open_actions")]
pub async fn list_open_actions(
    mine: bool,
    page: i64,
) -> Result<(Vec<CorrectiveActionRecord>, bool), ServerFnError> {
    use crate::backend::{post_mortems, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let user = ctx.user().map_err(crate::backend::page_error)?;
    let owner = mine.then_some(user.id);
    post_mortems::open_actions(&ctx.state.pool, owner, page)
        .await
        .map_err(crate::backend::page_error)
}

/// The `page` of the query string (1 when absent or not a number).
fn page_asked() -> i64 {
    leptos_router::hooks::use_query_map()
        .get_untracked()
        .get("page")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .max(1)
}

#[component]
pub fn PostMortemsPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let page = page_asked();
    let rows = Resource::new(move || page, list_post_mortems);
    view! {
        <h1>{t(Msg::PostMortemsTitle)}</h1>
        <p class="muted">{t(Msg::PostMortemsHelp)}" "<a href="/actions">{t(Msg::ActionsTitle)}</a></p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                crate::pages::common::loaded(rows.await, |(rows, more)| view! {
                    <PostMortemTable rows=rows/>
                    <crate::pages::common::Pager path="/post-mortems" query="" page=page more=more id="post-mortem-pages"/>
                })
            })}
        </Suspense>
    }
}

#[component]
fn PostMortemTable(rows: Vec<PostMortemSummary>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    if rows.is_empty() {
        return view! { <p class="muted">{t(Msg::NoPostMortems)}</p> }.into_any();
    }
    let now = chrono::Utc::now();
    let body = rows
        .into_iter()
        .map(|r| {
            let state = match r.finalized_at {
                Some(_) => view! { <span class="state state-closed">{t(Msg::Finalized)}</span> }.into_any(),
                None => {
                    let minutes = (r.due_at - now).num_minutes();
                    let overdue = minutes < 0;
                    let text = if overdue {
                        Msg::OverdueBy.fill(lang, crate::i18n::duration_text(lang, -minutes))
                    } else {
                        Msg::TimeLeft.fill(lang, crate::i18n::duration_text(lang, minutes))
                    };
                    view! { <span class="deadline" class:overdue=overdue>{text}</span> }.into_any()
                }
            };
            view! {
                <tr id=format!("pm-{}", r.incident_id)>
                    <td><a href=format!("/incidents/{}/post-mortem", r.incident_id)>"#"{r.incident_id}" "{r.title}</a></td>
                    <td>{viewer.datetime(r.due_at)}</td>
                    <td>{state}</td>
                    <td>{(r.missing > 0).then(|| Msg::MissingParticipants.fill(lang, r.missing))}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list">
            <thead><tr><th>{t(Msg::IncidentsTitle)}</th><th>{t(Msg::PmDue)}</th><th>{t(Msg::PmStatus)}</th><th>{t(Msg::Participants)}</th></tr></thead>
            <tbody>{body}</tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn ActionsPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let page = page_asked();
    let rows = Resource::new(move || page, |page| list_open_actions(false, page));
    view! {
        <h1>{viewer.t(Msg::ActionsTitle)}</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                crate::pages::common::loaded(rows.await, |(rows, more)| view! {
                    <ActionsTable rows=rows/>
                    <crate::pages::common::Pager path="/actions" query="" page=page more=more id="action-pages"/>
                })
            })}
        </Suspense>
    }
}

/// Open corrective actions, overdue ones flagged (the actions page and the dashboard).
#[component]
pub fn ActionsTable(rows: Vec<CorrectiveActionRecord>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    if rows.is_empty() {
        return view! { <p class="muted">{t(Msg::NoOpenActions)}</p> }.into_any();
    }
    let today = chrono::Utc::now().with_timezone(&viewer.tz()).date_naive();
    let body = rows
        .into_iter()
        .map(|a| {
            let overdue = a.due_on.is_some_and(|d| d < today);
            view! {
                <tr class:overdue=overdue>
                    <td>{a.action}</td>
                    <td>{a.owner.unwrap_or_default()}</td>
                    <td>
                        {a.due_on.map(|d| viewer.date(d))}
                        {overdue.then(|| view! { " "<span class="deadline overdue">{t(Msg::Overdue)}</span> })}
                    </td>
                    <td>{t(Msg::action_status(a.status))}</td>
                    <td><a href=format!("/incidents/{}/post-mortem", a.incident_id)>"#"{a.incident_id}" "{a.incident_title}</a></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list actions">
            <thead><tr>
                <th>{t(Msg::PmAction)}</th><th>{t(Msg::PmOwner)}</th><th>{t(Msg::PmDue)}</th>
                <th>{t(Msg::PmStatus)}</th><th>{t(Msg::PostMortemTitle)}</th>
            </tr></thead>
            <tbody>{body}</tbody>
        </table>
    }
    .into_any()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostMortemPageData {
    pub incident: IncidentSummary,
    pub post_mortem: Option<PostMortemRecord>,
    pub people: Vec<PersonChoice>,
    pub may_edit: bool,
    /// Only the organizers change who takes part; others see the names, sent back unchanged.
    pub may_choose_participants: bool,
    pub may_finalize: bool,
}

#[server(endpoint = "load_post_mortem_page")]
pub async fn load_post_mortem_page(
    incident: i64,
) -> Result<Option<PostMortemPageData>, ServerFnError> {
    use crate::backend::{incidents, post_mortems, RequestCtx};
    use crate::domain::lifecycle::{check, Action, Facts};
    let ctx = RequestCtx::load().await?;
    let user = ctx.user().map_err(crate::backend::page_error)?;
    let pool = &ctx.state.pool;
    let Some(summary) = incidents::summary(pool, ctx.state.approval_policy, incident)
        .await
        .map_err(crate::backend::page_error)?
    else {
        return Ok(None);
    };
    let post_mortem = post_mortems::load(pool, incident)
        .await
        .map_err(crate::backend::page_error)?;
    let may_edit = post_mortem
        .as_ref()
        .is_some_and(|p| post_mortems::may_edit_record(user, p));
    let may_finalize = post_mortem
        .as_ref()
        .is_some_and(|p| p.finalized_at.is_none())
        && check(summary.state, Action::Close, &user.roles, &Facts::default()).is_ok();
    Ok(Some(PostMortemPageData {
        incident: summary,
        post_mortem,
        people: post_mortems::people(pool)
            .await
            .map_err(crate::backend::page_error)?,
        may_edit,
        may_choose_participants: post_mortems::organizes(user),
        may_finalize,
    }))
}

#[component]
pub fn PostMortemPage() -> impl IntoView {
    crate::pages::incidents::incident_page(load_post_mortem_page, |page| {
        view! { <PostMortemView page=page/> }.into_any()
    })
}

/// Rows of the actions table: those saved, then two empty ones to add more.
const EMPTY_ACTION_ROWS: usize = 2;

#[component]
fn PostMortemView(page: PostMortemPageData) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let id = page.incident.id;
    let header = view! {
        <p><a href=format!("/incidents/{id}")>"← "{t(Msg::BackToIncident)}</a></p>
    };
    let Some(pm) = page.post_mortem else {
        return view! { {header} <h1>{t(Msg::PostMortemTitle)}</h1><p class="muted">{t(Msg::NoPostMortem)}</p> }.into_any();
    };
    let key = format!("post-mortem:{id}");
    let typed = |name: &str| viewer.typed(&key, name);
    let c = pm.content.clone();
    let value = |name: &str, stored: &str| typed(name).unwrap_or_else(|| stored.to_owned());
    let names: HashMap<uuid::Uuid, String> =
        page.people.iter().map(|p| (p.id, p.name.clone())).collect();
    let missing = c.missing();
    let missing_text = if missing.is_empty() {
        t(Msg::AllParticipants).to_owned()
    } else {
        Msg::MissingParticipants.fill(
            lang,
            missing
                .iter()
                .map(|p| t(Msg::participant(*p)))
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    // A refused stale save: what the other person saved, where it differs from the form.
    let conflict = typed("revision")
        .and_then(|r| r.parse::<i32>().ok())
        .filter(|r| *r != pm.revision)
        .map(|_| {
            let fields = [
                (Msg::PmSummary, "summary", c.summary.clone()),
                (Msg::PmChronology, "chronology", c.chronology.clone()),
                (Msg::PmRootCause, "root_cause", c.root_cause.clone()),
                (Msg::PmUsersAffected, "users_affected", c.users_affected.clone()),
                (Msg::PmServices, "services", c.services.clone()),
                (Msg::PmWentWell, "went_well", c.went_well.clone()),
                (Msg::PmToImprove, "to_improve", c.to_improve.clone()),
                (Msg::PmLessons, "lessons", c.lessons.clone()),
            ];
            let differing = fields
                .into_iter()
                .filter(|(_, name, stored)| typed(name).as_deref().map(str::trim) != Some(stored.trim()))
                .map(|(label, _, stored)| view! { <dt>{t(label)}</dt><dd><pre>{stored}</pre></dd> })
                .collect_view();
            view! {
                <section class="card conflict" id="their-version">
                    <h2>{t(Msg::PmTheirVersion)}" — "{Msg::PmRevision.fill(lang, pm.revision)}", "{pm.saved_by.clone().unwrap_or_default()}</h2>
                    <dl>{differing}</dl>
                </section>
            }
        });
    let finalized = pm.finalized_at.map(|at| {
        view! {
            <p class="flash notice" id="finalized">{Msg::PmFinalizedBy.fill(lang, format!("{}, {}", pm.finalized_by.clone().unwrap_or_default(), viewer.datetime(at)))}</p>
        }
    });
    let late = pm.finalized_at.is_none() && chrono::Utc::now() > pm.due_at;
    let info = view! {
        <h1>{Msg::PostMortemOf.fill(lang, viewer.datetime(pm.created_at))}" — #"{id}" "{page.incident.title.clone()}</h1>
        <p>
            <span class="deadline" class:overdue=late>{Msg::DueBy.fill(lang, viewer.datetime(pm.due_at))}</span>
            " · "{Msg::PmRevision.fill(lang, pm.revision)}
            {pm.saved_by.clone().map(|by| format!(", {by} {}", viewer.datetime(pm.saved_at)))}
            " · "<a href=format!("/incidents/{id}/post-mortem.md?lang=fr") id="export-fr">{t(Msg::PmExport)}" (FR)"</a>
            " · "<a href=format!("/incidents/{id}/post-mortem.md?lang=en") id="export-en">{t(Msg::PmExport)}" (EN)"</a>
        </p>
        <p id="missing" class=if missing.is_empty() { "muted" } else { "flash alert" }>{missing_text}</p>
    };
    if !page.may_edit {
        return view! {
            {header}{info}{finalized}
            <section class="card" id="post-mortem-read">
                <ReadOnly content=c names=names/>
            </section>
        }
        .into_any();
    }
    let server = ServerAction::<SavePostMortem>::new();
    let people = page.people.clone();
    // A participant's choice offers only accounts of its roles (and whoever is chosen now).
    let person_select =
        move |name: String, id: String, chosen: Option<uuid::Uuid>, only: Option<Participant>| {
            let chosen = typed(&name)
                .or_else(|| chosen.map(|c| c.to_string()))
                .unwrap_or_default();
            let options = people
                .iter()
                .filter(|p| only.is_none_or(|o| o.admits(&p.roles)) || p.id.to_string() == chosen)
                .map(|p| {
                    let v = p.id.to_string();
                    let selected = v == chosen;
                    view! { <option value=v selected=selected>{p.name.clone()}</option> }
                })
                .collect_view();
            view! {
                <select name=name id=id>
                    <option value="">{t(Msg::PmNobody)}</option>
                    {options}
                </select>
            }
        };
    let choose = page.may_choose_participants;
    let people_names = page.people.clone();
    let participants = Participant::ALL
        .iter()
        .map(|p| {
            let name = format!("participants[{}]", p.as_str());
            let id = format!("participant-{}", p.as_str());
            let chosen = c.participants.get(p.as_str()).copied();
            if choose {
                let error = viewer
                    .field_error(&key, &name)
                    .map(|e| view! { <p class="error">{e}</p> });
                return view! {
                    <div class="field">
                        <label for=id.clone()>{t(Msg::participant(*p))}</label>
                        {person_select(name, id, chosen, Some(*p))}
                        {error}
                    </div>
                }
                .into_any();
            }
            let who = chosen
                .and_then(|c| people_names.iter().find(|p| p.id == c).map(|p| p.name.clone()))
                .unwrap_or_else(|| t(Msg::PmNobody).to_owned());
            view! {
                <div class="field">
                    <span class="label">{t(Msg::participant(*p))}</span>
                    <span id=id>{who}</span>
                    <input type="hidden" name=name value=chosen.map(|c| c.to_string()).unwrap_or_default()/>
                </div>
            }
            .into_any()
        })
        .collect_view();
    let participants_note =
        (!choose).then(|| view! { <p class="muted">{t(Msg::ParticipantsChosenByOrganizers)}</p> });
    let tz = viewer.tz();
    let meeting = value(
        "meeting_at",
        &c.meeting_at
            .map(|m| m.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
    );
    let rows = c.actions.len() + EMPTY_ACTION_ROWS;
    let action_rows = (0..rows)
        .map(|i| {
            let stored = c.actions.get(i);
            let text = value(&format!("action_text[{i}]"), stored.map(|a| a.action.as_str()).unwrap_or(""));
            let due = value(
                &format!("action_due[{i}]"),
                &stored.and_then(|a| a.due_on).map(|d| d.to_string()).unwrap_or_default(),
            );
            let status = typed(&format!("action_status[{i}]"))
                .or_else(|| stored.map(|a| a.status.as_str().to_owned()))
                .unwrap_or_else(|| "to_do".into());
            let statuses = ActionStatus::ALL
                .iter()
                .map(|s| view! { <option value=s.as_str() selected=s.as_str() == status>{t(Msg::action_status(*s))}</option> })
                .collect_view();
            let error = viewer
                .field_error(&key, &format!("action_{i}"))
                .map(|e| view! { <p class="error">{e}</p> });
            view! {
                <tr>
                    // Each input named for screen readers: the column and the row.
                    <td>
                        <label class="visually-hidden" for=format!("action-text-{i}")>{format!("{} {}", t(Msg::PmAction), i + 1)}</label>
                        <input type="text" name=format!("action_text[{i}]") id=format!("action-text-{i}") maxlength="2000" value=text/>{error}
                    </td>
                    <td>
                        <label class="visually-hidden" for=format!("action-owner-{i}")>{format!("{} {}", t(Msg::PmOwner), i + 1)}</label>
                        {person_select(format!("action_owner[{i}]"), format!("action-owner-{i}"), stored.and_then(|a| a.owner), None)}
                    </td>
                    <td>
                        <label class="visually-hidden" for=format!("action-due-{i}")>{format!("{} {}", t(Msg::PmDue), i + 1)}</label>
                        <input type="date" name=format!("action_due[{i}]") id=format!("action-due-{i}") value=due/>
                    </td>
                    <td>
                        <label class="visually-hidden" for=format!("action-status-{i}")>{format!("{} {}", t(Msg::PmStatus), i + 1)}</label>
                        <select name=format!("action_status[{i}]") id=format!("action-status-{i}")>{statuses}</select>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let error = |name: &str| {
        viewer
            .field_error(&key, name)
            .map(|e| view! { <p class="error" id=format!("pm-{name}-error")>{e}</p> })
    };
    let data_loss = typed("data_loss")
        .map(|v| v == "yes")
        .unwrap_or(c.data_loss);
    let duration = value(
        "duration_minutes",
        &c.duration_minutes
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let finalize = page
        .may_finalize
        .then(|| view! { <FinalizeForm incident=id/> });
    let (meeting_error, duration_error) = (error("meeting_at"), error("duration_minutes"));
    let late_reason = value("meeting_late_reason", &c.meeting_late_reason);
    let summary = value("summary", &c.summary);
    let chronology = value("chronology", &c.chronology);
    let root_cause = value("root_cause", &c.root_cause);
    let users_affected = value("users_affected", &c.users_affected);
    let services = value("services", &c.services);
    let went_well = value("went_well", &c.went_well);
    let to_improve = value("to_improve", &c.to_improve);
    let lessons = value("lessons", &c.lessons);
    let revision = pm.revision;
    view! {
        {header}{info}{conflict}
        <ActionForm action=server attr:id="post-mortem-form">
            <CsrfField/>
            <input type="hidden" name="incident_id" value=id/>
            <input type="hidden" name="revision" value=revision/>
            <section class="card">
                <h2>{t(Msg::Participants)}</h2>
                <div class="grid">{participants}</div>
                {participants_note}
                <div class="grid">
                    <div class="field">
                        <label for="pm-meeting">{t(Msg::MeetingAt)}</label>
                        <input type="datetime-local" id="pm-meeting" name="meeting_at" value=meeting/>
                        {meeting_error}
                    </div>
                    <div class="field">
                        <label for="pm-late">{t(Msg::MeetingLateReason)}</label>
                        <input type="text" id="pm-late" name="meeting_late_reason" maxlength="2000" value=late_reason/>
                    </div>
                </div>
            </section>
            <section class="card">
                <div class="field">
                    <label for="pm-summary">{t(Msg::PmSummary)}</label>
                    <p class="muted">{t(Msg::PmSummaryHelp)}</p>
                    <TextArea id="pm-summary".to_owned() name="summary" rows=3 maxlength=20000 value=summary/>
                </div>
                <div class="field">
                    <label for="pm-chronology">{t(Msg::PmChronology)}</label>
                    <p class="muted">{t(Msg::PmChronologyHelp)}</p>
                    <TextArea id="pm-chronology".to_owned() name="chronology" rows=8 maxlength=20000 value=chronology/>
                </div>
                <div class="field">
                    <label for="pm-root-cause">{t(Msg::PmRootCause)}</label>
                    <p class="muted prompt">{t(Msg::PmRootCausePrompt)}</p>
                    <TextArea id="pm-root-cause".to_owned() name="root_cause" rows=5 maxlength=20000 value=root_cause/>
                </div>
                <h3>{t(Msg::PmImpact)}</h3>
                <p class="muted prompt">{t(Msg::PmImpactPrompt)}</p>
                <div class="grid">
                    <div class="field">
                        <label for="pm-users">{t(Msg::PmUsersAffected)}</label>
                        <input type="text" id="pm-users" name="users_affected" maxlength="200" value=users_affected/>
                    </div>
                    <div class="field">
                        <label for="pm-duration">{t(Msg::PmDuration)}</label>
                        <input type="text" inputmode="numeric" id="pm-duration" name="duration_minutes" value=duration/>
                        {duration_error}
                    </div>
                    <div class="field">
                        <label for="pm-data-loss">{t(Msg::PmDataLoss)}</label>
                        <select id="pm-data-loss" name="data_loss">
                            <option value="no" selected=!data_loss>{t(Msg::NoWord)}</option>
                            <option value="yes" selected=data_loss>{t(Msg::YesWord)}</option>
                        </select>
                    </div>
                    <div class="field">
                        <label for="pm-services">{t(Msg::PmServices)}</label>
                        <input type="text" id="pm-services" name="services" maxlength="2000" value=services/>
                    </div>
                </div>
                <p class="muted prompt">{t(Msg::PmRollbackPrompt)}</p>
                <div class="grid">
                    <div class="field">
                        <label for="pm-went-well">{t(Msg::PmWentWell)}</label>
                        <TextArea id="pm-went-well".to_owned() name="went_well" rows=4 maxlength=20000 value=went_well/>
                    </div>
                    <div class="field">
                        <label for="pm-to-improve">{t(Msg::PmToImprove)}</label>
                        <TextArea id="pm-to-improve".to_owned() name="to_improve" rows=4 maxlength=20000 value=to_improve/>
                    </div>
                </div>
            </section>
            <section class="card" id="actions">
                <h2>{t(Msg::PmActions)}</h2>
                <p class="muted prompt">{t(Msg::PmActionsPrompt)}</p>
                <table class="list actions-form">
                    <thead><tr><th>{t(Msg::PmAction)}</th><th>{t(Msg::PmOwner)}</th><th>{t(Msg::PmDue)}</th><th>{t(Msg::PmStatus)}</th></tr></thead>
                    <tbody>{action_rows}</tbody>
                </table>
                <div class="field">
                    <label for="pm-lessons">{t(Msg::PmLessons)}</label>
                    <TextArea id="pm-lessons".to_owned() name="lessons" rows=4 maxlength=20000 value=lessons/>
                </div>
            </section>
            <button type="submit" class="primary" id="pm-save">{t(Msg::PmSave)}</button>
        </ActionForm>
        {finalize}
    }
    .into_any()
}

/// A finalized post-mortem, or one the viewer doesn't edit: readable, not editable.
#[component]
fn ReadOnly(content: PostMortemContent, names: HashMap<uuid::Uuid, String>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let list = |text: &str| {
        lines(text)
            .into_iter()
            .map(|l| view! { <li>{l}</li> })
            .collect_view()
    };
    let name = |id: &Option<uuid::Uuid>| {
        id.and_then(|id| names.get(&id).cloned())
            .unwrap_or_default()
    };
    let participants = Participant::ALL
        .iter()
        .map(|p| {
            let who = name(&content.participants.get(p.as_str()).copied());
            view! { <li>{t(Msg::participant(*p))}" : "{who}</li> }
        })
        .collect_view();
    let actions = content
        .actions
        .iter()
        .map(|a: &CorrectiveAction| {
            view! {
                <tr>
                    <td>{a.action.clone()}</td><td>{name(&a.owner)}</td>
                    <td>{a.due_on.map(|d| viewer.date(d))}</td><td>{t(Msg::action_status(a.status))}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>{t(Msg::Participants)}</h2>
        <ul>{participants}</ul>
        {content.meeting_at.map(|m| view! { <p>{t(Msg::MeetingAt)}" : "{viewer.datetime(m)}</p> })}
        <h2>{t(Msg::PmSummary)}</h2><p class="pre">{content.summary.clone()}</p>
        <h2>{t(Msg::PmChronology)}</h2><ul>{list(&content.chronology)}</ul>
        <h2>{t(Msg::PmRootCause)}</h2><p class="pre">{content.root_cause.clone()}</p>
        <h2>{t(Msg::PmImpact)}</h2>
        <ul>
            <li>{t(Msg::PmUsersAffected)}" : "{content.users_affected.clone()}</li>
            <li>{t(Msg::PmDuration)}" : "{content.duration_minutes.map(|m| crate::i18n::duration_text(lang, m))}</li>
            <li>{t(Msg::PmDataLoss)}" : "{t(if content.data_loss { Msg::YesWord } else { Msg::NoWord })}</li>
            <li>{t(Msg::PmServices)}" : "{content.services.clone()}</li>
        </ul>
        <h2>{t(Msg::PmWentWell)}</h2><ul>{list(&content.went_well)}</ul>
        <h2>{t(Msg::PmToImprove)}</h2><ul>{list(&content.to_improve)}</ul>
        <h2>{t(Msg::PmActions)}</h2>
        <table class="list"><tbody>{actions}</tbody></table>
        <h2>{t(Msg::PmLessons)}</h2><p class="pre">{content.lessons.clone()}</p>
    }
}

#[component]
fn FinalizeForm(incident: i64) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let server = ServerAction::<FinalizePostMortem>::new();
    view! {
        <ActionForm action=server attr:class="finalize">
            <CsrfField/>
            <input type="hidden" name="incident_id" value=incident/>
            <crate::pages::common::ConfirmTick form=format!("post-mortem-finalize:{incident}") id="pm-finalize-confirm".to_owned() label=Msg::ConfirmFinalize/>
            <button type="submit" class="danger" id="pm-finalize">{viewer.t(Msg::PmFinalize)}</button>
        </ActionForm>
    }
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_post_mortem")]
pub async fn save_post_mortem(
    incident_id: i64,
    revision: i32,
    #[server(default)] summary: String,
    #[server(default)] chronology: String,
    #[server(default)] root_cause: String,
    #[server(default)] users_affected: String,
    #[server(default)] duration_minutes: String,
    #[server(default)] data_loss: String,
    #[server(default)] services: String,
    #[server(default)] went_well: String,
    #[server(default)] to_improve: String,
    #[server(default)] lessons: String,
    #[server(default)] meeting_at: String,
    #[server(default)] meeting_late_reason: String,
    #[server(default)] participants: Option<HashMap<String, String>>,
    #[server(default)] action_text: Option<HashMap<String, String>>,
    #[server(default)] action_owner: Option<HashMap<String, String>>,
    #[server(default)] action_due: Option<HashMap<String, String>>,
    #[server(default)] action_status: Option<HashMap<String, String>>,
) -> Result<(), ServerFnError> {
    use crate::backend::error::FieldErrors;
    use crate::backend::{post_mortems, AppError, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/post-mortem");
    let (participants, action_text, action_owner, action_due, action_status) = (
        participants.unwrap_or_default(),
        action_text.unwrap_or_default(),
        action_owner.unwrap_or_default(),
        action_due.unwrap_or_default(),
        action_status.unwrap_or_default(),
    );
    let mut post = FormPost::new(format!("post-mortem:{incident_id}"), back.clone())
        .keep("revision", &revision.to_string())
        .keep("summary", &summary)
        .keep("chronology", &chronology)
        .keep("root_cause", &root_cause)
        .keep("users_affected", &users_affected)
        .keep("duration_minutes", &duration_minutes)
        .keep("data_loss", &data_loss)
        .keep("services", &services)
        .keep("went_well", &went_well)
        .keep("to_improve", &to_improve)
        .keep("lessons", &lessons)
        .keep("meeting_at", &meeting_at)
        .keep("meeting_late_reason", &meeting_late_reason);
    for (map, name) in [
        (&participants, "participants"),
        (&action_text, "action_text"),
        (&action_owner, "action_owner"),
        (&action_due, "action_due"),
        (&action_status, "action_status"),
    ] {
        for (k, v) in map {
            post = post.keep(&format!("{name}[{k}]"), v);
        }
    }
    let outcome = async {
        let user = ctx.user()?;
        let mut errors = FieldErrors::default();
        let person = |v: &str| -> Option<Option<uuid::Uuid>> {
            if v.trim().is_empty() {
                Some(None)
            } else {
                uuid::Uuid::parse_str(v.trim()).ok().map(Some)
            }
        };
        let duration_minutes = if duration_minutes.trim().is_empty() {
            None
        } else {
            errors.check(
                "duration_minutes",
                duration_minutes.trim().parse::<i64>().ok().filter(|m| *m >= 0),
                Msg::BadMinutes,
            )
        };
        let tz = ctx.viewer.tz();
        let meeting_at = if meeting_at.trim().is_empty() {
            None
        } else {
            let parsed = crate::domain::typed::parse_local_datetime(&meeting_at)
                .and_then(|n| n.and_local_timezone(tz).earliest())
                .map(|d| d.with_timezone(&chrono::Utc));
            errors.check("meeting_at", parsed, Msg::BadDateTime)
        };
        let mut chosen = std::collections::BTreeMap::new();
        for p in Participant::ALL {
            let v = participants.get(p.as_str()).map(String::as_str).unwrap_or("");
            match person(v) {
                Some(Some(id)) => {
                    chosen.insert(p.as_str().to_owned(), id);
                }
                Some(None) => {}
                None => return Err(AppError::Refused(Msg::UnknownPerson.into())),
            }
        }
        let mut indexes: Vec<usize> = action_text
            .keys()
            .chain(action_owner.keys())
            .chain(action_due.keys())
            .filter_map(|k| k.parse().ok())
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        let mut actions = Vec::new();
        for i in indexes {
            let key = i.to_string();
            let text = action_text.get(&key).map(|s| s.trim()).unwrap_or("");
            let owner = action_owner.get(&key).map(String::as_str).unwrap_or("");
            let due = action_due.get(&key).map(|s| s.trim()).unwrap_or("");
            if text.is_empty() && owner.is_empty() && due.is_empty() {
                continue;
            }
            let field = format!("action_{i}");
            let Some(text) = errors.check(&field, Some(text).filter(|t| !t.is_empty()), Msg::ActionTextMissing) else {
                continue;
            };
            let Some(owner) = person(owner) else {
                return Err(AppError::Refused(Msg::UnknownPerson.into()));
            };
            let due_on = if due.is_empty() {
                None
            } else {
                errors.check(&field, crate::domain::typed::parse_date(due), Msg::BadDate)
            };
            let status = action_status
                .get(&key)
                .and_then(|s| ActionStatus::parse(s))
                .unwrap_or(ActionStatus::ToDo);
            actions.push(CorrectiveAction {
                action: text.chars().take(2000).collect(),
                owner,
                due_on,
                status,
            });
        }
        errors.into_result()?;
        let content = PostMortemContent {
            summary: summary.trim().to_owned(),
            chronology: chronology.trim().to_owned(),
            root_cause: root_cause.trim().to_owned(),
            users_affected: users_affected.trim().chars().take(200).collect(),
            duration_minutes,
            data_loss: data_loss == "yes",
            services: services.trim().chars().take(2000).collect(),
            went_well: went_well.trim().to_owned(),
            to_improve: to_improve.trim().to_owned(),
            lessons: lessons.trim().to_owned(),
            participants: chosen,
            meeting_at,
            meeting_late_reason: meeting_late_reason.trim().chars().take(2000).collect(),
            actions,
        };
        for text in [&content.summary, &content.chronology, &content.root_cause, &content.went_well, &content.to_improve, &content.lessons] {
            if text.chars().count() > 20_000 {
                return Err(AppError::Refused(Msg::TextTooLong.into()));
            }
        }
        let saved = post_mortems::save(&ctx.state.pool, user, incident_id, revision, &content, chrono::Utc::now()).await?;
        tracing::info!(incident = incident_id, user = %user.id, revision = saved, "post-mortem saved");
        Ok(Done::to(back.clone()).with_notice(Msg::PmSaved.into()))
    }
    .await;
    ctx.finish(post, outcome).await
}

#[server(endpoint = "finalize_post_mortem")]
pub async fn finalize_post_mortem(
    incident_id: i64,
    #[server(default)] confirm: String,
) -> Result<(), ServerFnError> {
    use crate::backend::{post_mortems, Done, FormPost, RequestCtx};
    let ctx = RequestCtx::load().await?;
    let back = format!("/incidents/{incident_id}/post-mortem");
    let outcome = async {
        let user = ctx.user()?;
        crate::backend::form::require_confirmation(&confirm)?;
        post_mortems::finalize(&ctx.state.pool, user, incident_id, chrono::Utc::now()).await?;
        tracing::info!(incident = incident_id, user = %user.id, "post-mortem finalized");
        Ok(Done::to(back.clone()).with_notice(Msg::PmFinalized.into()))
    }
    .await;
    ctx.finish(
        FormPost::new(format!("post-mortem-finalize:{incident_id}"), back.clone()),
        outcome,
    )
    .await
}
