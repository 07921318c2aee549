//! A breach's record and its first decisions: what the shared log is told of it, whether a later
//! upload's sightings continue it, and when it becomes a concern without anyone deciding.

use chrono::{DateTime, Utc};
use trustsafe_events::filtering::{
    BreachAction, BreachDetails, BreachEscalated, BreachRecorded, BreachSource, EscalationTrigger, Involved,
};
use uuid::Uuid;

use super::feeds::Action;
use super::ingest::{Sighted, WINDOW_SECONDS};
use super::life::triage_within;

/// From this severity a breach becomes a concern at once (the incident service opens it).
pub const AUTOMATIC_ESCALATION: u8 = 4;

/// Whether a breach first seen at `stored_first_seen` takes in sightings first seen at `first_seen`.
pub fn continues(stored_first_seen: i64, first_seen: i64) -> bool {
    (stored_first_seen..stored_first_seen + WINDOW_SECONDS).contains(&first_seen)
}

pub fn escalates_automatically(severity: u8) -> bool {
    severity >= AUTOMATIC_ESCALATION
}

pub fn time(epoch: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(epoch, 0).unwrap_or_default()
}

/// Who a breach's account is on the roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribution {
    pub person_id: Uuid,
    pub involved: Involved,
}

/// What the feed was: a log format or an alerting product.
pub struct Feed<'a> {
    pub source: BreachSource,
    pub name: &'a str,
}

/// The event that records a new breach, at `recorded_at`.
pub fn recorded(
    id: Uuid,
    sighted: &Sighted,
    category: &str,
    feed: &Feed<'_>,
    account_hash: Option<String>,
    host_key: Option<String>,
    attribution: Option<Attribution>,
    recorded_at: DateTime<Utc>,
) -> BreachRecorded {
    BreachRecorded {
        breach_id: id,
        source: feed.source,
        feed: Some(feed.name.to_owned()),
        category: category.to_owned(),
        severity: sighted.normalised.severity,
        vendor_category: sighted.vendor_category.clone(),
        vendor_severity: sighted.vendor_severity.clone(),
        action: match sighted.action {
            Action::Blocked => BreachAction::Blocked,
            Action::Flagged | Action::Allowed => BreachAction::Flagged,
        },
        first_seen: time(sighted.first_seen),
        last_seen: time(sighted.last_seen),
        count: sighted.count,
        triage_by: recorded_at + triage_within(sighted.normalised.severity),
        involved: attribution.map(|found| found.involved),
        host_key,
        restricted: Some(BreachDetails {
            user: sighted.user.clone(),
            account_hash,
            person_id: attribution.map(|found| found.person_id),
            client: sighted.client.clone(),
            host: sighted.key.host.clone(),
            url: sighted.url.clone(),
            context: sighted.context.clone(),
        }),
    }
}

/// The escalation a breach of this severity makes without anyone deciding, if it does.
pub fn automatic_escalation(
    id: Uuid,
    category: &str,
    severity: u8,
    first_seen: i64,
) -> Option<BreachEscalated> {
    escalates_automatically(severity).then(|| BreachEscalated {
        breach_id: id,
        category: category.to_owned(),
        severity,
        trigger: EscalationTrigger::Automatic,
        detected_at: time(first_seen),
        restricted: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sightings_continue_a_breach_within_the_hour_of_its_first() {
        assert!(continues(1000, 1000));
        assert!(continues(1000, 1000 + WINDOW_SECONDS - 1));
        assert!(!continues(1000, 1000 + WINDOW_SECONDS));
        assert!(
            !continues(1000, 999),
            "earlier sightings are a breach of their own"
        );
    }

    #[test]
    fn severity_four_and_above_escalates_without_anyone_deciding() {
        let id = Uuid::now_v7();
        assert!(automatic_escalation(id, "gambling", 3, 0).is_none());
        let escalated = automatic_escalation(id, "self_harm", 4, 0).unwrap();
        assert_eq!(
            (escalated.trigger, escalated.severity),
            (EscalationTrigger::Automatic, 4)
        );
        assert!(automatic_escalation(id, "illegal", 5, 0).is_some());
    }
}
