//! The concern aggregate: a command and the concern's history decide the new events (`handle`); events
//! make the state (`apply`). Reported → acknowledged → steps, referrals and notes → closed (outcome and
//! lessons learned) → possibly reopened.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use trustsafe_events::incident::{
    Agency, Category, ClosureNarrative, ConcernSource, IncidentAcknowledged, IncidentClosed,
    IncidentEscalatedToTrust, IncidentNoteAdded, IncidentReferralRecorded, IncidentReopened,
    IncidentReported, IncidentStepCompleted, NoteAndReference, PersonInvolved, PersonKind, PersonRole,
    PlannedStep, ReportNarrative, SubjectStaffRole, Text, Workflow,
};
use trustsafe_events::{Actor, DecodeError, Envelope, Event};
use uuid::Uuid;

use super::DomainError;
use super::access::{Access, Route, Viewer, Visibility};
use super::deadline::due;
use super::workflow::{Facts, steps_for};

/// Longest texts accepted, in characters.
pub const SUMMARY_MAX: usize = 200;
pub const TEXT_MAX: usize = 20_000;
const REFERENCE_MAX: usize = 200;
const PEOPLE_MAX: usize = 50;
/// How far in the future `occurred_at` may be (clocks differ).
const CLOCK_SKEW_MINUTES: i64 = 5;

/// Every event of a concern's stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConcernEvent {
    Reported(IncidentReported),
    Acknowledged(IncidentAcknowledged),
    StepCompleted(IncidentStepCompleted),
    ReferralRecorded(IncidentReferralRecorded),
    NoteAdded(IncidentNoteAdded),
    EscalatedToTrust(IncidentEscalatedToTrust),
    Closed(IncidentClosed),
    Reopened(IncidentReopened),
}

impl ConcernEvent {
    pub fn decode(envelope: &Envelope) -> Result<Self, DecodeError> {
        Ok(match envelope.event_type.as_str() {
            report if IncidentReported::is(report) => Self::Reported(IncidentReported::read(envelope)?),
            IncidentAcknowledged::TYPE => Self::Acknowledged(envelope.decode()?),
            IncidentStepCompleted::TYPE => Self::StepCompleted(envelope.decode()?),
            IncidentReferralRecorded::TYPE => Self::ReferralRecorded(envelope.decode()?),
            IncidentNoteAdded::TYPE => Self::NoteAdded(envelope.decode()?),
            IncidentEscalatedToTrust::TYPE => Self::EscalatedToTrust(envelope.decode()?),
            IncidentClosed::TYPE => Self::Closed(envelope.decode()?),
            IncidentReopened::TYPE => Self::Reopened(envelope.decode()?),
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        })
    }
}

/// Who did something, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub by: String,
    pub role: Option<String>,
}

