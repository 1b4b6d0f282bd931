//! Opening an incident (any signed-in user but `viewer`).
use crate::domain::{Criterion, Severity};
use crate::i18n::Msg;
use crate::pages::common::TextArea;
use crate::pages::CsrfField;
use crate::records::EnvironmentOption;
use crate::viewer::Viewer;
use leptos::prelude::*;
use std::collections::HashMap;

const FORM: &str = "open_incident";

#[server(endpoint = "incident_environments")]
pub async fn incident_environments() -> Result<Vec<EnvironmentOption>, ServerFnError> {
    use crate::backend::{environments, RequestCtx};
    let ctx = RequestCtx::load().await?;
    ctx.user().map_err(crate::backend::page_error)?;
    environments::options(&ctx.state.pool)
        .await
        .map_err(crate::backend::page_error)
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
    let now_local = viewer.input_datetime(chrono::Utc::now());
    let detected = viewer.typed(FORM, "detected_at").unwrap_or(now_local);
    let severity = viewer
        .typed(FORM, "severity")
        .unwrap_or_else(|| "critical".to_owned());
    let environment = typed("environment_id");
    let (title, description, release, other) = (
        typed("title"),
        typed("description"),
        typed("suspect_release"),
        typed("criteria_other"),
    );
    let (title_error, description_error, detected_error, environment_error) = (
        error("title"),
        error("description"),
        error("detected_at"),
        error("environment_id"),
    );
    let (severity_error, criteria_error) = (
        viewer.field_error(FORM, "severity"),
        viewer.field_error(FORM, "criteria"),
    );
    let tz_hint = Msg::DetectedAtHint.fill(lang, &viewer.time_zone);
    view! {
        <h1>{t(Msg::NewIncident)}</h1>
        <section class="card">
            <ActionForm action=action>
                <CsrfField/>
                <crate::pages::common::OnceField/>
                <div class="field">
                    <label for="title">{t(Msg::Title)}</label>
                    <input id="title" name="title" type="text" required maxlength="200" value=title
                        aria-describedby="title-error"/>
                    {title_error}
                </div>
                <div class="field">
                    <label for="description">{t(Msg::Description)}</label>
                    <TextArea id="description".to_owned() name="description" rows=5 describedby="description-error".to_owned() value=description/>
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
                                    crate::pages::common::loaded(environments.await, |list| {
                                        if list.is_empty() {
                                            let viewer = expect_context::<Viewer>();
                                            return view! { <p class="flash alert">{viewer.t(Msg::NoEnvironmentYet)}</p> }.into_any();
                                        }
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
                                        .into_any()
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
                <SeverityChoices checked=severity error=severity_error/>
                <CriteriaChoices checked=typed_criteria(&viewer, FORM).unwrap_or_default() other=other error=criteria_error/>
                <button type="submit" class="primary">{t(Msg::OpenIncidentButton)}</button>
            </ActionForm>
        </section>
    }
}

/// The criteria the user had ticked in `form` before a refused post, if that form was posted.
pub fn typed_criteria(viewer: &Viewer, form: &str) -> Option<Vec<Criterion>> {
    let flash = viewer.flash.as_ref()?;
    (flash.form.as_deref() == Some(form)).then(|| {
        Criterion::ALL
            .iter()
            .copied()
            .filter(|c| flash.values.contains_key(&format!("criteria[{c}]")))
            .collect()
    })
}

/// The §10.2 severities as radio buttons, with their intervention delays.
#[component]
pub fn SeverityChoices(checked: String, error: Option<String>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let choices = Severity::ALL
        .iter()
        .map(|s| {
            let id = format!("severity-{s}");
            let label_for = id.clone();
            view! {
                <label class="check" for=label_for>
                    <input type="radio" id=id name="severity" value=s.as_str() checked=checked == s.as_str()/>
                    {Msg::severity(*s).text(lang)}" ("{crate::i18n::duration_text(lang, s.sla_minutes())}")"
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="choices">
            <legend>{Msg::Severity.text(lang)}</legend>
            {choices}
            {error.map(|e| view! { <p class="error">{e}</p> })}
        </fieldset>
    }
}

/// The §2.1 trigger criteria as checkboxes, plus free text.
#[component]
pub fn CriteriaChoices(
    checked: Vec<Criterion>,
    other: String,
    error: Option<String>,
) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let lang = viewer.lang;
    let boxes = Criterion::ALL
        .iter()
        .map(|c| {
            let id = format!("criterion-{c}");
            let label_for = id.clone();
            view! {
                <label class="check" for=label_for>
                    <input type="checkbox" id=id name=format!("criteria[{c}]") value="on" checked=checked.contains(c)/>
                    {Msg::criterion(*c).text(lang)}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="choices">
            <legend>{Msg::Criteria.text(lang)}</legend>
            {boxes}
            {error.map(|e| view! { <p class="error">{e}</p> })}
            <div class="field">
                <label for="criteria_other">{Msg::CriteriaOther.text(lang)}</label>
                <input id="criteria_other" name="criteria_other" type="text" maxlength="2000" value=other/>
            </div>
        </fieldset>
    }
}

/// The describing fields of an incident, as typed in the open and edit forms.
#[cfg(feature = "ssr")]
pub struct TypedFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub severity: Option<&'a str>,
    pub suspect_release: &'a str,
    pub criteria: &'a Option<HashMap<String, String>>,
    pub criteria_other: &'a str,
}

#[cfg(feature = "ssr")]
impl TypedFields<'_> {
    /// Checks every field, collecting a message per wrong one.
    pub fn parse(
        &self,
        errors: &mut crate::backend::error::FieldErrors,
    ) -> Option<crate::backend::incidents::IncidentFields> {
        let title = self.title.trim();
        errors.check(
            "title",
            (!title.is_empty() && title.chars().count() <= 200).then_some(()),
            Msg::TitleRequired,
        );
        errors.check(
            "description",
            (self.description.chars().count() <= 20_000).then_some(()),
            Msg::DescriptionTooLong,
        );
        let severity = errors.check(
            "severity",
            self.severity.and_then(Severity::parse),
            Msg::SeverityRequired,
        );
        let names: Vec<&str> = self
            .criteria
            .iter()
            .flat_map(|m| m.keys().map(String::as_str))
            .collect();
        let criteria: Option<Vec<Criterion>> = names.iter().map(|n| Criterion::parse(n)).collect();
        let criteria = errors.check("criteria", criteria, Msg::UnknownCriterion);
        errors.check(
            "suspect_release",
            (self.suspect_release.chars().count() <= 200).then_some(()),
            Msg::TextTooLong,
        );
        errors.check(
            "criteria",
            (self.criteria_other.chars().count() <= 2000).then_some(()),
            Msg::TextTooLong,
        );
        let (severity, mut criteria) = (severity?, criteria?);
        criteria.sort();
        Some(crate::backend::incidents::IncidentFields {
            title: title.to_owned(),
            description: self.description.to_owned(),
            severity,
            suspect_release: self.suspect_release.trim().to_owned(),
            criteria,
            criteria_other: self.criteria_other.trim().to_owned(),
        })
    }

    /// What to keep in the form after a refused post.
    pub fn keep(&self, mut post: crate::backend::FormPost) -> crate::backend::FormPost {
        post = post
            .keep("title", self.title)
            .keep("description", self.description)
            .keep("severity", self.severity.unwrap_or_default())
            .keep("suspect_release", self.suspect_release)
            .keep("criteria_other", self.criteria_other);
        for name in self.criteria.iter().flat_map(|m| m.keys()) {
            post = post.keep(&format!("criteria[{name}]"), "on");
        }
        post
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
    #[server(default)] once: String,
) -> Result<(), ServerFnError> {
    use crate::backend::error::FieldErrors;
    use crate::backend::incidents::{self, NewIncident};
    use crate::backend::{AppError, Done, FormPost, RequestCtx};
    use crate::i18n::Text;

    let ctx = RequestCtx::load().await?;
    let typed = TypedFields {
        title: &title,
        description: &description,
        severity: severity.as_deref(),
        suspect_release: &suspect_release,
        criteria: &criteria,
        criteria_other: &criteria_other,
    };
    let outcome = async {
        let user = ctx.user()?;
        let mut errors = FieldErrors::default();
        let fields = typed.parse(&mut errors);
        let parsed = ctx.viewer.parse_input_datetime(&detected_at);
        let detected = errors.check("detected_at", parsed, Msg::DetectedAtInvalid);
        if let Some(at) = detected {
            // A minute of grace for clocks that differ a little.
            errors.check(
                "detected_at",
                (at <= chrono::Utc::now() + chrono::Duration::minutes(1)).then_some(()),
                Msg::DetectedInFuture,
            );
        }
        let environment = errors.check(
            "environment_id",
            environment_id
                .as_deref()
                .and_then(|e| e.parse::<uuid::Uuid>().ok()),
            Msg::EnvironmentRequired,
        );
        errors.into_result()?;
        let (Some(detected_at), Some(environment_id), Some(fields)) =
            (detected, environment, fields)
        else {
            return Err(AppError::Internal("checked fields missing".into()));
        };
        let id = incidents::open_once(
            &ctx.state.pool,
            user,
            &NewIncident {
                fields,
                detected_at,
                environment_id,
            },
            Some(once.as_str()).filter(|o| !o.is_empty()),
        )
        .await?;
        tracing::info!(incident = id, user = %user.id, "incident opened");
        Ok(Done::to(format!("/incidents/{id}")).with_notice(Text::with(Msg::IncidentOpened, id)))
    }
    .await;
    let post = typed
        .keep(FormPost::new(FORM, "/incidents/new"))
        .keep("detected_at", &detected_at)
        .keep(
            "environment_id",
            environment_id.as_deref().unwrap_or_default(),
        );
    ctx.finish(post, outcome).await
}
