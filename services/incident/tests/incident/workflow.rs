//! Each school's DSL workflow: its own stream, versioned, starting from the policies' defaults.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;

use crate::support::*;

async fn put(app: &TestApp, token: &str, if_match: &str, workflow: &Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/schools/raps/workflow"))
        .bearer_auth(token)
        .header("If-Match", if_match)
        .json(workflow)
        .send()
        .await
        .unwrap()
}

fn steps(concern: &Value) -> Vec<String> {
    concern["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["id"].as_str().unwrap().to_owned())
        .collect()
}

/// RAPS's own workflow: its DSL and LADO named, cyberbullying renamed and given a step, the IWF
/// report due sooner.
fn ours(defaults: &Value) -> Value {
    let mut ours = defaults.clone();
    ours["dsl"] =
        json!({"name": "Nick Budge, Head of School", "phone": "01843 000000", "email": "dsl@raps.example"});
    ours["contacts"]["lado"] =
        json!({"name": "Kent LADO", "phone": "03000 410888", "local_authority": "Kent"});
    ours["categories"]["cyberbullying"]["label"] = json!("Online bullying");
    ours["categories"]["cyberbullying"]["steps"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "class_teacher_told", "title": "Tell the class teacher", "when": "always", "deadline": {"hours": 24}}));
    ours["categories"]["indecent_images_of_children"]["steps"][1]["deadline"] = json!({"hours": 2});
    ours
}

