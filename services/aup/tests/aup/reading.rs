//! Reading the roster: how much each role sees, another school's person, paging and filters, a
//! person's history, and what reaches the shared log.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::topics;
use trustsafe_testkit::{header, read_topic};

use crate::support::{PEOPLE, TestApp, parent, person_id, problem, pupil, staff};

async fn seeded() -> (TestApp, Value) {
    let app = TestApp::spawn().await;
    let answer = app
        .synced(&json!({"as_of": "2026-09-01T06:00:00Z",
                         "people": [pupil(7, "Adams", 5), staff(1, "Brown"), parent(1, &[7])]}))
        .await;
    (app, answer)
}

#[tokio::test]
async fn staff_read_names_technicians_accounts_and_leads_everything() {
    let (app, answer) = seeded().await;
    let pupil_path = format!("{PEOPLE}/{}", person_id(&answer, "P7"));
    let as_staff = app.json(&pupil_path, &app.raps(SchoolRole::Staff)).await;
    assert_eq!(
        (as_staff["forename"].as_str(), as_staff["year_group"].as_i64()),
        (Some("Pupil7"), Some(5))
    );
    for hidden in ["upn", "date_of_birth", "flags", "accounts"] {
        assert!(
            as_staff.get(hidden).is_none(),
            "staff see no {hidden}: {as_staff}"
        );
    }
    let as_technician = app.json(&pupil_path, &app.raps(SchoolRole::Technician)).await;
    assert_eq!(as_technician["accounts"], json!(["raps\\pupil7"]));
    for hidden in ["upn", "date_of_birth", "flags"] {
        assert!(
            as_technician.get(hidden).is_none(),
            "technicians see no {hidden}: {as_technician}"
        );
    }
    let as_dsl = app.get(&pupil_path, &app.raps(SchoolRole::Dsl)).await;
    assert_eq!(as_dsl.headers()["etag"], "\"1\"");
    let as_dsl: Value = as_dsl.json().await.unwrap();
    assert_eq!(
        as_dsl["flags"],
        json!({"send": true, "in_care": false, "eal": null})
    );
    assert_eq!(as_dsl["date_of_birth"], "2015-03-04");
    assert!(as_dsl["upn"].as_str().unwrap().len() == 13);
    let parent = app
        .json(
            &format!("{PEOPLE}/{}", person_id(&answer, "C1")),
            &app.raps(SchoolRole::Headteacher),
        )
        .await;
    assert_eq!(parent["phones"], json!(["01843 000000"]));
    // The list shows each person as the one view does.
    let listed = app.json(PEOPLE, &app.raps(SchoolRole::Staff)).await;
    assert!(
        listed["people"]
            .as_array()
            .unwrap()
            .iter()
            .all(|person| person.get("accounts").is_none())
    );
    app.stop().await;
}

