//! Online-safety concerns and each school's DSL workflow, published by the incident service on
//! `trustsafe.incident.v1`. A concern is the stream `incident-<id>`; a school's workflow is the stream
//! `workflow-<school_id>`.
//!
//! Narrative and names (summaries, descriptions, the people involved, notes, references) sit under
//! `restricted`: kept in the incident service's own store and removed before publication, so no other
//! service (reporting included) ever holds a child's details.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{DecodeError, Envelope, Event, topics};

/// The trust-wide categories of online-safety concern (DESIGN §4). Schools label them their own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Cyberbullying,
    /// Sharing nudes and semi-nudes ("sexting").
    NudeImageSharing,
    /// Including grooming and child criminal exploitation.
    OnlineSexualAbuse,
    IndecentImagesOfChildren,
    RadicalisationExtremism,
    OnlineHate,
    /// An allegation about a member of staff: goes to the LADO.
    StaffOnlineConduct,
    OffensiveCommunication,
    InappropriateContent,
    /// Including mobile phones.
    DeviceMisuse,
    DataSecurity,
    SocialMediaMisuse,
    Other,
}

impl Category {
    pub const ALL: [Category; 13] = [
        Category::Cyberbullying,
        Category::NudeImageSharing,
        Category::OnlineSexualAbuse,
        Category::IndecentImagesOfChildren,
        Category::RadicalisationExtremism,
        Category::OnlineHate,
        Category::StaffOnlineConduct,
        Category::OffensiveCommunication,
        Category::InappropriateContent,
        Category::DeviceMisuse,
        Category::DataSecurity,
        Category::SocialMediaMisuse,
        Category::Other,
    ];

    /// The API id, e.g. `indecent_images_of_children`.
    pub fn id(self) -> &'static str {
        match self {
            Category::Cyberbullying => "cyberbullying",
            Category::NudeImageSharing => "nude_image_sharing",
            Category::OnlineSexualAbuse => "online_sexual_abuse",
            Category::IndecentImagesOfChildren => "indecent_images_of_children",
            Category::RadicalisationExtremism => "radicalisation_extremism",
            Category::OnlineHate => "online_hate",
            Category::StaffOnlineConduct => "staff_online_conduct",
            Category::OffensiveCommunication => "offensive_communication",
            Category::InappropriateContent => "inappropriate_content",
            Category::DeviceMisuse => "device_misuse",
            Category::DataSecurity => "data_security",
            Category::SocialMediaMisuse => "social_media_misuse",
            Category::Other => "other",
        }
    }

    pub fn from_id(id: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|category| category.id() == id)
    }
}

/// Who a staff-conduct concern is about. `dsl` covers the DSL and the deputies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectStaffRole {
    Staff,
    Dsl,
    Headteacher,
}

impl SubjectStaffRole {
    pub const ALL: [SubjectStaffRole; 3] = [Self::Staff, Self::Dsl, Self::Headteacher];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    Pupil,
    Staff,
    Parent,
    Visitor,
    External,
}

impl PersonKind {
    pub const ALL: [PersonKind; 5] = [
        Self::Pupil,
        Self::Staff,
        Self::Parent,
        Self::Visitor,
        Self::External,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    Victim,
    Alleged,
    Witness,
    Reporter,
}

impl PersonRole {
    pub const ALL: [PersonRole; 4] = [Self::Victim, Self::Alleged, Self::Witness, Self::Reporter];
}

/// Someone involved in a concern: picked from the school's roster (`person_id`, the aup service's id),
/// or named by a reference in the school's MIS (a UPN, a staff code: free text, never a name), or
/// both. Only in the restricted narrative: the log names no one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInvolved {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<Uuid>,
    pub kind: PersonKind,
    pub role: PersonRole,
}

// As v1 and v2 reports named people (by a reference alone), and their narrative: the same shapes as
// they were, under names of their own.

/// Someone involved in a concern, by their reference in the school's MIS (never a name on the log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInvolvedV1 {
    pub person_ref: String,
    pub kind: PersonKind,
    pub role: PersonRole,
}

impl From<PersonInvolvedV1> for PersonInvolved {
    fn from(v1: PersonInvolvedV1) -> Self {
        Self {
            person_ref: Some(v1.person_ref),
            person_id: None,
            kind: v1.kind,
            role: v1.role,
        }
    }
}

