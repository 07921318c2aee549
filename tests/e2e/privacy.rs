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

/// The running platform, asked as its demo users.
struct Platform {
    base: String,
    client: reqwest::Client,
    tokens: DemoTokens,
}

impl Platform {
    /// A change as `who`, which must be accepted; its answer.
    async fn post(&self, path: &str, who: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.tokens.get(who))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
        response.json().await.unwrap()
    }

    /// A read as `who` in `accept`, which must succeed; its body.
    async fn get(&self, path: &str, who: &str, accept: &str) -> String {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.tokens.get(who))
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.text().await.unwrap()
    }
}

/// A member of staff at RAPS reports a pupil groomed online and a colleague messaging pupils; the DSL
/// works the first (notes, police and CEOP referrals) and escalates it. Their paths.
async fn record_two_concerns_at_raps(platform: &Platform) -> (String, String) {
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
    let mut paths = Vec::new();
    for report in reports {
        let concern = platform
            .post("/api/v1/schools/raps/incidents", "raps staff", report)
            .await;
        paths.push(format!(
            "/api/v1/schools/raps/incidents/{}",
            concern["id"].as_str().unwrap()
        ));
    }
    let first = &paths[0];
    for (action, body) in [
        ("acknowledge", json!({})),
        ("notes", json!({"text": "Spoke to Ellie Marsh's grandmother"})),
        (
            "referrals",
            json!({"agency": "police", "reference": "KENT-99/118734"}),
        ),
        (
            "referrals",
            json!({"agency": "ceop", "reference": "IWF-PRIV-5521"}),
        ),
        (
            "escalate",
            json!({"reason": "Ellie Marsh's abuser may target Chilton"}),
        ),
    ] {
        platform
            .post(&format!("{first}/{action}"), "raps dsl", body)
            .await;
    }
    (paths[0].clone(), paths[1].clone())
}

/// Waits until the trust's dashboard counts both concerns and its case list holds the escalated one.
async fn trust_caught_up(platform: &Platform) {
    let lead = "viking trust_safeguarding_lead";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let dashboard: Value = serde_json::from_str(
            &platform
                .get("/api/v1/trusts/viking/dashboard", lead, "application/json")
                .await,
        )
        .unwrap();
        let categories = dashboard["total"]["concerns_by_category"]
            .as_object()
            .unwrap()
            .len();
        let cases = platform
            .get("/api/v1/trusts/viking/cases", lead, "application/json")
            .await;
        if categories == 2 && cases.contains("\"escalated\":true") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the trust dashboard did not catch up: {dashboard}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every answer the trust's lead and governors (and, for figures, the school's DSL) get, as one text.
async fn trust_level_answers(platform: &Platform) -> String {
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
    let (lead, governor, json) = (
        "viking trust_safeguarding_lead",
        "viking trust_governor",
        "application/json",
    );
    let mut bodies = String::new();
    for (path, who, accept) in [
        ("/api/v1/trusts/viking/dashboard", lead, json),
        ("/api/v1/trusts/viking/cases", lead, json),
        ("/api/v1/trusts/viking/policy-reviews", lead, json),
        ("/api/v1/trusts/viking/filtering", lead, json),
        ("/api/v1/trusts/viking/acceptable-use", lead, json),
        ("/api/v1/trusts/viking/dashboard", governor, json),
        (governors_report.as_str(), governor, json),
        (governors_report.as_str(), governor, "text/csv"),
        ("/api/v1/schools/raps/dashboard", "raps dsl", json),
        ("/api/v1/schools/raps/acceptable-use", "raps dsl", json),
    ] {
        bodies.push_str(&platform.get(path, who, accept).await);
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_a_school_records_about_a_child_reaches_the_trust_or_its_governors() {
    let data_dir = std::env::temp_dir().join(format!("trustsafe-e2e-{}", Uuid::now_v7().simple()));
    let ports = free_ports();
    let mut dev = start_dev(&data_dir, &ports);
    wait_ready(&ports, &mut dev).await;
    let platform = Platform {
        base: format!("http://127.0.0.1:{}", ports.http),
        client: reqwest::Client::new(),
        tokens: DemoTokens::of(&data_dir),
    };
    let (escalated, kept) = record_two_concerns_at_raps(&platform).await;
    trust_caught_up(&platform).await;

    let bodies = trust_level_answers(&platform).await;
    for secret in SECRETS {
        assert!(
            !bodies.to_lowercase().contains(&secret.to_lowercase()),
            "{secret} reached a trust-level answer"
        );
    }
    // The escalated case's detail is for the trust lead; the other case is not even named by its id.
    let id = |path: &str| path.rsplit('/').next().unwrap().to_owned();
    assert!(bodies.contains(&id(&escalated)));
    assert!(!bodies.contains(&id(&kept)));
    let detail = platform
        .get(&escalated, "viking trust_safeguarding_lead", "application/json")
        .await;
    assert!(
        detail.contains("Ellie Marsh"),
        "escalated: the trust lead reads this one case"
    );
    interrupt(dev);
    let _ = std::fs::remove_dir_all(&data_dir);
}
