//! Monitoring alerts pushed as JSON (Smoothwall, Lightspeed, Securly and the like): each alert is
//! checked on its own and becomes a flagged sighting, gathered into breaches like a log's blocks. An
//! alert fires whether or not anything was blocked, so it is never an `allowed` request.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::feeds::{Action, LogLine, host_of};

/// One alert as a monitor pushes it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingAlert {
    /// When it happened (RFC 3339, with its offset).
    pub time: DateTime<Utc>,
    /// The monitor's category or ruleset (`Self Harm`, `radicalisation`, …).
    pub category: String,
    /// The monitor's grading: a number 1–5, or Danger / Caution / Advisory, high / medium / low.
    #[schema(value_type = Option<String>, example = "danger")]
    pub severity: Option<Value>,
    /// The directory account.
    pub user: Option<String>,
    /// The device.
    pub device: Option<String>,
    pub url: Option<String>,
    /// What was captured: the words typed, the window's title.
    pub context: Option<String>,
    /// The product that raised it.
    pub product: Option<String>,
}

/// An alert that passed its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub at: i64,
    pub category: String,
    pub severity: Option<String>,
    pub user: Option<String>,
    pub device: Option<String>,
    pub url: String,
    pub context: Option<String>,
}

/// How far ahead of now an alert's time may be (clocks drift), in seconds.
const FUTURE_SLACK: i64 = 300;

fn text(field: &str, value: Option<String>, most: usize) -> Result<Option<String>, String> {
    match value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
    {
        Some(value) if value.chars().count() > most || value.contains('\0') => {
            Err(format!("{field} is at most {most} characters, without NUL"))
        }
        value => Ok(value),
    }
}

/// Checks one alert of a push (`now` is the receiving clock).
pub fn check(raw: &Value, now: DateTime<Utc>) -> Result<Alert, String> {
    let incoming: IncomingAlert = serde_path_to_error::deserialize(raw).map_err(|err| {
        let path = err.path().to_string();
        format!("{path}: {}", err.into_inner())
    })?;
    if incoming.time.timestamp() > now.timestamp() + FUTURE_SLACK {
        return Err("time is in the future".into());
    }
    let category = text("category", Some(incoming.category), 200)?.ok_or("category is empty")?;
    let severity = match incoming.severity {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => Some(number.to_string()),
        Some(Value::String(grade)) => text("severity", Some(grade), 40)?,
        Some(_) => return Err("severity is a number or a word".into()),
    };
    Ok(Alert {
        at: incoming.time.timestamp(),
        category,
        severity,
        user: text("user", incoming.user, 200)?,
        device: text("device", incoming.device, 200)?,
        url: text("url", incoming.url, 2000)?.unwrap_or_default(),
        context: text("context", incoming.context, 4000)?,
    })
}

impl Alert {
    /// The alert as a sighting: flagged, in its category, with its capture.
    pub fn as_line(&self) -> LogLine<'_> {
        LogLine {
            at: self.at,
            user: self.user.as_deref(),
            client: self.device.as_deref(),
            host: host_of(&self.url),
            url: &self.url,
            action: Action::Flagged,
            vendor_category: Some(&self.category),
            vendor_severity: self.severity.as_deref(),
            supporting: false,
            context: self.context.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-30T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn an_alert_becomes_a_flagged_sighting_with_its_capture() {
        let alert = check(
            &json!({"time": "2026-11-30T09:14:02Z", "category": "Self Harm", "severity": "Danger", "user": "raps\\y6pupil",
                    "device": "RAPS-LAB-07", "url": "https://forum.example/t/1", "context": "typed: how to", "product": "Smoothwall Monitor"}),
            now(),
        )
        .unwrap();
        let line = alert.as_line();
        assert_eq!(
            (line.at, line.action, line.host),
            (1_796_030_042, Action::Flagged, "forum.example")
        );
        assert_eq!(
            (line.vendor_category, line.vendor_severity),
            (Some("Self Harm"), Some("Danger"))
        );
        assert_eq!(
            (line.user, line.client, line.context),
            (Some("raps\\y6pupil"), Some("RAPS-LAB-07"), Some("typed: how to"))
        );
        let numbered = check(
            &json!({"time": "2026-11-30T09:14:02+01:00", "category": "Bullying", "severity": 4}),
            now(),
        )
        .unwrap();
        assert_eq!(
            (numbered.severity.as_deref(), numbered.url.as_str()),
            (Some("4"), "")
        );
    }

    #[test]
    fn each_fault_is_named() {
        let refused = |alert: Value| check(&alert, now()).unwrap_err();
        assert!(refused(json!({"category": "x"})).contains("time"));
        assert!(refused(json!({"time": "noon", "category": "x"})).contains("time"));
        assert!(refused(json!({"time": "2026-11-30T11:00:00Z", "category": "x"})).contains("future"));
        assert!(refused(json!({"time": "2026-11-30T09:00:00Z", "category": " "})).contains("category"));
        assert!(
            refused(json!({"time": "2026-11-30T09:00:00Z", "category": "x", "severity": [1]}))
                .contains("severity")
        );
        assert!(
            refused(json!({"time": "2026-11-30T09:00:00Z", "category": "x", "colour": "red"}))
                .contains("colour")
        );
        assert!(
            refused(json!({"time": "2026-11-30T09:00:00Z", "category": "x", "user": "a\u{0}b"}))
                .contains("NUL")
        );
        assert!(refused(json!("an alert")).contains("invalid type"));
    }
}
