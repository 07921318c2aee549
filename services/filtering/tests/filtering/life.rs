//! A breach's life through the gateway: triage by the technician or the DSL, parents told, escalation
//! by a person, resolution; the deadlines the list shows; who may do which.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::SchoolRole;
use trustsafe_events::topics;
use uuid::Uuid;

use crate::roster::person_joins;
use crate::support::*;

/// RAPS's breach by a Year 6 pupil the roster knows; its id.
async fn pupils_breach(app: &TestApp) -> String {
    let person = Uuid::now_v7();
    trustsafe_testkit::produce(
        app.broker.log(),
        topics::AUP,
        &[person_joins(app, person, "y6pupil", 6)],
    )
    .await;
    for _ in 0..300 {
        let known: i64 = sqlx::query_scalar("SELECT count(*) FROM roster_accounts")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if known > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.upload(
        "squidguard",
        &[squidguard(
            "2026-11-30 09:14:02",
            "y6pupil",
            "casino.example",
            "gambling",
        )],
    )
    .await;
    let breach = app
        .breaches()
        .await
        .into_iter()
        .find(|breach| breach["user"] == "y6pupil")
        .unwrap();
    assert_eq!(breach["person_kind"], "pupil");
    breach["id"].as_str().unwrap().to_owned()
}

async fn step(app: &TestApp, id: &str, action: &str, who: &str, body: Value) -> reqwest::Response {
    app.post(&format!("{BREACHES}/{id}/{action}"), who, &body).await
}

#[tokio::test]
async fn a_pupils_breach_is_triaged_its_parents_told_and_it_is_resolved() {
    let app = TestApp::spawn().await;
    let id = pupils_breach(&app).await;
    let (dsl, technician) = (app.raps(SchoolRole::Dsl), app.raps(SchoolRole::Technician));
    let open = app.json(&format!("{BREACHES}/{id}"), &dsl).await;
    assert_eq!(
        (open["status"].clone(), open["overdue"].clone()),
        ("open".into(), json!([]))
    );

    let triaged: Value = step(
        &app,
        &id,
        "triage",
        &technician,
        json!({"verdict": "genuine", "note": "Tried three times"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (triaged["status"].clone(), triaged["verdict"].clone()),
        ("triaged".into(), "genuine".into())
    );
    assert!(triaged["parents_due"].is_string());
    // The technician triages; telling parents and resolving are the DSL's.
    for (action, body) in [
        ("parents-informed", json!({"how": "phone"})),
        ("resolve", json!({"outcome": "x"})),
        ("escalate", json!({"reason": "x"})),
    ] {
        problem(
            step(&app, &id, action, &technician, body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    problem(
        step(
            &app,
            &id,
            "parents-informed",
            &technician,
            json!("not even an object"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let owed = problem(
        step(
            &app,
            &id,
            "resolve",
            &dsl,
            json!({"outcome": "Talked it through"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    assert!(owed["detail"].as_str().unwrap().contains("parents"), "{owed}");
    let told: Value = step(
        &app,
        &id,
        "parents-informed",
        &dsl,
        json!({"how": "phone", "note": "Mum called back"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(told["parents_informed_at"].is_string());
    let resolved: Value = step(
        &app,
        &id,
        "resolve",
        &dsl,
        json!({"outcome": "Talked it through"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(resolved["status"], "resolved");
    problem(
        step(&app, &id, "triage", &dsl, json!({"verdict": "genuine"})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;

    assert!(
        app.breaches().await.is_empty(),
        "resolved breaches leave the working list"
    );
    let all = app.json(&format!("{BREACHES}?include_resolved=true"), &dsl).await;
    assert_eq!(all["breaches"].as_array().unwrap().len(), 1);
    let types: Vec<String> =
        sqlx::query_scalar("SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version")
            .bind(format!("breach-{id}"))
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        types,
        [
            "filtering.breach_recorded.v1",
            "filtering.breach_triaged.v1",
            "filtering.breach_parents_informed.v1",
            "filtering.breach_resolved.v1"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_person_escalates_once_and_illegal_content_is_never_over_blocking() {
    let app = TestApp::spawn().await;
    app.upload(
        "squidguard",
        &[
            squidguard("2026-11-30 09:14:02", "pupil1", "casino.example", "gambling"),
            squidguard("2026-11-30 09:15:00", "pupil2", "bad.example", "IWF"),
        ],
    )
    .await;
    let dsl = app.raps(SchoolRole::Dsl);
    let breaches = app.breaches().await;
    let id_of = |category: &str| {
        breaches
            .iter()
            .find(|breach| breach["category"] == category)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (gambling, illegal) = (id_of("gambling"), id_of("illegal"));

    let escalated: Value = step(
        &app,
        &gambling,
        "escalate",
        &dsl,
        json!({"reason": "The third time this week"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(escalated["escalated"], true);
    problem(
        step(&app, &gambling, "escalate", &dsl, json!({"reason": "again"})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    problem(
        step(&app, &illegal, "escalate", &dsl, json!({"reason": "x"})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    let manual: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'filtering.breach_escalated.v1' AND data->>'trigger' = 'manual'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(manual, 1);

    let refused = problem(
        step(
            &app,
            &illegal,
            "triage",
            &dsl,
            json!({"verdict": "over_blocking"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unprocessable",
    )
    .await;
    assert!(
        refused["detail"].as_str().unwrap().contains("Illegal"),
        "{refused}"
    );
    let before = app.stored().await;
    for body in [
        json!({"verdict": "maybe"}),
        json!({}),
        json!({"verdict": "genuine", "colour": "red"}),
        json!({"verdict": "genuine", "note": "a\u{0}b"}),
    ] {
        problem(
            step(&app, &illegal, "triage", &dsl, body).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
    }
    problem(
        step(&app, &gambling, "resolve", &dsl, json!({"outcome": "  "})).await,
        StatusCode::BAD_REQUEST,
        "validation",
    )
    .await;
    problem(
        step(&app, &gambling, "resolve", &dsl, json!({"outcome": "x"})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    for who in [
        app.raps(SchoolRole::Staff),
        app.raps(SchoolRole::Governor),
        app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]),
        app.feed("raps"),
    ] {
        problem(
            step(&app, &gambling, "triage", &who, json!({"verdict": "genuine"})).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    problem(
        step(
            &app,
            "not-a-breach",
            "triage",
            &dsl,
            json!({"verdict": "genuine"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    problem(
        step(
            &app,
            &Uuid::now_v7().to_string(),
            "triage",
            &dsl,
            json!({"verdict": "genuine"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(app.stored().await, before);
    app.stop().await;
}

#[tokio::test]
async fn the_list_shows_what_is_past_its_deadline() {
    let app = TestApp::spawn().await;
    app.upload(
        "squidguard",
        &[
            squidguard("2026-11-30 09:14:02", "pupil1", "casino.example", "gambling"),
            squidguard("2026-11-30 09:15:00", "pupil2", "games.example", "games"),
        ],
    )
    .await;
    let dsl = app.raps(SchoolRole::Dsl);
    assert!(
        app.json(&format!("{BREACHES}?overdue=true"), &dsl).await["breaches"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A day passes for the gambling breach: its triage deadline is behind it.
    sqlx::query(
        "UPDATE breaches SET next_due = now() - interval '1 hour',
                life = jsonb_set(life, '{triage_due}', to_jsonb(now() - interval '1 hour'))
          WHERE host = 'casino.example'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let overdue = app.json(&format!("{BREACHES}?overdue=true"), &dsl).await;
    let overdue = overdue["breaches"].as_array().unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(
        (overdue[0]["host"].clone(), overdue[0]["overdue"].clone()),
        ("casino.example".into(), json!(["triage"]))
    );
    app.stop().await;
}
