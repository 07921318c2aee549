//! Who may send a school's logs and who may read its breaches: anyone else gets 404, whatever they send.

use reqwest::StatusCode;
use trustsafe_auth::{SchoolRole, TrustRole};

use crate::support::*;

#[tokio::test]
async fn only_the_technician_and_the_feed_send_and_only_leads_and_the_technician_read() {
    let app = TestApp::spawn().await;
    let line = squid(NINE, "pupil1", "http://casino.example/", true);
    for token in [
        app.raps(SchoolRole::Staff),
        app.raps(SchoolRole::Dsl),
        app.raps(SchoolRole::Governor),
        app.school_token("chilton-tech", "chilton", &[SchoolRole::Technician]),
        app.feed("chilton"),
        app.mis_token("raps-mis", "raps"),
    ] {
        let response = app.send_log(&token, "squid", line.clone()).await;
        problem(response, StatusCode::NOT_FOUND, "not-found").await;
    }
    let response = app.send_log(&app.feed("raps"), "squid", line.clone()).await;
    assert_eq!(response.status(), 200);
    let id = app.breaches().await[0]["id"].as_str().unwrap().to_owned();

    let readers = [
        app.raps(SchoolRole::Dsl),
        app.raps(SchoolRole::DeputyDsl),
        app.raps(SchoolRole::Headteacher),
        app.raps(SchoolRole::Technician),
        app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead),
    ];
    for token in &readers {
        assert_eq!(app.json(&format!("{BREACHES}/{id}"), token).await["id"], id);
    }
    for token in [
        app.raps(SchoolRole::Staff),
        app.raps(SchoolRole::Governor),
        app.feed("raps"),
        app.trust_token("viking-governor", "viking", TrustRole::TrustGovernor),
        app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]),
    ] {
        for path in [
            BREACHES.to_owned(),
            format!("{BREACHES}/{id}"),
            "/api/v1/schools/raps/filtering/hours?from=2026-11-30T00:00:00Z".to_owned(),
        ] {
            problem(app.get(&path, &token).await, StatusCode::NOT_FOUND, "not-found").await;
        }
    }
    let chilton_dsl = app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]);
    problem(
        app.get(&format!("/api/v1/schools/chilton/breaches/{id}"), &chilton_dsl)
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    let page = app.json("/api/v1/schools/chilton/breaches", &chilton_dsl).await;
    assert_eq!(
        page["breaches"].as_array().unwrap().len(),
        0,
        "another school's breaches are not counted either"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_list_pages_and_filters_and_refuses_a_malformed_query() {
    let app = TestApp::spawn().await;
    let lines: Vec<String> = (0..5)
        .map(|n| {
            squidguard(
                &format!("2026-11-30 09:1{n}:00"),
                &format!("pupil{n}"),
                "casino.example",
                if n < 2 { "porn" } else { "gambling" },
            )
        })
        .collect();
    app.upload("squidguard", &lines).await;
    let dsl = app.raps(SchoolRole::Dsl);
    let first = app.json(&format!("{BREACHES}?limit=3"), &dsl).await;
    assert_eq!(first["breaches"].as_array().unwrap().len(), 3);
    assert_eq!(first["breaches"][0]["user"], "pupil4", "newest first");
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .json(&format!("{BREACHES}?limit=3&cursor={}", urlencode(cursor)), &dsl)
        .await;
    assert_eq!(rest["breaches"].as_array().unwrap().len(), 2);
    assert!(rest["next_cursor"].is_null());
    let grave = app.json(&format!("{BREACHES}?min_severity=4"), &dsl).await;
    assert_eq!(grave["breaches"].as_array().unwrap().len(), 2);
    let gambling = app.json(&format!("{BREACHES}?category=gambling"), &dsl).await;
    assert_eq!(gambling["breaches"].as_array().unwrap().len(), 3);
    for query in [
        "limit=0",
        "min_severity=9",
        "cursor=nonsense",
        "colour=red",
        "limit=x",
    ] {
        problem(
            app.get(&format!("{BREACHES}?{query}"), &dsl).await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
    }
    problem(
        app.get(&format!("{BREACHES}/not-a-uuid"), &dsl).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    app.stop().await;
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
