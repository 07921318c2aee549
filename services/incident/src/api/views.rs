//! What the API answers with. A concern's view depends on the caller's access: whoever handles it (and
//! the trust safeguarding lead once it is escalated) sees everything; its reporter sees their report
//! and where it stands, never the steps, referrals, notes or outcome.

use chrono::{DateTime, Utc};
use serde::Serialize;
use trustsafe_events::Envelope;
use trustsafe_events::incident::{Agency, Category, ConcernSource, PersonKind, PersonRole, SubjectStaffRole};
use utoipa::ToSchema;
use uuid::Uuid;

use super::schema;
use crate::domain::access::Access;
use crate::domain::concern::{Concern, Stamp, Status};
use crate::store::ListedConcern;

#[derive(Serialize, ToSchema)]
pub struct PersonView {
    /// The person's reference in the school's MIS.
    pub person_ref: Option<String>,
    /// Picked from the school's roster: who they are is at `roster`.
    pub person_id: Option<Uuid>,
    /// The person on the school's roster (the aup service's `GET …/people/{person_id}`).
    pub roster: Option<String>,
    #[schema(schema_with = schema::person_kind)]
    pub kind: PersonKind,
    #[schema(schema_with = schema::person_role)]
    pub role: PersonRole,
}

/// How the concern was recorded.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceView {
    /// A member of staff reported it.
    StaffReport,
    /// Opened for a filtering breach escalated to a concern.
    FilteringBreach { breach_id: Uuid, severity: u8 },
}

/// Who did something, and when.
#[derive(Serialize, ToSchema)]
pub struct StampView {
    pub at: DateTime<Utc>,
    /// The token subject of who did it.
    pub by: String,
    /// The role they acted in.
    pub role: Option<String>,
}