/// The agencies a DSL refers to or reports to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Agency {
    /// Local Authority Designated Officer (allegations against staff).
    Lado,
    Police,
    ChildrensSocialCare,
    EducationSafeguardingTeam,
    /// Internet Watch Foundation (URLs of indecent images).
    Iwf,
    /// CEOP, the National Crime Agency's child protection command.
    Ceop,
    Prevent,
    /// Child Sexual Exploitation Team.
    Cset,
    Other,
}

impl Agency {
    pub const ALL: [Agency; 9] = [
        Self::Lado,
        Self::Police,
        Self::ChildrensSocialCare,
        Self::EducationSafeguardingTeam,
        Self::Iwf,
        Self::Ceop,
        Self::Prevent,
        Self::Cset,
        Self::Other,
    ];
}

/// How a concern came to be recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConcernSource {
    /// A member of staff reported it.
    StaffReport,
    /// Opened by the incident service for a filtering breach escalated to a concern.
    FilteringBreach { breach_id: Uuid, severity: u8 },
}

/// A step the concern must go through, planned when it was reported from the school's workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlannedStep {
    pub step_id: String,
    pub title: String,
    /// None: no deadline, but still required before closing.
    pub due_at: Option<DateTime<Utc>>,
    /// Recording a referral to this agency completes the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_by_referral: Option<Agency>,
}

/// The narrative of a report: kept by the incident service, never published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportNarrative {
    pub summary: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub people: Vec<PersonInvolved>,
}

/// The narrative of a report: kept by the incident service, never published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportNarrativeV1 {
    pub summary: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub people: Vec<PersonInvolvedV1>,
}

impl From<ReportNarrativeV1> for ReportNarrative {
    fn from(v1: ReportNarrativeV1) -> Self {
        Self {
            summary: v1.summary,
            description: v1.description,
            location: v1.location,
            people: v1.people.into_iter().map(PersonInvolved::from).collect(),
        }
    }
}

/// Who handles a concern, and so who may know of it at all: a concern about the DSL or the
/// headteacher goes to the trust safeguarding lead alone, and nothing of it may reach them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandledBy {
    /// The school's DSL and deputies.
    Dsl,
    /// About a member of staff: the headteacher with the DSL and deputies.
    DslAndHeadteacher,
    /// About the DSL or the headteacher (whistleblowing): the trust safeguarding lead only.
    TrustLead,
}

impl HandledBy {
    pub fn id(self) -> &'static str {
        match self {
            HandledBy::Dsl => "dsl",
            HandledBy::DslAndHeadteacher => "dsl_and_headteacher",
            HandledBy::TrustLead => "trust_lead",
        }
    }
}

/// A concern was reported. Superseded by v2 ([`IncidentReportedV2`], then v3), which says who handles it and,
/// pseudonymously, who is alleged, so that no figure shows a concern to those it is routed away from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentReportedV1 {
    pub incident_id: Uuid,
    pub category: Category,
    pub occurred_at: DateTime<Utc>,
    pub source: ConcernSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_staff_role: Option<SubjectStaffRole>,
    pub staff_involved: bool,
    pub device_involved: bool,
    pub immediate_risk: bool,
    pub acknowledge_by: DateTime<Utc>,
    pub steps: Vec<PlannedStep>,
    pub workflow_version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<ReportNarrativeV1>,
}

impl From<IncidentReportedV1> for IncidentReported {
    /// How v1 concerns were routed when they were written (the rule of that time, frozen here): by
    /// whom they were about. Their alleged people were not published: none are known.
    fn from(v1: IncidentReportedV1) -> Self {
        let handled_by = match v1.subject_staff_role {
            None => HandledBy::Dsl,
            Some(SubjectStaffRole::Staff) => HandledBy::DslAndHeadteacher,
            Some(SubjectStaffRole::Dsl | SubjectStaffRole::Headteacher) => HandledBy::TrustLead,
        };
        IncidentReported {
            incident_id: v1.incident_id,
            category: v1.category,
            occurred_at: v1.occurred_at,
            source: v1.source,
            subject_staff_role: v1.subject_staff_role,
            staff_involved: v1.staff_involved,
            device_involved: v1.device_involved,
            immediate_risk: v1.immediate_risk,
            acknowledge_by: v1.acknowledge_by,
            steps: v1.steps,
            workflow_version: v1.workflow_version,
            handled_by,
            alleged: Vec::new(),
            restricted: v1.restricted.map(ReportNarrative::from),
        }
    }
}

