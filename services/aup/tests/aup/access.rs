//! Access that follows from agreements: grants, device loans, visitors' Wi-Fi codes.

use std::time::Duration;

use chrono::{Days, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::{SchoolRole, Scope, TrustRole};
use trustsafe_events::topics;
use trustsafe_testkit::{header, read_topic};

use crate::support::{TestApp, person_id, problem, pupil, staff};

const GRANTS: &str = "/api/v1/schools/raps/access-grants";

/// A year-4 pupil who has agreed to the KS2 policy and a teacher who has not; the trust's KS2,
/// staff and visitors' policies in force for a month.
async fn school() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let people = app
        .synced(&json!({"people": [pupil(4, "Pupil", 4), staff(1, "Teacher")]}))
        .await;
    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    for audience in ["ks2", "staff", "visitors_volunteers"] {
        let policy = json!({"title": audience, "text": "Be kind online.",
                            "effective_from": Utc::now().date_naive() - Days::new(30)});
        let published = app
            .put(&format!("/api/v1/trusts/viking/aup/{audience}"), &lead, &policy)
            .await;
        assert_eq!(published.status(), 201);
    }
    let pupil = person_id(&people, "P4");
    let agreed = app
        .post(
            "/api/v1/schools/raps/agreements",
            &app.raps(SchoolRole::Staff),
            &json!({"person_id": pupil, "audience": "ks2", "decision": "agreed"}),
        )
        .await;
    assert_eq!(agreed.status(), 201);
    (app, pupil, person_id(&people, "S1"))
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn access_is_granted_only_with_a_current_agreement_and_lapses_with_it() {
    let (app, pupil, teacher) = school().await;
    let technician = app.raps(SchoolRole::Technician);
    let grant = |person: &str| json!({"person_id": person, "system": "Learning platform"});
    let refused = problem(
        app.post(GRANTS, &technician, &grant(&teacher)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    assert!(
        refused["detail"].as_str().unwrap().contains("missing"),
        "{refused}"
    );
    problem(
        app.post(GRANTS, &app.raps(SchoolRole::Staff), &grant(&pupil))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    for token in [
        app.raps(SchoolRole::Governor),
        app.school_token("c", "chilton", &[SchoolRole::Technician]),
        app.mis(),
    ] {
        problem(
            app.post(GRANTS, &token, &grant(&pupil)).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    problem(
        app.post(GRANTS, &technician, &json!({"person_id": pupil, "system": " "}))
            .await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert_eq!(
        count(&app, "access_grants").await,
        0,
        "nothing granted by a refusal"
    );

    let granted: Value = app
        .post(GRANTS, &technician, &grant(&pupil))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(granted["state"], "active");
    let listed = app.json(GRANTS, &app.raps(SchoolRole::Dsl)).await;
    assert_eq!(
        (listed[0]["surname"].as_str(), listed[0]["state"].as_str()),
        (Some("Pupil"), Some("active"))
    );

    // The pupil declines the policy when asked again: the grant stands on record, lapsed.
    app.post(
        "/api/v1/schools/raps/agreements",
        &app.raps(SchoolRole::Staff),
        &json!({"person_id": pupil, "audience": "ks2", "decision": "declined"}),
    )
    .await;
    assert_eq!(app.json(GRANTS, &technician).await[0]["state"], "lapsed");
    let csv = app
        .client
        .get(app.url(GRANTS))
        .bearer_auth(&technician)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("grant_id,person_id,forename,surname,system,"),
        "{csv}"
    );
    assert!(csv.lines().nth(1).unwrap().ends_with(",lapsed"), "{csv}");

    let grant_id = granted["grant_id"].as_str().unwrap();
    let revoke = format!("{GRANTS}/{grant_id}/revoke");
    assert_eq!(app.post(&revoke, &technician, &json!({})).await.status(), 200);
    problem(
        app.post(&revoke, &technician, &json!({})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    problem(
        app.post(
            &format!("{GRANTS}/{}/revoke", uuid::Uuid::now_v7()),
            &technician,
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(app.json(GRANTS, &technician).await[0]["state"], "revoked");
    app.stop().await;
}

#[tokio::test]
async fn a_device_is_lent_to_one_covered_person_at_a_time() {
    let (app, pupil, teacher) = school().await;
    let staff_token = app.raps(SchoolRole::Staff);
    let lend = |device: &str, person: &str| {
        let path = format!("/api/v1/schools/raps/devices/{device}/loans");
        let body = json!({"person_id": person});
        let (app, token) = (&app, staff_token.clone());
        async move { app.post(&path, &token, &body).await }
    };
    assert_eq!(lend("iPad-14", &pupil).await.status(), 201);
    problem(lend("iPad-14", &pupil).await, StatusCode::CONFLICT, "conflict").await;
    problem(
        lend("iPad-15", &teacher).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    let back = "/api/v1/schools/raps/devices/iPad-14/return";
    assert_eq!(app.post(back, &staff_token, &json!({})).await.status(), 200);
    problem(
        app.post(back, &staff_token, &json!({})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(lend("iPad-14", &pupil).await.status(), 201);
    let history = app
        .json("/api/v1/schools/raps/devices/iPad-14/loans", &staff_token)
        .await;
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert!(
        history[0]["returned_at"].is_null() && history[1]["returned_at"].is_string(),
        "newest first: {history}"
    );

    // Five members of staff lend one device at the same moment: one of them does.
    let attempts = futures::future::join_all((0..5).map(|_| lend("iPad-16", &pupil))).await;
    let statuses: Vec<u16> = attempts
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|status| **status == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|status| [201, 409].contains(status)),
        "{statuses:?}"
    );
    let out = app.json("/api/v1/schools/raps/loans", &staff_token).await;
    assert_eq!(out.as_array().unwrap().len(), 2, "iPad-14 and iPad-16");
    problem(
        app.get("/api/v1/schools/raps/loans", &app.raps(SchoolRole::Governor))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_visitor_agrees_and_gets_a_code_the_captive_portal_checks() {
    let (app, _, _) = school().await;
    let reception = app.raps(SchoolRole::Staff);
    let welcome = app
        .post(
            "/api/v1/schools/raps/visitors",
            &reception,
            &json!({"name": "Vera Visitor", "organisation": "Kent ICT"}),
        )
        .await;
    assert_eq!(welcome.status(), 201);
    let welcome: Value = welcome.json().await.unwrap();
    let code = welcome["wifi_code"].as_str().unwrap().to_owned();
    let portal = app
        .identity
        .scope_token("raps-portal", "raps", Scope::CaptivePortal);
    let check = |code: String, token: String| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/schools/raps/wifi-codes/{code}"), &token)
                .await
        }
    };
    let answer: Value = check(code.clone(), portal.clone()).await.json().await.unwrap();
    assert_eq!(answer["valid"], true);
    let typed = code.to_lowercase().replace('-', "");
    assert_eq!(
        check(typed, portal.clone()).await.json::<Value>().await.unwrap()["valid"],
        true
    );
    problem(
        check("ZZZZ-ZZZZ-ZZ".into(), portal.clone()).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    problem(
        check("nope".into(), portal.clone()).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    let chilton_portal = app
        .identity
        .scope_token("chilton-portal", "chilton", Scope::CaptivePortal);
    problem(
        app.get(
            &format!("/api/v1/schools/chilton/wifi-codes/{code}"),
            &chilton_portal,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    problem(
        check(code.clone(), reception.clone()).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;

    sqlx::query("UPDATE visitors SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        check(code.clone(), portal).await.json::<Value>().await.unwrap()["valid"],
        false,
        "24 hours on"
    );

    let events = read_topic(
        app.broker.log(),
        topics::AUP,
        1,
        Duration::from_secs(20),
        |record| header(record, "ce_type") == "aup.visitor_agreed.v1",
    )
    .await;
    let text = String::from_utf8_lossy(&events[0].value);
    assert!(!text.contains(&code) && !text.contains("Vera"), "{text}");
    let stored: String = sqlx::query_scalar("SELECT record::text || code_hash FROM visitors")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!stored.contains(&code), "the code is kept only as its hash");

    let claremont = app.school_token("claremont-office", "claremont", &[SchoolRole::Staff]);
    let no_policy = app
        .post(
            "/api/v1/schools/claremont/visitors",
            &claremont,
            &json!({"name": "Vera"}),
        )
        .await;
    problem(no_policy, StatusCode::UNPROCESSABLE_ENTITY, "unprocessable").await;
    problem(
        app.post("/api/v1/schools/raps/visitors", &reception, &json!({"name": ""}))
            .await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    app.stop().await;
}
