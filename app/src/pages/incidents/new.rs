//! Opening an incident (any signed-in user but `viewer`).
use crate::domain::{Criterion, Severity};
use crate::i18n::Msg;
use crate::pages::CsrfField;
use crate::records::EnvironmentOption;
use crate::viewer::Viewer;
use leptos::prelude::*;
use std::collections::HashMap;

const FORM: &str = "open_incident";

#[server(endpoint = "incident_environments")]
pub async fn incident_environments() -> Result<Vec<EnvironmentOption>, ServerFnError> {
    use crate::backend::{incidents, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(|e| ServerFnError::new(e.to_string()))?;
    incidents::environments(&ctx.state.pool)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

#[component]
pub fn NewIncidentPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let t = move |m: Msg| m.text(lang);
    let environments = Resource::new(|| (), |_| incident_environments());
    let action = ServerAction::<OpenIncident>::new();
    let typed = |name: &str| viewer.typed(FORM, name).unwrap_or_default();
    let error = |name: &str| {
        viewer
            .field_error(FORM, name)
            .map(|e| view! { <p class="error" id=format!("{name}-error")>{e}</p> })
    };
    let now_local = chrono::Utc::now()
        .with_timezone(&viewer.tz())
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let detected = viewer.typed(FORM, "detected_at").unwrap_or(now_local);
    let severity = viewer
        .typed(FORM, "severity")
        .unwrap_or_else(|| "critical".to_owned());
    let environment = typed("environment_id");
    let severities = Severity::ALL
        .iter()
        .map(|s| {
            let id = format!("severity-{s}");
            let label_for = id.clone();
            view! {
                <label class="check" for=label_for>
                    <input type="radio" id=id name="severity" value=s.as_str() checked=severity == s.as_str()/>
                    {t(Msg::severity(*s))}" ("{crate::i18n::duration_text(lang, s.sla_minutes())}")"
                </label>
            }
        })
        .collect_view();
    let criteria = Criterion::ALL
        .iter()
        .map(|c| {
            let name = format!("criteria[{c}]");
            let id = format!("criterion-{c}");
            let label_for = id.clone();
            let checked = viewer.typed(FORM, &name).is_some();
            view! {
                <label class="check" for=label_for>
                    <input type="checkbox" id=id name=name value="on" checked=checked/>
                    {t(Msg::criterion(*c))}
                </label>
            }
        })
        .collect_view();
    let (title, description, release, other) = (
        typed("title"),
        typed("description"),
        typed("suspect_release"),
        typed("criteria_other"),
    );
    let (
        title_error,
        description_error,
        detected_error,
        severity_error,
        environment_error,
        criteria_error,
    ) = (
        error("title"),
        error("description"),
        error("detected_at"),
        error("severity"),
        error("environment_id"),
        error("criteria"),
    );
    let tz_hint = Msg::DetectedAtHint.fill(lang, &viewer.time_zone);
    view! {
        <h1>{t(Msg::NewIncident)}</h1>
        <section class="card">
            <ActionForm action=action>
                <CsrfField/>
                <div class="field">
                    <label for="title">{t(Msg::Title)}</label>
                    <input id="title" name="title" type="text" required maxlength="200" value=title
                        aria-describedby="title-error"/>
                    {title_error}
                </div>
                <div class="field">
                    <label for="description">{t(Msg::Description)}</label>
                    <textarea id="description" name="description" rows="5" aria-describedby="description-error">{description}</textarea>
                    {description_error}
                </div>
                <div class="grid">
                    <div class="field">
                        <label for="detected_at">{t(Msg::DetectedAt)}</label>
                        <input id="detected_at" name="detected_at" type="datetime-local" required value=detected
                            aria-describedby="detected_at-hint detected_at-error"/>
                        <small id="detected_at-hint" class="muted">{tz_hint}</small>
                        {detected_error}
                    </div>
                    <div class="field">
                        <label for="environment_id">{t(Msg::Environment)}</label>
                        <Suspense fallback=|| ()>
                            {move || {
                                let environment = environment.clone();
                                Suspend::new(async move {
                                    environments.await.map(|list| {
                                        let options = list.into_iter().map(|e| {
                                            let id = e.id.to_string();
                                            let is = id == environment;
                                            view! { <option value=id selected=is>{e.name}</option> }
                                        }).collect_view();
                                        view! {
                                            <select id="environment_id" name="environment_id" required aria-describedby="environment_id-error">
                                                {options}
                                            </select>
                                        }
                                    })
                                })
                            }}
                        </Suspense>
                        {environment_error}
                    </div>
                    <div class="field">
                        <label for="suspect_release">{t(Msg::SuspectRelease)}</label>
                        <input id="suspect_release" name="suspect_release" type="text" maxlength="200"
                            placeholder="2025-10-17_104523 (v1.2.0)" value=release/>
                    </div>
                </div>
                <fieldset class="choices">
                    <legend>{t(Msg::Severity)}</legend>
                    {severities}
                    {severity_error}
                </fieldset>
                <fieldset class="choices">
                    <legend>{t(Msg::Criteria)}</legend>
                    {criteria}
                    {criteria_error}
                    <div class="field">
                        <label for="criteria_other">{t(Msg::CriteriaOther)}</label>
                        <input id="criteria_other" name="criteria_other" type="text" maxlength="2000" value=other/>
                    </div>
                </fieldset>
                <button type="submit" class="primary">{t(Msg::OpenIncidentButton)}</button>
            </ActionForm>
        </section>
    }
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "open_incident")]
pub async fn open_incident(
    title: String,
    description: String,
    detected_at: String,
    severity: Option<String>,
    environment_id: Option<String>,
    suspect_release: String,
    criteria: Option<HashMap<String, String>>,
    criteria_other: String,
) -> Result<(), ServerFnError> {
    use crate::backend::error::FieldErrors;
    use crate::backend::incidents::{self, NewIncident};
    use crate::backend::{AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;
    use chrono::TimeZone;

    let ctx = RequestCtx::load().await?;
    let outcome = async {
        let user = ctx.user()?;
        let mut errors = FieldErrors::default();
        let title_ok = title.trim();
        errors.check(
            "title",
            (!title_ok.is_empty() && title_ok.chars().count() <= 200).then_some(()),
            Msg::TitleRequired,
        );
        errors.check(
            "description",
            (description.chars().count() <= 20_000).then_some(()),
            Msg::DescriptionTooLong,
        );
        let tz = ctx.viewer.tz();
        let parsed = chrono::NaiveDateTime::parse_from_str(detected_at.trim(), "%Y-%m-%dT%H:%M")
            .ok()
            .and_then(|naive| tz.from_local_datetime(&naive).earliest())
            .map(|local| local.with_timezone(&chrono::Utc));
        let detected = errors.check("detected_at", parsed, Msg::DetectedAtInvalid);
        if let Some(at) = detected {
            // A minute of grace for clocks that differ a little.
            errors.check(
                "detected_at",
                (at <= chrono::Utc::now() + chrono::Duration::minutes(1)).then_some(()),
                Msg::DetectedInFuture,
            );
        }
        let severity = errors.check(
            "severity",
            severity.as_deref().and_then(Severity::parse),
            Msg::SeverityRequired,
        );
        let environment = errors.check(
            "environment_id",
            environment_id
                .as_deref()
                .and_then(|e| e.parse::<uuid::Uuid>().ok()),
            Msg::EnvironmentRequired,
        );
        let names: Vec<&str> = criteria
            .iter()
            .flat_map(|m| m.keys().map(String::as_str))
            .collect();
        let parsed_criteria: Option<Vec<Criterion>> =
            names.iter().map(|n| Criterion::parse(n)).collect();
        let parsed_criteria = errors.check("criteria", parsed_criteria, Msg::UnknownCriterion);
        errors.check(
            "suspect_release",
            (suspect_release.chars().count() <= 200).then_some(()),
            Msg::TextTooLong,
        );
        errors.check(
            "criteria",
            (criteria_other.chars().count() <= 2000).then_some(()),
            Msg::TextTooLong,
        );
        errors.into_result()?;
        let (Some(detected_at), Some(severity), Some(environment_id), Some(mut criteria)) =
            (detected, severity, environment, parsed_criteria)
        else {
            return Err(AppError::Internal("checked fields missing".into()));
        };
        criteria.sort();
        let id = incidents::open(
            &ctx.state.pool,
            user,
            &NewIncident {
                title: title_ok.to_owned(),
                description: description.clone(),
                detected_at,
                severity,
                environment_id,
                suspect_release: suspect_release.trim().to_owned(),
                criteria,
                criteria_other: criteria_other.trim().to_owned(),
            },
        )
        .await?;
        tracing::info!(incident = id, user = %user.id, "incident opened");
        Ok(Done::to(format!("/incidents/{id}")).with_notice(Text::with(Msg::IncidentOpened, id)))
    }
    .await;
    let mut post = FormPost::new(FORM, "/incidents/new")
        .keep("title", &title)
        .keep("description", &description)
        .keep("detected_at", &detected_at)
        .keep("severity", severity.as_deref().unwrap_or_default())
        .keep(
            "environment_id",
            environment_id.as_deref().unwrap_or_default(),
        )
        .keep("suspect_release", &suspect_release)
        .keep("criteria_other", &criteria_other);
    for name in criteria.iter().flat_map(|m| m.keys()) {
        post = post.keep(&format!("criteria[{name}]"), "on");
    }
    ctx.finish(post, outcome).await
}
