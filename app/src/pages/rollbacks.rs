//! The History page's rollback part: every rollback with its releases, backup, approvers,
//! durations and outcome (filters by environment, kind, period; CSV export), and the figures
//! drawn as SVG on the server, readable without JavaScript.
use crate::domain::figures::{
    estimate, kind_index, Figures, RollbackRow, DECISION_DEADLINE_MINUTES,
};
use crate::domain::RollbackType;
use crate::i18n::{duration_text, Msg};
use crate::records::EnvironmentOption;
use crate::viewer::Viewer;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackHistory {
    /// One page of rollbacks, newest first.
    pub rows: Vec<RollbackRow>,
    pub page: i64,
    pub more: bool,
    /// Over every rollback the filters keep, not only this page.
    pub figures: Figures,
    /// When the figures were computed (they are kept until an incident changes).
    pub figures_at: chrono::DateTime<chrono::Utc>,
    pub environments: Vec<EnvironmentOption>,
}

#[server(endpoint = "load_rollbacks")]
pub async fn load_rollbacks(
    environment: String,
    kind: String,
    from: String,
    to: String,
    page: String,
) -> Result<RollbackHistory, ServerFnError> {
    use crate::backend::history::{self, HistoryFilter};
    use crate::backend::{environments, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    let filter = HistoryFilter::parse(&environment, &kind, &from, &to);
    let tz = ctx.viewer.tz();
    let page = page
        .trim()
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, history::MAX_PAGE);
    let (rows, more) = history::page(&ctx.state.pool, &filter, tz.name(), page)
        .await
        .map_err(crate::backend::page_error)?;
    let (figures, figures_at) =
        history::figures_kept(&ctx.state.pool, &ctx.state.figures, &filter, tz.name())
            .await
            .map_err(crate::backend::page_error)?;
    Ok(RollbackHistory {
        figures,
        figures_at,
        rows,
        page,
        more,
        environments: environments::options(&ctx.state.pool)
            .await
            .map_err(crate::backend::page_error)?,
    })
}

/// The query string's filters, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub environment: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub page: String,
}

impl Filters {
    /// The query string of these filters, for the CSV link: only values that parse (a UUID, a
    /// kind, dates), which need no escaping.
    pub fn query(&self) -> String {
        let date = |d: &str| {
            crate::domain::typed::parse_date(d)
                .map(|d| d.to_string())
                .unwrap_or_default()
        };
        format!(
            "environment={}&kind={}&from={}&to={}",
            uuid::Uuid::parse_str(self.environment.trim())
                .map(|u| u.to_string())
                .unwrap_or_default(),
            RollbackType::parse(self.kind.trim())
                .map(|k| k.as_str())
                .unwrap_or_default(),
            date(&self.from),
            date(&self.to)
        )
    }
}

