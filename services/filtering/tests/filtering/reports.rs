//! Breaches reported by staff, for themselves or for a learner who told them.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;

use crate::support::*;

#[tokio::test]
async fn staff_report_what_a_learner_found_and_the_dsl_sees_it_as_a_breach_of_its_own() {
    let app = TestApp::spawn().await;
    let staff = app.raps(SchoolRole::Staff);
    let report = json!({
        "what": "A pupil found a casino site and turned the screen off",
        "when": Utc::now() - Duration::minutes(20),
        "url": "http://casino.example/slots",
        "where": "Year 6 class, laptop 12",
        "category": "Gambling",
        "user": "pupil1",
        "by_learner": true
    });
    let response = app.post(BREACHES, &staff, &report).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let answer: Value = response.json().await.unwrap();
    let id = answer["breach_id"].as_str().unwrap().to_owned();
    assert_eq!(answer["escalated"], false);
    let again: Value = app.post(BREACHES, &staff, &report).await.json().await.unwrap();
    assert_eq!(
        again["breach_id"],
        id.as_str(),
        "the same report twice is one breach"
    );

    let breach = app
        .json(&format!("{BREACHES}/{id}"), &app.raps(SchoolRole::Dsl))
        .await;
    assert_eq!(
        (breach["source"].clone(), breach["feed"].clone()),
        ("report".into(), "learner_report".into())
    );
    assert_eq!(
        (breach["category"].clone(), breach["host"].clone()),
        ("gambling".into(), "casino.example".into())
    );
    assert_eq!(
        (breach["client"].clone(), breach["context"].clone()),
        ("Year 6 class, laptop 12".into(), report["what"].clone())
    );
    problem(
        app.get(&format!("{BREACHES}/{id}"), &staff).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;

    // A log's sighting of the same hour does not swallow the report, nor the report the log's.
    app.upload(
        "squid",
        &[squid(
            Utc::now().timestamp() - 600,
            "-",
            "http://casino.example/",
            true,
        )],
    )
    .await;
    assert_eq!(app.breaches().await.len(), 2);

    let grave: Value = app
        .post(
            BREACHES,
            &staff,
            &json!({"what": "Searching for ways to self-harm", "when": Utc::now(), "category": "self harm"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grave["escalated"], true);
    app.stop().await;
}

#[tokio::test]
async fn a_report_that_does_not_fit_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let staff = app.raps(SchoolRole::Staff);
    let before = app.stored().await;
    for (bad, field) in [
        (json!({"when": Utc::now()}), "what"),
        (
            json!({"what": "x", "when": Utc::now() + Duration::hours(2)}),
            "when",
        ),
        (
            json!({"what": "x", "when": Utc::now() - Duration::days(400)}),
            "when",
        ),
        (json!({"what": "x", "when": "yesterday"}), "when"),
        (json!({"what": "x", "when": Utc::now(), "colour": "red"}), ""),
        (json!({"what": "a\u{0}b", "when": Utc::now()}), "what"),
    ] {
        let body = problem(
            app.post(BREACHES, &staff, &bad).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
        assert!(
            body["detail"].as_str().unwrap().contains(field),
            "{field}: {body}"
        );
    }
    let report = json!({"what": "x", "when": Utc::now()});
    for who in [
        app.mis_token("raps-mis", "raps"),
        app.feed("raps"),
        app.school_token("chilton-staff", "chilton", &[SchoolRole::Staff]),
    ] {
        problem(
            app.post(BREACHES, &who, &report).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    assert_eq!(app.stored().await, before);
    app.stop().await;
}
