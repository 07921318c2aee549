//! Acceptable use from the shared log: where each school's roster stands with its own policy, access on
//! record (and any given without a current agreement), visitors per month; exact for the trust lead and
//! a school's leads, suppressed for governors.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::aup::{
    AccessGranted, AccessRevoked, AgreementRecorded, AgreementSource, Audience, AupPublished, Decision,
    PersonFlags, PersonRecorded, PersonRemoved, RosterKind, Signer, VisitorAgreed,
};
use trustsafe_events::{Actor, Envelope, Event, KafkaRecord, TraceContext, to_kafka, topics};
use trustsafe_testkit::problem;
use uuid::Uuid;

use crate::governors::this_term;
use crate::support::*;

/// One event of the aup service, first (or only) in its stream unless `version` says otherwise.
fn record<E: Event>(stream: String, version: i64, school: Option<&str>, event: &E) -> KafkaRecord {
    to_kafka(&Envelope {
        event_id: Uuid::now_v7(),
        event_type: E::TYPE.into(),
        source: "/trustsafe/aup".into(),
        stream_id: stream,
        stream_version: version,
        trust_id: "viking".into(),
        school_id: school.map(str::to_owned),
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        actor: Actor::person("someone", "staff"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        trace: TraceContext::default(),
        data: serde_json::to_value(event).unwrap(),
    })
}

fn year_four(school: &str) -> (Uuid, KafkaRecord) {
    let person_id = Uuid::now_v7();
    let person = PersonRecorded {
        person_id,
        kind: RosterKind::Pupil,
        year_group: Some(4),
        flags: PersonFlags::default(),
        account_hashes: vec!["3fa9c2d1".into()],
        responsible_for: Vec::new(),
        as_of: Utc::now(),
        restricted: None,
    };
    (
        person_id,
        record(format!("person-{person_id}"), 1, Some(school), &person),
    )
}

fn answered(policy: &AupPublished, person_id: Uuid, decision: Decision, at: DateTime<Utc>) -> KafkaRecord {
    let agreement_id = Uuid::now_v7();
    let answer = AgreementRecorded {
        agreement_id,
        person_id,
        audience: policy.audience,
        document_id: policy.document_id,
        version: policy.version,
        decision,
        signer: Signer::Themselves,
        source: AgreementSource::AsGiven,
        signed_at: at,
    };
    record(format!("agreement-{agreement_id}"), 1, Some("raps"), &answer)
}

fn granted(person_id: Uuid, at: DateTime<Utc>) -> (Uuid, KafkaRecord) {
    let grant_id = Uuid::now_v7();
    let grant = AccessGranted {
        grant_id,
        person_id,
        system: "Learning platform".into(),
        granted_at: at,
    };
    (
        grant_id,
        record(format!("grant-{grant_id}"), 1, Some("raps"), &grant),
    )
}

fn visitor(at: DateTime<Utc>) -> KafkaRecord {
    let visitor_id = Uuid::now_v7();
    let visit = VisitorAgreed {
        visitor_id,
        document_id: Uuid::now_v7(),
        version: 1,
        agreed_at: at,
        wifi_code_expires_at: at + Duration::hours(24),
        restricted: None,
    };
    record(format!("visitor-{visitor_id}"), 1, Some("raps"), &visit)
}

/// RAPS: seven year 4 pupils, six agreed to the trust's KS2 policy and one declined; a grant to each
/// who agreed, one of them revoked, and one to the pupil who declined (as if the aup service had let it
/// through); three visitors this month. Chilton: two year 4 pupils who have not signed, and one who
/// left.
async fn scenario(app: &TestApp) -> usize {
    let now = Utc::now();
    let policy = AupPublished {
        document_id: Uuid::now_v7(),
        audience: Audience::Ks2,
        school_id: None,
        version: 1,
        title: "Acceptable use: Key Stage 2".into(),
        content_hash: "0".repeat(64),
        effective_from: (now - Duration::days(60)).date_naive(),
        resign_every_days: 365,
        grace_days: 30,
        restricted: None,
    };
    let mut records = vec![record(
        format!("aup-document-{}", policy.document_id),
        1,
        None,
        &policy,
    )];
    for n in 0..7 {
        let (pupil, joined) = year_four("raps");
        records.push(joined);
        let (decision, after) = match n {
            6 => (Decision::Declined, Duration::days(3)),
            _ => (Decision::Agreed, Duration::days(2)),
        };
        records.push(answered(&policy, pupil, decision, now - Duration::days(30)));
        let (grant_id, grant) = granted(pupil, now - Duration::days(30) + after);
        records.push(grant);
        if n == 0 {
            let revoked = AccessRevoked {
                grant_id,
                person_id: pupil,
                revoked_at: now,
            };
            records.push(record(format!("grant-{grant_id}"), 2, Some("raps"), &revoked));
        }
    }
    for _ in 0..2 {
        records.push(year_four("chilton").1);
    }
    let (left, joined) = year_four("chilton");
    let removed = PersonRemoved {
        person_id: left,
        kind: RosterKind::Pupil,
        as_of: now,
    };
    records.extend([
        joined,
        record(format!("person-{left}"), 2, Some("chilton"), &removed),
    ]);
    records.extend((0..3).map(|_| visitor(now)));
    trustsafe_testkit::produce(app.broker.log(), topics::AUP, &records).await;
    records.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trust_lead_sees_each_schools_compliance_grants_and_visitors_from_the_log() {
    let app = TestApp::spawn().await;
    let events = scenario(&app).await;
    app.consumed("reporting.acceptable_use", events as i64).await;

    let lead = app.trust_token("lead", "viking", TrustRole::TrustSafeguardingLead);
    let figures = app.json("/api/v1/trusts/viking/acceptable-use", &lead).await;

    let month = Utc::now().format("%Y-%m").to_string();
    let raps = &figures["schools"]["raps"];
    assert_eq!(raps["compliance"], json!({"ks2": {"current": 6, "declined": 1}}));
    assert_eq!(
        raps["grants"],
        json!({"in_force": 5, "lapsed": 1, "granted_without_agreement": 1}),
        "one revoked; the grant to the pupil who declined gives nothing and is counted"
    );
    assert_eq!(raps["visitors_by_month"], json!({ month.clone(): 3 }));
    assert_eq!(
        figures["schools"]["chilton"]["compliance"],
        json!({"ks2": {"missing": 2}}),
        "the pupil who left is not counted"
    );
    assert_eq!(
        figures["total"]["compliance"]["ks2"],
        json!({"current": 6, "declined": 1, "missing": 2})
    );
    let quiet = &figures["schools"]["ramsgate-free"];
    assert_eq!(
        (&quiet["compliance"], &quiet["grants"]["in_force"]),
        (&json!({}), &json!(0)),
        "a school of the trust with no one on its roster yet"
    );

    // A school's leads see their own school's figures, and another school's is not found.
    let dsl = app.school_token("dsl", "raps", &[SchoolRole::Dsl]);
    let own = app.json("/api/v1/schools/raps/acceptable-use", &dsl).await;
    assert_eq!(own["schools"]["raps"], *raps);
    assert_eq!(own["total"]["compliance"], raps["compliance"]);
    let elsewhere = app.get("/api/v1/schools/chilton/acceptable-use", &dsl).await;
    problem(elsewhere, StatusCode::NOT_FOUND, "not-found").await;
    let staff = app.school_token("teacher", "raps", &[SchoolRole::Staff]);
    let not_theirs = app.get("/api/v1/schools/raps/acceptable-use", &staff).await;
    problem(not_theirs, StatusCode::NOT_FOUND, "not-found").await;
    // Governors read the termly report, suppressed; another trust's lead reads nothing of this one.
    for token in [
        app.trust_token("governor", "viking", TrustRole::TrustGovernor),
        app.trust_token("claremont-lead", "claremont", TrustRole::TrustSafeguardingLead),
    ] {
        let refused = app.get("/api/v1/trusts/viking/acceptable-use", &token).await;
        problem(refused, StatusCode::NOT_FOUND, "not-found").await;
    }
    let bad = app
        .get("/api/v1/trusts/viking/acceptable-use?from=2026-13", &lead)
        .await;
    problem(bad, StatusCode::BAD_REQUEST, "validation").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governors_see_acceptable_use_in_their_report_suppressed() {
    let app = TestApp::spawn().await;
    let events = scenario(&app).await;
    app.consumed("reporting.acceptable_use", events as i64).await;
    let (term, _, _) = this_term();
    let governor = app.trust_token("governor", "viking", TrustRole::TrustGovernor);

    let report = app
        .json(
            &format!("/api/v1/trusts/viking/reports/governors?term={term}"),
            &governor,
        )
        .await;

    let section = &report["acceptable_use"];
    let school = |id: &str| -> Value {
        section["schools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|school| school["school_id"] == id)
            .unwrap()["figures"]
            .clone()
    };
    // One declined beside six current: RAPS's KS2 pupils are public, so both are withheld.
    assert_eq!(
        school("raps")["compliance"]["ks2"],
        json!({"current": "withheld", "declined": "withheld"})
    );
    assert_eq!(school("raps")["grants"]["in_force"], 5);
    assert_eq!(school("raps")["grants"]["lapsed"], "<5");
    assert_eq!(school("raps")["visitors_by_month"].as_object().unwrap().len(), 1);
    assert_eq!(
        school("chilton")["compliance"]["ks2"],
        json!({"missing": "withheld"})
    );
    assert_eq!(section["total"]["compliance"]["ks2"]["current"], "withheld");
    assert_eq!(
        section["total"]["grants"]["granted_without_agreement"],
        "withheld"
    );

    let csv = app
        .client
        .get(app.url(&format!("/api/v1/trusts/viking/reports/governors?term={term}")))
        .bearer_auth(&governor)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("acceptable_use.compliance,ks2/declined,withheld"),
        "{csv}"
    );
    assert!(csv.contains("acceptable_use.grants,in_force,5"), "{csv}");
    app.stop().await;
}
