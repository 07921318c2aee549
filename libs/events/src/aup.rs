//! People (the roster from the MIS) and acceptable use, published by the aup service on
//! `trustsafe.aup.v1`. A person is the stream `person-<id>`, their agreements `agreements-<id>`, a
//! policy document `aup-document-<id>`.
//!
//! The log carries what other services need to know *who* a record is about, and nothing that names
//! them: the person's id, school, kind, year group and sensitive flags, and their directory account
//! names only as keyed hashes (so the filtering service can match a log's user name without holding a
//! list of children's user names). Names, dates of birth, UPNs and contact details sit under
//! `restricted`: kept in the aup service's own store, never published.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Event, topics};

/// What a person on the roster is to the school (the incident contract's `PersonKind` also knows
/// visitors and outsiders, who are on no roster).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RosterKind {
    Pupil,
    Staff,
    /// A parent or carer, linked to their children.
    Parent,
}

/// A pupil's sensitive flags, as the MIS holds them; unknown when the MIS did not say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonFlags {
    /// Special educational needs and disabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<bool>,
    /// Looked after by the local authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_care: Option<bool>,
    /// English as an additional language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eal: Option<bool>,
}

/// A parent's or carer's link to a child, as the MIS gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChildLink {
    /// The child's id in the MIS.
    pub mis_id: String,
    /// The child's roster id, once the roster knows the child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<Uuid>,
    pub parental_responsibility: bool,
    /// "mother", "carer", … as the MIS says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
}

/// What identifies a person: only in the aup service's store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonDetails {
    /// The person's id in the school's MIS.
    pub mis_id: String,
    /// A pupil's Unique Pupil Number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    /// A member of staff's work email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_roles: Vec<String>,
    /// A parent's or carer's contact details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildLink>,
    /// The directory user names (what a web filter logs), as the school gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
}

/// A person joined the roster, or their record changed: the event carries the whole record as it now
/// is (the MIS's view `as_of`), not the difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRecorded {
    pub person_id: Uuid,
    pub kind: RosterKind,
    /// National Curriculum year: -2 and -1 nursery (N1, N2), 0 reception, 1 to 14.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -2, max = 14))]
    pub year_group: Option<i8>,
    #[serde(default)]
    pub flags: PersonFlags,
    /// Keyed hashes (per trust) of the person's directory account names, lower-cased: what a filter
    /// log's user name is matched by.
    pub account_hashes: Vec<String>,
    /// A parent's or carer's children on the roster for whom they hold parental responsibility.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_for: Vec<Uuid>,
    /// When the MIS's data was true.
    pub as_of: DateTime<Utc>,
    /// Only in the aup service's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<PersonDetails>,
}

impl Event for PersonRecorded {
    const TYPE: &'static str = "aup.person_recorded.v1";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str = "A person joined a school's roster or their record changed (ids, kind, year group, flags, account hashes; never names).";
}

/// A person left the roster: the MIS sent their removal. Their history stays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRemoved {
    pub person_id: Uuid,
    pub kind: RosterKind,
    pub as_of: DateTime<Utc>,
}

impl Event for PersonRemoved {
    const TYPE: &'static str = "aup.person_removed.v1";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str = "A person left a school's roster (the MIS sent their removal).";
}

/// Whom an acceptable-use policy is written for (Kent's templates, on which both seed policies are
/// built, have one for each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Early Years Foundation Stage and Key Stage 1 (nursery to year 2): a parent or carer signs.
    EyfsKs1,
    /// Key Stage 2 (years 3 to 6).
    Ks2,
    /// Key Stages 3 to 5 (years 7 to 14).
    #[serde(rename = "ks3_5")]
    Ks3To5,
    /// Learners with special educational needs and disabilities.
    SendLearners,
    Staff,
    ParentsCarers,
    VisitorsVolunteers,
    WifiUsers,
    /// Staff who run the school's official social media.
    SocialMediaStaff,
}

impl Audience {
    pub const ALL: [Audience; 9] = [
        Audience::EyfsKs1,
        Audience::Ks2,
        Audience::Ks3To5,
        Audience::SendLearners,
        Audience::Staff,
        Audience::ParentsCarers,
        Audience::VisitorsVolunteers,
        Audience::WifiUsers,
        Audience::SocialMediaStaff,
    ];

