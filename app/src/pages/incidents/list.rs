//! The incident list, with filters and paging (a GET form: filters are bookmarkable).
use super::{DeadlineBadge, StateBadge};
use crate::domain::{IncidentState, Severity};
use crate::i18n::Msg;
use crate::records::{EnvironmentOption, IncidentSummary};
use crate::viewer::Viewer;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentQuery {
    pub state: Option<String>,
    pub severity: Option<String>,
    pub environment: Option<String>,
    pub open: Option<String>,
    pub overdue: Option<String>,
    pub page: Option<String>,
    /// Asked by the dashboard (no filter form): not from a URL.
    #[serde(default, skip)]
    pub for_dashboard: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentListPage {
    pub incidents: Vec<IncidentSummary>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub environments: Vec<EnvironmentOption>,
}

#[server(endpoint = "list_incidents")]
pub async fn list_incidents(query: IncidentQuery) -> Result<IncidentListPage, ServerFnError> {
    use crate::backend::environments;
    use crate::backend::incidents::{self, IncidentFilter, PAGE_SIZE};
    use crate::backend::RequestCtx;
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    let on = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
    // Unknown filter values are ignored rather than refused: a bookmark stays usable.
    let filter = IncidentFilter {
        open_only: on(&query.open),
        overdue_only: on(&query.overdue),
        state: query.state.as_deref().and_then(IncidentState::parse),
        severity: query.severity.as_deref().and_then(Severity::parse),
        environment: query.environment.as_deref().and_then(|e| e.parse().ok()),
    };
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        // A page number from a URL is clamped: no overflow, no negative offset.
        .clamp(1, incidents::MAX_PAGE);
    let pool = &ctx.state.pool;
    let (list, total) = incidents::list(pool, ctx.state.approval_policy, &filter, page - 1)
        .await
        .map_err(crate::backend::page_error)?;
    // The dashboard shows no filters: no environments to offer.
    let environments = if query.for_dashboard {
        Vec::new()
    } else {
        environments::options(pool)
            .await
            .map_err(crate::backend::page_error)?
    };
    Ok(IncidentListPage {
        incidents: list,
        total,
        page,
        page_size: PAGE_SIZE,
        environments,
    })
}

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let params = use_query_map().get_untracked();
    let query = IncidentQuery {
        state: params.get("state"),
        severity: params.get("severity"),
        environment: params.get("environment"),
        open: params.get("open"),
        overdue: params.get("overdue"),
        page: params.get("page"),
        for_dashboard: false,
    };
    let may_open = viewer
        .user
        .as_ref()
        .is_some_and(|u| crate::domain::lifecycle::may_act(&u.roles));
    let data = Resource::new(move || query.clone(), list_incidents);
    let q = params.clone();
    view! {
        <div class="title-row">
            <h1>{t(Msg::IncidentsTitle)}</h1>
            {may_open.then(|| view! { <a class="button primary" href="/incidents/new">{t(Msg::NewIncident)}</a> })}
        </div>
        <Suspense fallback=|| ()>
            {move || {
                let q = q.clone();
                Suspend::new(async move {
                    crate::pages::common::loaded(data.await, |page| view! { <Listing page=page params=q/> })
                })
            }}
        </Suspense>
    }
}

