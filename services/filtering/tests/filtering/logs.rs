//! Uploading filter logs: breaches, hourly counts and refusals; the same bytes once; what continues
//! a breach and what escalates; what cannot be read at all.

use std::io::Write as _;
use std::time::Duration;

use reqwest::StatusCode;
use trustsafe_auth::SchoolRole;
use trustsafe_events::topics;
use trustsafe_testkit::{header, read_topic};

use crate::support::*;

#[tokio::test]
async fn a_log_becomes_breaches_hourly_counts_and_numbered_refusals() {
    let app = TestApp::spawn().await;
    let lines = [
        squid(NINE, "Pupil1", "http://casino.example/", true),
        squid(NINE + 600, "pupil1", "http://casino.example/slots", true),
        squid(NINE + 700, "-", "http://www.bbc.co.uk/", false),
        "this is not a squid line".to_owned(),
        String::new(),
        squid(NINE + 800, "pupil2", "http://casino.example/", true),
    ];
    let (status, report) = app.upload("squid", &lines).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{report}");
    assert_eq!(report["lines_read"], 6);
    assert_eq!(
        (report["lines_skipped"].clone(), report["lines_refused"].clone()),
        (1.into(), 1.into())
    );
    assert_eq!(
        (
            report["lines_in_breaches"].clone(),
            report["lines_counted"].clone()
        ),
        (3.into(), 1.into())
    );
    assert_eq!(report["refused"][0]["line"], 4);
    assert!(
        report["refused"][0]["reason"].as_str().unwrap().contains("no"),
        "{report}"
    );
    assert_eq!(report["breaches_recorded"], 2);

    let breaches = app.breaches().await;
    assert_eq!(breaches.len(), 2);
    let first = breaches
        .iter()
        .find(|breach| breach["user"] == "Pupil1")
        .expect("pupil1's breach");
    assert_eq!(
        (first["count"].clone(), first["host"].clone()),
        (2.into(), "casino.example".into())
    );
    assert_eq!(
        (
            first["action"].clone(),
            first["source"].clone(),
            first["feed"].clone()
        ),
        ("blocked".into(), "log".into(), "squid".into())
    );
    assert_eq!(first["first_seen"], "2026-11-30T09:00:00Z");
    assert_eq!(first["last_seen"], "2026-11-30T09:10:00Z");
    assert_eq!(first["url"], "http://casino.example/");

    let hours = app
        .json(
            "/api/v1/schools/raps/filtering/hours?from=2026-11-30T00:00:00Z",
            &app.raps(SchoolRole::Technician),
        )
        .await;
    let requests: i64 = hours
        .as_array()
        .unwrap()
        .iter()
        .map(|hour| hour["requests"].as_i64().unwrap())
        .sum();
    assert_eq!(requests, 4);
    assert!(
        hours
            .as_array()
            .unwrap()
            .iter()
            .any(|hour| hour["action"] == "blocked" && hour["requests"] == 3)
    );

    let published = read_topic(
        app.broker.log(),
        topics::FILTERING,
        2,
        Duration::from_secs(30),
        |record| header(record, "ce_type") == "filtering.breach_recorded.v1",
    )
    .await;
    for record in &published {
        let text = String::from_utf8_lossy(&record.value).to_lowercase();
        for secret in ["pupil1", "pupil2", "casino", "10.20.4.17"] {
            assert!(!text.contains(secret), "{secret} reached the log: {text}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_same_log_twice_changes_nothing_and_says_so() {
    let app = TestApp::spawn().await;
    let lines = [squid(NINE, "pupil1", "http://casino.example/", true)];
    let (status, first) = app.upload("squid", &lines).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["repeated"], false);
    let before = app.stored().await;
    let (status, again) = app.upload("squid", &lines).await;
    assert_eq!(status, 200);
    assert_eq!(again["repeated"], true);
    assert_eq!(again["breaches_recorded"], 1, "the first upload's answer");
    assert_eq!(app.stored().await, before);
    app.stop().await;
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_gzipped_log_reads_as_plain_and_a_broken_one_changes_nothing() {
    let app = TestApp::spawn().await;
    let text = (0..500)
        .map(|minute| {
            squid(
                NINE + minute * 7,
                &format!("pupil{}", minute % 5),
                "http://casino.example/",
                minute % 10 == 0,
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let technician = app.raps(SchoolRole::Technician);
    let response = app.send_log(&technician, "squid", gzip(&text)).await;
    assert_eq!(response.status(), 200);
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (report["lines_read"].clone(), report["lines_in_breaches"].clone()),
        (500.into(), 50.into())
    );
    let before = app.stored().await;

    let mut broken = gzip(&text.replace("pupil", "learner"));
    broken.truncate(broken.len() / 2);
    broken.extend_from_slice(b"this is not deflate data at all");
    let response = app.send_log(&technician, "squid", broken).await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY, "unprocessable").await;
    assert!(body["detail"].as_str().unwrap().contains("gzip"), "{body}");
    assert_eq!(app.stored().await, before);
    app.stop().await;
}

#[tokio::test]
async fn sightings_within_the_hour_continue_a_breach_across_uploads() {
    let app = TestApp::spawn().await;
    let (_, first) = app
        .upload("squid", &[squid(NINE, "pupil1", "http://casino.example/", true)])
        .await;
    assert_eq!(first["breaches_recorded"], 1);
    let (_, second) = app
        .upload(
            "squid",
            &[squid(NINE + 1800, "PUPIL1", "http://casino.example/x", true)],
        )
        .await;
    assert_eq!(
        (
            second["breaches_recorded"].clone(),
            second["breaches_continued"].clone()
        ),
        (0.into(), 1.into())
    );
    let (_, third) = app
        .upload(
            "squid",
            &[squid(NINE + 3600, "pupil1", "http://casino.example/", true)],
        )
        .await;
    assert_eq!(
        third["breaches_recorded"], 1,
        "an hour after the first sighting is a new breach"
    );
    let breaches = app.breaches().await;
    assert_eq!(breaches.len(), 2);
    assert_eq!(
        (breaches[1]["count"].clone(), breaches[1]["last_seen"].clone()),
        (2.into(), "2026-11-30T09:30:00Z".into())
    );
    let seen_again: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'filtering.breach_seen_again.v1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(seen_again, 1);
    app.stop().await;
}

#[tokio::test]
async fn grave_breaches_escalate_once_and_illegal_ones_are_never_merged() {
    let app = TestApp::spawn().await;
    let (_, report) = app
        .upload(
            "squidguard",
            &[
                squidguard("2026-11-30 09:14:02", "pupil1", "forum.example", "suicide"),
                squidguard("2026-11-30 09:15:00", "pupil1", "bad.example", "IWF"),
                squidguard("2026-11-30 09:15:01", "pupil1", "bad.example", "IWF"),
                squidguard("2026-11-30 09:16:00", "pupil1", "casino.example", "gambling"),
            ],
        )
        .await;
    assert_eq!(
        (
            report["breaches_recorded"].clone(),
            report["breaches_escalated"].clone()
        ),
        (4.into(), 3.into()),
        "{report}"
    );
    let (_, again) = app
        .upload(
            "squidguard",
            &[squidguard(
                "2026-11-30 09:20:00",
                "pupil1",
                "forum.example",
                "suicide",
            )],
        )
        .await;
    assert_eq!(
        (
            again["breaches_continued"].clone(),
            again["breaches_escalated"].clone()
        ),
        (1.into(), 0.into()),
        "{again}"
    );

    let breaches = app.breaches().await;
    let illegal: Vec<_> = breaches
        .iter()
        .filter(|breach| breach["category"] == "illegal")
        .collect();
    assert_eq!(illegal.len(), 2);
    assert!(
        illegal
            .iter()
            .all(|breach| breach["severity"] == 5 && breach["count"] == 1 && breach["escalated"] == true)
    );
    let self_harm = breaches
        .iter()
        .find(|breach| breach["category"] == "self_harm")
        .unwrap();
    assert_eq!(
        (
            self_harm["severity"].clone(),
            self_harm["count"].clone(),
            self_harm["escalated"].clone()
        ),
        (4.into(), 2.into(), true.into())
    );
    let gambling = breaches
        .iter()
        .find(|breach| breach["category"] == "gambling")
        .unwrap();
    assert_eq!(gambling["escalated"], false);

    let escalations = read_topic(
        app.broker.log(),
        topics::FILTERING,
        3,
        Duration::from_secs(30),
        |record| header(record, "ce_type") == "filtering.breach_escalated.v1",
    )
    .await;
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'filtering.breach_escalated.v1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (trustsafe_testkit::distinct_ids(&escalations).len(), stored),
        (3, 3)
    );
    app.stop().await;
}

#[tokio::test]
async fn uploads_that_cannot_be_read_are_refused_whole_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.upload("squid", &[squid(NINE, "pupil1", "http://casino.example/", true)])
        .await;
    let before = app.stored().await;
    let technician = app.raps(SchoolRole::Technician);
    let line = squid(NINE + 60, "pupil9", "http://x.example/", true);

    let response = app.send_log(&technician, "apache", line.clone()).await;
    problem(response, StatusCode::BAD_REQUEST, "validation").await;
    let response = app
        .client
        .post(app.url(&format!("{LOGS}?format=squid&timezone=Mars/Olympus")))
        .bearer_auth(&technician)
        .body(line.clone())
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST, "validation").await;
    let response = app.send_log(&technician, "squid", "").await;
    problem(response, StatusCode::BAD_REQUEST, "validation").await;
    let response = app
        .send_log(
            &technician,
            "lightspeed_csv",
            "Destination,Reason\nx.example,Games\n",
        )
        .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY, "unprocessable").await;
    assert!(body["detail"].as_str().unwrap().contains("Action"), "{body}");

    assert_eq!(app.stored().await, before);
    app.stop().await;
}

