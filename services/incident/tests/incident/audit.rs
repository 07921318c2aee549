//! Every read of a case is audited on `trustsafe.audit.v1`: who, in which role, which school and
//! case, when. Refused reads are not reads.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::{from_kafka, topics};
use trustsafe_servicekit::Purpose;

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
    // Refused reads are not reads; every answer that carries the case is one: the report's own
    // answer, a list showing it, a change's answer.
    assert_eq!(app.get(&path, &other).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, &lead).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/schools/raps/incidents", &dsl).await.status(),
        StatusCode::OK
    );
    app.act(&concern, "acknowledge", &dsl, &json!({})).await;

    let kinds: Vec<(String, i64)> = sqlx::query_as(
        "SELECT data->>'record_kind', count(*) FROM events
          WHERE event_type = 'audit.record_read.v2' AND data->>'record_id' = $1
          GROUP BY 1 ORDER BY 1",
    )
    .bind(&id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let expected: Vec<(String, i64)> = [
        ("incident", READS as i64),
        ("incident-command", 1),
        ("incident-list", 1),
        ("incident-report", 1),
    ]
    .map(|(kind, n)| (kind.to_owned(), n))
    .into();
    assert_eq!(kinds, expected);

    app.published().await;
    let total = READS + 3;
    let records = app
        .read(topics::AUDIT, total, |record| {
            from_kafka(record).is_ok_and(|envelope| envelope.data["record_id"] == id.as_str())
        })
        .await;
    let mut readers: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for record in &records {
        let envelope = from_kafka(record).unwrap();
        if !seen.insert(envelope.event_id) || envelope.data["record_kind"] != "incident" {
            continue; // delivered twice (at least once, deduplicated by id), or not a detail read
        }
        assert_eq!(envelope.event_type, "audit.record_read.v2");
        assert_eq!(envelope.school_id.as_deref(), Some("raps"));
        let data: &Value = &envelope.data;
        assert_eq!(data["school_id"], "raps");
        assert!(data["read_at"].is_string());
        assert_eq!(
            data["reader"], envelope.actor.subject,
            "the reader is the event's actor"
        );
        readers.push((
            data["reader"].as_str().unwrap().into(),
            data["role"].as_str().unwrap().into(),
        ));
    }
    assert_eq!(distinct_ids(&records).len(), total);
    // On the log, readers are named by their keyed pseudonym within the trust, never their subject.
    let named = |subject: &str| {
        format!(
            "person:{}",
            app.identity
                .pseudonyms
                .pseudonym(Purpose::Actor, "viking", subject.as_bytes())
        )
    };
    let by_dsl = readers
        .iter()
        .filter(|(who, role)| *who == named("raps-dsl") && role == "dsl")
        .count();
    let by_reporter = readers
        .iter()
        .filter(|(who, role)| *who == named("raps-teacher") && role == "reporter")
        .count();
    assert_eq!((by_dsl, by_reporter), (5, 2));
    let on_the_log = records
        .iter()
        .flat_map(|record| {
            record
                .headers
                .iter()
                .map(|(_, value)| value.clone())
                .chain([record.value.clone()])
        })
        .any(|bytes| bytes.windows(8).any(|w| w == b"raps-dsl" || w == b"raps-tea"));
    assert!(!on_the_log, "no token subject on the audit topic");
    app.stop().await;
}
