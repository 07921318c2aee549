//! Two people acting at once, and a client retrying a create.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dsls_acting_at_once_one_wins_the_other_is_told() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let deputy = app.school_token("raps-deputy", "raps", &[SchoolRole::DeputyDsl]);

    for round in 0..5 {
        let concern = app
            .report("raps", &teacher, &cyberbullying_report(&format!("Round {round}")))
            .await;
        let path = format!(
            "/api/v1/schools/raps/incidents/{}/acknowledge",
            concern["id"].as_str().unwrap()
        );
        let send = |token: &str| {
            app.client
                .post(app.url(&path))
                .bearer_auth(token)
                .header("If-Match", "\"1\"")
                .json(&json!({}))
                .send()
        };
        let (first, second) = tokio::join!(send(&dsl), send(&deputy));
        let mut statuses = [first.unwrap().status(), second.unwrap().status()];
        statuses.sort();
        assert_eq!(statuses[0], StatusCode::OK, "one wins: {statuses:?}");
        assert!(
            [StatusCode::CONFLICT, StatusCode::PRECONDITION_FAILED].contains(&statuses[1]),
            "the other is told: {statuses:?}"
        );
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_id = $1")
            .bind(format!("incident-{}", concern["id"].as_str().unwrap()))
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(events, 2, "one report, one acknowledgement");
    }

    // Without If-Match, the loser still never writes over the winner.
    let concern = app
        .report("raps", &teacher, &cyberbullying_report("Notes at once"))
        .await;
    let concern = app.act(&concern, "acknowledge", &dsl, &json!({})).await;
    let path = format!(
        "/api/v1/schools/raps/incidents/{}/notes",
        concern["id"].as_str().unwrap()
    );
    let note = |token: &str, text: &str| {
        app.client
            .post(app.url(&path))
            .bearer_auth(token)
            .json(&json!({"text": text}))
            .send()
    };
    let (first, second) = tokio::join!(note(&dsl, "from the DSL"), note(&deputy, "from the deputy"));
    let (first, second) = (first.unwrap().status(), second.unwrap().status());
    let accepted = [first, second]
        .iter()
        .filter(|status| **status == StatusCode::OK)
        .count();
    let after: Value = app
        .get(
            &format!(
                "/api/v1/schools/raps/incidents/{}",
                concern["id"].as_str().unwrap()
            ),
            &dsl,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["notes"].as_array().unwrap().len(), accepted);
    assert_eq!(after["version"], 2 + accepted as i64);
    for status in [first, second] {
        assert!(
            [StatusCode::OK, StatusCode::CONFLICT].contains(&status),
            "{status}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_gives_the_same_answer_and_one_concern() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let body = cyberbullying_report("Sent twice by a flaky MIS link");
    let post = |key: &'static str, body: Value| {
        let teacher = teacher.clone();
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/schools/raps/incidents"))
                .bearer_auth(&teacher)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };

    let first = post("report-7781", body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    // The DSL acknowledges meanwhile; the retry still gets the first answer.
    app.act(&first, "acknowledge", &dsl, &json!({})).await;
    let again = post("report-7781", body.clone()).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.json::<Value>().await.unwrap(), first);

    let mut other = body.clone();
    other["summary"] = json!("Something else entirely");
    let reused = post("report-7781", other).await;
    let problem_body = problem(reused, StatusCode::UNPROCESSABLE_ENTITY, "unprocessable").await;
    assert!(problem_body["errors"]["Idempotency-Key"].is_string());

    // Many at once with one key: one concern.
    let racing = futures::future::join_all((0..6).map(|_| post("report-race", body.clone()))).await;
    let ids: std::collections::HashSet<String> = {
        let mut ids = std::collections::HashSet::new();
        for response in racing {
            assert_eq!(response.status(), StatusCode::CREATED);
            ids.insert(
                response.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        ids
    };
    assert_eq!(ids.len(), 1);
    let concerns: i64 = sqlx::query_scalar("SELECT count(*) FROM concerns")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(concerns, 2);

    // A failed request does not use up its key: fixed and sent again, it is taken.
    let mut broken = body.clone();
    broken["category"] = json!("knitting");
    assert_eq!(
        post("report-fixed", broken).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post("report-fixed", body.clone()).await.status(),
        StatusCode::CREATED
    );

    let bad_key = app
        .client
        .post(app.url("/api/v1/schools/raps/incidents"))
        .bearer_auth(&teacher)
        .header("Idempotency-Key", "x".repeat(300))
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(bad_key, StatusCode::BAD_REQUEST, "validation").await;
    app.stop().await;
}
