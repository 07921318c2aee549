//! A breach a person reports: a member of staff, or a learner who told one (RAPS 7.3.2: turn off the
//! screen, tell a member of staff, who reports it with the address if they can). It becomes a flagged
//! sighting like a monitor's alert, never gathered into another breach.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::alerts::Alert;

/// A report as the form sends it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingReport {
    /// What was seen or happened.
    pub what: String,
    /// When (RFC 3339).
    pub when: DateTime<Utc>,
    /// The address, if known.
    pub url: Option<String>,
    /// Where: the room, the device.
    #[serde(rename = "where")]
    pub location: Option<String>,
    /// The reporter's word for it (`gambling`, `self harm`), normalised as a vendor's category is.
    pub category: Option<String>,
    /// The account in use, if known.
    pub user: Option<String>,
    /// A learner found it and told the member of staff reporting it.
    #[serde(default)]
    pub by_learner: bool,
}

/// How far back a report may be dated: a term's worth of things noticed late.
pub const OLDEST_DAYS: i64 = 120;

fn text(
    field: &'static str,
    value: Option<String>,
    most: usize,
) -> Result<Option<String>, (&'static str, String)> {
    match value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
    {
        Some(value) if value.chars().count() > most || value.contains('\0') => {
            Err((field, format!("is at most {most} characters, without NUL")))
        }
        value => Ok(value),
    }
}

/// Checks a report received at `now`: the sighting, or the field at fault and why.
pub fn check(report: IncomingReport, now: DateTime<Utc>) -> Result<Alert, (&'static str, String)> {
    if report.when > now + Duration::minutes(5) {
        return Err(("when", "is in the future".into()));
    }
    if report.when < now - Duration::days(OLDEST_DAYS) {
        return Err(("when", format!("is at most {OLDEST_DAYS} days ago")));
    }
    let context = text("what", Some(report.what), 4000)?.ok_or(("what", "is required".to_owned()))?;
    Ok(Alert {
        at: report.when.timestamp(),
        category: text("category", report.category, 200)?.unwrap_or_else(|| "reported".into()),
        severity: None,
        user: text("user", report.user, 200)?,
        device: text("where", report.location, 200)?,
        url: text("url", report.url, 2000)?.unwrap_or_default(),
        context: Some(context),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-30T10:00:00Z".parse().unwrap()
    }

    fn report(what: &str, minutes_ago: i64) -> IncomingReport {
        IncomingReport {
            what: what.into(),
            when: now() - Duration::minutes(minutes_ago),
            url: Some("http://casino.example/".into()),
            location: Some("Year 6 class, laptop 12".into()),
            category: Some("Gambling".into()),
            user: None,
            by_learner: true,
        }
    }

    #[test]
    fn a_report_is_a_sighting_with_what_was_seen() {
        let sighting = check(report("A pupil found a casino site", 10), now()).unwrap();
        let line = sighting.as_line();
        assert_eq!(
            (line.host, line.client, line.vendor_category),
            (
                "casino.example",
                Some("Year 6 class, laptop 12"),
                Some("Gambling")
            )
        );
        assert_eq!(line.context, Some("A pupil found a casino site"));
    }

    #[test]
    fn each_fault_is_named() {
        assert_eq!(check(report("  ", 10), now()).unwrap_err().0, "what");
        assert_eq!(check(report("x", -60), now()).unwrap_err().0, "when");
        assert_eq!(check(report("x", 60 * 24 * 200), now()).unwrap_err().0, "when");
        let mut long = report("x", 1);
        long.url = Some("u".repeat(2001));
        assert_eq!(check(long, now()).unwrap_err().0, "url");
    }
}
