//! A breach's life after it is recorded: triaged (genuine, a false positive, or over-blocking) by the
//! DSL or the technician by a deadline, as a concern is acknowledged; the parents or carers of a pupil
//! involved told by a deadline (RAPS 7.3.2); escalated to a concern by a person (grave ones already
//! are); resolved with an outcome. `handle` decides a command's events from the state; `apply` makes
//! the state from events.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use trustsafe_events::aup::RosterKind;
use trustsafe_events::filtering::{
    BreachEscalated, BreachNote, BreachParentsInformed, BreachRecorded, BreachResolved, BreachTriaged,
    EscalationTrigger, ParentsTold, Resolution, Verdict,
};
use uuid::Uuid;

use super::categories::ILLEGAL;
use super::refusal::{Refusal, optional, text};

/// How long the DSL and technician have to triage: grave breaches the same morning, others the next day.
pub fn triage_within(severity: u8) -> Duration {
    if severity >= 4 {
        Duration::hours(4)
    } else {
        Duration::hours(24)
    }
}

/// How long after a genuine breach by a pupil is found the parents are to be told.
pub const PARENTS_WITHIN_HOURS: i64 = 48;

/// Where a breach stands: kept beside its row, made only by [`Life::apply`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Life {
    pub breach_id: Uuid,
    pub category: String,
    pub severity: u8,
    pub recorded_at: DateTime<Utc>,
    pub pupil_involved: bool,
    pub triage_due: DateTime<Utc>,
    pub verdict: Option<Verdict>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub parents_due: Option<DateTime<Utc>>,
    pub parents_informed_at: Option<DateTime<Utc>>,
    pub escalated: bool,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Triage {
        verdict: Verdict,
        note: Option<String>,
    },
    InformParents {
        how: String,
        note: Option<String>,
    },
    Escalate {
        reason: String,
    },
    Resolve {
        outcome: String,
        parents_not_informed_because: Option<String>,
    },
}

/// An event of a breach's stream after its first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LifeEvent {
    Triaged(BreachTriaged),
    ParentsInformed(BreachParentsInformed),
    Escalated(BreachEscalated),
    Resolved(BreachResolved),
}

/// What a command does, before its body is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Triage,
    InformParents,
    Escalate,
    Resolve,
}

impl Step {
    /// Whether someone who reads breaches may take this step: the technician triages beside the DSL;
    /// telling parents, escalating and resolving are the safeguarding leads' (`lead`).
    pub fn may(self, lead: bool) -> bool {
        self == Step::Triage || lead
    }
}

impl Command {
    pub fn step(&self) -> Step {
        match self {
            Command::Triage { .. } => Step::Triage,
            Command::InformParents { .. } => Step::InformParents,
            Command::Escalate { .. } => Step::Escalate,
            Command::Resolve { .. } => Step::Resolve,
        }
    }
}

impl Life {
    /// A breach just recorded at `recorded_at` (and escalated at once when `escalated`).
    pub fn recorded(record: &BreachRecorded, escalated: bool, recorded_at: DateTime<Utc>) -> Self {
        Self {
            breach_id: record.breach_id,
            category: record.category.clone(),
            severity: record.severity,
            recorded_at,
            pupil_involved: record
                .involved
                .is_some_and(|involved| involved.kind == RosterKind::Pupil),
            triage_due: record.triage_by,
            verdict: None,
            triaged_at: None,
            parents_due: None,
            parents_informed_at: None,
            escalated,
            resolved_at: None,
        }
    }

    /// More sightings at `now`: a graver one shortens a triage deadline not yet met; an escalation is noted.
    pub fn seen_again(&mut self, severity: u8, escalated: bool, now: DateTime<Utc>) {
        if severity > self.severity {
            self.severity = severity;
            if self.triaged_at.is_none() {
                self.triage_due = self.triage_due.min(now + triage_within(severity));
            }
        }
        self.escalated |= escalated;
    }

