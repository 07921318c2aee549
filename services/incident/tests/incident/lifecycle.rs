//! A concern's whole life, over HTTP through the gateway.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;
use trustsafe_events::topics;

use crate::support::*;

fn step<'a>(concern: &'a Value, id: &str) -> &'a Value {
    concern["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|step| step["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {concern}"))
}

/// The kinds of event a history lists, in order.
fn events(history: &Value) -> Vec<&str> {
    history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["event"].as_str().unwrap())
        .collect()
}

/// A fresh app, with tokens for a RAPS teacher and its DSL.
async fn raps_teacher_and_dsl() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    (app, teacher, dsl)
}

/// A member of staff at RAPS reports an indecent-images concern; the DSL reads it. Its location, its
/// id, and the concern as the DSL sees it.
async fn reported_at_raps(app: &TestApp, teacher: &str, dsl: &str) -> (String, String, Value) {
    // A member of staff reports.
    let response = app
        .post("/api/v1/schools/raps/incidents", teacher, &iioc_report())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let reported: Value = response.json().await.unwrap();
    let id = reported["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/schools/raps/incidents/{id}"));
    assert_eq!(reported["status"], "reported");
    assert_eq!(reported["access"], "reporter");
    assert!(
        reported.get("steps").is_none(),
        "the reporter does not see the steps"
    );

    // The reporter sees it in their list; the DSL reads it: the steps are there, acknowledgement due.
    let mine: Value = app
        .get("/api/v1/schools/raps/incidents", teacher)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["id"], id.as_str());
    let concern: Value = app.get(&location, dsl).await.json().await.unwrap();
    assert_eq!(concern["access"], "handler");
    assert_eq!(concern["acknowledgement"]["overdue"], false);
    let steps: Vec<&str> = concern["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "secure_devices",
            "iwf_report",
            "police_report",
            "delete_copies",
            "parents_informed",
            "debrief"
        ]
    );
    assert!(step(&concern, "secure_devices")["due_at"].is_string());

    (location, id, concern)
}

