//! Acceptances another system collected (Smoothwall Monitor's log-on AUP, Entra's Terms of Use),
//! imported from its CSV export: matched to the roster by directory account, each person's latest
//! answer recorded once, every line accounted for.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;
use trustsafe_events::topics;
use trustsafe_testkit::{header, read_topic};

use crate::support::{TestApp, person_id, problem, pupil, staff};

const IMPORTS: &str = "/api/v1/schools/raps/agreements/imports";

impl TestApp {
    /// Posts `export` to the imports as `token`, with `query`.
    async fn import(&self, query: &str, token: &str, export: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("{IMPORTS}?{query}")))
            .bearer_auth(token)
            .header("Content-Type", "text/csv")
            .body(export.to_owned())
            .send()
            .await
            .unwrap()
    }
}

fn ago(hours: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::hours(hours)
}

/// Year 4, 5 and 6 pupils, a year 1 pupil and a teacher; the trust's KS1, KS2 and staff policies in
/// force for a month. The roster's answer.
async fn school() -> (TestApp, Value) {
    let app = TestApp::spawn().await;
    let roster = app
        .synced(
            &json!({"people": [pupil(4, "Four", 4), pupil(5, "Five", 5), pupil(6, "Six", 6),
                                   pupil(1, "One", 1), staff(1, "Teacher")]}),
        )
        .await;
    for (audience, title) in [("eyfs_ks1", "EYFS and KS1"), ("ks2", "KS2"), ("staff", "Staff")] {
        app.publish_for_trust(audience, title, 30).await;
    }
    (app, roster)
}

/// Smoothwall's log-on log, its columns in its own order: two log-ons by one pupil (the later
/// stands), a decline matched by the name alone, a teacher, an infant (whose policy a parent signs),
/// someone not on the roster, an answer that is neither, a blank line.
fn smoothwall_log() -> String {
    let at = |hours: i64| ago(hours).to_rfc3339();
    [
        "\u{feff}Time,Action,Username,IP Address".to_owned(),
        format!("{},Accepted,RAPS\\pupil4,10.0.0.4", at(72)),
        format!("{},Accepted,RAPS\\pupil4,10.0.0.4", at(48)),
        format!("{},Declined,pupil5@raps.sch.uk,10.0.0.5", at(47)),
        format!("{},Accepted,raps\\staff1,10.0.0.9", at(24)),
        format!("{},Accepted,RAPS\\pupil1,10.0.0.1", at(23)),
        format!("{},Accepted,RAPS\\nobody,10.0.0.7", at(22)),
        format!("{},Maybe,RAPS\\pupil6,10.0.0.6", at(21)),
        ",,,".to_owned(),
    ]
    .join("\n")
}

#[tokio::test]
async fn a_smoothwall_log_is_imported_once_each_line_accounted_for() {
    let (app, roster) = school().await;
    let technician = app.raps(SchoolRole::Technician);
    // Read once: the same bytes are imported twice.
    let log = smoothwall_log();

    let response = app.import("system=smoothwall_monitor", &technician, &log).await;
    assert_eq!(response.status(), StatusCode::MULTI_STATUS);
    let report: Value = response.json().await.unwrap();
    assert_eq!(
        (
            &report["lines"],
            &report["recorded"],
            &report["superseded"],
            &report["blank"]
        ),
        (&json!(8), &json!(3), &json!(1), &json!(1)),
        "{report}"
    );
    assert_eq!(
        report["unmatched"],
        json!([{"line": 7, "user": "RAPS\\nobody", "reason": "no one on the roster has this account"}])
    );
    let refused: Vec<i64> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["line"].as_i64().unwrap())
        .collect();
    assert_eq!(refused, [6, 8], "{report}");
    assert!(
        report["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("parent")
    );

    // The pupil's later log-on is on record, as imported from its line; the decline stands too.
    let dsl = app.raps(SchoolRole::Dsl);
    let four = person_id(&roster, "P4");
    let answers = app
        .json(&format!("/api/v1/schools/raps/people/{four}/agreements"), &dsl)
        .await;
    assert_eq!(answers.as_array().unwrap().len(), 1, "{answers}");
    assert_eq!(
        answers[0]["imported_from"],
        json!({"system": "smoothwall_monitor", "line": 3})
    );
    assert_eq!(answers[0]["on_paper"], false);
    let standing = |id: String| {
        let app = &app;
        let dsl = dsl.clone();
        async move {
            app.json(&format!("/api/v1/schools/raps/people/{id}/aup-status"), &dsl)
                .await["standing"]
                .clone()
        }
    };
    assert_eq!(standing(four.clone()).await, "current");
    assert_eq!(standing(person_id(&roster, "P5")).await, "declined");
    assert_eq!(standing(person_id(&roster, "S1")).await, "current");
    let published = read_topic(
        app.broker.log(),
        topics::AUP,
        3,
        Duration::from_secs(20),
        |record| header(record, "ce_type") == "aup.agreement_recorded.v2",
    )
    .await;
    assert!(
        published
            .iter()
            .any(|event| String::from_utf8_lossy(&event.value).contains(r#""system":"smoothwall_monitor""#)),
        "the log says where each answer came from"
    );

    // The same export again records nothing more.
    let events = app.event_count().await;
    let again: Value = app
        .import("system=smoothwall_monitor", &technician, &log)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&again["recorded"], &again["already_recorded"]),
        (&json!(0), &json!(3)),
        "{again}"
    );
    assert_eq!(app.event_count().await, events);
    app.stop().await;
}