impl Stamp {
    fn new(at: DateTime<Utc>, actor: &Actor) -> Self {
        Self {
            at,
            by: actor.subject.clone(),
            role: actor.role.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for the DSL's acknowledgement.
    Reported,
    Acknowledged,
    Closed,
    /// Closed once, open again.
    Reopened,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Reported,
        Status::Acknowledged,
        Status::Closed,
        Status::Reopened,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Acknowledged => "acknowledged",
            Status::Closed => "closed",
            Status::Reopened => "reopened",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub planned: PlannedStep,
    pub completed: Option<CompletedStep>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedStep {
    pub stamp: Stamp,
    pub note: Option<String>,
    pub reference: Option<String>,
    pub by_referral: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referral {
    pub id: Uuid,
    pub agency: Agency,
    pub stamp: Stamp,
    pub reference: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub id: Uuid,
    pub stamp: Stamp,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closure {
    pub stamp: Stamp,
    pub narrative: Option<ClosureNarrative>,
    pub overridden_steps: Vec<String>,
}

/// Something said with a stamp: an escalation's or a reopening's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reasoned {
    pub stamp: Stamp,
    pub reason: Option<String>,
}

/// A concern as its events make it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Concern {
    pub id: Uuid,
    pub school_id: String,
    pub report: IncidentReported,
    pub reported: Stamp,
    pub status: Status,
    pub acknowledgement: Option<Stamp>,
    pub steps: Vec<Step>,
    pub referrals: Vec<Referral>,
    pub notes: Vec<Note>,
    pub escalation: Option<Reasoned>,
    pub closure: Option<Closure>,
    pub reopenings: Vec<Reasoned>,
    /// The stream version: the number of events applied.
    pub version: i64,
}

/// A new report, as a member of staff (or the service, for a filtering breach) gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReport {
    pub category: Category,
    pub summary: String,
    pub description: String,
    pub occurred_at: DateTime<Utc>,
    pub location: Option<String>,
    pub subject_staff_role: Option<SubjectStaffRole>,
    pub people: Vec<PersonInvolved>,
    /// What the school's roster says of the people named by roster id: each one it holds (and has
    /// not removed), with their kind. An id it does not hold is absent.
    pub roster: HashMap<Uuid, PersonKind>,
    pub device_involved: bool,
    pub immediate_risk: bool,
    pub source: ConcernSource,
}

/// A change to a concern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Acknowledge,
    CompleteStep {
        step_id: String,
        note: Option<String>,
        reference: Option<String>,
    },
    RecordReferral {
        agency: Agency,
        reference: Option<String>,
        note: Option<String>,
    },
    AddNote {
        text: String,
    },
    EscalateToTrust {
        reason: String,
    },
    Close {
        outcome: String,
        lessons_learned: String,
        override_reason: Option<String>,
    },
    Reopen {
        reason: String,
    },
}

/// What a command is decided with besides the concern: who, when, and an id for anything it creates.
pub struct Context<'a> {
    pub viewer: &'a Viewer,
    pub now: DateTime<Utc>,
    pub new_id: Uuid,
}

/// A required, trimmed text of at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A step's or referral's note and reference, checked.
fn note_and_reference(
    note: Option<String>,
    reference: Option<String>,
) -> Result<NoteAndReference, DomainError> {
    Ok(NoteAndReference {
        note: optional_text("note", note.as_deref(), TEXT_MAX)?,
        reference: optional_text("reference", reference.as_deref(), REFERENCE_MAX)?,
    })
}

fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, DomainError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(field, value, max).map(Some),
    }
}

/// Plans a new concern: its steps and deadlines from the school's `workflow`. `by` is the reporting
/// member of staff; None when the service itself opens it (for a filtering breach).
/// A new concern's first event. `name_alleged` gives the log's pseudonym of someone alleged (the
/// deployment's keyed hash: it is not the domain's to know).
pub fn report(
    new: NewReport,
    by: Option<&Viewer>,
    workflow: (&Workflow, i64),
    id: Uuid,
    now: DateTime<Utc>,
    name_alleged: &dyn Fn(&str) -> String,
) -> Result<IncidentReported, DomainError> {
    if let Some(viewer) = by {
        viewer.may_report()?;
    }
    let summary = text("summary", &new.summary, SUMMARY_MAX)?;
    let description = text("description", &new.description, TEXT_MAX)?;
    let location = optional_text("location", new.location.as_deref(), SUMMARY_MAX)?;
    if new.occurred_at > now + Duration::minutes(CLOCK_SKEW_MINUTES) {
        return Err(DomainError::invalid("occurred_at", "is in the future"));
    }
    if new.category == Category::StaffOnlineConduct && new.subject_staff_role.is_none() {
        return Err(DomainError::invalid(
            "subject_staff_role",
            "is required for a staff-conduct concern: staff, dsl or headteacher",
        ));
    }
    if new.people.len() > PEOPLE_MAX {
        return Err(DomainError::invalid(
            "people",
            format!("at most {PEOPLE_MAX} people"),
        ));
    }
    for (n, person) in new.people.iter().enumerate() {
        named(n, person, &new.roster)?;
    }
    let staff_involved = new.subject_staff_role.is_some()
        || new
            .people
            .iter()
            .any(|person| person.kind == PersonKind::Staff && person.role == PersonRole::Alleged);
    let facts = Facts {
        staff_involved,
        immediate_risk: new.immediate_risk,
        device_involved: new.device_involved,
    };
    let (workflow, workflow_version) = workflow;
    let steps = steps_for(workflow, new.category, facts)
        .into_iter()
        .map(|step| PlannedStep {
            step_id: step.id.clone(),
            title: step.title.clone(),
            // Past the calendar's end (never, from a real clock) a step is due at once, not never.
            due_at: step.deadline.map(|deadline| due(now, deadline).unwrap_or(now)),
            completed_by_referral: step.completed_by_referral,
        })
        .collect();
    Ok(IncidentReported {
        incident_id: id,
        category: new.category,
        occurred_at: new.occurred_at,
        source: new.source,
        subject_staff_role: new.subject_staff_role,
        staff_involved,
        device_involved: new.device_involved,
        immediate_risk: new.immediate_risk,
        acknowledge_by: due(now, workflow.acknowledgement_deadline).unwrap_or(now),
        handled_by: Route::of(new.subject_staff_role).on_the_log(),
        alleged: alleged_keys(&new.people).map(|key| name_alleged(&key)).collect(),
        steps,
        workflow_version,
        restricted: Some(ReportNarrative {
            summary,
            description,
            location,
            people: new
                .people
                .into_iter()
                .map(|person| PersonInvolved {
                    person_ref: person.person_ref.map(|reference| reference.trim().to_owned()),
                    ..person
                })
                .collect(),
        }),
    })
}

