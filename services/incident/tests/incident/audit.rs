//! Every read of a case is audited on `trustsafe.audit.v1`: who, in which role, which school and
//! case, when. Refused reads are not reads.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::{from_kafka, topics};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_reads_of_a_case_make_exactly_n_audit_events() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let other = app.school_token("raps-ta", "raps", &[SchoolRole::Staff]);
    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    let concern = app
        .report("raps", &teacher, &cyberbullying_report("Names in the class chat"))
        .await;
    let id = concern["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/schools/raps/incidents/{id}");

    const READS: usize = 7;
    for n in 0..READS {
        let token = if n % 3 == 2 { &teacher } else { &dsl };
        assert_eq!(app.get(&path, token).await.status(), StatusCode::OK);
    }
    // Neither refused reads nor lists nor changes are reads of the case.
    assert_eq!(app.get(&path, &other).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, &lead).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/schools/raps/incidents", &dsl).await.status(),
        StatusCode::OK
    );
    app.act(&concern, "acknowledge", &dsl, &json!({})).await;

    let in_store: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'audit.record_read.v1' AND data->>'record_id' = $1",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(in_store, READS as i64);

    app.published().await;
    let records = app
        .read(topics::AUDIT, READS, |record| {
            from_kafka(record).is_ok_and(|envelope| envelope.data["record_id"] == id.as_str())
        })
        .await;
    let mut readers: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for record in &records {
        let envelope = from_kafka(record).unwrap();
        if !seen.insert(envelope.event_id) {
            continue; // delivered twice: at least once, deduplicated by id
        }
        assert_eq!(envelope.event_type, "audit.record_read.v1");
        assert_eq!(envelope.school_id.as_deref(), Some("raps"));
        let data: &Value = &envelope.data;
        assert_eq!(data["record_kind"], "incident");
        assert_eq!(data["school_id"], "raps");
        assert!(data["read_at"].is_string());
        readers.push((
            data["reader"].as_str().unwrap().into(),
            data["role"].as_str().unwrap().into(),
        ));
    }
    assert_eq!(distinct_ids(&records).len(), READS);
    let by_dsl = readers
        .iter()
        .filter(|(who, role)| who == "raps-dsl" && role == "dsl")
        .count();
    let by_reporter = readers
        .iter()
        .filter(|(who, role)| who == "raps-teacher" && role == "reporter")
        .count();
    assert_eq!((by_dsl, by_reporter), (5, 2));
    app.stop().await;
}