#[component]
pub fn Rollbacks(history: RollbackHistory, filters: Filters) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let environment_options = history
        .environments
        .iter()
        .map(|e| {
            let v = e.id.to_string();
            let selected = v == filters.environment;
            view! { <option value=v selected=selected>{e.name.clone()}</option> }
        })
        .collect_view();
    let kind_options = RollbackType::ALL
        .iter()
        .map(|k| view! { <option value=k.as_str() selected=k.as_str() == filters.kind>{t(Msg::rollback_type(*k))}</option> })
        .collect_view();
    let minutes = move |m: Option<i64>| {
        m.map(|m| duration_text(lang, m))
            .unwrap_or_else(|| "—".into())
    };
    let rows = history
        .rows
        .iter()
        .map(|r| {
            let releases = format!(
                "{} → {}",
                r.from_release.clone().unwrap_or_else(|| "—".into()),
                r.to_release.clone().unwrap_or_else(|| "—".into())
            );
            view! {
                <tr id=format!("rollback-{}", r.incident)>
                    <td><a href=format!("/incidents/{}", r.incident)>"#"{r.incident}" "{r.title.clone()}</a></td>
                    <td>{r.environment.clone()}</td>
                    <td>{t(Msg::rollback_type(r.kind))}</td>
                    <td>{releases}</td>
                    <td>{r.backup.clone().unwrap_or_else(|| "—".into())}</td>
                    <td>{r.approvers.join(", ")}</td>
                    <td>{viewer.datetime(r.detected_at)}</td>
                    <td class="num">{minutes(r.to_decide())}</td>
                    <td class="num">{minutes(r.to_restore())}</td>
                    <td class="num">{minutes(r.downtime())}</td>
                    <td>{t(Msg::state(r.state))}{r.skipped_steps.then(|| format!(" · {}", t(Msg::ExecSucceededWithSkips)))}</td>
                </tr>
            }
        })
        .collect_view();
    let f = &history.figures;
    let total: usize = f
        .per_month
        .iter()
        .map(|(_, k)| k.iter().sum::<usize>())
        .sum();
    let summary = view! {
        <ul class="figures" id="figures-summary">
            <li id="fig-total">{Msg::FigRollbacks.fill(lang, total)}</li>
            <li id="fig-decided">{Msg::FigDecidedInTime.fill(lang, format!("{}/{}", f.decided_in_time, f.decided))}</li>
            <li id="fig-restored">{Msg::FigRestoredInEstimate.fill(lang, format!("{}/{}", f.restored_in_estimate.iter().sum::<usize>(), f.restored.iter().sum::<usize>()))}</li>
            <li id="fig-mttr">{Msg::FigMttr.fill(lang, f.mean_time_to_restore.map(|m| format!("{m:.1} min")).unwrap_or_else(|| "—".into()))}</li>
        </ul>
        <p class="muted" id="figures-at">{Msg::FiguresAt.fill(lang, viewer.time(history.figures_at))}</p>
    };
    let months: Vec<Bar> = f
        .per_month
        .iter()
        .map(|(month, kinds)| Bar {
            label: month.clone(),
            parts: kinds
                .iter()
                .enumerate()
                .map(|(k, n)| (*n as f64, KIND_CLASS[k]))
                .collect(),
            marker: None,
        })
        .collect();
    // Oldest first, as a timeline reads.
    let mut chronological: Vec<&RollbackRow> = history.rows.iter().collect();
    chronological.reverse();
    let decide: Vec<Bar> = chronological
        .iter()
        .filter_map(|r| {
            Some(Bar {
                label: format!("#{}", r.incident),
                parts: vec![(
                    r.to_decide()? as f64,
                    if r.to_decide()? <= DECISION_DEADLINE_MINUTES {
                        "ok"
                    } else {
                        "late"
                    },
                )],
                marker: None,
            })
        })
        .collect();
    let restore: Vec<Bar> = chronological
        .iter()
        .filter_map(|r| {
            Some(Bar {
                label: format!("#{}", r.incident),
                parts: vec![(r.to_restore()? as f64, KIND_CLASS[kind_index(r.kind)])],
                marker: Some(estimate(r.kind).1 as f64),
            })
        })
        .collect();
    let csv = format!("/history/rollbacks.csv?{}", filters.query());
    view! {
        <section class="card" id="rollback-history">
            <h2>{t(Msg::RollbackHistory)}</h2>
            <form method="get" action="/history" class="filters">
                <label for="f-environment">{t(Msg::Environment)}</label>
                <select id="f-environment" name="environment">
                    <option value="">{t(Msg::All)}</option>
                    {environment_options}
                </select>
                <label for="f-kind">{t(Msg::RollbackTypeLabel)}</label>
                <select id="f-kind" name="kind">
                    <option value="">{t(Msg::All)}</option>
                    {kind_options}
                </select>
                <label for="f-from">{t(Msg::PeriodFrom)}</label>
                <input type="date" id="f-from" name="from" value=filters.from.clone()/>
                <label for="f-to">{t(Msg::PeriodTo)}</label>
                <input type="date" id="f-to" name="to" value=filters.to.clone()/>
                <button type="submit">{t(Msg::Filter)}</button>
                " "<a href=csv id="export-csv">{t(Msg::ExportCsv)}</a>
            </form>
            {summary}
            <div class="charts">
                <figure>
                    <figcaption>{t(Msg::ChartPerMonth)}</figcaption>
                    <BarChart bars=months threshold=None id="chart-months"/>
                    <p class="legend"><span><span class="swatch kind-0" aria-hidden="true">"■"</span>" "{t(Msg::rollback_type(RollbackType::Application))}</span>" "<span><span class="swatch kind-1" aria-hidden="true">"■"</span>" "{t(Msg::rollback_type(RollbackType::ApplicationDatabase))}</span>" "<span><span class="swatch kind-2" aria-hidden="true">"■"</span>" "{t(Msg::rollback_type(RollbackType::System))}</span></p>
                </figure>
                <figure>
                    <figcaption>{t(Msg::ChartToDecide)}</figcaption>
                    <BarChart bars=decide threshold=Some(DECISION_DEADLINE_MINUTES as f64) id="chart-decide"/>
                </figure>
                <figure>
                    <figcaption>{t(Msg::ChartToRestore)}</figcaption>
                    <BarChart bars=restore threshold=None id="chart-restore"/>
                </figure>
            </div>
            <table class="list" id="rollback-table">
                <thead><tr>
                    <th>{t(Msg::IncidentsTitle)}</th><th>{t(Msg::Environment)}</th><th>{t(Msg::RollbackTypeLabel)}</th>
                    <th>{t(Msg::Releases)}</th><th>{t(Msg::Backup)}</th><th>{t(Msg::Approvers)}</th>
                    <th>{t(Msg::DetectedAt)}</th><th>{t(Msg::ColToDecide)}</th><th>{t(Msg::ColToRestore)}</th>
                    <th>{t(Msg::ColDowntime)}</th><th>{t(Msg::Outcome)}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <crate::pages::common::Pager path="/history" query=filters.query() page=history.page more=history.more id="history-pages"/>
        </section>
    }
}

