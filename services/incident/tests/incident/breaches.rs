//! A filtering breach escalated to a concern opens one, exactly once, from the shared log.

use chrono::Utc;
use serde_json::Value;
use trustsafe_auth::SchoolRole;
use trustsafe_events::filtering::{BreachEscalated, EscalationTrigger};
use trustsafe_events::{Actor, Envelope, Event, KafkaRecord, TraceContext, to_kafka, topics};
use uuid::Uuid;

use crate::support::*;

fn escalation(
    school: &str,
    breach_id: Uuid,
    category: &str,
    severity: u8,
    trigger: EscalationTrigger,
    version: i64,
) -> KafkaRecord {
    let breach = BreachEscalated {
        breach_id,
        category: category.into(),
        severity,
        trigger,
        detected_at: Utc::now() - chrono::Duration::minutes(5),
        restricted: None,
    };
    to_kafka(&Envelope {
        event_id: Uuid::now_v7(),
        event_type: BreachEscalated::TYPE.into(),
        source: "/trustsafe/filtering".into(),
        stream_id: format!("breach-{breach_id}"),
        stream_version: version,
        trust_id: "viking".into(),
        school_id: Some(school.into()),
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        actor: Actor::service("filtering"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        trace: TraceContext::default(),
        data: serde_json::to_value(&breach).unwrap(),
    })
}

/// Waits until the reaction has dealt with `events` records (applied, ignored or parked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_severe_breach_opens_one_concern_however_often_it_arrives() {
    let app = TestApp::spawn().await;
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let illegal = Uuid::now_v7();
    let first = escalation("raps", illegal, "illegal", 5, EscalationTrigger::Automatic, 1);
    let records = vec![
        first.clone(),
        // The same event delivered again, and the same breach escalated again by a second event.
        first,
        escalation("raps", illegal, "illegal", 5, EscalationTrigger::Automatic, 2),
        // Below the threshold, automatic: not a concern. Decided by a person: a concern.
        escalation(
            "raps",
            Uuid::now_v7(),
            "gambling",
            2,
            EscalationTrigger::Automatic,
            1,
        ),
        escalation(
            "raps",
            Uuid::now_v7(),
            "self_harm",
            3,
            EscalationTrigger::Manual,
            1,
        ),
        // Poison: a school nobody knows.
        escalation(
            "atlantis",
            Uuid::now_v7(),
            "illegal",
            5,
            EscalationTrigger::Automatic,
            1,
        ),
    ];
    app.produce(topics::FILTERING, &records).await;
    app.consumed("incident.breach-escalations", 5).await;

    let page: Value = app
        .get("/api/v1/schools/raps/incidents", &dsl)
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    let mut categories: Vec<&str> = items
        .iter()
        .map(|item| item["category"].as_str().unwrap())
        .collect();
    categories.sort();
    assert_eq!(
        categories,
        ["inappropriate_content", "indecent_images_of_children"],
        "{page}"
    );
    let iioc = items
        .iter()
        .find(|item| item["category"] == "indecent_images_of_children")
        .unwrap();
    let concern: Value = app
        .get(
            &format!("/api/v1/schools/raps/incidents/{}", iioc["id"].as_str().unwrap()),
            &dsl,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(concern["source"]["kind"], "filtering_breach");
    assert_eq!(concern["source"]["breach_id"], illegal.to_string());
    assert_eq!(concern["source"]["severity"], 5);
    assert_eq!(concern["reported_by"], "service:incident");
    assert_eq!(concern["status"], "reported");
    assert!(
        concern["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|step| step["id"] == "iwf_report")
    );

    let parked: Vec<String> = sqlx::query_scalar("SELECT error FROM dead_letters")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert!(parked[0].contains("atlantis"), "{parked:?}");

    // The concern's event names the breach's event as its cause, on the shared log.
    app.published().await;
    let reported = app
        .read(topics::INCIDENT, 2, |record| {
            header(record, "ce_type") == "incident.reported.v3"
        })
        .await;
    assert!(
        reported
            .iter()
            .all(|record| header(record, "ce_actor") == "service:incident")
    );
    assert!(
        reported
            .iter()
            .all(|record| !header(record, "ce_causationid").is_empty())
    );
    app.stop().await;
}
