//! A change to a school's filtering policy, as the DfE standards and both policies ask: proposed,
//! risk-assessed by two different people (one with educational, one with technical experience),
//! approved or rejected by leadership, then applied in the filter. Every step is an event on the
//! change's stream; the streams are the change log. Blocking illegal content can never be switched
//! off. `propose` and `handle` decide events; `apply` makes the state from them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use trustsafe_events::filtering::duties::{
    ChangeAction, ChangeReason, FilterChangeApplied, FilterChangeAssessed, FilterChangeDecided,
    FilterChangeProposed, Perspective, Risk, StepNote,
};
use uuid::Uuid;

use super::categories::{ILLEGAL, illegal_marked, is_category_name};
use super::refusal::{Refusal, optional, text};
use super::suppression::is_host_name;

/// What someone proposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub action: ChangeAction,
    pub host: Option<String>,
    pub category: Option<String>,
    pub reason: String,
    pub from_breach: Option<Uuid>,
}

/// What the school's records know of the proposal's host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// A breach at the school found illegal content at the host, a subdomain of it, or a domain it is under.
    pub illegal_at_host: bool,
}

/// Decides a proposal's event: one target (a host or a normalised category), a reason, and never an
/// unblocking of illegal content.
pub fn propose(
    proposal: Proposal,
    known: Known,
    change_id: Uuid,
    proposed_by: &str,
) -> Result<FilterChangeProposed, Refusal> {
    let clean = |value: Option<String>| {
        value
            .map(|value| value.trim().to_lowercase())
            .filter(|value| !value.is_empty())
    };
    let (host, category) = (clean(proposal.host), clean(proposal.category));
    match (&host, &category) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(Refusal::Invalid(
                "host",
                "give a host or a category, not both".into(),
            ));
        }
        (Some(host), None) if !is_host_name(host) => {
            return Err(Refusal::Invalid(
                "host",
                "is a host name such as games.example".into(),
            ));
        }
        (None, Some(category)) if !is_category_name(category) => {
            return Err(Refusal::Invalid(
                "category",
                "is a standard category or a school's own, in a-z, 0-9 and _ (at most 40)".into(),
            ));
        }
        _ => {}
    }
    let reason = text("reason", &proposal.reason, true)?.unwrap_or_default();
    let illegal = known.illegal_at_host
        || category.as_deref() == Some(ILLEGAL)
        || host.as_deref().is_some_and(illegal_marked)
        || category.as_deref().is_some_and(illegal_marked);
    if proposal.action == ChangeAction::Unblock && illegal {
        return Err(Refusal::Refused(
            "Blocking illegal content (the IWF list, unlawful terrorist content) can never be switched off."
                .into(),
        ));
    }
    Ok(FilterChangeProposed {
        change_id,
        action: proposal.action,
        host,
        category,
        from_breach: proposal.from_breach,
        restricted: Some(ChangeReason {
            reason,
            proposed_by: proposed_by.to_owned(),
        }),
    })
}

/// One risk assessment, as kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub perspective: Perspective,
    pub risk: Risk,
    pub by: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A step someone took after the proposal, as kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taken {
    pub by: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// Where a change stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeState {
    /// Waiting for its educational and technical risk assessments.
    Proposed,
    /// Both assessments made: waiting for leadership.
    Assessed,
    /// Approved: waiting to be made in the filter.
    Approved,
    Rejected,
    Applied,
}

/// A change, made only by [`Change::proposed`] and [`Change::apply`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub change_id: Uuid,
    pub action: ChangeAction,
    pub host: Option<String>,
    pub category: Option<String>,
    pub from_breach: Option<Uuid>,
    pub reason: String,
    pub proposed: Taken,
    pub assessments: Vec<Assessment>,
    pub approved: Option<bool>,
    pub decided: Option<Taken>,
    pub applied: Option<Taken>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Assess {
        perspective: Perspective,
        risk: Risk,
        note: Option<String>,
    },
    Decide {
        approved: bool,
        note: Option<String>,
    },
    Apply {
        note: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeEvent {
    Assessed(FilterChangeAssessed),
    Decided(FilterChangeDecided),
    Applied(FilterChangeApplied),
}

/// What the caller holds at the school, for who may take which step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holds {
    /// A safeguarding lead (the DSL, a deputy, the headteacher, the trust's lead): educational experience.
    pub safeguarding_lead: bool,
    /// The technician: technical experience, and the hands that change the filter.
    pub technician: bool,
    /// Leadership: the headteacher or the trust's safeguarding lead.
    pub leadership: bool,
}