#[component]
fn Listing(page: IncidentListPage, params: leptos_router::params::ParamsMap) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let selected = |name: &str, value: &str| params.get(name).as_deref() == Some(value);
    let states = IncidentState::ALL
        .iter()
        .map(|s| view! { <option value=s.as_str() selected=selected("state", s.as_str())>{t(Msg::state(*s))}</option> })
        .collect_view();
    let severities = Severity::ALL
        .iter()
        .map(|s| view! { <option value=s.as_str() selected=selected("severity", s.as_str())>{t(Msg::severity(*s))}</option> })
        .collect_view();
    let environments = page
        .environments
        .iter()
        .map(|e| {
            let id = e.id.to_string();
            let is = selected("environment", &id);
            view! { <option value=id selected=is>{e.name.clone()}</option> }
        })
        .collect_view();
    let open_checked = params.get("open").is_some_and(|v| !v.is_empty());
    let overdue_checked = params.get("overdue").is_some_and(|v| !v.is_empty());

    let counted = page.total.min(crate::records::INCIDENT_COUNT_CAP);
    let pages = (counted + page.page_size - 1) / page.page_size;
    let link = |to: i64| {
        let mut pairs: Vec<(String, String)> =
            ["state", "severity", "environment", "open", "overdue"]
                .iter()
                .filter_map(|k| params.get(k).map(|v| (k.to_string(), v)))
                .collect();
        pairs.push(("page".into(), to.to_string()));
        let qs: String = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        format!("/incidents?{qs}")
    };
    let prev = (page.page > 1)
        .then(|| view! { <a rel="prev" href=link(page.page - 1)>{t(Msg::PreviousPage)}</a> });
    let next = (page.page < pages)
        .then(|| view! { <a rel="next" href=link(page.page + 1)>{t(Msg::NextPage)}</a> });
    view! {
        <form method="get" action="/incidents" class="filters card" aria-label=t(Msg::Filters)>
            <div class="field">
                <label for="f-state">{t(Msg::State)}</label>
                <select id="f-state" name="state"><option value="">{t(Msg::Any)}</option>{states}</select>
            </div>
            <div class="field">
                <label for="f-severity">{t(Msg::Severity)}</label>
                <select id="f-severity" name="severity"><option value="">{t(Msg::Any)}</option>{severities}</select>
            </div>
            <div class="field">
                <label for="f-environment">{t(Msg::Environment)}</label>
                <select id="f-environment" name="environment"><option value="">{t(Msg::Any)}</option>{environments}</select>
            </div>
            <label class="check"><input type="checkbox" name="open" value="1" checked=open_checked/>{t(Msg::OpenOnly)}</label>
            <label class="check"><input type="checkbox" name="overdue" value="1" checked=overdue_checked/>{t(Msg::OverdueOnly)}</label>
            <button type="submit">{t(Msg::Apply)}</button>
        </form>
        <IncidentTable incidents=page.incidents/>
        <nav class="pager" aria-label=t(Msg::PagesLabel)>
            {prev}
            <span>{Msg::PageOf.fill(lang, format!(
                "{} / {}{}",
                page.page,
                pages.max(1),
                crate::records::beyond_incident_count(page.total)
            ))}</span>
            {next}
        </nav>
    }
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Incidents as a table; used by the list and the dashboard.
#[component]
pub fn IncidentTable(incidents: Vec<IncidentSummary>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    if incidents.is_empty() {
        return view! { <p class="muted">{t(Msg::NoIncidents)}</p> }.into_any();
    }
    let rows = incidents
        .into_iter()
        .map(|i| {
            let href = format!("/incidents/{}", i.id);
            let overdue = i.is_overdue(chrono::Utc::now());
            view! {
                <tr class:overdue=overdue>
                    <td data-label="#">{i.id}</td>
                    <td data-label=t(Msg::Title)><a href=href>{i.title.clone()}</a></td>
                    <td data-label=t(Msg::State)><StateBadge incident=i.clone()/></td>
                    <td data-label=t(Msg::Severity)>{t(Msg::severity(i.severity))}</td>
                    <td data-label=t(Msg::Environment)><a href=format!("/environments/{}", i.environment_id)>{i.environment.clone()}</a></td>
                    <td data-label=t(Msg::DetectedAt)>{viewer.datetime(i.detected_at)}</td>
                    <td data-label=t(Msg::DecisionDeadline)><DeadlineBadge incident=i/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="incidents">
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">{t(Msg::Title)}</th>
                    <th scope="col">{t(Msg::State)}</th>
                    <th scope="col">{t(Msg::Severity)}</th>
                    <th scope="col">{t(Msg::Environment)}</th>
                    <th scope="col">{t(Msg::DetectedAt)}</th>
                    <th scope="col">{t(Msg::DecisionDeadline)}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
