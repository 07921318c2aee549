//! Access audit: every read of a case's detail is recorded on `trustsafe.audit.v1`.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Event, topics};

/// Someone read the detail of a sensitive record. Superseded by [`RecordRead`] (v2): this version
/// named the reader by their token's subject on the permanent log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordReadV1 {
    /// What was read, e.g. `incident`.
    pub record_kind: String,
    pub record_id: String,
    pub school_id: String,
    /// The reader: the subject of their token.
    pub reader: String,
    /// The grant they read it under, e.g. `dsl` or `trust_safeguarding_lead`.
    pub role: String,
    pub read_at: DateTime<Utc>,
}

impl Event for RecordReadV1 {
    const TYPE: &'static str = "audit.record_read.v1";
    const TOPIC: &'static str = topics::AUDIT;
    const SUMMARY: &'static str = "Superseded by audit.record_read.v2 (it named the reader): someone read the detail of a sensitive record.";
    const SUPERSEDED_BY: Option<&'static str> = Some("audit.record_read.v2");
}

/// Someone read the detail of a sensitive record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRead {
    /// What was read, e.g. `incident`.
    pub record_kind: String,
    pub record_id: String,
    pub school_id: String,
    /// The reader, as the log names people: a keyed hash of their token's subject within the trust
    /// (the same as the `ce_actor` of the events they cause). The deployment, holding the secret,
    /// can tell who it is; the log alone cannot.
    pub reader: String,
    /// The grant they read it under, e.g. `dsl` or `trust_safeguarding_lead`.
    pub role: String,
    pub read_at: DateTime<Utc>,
}

impl Event for RecordRead {
    const TYPE: &'static str = "audit.record_read.v2";
    const TOPIC: &'static str = topics::AUDIT;
    const SUMMARY: &'static str = "Someone read the detail of a sensitive record.";
}