    /// The steps still owed and their deadlines: none once resolved.
    pub fn owed(&self) -> Vec<(&'static str, DateTime<Utc>)> {
        let mut owed = Vec::new();
        if self.resolved_at.is_none() {
            if self.triaged_at.is_none() {
                owed.push(("triage", self.triage_due));
            }
            if let (None, Some(due)) = (self.parents_informed_at, self.parents_due) {
                owed.push(("parents_informed", due));
            }
        }
        owed
    }

    /// The earliest deadline still owed: a breach is overdue once `now` is past it.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.owed().into_iter().map(|(_, due)| due).min()
    }

    /// The steps past their deadline at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> Vec<&'static str> {
        self.owed()
            .into_iter()
            .filter(|(_, due)| now > *due)
            .map(|(step, _)| step)
            .collect()
    }

    /// The events `command` makes at `now`, or why it may not.
    pub fn handle(&self, command: Command, now: DateTime<Utc>) -> Result<Vec<LifeEvent>, Refusal> {
        if self.resolved_at.is_some() {
            return Err(Refusal::Conflict("The breach is resolved.".into()));
        }
        let id = self.breach_id;
        match command {
            Command::Triage { verdict, note } => {
                if self.verdict.is_some() {
                    return Err(Refusal::Conflict("The breach is triaged already.".into()));
                }
                if verdict == Verdict::OverBlocking && self.category == ILLEGAL {
                    return Err(Refusal::Refused(
                        "Illegal content (IWF list, unlawful terrorist content) is never over-blocked: its blocking cannot be switched off.".into(),
                    ));
                }
                let owes_parents = verdict == Verdict::Genuine && self.pupil_involved;
                Ok(vec![LifeEvent::Triaged(BreachTriaged {
                    breach_id: id,
                    verdict,
                    on_time: now <= self.triage_due,
                    parents_by: owes_parents.then(|| now + Duration::hours(PARENTS_WITHIN_HOURS)),
                    restricted: Some(BreachNote {
                        note: optional("note", note.as_deref())?,
                    }),
                })])
            }
            Command::InformParents { how, note } => {
                let how = text("how", &how, true)?.unwrap_or_default();
                if !self.pupil_involved {
                    return Err(Refusal::Refused(
                        "No pupil on the roster is involved in this breach.".into(),
                    ));
                }
                if self.verdict != Some(Verdict::Genuine) {
                    return Err(Refusal::Conflict(
                        "Parents are told of a breach triaged as genuine.".into(),
                    ));
                }
                if self.parents_informed_at.is_some() {
                    return Err(Refusal::Conflict("The parents were told already.".into()));
                }
                Ok(vec![LifeEvent::ParentsInformed(BreachParentsInformed {
                    breach_id: id,
                    on_time: self.parents_due.is_none_or(|due| now <= due),
                    restricted: Some(ParentsTold {
                        how,
                        note: optional("note", note.as_deref())?,
                    }),
                })])
            }
            Command::Escalate { reason } => {
                let reason = text("reason", &reason, true)?;
                if self.escalated {
                    return Err(Refusal::Conflict("The breach is a concern already.".into()));
                }
                if self.verdict == Some(Verdict::FalsePositive) {
                    return Err(Refusal::Conflict("A false positive is not a concern.".into()));
                }
                Ok(vec![LifeEvent::Escalated(BreachEscalated {
                    breach_id: id,
                    category: self.category.clone(),
                    severity: self.severity,
                    trigger: EscalationTrigger::Manual,
                    detected_at: self.recorded_at,
                    restricted: Some(BreachNote { note: reason }),
                })])
            }
            Command::Resolve {
                outcome,
                parents_not_informed_because,
            } => {
                let outcome = text("outcome", &outcome, true)?.unwrap_or_default();
                let because = optional(
                    "parents_not_informed_because",
                    parents_not_informed_because.as_deref(),
                )?;
                if self.verdict.is_none() {
                    return Err(Refusal::Conflict("Triage the breach before resolving it.".into()));
                }
                let parents_owed = self.parents_due.is_some() && self.parents_informed_at.is_none();
                if parents_owed && because.is_none() {
                    return Err(Refusal::Refused(
                        "A pupil was involved: tell their parents or carers first, or give parents_not_informed_because.".into(),
                    ));
                }
                Ok(vec![LifeEvent::Resolved(BreachResolved {
                    breach_id: id,
                    parents_informed: self.parents_informed_at.is_some(),
                    restricted: Some(Resolution {
                        outcome,
                        parents_not_informed_because: because.filter(|_| parents_owed),
                    }),
                })])
            }
        }
    }

    /// The state after `event`, which happened at `at`.
    pub fn apply(&mut self, event: &LifeEvent, at: DateTime<Utc>) {
        match event {
            LifeEvent::Triaged(triaged) => {
                self.verdict = Some(triaged.verdict);
                self.triaged_at = Some(at);
                self.parents_due = triaged.parents_by;
            }
            LifeEvent::ParentsInformed(_) => self.parents_informed_at = Some(at),
            LifeEvent::Escalated(_) => self.escalated = true,
            LifeEvent::Resolved(_) => self.resolved_at = Some(at),
        }
    }

    /// The roster learned at `at` who it was: a pupil found after a genuine verdict is owed to their
    /// parents from then.
    pub fn attributed(&mut self, kind: RosterKind, at: DateTime<Utc>) {
        self.pupil_involved = kind == RosterKind::Pupil;
        if self.pupil_involved && self.verdict == Some(Verdict::Genuine) && self.parents_due.is_none() {
            self.parents_due = Some(at + Duration::hours(PARENTS_WITHIN_HOURS));
        }
    }
}