/// What a command does, before its body is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Assess,
    Decide,
    Apply,
}

impl Step {
    /// Whether someone holding `holds` may take this step in some form (an assessment from their side).
    pub fn may(self, holds: Holds) -> bool {
        match self {
            Step::Assess => holds.safeguarding_lead || holds.technician,
            Step::Decide => holds.leadership,
            Step::Apply => holds.technician,
        }
    }
}

impl Command {
    pub fn step(&self) -> Step {
        match self {
            Command::Assess { .. } => Step::Assess,
            Command::Decide { .. } => Step::Decide,
            Command::Apply { .. } => Step::Apply,
        }
    }

    /// Whether someone holding `holds` may do this: each perspective is assessed by someone with that
    /// experience, leadership decides, the technician applies.
    pub fn may(&self, holds: Holds) -> bool {
        match self {
            Command::Assess {
                perspective: Perspective::Educational,
                ..
            } => holds.safeguarding_lead,
            Command::Assess {
                perspective: Perspective::Technical,
                ..
            } => holds.technician,
            Command::Decide { .. } => holds.leadership,
            Command::Apply { .. } => holds.technician,
        }
    }
}

impl Change {
    pub fn proposed(event: &FilterChangeProposed, at: DateTime<Utc>) -> Self {
        let restricted = event.restricted.clone();
        Self {
            change_id: event.change_id,
            action: event.action,
            host: event.host.clone(),
            category: event.category.clone(),
            from_breach: event.from_breach,
            reason: restricted.as_ref().map(|r| r.reason.clone()).unwrap_or_default(),
            proposed: Taken {
                by: restricted.map(|r| r.proposed_by).unwrap_or_default(),
                note: None,
                at,
            },
            assessments: Vec::new(),
            approved: None,
            decided: None,
            applied: None,
        }
    }

    pub fn state(&self) -> ChangeState {
        match (self.approved, &self.applied) {
            (_, Some(_)) => ChangeState::Applied,
            (Some(true), None) => ChangeState::Approved,
            (Some(false), None) => ChangeState::Rejected,
            (None, None) if self.assessments.len() == 2 => ChangeState::Assessed,
            (None, None) => ChangeState::Proposed,
        }
    }

    /// The event `command` by `by` (a subject) makes, or why not.
    pub fn handle(&self, command: Command, by: &str) -> Result<ChangeEvent, Refusal> {
        let state = self.state();
        match command {
            Command::Assess {
                perspective,
                risk,
                note,
            } => {
                if state != ChangeState::Proposed {
                    return Err(Refusal::Conflict(
                        "The change is past its risk assessment.".into(),
                    ));
                }
                if self.assessments.iter().any(|a| a.perspective == perspective) {
                    return Err(Refusal::Conflict(format!(
                        "The change has its {} assessment already.",
                        perspective_word(perspective)
                    )));
                }
                if self.assessments.iter().any(|a| a.by == by) {
                    return Err(Refusal::Refused(
                        "A change is risk-assessed by two different people: the other assessment is yours."
                            .into(),
                    ));
                }
                Ok(ChangeEvent::Assessed(FilterChangeAssessed {
                    change_id: self.change_id,
                    perspective,
                    risk,
                    restricted: Some(step_note(by, optional("note", note.as_deref())?)),
                }))
            }
            Command::Decide { approved, note } => {
                match state {
                    ChangeState::Proposed => {
                        return Err(Refusal::Conflict(
                            "The change awaits its educational and technical risk assessments.".into(),
                        ));
                    }
                    ChangeState::Assessed => {}
                    _ => return Err(Refusal::Conflict("The change is decided already.".into())),
                }
                let note = optional("note", note.as_deref())?;
                if !approved && note.is_none() {
                    return Err(Refusal::Invalid("note", "says why the change is rejected".into()));
                }
                Ok(ChangeEvent::Decided(FilterChangeDecided {
                    change_id: self.change_id,
                    approved,
                    restricted: Some(step_note(by, note)),
                }))
            }
            Command::Apply { note } => match state {
                ChangeState::Approved => Ok(ChangeEvent::Applied(FilterChangeApplied {
                    change_id: self.change_id,
                    restricted: Some(step_note(by, optional("note", note.as_deref())?)),
                })),
                ChangeState::Applied => Err(Refusal::Conflict("The change is applied already.".into())),
                _ => Err(Refusal::Conflict("Only an approved change is applied.".into())),
            },
        }
    }

