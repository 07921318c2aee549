//! CloudEvents 1.0, Kafka protocol binding, binary content mode: the value is the event's data as JSON
//! and every attribute travels as a `ce_` header. This is the wire format every consumer reads.

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::{Actor, DecodeError, Envelope, TraceContext, publishable};

pub const SPEC_VERSION: &str = "1.0";
pub const CONTENT_TYPE: &str = "application/json";

/// A Kafka record without a topic: the key (the stream id, so one stream keeps to one partition and
/// its order), the headers and the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaRecord {
    pub key: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub value: Vec<u8>,
}

impl KafkaRecord {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_slice())
    }
}

fn time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The record of an envelope. Its data goes without the restricted part: that never leaves the
/// producing service's own store.
pub fn to_kafka(envelope: &Envelope) -> KafkaRecord {
    let mut headers: Vec<(String, String)> = vec![
        ("ce_specversion".into(), SPEC_VERSION.into()),
        ("ce_id".into(), envelope.event_id.to_string()),
        ("ce_source".into(), envelope.source.clone()),
        ("ce_type".into(), envelope.event_type.clone()),
        ("ce_time".into(), time(&envelope.occurred_at)),
        ("ce_subject".into(), envelope.stream_id.clone()),
        ("content-type".into(), CONTENT_TYPE.into()),
        ("ce_trustid".into(), envelope.trust_id.clone()),
        ("ce_streamversion".into(), envelope.stream_version.to_string()),
        ("ce_recordedtime".into(), time(&envelope.recorded_at)),
        ("ce_actor".into(), envelope.actor.on_the_log()),
        ("ce_correlationid".into(), envelope.correlation_id.to_string()),
    ];
    let optional = [
        ("ce_schoolid", envelope.school_id.clone()),
        ("ce_actorrole", envelope.actor.role.clone()),
        ("ce_causationid", envelope.causation_id.map(|id| id.to_string())),
        ("traceparent", envelope.trace.traceparent.clone()),
        ("tracestate", envelope.trace.tracestate.clone()),
    ];
    headers.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| Some((name.into(), value?))),
    );
    KafkaRecord {
        key: envelope.stream_id.clone(),
        headers: headers
            .into_iter()
            .map(|(name, value)| (name, value.into_bytes()))
            .collect(),
        // A JSON value always serialises.
        value: serde_json::to_vec(&publishable(&envelope.data)).expect("JSON value serialises"),
    }
}

