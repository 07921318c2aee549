//! Filtering breaches, published by the filtering service on `trustsafe.filtering.v1`. Only what other
//! services need travels: who was involved and which address stay in the filtering service.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Event, topics};

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
}

impl Event for BreachEscalated {
    const TYPE: &'static str = "filtering.breach_escalated.v1";
    const TOPIC: &'static str = topics::FILTERING;
    const SUMMARY: &'static str = "A filtering breach was escalated to an online-safety concern.";
}
