//! A breach's user resolves to a person through the roster's account hashes, learned from the aup
//! topic; one recorded before the roster knew them is attributed when it learns them.

use std::time::Duration;

use chrono::Utc;
use trustsafe_events::aup::{PersonFlags, PersonRecorded, RosterKind};
use trustsafe_events::{Actor, Envelope, Event, KafkaRecord, TraceContext, to_kafka, topics};
use trustsafe_testkit::{header, read_topic};
use uuid::Uuid;

use crate::support::*;

pub fn person_joins(app: &TestApp, person_id: Uuid, account: &str, year_group: i8) -> KafkaRecord {
    let person = PersonRecorded {
        person_id,
        kind: RosterKind::Pupil,
        year_group: Some(year_group),
        flags: PersonFlags::default(),
        account_hashes: vec![app.identity.pseudonyms.account_hash("viking", account)],
        responsible_for: Vec::new(),
        as_of: Utc::now(),
        restricted: None,
    };
    to_kafka(&Envelope {
        event_id: Uuid::now_v7(),
        event_type: PersonRecorded::TYPE.into(),
        source: "/trustsafe/aup".into(),
        stream_id: format!("person-{person_id}"),
        stream_version: 1,
        trust_id: "viking".into(),
        school_id: Some("raps".into()),
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        actor: Actor::service("aup"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        trace: TraceContext::default(),
        data: serde_json::to_value(&person).unwrap(),
    })
}

async fn breach_of(app: &TestApp, user: &str) -> serde_json::Value {
    app.breaches()
        .await
        .into_iter()
        .find(|breach| breach["user"] == user)
        .expect("the user's breach")
}

#[tokio::test]
async fn a_user_who_joins_the_roster_after_their_breach_is_attributed_then_and_at_once_after() {
    let app = TestApp::spawn().await;
    app.upload(
        "squid",
        &[squid(NINE, "RAPS\\NewPupil", "http://casino.example/", true)],
    )
    .await;
    let before = breach_of(&app, "RAPS\\NewPupil").await;
    assert!(before["person_id"].is_null() && before["year_group"].is_null());

    let person_id = Uuid::now_v7();
    trustsafe_testkit::produce(
        app.broker.log(),
        topics::AUP,
        &[person_joins(&app, person_id, "raps\\newpupil", 6)],
    )
    .await;
    let mut attributed = before.clone();
    for _ in 0..300 {
        attributed = breach_of(&app, "RAPS\\NewPupil").await;
        if !attributed["person_id"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(attributed["person_id"], person_id.to_string());
    assert_eq!(
        (
            attributed["person_kind"].clone(),
            attributed["year_group"].clone()
        ),
        ("pupil".into(), 6.into())
    );
    let published = read_topic(
        app.broker.log(),
        topics::FILTERING,
        1,
        Duration::from_secs(30),
        |record| header(record, "ce_type") == "filtering.breach_attributed.v1",
    )
    .await;
    let text = String::from_utf8_lossy(&published[0].value).to_string();
    assert!(
        text.contains("\"year_group\":6") && !text.contains(&person_id.to_string()),
        "{text}"
    );

    // Known now: a later breach is theirs from the start.
    app.upload(
        "squid",
        &[squid(
            NINE + 7200,
            "raps\\newpupil",
            "http://games.example/",
            true,
        )],
    )
    .await;
    let later = app
        .breaches()
        .await
        .into_iter()
        .find(|breach| breach["host"] == "games.example")
        .unwrap();
    assert_eq!(
        (later["person_id"].clone(), later["year_group"].clone()),
        (person_id.to_string().into(), 6.into())
    );
    app.stop().await;
}