impl IncidentReported {
    /// The event of any version (v1 and v2 upcast).
    pub fn read(envelope: &Envelope) -> Result<Self, DecodeError> {
        match envelope.event_type.as_str() {
            IncidentReportedV1::TYPE => envelope.decode::<IncidentReportedV1>().map(Self::from),
            IncidentReportedV2::TYPE => envelope.decode::<IncidentReportedV2>().map(Self::from),
            _ => envelope.decode(),
        }
    }

    /// Whether `event_type` is a report of any version.
    pub fn is(event_type: &str) -> bool {
        [Self::TYPE, IncidentReportedV2::TYPE, IncidentReportedV1::TYPE].contains(&event_type)
    }
}

/// A concern was reported. Superseded by [`IncidentReported`] (v3), whose narrative may name a person
/// by their roster id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentReportedV2 {
    pub incident_id: Uuid,
    pub category: Category,
    pub occurred_at: DateTime<Utc>,
    pub source: ConcernSource,
    /// Staff-conduct concerns: who it is about, which decides who handles it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_staff_role: Option<SubjectStaffRole>,
    pub staff_involved: bool,
    pub device_involved: bool,
    pub immediate_risk: bool,
    /// When the DSL (or a deputy) must have acknowledged it.
    pub acknowledge_by: DateTime<Utc>,
    pub steps: Vec<PlannedStep>,
    /// The version of the school's workflow the steps came from (0: the policies' defaults).
    pub workflow_version: i64,
    /// Who handles it: nothing of a concern may reach anyone it is routed away from.
    pub handled_by: HandledBy,
    /// The people alleged to be involved, each as a keyed pseudonym of their reference within the
    /// trust (its own purpose: not the pseudonym that names them as an actor), so that a figure
    /// shown to one of them can leave the concern out, and the log names no one.
    pub alleged: Vec<String>,
    /// Only in the incident service's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<ReportNarrativeV1>,
}

impl From<IncidentReportedV2> for IncidentReported {
    fn from(v2: IncidentReportedV2) -> Self {
        Self {
            incident_id: v2.incident_id,
            category: v2.category,
            occurred_at: v2.occurred_at,
            source: v2.source,
            subject_staff_role: v2.subject_staff_role,
            staff_involved: v2.staff_involved,
            device_involved: v2.device_involved,
            immediate_risk: v2.immediate_risk,
            acknowledge_by: v2.acknowledge_by,
            steps: v2.steps,
            workflow_version: v2.workflow_version,
            handled_by: v2.handled_by,
            alleged: v2.alleged,
            restricted: v2.restricted.map(ReportNarrative::from),
        }
    }
}

/// A concern was reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentReported {
    pub incident_id: Uuid,
    pub category: Category,
    pub occurred_at: DateTime<Utc>,
    pub source: ConcernSource,
    /// Staff-conduct concerns: who it is about, which decides who handles it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_staff_role: Option<SubjectStaffRole>,
    pub staff_involved: bool,
    pub device_involved: bool,
    pub immediate_risk: bool,
    /// When the DSL (or a deputy) must have acknowledged it.
    pub acknowledge_by: DateTime<Utc>,
    pub steps: Vec<PlannedStep>,
    /// The version of the school's workflow the steps came from (0: the policies' defaults).
    pub workflow_version: i64,
    /// Who handles it: nothing of a concern may reach anyone it is routed away from.
    pub handled_by: HandledBy,
    /// The people alleged to be involved, each as a keyed pseudonym within the trust of their
    /// reference (or, named from the roster alone, of their roster id) under its own purpose (not the
    /// pseudonym that names them as an actor), so that a figure shown to one of them can leave the
    /// concern out, and the log names no one.
    pub alleged: Vec<String>,
    /// Only in the incident service's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<ReportNarrative>,
}

/// The DSL or a deputy (or, for whistleblowing, the trust safeguarding lead) took the concern on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentAcknowledged {
    pub incident_id: Uuid,
    pub acknowledged_at: DateTime<Utc>,
}

/// A note and an external reference, never published.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteAndReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentStepCompleted {
    pub incident_id: Uuid,
    pub step_id: String,
    pub completed_at: DateTime<Utc>,
    /// Set when recording a referral completed the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_referral: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<NoteAndReference>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentReferralRecorded {
    pub incident_id: Uuid,
    pub referral_id: Uuid,
    pub agency: Agency,
    pub referred_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<NoteAndReference>,
}

