//! The DfE filtering and monitoring duties, published on `trustsafe.filtering.v1`: the filtering-policy
//! change log (proposed, risk-assessed from two sides, decided by leadership, applied), the roles a
//! school names, the checks it logs and its annual review. What travels is what a dashboard counts
//! (states, results, dates); names and narrative stay in the payload's `restricted` part.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Event, topics};

/// What a change does to the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Block,
    Unblock,
}

/// Why a change is proposed, kept home.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeReason {
    pub reason: String,
    /// Who proposed it (their subject).
    pub proposed_by: String,
}

/// A change to the school's filtering policy was proposed: a host, or a normalised category, to block
/// or unblock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterChangeProposed {
    pub change_id: Uuid,
    pub action: ChangeAction,
    /// A host and its subdomains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// A normalised category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The breach triaged as over-blocking that proposed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_breach: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<ChangeReason>,
}

impl Event for FilterChangeProposed {
    const TYPE: &'static str = "filtering.change_proposed.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "A change to a school's filtering policy was proposed.";
}

/// The experience a risk assessment speaks from: a change needs one of each, by two people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Perspective {
    /// Teaching and safeguarding (the DSL, a deputy, the headteacher).
    Educational,
    /// The filter and the network (the technician, the IT provider).
    Technical,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Medium,
    High,
}

/// Who decided or did a step, and what they said, kept home.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepNote {
    /// Their subject.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A proposed change was risk-assessed from one perspective.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterChangeAssessed {
    pub change_id: Uuid,
    pub perspective: Perspective,
    pub risk: Risk,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<StepNote>,
}

impl Event for FilterChangeAssessed {
    const TYPE: &'static str = "filtering.change_assessed.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str =
        "A proposed filtering change was risk-assessed (educationally or technically).";
}

/// Leadership approved or rejected a risk-assessed change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterChangeDecided {
    pub change_id: Uuid,
    pub approved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<StepNote>,
}

impl Event for FilterChangeDecided {
    const TYPE: &'static str = "filtering.change_decided.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "Leadership approved or rejected a filtering change.";
}

/// An approved change was made in the filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterChangeApplied {
    pub change_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<StepNote>,
}

impl Event for FilterChangeApplied {
    const TYPE: &'static str = "filtering.change_applied.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "An approved filtering change was made in the filter.";
}

/// A role the DfE standards ask a school to name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DutyRole {
    SeniorLeader,
    Governor,
    Dsl,
    ItProvider,
}

/// Who holds each role, kept home.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleHolders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub senior_leader: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub it_provider: Option<String>,
}

/// A school named who holds its filtering and monitoring roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyRolesNamed {
    /// The roles with someone named.
    pub named: Vec<DutyRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<RoleHolders>,
}

impl Event for DutyRolesNamed {
    const TYPE: &'static str = "filtering.duty_roles_named.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str =
        "A school named its filtering and monitoring roles (senior leader, governor, DSL, IT provider).";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    /// Everything tested behaved as it should.
    Passed,
    /// Some of it did not.
    Partly,
    Failed,
}

/// What a check tested and what followed, kept home.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDetails {
    /// Who carried it out.
    pub checked_by: String,
    pub what_tested: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<String>,
}

/// A check of the filtering and monitoring provision was logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterCheckLogged {
    pub check_id: Uuid,
    pub checked_at: DateTime<Utc>,
    /// When the next check is due (a term on).
    pub next_check_by: DateTime<Utc>,
    pub result: CheckResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<CheckDetails>,
}

impl Event for FilterCheckLogged {
    const TYPE: &'static str = "filtering.check_logged.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "A check of a school's filtering and monitoring was logged.";
}

/// The school's risk profile as the review saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskProfile {
    /// The ages taught, say "4-11".
    pub ages: String,
    /// Learners with special educational needs and disabilities, and what that asks of filtering.
    pub send: String,
    /// Learners with English as an additional language.
    pub eal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}

/// What an annual review found, kept home.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRecord {
    /// Who took part (the senior leader, the DSL, the IT provider, the governor).
    pub participants: RoleHolders,
    pub risk_profile: RiskProfile,
    /// Bring-your-own devices: whether they are allowed and how they are filtered.
    pub byod: String,
    /// Generative AI: what learners can reach and how it is filtered and monitored.
    pub ai: String,
    /// What the filter and monitoring provide, and whether it meets the school's needs.
    pub provision: String,
    pub actions: Vec<String>,
}

/// A school recorded its annual review of filtering and monitoring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilteringReviewRecorded {
    pub review_id: Uuid,
    pub reviewed_on: NaiveDate,
    /// At most a year on.
    pub next_review_by: NaiveDate,
    /// The checks logged and the changes applied since the previous review, which it considered.
    pub checks_considered: Vec<Uuid>,
    pub changes_considered: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<ReviewRecord>,
}

impl Event for FilteringReviewRecorded {
    const TYPE: &'static str = "filtering.review_recorded.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "A school recorded its annual review of filtering and monitoring.";
}