    /// Its name on the log and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Audience::EyfsKs1 => "eyfs_ks1",
            Audience::Ks2 => "ks2",
            Audience::Ks3To5 => "ks3_5",
            Audience::SendLearners => "send_learners",
            Audience::Staff => "staff",
            Audience::ParentsCarers => "parents_carers",
            Audience::VisitorsVolunteers => "visitors_volunteers",
            Audience::WifiUsers => "wifi_users",
            Audience::SocialMediaStaff => "social_media_staff",
        }
    }
}

/// A version of an acceptable-use policy was published. A document is one audience's policy, either
/// trust-wide (`school_id` absent) or one school's own; its versions are numbered from 1 and every
/// one stays readable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AupPublished {
    pub document_id: Uuid,
    pub audience: Audience,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_id: Option<String>,
    pub version: i32,
    pub title: String,
    /// SHA-256 of the text, hex: what an agreement was to.
    pub content_hash: String,
    /// The day it comes into force; agreements to the version before stay current for `grace_days`
    /// after it.
    pub effective_from: NaiveDate,
    /// How often everyone signs again (365: yearly).
    pub resign_every_days: u32,
    pub grace_days: u32,
    /// Only in the aup service's store: the text, which no other service needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<AupText>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AupText {
    pub text: String,
}

impl Event for AupPublished {
    const TYPE: &'static str = "aup.published.v1";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str =
        "A version of an acceptable-use policy was published for an audience, trust-wide or for one school.";
}

/// Whether the person agreed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Agreed,
    Declined,
}

/// Who signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Signer {
    /// The person themselves.
    Themselves,
    /// A parent or carer with parental responsibility, for their child.
    ParentOrCarer { parent_id: Uuid },
}

/// How an answer came to be on record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum AgreementSource {
    /// Given in trustsafe, as it was recorded.
    AsGiven,
    /// Entered by a member of staff from a signed paper form.
    PaperForm,
    /// Imported from the export of a system that collected it (the line of the export it was on).
    Imported { system: AcceptanceSystem, line: u64 },
}

/// A system that collects acceptances of an acceptable-use policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AcceptanceSystem {
    /// Smoothwall Monitor's log-on AUP (accept or decline at every log-on).
    SmoothwallMonitor,
    /// Microsoft Entra ID's Terms of Use.
    EntraTermsOfUse,
}

impl AcceptanceSystem {
    pub const ALL: [AcceptanceSystem; 2] = [
        AcceptanceSystem::SmoothwallMonitor,
        AcceptanceSystem::EntraTermsOfUse,
    ];

    /// Its name on the log and in the API.
    pub fn name(self) -> &'static str {
        match self {
            AcceptanceSystem::SmoothwallMonitor => "smoothwall_monitor",
            AcceptanceSystem::EntraTermsOfUse => "entra_terms_of_use",
        }
    }
}

/// A person agreed to (or declined) a version of their audience's policy, and how the answer came
/// to be on record. Who recorded it (the person, or a member of staff entering or importing it) is
/// the event's actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementRecorded {
    pub agreement_id: Uuid,
    pub person_id: Uuid,
    pub audience: Audience,
    pub document_id: Uuid,
    pub version: i32,
    pub decision: Decision,
    pub signer: Signer,
    pub source: AgreementSource,
    /// When it was signed (a paper form's date, or an imported line's, may be earlier than its entry).
    pub signed_at: DateTime<Utc>,
}

impl AgreementRecorded {
    /// The event of either version (v1 upcast).
    pub fn read(envelope: &crate::Envelope) -> Result<Self, crate::DecodeError> {
        if envelope.event_type == AgreementRecordedV1::TYPE {
            return envelope.decode::<AgreementRecordedV1>().map(Self::from);
        }
        envelope.decode()
    }

    /// Whether `event_type` is an answer of either version.
    pub fn is(event_type: &str) -> bool {
        event_type == Self::TYPE || event_type == AgreementRecordedV1::TYPE
    }
}