/// Free text, never published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub text: String,
}

/// A restricted note: seen by those who handle the concern, not by the reporter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentNoteAdded {
    pub incident_id: Uuid,
    pub note_id: Uuid,
    pub added_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<Text>,
}

/// The school's DSL gave the trust safeguarding lead access to this one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentEscalatedToTrust {
    pub incident_id: Uuid,
    pub escalated_at: DateTime<Utc>,
    /// The reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureNarrative {
    pub outcome: String,
    pub lessons_learned: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentClosed {
    pub incident_id: Uuid,
    pub closed_at: DateTime<Utc>,
    /// Required steps still open, closed over by the DSL's override.
    pub overridden_steps: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<ClosureNarrative>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentReopened {
    pub incident_id: Uuid,
    pub reopened_at: DateTime<Utc>,
    /// The reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<Text>,
}

/// How long a step may take from the report. Written `{"hours": 1}` or `{"working_days": 1}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "DeadlineSpec", into = "DeadlineSpec")]
#[schemars(with = "DeadlineSpec")]
pub enum Deadline {
    Hours(u32),
    /// Monday to Friday (a LADO referral: one working day).
    WorkingDays(u32),
}

/// A deadline as written: exactly one of the two.
#[derive(Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Deadline")]
struct DeadlineSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    hours: Option<u32>,
    /// Monday to Friday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    working_days: Option<u32>,
}

impl TryFrom<DeadlineSpec> for Deadline {
    type Error = &'static str;

    fn try_from(spec: DeadlineSpec) -> Result<Self, Self::Error> {
        match (spec.hours, spec.working_days) {
            (Some(hours), None) => Ok(Deadline::Hours(hours)),
            (None, Some(days)) => Ok(Deadline::WorkingDays(days)),
            _ => Err("a deadline is a number of hours or of working_days, not both"),
        }
    }
}

impl From<Deadline> for DeadlineSpec {
    fn from(deadline: Deadline) -> Self {
        match deadline {
            Deadline::Hours(hours) => DeadlineSpec {
                hours: Some(hours),
                working_days: None,
            },
            Deadline::WorkingDays(days) => DeadlineSpec {
                hours: None,
                working_days: Some(days),
            },
        }
    }
}

/// Which concerns a step applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    Always,
    /// A member of staff is among the people involved.
    StaffInvolved,
    /// The reporter marked an immediate risk of harm.
    ImmediateRisk,
    DeviceInvolved,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepTemplate {
    /// Stable within the workflow: lower-case letters, digits and underscores.
    pub id: String,
    pub title: String,
    pub when: Applies,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_by_referral: Option<Agency>,
    /// Where the policy asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryProcedure {
    /// The school's own name for the category.
    pub label: String,
    /// Where the policy sets the procedure out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// False where staff must never view, copy or keep an image: a reference is recorded instead.
    pub images_accepted: bool,
    pub steps: Vec<StepTemplate>,
}

/// Someone to call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// For agencies: which local authority's (a trust may span several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_authority: Option<String>,
}

/// A school's Designated Safeguarding Lead workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub dsl: Option<Contact>,
    pub deputies: Vec<Contact>,
    /// Escalation contacts by agency: the LADO, police, children's social care, the Education
    /// Safeguarding Team, …
    pub contacts: BTreeMap<Agency, Contact>,
    /// How long after a report the DSL must have acknowledged it.
    pub acknowledgement_deadline: Deadline,
    /// Steps of every concern, after its category's own.
    pub common_steps: Vec<StepTemplate>,
    pub categories: BTreeMap<Category, CategoryProcedure>,
}

/// A school's workflow was set (whole: the event is the new version). Superseded by
/// [`WorkflowChanged`] (v2): this version published the DSL's and the contacts' names, phones and
/// emails. Still readable: [`WorkflowChanged::from`] upcasts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowChangedV1 {
    pub school_id: String,
    pub workflow: Workflow,
}

/// A school's workflow was set (whole: the event is the new version). Who to call (the DSL, the
/// deputies and the agencies' contacts) is restricted: kept in the incident service, never published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowChanged {
    pub school_id: String,
    pub acknowledgement_deadline: Deadline,
    pub common_steps: Vec<StepTemplate>,
    pub categories: BTreeMap<Category, CategoryProcedure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<WorkflowContacts>,
}