/// Whether the `n`th person is named well: by a reference, a roster id the school's roster holds (of
/// the kind given), or both. An alleged member of staff is named by their reference (what they sign
/// in with) too, so that nothing of the concern reaches them.
fn named(n: usize, person: &PersonInvolved, roster: &HashMap<Uuid, PersonKind>) -> Result<(), DomainError> {
    if let Some(reference) = &person.person_ref {
        text(&format!("people[{n}].person_ref"), reference, REFERENCE_MAX)?;
    }
    match (&person.person_ref, person.person_id) {
        (None, None) => {
            return Err(DomainError::invalid(
                format!("people[{n}]"),
                "names no one: give person_id (picked from the roster) or person_ref",
            ));
        }
        (None, Some(_)) if person.kind == PersonKind::Staff && person.role == PersonRole::Alleged => {
            return Err(DomainError::invalid(
                format!("people[{n}].person_ref"),
                "is required for an alleged member of staff (their sign-in), so nothing of the concern reaches them",
            ));
        }
        _ => {}
    }
    let Some(id) = person.person_id else {
        return Ok(());
    };
    match roster.get(&id) {
        None => Err(DomainError::invalid(
            format!("people[{n}].person_id"),
            "is no one on the school's roster",
        )),
        Some(kind) if *kind != person.kind => Err(DomainError::invalid(
            format!("people[{n}].kind"),
            format!("is {} on the school's roster", kind_name(*kind)),
        )),
        Some(_) => Ok(()),
    }
}

fn kind_name(kind: PersonKind) -> &'static str {
    match kind {
        PersonKind::Pupil => "pupil",
        PersonKind::Staff => "staff",
        PersonKind::Parent => "parent",
        PersonKind::Visitor => "visitor",
        PersonKind::External => "external",
    }
}

/// What the people a report names as alleged are known by (their reference, or their roster id when
/// named from the roster alone): none of them may see it.
fn alleged_keys(people: &[PersonInvolved]) -> impl Iterator<Item = String> + '_ {
    people
        .iter()
        .filter(|person| person.role == PersonRole::Alleged)
        .filter_map(|person| match (&person.person_ref, person.person_id) {
            (Some(reference), _) => Some(reference.trim().to_owned()),
            (None, Some(id)) => Some(id.to_string()),
            (None, None) => None,
        })
}

