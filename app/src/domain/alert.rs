//! Alerts received from Prometheus Alertmanager (webhook payload version 4) or Grafana alerting
//! (the same shape, plus `dashboardURL` / `panelURL`): read and checked whole before anything is
//! written, and what an incident opened by one says.
use super::{Criterion, Severity};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The largest payload taken (Alertmanager groups rarely pass a few hundred KiB).
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// The most alerts in one payload.
pub const MAX_ALERTS: usize = 1000;

/// A webhook payload as both senders write it.
#[derive(Debug, Clone, Deserialize)]
pub struct Payload {
    pub status: Status,
    #[serde(rename = "groupKey")]
    pub group_key: String,
    pub alerts: Vec<Alert>,
    #[serde(rename = "externalURL", default)]
    pub external_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Firing,
    Resolved,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Alert {
    pub status: Status,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    /// Alertmanager writes `0001-01-01T00:00:00Z` while the alert fires.
    #[serde(rename = "endsAt", default)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(rename = "generatorURL", default)]
    pub generator_url: String,
    pub fingerprint: String,
    #[serde(rename = "dashboardURL", default)]
    pub dashboard_url: String,
    #[serde(rename = "panelURL", default)]
    pub panel_url: String,
}

/// Why a payload is refused (400), in words for the sender's log.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error("the payload is larger than {MAX_PAYLOAD_BYTES} bytes")]
    TooLarge,
    #[error("the payload is not an Alertmanager/Grafana webhook: {0}")]
    Shape(String),
    #[error("the payload holds no alert")]
    NoAlert,
    #[error("the payload holds more than {MAX_ALERTS} alerts")]
    TooManyAlerts,
    #[error("alert {0}: its fingerprint is empty or longer than 200 characters")]
    Fingerprint(usize),
    #[error("groupKey is longer than 2000 characters")]
    GroupKey,
    #[error("alert {0}: startsAt is not a date after 1970")]
    StartsAt(usize),
    #[error("alert {0}: a label or annotation holds control characters or is too long")]
    Text(usize),
}

impl Payload {
    /// Reads and checks a payload: nothing of a payload that fails here is written.
    pub fn parse(body: &[u8]) -> Result<Payload, PayloadError> {
        if body.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::TooLarge);
        }
        let payload: Payload =
            serde_json::from_slice(body).map_err(|e| PayloadError::Shape(e.to_string()))?;
        if payload.alerts.is_empty() {
            return Err(PayloadError::NoAlert);
        }
        if payload.alerts.len() > MAX_ALERTS {
            return Err(PayloadError::TooManyAlerts);
        }
        if payload.group_key.chars().count() > 2000 {
            return Err(PayloadError::GroupKey);
        }
        for (n, alert) in payload.alerts.iter().enumerate() {
            let n = n + 1;
            let fingerprint = alert.fingerprint.trim();
            if fingerprint.is_empty() || fingerprint.chars().count() > 200 {
                return Err(PayloadError::Fingerprint(n));
            }
            if alert.starts_at.timestamp() <= 0 {
                return Err(PayloadError::StartsAt(n));
            }
            let texts = alert.labels.iter().chain(alert.annotations.iter());
            for (key, value) in texts {
                let clean = |t: &str| super::typed::is_clean_text(t) && !t.contains('\0');
                if key.chars().count() > 200
                    || value.chars().count() > 10_000
                    || !clean(key)
                    || !clean(value)
                {
                    return Err(PayloadError::Text(n));
                }
            }
        }
        Ok(payload)
    }
}

/// What an environment says about the alerts it receives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertRules {
    /// A `severity` label's value (lower case) → severity; others are *urgent*.
    pub severities: BTreeMap<String, Severity>,
    /// (label, value) → the §2.1 criterion it points to.
    pub criteria: Vec<(String, String, Criterion)>,
}

impl AlertRules {
    /// The severity of an incident opened by `alert`: its `severity` label mapped, *urgent*
    /// when the label is missing or unmapped (someone must be on it within the hour, §10.2).
    pub fn severity(&self, alert: &Alert) -> Severity {
        alert
            .labels
            .get("severity")
            .and_then(|s| self.severities.get(&s.trim().to_lowercase()).copied())
            .unwrap_or(Severity::Urgent)
    }

    /// The §2.1 criteria the alert's labels point to, in the order of the rules.
    pub fn criteria(&self, alert: &Alert) -> Vec<Criterion> {
        let mut found = Vec::new();
        for (label, value, criterion) in &self.criteria {
            if alert.labels.get(label).is_some_and(|v| v == value) && !found.contains(criterion) {
                found.push(*criterion);
            }
        }
        found
    }