/// The people a school's workflow names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowContacts {
    pub dsl: Option<Contact>,
    pub deputies: Vec<Contact>,
    pub contacts: BTreeMap<Agency, Contact>,
}

impl WorkflowChanged {
    pub fn new(school_id: impl Into<String>, workflow: Workflow) -> Self {
        let Workflow {
            dsl,
            deputies,
            contacts,
            acknowledgement_deadline,
            common_steps,
            categories,
        } = workflow;
        Self {
            school_id: school_id.into(),
            acknowledgement_deadline,
            common_steps,
            categories,
            restricted: Some(WorkflowContacts {
                dsl,
                deputies,
                contacts,
            }),
        }
    }

    /// The workflow it set; without its contacts when read from the log (where they never are).
    pub fn workflow(&self) -> Workflow {
        let contacts = self.restricted.clone().unwrap_or_default();
        Workflow {
            dsl: contacts.dsl,
            deputies: contacts.deputies,
            contacts: contacts.contacts,
            acknowledgement_deadline: self.acknowledgement_deadline,
            common_steps: self.common_steps.clone(),
            categories: self.categories.clone(),
        }
    }

    /// The event of either version (v1 upcast).
    pub fn read(envelope: &Envelope) -> Result<Self, DecodeError> {
        if envelope.event_type == WorkflowChangedV1::TYPE {
            return envelope.decode::<WorkflowChangedV1>().map(Self::from);
        }
        envelope.decode()
    }
}

impl From<WorkflowChangedV1> for WorkflowChanged {
    fn from(v1: WorkflowChangedV1) -> Self {
        WorkflowChanged::new(v1.school_id, v1.workflow)
    }
}

macro_rules! incident_event {
    ($type:ty, $name:literal, $summary:literal) => {
        impl Event for $type {
            const TYPE: &'static str = $name;
            const TOPIC: &'static str = topics::INCIDENT;
            const SUMMARY: &'static str = $summary;
        }
    };
}

impl Event for IncidentReportedV1 {
    const TYPE: &'static str = "incident.reported.v1";
    const TOPIC: &'static str = topics::INCIDENT;
    const SUMMARY: &'static str = "Superseded by incident.reported.v2 (it did not say who handles the concern): a concern was reported.";
    const SUPERSEDED_BY: Option<&'static str> = Some("incident.reported.v2");
}
impl Event for IncidentReportedV2 {
    const TYPE: &'static str = "incident.reported.v2";
    const TOPIC: &'static str = topics::INCIDENT;
    const SUMMARY: &'static str = "Superseded by incident.reported.v3 (its restricted narrative could not name a person by roster id): a concern was reported: who handles it, and (pseudonymously) who is alleged.";
    const SUPERSEDED_BY: Option<&'static str> = Some("incident.reported.v3");
}
incident_event!(
    IncidentReported,
    "incident.reported.v3",
    "A concern was reported: who handles it, and (pseudonymously) who is alleged."
);
incident_event!(
    IncidentAcknowledged,
    "incident.acknowledged.v1",
    "The DSL (or whoever handles the concern) acknowledged it."
);
incident_event!(
    IncidentStepCompleted,
    "incident.step_completed.v1",
    "A required step of a concern was completed."
);
incident_event!(
    IncidentReferralRecorded,
    "incident.referral_recorded.v1",
    "A referral or report to an outside agency was recorded."
);
incident_event!(
    IncidentNoteAdded,
    "incident.note_added.v1",
    "A restricted note was added to a concern."
);
incident_event!(
    IncidentEscalatedToTrust,
    "incident.escalated_to_trust.v1",
    "A school escalated a concern to its trust's safeguarding lead."
);
incident_event!(
    IncidentClosed,
    "incident.closed.v1",
    "A concern was closed with its outcome and lessons learned."
);
incident_event!(
    IncidentReopened,
    "incident.reopened.v1",
    "A closed concern was reopened."
);
impl Event for WorkflowChangedV1 {
    const TYPE: &'static str = "incident.workflow_changed.v1";
    const TOPIC: &'static str = topics::INCIDENT;
    const SUMMARY: &'static str = "Superseded by incident.workflow_changed.v2 (it published the school's contacts): a school's DSL workflow was set.";
    const SUPERSEDED_BY: Option<&'static str> = Some("incident.workflow_changed.v2");
}
incident_event!(
    WorkflowChanged,
    "incident.workflow_changed.v2",
    "A school's DSL workflow was set; the event carries the whole new version, its contacts restricted."
);
