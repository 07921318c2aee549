//! A report may name someone picked from the school's roster, which the incident service learns from
//! `trustsafe.aup.v1` (ids, schools and kinds only): the DSL sees their roster id and where to read
//! who they are; an id the school's roster does not hold is refused, whichever school holds it.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;
use trustsafe_events::aup::{PersonFlags, PersonRecorded, PersonRemoved, RosterKind};
use trustsafe_events::{Actor, Envelope, Event, KafkaRecord, TraceContext, to_kafka, topics};
use uuid::Uuid;

use crate::support::*;

fn aup_event<E: Event>(person_id: Uuid, version: i64, school: &str, event: &E) -> KafkaRecord {
    to_kafka(&Envelope {
        event_id: Uuid::now_v7(),
        event_type: E::TYPE.into(),
        source: "/trustsafe/aup".into(),
        stream_id: format!("person-{person_id}"),
        stream_version: version,
        trust_id: "viking".into(),
        school_id: Some(school.into()),
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        actor: Actor::person("raps-mis", "mis"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        trace: TraceContext::default(),
        data: serde_json::to_value(event).unwrap(),
    })
}

fn joined(school: &str, kind: RosterKind) -> (Uuid, KafkaRecord) {
    let person_id = Uuid::now_v7();
    let person = PersonRecorded {
        person_id,
        kind,
        year_group: (kind == RosterKind::Pupil).then_some(5),
        flags: PersonFlags::default(),
        account_hashes: Vec::new(),
        responsible_for: Vec::new(),
        as_of: Utc::now(),
        restricted: None,
    };
    (person_id, aup_event(person_id, 1, school, &person))
}

fn naming(people: Value) -> Value {
    let mut report = cyberbullying_report("Names in the class chat");
    report["people"] = people;
    report
}

#[tokio::test]
async fn a_report_names_a_pupil_picked_from_the_roster_and_the_dsl_sees_where_to_read_who() {
    let app = TestApp::spawn().await;
    let (pupil, pupil_joined) = joined("raps", RosterKind::Pupil);
    let (left, left_joined) = joined("raps", RosterKind::Pupil);
    let (elsewhere, elsewhere_joined) = joined("chilton", RosterKind::Pupil);
    let removal = PersonRemoved {
        person_id: left,
        kind: RosterKind::Pupil,
        as_of: Utc::now(),
    };
    let records = [
        pupil_joined,
        left_joined,
        aup_event(left, 2, "raps", &removal),
        elsewhere_joined,
    ];
    app.produce(topics::AUP, &records).await;
    app.consumed("incident.roster", records.len() as i64).await;
    let staff = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);

    let concern = app
        .report(
            "raps",
            &staff,
            &naming(json!([{"person_id": pupil, "kind": "pupil", "role": "victim"},
                           {"person_ref": "UPN-B456", "kind": "pupil", "role": "alleged"}])),
        )
        .await;

    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let path = format!(
        "/api/v1/schools/raps/incidents/{}",
        concern["id"].as_str().unwrap()
    );
    let seen = app.json(&path, &dsl).await;
    assert_eq!(
        seen["people"][0],
        json!({"person_ref": null, "person_id": pupil, "roster": format!("/api/v1/schools/raps/people/{pupil}"),
               "kind": "pupil", "role": "victim"})
    );
    assert_eq!(seen["people"][1]["person_ref"], "UPN-B456");

    // No one the school's roster holds now: another school's pupil, one who left, one never heard of;
    // and a pupil named as staff. Each refused by the field at fault; nothing stored.
    let before = app.stored().await;
    for (people, field) in [
        (
            json!([{"person_id": elsewhere, "kind": "pupil", "role": "victim"}]),
            "people[0].person_id",
        ),
        (
            json!([{"person_id": left, "kind": "pupil", "role": "victim"}]),
            "people[0].person_id",
        ),
        (
            json!([{"person_id": Uuid::now_v7(), "kind": "pupil", "role": "victim"}]),
            "people[0].person_id",
        ),
        (
            json!([{"person_id": pupil, "kind": "staff", "role": "witness"}]),
            "people[0].kind",
        ),
        (json!([{"kind": "pupil", "role": "victim"}]), "people[0]"),
    ] {
        let response = app
            .post("/api/v1/schools/raps/incidents", &staff, &naming(people.clone()))
            .await;
        let refused: Value = problem(response, StatusCode::BAD_REQUEST, "validation").await;
        assert!(refused["errors"][field].is_string(), "{people}: {refused}");
    }
    assert_eq!(app.stored().await, before);

    // The log carries neither the roster id nor the reference of anyone named.
    app.published().await;
    let published = app
        .read(topics::INCIDENT, 1, |record| {
            header(record, "ce_type") == "incident.reported.v3"
        })
        .await;
    let text = String::from_utf8_lossy(&published[0].value).to_string();
    assert!(
        !text.contains(&pupil.to_string()) && !text.contains("UPN-B456"),
        "{text}"
    );
    app.stop().await;
}
