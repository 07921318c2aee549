//! The DfE duties through the gateway: the change log (two assessments by two people, leadership's
//! decision, the technician applying it; never an unblocking of illegal content), over-blocking
//! proposing a change, roles, checks, the annual review and its document, and the school's standing.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::{SchoolRole, TrustRole};

use crate::support::*;

const CHANGES: &str = "/api/v1/schools/raps/filtering/changes";
const DUTIES: &str = "/api/v1/schools/raps/filtering";

async fn propose(app: &TestApp, who: &str, body: Value) -> reqwest::Response {
    app.post(CHANGES, who, &body).await
}

async fn step(app: &TestApp, id: &str, action: &str, who: &str, body: Value) -> reqwest::Response {
    app.post(&format!("{CHANGES}/{id}/{action}"), who, &body).await
}

fn unblock(host: &str) -> Value {
    json!({"action": "unblock", "host": host, "reason": "Year 6 need the archive for history"})
}

#[tokio::test]
async fn a_change_is_assessed_by_two_people_decided_by_leadership_and_applied_by_the_technician() {
    let app = TestApp::spawn().await;
    let (dsl, technician, head) = (
        app.raps(SchoolRole::Dsl),
        app.raps(SchoolRole::Technician),
        app.raps(SchoolRole::Headteacher),
    );
    let proposed = propose(&app, &technician, unblock("Museum.Example")).await;
    assert_eq!(proposed.status(), StatusCode::CREATED);
    let proposed: Value = proposed.json().await.unwrap();
    let id = proposed["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (proposed["state"].clone(), proposed["host"].clone()),
        ("proposed".into(), "museum.example".into())
    );

    let educational = json!({"perspective": "educational", "risk": "low"});
    let technical =
        json!({"perspective": "technical", "risk": "medium", "note": "Allow the archive path only"});
    // Each side by someone with its experience; the decision is leadership's; applying the technician's.
    for (action, who, body) in [
        ("assessments", &technician, &educational),
        ("assessments", &dsl, &technical),
        ("decision", &dsl, &json!({"approved": true})),
    ] {
        problem(
            step(&app, &id, action, who, body.clone()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    problem(
        step(&app, &id, "decision", &head, json!({"approved": true})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(
        step(&app, &id, "assessments", &dsl, educational.clone())
            .await
            .status(),
        StatusCode::OK
    );
    problem(
        step(&app, &id, "assessments", &head, educational).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(
        step(&app, &id, "assessments", &technician, technical)
            .await
            .status(),
        StatusCode::OK
    );
    problem(
        step(&app, &id, "applied", &technician, json!({})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    problem(
        step(&app, &id, "decision", &head, json!({"approved": false})).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    let decided: Value = step(&app, &id, "decision", &head, json!({"approved": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(decided["state"], "approved");
    problem(
        step(&app, &id, "applied", &head, json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let applied: Value = step(
        &app,
        &id,
        "applied",
        &technician,
        json!({"note": "Allowed in Lightspeed"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(applied["state"], "applied");
    assert_eq!(applied["assessments"].as_array().unwrap().len(), 2);
    assert_eq!(applied["applied"]["note"], "Allowed in Lightspeed");

    // The change log: every step on the change's stream, read by governors too.
    let events: Vec<String> =
        sqlx::query_scalar("SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version")
            .bind(format!("filter-change-{id}"))
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        events,
        [
            "filtering.change_proposed.v1",
            "filtering.change_assessed.v1",
            "filtering.change_assessed.v1",
            "filtering.change_decided.v1",
            "filtering.change_applied.v1"
        ]
    );
    for reader in [
        app.raps(SchoolRole::Governor),
        app.trust_token("trust-governor", "viking", TrustRole::TrustGovernor),
    ] {
        let log = app.json(CHANGES, &reader).await;
        assert_eq!(log["changes"][0]["id"], id.as_str());
    }
    assert_eq!(
        app.json(&format!("{CHANGES}?state=applied"), &dsl).await["changes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        app.json(&format!("{CHANGES}?state=proposed"), &dsl).await["changes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

#[tokio::test]
async fn unblocking_illegal_content_is_refused_and_bad_proposals_change_nothing() {
    let app = TestApp::spawn().await;
    app.upload(
        "squidguard",
        &[squidguard("2026-11-30 09:15:00", "pupil2", "bad.example", "IWF")],
    )
    .await;
    let dsl = app.raps(SchoolRole::Dsl);
    let before = app.stored().await;
    for body in [
        json!({"action": "unblock", "category": "illegal", "reason": "x"}),
        json!({"action": "unblock", "host": "www.bad.example", "reason": "x"}),
        json!({"action": "unblock", "host": "bad.example", "reason": "x"}),
    ] {
        problem(
            propose(&app, &dsl, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
        )
        .await;
    }
    for body in [
        json!({"action": "unblock", "host": "a.example", "category": "gaming", "reason": "x"}),
        json!({"action": "unblock", "reason": "x"}),
        json!({"action": "unblock", "host": "not a host", "reason": "x"}),
        json!({"action": "allow", "host": "a.example", "reason": "x"}),
        json!({"action": "unblock", "host": "a.example", "reason": " "}),
        json!({"action": "unblock", "host": "a.example", "reason": "x", "colour": "red"}),
    ] {
        problem(
            propose(&app, &dsl, body).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
    }
    for who in [
        app.raps(SchoolRole::Staff),
        app.raps(SchoolRole::Governor),
        app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]),
        app.feed("raps"),
    ] {
        problem(
            propose(&app, &who, unblock("a.example")).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    for id in ["not-a-change", "0190d7a0-0000-7000-8000-000000000000"] {
        problem(
            step(&app, id, "decision", &dsl, json!({"approved": true})).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    assert_eq!(app.stored().await, before);
    let blocked_more = propose(
        &app,
        &dsl,
        json!({"action": "block", "category": "illegal", "reason": "Belt and braces"}),
    )
    .await;
    assert_eq!(
        blocked_more.status(),
        StatusCode::CREATED,
        "blocking it further is fine"
    );
    app.stop().await;
}

#[tokio::test]
async fn over_blocking_proposes_unblocking_the_host_for_the_change_log() {
    let app = TestApp::spawn().await;
    app.upload(
        "squidguard",
        &[squidguard(
            "2026-11-30 09:14:02",
            "pupil1",
            "museum.example",
            "games",
        )],
    )
    .await;
    let dsl = app.raps(SchoolRole::Dsl);
    let breach = app.breaches().await[0]["id"].as_str().unwrap().to_owned();
    let triaged = app
        .post(
            &format!("{BREACHES}/{breach}/triage"),
            &dsl,
            &json!({"verdict": "over_blocking"}),
        )
        .await;
    assert_eq!(triaged.status(), StatusCode::OK);
    let log = app.json(CHANGES, &dsl).await;
    let changes = log["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{log}");
    assert_eq!(
        (
            changes[0]["action"].clone(),
            changes[0]["host"].clone(),
            changes[0]["from_breach"].clone()
        ),
        ("unblock".into(), "museum.example".into(), breach.as_str().into())
    );
    assert_eq!(changes[0]["state"], "proposed");
    app.stop().await;
}

fn review(reviewed_on: &str) -> Value {
    json!({
        "reviewed_on": reviewed_on,
        "participants": {"senior_leader": "Ms A. Head", "dsl": "Mr B. Lead", "it_provider": "TalkStraight", "governor": "Mrs C. Governor"},
        "risk_profile": {"ages": "4-11", "send": "Resourced provision for 12 pupils", "eal": "18% EAL"},
        "byod": "Not allowed for pupils",
        "ai": "Chatbots blocked for pupils; staff use the trust's licensed tool",
        "provision": "Lightspeed filtering over TalkStraight; Smoothwall monitoring",
        "actions": ["Termly checks from a KS1 device"]
    })
}

/// RAPS's four duty roles, named by its DSL.
async fn name_roles(app: &TestApp, dsl: &str) {
    let roles = json!({"senior_leader": "Ms A. Head", "governor": "Mrs C. Governor", "dsl": "Mr B. Lead", "it_provider": "TalkStraight"});
    assert_eq!(
        app.put(&format!("{DUTIES}/roles"), dsl, &roles).await.status(),
        StatusCode::OK
    );
}

/// A check that passed, logged by `who`.
async fn log_passed_check(app: &TestApp, who: &str) {
    let check = json!({"checked_by": "J. Okafor", "what_tested": "testfiltering.com from a Year 5 laptop", "result": "passed"});
    let logged = app.post(&format!("{DUTIES}/checks"), who, &check).await;
    assert_eq!(logged.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn roles_are_named_by_the_schools_leads_and_read_by_its_governors() {
    let app = TestApp::spawn().await;
    let (dsl, technician, governor) = (
        app.raps(SchoolRole::Dsl),
        app.raps(SchoolRole::Technician),
        app.raps(SchoolRole::Governor),
    );
    let standing = app.json(&format!("{DUTIES}/duties"), &governor).await;
    assert_eq!(
        standing["roles_missing"],
        json!(["senior_leader", "governor", "dsl", "it_provider"])
    );
    assert_eq!(
        (standing["check_due"].clone(), standing["review_overdue"].clone()),
        (true.into(), true.into())
    );
    name_roles(&app, &dsl).await;
    let roles = app.json(&format!("{DUTIES}/roles"), &governor).await;
    problem(
        app.put(&format!("{DUTIES}/roles"), &technician, &roles["roles"])
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(roles["roles"]["it_provider"], "TalkStraight");
    assert_eq!(
        app.json(&format!("{DUTIES}/duties"), &governor).await["roles_missing"],
        json!([])
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bad_check_or_review_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (dsl, technician) = (app.raps(SchoolRole::Dsl), app.raps(SchoolRole::Technician));
    log_passed_check(&app, &technician).await;
    let before = app.stored().await;
    for bad in [
        json!({"checked_by": "J. Okafor", "what_tested": "x", "result": "failed"}),
        json!({"checked_by": "J. Okafor", "what_tested": "x", "result": "passed", "checked_at": "2999-01-01T00:00:00Z"}),
        json!({"checked_by": " ", "what_tested": "x", "result": "passed"}),
        json!({"what_tested": "x", "result": "passed"}),
    ] {
        problem(
            app.post(&format!("{DUTIES}/checks"), &technician, &bad).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
    }
    let mut no_dsl = review("2026-11-30");
    no_dsl["participants"]["dsl"] = Value::Null;
    let mut late = review("2026-11-30");
    late["next_review_by"] = json!("2028-01-01");
    for bad in [
        no_dsl,
        late,
        review("2999-01-01"),
        json!({"reviewed_on": "2026-11-30"}),
    ] {
        problem(
            app.post(&format!("{DUTIES}/reviews"), &dsl, &bad).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
    }
    problem(
        app.post(&format!("{DUTIES}/reviews"), &technician, &review("2026-11-30"))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(app.stored().await, before, "refused records change nothing");
    app.stop().await;
}

#[tokio::test]
async fn the_annual_review_considers_the_checks_since_the_last_and_is_a_document_for_inspection() {
    let app = TestApp::spawn().await;
    let (dsl, technician, governor) = (
        app.raps(SchoolRole::Dsl),
        app.raps(SchoolRole::Technician),
        app.raps(SchoolRole::Governor),
    );
    name_roles(&app, &dsl).await;
    log_passed_check(&app, &technician).await;
    let (failed_at, review_day) = {
        let today = chrono::Utc::now();
        (today.to_rfc3339(), today.date_naive().to_string())
    };
    let failed = json!({"checked_at": failed_at, "checked_by": "J. Okafor", "what_tested": "A VPN from a phone on guest Wi-Fi", "result": "failed", "actions": "Block VPN apps on guest Wi-Fi"});
    assert_eq!(
        app.post(&format!("{DUTIES}/checks"), &dsl, &failed)
            .await
            .status(),
        StatusCode::CREATED
    );

    let recorded = app
        .post(&format!("{DUTIES}/reviews"), &dsl, &review(&review_day))
        .await;
    assert_eq!(recorded.status(), StatusCode::CREATED);
    let recorded: Value = recorded.json().await.unwrap();
    assert_eq!(
        recorded["checks_considered"].as_array().unwrap().len(),
        2,
        "{recorded}"
    );
    let id = recorded["id"].as_str().unwrap();

    let document = app
        .get(&format!("{DUTIES}/reviews/{id}/document"), &governor)
        .await;
    assert_eq!(document.status(), StatusCode::OK);
    assert!(
        document.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let document = document.text().await.unwrap();
    for expected in [
        "# Filtering and monitoring review: ",
        "- SEND: Resourced provision for 12 pupils",
        "## Checks since the last review (2)",
        "A VPN from a phone on guest Wi-Fi — failed. Actions: Block VPN apps on guest Wi-Fi",
        "- Termly checks from a KS1 device",
    ] {
        assert!(document.contains(expected), "{expected:?} in\n{document}");
    }
    for outsider in [
        app.raps(SchoolRole::Staff),
        app.school_token("chilton-head", "chilton", &[SchoolRole::Headteacher]),
    ] {
        problem(
            app.get(&format!("{DUTIES}/reviews/{id}/document"), &outsider)
                .await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
        problem(
            app.get(&format!("{DUTIES}/duties"), &outsider).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    let standing = app.json(&format!("{DUTIES}/duties"), &governor).await;
    assert_eq!(standing["roles_missing"], json!([]));
    assert_eq!(
        (standing["check_due"].clone(), standing["review_overdue"].clone()),
        (false.into(), false.into())
    );
    assert_eq!(
        app.json(&format!("{DUTIES}/checks"), &governor).await["checks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.json(&format!("{DUTIES}/reviews"), &governor).await["reviews"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}