impl Event for AgreementRecorded {
    const TYPE: &'static str = "aup.agreement_recorded.v2";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str = "A person agreed to, or declined, a version of their audience's acceptable-use policy: as given, from a paper form, or imported from another system.";
}

/// Superseded by [`AgreementRecorded`] (v2), which says whether an answer was imported and from what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementRecordedV1 {
    pub agreement_id: Uuid,
    pub person_id: Uuid,
    pub audience: Audience,
    pub document_id: Uuid,
    pub version: i32,
    pub decision: Decision,
    pub signer: Signer,
    /// Entered by a member of staff from a signed paper form.
    pub on_paper: bool,
    pub signed_at: DateTime<Utc>,
}

impl From<AgreementRecordedV1> for AgreementRecorded {
    fn from(v1: AgreementRecordedV1) -> Self {
        Self {
            agreement_id: v1.agreement_id,
            person_id: v1.person_id,
            audience: v1.audience,
            document_id: v1.document_id,
            version: v1.version,
            decision: v1.decision,
            signer: v1.signer,
            source: if v1.on_paper {
                AgreementSource::PaperForm
            } else {
                AgreementSource::AsGiven
            },
            signed_at: v1.signed_at,
        }
    }
}

impl Event for AgreementRecordedV1 {
    const TYPE: &'static str = "aup.agreement_recorded.v1";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str = "Superseded by aup.agreement_recorded.v2 (it could not say an answer was imported): a person agreed to, or declined, a version of their audience's acceptable-use policy.";
    const SUPERSEDED_BY: Option<&'static str> = Some("aup.agreement_recorded.v2");
}

/// A person was given access to a system or device, having a current agreement. Who gave it is the
/// event's actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessGranted {
    pub grant_id: Uuid,
    pub person_id: Uuid,
    /// What they may use: "school network", "learning platform", "class iPads", …
    pub system: String,
    pub granted_at: DateTime<Utc>,
}

impl Event for AccessGranted {
    const TYPE: &'static str = "aup.access_granted.v1";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str =
        "A person was given access to a system or device, having a current agreement.";
}

/// Access was taken away.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRevoked {
    pub grant_id: Uuid,
    pub person_id: Uuid,
    pub revoked_at: DateTime<Utc>,
}

impl Event for AccessRevoked {
    const TYPE: &'static str = "aup.access_revoked.v1";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str = "A person's access to a system or device was taken away.";
}

/// A numbered device was lent to a person with a current agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceLent {
    pub loan_id: Uuid,
    /// The school's number for the device ("iPad 14").
    pub device: String,
    pub person_id: Uuid,
    pub lent_at: DateTime<Utc>,
}

impl Event for DeviceLent {
    const TYPE: &'static str = "aup.device_lent.v1";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str = "A numbered device was lent to a person with a current agreement.";
}

/// A lent device came back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceReturned {
    pub loan_id: Uuid,
    pub device: String,
    pub returned_at: DateTime<Utc>,
}

impl Event for DeviceReturned {
    const TYPE: &'static str = "aup.device_returned.v1";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str = "A lent device came back.";
}

/// A visitor agreed to the visitors' policy and was given a Wi-Fi code. The code never leaves the
/// aup service; neither does the visitor's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorAgreed {
    pub visitor_id: Uuid,
    pub document_id: Uuid,
    pub version: i32,
    pub agreed_at: DateTime<Utc>,
    pub wifi_code_expires_at: DateTime<Utc>,
    /// Only in the aup service's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<VisitorDetails>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorDetails {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

impl Event for VisitorAgreed {
    const TYPE: &'static str = "aup.visitor_agreed.v1";
    const TOPIC: &'static str = topics::AUP;
    const SUMMARY: &'static str =
        "A visitor agreed to the visitors' acceptable-use policy and was given a 24-hour Wi-Fi code.";
}

#[cfg(test)]
mod tests {
    use super::Audience;

    #[test]
    fn an_audiences_name_is_its_json_name() {
        for audience in Audience::ALL {
            assert_eq!(serde_json::to_value(audience).unwrap(), audience.name());
        }
    }
}
