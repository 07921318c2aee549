//! Monitoring alerts pushed as JSON, and the school's own category and suppression rules.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;

use crate::support::*;

const ALERTS: &str = "/api/v1/schools/raps/filtering/alerts";
const RULES: &str = "/api/v1/schools/raps/filtering/categories/rules";

async fn push(app: &TestApp, alerts: Value) -> (StatusCode, Value) {
    let response = app
        .post(ALERTS, &app.feed("raps"), &json!({"alerts": alerts}))
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn alerts_become_flagged_breaches_with_their_capture_and_bad_ones_are_refused_by_place() {
    let app = TestApp::spawn().await;
    let alerts = json!([
        {"time": "2026-11-30T09:14:02Z", "category": "Self Harm", "severity": "Danger", "user": "raps\\y6pupil",
         "device": "RAPS-LAB-07", "url": "https://forum.example/t/1", "context": "typed: how to", "product": "Smoothwall Monitor"},
        {"time": "2026-11-30T09:20:00Z", "category": "Self Harm", "severity": "Caution", "user": "raps\\y6pupil",
         "url": "https://forum.example/t/2"},
        {"time": "2026-11-30T09:30:00Z", "category": "Bullying", "severity": 3, "user": "raps\\y5pupil", "context": "you are..."},
        {"time": "yesterday", "category": "Bullying"},
        {"time": "2026-11-30T09:30:00Z", "category": ""}
    ]);
    let (status, report) = push(&app, alerts.clone()).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{report}");
    assert_eq!(
        (report["alerts_read"].clone(), report["alerts_refused"].clone()),
        (5.into(), 2.into())
    );
    assert_eq!(
        (
            report["refused"][0]["index"].clone(),
            report["refused"][1]["index"].clone()
        ),
        (3.into(), 4.into())
    );
    assert_eq!(
        (
            report["breaches_recorded"].clone(),
            report["breaches_escalated"].clone()
        ),
        (2.into(), 1.into())
    );
    let breaches = app.breaches().await;
    let self_harm = breaches
        .iter()
        .find(|breach| breach["category"] == "self_harm")
        .unwrap();
    assert_eq!(
        (
            self_harm["action"].clone(),
            self_harm["source"].clone(),
            self_harm["count"].clone()
        ),
        ("flagged".into(), "alert".into(), 2.into())
    );
    assert_eq!(
        (self_harm["context"].clone(), self_harm["severity"].clone()),
        ("typed: how to".into(), 4.into())
    );
    let bullying = breaches
        .iter()
        .find(|breach| breach["category"] == "violence")
        .unwrap();
    assert_eq!(
        (
            bullying["host"].clone(),
            bullying["severity"].clone(),
            bullying["escalated"].clone()
        ),
        ("".into(), 3.into(), false.into())
    );

    let before = app.stored().await;
    let (status, again) = push(&app, alerts).await;
    assert_eq!(
        (status, again["repeated"].clone()),
        (StatusCode::MULTI_STATUS, true.into())
    );
    assert_eq!(app.stored().await, before);

    for body in [
        json!({"alerts": "none"}),
        json!({"alerts": [], "extra": 1}),
        json!([1, 2]),
    ] {
        let response = app.post(ALERTS, &app.feed("raps"), &body).await;
        problem(response, StatusCode::BAD_REQUEST, "validation").await;
    }
    let many: Vec<Value> = (0..5001)
        .map(|_| json!({"time": "2026-11-30T09:00:00Z", "category": "x"}))
        .collect();
    let response = app
        .post(ALERTS, &app.feed("raps"), &json!({"alerts": many}))
        .await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;
    let response = app
        .post(ALERTS, &app.raps(SchoolRole::Dsl), &json!({"alerts": []}))
        .await;
    problem(response, StatusCode::NOT_FOUND, "not-found").await;
    assert_eq!(app.stored().await, before);
    app.stop().await;
}

#[tokio::test]
async fn a_school_maps_its_vendors_words_but_never_illegal_content() {
    let app = TestApp::spawn().await;
    let dsl = app.raps(SchoolRole::Dsl);
    let rules = json!({"rules": [
        {"vendor": "Esports", "category": "gaming", "severity": 1},
        {"vendor": "Gambling", "category": "gambling", "severity": 4}
    ]});
    let response = app.put(RULES, &dsl, &rules).await;
    assert_eq!(response.status(), 200);
    let kept: Value = response.json().await.unwrap();
    assert_eq!(kept["rules"][0]["vendor"], "esports");
    let view = app
        .json(
            "/api/v1/schools/raps/filtering/categories",
            &app.raps(SchoolRole::Technician),
        )
        .await;
    assert_eq!(view["rules"].as_array().unwrap().len(), 2);
    assert!(view["standard"].as_array().unwrap().contains(&json!("illegal")));

    // The school's rule makes its gambling blocks grave enough to escalate.
    let (_, report) = app
        .upload(
            "squidguard",
            &[squidguard(
                "2026-11-30 09:14:02",
                "pupil1",
                "casino.example",
                "gambling",
            )],
        )
        .await;
    assert_eq!(report["breaches_escalated"], 1, "{report}");

    let before = app.stored().await;
    for (bad, field) in [
        (
            json!({"rules": [{"vendor": "IWF list", "category": "uncategorised", "severity": 1}]}),
            "rules[0].vendor",
        ),
        (
            json!({"rules": [{"vendor": "x", "category": "gaming", "severity": 5}]}),
            "rules[0].severity",
        ),
        (
            json!({"rules": [{"vendor": "x", "category": "Bad Name", "severity": 1}]}),
            "rules[0].category",
        ),
        (
            json!({"rules": [{"vendor": "x", "category": "a", "severity": 1}, {"vendor": "X", "category": "b", "severity": 1}]}),
            "rules[1].vendor",
        ),
        (json!({"rules": [{"vendor": "x", "category": "a"}]}), "rules[0]"),
    ] {
        let body = problem(
            app.put(RULES, &dsl, &bad).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
        let named = body["errors"].as_object().unwrap().keys().next().unwrap().clone();
        assert!(named.starts_with(field), "{field}: {body}");
    }
    for who in [
        app.raps(SchoolRole::Technician),
        app.raps(SchoolRole::Staff),
        app.feed("raps"),
    ] {
        problem(
            app.put(RULES, &who, &rules).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    assert_eq!(app.stored().await, before);
    app.stop().await;
}

#[tokio::test]
async fn the_dsl_suppresses_noise_but_never_illegal_content() {
    let app = TestApp::spawn().await;
    let dsl = app.raps(SchoolRole::Dsl);
    const SUPPRESSIONS: &str = "/api/v1/schools/raps/filtering/suppressions";
    let rules = json!({"rules": [
        {"host": "Ads.Example", "reason": "Advert frames on every page"},
        {"host": "bad.example", "reason": "Trying to hide it"},
        {"phrase": "tracking", "reason": "Analytics scripts"}
    ]});
    let kept: Value = app.put(SUPPRESSIONS, &dsl, &rules).await.json().await.unwrap();
    assert_eq!(kept["rules"][0]["host"], "ads.example");
    let read = app.json(SUPPRESSIONS, &app.raps(SchoolRole::Technician)).await;
    assert_eq!(read["rules"].as_array().unwrap().len(), 3);

    let (_, report) = app
        .upload(
            "squidguard",
            &[
                squidguard("2026-11-30 09:14:02", "pupil1", "ads.example", "advertising"),
                squidguard("2026-11-30 09:14:03", "pupil1", "x.ads.example", "advertising"),
                squidguard("2026-11-30 09:14:04", "pupil1", "bad.example", "IWF"),
                squidguard("2026-11-30 09:14:05", "pupil1", "casino.example", "gambling"),
            ],
        )
        .await;
    assert_eq!(report["lines_suppressed"], 2, "{report}");
    assert_eq!(
        (
            report["breaches_recorded"].clone(),
            report["lines_in_breaches"].clone()
        ),
        (2.into(), 2.into())
    );
    let categories: Vec<Value> = app
        .breaches()
        .await
        .iter()
        .map(|breach| breach["category"].clone())
        .collect();
    assert!(
        categories.contains(&json!("illegal")),
        "illegal content is recorded whatever the rules say"
    );

    let before = app.stored().await;
    for (bad, field) in [
        (
            json!({"rules": [{"host": "a.example", "phrase": "xyz", "reason": "r"}]}),
            "rules[0].host",
        ),
        (json!({"rules": [{"reason": "r"}]}), "rules[0].host"),
        (
            json!({"rules": [{"host": "a.example", "reason": " "}]}),
            "rules[0].reason",
        ),
        (json!({"rules": [{"host": "a.example"}]}), "rules[0]"),
    ] {
        let body = problem(
            app.put(SUPPRESSIONS, &dsl, &bad).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
        let named = body["errors"].as_object().unwrap().keys().next().unwrap().clone();
        assert!(named.starts_with(field), "{field}: {body}");
    }
    for who in [app.raps(SchoolRole::Technician), app.raps(SchoolRole::Staff)] {
        problem(
            app.put(SUPPRESSIONS, &who, &rules).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    assert_eq!(app.stored().await, before);
    app.stop().await;
}