#[tokio::test]
async fn another_schools_person_is_404_and_integrations_governors_and_the_trust_read_no_one() {
    let (app, answer) = seeded().await;
    let pupil_id = person_id(&answer, "P7");
    let chilton_dsl = app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]);
    problem(
        app.get(
            &format!("/api/v1/schools/chilton/people/{pupil_id}"),
            &chilton_dsl,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    let chilton_list = app.json("/api/v1/schools/chilton/people", &chilton_dsl).await;
    assert_eq!(
        chilton_list["people"],
        json!([]),
        "no one of RAPS in Chilton's list"
    );
    for token in [
        app.mis(),
        app.raps(SchoolRole::Governor),
        app.trust_token("lead", "viking", TrustRole::TrustSafeguardingLead),
        chilton_dsl,
    ] {
        for path in [
            PEOPLE.to_owned(),
            format!("{PEOPLE}/{pupil_id}"),
            format!("{PEOPLE}/{pupil_id}/history"),
        ] {
            problem(app.get(&path, &token).await, StatusCode::NOT_FOUND, "not-found").await;
        }
    }
    problem(
        app.get(&format!("{PEOPLE}/not-an-id"), &app.raps(SchoolRole::Dsl))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn the_list_pages_in_name_order_and_filters_by_kind_year_and_name() {
    let app = TestApp::spawn().await;
    let people: Vec<Value> = (0..7)
        .map(|n| pupil(n, &format!("Name{}", 6 - n), 3 + (n % 2) as i64))
        .collect();
    app.synced(&json!({"people": people})).await;
    let dsl = app.raps(SchoolRole::Dsl);
    let mut seen = Vec::new();
    let mut path = format!("{PEOPLE}?limit=3");
    loop {
        let page = app.json(&path, &dsl).await;
        seen.extend(
            page["people"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["surname"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{PEOPLE}?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, (0..7).map(|n| format!("Name{n}")).collect::<Vec<_>>());
    let year_four = app.json(&format!("{PEOPLE}?year_group=Y4"), &dsl).await;
    assert_eq!(year_four["people"].as_array().unwrap().len(), 3);
    let named = app.json(&format!("{PEOPLE}?name=name5"), &dsl).await;
    assert_eq!(named["people"][0]["surname"], "Name5");
    let no_staff = app.json(&format!("{PEOPLE}?kind=staff"), &dsl).await;
    assert_eq!(no_staff["people"], json!([]));
    let wildcard = app.json(&format!("{PEOPLE}?name=%25"), &dsl).await;
    assert_eq!(
        wildcard["people"],
        json!([]),
        "a % is a character, not a wildcard"
    );
    for bad in [
        "limit=0",
        "limit=201",
        "kind=alien",
        "year_group=Y20",
        "cursor=42",
        "colour=red",
    ] {
        problem(
            app.get(&format!("{PEOPLE}?{bad}"), &dsl).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_persons_history_says_what_changed_when_and_only_to_the_leads() {
    let (app, answer) = seeded().await;
    let mut moved = pupil(7, "Adams", 6);
    moved["flags"]["in_care"] = json!(true);
    app.synced(&json!({"as_of": "2026-10-01T06:00:00Z", "people": [moved]}))
        .await;
    app.synced(&json!({"as_of": "2026-11-01T06:00:00Z", "removals": [{"kind": "pupil", "mis_id": "P7"}]}))
        .await;
    let history_path = format!("{PEOPLE}/{}/history", person_id(&answer, "P7"));
    let history = app.json(&history_path, &app.raps(SchoolRole::DeputyDsl)).await;
    let changes: Vec<(&str, Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["change"].as_str().unwrap(), entry["fields"].clone()))
        .collect();
    assert_eq!(changes[1], ("recorded", json!(["flags", "year_group"])));
    assert_eq!(changes[2], ("removed", json!([])));
    assert!(
        changes[0].1.as_array().unwrap().len() > 5,
        "everything is new on joining"
    );
    problem(
        app.get(&history_path, &app.raps(SchoolRole::Staff)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn the_log_carries_ids_kinds_years_flags_and_account_hashes_never_names() {
    let (app, answer) = seeded().await;
    let records = read_topic(app.broker.log(), topics::AUP, 3, Duration::from_secs(20), |_| {
        true
    })
    .await;
    let pupil_id = person_id(&answer, "P7");
    let pupil = records
        .iter()
        .find(|record| header(record, "ce_subject") == format!("person-{pupil_id}"))
        .expect("the pupil's event");
    assert_eq!(header(pupil, "ce_type"), "aup.person_recorded.v1");
    assert_eq!(header(pupil, "ce_schoolid"), "raps");
    let data: Value = serde_json::from_slice(&pupil.value).unwrap();
    assert_eq!(
        (data["kind"].as_str(), data["year_group"].as_i64()),
        (Some("pupil"), Some(5))
    );
    assert_eq!(data["flags"]["send"], true);
    assert_eq!(
        data["account_hashes"],
        json!([app.identity.pseudonyms.account_hash("viking", "RAPS\\Pupil7")])
    );
    for record in &records {
        let text = String::from_utf8_lossy(&record.value).to_lowercase();
        for secret in [
            "pupil7",
            "adams",
            "brown",
            "parent1",
            "2015-03-04",
            "01843",
            "example.org",
            "raps.sch.uk",
            "restricted",
            "mis_id",
        ] {
            assert!(!text.contains(secret), "{secret} reached the log: {text}");
        }
    }
    let mum: Value = records
        .iter()
        .find(|record| header(record, "ce_subject") == format!("person-{}", person_id(&answer, "C1")))
        .map(|record| serde_json::from_slice(&record.value).unwrap())
        .unwrap();
    assert_eq!(mum["responsible_for"], json!([pupil_id]));
    app.stop().await;
}