/// Reads a record back into an envelope. Everything a producer outside this codebase could get wrong
/// is an error here, never a panic: consumers park what this refuses.
pub fn from_kafka(record: &KafkaRecord) -> Result<Envelope, DecodeError> {
    let text = |name: &'static str| -> Result<Option<&str>, DecodeError> {
        record
            .header(name)
            .map(|bytes| {
                std::str::from_utf8(bytes).map_err(|_| DecodeError::BadHeader {
                    name,
                    reason: "not UTF-8".into(),
                })
            })
            .transpose()
    };
    let required = |name: &'static str| text(name)?.ok_or(DecodeError::MissingHeader(name));
    let parse_uuid = |name: &'static str, value: &str| {
        Uuid::parse_str(value).map_err(|err| DecodeError::BadHeader {
            name,
            reason: err.to_string(),
        })
    };
    let parse_time = |name: &'static str, value: &str| {
        DateTime::parse_from_rfc3339(value)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|err| DecodeError::BadHeader {
                name,
                reason: err.to_string(),
            })
    };

    let spec_version = required("ce_specversion")?;
    if spec_version != SPEC_VERSION {
        return Err(DecodeError::BadHeader {
            name: "ce_specversion",
            reason: format!("unsupported version {spec_version}"),
        });
    }
    if let Some(content_type) = text("content-type")?
        && !content_type.starts_with(CONTENT_TYPE)
    {
        return Err(DecodeError::BadHeader {
            name: "content-type",
            reason: format!("expected {CONTENT_TYPE}, found {content_type}"),
        });
    }
    let stream_version = required("ce_streamversion")?;
    let stream_version: i64 = stream_version.parse().map_err(|_| DecodeError::BadHeader {
        name: "ce_streamversion",
        reason: format!("not an integer: {stream_version}"),
    })?;
    let data = serde_json::from_slice(&record.value).map_err(|err| DecodeError::NotJson(err.to_string()))?;

    Ok(Envelope {
        event_id: parse_uuid("ce_id", required("ce_id")?)?,
        event_type: required("ce_type")?.to_owned(),
        source: required("ce_source")?.to_owned(),
        stream_id: required("ce_subject")?.to_owned(),
        stream_version,
        trust_id: required("ce_trustid")?.to_owned(),
        school_id: text("ce_schoolid")?.map(str::to_owned),
        occurred_at: parse_time("ce_time", required("ce_time")?)?,
        recorded_at: match text("ce_recordedtime")? {
            Some(value) => parse_time("ce_recordedtime", value)?,
            None => parse_time("ce_time", required("ce_time")?)?,
        },
        // On the log an actor is only ever named as `ce_actor` says (a pseudonym, or a service).
        actor: Actor {
            subject: required("ce_actor")?.to_owned(),
            role: text("ce_actorrole")?.map(str::to_owned),
            pseudonym: None,
        },
        correlation_id: parse_uuid("ce_correlationid", required("ce_correlationid")?)?,
        causation_id: text("ce_causationid")?
            .map(|value| parse_uuid("ce_causationid", value))
            .transpose()?,
        trace: TraceContext {
            traceparent: text("traceparent")?.map(str::to_owned),
            tracestate: text("tracestate")?.map(str::to_owned),
        },
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope() -> Envelope {
        Envelope {
            event_id: Uuid::now_v7(),
            event_type: "audit.record_read.v1".into(),
            source: "/trustsafe/incident".into(),
            stream_id: "incident-0192".into(),
            stream_version: 3,
            trust_id: "viking".into(),
            school_id: Some("raps".into()),
            occurred_at: "2026-11-20T09:15:00.123456Z".parse().unwrap(),
            recorded_at: "2026-11-20T09:15:01Z".parse().unwrap(),
            actor: Actor::person("dsl-raps", "dsl").with_pseudonym("K7Q2-9XMP-3TZA"),
            correlation_id: Uuid::now_v7(),
            causation_id: Some(Uuid::now_v7()),
            trace: TraceContext {
                traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
                tracestate: None,
            },
            data: json!({"record_id": "x"}),
        }
    }

    #[test]
    fn an_envelope_survives_the_round_trip() {
        let original = envelope();
        let record = to_kafka(&original);
        assert_eq!(record.key, "incident-0192");
        assert_eq!(record.header("ce_type"), Some(&b"audit.record_read.v1"[..]));
        assert_eq!(record.header("ce_schoolid"), Some(&b"raps"[..]));
        assert_eq!(
            record.header("tracestate"),
            None,
            "absent optional attributes are left out"
        );
        let read = from_kafka(&record).unwrap();
        assert_eq!(
            read.actor.subject, "person:K7Q2-9XMP-3TZA",
            "the log names the pseudonym"
        );
        assert_eq!(
            Envelope {
                actor: original.actor.clone(),
                ..read
            },
            original
        );
    }

    #[test]
    fn a_persons_token_subject_never_reaches_the_wire() {
        let mut original = envelope();
        let subject_anywhere = |record: &KafkaRecord| {
            record
                .headers
                .iter()
                .any(|(_, value)| value.windows(8).any(|w| w == b"dsl-raps"))
        };
        assert!(!subject_anywhere(&to_kafka(&original)));
        original.actor.pseudonym = None;
        let record = to_kafka(&original);
        assert!(!subject_anywhere(&record), "without a pseudonym, unattributed");
        assert_eq!(record.header("ce_actor"), Some(&b"person:unattributed"[..]));
        original.actor = Actor::service("incident");
        assert_eq!(
            to_kafka(&original).header("ce_actor"),
            Some(&b"service:incident"[..])
        );
    }

    #[test]
    fn the_restricted_part_never_reaches_the_wire() {
        let mut original = envelope();
        original.data = json!({"incident_id": "x", "restricted": {"summary": "Jo Bloggs was groomed"}});
        let record = to_kafka(&original);
        let text = String::from_utf8(record.value.clone()).unwrap();
        assert!(!text.contains("restricted") && !text.contains("Bloggs"), "{text}");
        assert_eq!(from_kafka(&record).unwrap().data, json!({"incident_id": "x"}));
    }

    #[test]
    fn trust_wide_events_have_no_school_header() {
        let mut original = envelope();
        original.school_id = None;
        original.causation_id = None;
        original.actor = Actor::service("reporting");
        let record = to_kafka(&original);
        assert_eq!(record.header("ce_schoolid"), None);
        assert_eq!(from_kafka(&record).unwrap(), original);
    }

    #[test]
    fn broken_records_are_errors_not_panics() {
        let good = to_kafka(&envelope());
        let without = |name: &str| KafkaRecord {
            headers: good
                .headers
                .iter()
                .filter(|(key, _)| key != name)
                .cloned()
                .collect(),
            ..good.clone()
        };
        let replaced = |name: &str, value: &[u8]| {
            let mut record = without(name);
            record.headers.push((name.into(), value.to_vec()));
            record
        };
        assert_eq!(
            from_kafka(&without("ce_id")),
            Err(DecodeError::MissingHeader("ce_id"))
        );
        assert!(matches!(
            from_kafka(&replaced("ce_id", b"not-a-uuid")),
            Err(DecodeError::BadHeader { name: "ce_id", .. })
        ));
        assert!(matches!(
            from_kafka(&replaced("ce_specversion", b"0.3")),
            Err(DecodeError::BadHeader { .. })
        ));
        assert!(matches!(
            from_kafka(&replaced("ce_time", b"yesterday")),
            Err(DecodeError::BadHeader { name: "ce_time", .. })
        ));
        assert!(matches!(
            from_kafka(&replaced("ce_streamversion", b"three")),
            Err(DecodeError::BadHeader { .. })
        ));
        assert!(matches!(
            from_kafka(&replaced("ce_type", &[0xff, 0xfe])),
            Err(DecodeError::BadHeader { .. })
        ));
        assert!(matches!(
            from_kafka(&KafkaRecord {
                value: b"{not json".to_vec(),
                ..good.clone()
            }),
            Err(DecodeError::NotJson(_))
        ));
    }
}