/// The school's workflow as `token` reads it.
async fn workflow(app: &TestApp, school: &str, token: &str) -> Value {
    app.json(&format!("/api/v1/schools/{school}/workflow"), token)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workflow_starts_from_the_policies_and_only_the_dsl_or_head_changes_it() {
    let app = TestApp::spawn().await;
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let deputy = app.school_token("raps-deputy", "raps", &[SchoolRole::DeputyDsl]);
    let head = app.school_token("raps-head", "raps", &[SchoolRole::Headteacher]);
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let chilton_dsl = app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]);

    let response = app.get("/api/v1/schools/raps/workflow", &dsl).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"0\"", "the policies' defaults");
    let defaults: Value = response.json().await.unwrap();
    assert_eq!(defaults["acknowledgement_deadline"], json!({"hours": 1}));
    assert_eq!(
        defaults["contacts"]["education_safeguarding_team"]["phone"],
        "03000 415797"
    );
    assert_eq!(
        defaults["categories"]["indecent_images_of_children"]["images_accepted"],
        false
    );
    assert_eq!(
        app.get("/api/v1/schools/raps/workflow", &deputy).await.status(),
        StatusCode::OK
    );
    for outsider in [&teacher, &chilton_dsl] {
        problem(
            app.get("/api/v1/schools/raps/workflow", outsider).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }

    let ours = ours(&defaults);
    problem(
        put(&app, &deputy, "\"0\"", &ours).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(
        put(&app, &teacher, "\"0\"", &ours).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    let response = put(&app, &dsl, "\"0\"", &ours).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"1\"");
    problem(
        put(&app, &head, "\"0\"", &ours).await,
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
    )
    .await;
    assert_eq!(
        put(&app, &head, "\"1\"", &ours).await.status(),
        StatusCode::OK,
        "the headteacher may too"
    );
    let current = workflow(&app, "raps", &dsl).await;
    assert_eq!(current["categories"]["cyberbullying"]["label"], "Online bullying");
    assert_eq!(current["contacts"]["lado"]["phone"], "03000 410888");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_concerns_follow_a_changed_workflow_and_earlier_ones_and_other_schools_keep_theirs() {
    let app = TestApp::spawn().await;
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let chilton_dsl = app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]);
    let before = app
        .report("raps", &teacher, &cyberbullying_report("Before the change"))
        .await;
    let ours = ours(&workflow(&app, "raps", &dsl).await);
    assert_eq!(put(&app, &dsl, "\"0\"", &ours).await.status(), StatusCode::OK);

    let dsl_view = |concern: &Value| {
        let path = format!(
            "/api/v1/schools/raps/incidents/{}",
            concern["id"].as_str().unwrap()
        );
        let (app, dsl) = (&app, &dsl);
        async move { app.json(&path, dsl).await }
    };
    let after = app
        .report("raps", &teacher, &cyberbullying_report("After the change"))
        .await;
    assert!(steps(&dsl_view(&after).await).contains(&"class_teacher_told".to_owned()));
    assert!(!steps(&dsl_view(&before).await).contains(&"class_teacher_told".to_owned()));
    let chilton = workflow(&app, "chilton", &chilton_dsl).await;
    assert_eq!(
        chilton["categories"]["cyberbullying"]["label"], "Cyberbullying",
        "Chilton keeps its own"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_weaker_than_the_policies_is_refused_field_by_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let ours = ours(&workflow(&app, "raps", &dsl).await);
    assert_eq!(put(&app, &dsl, "\"0\"", &ours).await.status(), StatusCode::OK);

    // What the policies require cannot be dropped or made slower; every such field is named.
    let before_refusals = app.stored().await;
    let mut weaker = ours.clone();
    weaker["categories"]["indecent_images_of_children"]["steps"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    weaker["acknowledgement_deadline"] = json!({"working_days": 1});
    weaker["categories"]["nude_image_sharing"]["images_accepted"] = json!(true);
    let body = problem(
        put(&app, &dsl, "\"1\"", &weaker).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    for field in [
        "categories.indecent_images_of_children.steps.iwf_report",
        "acknowledgement_deadline",
        "categories.nude_image_sharing.images_accepted",
    ] {
        assert!(body["errors"][field].is_string(), "{field}: {body}");
    }
    let mut malformed = ours.clone();
    malformed["acknowledgement_deadline"] = json!({"hours": 1, "working_days": 1});
    problem(
        put(&app, &dsl, "\"1\"", &malformed).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    malformed["acknowledgement_deadline"] = json!({"hours": 1});
    malformed["school_id"] = json!("chilton");
    problem(
        put(&app, &dsl, "\"1\"", &malformed).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert_eq!(app.stored().await, before_refusals);
    let current = workflow(&app, "raps", &dsl).await;
    assert_eq!(current["acknowledgement_deadline"], json!({"hours": 1}));
    assert_eq!(current["categories"]["cyberbullying"]["label"], "Online bullying");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_setting_a_dsl_can_save_breaks_reporting_at_their_school() {
    let app = TestApp::spawn().await;
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let defaults: Value = app
        .get("/api/v1/schools/raps/workflow", &dsl)
        .await
        .json()
        .await
        .unwrap();
    let before = app.stored().await;
    for (field, deadline) in [
        ("hours", json!({"hours": 4_294_967_295u32})),
        ("working_days", json!({"working_days": 4_294_967_295u32})),
        ("a year and a day", json!({"hours": 8_785})),
    ] {
        let mut absurd = defaults.clone();
        absurd["categories"]["cyberbullying"]["steps"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "forever", "title": "Wait", "when": "always", "deadline": deadline}));
        let response = put(&app, &dsl, "\"0\"", &absurd).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY, "unprocessable").await;
        assert!(
            body["errors"]["categories.cyberbullying.steps.forever.deadline"].is_string(),
            "{field}: {body}"
        );
    }
    let mut wordy = defaults.clone();
    wordy["categories"]["cyberbullying"]["label"] = json!("x".repeat(101));
    wordy["dsl"] = json!({"name": "y".repeat(255)});
    let body = problem(
        put(&app, &dsl, "\"0\"", &wordy).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    assert!(
        body["errors"]["categories.cyberbullying.label"].is_string(),
        "{body}"
    );
    assert!(body["errors"]["dsl.name"].is_string(), "{body}");
    assert_eq!(app.stored().await, before, "nothing stored changed");

    // The longest deadline allowed works, and staff can still report.
    let mut longest = defaults.clone();
    longest["categories"]["cyberbullying"]["steps"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "review", "title": "Review in a year", "when": "always", "deadline": {"working_days": 260}}));
    assert_eq!(put(&app, &dsl, "\"0\"", &longest).await.status(), StatusCode::OK);
    let concern = app
        .report("raps", &teacher, &cyberbullying_report("After the change"))
        .await;
    assert_eq!(concern["status"], "reported");
    app.stop().await;
}