#[tokio::test]
async fn entra_terms_of_use_records_are_imported_and_expired_ones_left() {
    let (app, roster) = school().await;
    let export = [
        "User principal name,Display name,Device ID,State,Recorded (UTC),Expiration".to_owned(),
        format!(
            "staff1@raps.sch.uk,Sam Teacher,dev-1,Accepted,{},",
            ago(5).format("%Y-%m-%d %H:%M:%S")
        ),
        format!(
            "pupil6@raps.sch.uk,Pupil6 Six,dev-2,Accepted,{},{}",
            ago(400).to_rfc3339(),
            ago(10).to_rfc3339()
        ),
    ]
    .join("\r\n");

    let response = app
        .import("system=entra_terms_of_use", &app.raps(SchoolRole::Dsl), &export)
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(
        (&report["recorded"], &report["expired"]),
        (&json!(1), &json!(1)),
        "{report}"
    );
    let teacher = person_id(&roster, "S1");
    let answers = app
        .json(
            &format!("/api/v1/schools/raps/people/{teacher}/agreements"),
            &app.raps(SchoolRole::Dsl),
        )
        .await;
    assert_eq!(answers[0]["imported_from"]["system"], "entra_terms_of_use");
    assert_eq!(answers[0]["audience"], "staff");
    app.stop().await;
}

#[tokio::test]
async fn an_import_that_cannot_be_read_or_is_not_the_callers_changes_nothing() {
    let (app, _) = school().await;
    let technician = app.raps(SchoolRole::Technician);
    let before = app.stored().await;
    let events = app.event_count().await;

    let no_answer = app
        .import(
            "system=smoothwall_monitor",
            &technician,
            "Time,Username\n2026-11-01 09:00,raps\\pupil4",
        )
        .await;
    let refused = problem(no_answer, StatusCode::UNPROCESSABLE_ENTITY, "unprocessable").await;
    assert!(
        refused["detail"].as_str().unwrap().contains("the answer"),
        "{refused}"
    );
    for query in [
        "system=moodle",
        "",
        "system=smoothwall_monitor&audience=everyone",
        "system=entra_terms_of_use&extra=1",
    ] {
        problem(
            app.import(query, &technician, &smoothwall_log()).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
    }
    problem(
        app.import("system=smoothwall_monitor", &technician, "").await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    problem(
        app.import(
            "system=smoothwall_monitor",
            &app.raps(SchoolRole::Staff),
            &smoothwall_log(),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    for token in [
        app.raps(SchoolRole::Governor),
        app.mis(),
        app.school_token("chilton-tech", "chilton", &[SchoolRole::Technician]),
    ] {
        // Whatever they send, even nothing a lead could import: not found.
        problem(
            app.import("system=moodle", &token, "").await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    assert_eq!(app.stored().await, before);
    assert_eq!(app.event_count().await, events);
    app.stop().await;
}