/// The DSL acknowledges the concern, works through its steps and referrals, and closes it.
async fn worked_to_close(app: &TestApp, dsl: &str, concern: Value) -> Value {
    // The DSL acknowledges, then works through the steps.
    let concern = app.act(&concern, "acknowledge", dsl, &json!({})).await;
    assert_eq!(concern["status"], "acknowledged");
    assert_eq!(concern["acknowledgement"]["acknowledged"]["by"], "raps-dsl");
    let concern = app
        .act(
            &concern,
            "steps/secure_devices/complete",
            dsl,
            &json!({"note": "Laptop 14 locked in the DSL's office, powered off"}),
        )
        .await;
    assert!(step(&concern, "secure_devices")["completed"]["at"].is_string());

    // Referrals to the IWF and the police, with their references, complete those steps.
    let concern = app
        .act(
            &concern,
            "referrals",
            dsl,
            &json!({"agency": "iwf", "reference": "IWF-2026-118734", "note": "URL reported online"}),
        )
        .await;
    let concern = app
        .act(
            &concern,
            "referrals",
            dsl,
            &json!({"agency": "police", "reference": "KENT-46/211120/26"}),
        )
        .await;
    assert_eq!(step(&concern, "iwf_report")["reference"], "IWF-2026-118734");
    assert_eq!(step(&concern, "police_report")["reference"], "KENT-46/211120/26");
    assert_eq!(concern["referrals"].as_array().unwrap().len(), 2);

    let mut concern = concern;
    for (step_id, note) in [
        (
            "delete_copies",
            "No copies found in email; police did not ask us to keep any",
        ),
        ("parents_informed", "Spoke to Sam's mother"),
        ("debrief", "Debrief held with the computing lead"),
    ] {
        concern = app
            .act(
                &concern,
                &format!("steps/{step_id}/complete"),
                dsl,
                &json!({"note": note}),
            )
            .await;
    }
    let concern = app
        .act(
            &concern,
            "close",
            dsl,
            &json!({"outcome": "Police investigating; laptop handed over", "lessons_learned": "Shared laptops are wiped weekly"}),
        )
        .await;
    assert_eq!(concern["status"], "closed");
    assert_eq!(concern["overdue"], false);
    assert_eq!(concern["closure"]["overridden_steps"], json!([]));
    assert_eq!(concern["version"], 11);

    concern
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indecent_images_concern_reported_at_raps_is_the_reporter_s_and_the_dsl_s_to_see() {
    let (app, teacher, dsl) = raps_teacher_and_dsl().await;
    reported_at_raps(&app, &teacher, &dsl).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dsl_works_it_through_its_steps_and_referrals_to_close_and_the_history_shows_each() {
    let (app, teacher, dsl) = raps_teacher_and_dsl().await;
    let (location, _, concern) = reported_at_raps(&app, &teacher, &dsl).await;
    worked_to_close(&app, &dsl, concern).await;

    // The history shows every step.
    let history: Value = app
        .get(&format!("{location}/history"), &dsl)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        events(&history),
        [
            "reported",
            "acknowledged",
            "step_completed",
            "referral_recorded",
            "step_completed",
            "referral_recorded",
            "step_completed",
            "step_completed",
            "step_completed",
            "step_completed",
            "closed"
        ]
    );
    let completed: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["event"] == "step_completed")
        .map(|entry| entry["data"]["step_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        completed,
        [
            "secure_devices",
            "iwf_report",
            "police_report",
            "delete_copies",
            "parents_informed",
            "debrief"
        ]
    );
    assert_eq!(history["entries"][0]["by"], "raps-teacher");

    // The reporter's history: where it stands, not what was done.
    let theirs: Value = app
        .get(&format!("{location}/history"), &teacher)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events(&theirs), ["reported", "acknowledged", "closed"]);
    assert!(theirs["entries"][2]["data"].get("restricted").is_none());

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_has_every_event_of_its_life_and_not_one_word_of_the_narrative() {
    let (app, teacher, dsl) = raps_teacher_and_dsl().await;
    let (_, id, concern) = reported_at_raps(&app, &teacher, &dsl).await;
    worked_to_close(&app, &dsl, concern).await;

    // The shared log has every event, and not one word of the narrative or a reference.
    app.published().await;
    let stream = format!("incident-{id}");
    let ours = app
        .read(topics::INCIDENT, 11, |record| {
            header(record, "ce_subject") == stream
        })
        .await;
    for record in &ours {
        let text = String::from_utf8(record.value.clone()).unwrap();
        for secret in [
            "Sam",
            "UPN-A123",
            "laptop 14",
            "IWF-2026-118734",
            "KENT-46",
            "mother",
            "restricted",
        ] {
            assert!(!text.contains(secret), "{secret} reached the log: {text}");
        }
        assert_eq!(header(record, "ce_schoolid"), "raps");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filter_by_status_category_and_overdue_and_page_with_a_cursor() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let mut ids = Vec::new();
    for n in 0..5 {
        let concern = app
            .report(
                "raps",
                &teacher,
                &cyberbullying_report(&format!("Group chat {n}")),
            )
            .await;
        ids.push(concern["id"].as_str().unwrap().to_owned());
    }
    let iioc = app.report("raps", &teacher, &iioc_report()).await;
    app.act(&iioc, "acknowledge", &dsl, &json!({})).await;

    let page = |query: &str| {
        let (app, dsl) = (&app, &dsl);
        let query = query.to_owned();
        async move {
            let response = app
                .get(&format!("/api/v1/schools/raps/incidents{query}"), dsl)
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let first = page("?limit=4").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 4);
    assert_eq!(first["items"][0]["id"], iioc["id"], "newest first");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(&format!("?limit=4&cursor={cursor}")).await;
    let rest: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    assert_eq!(rest, [ids[1].as_str(), ids[0].as_str()]);
    assert!(second["next_cursor"].is_null());

    assert_eq!(
        page("?status=acknowledged").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        page("?status=reported&category=cyberbullying").await["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        page("?overdue=true").await["items"].as_array().unwrap().len(),
        0,
        "nothing is late yet"
    );

    // An hour on, the cyberbullying concerns were never acknowledged: overdue.
    sqlx::query("UPDATE concerns SET next_deadline = next_deadline - interval '2 hours' WHERE category = 'cyberbullying'")
        .execute(&app.pool)
        .await
        .unwrap();
    let overdue = page("?overdue=true").await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 5);
    assert_eq!(overdue["items"][0]["overdue"], true);

    for bad in [
        "?limit=0",
        "?limit=201",
        "?status=lost",
        "?category=knitting",
        "?cursor=%%%",
        "?overdue=perhaps",
        "?colour=red",
    ] {
        let response = app
            .get(&format!("/api/v1/schools/raps/incidents{bad}"), &dsl)
            .await;
        problem(response, StatusCode::BAD_REQUEST, "validation").await;
    }
    app.stop().await;
}
