//! The published contract, generated from the Rust types: one JSON Schema per event type and an
//! AsyncAPI 3 document of the topics. Committed under `openapi/`; a test fails when they are stale.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{catalog, topics};

/// File name (under `openapi/events/`) → pretty JSON schema.
pub fn event_schemas() -> BTreeMap<String, String> {
    catalog()
        .into_iter()
        .map(|kind| {
            let schema = serde_json::to_string_pretty(&(kind.schema)()).expect("schema serialises");
            (format!("{}.schema.json", kind.event_type), schema + "\n")
        })
        .collect()
}

fn cloudevent_headers() -> Value {
    let text = |description: &str| json!({"type": "string", "description": description});
    json!({
        "type": "object",
        "description": "CloudEvents 1.0 attributes, Kafka protocol binding, binary content mode.",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject",
                     "content-type", "ce_trustid", "ce_streamversion", "ce_actor", "ce_correlationid"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": text("Event id, a UUIDv7; consumers deduplicate on it."),
            "ce_source": text("The producing service, e.g. /trustsafe/incident."),
            "ce_type": text("Versioned event type, e.g. audit.record_read.v2."),
            "ce_time": text("When it happened, RFC 3339 UTC."),
            "ce_subject": text("The stream id; also the record key."),
            "content-type": {"type": "string", "const": "application/json"},
            "ce_trustid": text("The trust the stream belongs to."),
            "ce_schoolid": text("The school, absent on trust-wide streams."),
            "ce_streamversion": text("The event's version in its stream, from 1, as decimal text."),
            "ce_recordedtime": text("When it was recorded, RFC 3339 UTC."),
            "ce_actor": text("Who caused it: person:<pseudonym> (a keyed hash of the person's token subject within the trust, never the subject itself), or service:<name>."),
            "ce_actorrole": text("The grant the actor acted under."),
            "ce_correlationid": text("Shared by every event one request caused."),
            "ce_causationid": text("The event or command that caused this one."),
            "traceparent": text("W3C trace context."),
            "tracestate": text("W3C trace context.")
        }
    })
}

pub fn asyncapi_document() -> Value {
    let kinds = catalog();
    let channel_name = |topic: &str| topic.trim_start_matches("trustsafe.").replace('.', "_");
    let mut channels = serde_json::Map::new();
    let mut operations = serde_json::Map::new();
    for topic in topics::ALL {
        let name = channel_name(topic);
        let messages: serde_json::Map<String, Value> = kinds
            .iter()
            .filter(|kind| kind.topic == topic)
            .map(|kind| {
                let reference = json!({"$ref": format!("#/components/messages/{}", kind.event_type)});
                (kind.event_type.to_owned(), reference)
            })
            .collect();
        let message_refs: Vec<Value> = messages
            .keys()
            .map(|key| json!({"$ref": format!("#/channels/{name}/messages/{key}")}))
            .collect();
        channels.insert(
            name.clone(),
            json!({"address": topic, "messages": messages, "bindings": {"kafka": {"topic": topic}}}),
        );
        operations.insert(
            format!("publish_{name}"),
            json!({"action": "send", "channel": {"$ref": format!("#/channels/{name}")}, "messages": message_refs}),
        );
    }
    let mut schemas = serde_json::Map::new();
    schemas.insert("CloudEventHeaders".into(), cloudevent_headers());
    let messages: serde_json::Map<String, Value> = kinds
        .iter()
        .map(|kind| {
            let schema = hoist_definitions((kind.schema)().to_value(), &mut schemas);
            let message = json!({
                "name": kind.event_type,
                "summary": kind.summary,
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
                "payload": {
                    "schemaFormat": "application/schema+json;version=draft-07",
                    "schema": schema
                },
                "bindings": {"kafka": {"key": {"type": "string", "description": "The stream id."}}}
            });
            (kind.event_type.to_owned(), message)
        })
        .collect();
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "trustsafe event log",
            "version": "1.0.0",
            "description": "The topics the trustsafe services share. One topic per producing service; the key is the stream id, so a stream keeps to one partition, in order. Delivery is at least once: consumers deduplicate by ce_id. A payload's `restricted` part (narrative, names, references) stays in the producing service's own store and is never published: schemas show it because the store keeps it."
        },
        "defaultContentType": "application/json",
        "servers": {"dev": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "trustsafe dev's embedded broker"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas}
    })
}

/// Moves a schema's `definitions` into the document's `components/schemas` and points its `$ref`s
/// there: embedded in a message, `#/definitions/…` would resolve against the document's root, where
/// there is none. A name used by two event types is one Rust type, so it must be one schema.
fn hoist_definitions(mut schema: Value, components: &mut serde_json::Map<String, Value>) -> Value {
    if let Some(Value::Object(definitions)) = schema.as_object_mut().and_then(|s| s.remove("definitions")) {
        for (name, mut definition) in definitions {
            point_refs_at_components(&mut definition);
            if let Some(existing) = components.get(&name) {
                assert_eq!(existing, &definition, "two different schemas named {name}");
            }
            components.insert(name, definition);
        }
    }
    point_refs_at_components(&mut schema);
    schema
}

fn point_refs_at_components(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                match field {
                    Value::String(reference) if key == "$ref" => {
                        if let Some(name) = reference.strip_prefix("#/definitions/") {
                            *reference = format!("#/components/schemas/{name}");
                        }
                    }
                    other => point_refs_at_components(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(point_refs_at_components),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The package directory as cargo gives it when running the test, not as it was when compiled: the
    /// build cache is shared between checkouts, so a compile-time path can name another (even deleted) one.
    fn manifest_dir() -> PathBuf {
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
    }

    /// The committed contract must be what the code says. `TRUSTSAFE_BLESS=1 cargo test -p
    /// trustsafe-events` rewrites it after a deliberate change.
    #[test]
    fn committed_contract_is_current() {
        let openapi = manifest_dir().join("../../openapi");
        let mut expected: BTreeMap<PathBuf, String> = event_schemas()
            .into_iter()
            .map(|(name, schema)| (openapi.join("events").join(name), schema))
            .collect();
        let asyncapi = serde_json::to_string_pretty(&asyncapi_document()).unwrap() + "\n";
        expected.insert(openapi.join("asyncapi.json"), asyncapi);

        if std::env::var_os("TRUSTSAFE_BLESS").is_some() {
            std::fs::create_dir_all(openapi.join("events")).unwrap();
            for (path, text) in &expected {
                std::fs::write(path, text).unwrap();
            }
        }
        let committed_schemas: Vec<PathBuf> = std::fs::read_dir(openapi.join("events"))
            .map(|dir| dir.map(|entry| entry.unwrap().path()).collect())
            .unwrap_or_default();
        for path in committed_schemas {
            assert!(
                expected.contains_key(&path),
                "{} is no event type any more: delete it",
                path.display()
            );
        }
        for (path, text) in expected {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == text,
                "{} is stale: run `TRUSTSAFE_BLESS=1 cargo test -p trustsafe-events` and commit it",
                path.display()
            );
        }
    }

    #[test]
    fn every_event_type_is_versioned_and_on_a_known_topic() {
        for kind in catalog() {
            let (_, version) = kind.event_type.rsplit_once(".v").expect("type ends in .vN");
            assert!(version.parse::<u32>().is_ok(), "{}", kind.event_type);
            assert!(topics::ALL.contains(&kind.topic), "{}", kind.event_type);
        }
    }
}