impl From<&Stamp> for StampView {
    fn from(stamp: &Stamp) -> Self {
        Self {
            at: stamp.at,
            by: stamp.by.clone(),
            role: stamp.role.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AcknowledgementView {
    /// When the DSL must have acknowledged it.
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
    pub acknowledged: Option<StampView>,
}

/// A required step, with its deadline.
#[derive(Serialize, ToSchema)]
pub struct StepView {
    pub id: String,
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// Absent unless a referral to this agency completes the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = schema::agency)]
    pub completed_by_referral: Option<Agency>,
    /// None while open.
    pub completed: Option<StampView>,
    pub note: Option<String>,
    pub reference: Option<String>,
    /// The referral that completed it, if one did.
    pub by_referral: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct ReferralView {
    pub id: Uuid,
    #[schema(schema_with = schema::agency)]
    pub agency: Agency,
    pub recorded: StampView,
    /// The agency's reference (a police log number, an IWF report id, …).
    pub reference: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NoteView {
    pub id: Uuid,
    pub added: StampView,
    pub text: String,
}

/// Why something was done, by whom.
#[derive(Serialize, ToSchema)]
pub struct ReasonView {
    pub stamp: StampView,
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClosureView {
    pub closed: StampView,
    pub outcome: Option<String>,
    pub lessons_learned: Option<String>,
    pub override_reason: Option<String>,
    /// Required steps left open, closed over by the override.
    pub overridden_steps: Vec<String>,
}

/// One online-safety concern.
#[derive(Serialize, ToSchema)]
pub struct ConcernView {
    pub id: Uuid,
    pub school_id: String,
    #[schema(schema_with = schema::category)]
    pub category: Category,
    #[schema(schema_with = schema::status)]
    pub status: Status,
    /// How the caller sees it: `handler` (acts on it), `trust_reader` (escalated to the trust) or
    /// `reporter` (their report and where it stands).
    pub access: &'static str,
    pub summary: String,
    pub description: String,
    pub location: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub reported_at: DateTime<Utc>,
    pub reported_by: String,
    /// Absent unless the concern is about a member of staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = schema::subject_staff_role)]
    pub subject_staff_role: Option<SubjectStaffRole>,
    pub people: Vec<PersonView>,
    pub device_involved: bool,
    pub immediate_risk: bool,
    pub source: SourceView,
    pub acknowledgement: AcknowledgementView,
    /// The earliest deadline still to be met; none once closed.
    pub next_deadline: Option<DateTime<Utc>>,
    /// The acknowledgement or a required step is past its deadline.
    pub overdue: bool,
    pub escalated: bool,
    /// The rest is for those who handle the concern (and the trust once escalated): absent for its reporter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrals: Option<Vec<ReferralView>>,
    /// Restricted notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<NoteView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation: Option<ReasonView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closure: Option<ClosureView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reopenings: Option<Vec<ReasonView>>,
    /// The stream version, also the ETag: send it back in If-Match.
    pub version: i64,
}

fn access_name(access: Access) -> &'static str {
    match access {
        Access::Handler { .. } => "handler",
        Access::TrustReader => "trust_reader",
        Access::Reporter => "reporter",
    }
}

fn reason(reasoned: &crate::domain::concern::Reasoned) -> ReasonView {
    ReasonView {
        stamp: (&reasoned.stamp).into(),
        reason: reasoned.reason.clone(),
    }
}

pub fn concern(concern: &Concern, access: Access, now: DateTime<Utc>) -> ConcernView {
    let narrative = concern.narrative();
    let full = access.sees_everything();
    ConcernView {
        id: concern.id,
        school_id: concern.school_id.clone(),
        category: concern.report.category,
        status: concern.status,
        access: access_name(access),
        summary: narrative.map(|n| n.summary.clone()).unwrap_or_default(),
        description: narrative.map(|n| n.description.clone()).unwrap_or_default(),
        location: narrative.and_then(|n| n.location.clone()),
        occurred_at: concern.report.occurred_at,
        reported_at: concern.reported.at,
        reported_by: concern.reported.by.clone(),
        subject_staff_role: concern.report.subject_staff_role,
        people: narrative
            .map(|n| {
                n.people
                    .iter()
                    .map(|person| PersonView {
                        person_ref: person.person_ref.clone(),
                        person_id: person.person_id,
                        roster: person
                            .person_id
                            .map(|id| format!("/api/v1/schools/{}/people/{id}", concern.school_id)),
                        kind: person.kind,
                        role: person.role,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        device_involved: concern.report.device_involved,
        immediate_risk: concern.report.immediate_risk,
        source: match &concern.report.source {
            ConcernSource::StaffReport => SourceView::StaffReport,
            ConcernSource::FilteringBreach { breach_id, severity } => SourceView::FilteringBreach {
                breach_id: *breach_id,
                severity: *severity,
            },
        },
        acknowledgement: AcknowledgementView {
            due_at: concern.report.acknowledge_by,
            overdue: concern.acknowledgement_overdue(now),
            acknowledged: concern.acknowledgement.as_ref().map(Into::into),
        },
        next_deadline: concern.next_deadline(),
        overdue: concern.overdue(now),
        escalated: concern.escalation.is_some(),
        steps: full.then(|| {
            concern
                .steps
                .iter()
                .map(|step| {
                    let completed = step.completed.as_ref();
                    StepView {
                        id: step.planned.step_id.clone(),
                        title: step.planned.title.clone(),
                        due_at: step.planned.due_at,
                        overdue: concern.step_overdue(step, now),
                        completed_by_referral: step.planned.completed_by_referral,
                        completed: completed.map(|done| (&done.stamp).into()),
                        note: completed.and_then(|done| done.note.clone()),
                        reference: completed.and_then(|done| done.reference.clone()),
                        by_referral: completed.and_then(|done| done.by_referral),
                    }
                })
                .collect()
        }),
        referrals: full.then(|| {
            concern
                .referrals
                .iter()
                .map(|referral| ReferralView {
                    id: referral.id,
                    agency: referral.agency,
                    recorded: (&referral.stamp).into(),
                    reference: referral.reference.clone(),
                    note: referral.note.clone(),
                })
                .collect()
        }),
        notes: full.then(|| {
            concern
                .notes
                .iter()
                .map(|note| NoteView {
                    id: note.id,
                    added: (&note.stamp).into(),
                    text: note.text.clone(),
                })
                .collect()
        }),
        escalation: if full {
            concern.escalation.as_ref().map(reason)
        } else {
            None
        },
        closure: if full {
            concern.closure.as_ref().map(|closure| ClosureView {
                closed: (&closure.stamp).into(),
                outcome: closure.narrative.as_ref().map(|n| n.outcome.clone()),
                lessons_learned: closure.narrative.as_ref().map(|n| n.lessons_learned.clone()),
                override_reason: closure.narrative.as_ref().and_then(|n| n.override_reason.clone()),
                overridden_steps: closure.overridden_steps.clone(),
            })
        } else {
            None
        },
        reopenings: full.then(|| concern.reopenings.iter().map(reason).collect()),
        version: concern.version,
    }
}

/// One concern in a list.
#[derive(Serialize, ToSchema)]
pub struct ConcernSummary {
    pub id: Uuid,
    #[schema(schema_with = schema::category)]
    pub category: String,
    #[schema(schema_with = schema::status)]
    pub status: String,
    pub summary: String,
    pub reported_by: String,
    pub occurred_at: DateTime<Utc>,
    pub reported_at: DateTime<Utc>,
    pub acknowledge_by: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub next_deadline: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub escalated: bool,
    pub version: i64,
}

impl ConcernSummary {
    pub fn new(row: ListedConcern, now: DateTime<Utc>) -> Self {
        Self {
            overdue: row.next_deadline.is_some_and(|deadline| deadline < now),
            id: row.id,
            category: row.category,
            status: row.status,
            summary: row.summary,
            reported_by: row.reported_by,
            occurred_at: row.occurred_at,
            reported_at: row.reported_at,
            acknowledge_by: row.acknowledge_by,
            acknowledged_at: row.acknowledged_at,
            next_deadline: row.next_deadline,
            escalated: row.escalated,
            version: row.version,
        }
    }
}

/// A page of concerns, newest first.
#[derive(Serialize, ToSchema)]
pub struct ConcernPage {
    pub items: Vec<ConcernSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// One event of a concern's chronology.
#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    pub version: i64,
    /// What happened: reported, acknowledged, step_completed, referral_recorded, note_added,
    /// escalated_to_trust, closed or reopened.
    pub event: String,
    pub at: DateTime<Utc>,
    pub by: String,
    pub role: Option<String>,
    /// The event's data, as recorded.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct History {
    pub incident_id: Uuid,
    pub version: i64,
    pub entries: Vec<HistoryEntry>,
}

/// The chronology, from the stream. A reporter sees their report and where it stands, no more.
pub fn history(id: Uuid, envelopes: &[Envelope], access: Access) -> History {
    let entries = envelopes
        .iter()
        .filter_map(|envelope| {
            Some(HistoryEntry {
                version: envelope.stream_version,
                event: short_name(&envelope.event_type),
                at: envelope.occurred_at,
                by: envelope.actor.subject.clone(),
                role: envelope.actor.role.clone(),
                data: access.history_entry(&envelope.event_type, &envelope.data)?,
            })
        })
        .collect();
    History {
        incident_id: id,
        version: envelopes
            .last()
            .map(|envelope| envelope.stream_version)
            .unwrap_or_default(),
        entries,
    }
}

/// `incident.step_completed.v1` → `step_completed`.
fn short_name(event_type: &str) -> String {
    let name = event_type.strip_prefix("incident.").unwrap_or(event_type);
    name.rsplit_once(".v")
        .map(|(name, _)| name)
        .unwrap_or(name)
        .to_owned()
}