impl Concern {
    /// The concern its first event starts, recorded at `reported_at`.
    pub fn reported(
        school_id: &str,
        event: IncidentReported,
        actor: &Actor,
        reported_at: DateTime<Utc>,
    ) -> Self {
        Concern {
            id: event.incident_id,
            school_id: school_id.to_owned(),
            reported: Stamp::new(reported_at, actor),
            steps: event
                .steps
                .iter()
                .map(|planned| Step {
                    planned: planned.clone(),
                    completed: None,
                })
                .collect(),
            report: event,
            status: Status::Reported,
            acknowledgement: None,
            referrals: Vec::new(),
            notes: Vec::new(),
            escalation: None,
            closure: None,
            reopenings: Vec::new(),
            version: 1,
        }
    }

    /// Replays a stream; None for an empty one.
    pub fn replay(school_id: &str, events: &[(ConcernEvent, Actor, DateTime<Utc>)]) -> Option<Self> {
        let mut events = events.iter();
        let (ConcernEvent::Reported(first), actor, recorded_at) = events.next()? else {
            return None;
        };
        let mut concern = Concern::reported(school_id, first.clone(), actor, *recorded_at);
        for (event, actor, _) in events {
            concern.apply(event, actor);
        }
        Some(concern)
    }

    pub fn apply(&mut self, event: &ConcernEvent, actor: &Actor) {
        self.version += 1;
        match event {
            ConcernEvent::Reported(_) => {}
            ConcernEvent::Acknowledged(event) => {
                self.status = Status::Acknowledged;
                self.acknowledgement = Some(Stamp::new(event.acknowledged_at, actor));
            }
            ConcernEvent::StepCompleted(event) => {
                if let Some(step) = self
                    .steps
                    .iter_mut()
                    .find(|step| step.planned.step_id == event.step_id)
                {
                    let restricted = event.restricted.clone().unwrap_or_default();
                    step.completed = Some(CompletedStep {
                        stamp: Stamp::new(event.completed_at, actor),
                        note: restricted.note,
                        reference: restricted.reference,
                        by_referral: event.by_referral,
                    });
                }
            }
            ConcernEvent::ReferralRecorded(event) => {
                let restricted = event.restricted.clone().unwrap_or_default();
                self.referrals.push(Referral {
                    id: event.referral_id,
                    agency: event.agency,
                    stamp: Stamp::new(event.referred_at, actor),
                    reference: restricted.reference,
                    note: restricted.note,
                });
            }
            ConcernEvent::NoteAdded(event) => self.notes.push(Note {
                id: event.note_id,
                stamp: Stamp::new(event.added_at, actor),
                text: event
                    .restricted
                    .as_ref()
                    .map(|text| text.text.clone())
                    .unwrap_or_default(),
            }),
            ConcernEvent::EscalatedToTrust(event) => {
                self.escalation = Some(Reasoned {
                    stamp: Stamp::new(event.escalated_at, actor),
                    reason: event.restricted.as_ref().map(|text| text.text.clone()),
                });
            }
            ConcernEvent::Closed(event) => {
                self.status = Status::Closed;
                self.closure = Some(Closure {
                    stamp: Stamp::new(event.closed_at, actor),
                    narrative: event.restricted.clone(),
                    overridden_steps: event.overridden_steps.clone(),
                });
            }
            ConcernEvent::Reopened(event) => {
                self.status = Status::Reopened;
                self.closure = None;
                self.reopenings.push(Reasoned {
                    stamp: Stamp::new(event.reopened_at, actor),
                    reason: event.restricted.as_ref().map(|text| text.text.clone()),
                });
            }
        }
    }

    pub fn route(&self) -> Route {
        Route::of(self.report.subject_staff_role)
    }

    /// What the people alleged to be involved are known by: their references (or roster ids).
    pub fn alleged(&self) -> Vec<String> {
        self.narrative()
            .map(|narrative| alleged_keys(&narrative.people).collect())
            .unwrap_or_default()
    }

    pub fn narrative(&self) -> Option<&ReportNarrative> {
        self.report.restricted.as_ref()
    }

    pub fn access(&self, viewer: &Viewer) -> Option<Access> {
        Visibility {
            route: self.route(),
            reported_by: &self.reported.by,
            escalated: self.escalation.is_some(),
            alleged: &self.alleged(),
        }
        .access(viewer)
    }

