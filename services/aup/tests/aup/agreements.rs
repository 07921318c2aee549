//! Acceptable use: policies in versions, trust-wide or a school's own; answers and who may sign them;
//! where each person stands, and the school's compliance.

use std::time::Duration;

use chrono::{Days, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::topics;
use trustsafe_testkit::{header, read_topic};

use crate::support::{PEOPLE, TestApp, person_id, problem, pupil, staff};

const AGREEMENTS: &str = "/api/v1/schools/raps/agreements";

/// A policy in force from today.
fn policy(title: &str) -> Value {
    json!({"title": title, "text": format!("{title}: I will be kind online."), "effective_from": Utc::now().date_naive()})
}

impl TestApp {
    pub(crate) fn lead(&self) -> String {
        self.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead)
    }

    /// Publishes the trust's policy, in force since `days_ago`.
    pub(crate) async fn publish_for_trust(&self, audience: &str, title: &str, days_ago: u64) -> Value {
        let mut policy = policy(title);
        policy["effective_from"] = json!(Utc::now().date_naive() - Days::new(days_ago));
        let response = self
            .put(
                &format!("/api/v1/trusts/viking/aup/{audience}"),
                &self.lead(),
                &policy,
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    async fn answer(&self, body: Value) -> reqwest::Response {
        self.post(AGREEMENTS, &self.raps(SchoolRole::Staff), &body).await
    }
}

/// A year-1 pupil (EYFS/KS1), a year-4 pupil (KS2), a teacher, the year-1 pupil's mother (with
/// parental responsibility) and an uncle (without); the trust's KS1, KS2 and staff policies.
async fn school() -> (TestApp, Value) {
    let app = TestApp::spawn().await;
    let answer = app
        .synced(&json!({"people": [
            pupil(1, "Young", 1), pupil(4, "Older", 4), staff(1, "Teacher"),
            {"kind": "parent", "mis_id": "C1", "surname": "Young", "children": [{"mis_id": "P1", "parental_responsibility": true}]},
            {"kind": "parent", "mis_id": "C2", "surname": "Uncle", "children": [{"mis_id": "P1", "parental_responsibility": false}]}
        ]}))
        .await;
    for (audience, title) in [("eyfs_ks1", "EYFS and KS1"), ("ks2", "KS2"), ("staff", "Staff")] {
        app.publish_for_trust(audience, title, 30).await;
    }
    (app, answer)
}

#[tokio::test]
async fn a_policy_is_published_in_versions_and_a_schools_own_takes_the_trusts_place() {
    let app = TestApp::spawn().await;
    let first = app.publish_for_trust("ks2", "KS2 v1", 0).await;
    let second = app.publish_for_trust("ks2", "KS2 v2", 0).await;
    assert_eq!(
        (first["version"].as_i64(), second["version"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(second["document_id"], first["document_id"]);
    assert_eq!(second["content_hash"].as_str().unwrap().len(), 64);
    let own = app
        .put(
            "/api/v1/schools/raps/aup/ks2",
            &app.raps(SchoolRole::Dsl),
            &policy("RAPS KS2"),
        )
        .await;
    assert_eq!(own.status(), 201);

    let in_force = |school: &'static str| {
        let app = &app;
        async move {
            let token = app.school_token("someone", school, &[SchoolRole::Staff]);
            app.json(&format!("/api/v1/schools/{school}/aup"), &token).await
        }
    };
    assert_eq!(in_force("raps").await[0]["title"], "RAPS KS2");
    assert_eq!(in_force("chilton").await[0]["title"], "KS2 v2");
    let versions = app
        .json(
            "/api/v1/schools/raps/aup/ks2/versions",
            &app.raps(SchoolRole::Staff),
        )
        .await;
    let titles: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["KS2 v1", "KS2 v2", "RAPS KS2"],
        "old versions stay readable"
    );
    assert_eq!(versions[0]["text"], "KS2 v1: I will be kind online.");
    let chilton_versions = app
        .json(
            "/api/v1/schools/chilton/aup/ks2/versions",
            &app.school_token("c", "chilton", &[SchoolRole::Staff]),
        )
        .await;
    assert_eq!(
        chilton_versions.as_array().unwrap().len(),
        2,
        "RAPS's own policy is not Chilton's"
    );

    let events = read_topic(
        app.broker.log(),
        topics::AUP,
        3,
        Duration::from_secs(20),
        |record| header(record, "ce_type") == "aup.published.v1",
    )
    .await;
    assert!(
        events
            .iter()
            .all(|event| !String::from_utf8_lossy(&event.value).contains("kind online")),
        "the text stays home"
    );
    app.stop().await;
}

#[tokio::test]
async fn publishing_is_for_leads_and_a_bad_draft_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut past = policy("Late");
    past["effective_from"] = json!(Utc::now().date_naive() - Days::new(400));
    let dsl = app.raps(SchoolRole::Dsl);
    let refused = problem(
        app.put("/api/v1/schools/raps/aup/ks2", &dsl, &past).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(refused["errors"]["effective_from"].is_string(), "{refused}");
    let mut lazy = policy("Every decade");
    lazy["resign_every_days"] = json!(3650);
    lazy["title"] = json!("");
    let refused = problem(
        app.put("/api/v1/schools/raps/aup/ks2", &dsl, &lazy).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(
        refused["errors"]["title"].is_string() && refused["errors"]["resign_every_days"].is_string(),
        "{refused}"
    );
    problem(
        app.put("/api/v1/schools/raps/aup/ks9", &dsl, &policy("KS9"))
            .await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    let mut sneaky = policy("Mine");
    sneaky["school_id"] = json!("chilton");
    problem(
        app.put("/api/v1/schools/raps/aup/ks2", &dsl, &sneaky).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    for (path, token) in [
        ("/api/v1/schools/raps/aup/ks2", app.raps(SchoolRole::Staff)),
        (
            "/api/v1/schools/raps/aup/ks2",
            app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]),
        ),
        ("/api/v1/schools/raps/aup/ks2", app.mis()),
        ("/api/v1/trusts/viking/aup/ks2", dsl.clone()),
        (
            "/api/v1/trusts/viking/aup/ks2",
            app.trust_token("gov", "viking", TrustRole::TrustGovernor),
        ),
        ("/api/v1/trusts/claremont/aup/ks2", app.lead()),
    ] {
        problem(
            app.put(path, &token, &policy("Nope")).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM aup_versions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    assert_eq!(app.event_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn an_answer_needs_the_persons_own_policy_and_someone_who_may_sign_it() {
    let (app, people) = school().await;
    let (young, older, teacher) = (
        person_id(&people, "P1"),
        person_id(&people, "P4"),
        person_id(&people, "S1"),
    );
    let (mum, uncle) = (person_id(&people, "C1"), person_id(&people, "C2"));
    let answer = |person: &str, audience: &str, signer: Value| json!({"person_id": person, "audience": audience, "decision": "agreed", "signer": signer});
    let themselves = json!({"by": "themselves"});
    let refusals = [
        (answer(&young, "eyfs_ks1", themselves.clone()), "parent or carer"),
        (
            answer(
                &young,
                "eyfs_ks1",
                json!({"by": "parent_or_carer", "parent_id": uncle}),
            ),
            "parental responsibility",
        ),
        (
            answer(&older, "ks3_5", themselves.clone()),
            "not one this person signs",
        ),
        (
            answer(
                &teacher,
                "staff",
                json!({"by": "parent_or_carer", "parent_id": mum}),
            ),
            "themselves",
        ),
        (
            answer(&mum, "parents_carers", themselves.clone()),
            "no ParentsCarers policy",
        ),
        (
            answer(&uuid::Uuid::now_v7().to_string(), "ks2", themselves.clone()),
            "not someone on this school's roster",
        ),
    ];
    for (body, reason) in refusals {
        let refused = problem(
            app.answer(body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
        )
        .await;
        assert!(
            refused["detail"].as_str().unwrap().contains(reason),
            "{body} → {refused}"
        );
    }
    let mut shown_old = answer(&older, "ks2", themselves.clone());
    shown_old["version"] = json!(2);
    problem(app.answer(shown_old).await, StatusCode::CONFLICT, "conflict").await;
    let mut future = answer(&older, "ks2", themselves.clone());
    future["signed_at"] = json!(Utc::now() + chrono::Duration::days(1));
    problem(app.answer(future).await, StatusCode::BAD_REQUEST, "validation").await;
    let mut backdated = answer(&older, "ks2", themselves.clone());
    backdated["signed_at"] = json!(Utc::now() - chrono::Duration::hours(2));
    problem(
        app.answer(backdated.clone()).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    problem(
        app.post(
            AGREEMENTS,
            &app.raps(SchoolRole::Governor),
            &answer(&older, "ks2", themselves.clone()),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(
        app.event_count().await,
        5 + 3,
        "nothing recorded: five people, three policies"
    );

    let by_mum = app
        .answer(answer(
            &young,
            "eyfs_ks1",
            json!({"by": "parent_or_carer", "parent_id": mum}),
        ))
        .await;
    assert_eq!(by_mum.status(), 201);
    let by_mum: Value = by_mum.json().await.unwrap();
    assert_eq!(
        (by_mum["signed_by_parent"].as_str(), by_mum["version"].as_i64()),
        (Some(mum.as_str()), Some(1))
    );
    backdated["on_paper"] = json!(true);
    assert_eq!(
        app.answer(backdated.clone()).await.status(),
        201,
        "a paper form may be dated earlier"
    );
    backdated["signed_at"] = json!(Utc::now() - chrono::Duration::days(40));
    let before_the_policy = problem(
        app.answer(backdated).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    assert!(
        before_the_policy["detail"]
            .as_str()
            .unwrap()
            .contains("no Ks2 policy in force"),
        "{before_the_policy}"
    );
    let dsl = app.raps(SchoolRole::Dsl);
    let answers = app.json(&format!("{PEOPLE}/{older}/agreements"), &dsl).await;
    assert_eq!(
        (
            answers[0]["on_paper"].as_bool(),
            answers[0]["recorded_by"].as_str()
        ),
        (Some(true), Some("raps-Staff"))
    );
    app.stop().await;
}

#[tokio::test]
async fn compliance_counts_everyone_by_their_own_policy_for_the_leads_and_the_mis() {
    let (app, people) = school().await;
    let (young, older, teacher) = (
        person_id(&people, "P1"),
        person_id(&people, "P4"),
        person_id(&people, "S1"),
    );
    let mum = person_id(&people, "C1");
    app.answer(json!({"person_id": young, "audience": "eyfs_ks1", "decision": "agreed", "signer": {"by": "parent_or_carer", "parent_id": mum}})).await;
    app.answer(json!({"person_id": older, "audience": "ks2", "decision": "declined"}))
        .await;
    app.answer(json!({"person_id": teacher, "audience": "staff", "decision": "agreed"}))
        .await;

    let compliance = app.json("/api/v1/schools/raps/aup-compliance", &app.mis()).await;
    let count = |audience: &str, standing: &str| {
        compliance["counts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|count| count["audience"] == audience && count["standing"] == standing)
            .map_or(0, |count| count["people"].as_u64().unwrap())
    };
    assert_eq!(count("eyfs_ks1", "current"), 1);
    assert_eq!(count("ks2", "declined"), 1);
    assert_eq!(count("staff", "current"), 1);
    assert_eq!(count("parents_carers", "no_policy"), 2);
    let overdue_or_declined = app
        .json(
            "/api/v1/schools/raps/aup-compliance?standing=declined",
            &app.raps(SchoolRole::Headteacher),
        )
        .await;
    assert_eq!(
        overdue_or_declined["people"],
        json!([{"person_id": older, "mis_id": "P4", "audience": "ks2", "standing": "declined"}])
    );
    for token in [
        app.raps(SchoolRole::Technician),
        app.raps(SchoolRole::Staff),
        app.mis_token("chilton-mis", "chilton"),
    ] {
        problem(
            app.get("/api/v1/schools/raps/aup-compliance", &token).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    problem(
        app.get("/api/v1/schools/raps/aup-compliance?standing=late", &app.mis())
            .await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;

    // A new staff policy in force today: the teacher's agreement is in its grace period.
    app.publish_for_trust("staff", "Staff v2", 0).await;
    let path = format!("{PEOPLE}/{teacher}/aup-status");
    let status = |token: String| {
        let (app, path) = (&app, &path);
        async move { app.json(path, &token).await }
    };
    let for_the_mis = status(app.mis()).await;
    assert_eq!(
        (for_the_mis["standing"].as_str(), for_the_mis["covered"].as_bool()),
        (Some("due"), Some(true))
    );
    assert_eq!(for_the_mis["policies"][0]["in_force_version"], 2);
    assert_eq!(for_the_mis["policies"][0]["last_answer"]["version"], 1);
    let for_staff = status(app.raps(SchoolRole::Staff)).await;
    assert!(
        for_staff.get("policies").is_none(),
        "staff learn covered or not: {for_staff}"
    );
    problem(
        app.get(
            &format!("/api/v1/schools/chilton/people/{teacher}/aup-status"),
            &app.school_token("c", "chilton", &[SchoolRole::Dsl]),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    problem(
        app.get(
            &format!("{PEOPLE}/{teacher}/aup-status"),
            &app.raps(SchoolRole::Governor),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    app.stop().await;
}

/// `trustsafe dev`'s demo roster and year of answers: written once, the same at every start after.
#[tokio::test]
async fn the_demo_roster_is_written_once_and_counts_in_compliance() {
    let app = TestApp::spawn().await;
    let config = app.identity.host(&app.database_url, &app.broker);
    let written = trustsafe_aup::demo::seed(&config, Utc::now()).await.unwrap();
    assert!(written > 300, "answers at four schools: {written}");
    let before = app.stored().await;
    assert_eq!(trustsafe_aup::demo::seed(&config, Utc::now()).await.unwrap(), 0);
    assert_eq!(app.stored().await, before, "a second start writes nothing");
    let compliance = app.json("/api/v1/schools/raps/aup-compliance", &app.mis()).await;
    let counted: u64 = compliance["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|count| count["people"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 128, "60 pupils, their 60 parents, 8 staff");
    let standings: Vec<&str> = compliance["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|count| count["standing"].as_str().unwrap())
        .collect();
    for standing in ["current", "missing", "declined"] {
        assert!(standings.contains(&standing), "{standing} in {standings:?}");
    }
    app.stop().await;
}

/// Answers kept before aup.agreement_recorded.v2 said only `on_paper`: the migration rewrites them as
/// v2 (a paper form stays one), so they read as before.
#[tokio::test]
async fn answers_kept_as_v1_read_as_v2_after_the_migration() {
    let (app, people) = school().await;
    let older = person_id(&people, "P4");
    let mut paper = json!({"person_id": older, "audience": "ks2", "decision": "agreed", "on_paper": true,
                           "signed_at": Utc::now() - chrono::Duration::days(3)});
    assert_eq!(app.answer(paper.clone()).await.status(), 201);
    paper["on_paper"] = json!(false);
    paper["signed_at"] = json!(Utc::now());
    assert_eq!(app.answer(paper).await.status(), 201);
    let as_v1 = "UPDATE agreements SET record = (record - 'source')
                   || jsonb_build_object('on_paper', record -> 'source' ->> 'by' = 'paper_form')";
    sqlx::query(as_v1).execute(&app.pool).await.unwrap();

    sqlx::raw_sql(include_str!("../../migrations/1004_agreement_sources.sql"))
        .execute(&app.pool)
        .await
        .unwrap();

    let dsl = app.raps(SchoolRole::Dsl);
    let answers = app.json(&format!("{PEOPLE}/{older}/agreements"), &dsl).await;
    let on_paper: Vec<bool> = answers
        .as_array()
        .unwrap()
        .iter()
        .map(|answer| answer["on_paper"].as_bool().unwrap())
        .collect();
    assert_eq!(on_paper, [false, true], "newest first: {answers}");
    let standing = app.json(&format!("{PEOPLE}/{older}/aup-status"), &dsl).await;
    assert_eq!(standing["standing"], "current");
    app.stop().await;
}