#[cfg(test)]
mod tests {
    use trustsafe_events::filtering::{BreachAction, BreachSource, Involved};

    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        "2026-11-30T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::hours(hours)
    }

    fn given(category: &str, severity: u8, pupil: bool) -> Life {
        let record = BreachRecorded {
            breach_id: Uuid::now_v7(),
            source: BreachSource::Log,
            feed: None,
            category: category.into(),
            severity,
            vendor_category: None,
            vendor_severity: None,
            action: BreachAction::Blocked,
            first_seen: at(0),
            last_seen: at(0),
            count: 1,
            triage_by: at(0) + triage_within(severity),
            involved: pupil.then_some(Involved {
                kind: RosterKind::Pupil,
                year_group: Some(6),
            }),
            host_key: None,
            restricted: None,
        };
        Life::recorded(&record, false, at(0))
    }

    /// Applies what `command` makes at `hours`; the events.
    fn when(life: &mut Life, command: Command, hours: i64) -> Result<Vec<LifeEvent>, Refusal> {
        let events = life.handle(command, at(hours))?;
        for event in &events {
            life.apply(event, at(hours));
        }
        Ok(events)
    }

    fn triage(verdict: Verdict) -> Command {
        Command::Triage { verdict, note: None }
    }

    fn tell() -> Command {
        Command::InformParents {
            how: "phone".into(),
            note: None,
        }
    }

    fn resolve(because: Option<&str>) -> Command {
        Command::Resolve {
            outcome: "Talked it through".into(),
            parents_not_informed_because: because.map(str::to_owned),
        }
    }

    #[test]
    fn given_a_pupils_genuine_breach_then_parents_are_owed_by_a_deadline_before_it_resolves() {
        let mut life = given("gambling", 2, true);
        assert_eq!(life.overdue(at(25)), ["triage"]);
        let triaged = when(&mut life, triage(Verdict::Genuine), 1).unwrap();
        assert!(matches!(&triaged[0], LifeEvent::Triaged(event) if event.on_time));
        assert_eq!(life.parents_due, Some(at(49)));
        assert_eq!(life.overdue(at(50)), ["parents_informed"]);
        assert!(matches!(
            when(&mut life, resolve(None), 2),
            Err(Refusal::Refused(_))
        ));
        let told = when(&mut life, tell(), 50).unwrap();
        assert!(matches!(&told[0], LifeEvent::ParentsInformed(event) if !event.on_time));
        let resolved = when(&mut life, resolve(None), 51).unwrap();
        assert!(matches!(&resolved[0], LifeEvent::Resolved(event) if event.parents_informed));
        assert!(life.overdue(at(100)).is_empty());
        assert!(matches!(when(&mut life, tell(), 52), Err(Refusal::Conflict(_))));
    }

    #[test]
    fn given_a_reason_not_to_tell_then_it_resolves_and_keeps_the_reason() {
        let mut life = given("self_harm", 4, true);
        assert_eq!(life.triage_due, at(4), "grave breaches are triaged within hours");
        when(&mut life, triage(Verdict::Genuine), 5).unwrap();
        let resolved = when(
            &mut life,
            resolve(Some("Telling home would put the child at risk")),
            6,
        )
        .unwrap();
        let LifeEvent::Resolved(event) = &resolved[0] else {
            panic!()
        };
        assert_eq!(
            event
                .restricted
                .as_ref()
                .unwrap()
                .parents_not_informed_because
                .as_deref(),
            Some("Telling home would put the child at risk")
        );
    }

    #[test]
    fn given_graver_sightings_before_triage_then_the_deadline_draws_in() {
        let mut life = given("violence", 3, false);
        assert_eq!(life.triage_due, at(24));
        life.seen_again(4, true, at(2));
        assert_eq!((life.triage_due, life.severity, life.escalated), (at(6), 4, true));
        assert_eq!(life.next_due(), Some(at(6)));
        assert_eq!(life.overdue(at(7)), ["triage"]);
    }

    #[test]
    fn given_no_pupil_then_no_parents_are_owed() {
        let mut life = given("gambling", 2, false);
        when(&mut life, triage(Verdict::Genuine), 1).unwrap();
        assert!(matches!(when(&mut life, tell(), 2), Err(Refusal::Refused(_))));
        when(&mut life, resolve(None), 2).unwrap();
    }

    #[test]
    fn given_a_pupil_found_after_triage_then_parents_become_owed() {
        let mut life = given("gambling", 2, false);
        when(&mut life, triage(Verdict::Genuine), 1).unwrap();
        life.attributed(RosterKind::Pupil, at(3));
        assert_eq!(life.parents_due, Some(at(51)));
    }

    #[test]
    fn illegal_content_cannot_be_called_over_blocking_and_nothing_is_done_twice() {
        let mut life = given("illegal", 5, false);
        assert!(matches!(
            when(&mut life, triage(Verdict::OverBlocking), 1),
            Err(Refusal::Refused(_))
        ));
        when(&mut life, triage(Verdict::Genuine), 1).unwrap();
        assert!(matches!(
            when(&mut life, triage(Verdict::FalsePositive), 1),
            Err(Refusal::Conflict(_))
        ));
        let mut escalated = given("gambling", 2, false);
        when(
            &mut escalated,
            Command::Escalate {
                reason: "Third time this week".into(),
            },
            1,
        )
        .unwrap();
        assert!(matches!(
            when(
                &mut escalated,
                Command::Escalate {
                    reason: "again".into()
                },
                1
            ),
            Err(Refusal::Conflict(_))
        ));
    }

    #[test]
    fn false_positives_are_not_escalated_and_resolving_needs_triage_and_an_outcome() {
        let mut life = given("pornography", 3, false);
        assert!(matches!(
            when(&mut life, resolve(None), 1),
            Err(Refusal::Conflict(_))
        ));
        when(&mut life, triage(Verdict::FalsePositive), 1).unwrap();
        assert!(matches!(
            when(&mut life, Command::Escalate { reason: "x".into() }, 1),
            Err(Refusal::Conflict(_))
        ));
        let empty = Command::Resolve {
            outcome: "  ".into(),
            parents_not_informed_because: None,
        };
        assert_eq!(
            when(&mut life, empty, 2),
            Err(Refusal::Invalid("outcome", "is required".into()))
        );
        assert!(matches!(
            when(&mut life, Command::Escalate { reason: "".into() }, 1),
            Err(Refusal::Invalid("reason", _))
        ));
    }
}
