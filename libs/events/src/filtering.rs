//! Filtering breaches, published by the filtering service on `trustsafe.filtering.v1`. Only what other
//! services need travels (categories, severities, counts, times, and whether a pupil of which year was
//! involved); who it was, their account, device and the address stay in the filtering service, in the
//! payload's `restricted` part.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aup::RosterKind;
use crate::{Event, topics};

pub mod duties;

/// Where a breach came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreachSource {
    /// A filter's log, uploaded or fed.
    Log,
    /// A monitoring product's alert, pushed.
    Alert,
    /// A member of staff or a learner reported it.
    Report,
}

/// What the filter did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreachAction {
    Blocked,
    /// Let through, but marked for attention (a warning clicked through, a monitoring alert).
    Flagged,
}

/// Who was involved, as far as the roster knows: a kind and a year group, never who.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Involved {
    pub kind: RosterKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -2, max = 14))]
    pub year_group: Option<i8>,
}

/// Who, where and what, kept in the filtering service's own store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachDetails {
    /// The account name as the filter logged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The keyed hash of the account name (what the roster's records carry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_hash: Option<String>,
    /// The roster's person, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<Uuid>,
    /// The client's address or device name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    pub host: String,
    pub url: String,
    /// A monitoring alert's context (the words captured, the window's title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// A breach was recorded: a blocked or flagged request (or several of the same person, host and
/// category within an hour), a monitoring alert, or a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachRecorded {
    pub breach_id: Uuid,
    pub source: BreachSource,
    /// The log format or the alerting product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<String>,
    /// The normalised category (see [`BreachEscalated::category`]).
    pub category: String,
    #[schemars(range(min = 1, max = 5))]
    pub severity: u8,
    /// The vendor's category and grading, as logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_severity: Option<String>,
    pub action: BreachAction,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Sightings gathered into this breach.
    #[schemars(range(min = 1))]
    pub count: u32,
    /// When the DSL or technician is to have triaged it by.
    pub triage_by: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involved: Option<Involved>,
    /// The host's keyed hash within the trust (128 bits, hex): the same host at two of its schools has
    /// the same key, and the log never names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key: Option<String>,
    /// Only in the filtering service's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<BreachDetails>,
}

impl Event for BreachRecorded {
    const TYPE: &'static str = "filtering.breach_recorded.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "A filtering breach was recorded (category, severity, counts, times, the kind and year of who was involved; never who).";
}

/// More of the same was seen within a recorded breach's hour (a later upload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachSeenAgain {
    pub breach_id: Uuid,
    /// Sightings added.
    #[schemars(range(min = 1))]
    pub count: u32,
    pub last_seen: DateTime<Utc>,
    /// The breach's severity now (the gravest sighting's).
    #[schemars(range(min = 1, max = 5))]
    pub severity: u8,
    /// The triage deadline now (a graver sighting draws it in).
    pub triage_by: DateTime<Utc>,
}

impl Event for BreachSeenAgain {
    const TYPE: &'static str = "filtering.breach_seen_again.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "More sightings joined a recorded filtering breach.";
}

/// The roster learned whose account a breach's user name is (after the breach was recorded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachAttributed {
    pub breach_id: Uuid,
    pub involved: Involved,
    /// When the parents are to be told by, if a pupil's breach already found genuine now owes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parents_by: Option<DateTime<Utc>>,
    /// Only in the filtering service's store: the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<AttributedTo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributedTo {
    pub person_id: Uuid,
}

impl Event for BreachAttributed {
    const TYPE: &'static str = "filtering.breach_attributed.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str =
        "A filtering breach's user was found on the roster (the kind and year group travel, not who).";
}

/// Why a breach became a concern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationTrigger {
    /// The severity reached the threshold (4: escalated automatically).
    Automatic,
    /// Someone triaging the breach decided it is a safeguarding concern.
    Manual,
}