const KIND_CLASS: [&str; 3] = ["kind-0", "kind-1", "kind-2"];

/// One bar: stacked parts (value, CSS class), and a marker drawn across it (an estimate).
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub parts: Vec<(f64, &'static str)>,
    pub marker: Option<f64>,
}

/// A bar chart in SVG: one bar per entry, a dashed line at `threshold` if any.
#[component]
fn BarChart(bars: Vec<Bar>, threshold: Option<f64>, id: &'static str) -> impl IntoView {
    const H: f64 = 160.0;
    const TOP: f64 = 14.0;
    const LEFT: f64 = 30.0;
    let step = (270.0 / bars.len().max(1) as f64).clamp(10.0, 60.0);
    // At least 300 units wide, so that a chart of few bars keeps a sensible shape.
    let width = (LEFT + step * bars.len().max(1) as f64 + 10.0).max(300.0);
    let max = bars
        .iter()
        .map(|b| {
            b.parts
                .iter()
                .map(|p| p.0)
                .sum::<f64>()
                .max(b.marker.unwrap_or(0.0))
        })
        .fold(threshold.unwrap_or(1.0), f64::max)
        .max(1.0);
    let y = move |v: f64| TOP + H - v / max * H;
    let drawn = bars
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let x = LEFT + step * i as f64 + 4.0;
            let mut base = 0.0;
            let rects = b
                .parts
                .iter()
                .filter(|(v, _)| *v > 0.0)
                .map(|(v, class)| {
                    let top = y(base + v);
                    let height = y(base) - top;
                    base += v;
                    view! { <rect class=format!("bar {class}") x=x y=top width=step - 8.0 height=height><title>{format!("{} : {v}", b.label)}</title></rect> }
                })
                .collect_view();
            let marker = b.marker.map(|m| {
                let my = y(m);
                view! { <line class="marker" x1=x - 2.0 x2=x + step - 6.0 y1=my y2=my/> }
            });
            let label_y = TOP + H + 12.0;
            view! {
                <g class="bar-group">
                    {rects}
                    {marker}
                    <text class="label" x=x y=label_y>{b.label.clone()}</text>
                </g>
            }
        })
        .collect_view();
    let line = threshold.map(|t| {
        let ty = y(t);
        view! {
            <line class="threshold" x1=LEFT x2=width y1=ty y2=ty/>
            <text class="axis" x=2.0 y=ty + 4.0>{format!("{t}")}</text>
        }
    });
    let axis_max = format!("{max:.0}");
    view! {
        <svg id=id class="chart" viewBox=format!("0 0 {width} {}", TOP + H + 20.0) role="img" xmlns="http://www.w3.org/2000/svg">
            <text class="axis" x=2.0 y=TOP + 4.0>{axis_max}</text>
            <line class="axis-line" x1=LEFT x2=width y1=TOP + H y2=TOP + H/>
            {drawn}
            {line}
        </svg>
    }
}
