//! Bad requests get a clear problem+json answer, never a 500, and nothing stored changes.

use reqwest::StatusCode;
use serde_json::json;
use trustsafe_auth::SchoolRole;

use crate::support::*;

/// A RAPS teacher reporting to a school with one concern stored; each test ends by checking that
/// nothing stored changed.
struct Reporting {
    app: TestApp,
    teacher: String,
    before: String,
}

const REPORTS: &str = "/api/v1/schools/raps/incidents";

impl Reporting {
    async fn start() -> Reporting {
        let app = TestApp::spawn().await;
        let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
        app.report("raps", &teacher, &cyberbullying_report("One that is fine"))
            .await;
        let before = app.stored().await;
        Reporting { app, teacher, before }
    }

    async fn nothing_changed(self) {
        assert_eq!(self.app.stored().await, self.before, "nothing stored changed");
        self.app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_that_is_not_a_json_object_is_refused() {
    let reporting = Reporting::start().await;
    let (app, teacher, path) = (&reporting.app, &reporting.teacher, REPORTS);
    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url(path))
            .bearer_auth(teacher)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let body = problem(
        raw("{\"category\": \"cyberbullying\",", "application/json")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
    problem(
        raw("category=cyberbullying", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    problem(
        raw("", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    problem(
        raw("[1, 2]", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    reporting.nothing_changed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_missing_fields_or_with_wrong_shapes_is_refused_with_the_fields_named() {
    let reporting = Reporting::start().await;
    let (app, teacher, path) = (&reporting.app, &reporting.teacher, REPORTS);
    let body = problem(
        app.post(path, teacher, &json!({"location": "hall"})).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    for field in ["category", "summary", "description", "occurred_at"] {
        assert_eq!(body["errors"][field], "is required", "{body}");
    }

    let mut wrong = cyberbullying_report("Wrong shapes");
    wrong["people"][0]["kind"] = json!("alien");
    let body = problem(
        app.post(path, teacher, &wrong).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(
        body["errors"]["people[0].kind"]
            .as_str()
            .unwrap()
            .contains("unknown variant"),
        "{body}"
    );
    let mut wrong = cyberbullying_report("Wrong time");
    wrong["occurred_at"] = json!("last Tuesday");
    let body = problem(
        app.post(path, teacher, &wrong).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(body["errors"]["occurred_at"].is_string(), "{body}");
    let mut future = cyberbullying_report("From the future");
    future["occurred_at"] = json!(chrono::Utc::now() + chrono::Duration::days(2));
    let body = problem(
        app.post(path, teacher, &future).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(body["errors"]["occurred_at"].is_string(), "{body}");

    // A body cannot set the school, the version or the author.
    for (field, value) in [
        ("school_id", json!("chilton")),
        ("version", json!(7)),
        ("reported_by", json!("someone-else")),
    ] {
        let mut assigned = cyberbullying_report("Mass assignment");
        assigned[field] = value;
        let body = problem(
            app.post(path, teacher, &assigned).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
        assert!(body["detail"].as_str().unwrap().contains(field), "{body}");
    }
    reporting.nothing_changed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_against_the_rules_is_refused_with_the_rule_named() {
    let reporting = Reporting::start().await;
    let (app, teacher, path) = (&reporting.app, &reporting.teacher, REPORTS);
    let governor = app.school_token("raps-governor", "raps", &[SchoolRole::Governor]);
    let mut unknown = cyberbullying_report("Unknown category");
    unknown["category"] = json!("knitting");
    let body = problem(
        app.post(path, teacher, &unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    assert!(
        body["errors"]["category"]
            .as_str()
            .unwrap()
            .contains("indecent_images_of_children")
    );

    let mut conduct = cyberbullying_report("About a teacher");
    conduct["category"] = json!("staff_online_conduct");
    let body = problem(
        app.post(path, teacher, &conduct).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(body["errors"]["subject_staff_role"].is_string());

    problem(
        app.post(path, &governor, &cyberbullying_report("A governor"))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    reporting.nothing_changed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_is_never_accepted_in_a_report() {
    let reporting = Reporting::start().await;
    let (app, teacher, path) = (&reporting.app, &reporting.teacher, REPORTS);
    // Images are never accepted for nudes or indecent images: say so, and what to do instead.
    let mut with_image = iioc_report();
    with_image["attachments"] = json!([{"filename": "screenshot.png", "data": "iVBORw0KGgo="}]);
    let body = problem(
        app.post(path, teacher, &with_image).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("never accepted") && detail.contains("reference"),
        "{detail}"
    );
    let mut inline_image = iioc_report();
    inline_image["category"] = json!("nude_image_sharing");
    inline_image["description"] = json!("here it is: data:image/jpeg;base64,/9j/4AAQSkZJRg==");
    problem(
        app.post(path, teacher, &inline_image).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    let mut evidence = cyberbullying_report("With a screenshot");
    evidence["screenshot"] = json!("data:image/png;base64,iVBORw0KGgo=");
    let body = problem(
        app.post(path, teacher, &evidence).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(body["errors"]["attachments"].is_string(), "{body}");
    reporting.nothing_changed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_over_a_size_limit_is_refused() {
    let reporting = Reporting::start().await;
    let (app, teacher, path) = (&reporting.app, &reporting.teacher, REPORTS);
    // Over the limit: the gateway's (1 MiB) and the service's own (256 KiB).
    let mut huge = cyberbullying_report("Huge");
    huge["description"] = json!("x".repeat(1_100_000));
    problem(
        app.post(path, teacher, &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
    )
    .await;
    huge["description"] = json!("x".repeat(300_000));
    problem(
        app.post(path, teacher, &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
    )
    .await;
    let mut long = cyberbullying_report(&"y".repeat(201));
    let body = problem(
        app.post(path, teacher, &long).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(body["errors"]["summary"].is_string());
    long["summary"] = json!("fine");
    long["description"] = json!("   ");
    problem(
        app.post(path, teacher, &long).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    reporting.nothing_changed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_changes_leave_the_concern_as_it_was() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let concern = app.report("raps", &teacher, &iioc_report()).await;
    let path = format!(
        "/api/v1/schools/raps/incidents/{}",
        concern["id"].as_str().unwrap()
    );
    let before = app.stored().await;

    // Work before the acknowledgement is refused.
    problem(
        app.post(&format!("{path}/steps/secure_devices/complete"), &dsl, &json!({}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    problem(
        app.post(
            &format!("{path}/close"),
            &dsl,
            &json!({"outcome": "x", "lessons_learned": "y"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    assert_eq!(app.stored().await, before);

    let concern = app.act(&concern, "acknowledge", &dsl, &json!({})).await;
    let before = app.stored().await;
    let close = json!({"outcome": "Sorted", "lessons_learned": "None"});
    let body = problem(
        app.post(&format!("{path}/close"), &dsl, &close).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    assert_eq!(
        body["errors"]["open_steps"],
        "secure_devices, iwf_report, police_report, delete_copies, parents_informed, debrief"
    );

    // A stale If-Match: 412, and the version it is at now.
    let stale = app
        .client
        .post(app.url(&format!("{path}/notes")))
        .bearer_auth(&dsl)
        .header("If-Match", "\"1\"")
        .json(&json!({"text": "written against version 1"}))
        .send()
        .await
        .unwrap();
    let body = problem(stale, StatusCode::PRECONDITION_FAILED, "precondition-failed").await;
    assert!(body["detail"].as_str().unwrap().contains("version 2"));
    let garbled = app
        .client
        .post(app.url(&format!("{path}/notes")))
        .bearer_auth(&dsl)
        .header("If-Match", "yesterday")
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    problem(garbled, StatusCode::BAD_REQUEST, "validation").await;

    for (action, body, status, kind) in [
        ("acknowledge", json!({}), StatusCode::CONFLICT, "conflict"),
        (
            "steps/make_tea/complete",
            json!({}),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            "steps/secure_devices/complete",
            json!({"colour": "red"}),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "referrals",
            json!({"agency": "mi5"}),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        ("referrals", json!({}), StatusCode::BAD_REQUEST, "validation"),
        (
            "notes",
            json!({"text": ""}),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "notes",
            json!({"text": "see", "image": "data:image/png;base64,AAAA"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
        ),
        ("escalate", json!({}), StatusCode::BAD_REQUEST, "validation"),
        (
            "reopen",
            json!({"reason": "not closed"}),
            StatusCode::CONFLICT,
            "conflict",
        ),
    ] {
        let response = app.post(&format!("{path}/{action}"), &dsl, &body).await;
        problem(response, status, kind).await;
    }
    for bad_id in ["not-a-uuid", "0190c0de-0000-7000-8000-000000000000"] {
        let response = app
            .get(&format!("/api/v1/schools/raps/incidents/{bad_id}"), &dsl)
            .await;
        problem(response, StatusCode::NOT_FOUND, "not-found").await;
    }
    assert_eq!(app.stored().await, before, "nothing stored changed");

    // With an override reason, closing over open steps is accepted and says which.
    let closed = app
        .act(
            &concern,
            "close",
            &dsl,
            &json!({"outcome": "Police took over", "lessons_learned": "None yet", "override_reason": "Police asked us to take no further action"}),
        )
        .await;
    assert_eq!(closed["closure"]["overridden_steps"].as_array().unwrap().len(), 6);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_in_any_text_is_refused_by_name_not_failed_on_in_the_store() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let before = app.stored().await;
    let mut report = cyberbullying_report("A NUL");
    report["people"] = json!([{"person_ref": "UPN\u{0}1", "kind": "pupil", "role": "victim"}]);
    let body = problem(
        app.post("/api/v1/schools/raps/incidents", &teacher, &report)
            .await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    assert!(body["errors"]["people[0].person_ref"].is_string(), "{body}");
    assert_eq!(app.stored().await, before, "nothing stored changed");
    app.stop().await;
}