    pub fn open_steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|step| step.completed.is_none())
    }

    /// The earliest deadline still to be met; None once closed.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        if self.status == Status::Closed {
            return None;
        }
        let acknowledgement = self
            .acknowledgement
            .is_none()
            .then_some(self.report.acknowledge_by);
        acknowledgement
            .into_iter()
            .chain(self.open_steps().filter_map(|step| step.planned.due_at))
            .min()
    }

    pub fn acknowledgement_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status != Status::Closed && self.acknowledgement.is_none() && self.report.acknowledge_by < now
    }

    pub fn step_overdue(&self, step: &Step, now: DateTime<Utc>) -> bool {
        self.status != Status::Closed
            && step.completed.is_none()
            && step.planned.due_at.is_some_and(|due| due < now)
    }

    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.next_deadline().is_some_and(|deadline| deadline < now)
    }

    /// Decides what `command` by `context.viewer` makes happen, or why not.
    pub fn handle(&self, command: Command, context: &Context) -> Result<Vec<ConcernEvent>, DomainError> {
        self.may_handle(&command, context.viewer)?;
        let now = context.now;
        match command {
            Command::Acknowledge => self.acknowledge(now),
            Command::CompleteStep {
                step_id,
                note,
                reference,
            } => self.complete_step(step_id, (note, reference), now),
            Command::RecordReferral {
                agency,
                reference,
                note,
            } => self.record_referral(agency, (note, reference), context),
            Command::AddNote { text: note } => Ok(vec![ConcernEvent::NoteAdded(IncidentNoteAdded {
                incident_id: self.id,
                note_id: context.new_id,
                added_at: now,
                restricted: Some(Text {
                    text: text("text", &note, TEXT_MAX)?,
                }),
            })]),
            Command::EscalateToTrust { reason } => self.escalate(&reason, now),
            Command::Close {
                outcome,
                lessons_learned,
                override_reason,
            } => self.close((outcome, lessons_learned, override_reason), now),
            Command::Reopen { reason } => self.reopen(&reason, now),
        }
    }

    /// Whether `viewer` may give `command`: those who handle the concern may do anything, and anyone
    /// who sees all of it may add a note; anyone else who sees it is told who handles it.
    fn may_handle(&self, command: &Command, viewer: &Viewer) -> Result<(), DomainError> {
        let access = self.access(viewer).ok_or(DomainError::NotFound)?;
        let may = match command {
            Command::AddNote { .. } => access.sees_everything(),
            _ => matches!(access, Access::Handler { .. }),
        };
        if may {
            return Ok(());
        }
        Err(DomainError::Forbidden(match self.route() {
            Route::TrustLead => "Only the trust safeguarding lead handles this concern.".into(),
            Route::DslAndHeadteacher => {
                "Only the headteacher, the DSL and deputies handle this concern.".into()
            }
            Route::Dsl => "Only the DSL and deputies handle this concern.".into(),
        }))
    }

    fn acknowledge(&self, now: DateTime<Utc>) -> Result<Vec<ConcernEvent>, DomainError> {
        if self.status != Status::Reported {
            return Err(DomainError::Conflict(
                "The concern is already acknowledged.".into(),
            ));
        }
        Ok(vec![ConcernEvent::Acknowledged(IncidentAcknowledged {
            incident_id: self.id,
            acknowledged_at: now,
        })])
    }

    fn complete_step(
        &self,
        step_id: String,
        (note, reference): (Option<String>, Option<String>),
        now: DateTime<Utc>,
    ) -> Result<Vec<ConcernEvent>, DomainError> {
        self.accepting_work()?;
        let step = self
            .steps
            .iter()
            .find(|step| step.planned.step_id == step_id)
            .ok_or_else(|| DomainError::UnknownStep(step_id.clone()))?;
        if step.completed.is_some() {
            return Err(DomainError::Conflict(format!(
                "The step {step_id} is already completed."
            )));
        }
        Ok(vec![ConcernEvent::StepCompleted(IncidentStepCompleted {
            incident_id: self.id,
            step_id,
            completed_at: now,
            by_referral: None,
            restricted: Some(note_and_reference(note, reference)?),
        })])
    }

    fn record_referral(
        &self,
        agency: Agency,
        (note, reference): (Option<String>, Option<String>),
        context: &Context,
    ) -> Result<Vec<ConcernEvent>, DomainError> {
        self.accepting_work()?;
        let details = note_and_reference(note, reference)?;
        let (id, now, referral_id) = (self.id, context.now, context.new_id);
        let mut events = vec![ConcernEvent::ReferralRecorded(IncidentReferralRecorded {
            incident_id: id,
            referral_id,
            agency,
            referred_at: now,
            restricted: Some(details.clone()),
        })];
        // The referral is what these steps ask for: recording it completes them.
        events.extend(
            self.open_steps()
                .filter(|step| step.planned.completed_by_referral == Some(agency))
                .map(|step| {
                    ConcernEvent::StepCompleted(IncidentStepCompleted {
                        incident_id: id,
                        step_id: step.planned.step_id.clone(),
                        completed_at: now,
                        by_referral: Some(referral_id),
                        restricted: Some(details.clone()),
                    })
                }),
        );
        Ok(events)
    }

    fn escalate(&self, reason: &str, now: DateTime<Utc>) -> Result<Vec<ConcernEvent>, DomainError> {
        if self.route() == Route::TrustLead {
            return Err(DomainError::refused(
                "This concern is about the DSL or the headteacher: the trust safeguarding lead already handles it.",
            ));
        }
        if self.escalation.is_some() {
            return Err(DomainError::Conflict(
                "The concern is already escalated to the trust.".into(),
            ));
        }
        Ok(vec![ConcernEvent::EscalatedToTrust(IncidentEscalatedToTrust {
            incident_id: self.id,
            escalated_at: now,
            restricted: Some(Text {
                text: text("reason", reason, TEXT_MAX)?,
            }),
        })])
    }

    /// Closing with required steps open needs a reason to override them, which the log keeps.
    fn close(
        &self,
        (outcome, lessons_learned, override_reason): (String, String, Option<String>),
        now: DateTime<Utc>,
    ) -> Result<Vec<ConcernEvent>, DomainError> {
        self.accepting_work()?;
        let narrative = ClosureNarrative {
            outcome: text("outcome", &outcome, TEXT_MAX)?,
            lessons_learned: text("lessons_learned", &lessons_learned, TEXT_MAX)?,
            override_reason: optional_text("override_reason", override_reason.as_deref(), TEXT_MAX)?,
        };
        let open: Vec<String> = self
            .open_steps()
            .map(|step| step.planned.step_id.clone())
            .collect();
        if !open.is_empty() && narrative.override_reason.is_none() {
            return Err(DomainError::Refused {
                detail: format!(
                    "{} required step(s) are still open. Complete them, or give an override_reason to close anyway.",
                    open.len()
                ),
                errors: BTreeMap::from([("open_steps".to_owned(), open.join(", "))]),
            });
        }
        Ok(vec![ConcernEvent::Closed(IncidentClosed {
            incident_id: self.id,
            closed_at: now,
            overridden_steps: open,
            restricted: Some(narrative),
        })])
    }

    fn reopen(&self, reason: &str, now: DateTime<Utc>) -> Result<Vec<ConcernEvent>, DomainError> {
        if self.status != Status::Closed {
            return Err(DomainError::Conflict(
                "Only a closed concern can be reopened.".into(),
            ));
        }
        Ok(vec![ConcernEvent::Reopened(IncidentReopened {
            incident_id: self.id,
            reopened_at: now,
            restricted: Some(Text {
                text: text("reason", reason, TEXT_MAX)?,
            }),
        })])
    }

    /// Steps, referrals and closing need an acknowledged concern that is not closed.
    fn accepting_work(&self) -> Result<(), DomainError> {
        match self.status {
            Status::Closed => Err(DomainError::Conflict(
                "The concern is closed: reopen it first.".into(),
            )),
            Status::Reported => Err(DomainError::refused("Acknowledge the concern first.")),
            Status::Acknowledged | Status::Reopened => Ok(()),
        }
    }
}
