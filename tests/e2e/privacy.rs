//! No child's details leave the school unless the school escalates: across the real platform, no
//! name, narrative or reference reaches anything the trust or its governors are answered with.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::dev::{DemoTokens, free_ports, interrupt, start_dev, wait_ready};

/// What the school records and the trust must never be shown.
const SECRETS: [&str; 9] = [
    "Ellie Marsh",
    "UPN-PRIV-7731",
    "Henshaw",
    "Year 4 cloakroom",
    "KENT-99/118734",
    "IWF-PRIV-5521",
    "snapchat",
    "grandmother",
    "STAFF-PRIV-12",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_a_school_records_about_a_child_reaches_the_trust_or_its_governors() {
    let data_dir = std::env::temp_dir().join(format!("trustsafe-e2e-{}", Uuid::now_v7().simple()));
    let ports = free_ports();
    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    let tokens = DemoTokens::of(&data_dir);
    let token = |who: &str| tokens.get(who);
    let base = format!("http://127.0.0.1:{}", ports.http);
    let client = reqwest::Client::new();
    let post = |path: String, who: &str, body: Value| {
        let request = client
            .post(format!("{base}{path}"))
            .bearer_auth(token(who))
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert!(
                response.status().is_success(),
                "{}",
                response.text().await.unwrap()
            );
            response.json::<Value>().await.unwrap()
        }
    };

    let reports = [
        json!({
            "category": "online_sexual_abuse",
            "summary": "Ellie Marsh groomed on snapchat",
            "description": "Ellie Marsh (UPN-PRIV-7731) told me in the Year 4 cloakroom that an adult on snapchat asked for photos. Her grandmother knows.",
            "occurred_at": chrono::Utc::now() - chrono::Duration::hours(2),
            "location": "Year 4 cloakroom",
            "people": [{"person_ref": "UPN-PRIV-7731", "kind": "pupil", "role": "victim"}],
            "device_involved": true
        }),
        json!({
            "category": "staff_online_conduct",
            "summary": "Mr Henshaw messaging pupils",
            "description": "Mr Henshaw (STAFF-PRIV-12) follows pupils on snapchat.",
            "occurred_at": chrono::Utc::now() - chrono::Duration::days(1),
            "subject_staff_role": "staff",
            "people": [{"person_ref": "STAFF-PRIV-12", "kind": "staff", "role": "alleged"}]
        }),
    ];
    let mut concerns = Vec::new();
    for report in reports {
        concerns.push(post("/api/v1/schools/raps/incidents".into(), "raps staff", report).await);
    }
    let first = format!(
        "/api/v1/schools/raps/incidents/{}",
        concerns[0]["id"].as_str().unwrap()
    );
    post(format!("{first}/acknowledge"), "raps dsl", json!({})).await;
    post(
        format!("{first}/notes"),
        "raps dsl",
        json!({"text": "Spoke to Ellie Marsh's grandmother"}),
    )
    .await;
    post(
        format!("{first}/referrals"),
        "raps dsl",
        json!({"agency": "police", "reference": "KENT-99/118734"}),
    )
    .await;
    post(
        format!("{first}/referrals"),
        "raps dsl",
        json!({"agency": "ceop", "reference": "IWF-PRIV-5521"}),
    )
    .await;
    post(
        format!("{first}/escalate"),
        "raps dsl",
        json!({"reason": "Ellie Marsh's abuser may target Chilton"}),
    )
    .await;

    // The trust's dashboard catches up from the log.
    let get = |path: &str, who: &str, accept: &str| {
        let request = client
            .get(format!("{base}{path}"))
            .bearer_auth(token(who))
            .header("Accept", accept);
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            response.text().await.unwrap()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let dashboard: Value = serde_json::from_str(
            &get(
                "/api/v1/trusts/viking/dashboard",
                "viking trust_safeguarding_lead",
                "application/json",
            )
            .await,
        )
        .unwrap();
        let categories = dashboard["total"]["concerns_by_category"]
            .as_object()
            .unwrap()
            .len();
        let escalated = get(
            "/api/v1/trusts/viking/cases",
            "viking trust_safeguarding_lead",
            "application/json",
        )
        .await;
        if categories == 2 && escalated.contains("\"escalated\":true") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the trust dashboard did not catch up: {dashboard}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let term = {
        use chrono::Datelike;
        let today = chrono::Utc::now().date_naive();
        let season = match today.month() {
            9..=12 => "autumn",
            1..=3 => "spring",
            _ => "summer",
        };
        format!("{}-{season}", today.year())
    };
    let governors_report = format!("/api/v1/trusts/viking/reports/governors?term={term}");
    let mut bodies = String::new();
    for (path, who, accept) in [
        (
            "/api/v1/trusts/viking/dashboard",
            "viking trust_safeguarding_lead",
            "application/json",
        ),
        (
            "/api/v1/trusts/viking/cases",
            "viking trust_safeguarding_lead",
            "application/json",
        ),
        (
            "/api/v1/trusts/viking/policy-reviews",
            "viking trust_safeguarding_lead",
            "application/json",
        ),
        (
            "/api/v1/trusts/viking/dashboard",
            "viking trust_governor",
            "application/json",
        ),
        (
            governors_report.as_str(),
            "viking trust_governor",
            "application/json",
        ),
        (governors_report.as_str(), "viking trust_governor", "text/csv"),
        ("/api/v1/schools/raps/dashboard", "raps dsl", "application/json"),
    ] {
        bodies.push_str(&get(path, who, accept).await);
    }
    for secret in SECRETS {
        assert!(
            !bodies.to_lowercase().contains(&secret.to_lowercase()),
            "{secret} reached a trust-level answer"
        );
    }
    // The escalated case's detail is for the trust lead; the other case is not even named by its id.
    assert!(bodies.contains(concerns[0]["id"].as_str().unwrap()));
    assert!(!bodies.contains(concerns[1]["id"].as_str().unwrap()));
    let detail = get(&first, "viking trust_safeguarding_lead", "application/json").await;
    assert!(
        detail.contains("Ellie Marsh"),
        "escalated: the trust lead reads this one case"
    );
    interrupt(dev);
    let _ = std::fs::remove_dir_all(&data_dir);
}
