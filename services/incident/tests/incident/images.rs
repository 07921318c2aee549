//! Images are never stored, in any encoding: for nude-image and indecent-image concerns every text
//! field of every request (report, note, referral, step, closing) is refused when it could carry one,
//! and nothing of the refused body is kept anywhere, idempotency records included.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;

use crate::support::*;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01";

/// The ways an image can ride in a text field.
fn encodings() -> Vec<(&'static str, String)> {
    let hex: String = JPEG.iter().map(|b| format!("{b:02X}")).collect();
    let percent: String = PNG.iter().map(|b| format!("%{b:02x}")).collect();
    vec![
        (
            "an upper-case data URI",
            "see DATA:IMAGE/PNG;BASE64,iVBORw0KGgo=".to_owned(),
        ),
        (
            "a data URI of another media type",
            "data:application/octet-stream;base64,AAAA".to_owned(),
        ),
        (
            "bare base64 of a PNG",
            format!("the picture: {}", STANDARD.encode(PNG)),
        ),
        ("URL-safe base64 of a JPEG", URL_SAFE_NO_PAD.encode(JPEG)),
        ("hex of a JPEG", hex),
        ("percent-encoded PNG", percent),
        ("raw PNG bytes", PNG.iter().map(|b| char::from(*b)).collect()),
        ("a long base64 run", "QUJD".repeat(200)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_in_any_encoding_in_any_text_field_is_refused_and_nothing_of_it_kept() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let concern = app.report("raps", &teacher, &iioc_report()).await;
    let concern_path = format!(
        "/api/v1/schools/raps/incidents/{}",
        concern["id"].as_str().unwrap()
    );
    app.act(&concern, "acknowledge", &dsl, &json!({})).await;
    let before = app.stored().await;

    for (how, text) in encodings() {
        // A new report, in each of its text fields, with an Idempotency-Key.
        for field in ["summary", "description", "location"] {
            for category in ["indecent_images_of_children", "nude_image_sharing"] {
                let mut report = iioc_report();
                report["category"] = json!(category);
                report[field] = json!(text);
                let response = app
                    .client
                    .post(app.url("/api/v1/schools/raps/incidents"))
                    .bearer_auth(&teacher)
                    .header("Idempotency-Key", format!("image-{field}-{category}"))
                    .json(&report)
                    .send()
                    .await
                    .unwrap();
                let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY, "unprocessable").await;
                assert!(
                    body["detail"].as_str().unwrap().contains("never accepted"),
                    "{how} in {field}: {body}"
                );
            }
        }
        let mut person = iioc_report();
        person["people"] = json!([{"person_ref": text, "kind": "pupil", "role": "victim"}]);
        problem(
            app.post("/api/v1/schools/raps/incidents", &teacher, &person)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
        )
        .await;

        // Every command on the concern that takes text.
        for (action, body) in [
            ("notes", json!({ "text": text })),
            (
                "referrals",
                json!({"agency": "police", "reference": "KENT-1", "note": text}),
            ),
            ("steps/secure_devices/complete", json!({ "note": text })),
            (
                "close",
                json!({"outcome": text, "lessons_learned": "none", "override_reason": "x"}),
            ),
        ] {
            let response = app.post(&format!("{concern_path}/{action}"), &dsl, &body).await;
            let answer: Value = problem(response, StatusCode::UNPROCESSABLE_ENTITY, "unprocessable").await;
            assert!(
                answer["detail"].as_str().unwrap().contains("never accepted"),
                "{how} in {action}"
            );
        }
    }
    assert_eq!(
        app.stored().await,
        before,
        "nothing stored changed, no idempotency key claimed"
    );
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM idempotency_keys WHERE request::text ILIKE '%data:%' OR request::text LIKE '%QUJDQUJD%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(kept, 0);

    // A refused request does not use up its key: the same key with a clean report is a new concern.
    let response = app
        .client
        .post(app.url("/api/v1/schools/raps/incidents"))
        .bearer_auth(&teacher)
        .header("Idempotency-Key", "image-summary-indecent_images_of_children")
        .json(&iioc_report())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    app.stop().await;
}
