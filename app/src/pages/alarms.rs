//! What is broken, shown first: a database a restore left partial, emails that could not be
//! delivered. On the dashboard (everything), an incident's pages (its environment's database
//! and its emails) and an environment's page.
use crate::i18n::Msg;
use crate::records::Alarms;
use crate::viewer::Viewer;
use leptos::prelude::*;

/// The alarms of one incident, of one environment, or (neither) all of them.
#[server(endpoint = "load_alarms")]
pub async fn load_alarms(
    incident: Option<i64>,
    environment: Option<String>,
) -> Result<Alarms, ServerFnError> {
    use crate::backend::{emails, environments, incidents, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    let pool = &ctx.state.pool;
    let environment = match (incident, environment) {
        (Some(incident), _) => Some(
            incidents::environment_of(pool, incident)
                .await
                .map_err(crate::backend::page_error)?,
        ),
        (None, Some(id)) => Some(id.parse::<uuid::Uuid>().ok()),
        (None, None) => None,
    };
    // An unknown incident or environment has no alarm.
    if environment == Some(None) {
        return Ok(Alarms::default());
    }
    Ok(Alarms {
        partial_restores: environments::partial_restores(pool, environment.flatten())
            .await
            .map_err(crate::backend::page_error)?,
        undelivered: match (incident, environment) {
            (None, Some(_)) => Vec::new(),
            _ => emails::undelivered(pool, incident)
                .await
                .map_err(crate::backend::page_error)?,
        },
    })
}

/// The banners of [`load_alarms`]; nothing when all is well.
#[component]
pub fn AlarmBanners(
    #[prop(optional)] incident: Option<i64>,
    #[prop(optional)] environment: Option<String>,
) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let alarms = Resource::new(
        move || (incident, environment.clone()),
        |(incident, environment)| load_alarms(incident, environment),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let alarms = match alarms.await {
                    Ok(alarms) => alarms,
                    Err(error) => return view! { <crate::pages::common::LoadFailed error=error/> }.into_any(),
                };
                let viewer = expect_context::<Viewer>();
                let restores = alarms.partial_restores.into_iter().map(|p| {
                    let what = Msg::PartialRestoreText.fill(lang, &p.environment);
                    view! {
                        <section class="card alarm" role="alert" id=format!("partial-restore-{}", p.environment_id)>
                            <h2>{Msg::PartialRestoreTitle.text(lang)}</h2>
                            <p>{what}</p>
                            <p class="meta">
                                {Msg::PartialRestoreDetail.fill(lang, &p.backup)}
                                " · "{Msg::PartialRestoreSince.text(lang)}" "{viewer.datetime(p.since)}
                                " · "<a href=format!("/incidents/{}/execution", p.incident)>
                                    {Msg::PartialRestoreOpen.text(lang)}" #"{p.incident}
                                    " (" {Msg::StepN.fill(lang, p.step + 1)} ")"
                                </a>
                            </p>
                        </section>
                    }
                }).collect_view();
                let undelivered = alarms.undelivered.into_iter().map(|u| {
                    let link = u.incident.map(|i| format!("/incidents/{i}/emails#undelivered"))
                        .unwrap_or_else(|| "/mail".to_owned());
                    view! {
                        <section class="card alarm" role="alert">
                            <h2>{Msg::UndeliveredTitle.text(lang)}</h2>
                            <p>
                                <a href=link>
                                    {u.incident.map(|i| format!("#{i} {} — ", u.title))}
                                    {Msg::UndeliveredText.fill(lang, u.count)}
                                </a>
                            </p>
                        </section>
                    }
                }).collect_view();
                view! { {restores}{undelivered} }.into_any()
            })}
        </Suspense>
    }
}