/// The log keys a breach's host within the trust, never naming it: the same host at two schools has
/// one key (so reporting can see a pattern), another host another, and the DSL sees its start.
#[tokio::test]
async fn the_same_host_at_two_schools_has_one_key_on_the_log() {
    let app = TestApp::spawn().await;
    let lines = |host: &str| {
        [
            squid(NINE, "pupil1", &format!("http://{host}/a"), true),
            squid(NINE + 60, "pupil2", "http://other.example/b", true),
        ]
        .join("\n")
    };
    assert_eq!(
        app.upload("squid", &[lines("WWW.Casino.example")]).await.0,
        StatusCode::OK
    );
    let chilton = app.school_token("chilton-technician", "chilton", &[SchoolRole::Technician]);
    let sent = app
        .client
        .post(app.url("/api/v1/schools/chilton/filtering/logs?format=squid"))
        .bearer_auth(&chilton)
        .body(lines("www.casino.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT b.school_id, e.data->>'host_key' FROM events e JOIN breaches b ON e.stream_id = 'breach-' || b.id
          WHERE e.event_type = 'filtering.breach_recorded.v1' AND b.host = 'www.casino.example' ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(
        keys[0].1, keys[1].1,
        "one host, one key across the trust's schools"
    );
    assert_eq!(keys[0].1.len(), 32);
    let other: String = sqlx::query_scalar(
        "SELECT record->>'host_key' FROM breaches WHERE host = 'other.example' AND school_id = 'raps'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_ne!(other, keys[0].1);
    let shown = app
        .breaches()
        .await
        .into_iter()
        .find(|breach| breach["host"] == "www.casino.example")
        .unwrap();
    assert_eq!(shown["pattern_reference"], keys[0].1[..12]);
    app.stop().await;
}