    /// The severity map as typed on the environment page: `value: severity`, one a line.
    pub fn severities_text(&self) -> String {
        self.severities
            .iter()
            .map(|(value, severity)| format!("{value}: {severity}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The criteria rules as typed: `label=value: criterion`, one a line.
    pub fn criteria_text(&self) -> String {
        self.criteria
            .iter()
            .map(|(label, value, criterion)| format!("{label}={value}: {criterion}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Reads the severity map typed on the environment page; the error names the line.
    pub fn parse_severities(text: &str) -> Result<BTreeMap<String, Severity>, usize> {
        let mut map = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (value, severity) = line.split_once(':').ok_or(n + 1)?;
            let value = value.trim().to_lowercase();
            let severity = Severity::parse(severity.trim()).ok_or(n + 1)?;
            if value.is_empty() || value.chars().count() > 100 {
                return Err(n + 1);
            }
            map.insert(value, severity);
        }
        Ok(map)
    }

    /// Reads the criteria rules typed on the environment page; the error names the line.
    pub fn parse_criteria(text: &str) -> Result<Vec<(String, String, Criterion)>, usize> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (matcher, criterion) = line.rsplit_once(':').ok_or(n + 1)?;
            let (label, value) = matcher.split_once('=').ok_or(n + 1)?;
            let criterion = Criterion::parse(criterion.trim()).ok_or(n + 1)?;
            let (label, value) = (label.trim(), value.trim());
            if label.is_empty() || value.is_empty() || matcher.chars().count() > 300 {
                return Err(n + 1);
            }
            rules.push((label.to_owned(), value.to_owned(), criterion));
        }
        Ok(rules)
    }
}

impl Alert {
    /// `alertname`, else empty.
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", |s| s.trim())
    }

    /// The incident's title: the `summary` annotation, else `alertname`, at most 200
    /// characters.
    pub fn title(&self) -> String {
        let summary = self.annotations.get("summary").map_or("", |s| s.trim());
        let title = [summary, self.name()]
            .into_iter()
            .find(|t| !t.is_empty())
            .unwrap_or("Alert");
        let title: String = title
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(200)
            .collect();
        title
    }

    /// The incident's description: every annotation (`description` first), then the labels.
    pub fn description(&self) -> String {
        let mut out = String::new();
        if let Some(d) = self.annotations.get("description") {
            out.push_str(d.trim());
            out.push_str("\n\n");
        }
        for (key, value) in &self.annotations {
            if key != "description" && key != "summary" {
                out.push_str(&format!("- {key}: {}\n", value.trim()));
            }
        }
        out.push_str("\nLabels:\n");
        for (key, value) in &self.labels {
            out.push_str(&format!("- {key}={value}\n"));
        }
        out.chars().take(20_000).collect()
    }

    /// When the problem started: `startsAt`, never later than `now` (a sender's clock ahead
    /// of ours would put the detection in the future).
    pub fn detected_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.starts_at.min(now)
    }
}

/// A link the sender gave, kept only when it is http(s): anything else is never rendered as a
/// link.
pub fn web_link(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    ((lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_control() || c.is_whitespace()))
    .then(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> serde_json::Value {
        serde_json::json!({
            "version": "4", "status": "firing", "groupKey": "{}:{alertname=\"HighErrorRate\"}",
            "receiver": "rollback-desk", "externalURL": "http://am:9093",
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "HighErrorRate", "severity": "critical", "service": "billing"},
                "annotations": {"summary": "5xx above 5 %", "description": "billing errors"},
                "startsAt": "2025-10-17T12:20:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=x", "fingerprint": "abc123"
            }]
        })
    }

    #[test]
    fn an_alertmanager_payload_reads() {
        let body = serde_json::to_vec(&sample()).unwrap();
        let p = Payload::parse(&body).unwrap();
        assert_eq!(p.status, Status::Firing);
        let a = &p.alerts[0];
        assert_eq!(a.title(), "5xx above 5 %");
        assert!(a.description().starts_with("billing errors"));
        assert!(a.description().contains("service=billing"));
        let rules = AlertRules {
            severities: AlertRules::parse_severities("critical: critical\nwarning: urgent")
                .unwrap(),
            criteria: AlertRules::parse_criteria("alertname=HighErrorRate: critical_errors")
                .unwrap(),
        };
        assert_eq!(rules.severity(a), Severity::Critical);
        assert_eq!(rules.criteria(a), vec![Criterion::CriticalErrors]);
        assert_eq!(
            AlertRules::parse_criteria(&rules.criteria_text()).unwrap(),
            rules.criteria
        );
    }

    #[test]
    fn bad_payloads_are_refused_with_a_reason() {
        assert!(matches!(
            Payload::parse(b"{not json"),
            Err(PayloadError::Shape(_))
        ));
        let mut no_alert = sample();
        no_alert["alerts"] = serde_json::json!([]);
        assert_eq!(
            Payload::parse(&serde_json::to_vec(&no_alert).unwrap()).unwrap_err(),
            PayloadError::NoAlert
        );
        let mut empty = sample();
        empty["alerts"][0]["fingerprint"] = serde_json::json!(" ");
        assert_eq!(
            Payload::parse(&serde_json::to_vec(&empty).unwrap()).unwrap_err(),
            PayloadError::Fingerprint(1)
        );
        let big = vec![b' '; MAX_PAYLOAD_BYTES + 1];
        assert_eq!(Payload::parse(&big).unwrap_err(), PayloadError::TooLarge);
        assert_eq!(AlertRules::parse_severities("warning urgent"), Err(1));
        assert_eq!(AlertRules::parse_severities("a: critical\nb: huge"), Err(2));
        assert_eq!(
            AlertRules::parse_criteria("alertname: critical_errors"),
            Err(1)
        );
    }

    #[test]
    fn only_web_links_are_kept() {
        assert!(web_link("https://grafana/d/x").is_some());
        assert!(web_link("javascript:alert(1)").is_none());
        assert!(web_link("http://a b").is_none());
    }
}