/// A filtering breach was escalated to an online-safety concern.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachEscalated {
    pub breach_id: Uuid,
    /// The normalised category, after the UK Safer Internet Centre's: `illegal`, `discrimination`,
    /// `drugs`, `extremism`, `gambling`, `malware_hacking`, `pornography`, `piracy`, `self_harm`,
    /// `violence`, or a school's own (`gaming`, `social_media`, …).
    pub category: String,
    /// 1 (low) to 5 (illegal: IWF list, terrorist content).
    #[schemars(range(min = 1, max = 5))]
    pub severity: u8,
    pub trigger: EscalationTrigger,
    /// When the breach happened.
    pub detected_at: DateTime<Utc>,
    /// Why a person escalated it, kept in the filtering service's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<BreachNote>,
}

impl Event for BreachEscalated {
    const TYPE: &'static str = "filtering.breach_escalated.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "A filtering breach was escalated to an online-safety concern.";
}

/// A school's own vendor-category rule, as its safeguarding lead set it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    /// The vendor's words, lower-cased.
    pub vendor: String,
    pub category: String,
    #[schemars(range(min = 1, max = 5))]
    pub severity: u8,
}

/// A school's category rules were replaced (they stand in front of the built-in ones; none can
/// touch illegal content).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryRulesSet {
    pub rules: Vec<CategoryRule>,
}

impl Event for CategoryRulesSet {
    const TYPE: &'static str = "filtering.category_rules_set.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str =
        "A school's own rules from vendors' categories to the normalised ones were replaced.";
}

/// What triage found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A real breach: someone reached, or tried to reach, what they should not.
    Genuine,
    /// The filter or monitor was wrong about what happened.
    FalsePositive,
    /// Blocked, but it should not have been: a proposal for the filtering-policy change log.
    OverBlocking,
}

/// A note kept in the filtering service's store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachNote {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The DSL or the technician triaged a breach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachTriaged {
    pub breach_id: Uuid,
    pub verdict: Verdict,
    /// Whether it was triaged by its deadline.
    pub on_time: bool,
    /// When the parents of the pupil involved are to be told by (a genuine breach by a pupil).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parents_by: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<BreachNote>,
}

impl Event for BreachTriaged {
    const TYPE: &'static str = "filtering.breach_triaged.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str =
        "A filtering breach was triaged: genuine, a false positive, or over-blocking.";
}

/// How the parents or carers were told, kept home.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParentsTold {
    /// Phone, letter, meeting, …
    pub how: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The parents or carers of the pupil involved were told of the breach (RAPS 7.3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachParentsInformed {
    pub breach_id: Uuid,
    pub on_time: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<ParentsTold>,
}

impl Event for BreachParentsInformed {
    const TYPE: &'static str = "filtering.breach_parents_informed.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str =
        "The parents or carers of the pupil involved in a filtering breach were told.";
}

/// The outcome, kept home.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    pub outcome: String,
    /// Why the parents were not told, when a pupil was involved and they were not (telling them
    /// would put the child at risk, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parents_not_informed_because: Option<String>,
}

/// A breach was resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachResolved {
    pub breach_id: Uuid,
    /// Whether the parents were told (false also when no pupil was involved).
    pub parents_informed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<Resolution>,
}

impl Event for BreachResolved {
    const TYPE: &'static str = "filtering.breach_resolved.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "A filtering breach was resolved with an outcome.";
}

/// A host or phrase whose blocks only make noise: counted, not recorded as breaches. Never covers
/// illegal content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// A host, and its subdomains (`ads.example` covers `x.ads.example`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Words in the address or a monitor's capture, lower-cased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phrase: Option<String>,
    /// Why it is noise.
    pub reason: String,
}

/// A school's suppression rules were replaced by its safeguarding lead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionsSet {
    pub rules: Vec<Suppression>,
}

impl Event for SuppressionsSet {
    const TYPE: &'static str = "filtering.suppressions_set.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str =
        "A school's suppression rules (hosts and phrases that only make noise) were replaced.";
}