    pub fn apply(&mut self, event: &ChangeEvent, at: DateTime<Utc>) {
        let taken = |note: &Option<StepNote>| Taken {
            by: note.as_ref().map(|n| n.by.clone()).unwrap_or_default(),
            note: note.as_ref().and_then(|n| n.note.clone()),
            at,
        };
        match event {
            ChangeEvent::Assessed(event) => self.assessments.push(Assessment {
                perspective: event.perspective,
                risk: event.risk,
                by: taken(&event.restricted).by,
                note: taken(&event.restricted).note,
                at,
            }),
            ChangeEvent::Decided(event) => {
                self.approved = Some(event.approved);
                self.decided = Some(taken(&event.restricted));
            }
            ChangeEvent::Applied(event) => self.applied = Some(taken(&event.restricted)),
        }
    }
}

fn step_note(by: &str, note: Option<String>) -> StepNote {
    StepNote {
        by: by.to_owned(),
        note,
    }
}

fn perspective_word(perspective: Perspective) -> &'static str {
    match perspective {
        Perspective::Educational => "educational",
        Perspective::Technical => "technical",
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0).unwrap()
    }

    fn unblock_host(host: &str) -> Proposal {
        Proposal {
            action: ChangeAction::Unblock,
            host: Some(host.into()),
            category: None,
            reason: "Needed for Year 6 history".into(),
            from_breach: None,
        }
    }

    fn given(proposal: Proposal) -> Change {
        let event = propose(proposal, Known::default(), Uuid::now_v7(), "tech-1").unwrap();
        Change::proposed(&event, at(9))
    }

    fn when(change: &mut Change, command: Command, by: &str, hour: u32) -> Result<ChangeEvent, Refusal> {
        let event = change.handle(command, by)?;
        change.apply(&event, at(hour));
        Ok(event)
    }

    fn assess(perspective: Perspective) -> Command {
        Command::Assess {
            perspective,
            risk: Risk::Low,
            note: None,
        }
    }

    #[test]
    fn given_a_proposal_then_two_people_assess_leadership_approves_and_the_technician_applies() {
        let mut change = given(unblock_host("Museum.Example"));
        assert_eq!(change.host.as_deref(), Some("museum.example"));
        assert_eq!(change.state(), ChangeState::Proposed);
        when(&mut change, assess(Perspective::Educational), "dsl-1", 10).unwrap();
        assert_eq!(
            change.state(),
            ChangeState::Proposed,
            "one assessment is not enough"
        );
        when(&mut change, assess(Perspective::Technical), "tech-1", 11).unwrap();
        assert_eq!(change.state(), ChangeState::Assessed);
        when(
            &mut change,
            Command::Decide {
                approved: true,
                note: None,
            },
            "head-1",
            12,
        )
        .unwrap();
        assert_eq!(change.state(), ChangeState::Approved);
        when(
            &mut change,
            Command::Apply {
                note: Some("Allowed in Lightspeed".into()),
            },
            "tech-1",
            13,
        )
        .unwrap();
        assert_eq!(change.state(), ChangeState::Applied);
        assert_eq!(change.applied.as_ref().unwrap().at, at(13));
    }

    #[test]
    fn given_one_persons_assessment_then_they_cannot_make_the_other() {
        let mut change = given(unblock_host("museum.example"));
        when(&mut change, assess(Perspective::Educational), "dsl-1", 10).unwrap();
        assert!(matches!(
            when(&mut change, assess(Perspective::Technical), "dsl-1", 10),
            Err(Refusal::Refused(_))
        ));
        assert!(matches!(
            when(&mut change, assess(Perspective::Educational), "deputy-1", 10),
            Err(Refusal::Conflict(_)),
        ));
        assert_eq!(change.assessments.len(), 1);
    }

    #[test]
    fn given_an_unassessed_change_then_it_is_neither_decided_nor_applied() {
        let mut change = given(unblock_host("museum.example"));
        assert!(matches!(
            when(
                &mut change,
                Command::Decide {
                    approved: true,
                    note: None
                },
                "head-1",
                10
            ),
            Err(Refusal::Conflict(_))
        ));
        assert!(matches!(
            when(&mut change, Command::Apply { note: None }, "tech-1", 10),
            Err(Refusal::Conflict(_))
        ));
    }

    #[test]
    fn given_a_rejection_then_it_says_why_and_is_never_applied() {
        let mut change = given(unblock_host("museum.example"));
        when(&mut change, assess(Perspective::Educational), "dsl-1", 10).unwrap();
        when(&mut change, assess(Perspective::Technical), "tech-1", 10).unwrap();
        assert!(matches!(
            when(
                &mut change,
                Command::Decide {
                    approved: false,
                    note: None
                },
                "head-1",
                11
            ),
            Err(Refusal::Invalid("note", _))
        ));
        when(
            &mut change,
            Command::Decide {
                approved: false,
                note: Some("Not needed".into()),
            },
            "head-1",
            11,
        )
        .unwrap();
        assert_eq!(change.state(), ChangeState::Rejected);
        assert!(matches!(
            when(&mut change, Command::Apply { note: None }, "tech-1", 12),
            Err(Refusal::Conflict(_))
        ));
    }

    #[test]
    fn unblocking_illegal_content_is_refused_however_it_is_named() {
        let category = Proposal {
            action: ChangeAction::Unblock,
            host: None,
            category: Some("illegal".into()),
            reason: "x".into(),
            from_breach: None,
        };
        let refused = |proposal: Proposal, known: Known| {
            matches!(
                propose(proposal, known, Uuid::now_v7(), "dsl-1"),
                Err(Refusal::Refused(_))
            )
        };
        assert!(refused(category.clone(), Known::default()));
        assert!(refused(unblock_host("iwf.example"), Known::default()));
        assert!(refused(
            unblock_host("games.example"),
            Known {
                illegal_at_host: true
            }
        ));
        let block = Proposal {
            action: ChangeAction::Block,
            ..category
        };
        assert!(
            propose(block, Known::default(), Uuid::now_v7(), "dsl-1").is_ok(),
            "blocking it more is fine"
        );
    }

    #[test]
    fn a_proposal_names_one_wellformed_target_and_a_reason() {
        let both = Proposal {
            category: Some("gaming".into()),
            ..unblock_host("games.example")
        };
        let no_reason = Proposal {
            reason: "  ".into(),
            ..unblock_host("games.example")
        };
        for (proposal, field) in [
            (both, "host"),
            (unblock_host("not a host"), "host"),
            (
                Proposal {
                    host: None,
                    category: Some("Gaming!".into()),
                    ..unblock_host("x")
                },
                "category",
            ),
            (no_reason, "reason"),
        ] {
            assert!(matches!(
                propose(proposal, Known::default(), Uuid::now_v7(), "dsl-1"),
                Err(Refusal::Invalid(name, _)) if name == field
            ));
        }
    }

    #[test]
    fn who_may_take_each_step() {
        let lead = Holds {
            safeguarding_lead: true,
            ..Holds::default()
        };
        let technician = Holds {
            technician: true,
            ..Holds::default()
        };
        let head = Holds {
            safeguarding_lead: true,
            leadership: true,
            ..Holds::default()
        };
        assert!(
            assess(Perspective::Educational).may(lead) && !assess(Perspective::Educational).may(technician)
        );
        assert!(assess(Perspective::Technical).may(technician) && !assess(Perspective::Technical).may(head));
        let decide = Command::Decide {
            approved: true,
            note: None,
        };
        assert!(decide.may(head) && !decide.may(lead) && !decide.may(technician));
        let apply = Command::Apply { note: None };
        assert!(apply.may(technician) && !apply.may(head));
        let governor = Holds::default();
        for step in [Step::Assess, Step::Decide, Step::Apply] {
            assert!(!step.may(governor), "{step:?}");
        }
        assert!(Step::Assess.may(lead) && Step::Assess.may(technician) && !Step::Decide.may(technician));
    }
}
