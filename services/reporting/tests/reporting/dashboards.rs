//! The read models of a seeded multi-school scenario, number by number, through the gateway.

use chrono::{Datelike, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::incident::Category;

use trustsafe_servicekit::Purpose;

use crate::support::*;

fn month(at: chrono::DateTime<Utc>) -> String {
    at.format("%Y-%m").to_string()
}

/// Six concerns: three at RAPS, two at Chilton, none at Ramsgate Free, one at Claremont (another trust).
pub fn scenario() -> Vec<Concern> {
    let now = Utc::now();
    let days = |n: i64| now - Duration::days(n);
    let minutes = Duration::minutes;
    vec![
        // RAPS: closed, acknowledged after 30 minutes.
        Concern::reported(
            "viking",
            "raps",
            Category::Cyberbullying,
            days(40),
            &[("debrief", None)],
        )
        .acknowledged(days(40) + minutes(30))
        .step_completed("debrief", days(21))
        .closed(days(20)),
        // RAPS: acknowledged after 90 minutes, the IWF report overdue, escalated to the trust.
        Concern::reported(
            "viking",
            "raps",
            Category::IndecentImagesOfChildren,
            days(10),
            &[
                ("secure_devices", Some(days(10) + minutes(60))),
                ("iwf_report", Some(days(10) + minutes(240))),
            ],
        )
        .acknowledged(days(10) + minutes(90))
        .step_completed("secure_devices", days(10) + minutes(50))
        .escalated(days(9)),
        // RAPS: never acknowledged; its evidence step overdue too.
        Concern::reported(
            "viking",
            "raps",
            Category::Cyberbullying,
            days(2),
            &[("evidence_kept", Some(days(1)))],
        ),
        // Chilton: open for over 90 days, acknowledged after 10 minutes.
        Concern::reported("viking", "chilton", Category::OnlineHate, days(100), &[])
            .acknowledged(days(100) + minutes(10)),
        // Chilton: acknowledged after an hour.
        Concern::reported(
            "viking",
            "chilton",
            Category::Cyberbullying,
            days(5),
            &[("debrief", None)],
        )
        .acknowledged(days(5) + minutes(60)),
        // Claremont, another trust.
        Concern::reported("claremont", "claremont", Category::Cyberbullying, days(3), &[]),
    ]
}

pub fn records(concerns: &[Concern]) -> Vec<trustsafe_events::KafkaRecord> {
    concerns
        .iter()
        .flat_map(|concern| concern.events.clone())
        .collect()
}

pub fn event_count(concerns: &[Concern]) -> i64 {
    concerns.iter().map(|concern| concern.events.len() as i64).sum()
}

fn school<'a>(dashboard: &'a Value, id: &str) -> &'a Value {
    &dashboard["schools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|school| school["school_id"] == id)
        .unwrap()["figures"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trust_dashboard_is_right_number_by_number() {
    let app = TestApp::spawn().await;
    let concerns = scenario();
    app.produce(&records(&concerns)).await;
    app.applied(event_count(&concerns)).await;
    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);

    let dashboard = app.json("/api/v1/trusts/viking/dashboard", &lead).await;
    assert_eq!(dashboard["small_counts_suppressed"], false);
    let names: Vec<&str> = dashboard["schools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["school_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["chilton", "ramsgate-free", "raps"],
        "every school of the trust, and only those"
    );

    let total = &dashboard["total"];
    assert_eq!(
        total["concerns_by_category"],
        json!({"cyberbullying": 3, "indecent_images_of_children": 1, "online_hate": 1})
    );
    assert_eq!(
        total["open_by_age"],
        json!({"0_7_days": 2, "8_30_days": 1, "31_90_days": 0, "over_90_days": 1})
    );
    assert_eq!(total["overdue_acknowledgements"], 1);
    assert_eq!(total["overdue_steps"], 2);
    assert_eq!(
        total["median_minutes_to_acknowledge"], 45.0,
        "of 10, 30, 60 and 90 minutes"
    );

    let raps = school(&dashboard, "raps");
    assert_eq!(
        raps["concerns_by_category"],
        json!({"cyberbullying": 2, "indecent_images_of_children": 1})
    );
    assert_eq!(raps["overdue_acknowledgements"], 1);
    assert_eq!(raps["overdue_steps"], 2);
    assert_eq!(raps["median_minutes_to_acknowledge"], 60.0);
    assert_eq!(
        raps["open_by_age"],
        json!({"0_7_days": 1, "8_30_days": 1, "31_90_days": 0, "over_90_days": 0})
    );
    let closed_month = month(Utc::now() - Duration::days(20));
    assert_eq!(raps["closed_by_month"], json!({ closed_month: 1 }));
    let opened: i64 = raps["opened_by_month"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(opened, 3);

    let chilton = school(&dashboard, "chilton");
    assert_eq!(
        chilton["concerns_by_category"],
        json!({"cyberbullying": 1, "online_hate": 1})
    );
    assert_eq!(chilton["overdue_acknowledgements"], 0);
    assert_eq!(chilton["median_minutes_to_acknowledge"], 35.0);
    assert_eq!(chilton["open_by_age"]["over_90_days"], 1);
    let empty = school(&dashboard, "ramsgate-free");
    assert_eq!(empty["concerns_by_category"], json!({}));
    assert_eq!(empty["median_minutes_to_acknowledge"], Value::Null);

    // A period: only this month's reports.
    let this_month = Utc::now().date_naive().with_day(1).unwrap();
    let recent = app
        .json(
            &format!(
                "/api/v1/trusts/viking/dashboard?from={}",
                this_month.format("%Y-%m")
            ),
            &lead,
        )
        .await;
    let mut expected = serde_json::Map::new();
    let viking = [
        ("cyberbullying", 40),
        ("indecent_images_of_children", 10),
        ("cyberbullying", 2),
        ("online_hate", 100),
        ("cyberbullying", 5),
    ];
    for (category, days_ago) in viking {
        if (Utc::now() - Duration::days(days_ago)).date_naive() >= this_month {
            let n = expected.entry(category).or_insert(json!(0));
            *n = json!(n.as_i64().unwrap() + 1);
        }
    }
    assert_eq!(recent["total"]["concerns_by_category"], Value::Object(expected));
    assert_eq!(recent["from"], this_month.to_string());
    for bad in [
        "?from=yesterday",
        "?from=2026-13",
        "?from=2026-02-01",
        "?from=2026-5",
        "?from=2026-05&to=2026-04",
        "?colour=red",
    ] {
        let response = app
            .get(&format!("/api/v1/trusts/viking/dashboard{bad}"), &lead)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    // Operators see how far behind the log the read model is.
    let mut lag_reported = false;
    for _ in 0..50 {
        let metrics = app
            .client
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics
            .lines()
            .any(|line| line.starts_with("trustsafe_consumer_lag{consumer=\"reporting.concerns\""))
        {
            lag_reported = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(lag_reported, "the consumer's lag is a metric");

    // One school's, for its DSL: the same figures as in the trust's.
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let own = app.json("/api/v1/schools/raps/dashboard", &dsl).await;
    assert_eq!(own["total"], *raps);
    assert_eq!(own["schools"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governors_see_small_counts_as_under_five_and_other_trusts_see_nothing() {
    let app = TestApp::spawn().await;
    let concerns = scenario();
    app.produce(&records(&concerns)).await;
    app.applied(event_count(&concerns)).await;
    let governor = app.trust_token("viking-governor", "viking", TrustRole::TrustGovernor);
    // This term's concerns: RAPS's and Chilton's are all under five, so the trust's totals of those
    // categories (which less one school's would give the other's) are withheld, as are the months.
    let dashboard = app.json("/api/v1/trusts/viking/dashboard", &governor).await;
    assert_eq!(dashboard["small_counts_suppressed"], true);
    assert_eq!(
        school(&dashboard, "raps")["concerns_by_category"]["cyberbullying"],
        "<5"
    );
    assert_eq!(
        dashboard["total"]["concerns_by_category"],
        json!({"cyberbullying": "withheld", "indecent_images_of_children": "withheld"})
    );
    assert!(
        dashboard["total"]["opened_by_month"]
            .as_object()
            .unwrap()
            .values()
            .all(|count| count == "withheld"),
        "{dashboard}"
    );
    assert_eq!(
        dashboard["total"]["open_by_age"]["31_90_days"], 0,
        "zero is not suppressed"
    );
    assert_eq!(school(&dashboard, "raps")["overdue_steps"], "<5");
    assert_eq!(dashboard["total"]["overdue_steps"], "withheld");

    let claremont_lead = app.trust_token("claremont-lead", "claremont", TrustRole::TrustSafeguardingLead);
    let raps_staff = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let chilton_dsl = app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]);
    for (path, token) in [
        ("/api/v1/trusts/viking/dashboard", &claremont_lead),
        ("/api/v1/trusts/viking/cases", &claremont_lead),
        ("/api/v1/schools/raps/dashboard", &claremont_lead),
        ("/api/v1/trusts/viking/cases", &governor),
        ("/api/v1/schools/raps/dashboard", &raps_staff),
        ("/api/v1/schools/raps/dashboard", &chilton_dsl),
        ("/api/v1/trusts/viking/dashboard", &chilton_dsl),
    ] {
        let response = app.get(path, token).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
    }
    let theirs = app
        .json("/api/v1/trusts/claremont/dashboard", &claremont_lead)
        .await;
    assert_eq!(
        theirs["total"]["concerns_by_category"],
        json!({"cyberbullying": 1})
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_list_is_pseudonymised_and_links_only_escalated_cases() {
    let app = TestApp::spawn().await;
    let concerns = scenario();
    app.produce(&records(&concerns)).await;
    app.applied(event_count(&concerns)).await;
    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);

    let first = app.json("/api/v1/trusts/viking/cases?limit=3", &lead).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .json(
            &format!("/api/v1/trusts/viking/cases?limit=3&cursor={cursor}"),
            &lead,
        )
        .await;
    assert!(second["next_cursor"].is_null());
    let cases: Vec<&Value> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .collect();
    assert_eq!(cases.len(), 5, "Viking's five, not Claremont's");
    let escalated: Vec<&&Value> = cases.iter().filter(|case| case["escalated"] == true).collect();
    assert_eq!(escalated.len(), 1);
    let iioc = &concerns[1];
    assert_eq!(
        escalated[0]["detail"],
        format!("/api/v1/schools/raps/incidents/{}", iioc.id)
    );
    assert_eq!(escalated[0]["overdue_steps"], 1);
    let never_acknowledged = cases
        .iter()
        .find(|case| case["acknowledgement_overdue"] == true)
        .unwrap();
    assert_eq!(never_acknowledged["school_id"], "raps");
    assert_eq!(never_acknowledged["age_days"], 2);

    // No id of a case that was not escalated appears anywhere, cursors included.
    let bodies = format!("{first}{second}");
    for concern in concerns.iter().filter(|concern| concern.id != iioc.id) {
        assert!(!bodies.contains(&concern.id.to_string()), "{} leaked", concern.id);
        assert!(!bodies.contains(&concern.id.simple().to_string()));
    }
    let pseudonyms: std::collections::HashSet<&str> = cases
        .iter()
        .map(|case| case["pseudonym"].as_str().unwrap())
        .collect();
    assert_eq!(pseudonyms.len(), 5);
    let again = app.json("/api/v1/trusts/viking/cases?limit=3", &lead).await;
    assert_eq!(again["items"], first["items"], "pseudonyms are stable");
    // Keyed by the deployment's secret: without it, a case's id does not give its pseudonym.
    for case in &cases {
        let id = concerns
            .iter()
            .find(|concern| {
                app.identity
                    .pseudonyms
                    .pseudonym(Purpose::Case, "viking", concern.id.as_bytes())
                    == case["pseudonym"]
            })
            .map(|concern| concern.id);
        assert!(
            id.is_some(),
            "{} is the keyed hash of a case's id",
            case["pseudonym"]
        );
    }
    let unkeyed = trustsafe_servicekit::PseudonymKey::generate();
    assert!(
        !cases.iter().any(|case| concerns.iter().any(|c| unkeyed.pseudonym(
            Purpose::Case,
            "viking",
            c.id.as_bytes()
        ) == case["pseudonym"])),
        "another secret names no case alike"
    );
    // The cursor is the last case's pseudonym: it says no more than the page does.
    assert_eq!(cursor, first["items"][2]["pseudonym"].as_str().unwrap());

    // The overdue list: RAPS's unacknowledged concern and its IWF report past due.
    let overdue = app.json("/api/v1/trusts/viking/cases?overdue=true", &lead).await;
    let overdue: Vec<(&str, &str)> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            (
                case["school_id"].as_str().unwrap(),
                case["category"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        overdue,
        [("raps", "cyberbullying"), ("raps", "indecent_images_of_children")]
    );
    let response = app.get("/api/v1/trusts/viking/cases?overdue=maybe", &lead).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivering_every_event_twice_or_replaying_from_zero_gives_the_same_read_model() {
    let app = TestApp::spawn().await;
    let concerns = scenario();
    app.produce(&records(&concerns)).await;
    app.applied(event_count(&concerns)).await;
    let once = read_model(&app.pool).await;

    // Everything again: every event a duplicate.
    app.produce(&records(&concerns)).await;
    // Each partition's checkpoint is the offset after the last record read there: their sum is
    // every record read.
    let read_so_far = || async {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT sum(next_offset)::bigint FROM consumer_checkpoints WHERE consumer = 'reporting.concerns'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .unwrap_or_default()
    };
    for _ in 0..300 {
        if read_so_far().await >= 2 * event_count(&concerns) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        read_so_far().await,
        2 * event_count(&concerns),
        "every duplicate was read"
    );
    assert_eq!(read_model(&app.pool).await, once, "duplicates changed nothing");
    rollups_agree_with_the_concerns(&app.pool).await;

    // A replay from offset zero into an empty database builds the same read model.
    let replayed = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&trustsafe_testkit::fresh_database().await)
        .await
        .unwrap();
    trustsafe_eventstore::EventStore::new(replayed.clone(), "/trustsafe/reporting")
        .migrate()
        .await
        .unwrap();
    trustsafe_reporting::migrate(&replayed).await.unwrap();
    let mut progress = Vec::new();
    let read = trustsafe_reporting::consumer(
        replayed.clone(),
        app.broker.log(),
        app.identity.pseudonyms.clone(),
    )
    .rebuild(|step| progress.push(step))
    .await
    .unwrap()
    .events;
    assert_eq!(
        read,
        2 * event_count(&concerns) as u64,
        "every record of the topic, duplicates included"
    );
    assert_eq!(progress.last().map(|p| (p.done, p.total)), Some((read, read)));
    assert_eq!(read_model(&replayed).await, once);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_concern_is_open_again_and_counts_as_closed_only_when_last_closed() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let days = |n: i64| now - Duration::days(n);
    let concerns = [Concern::reported(
        "viking",
        "raps",
        Category::OnlineHate,
        days(70),
        &[("debrief", Some(days(60)))],
    )
    .acknowledged(days(70) + Duration::minutes(5))
    .closed(days(65))
    .reopened(days(50))];
    app.produce(&records(&concerns)).await;
    app.applied(event_count(&concerns)).await;
    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    let reopened = app.json("/api/v1/schools/raps/dashboard", &lead).await;
    let raps = school(&reopened, "raps");
    assert_eq!(raps["closed_by_month"], json!({}));
    assert_eq!(raps["open_by_age"]["31_90_days"], 1);
    assert_eq!(
        raps["overdue_steps"], 1,
        "the open step of a reopened concern is overdue again"
    );

    let closed_again = [concerns[0].continued().closed(days(3))];
    app.produce(&records(&closed_again)).await;
    app.applied(event_count(&concerns) + 1).await;
    let closed = app.json("/api/v1/schools/raps/dashboard", &lead).await;
    let raps = school(&closed, "raps");
    assert_eq!(raps["closed_by_month"], json!({ month(days(3)): 1 }));
    assert_eq!(raps["overdue_steps"], 0);
    assert_eq!(raps["opened_by_month"], json!({ month(days(70)): 1 }));
    assert_eq!(raps["median_minutes_to_acknowledge"], 5.0);

    rollups_agree_with_the_concerns(&app.pool).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_reads_acknowledgement_buckets_as_the_database_fills_them() {
    let app = TestApp::spawn().await;
    let buckets: Vec<(i32, i32)> = sqlx::query_as(
        "SELECT minutes, acknowledgement_bucket(minutes) FROM generate_series(0, 50000, 7) AS minutes",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for (minutes, bucket) in buckets {
        let index = bucket as usize - 1;
        let (lower, upper) = (
            trustsafe_reporting::domain::acknowledgement::bucket_minutes(index),
            trustsafe_reporting::domain::acknowledgement::bucket_minutes(index + 1),
        );
        assert!(
            lower <= f64::from(minutes) && (f64::from(minutes) < upper || index == 279),
            "{minutes} minutes in bucket {bucket}: [{lower}, {upper})"
        );
    }
    app.stop().await;
}
