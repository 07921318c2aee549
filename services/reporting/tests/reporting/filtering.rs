//! Filtering breaches from the shared log, counted for the trust's safeguarding lead without naming
//! anyone: by school, category, severity and month; open and overdue; parents told in time.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::aup::RosterKind;
use trustsafe_events::filtering::{
    BreachAction, BreachParentsInformed, BreachRecorded, BreachResolved, BreachSource, BreachTriaged,
    Involved, Verdict,
};
use trustsafe_events::{Actor, Envelope, Event, KafkaRecord, TraceContext, to_kafka, topics};
use trustsafe_testkit::problem;
use uuid::Uuid;

use crate::support::*;

/// A breach's events, in order, as the filtering service publishes them.
struct Breach {
    id: Uuid,
    school: &'static str,
    events: Vec<KafkaRecord>,
}

impl Breach {
    fn recorded(
        school: &'static str,
        category: &str,
        severity: u8,
        first_seen: DateTime<Utc>,
        triage_by: DateTime<Utc>,
        pupil: bool,
    ) -> Breach {
        let id = Uuid::now_v7();
        let mut breach = Breach {
            id,
            school,
            events: Vec::new(),
        };
        breach.push(&BreachRecorded {
            breach_id: id,
            source: BreachSource::Log,
            feed: Some("squid".into()),
            category: category.into(),
            severity,
            vendor_category: None,
            vendor_severity: None,
            action: BreachAction::Blocked,
            first_seen,
            last_seen: first_seen,
            count: 1,
            triage_by,
            involved: pupil.then_some(Involved {
                kind: RosterKind::Pupil,
                year_group: Some(6),
            }),
            host_key: None,
            restricted: None,
        });
        breach
    }

    /// The recorded event's host key and source, changed.
    fn keyed(mut self, host_key: Option<&str>, source: BreachSource) -> Self {
        let record = &mut self.events[0];
        let mut envelope = trustsafe_events::from_kafka(record).unwrap();
        envelope.data["host_key"] = host_key.map_or(serde_json::Value::Null, Into::into);
        envelope.data["source"] = serde_json::to_value(source).unwrap();
        *record = to_kafka(&envelope);
        self
    }

    fn push<E: Event>(&mut self, event: &E) {
        self.events.push(to_kafka(&Envelope {
            event_id: Uuid::now_v7(),
            event_type: E::TYPE.into(),
            source: "/trustsafe/filtering".into(),
            stream_id: format!("breach-{}", self.id),
            stream_version: self.events.len() as i64 + 1,
            trust_id: "viking".into(),
            school_id: Some(self.school.into()),
            occurred_at: Utc::now(),
            recorded_at: Utc::now(),
            actor: Actor::person("someone", "dsl"),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            trace: TraceContext::default(),
            data: serde_json::to_value(event).unwrap(),
        }));
    }

    fn triaged(mut self, parents_by: Option<DateTime<Utc>>) -> Self {
        let id = self.id;
        self.push(&BreachTriaged {
            breach_id: id,
            verdict: Verdict::Genuine,
            on_time: true,
            parents_by,
            restricted: None,
        });
        self
    }

    fn parents_told(mut self) -> Self {
        let id = self.id;
        self.push(&BreachParentsInformed {
            breach_id: id,
            on_time: true,
            restricted: None,
        });
        self
    }

    fn resolved(mut self) -> Self {
        let id = self.id;
        self.push(&BreachResolved {
            breach_id: id,
            parents_informed: true,
            restricted: None,
        });
        self
    }
}

#[tokio::test]
async fn the_trust_lead_sees_each_schools_breaches_and_what_is_overdue() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let hours = chrono::Duration::hours;
    let breaches = [
        // Told and resolved.
        Breach::recorded("raps", "gambling", 2, now - hours(50), now - hours(26), true)
            .triaged(Some(now + hours(2)))
            .parents_told()
            .resolved(),
        // Genuine, a pupil's, parents not told and past the deadline.
        Breach::recorded("raps", "self_harm", 4, now - hours(60), now - hours(56), true)
            .triaged(Some(now - hours(1))),
        // Never triaged, past the deadline.
        Breach::recorded(
            "chilton",
            "pornography",
            4,
            now - hours(10),
            now - hours(6),
            false,
        ),
        // Open, in time.
        Breach::recorded("chilton", "gaming", 1, now - hours(1), now + hours(23), false),
    ];
    let records: Vec<KafkaRecord> = breaches.iter().flat_map(|breach| breach.events.clone()).collect();
    trustsafe_testkit::produce(app.broker.log(), topics::FILTERING, &records).await;
    app.consumed("reporting.breaches", records.len() as i64).await;

    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    let figures = app.json("/api/v1/trusts/viking/filtering", &lead).await;
    let total = &figures["total"];
    assert_eq!(total["by_category"]["gambling"], 1);
    assert_eq!(total["by_severity"]["4"], 2);
    assert_eq!(
        (
            total["open"].clone(),
            total["overdue_triage"].clone(),
            total["overdue_parents"].clone()
        ),
        (3.into(), 1.into(), 1.into())
    );
    assert_eq!(total["parents"]["owed"], 2);
    assert_eq!(
        (
            total["parents"]["told_on_time"].clone(),
            total["parents"]["not_yet_told"].clone()
        ),
        (1.into(), 1.into())
    );
    assert_eq!(figures["schools"]["chilton"]["overdue_triage"], 1);
    assert_eq!(figures["schools"]["raps"]["overdue_parents"], 1);
    assert_eq!(
        figures["schools"]["ramsgate-free"]["open"], 0,
        "every school of the trust is listed"
    );
    let text = figures.to_string();
    assert!(!text.contains("someone"), "no one is named: {text}");

    for token in [
        app.trust_token("viking-governor", "viking", TrustRole::TrustGovernor),
        app.trust_token("claremont-lead", "claremont", TrustRole::TrustSafeguardingLead),
        app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]),
    ] {
        problem(
            app.get("/api/v1/trusts/viking/filtering", &token).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    for query in ["from=2026-13", "from=2026-11&to=2026-01", "term=2026-autumn"] {
        problem(
            app.get(&format!("/api/v1/trusts/viking/filtering?{query}"), &lead)
                .await,
            StatusCode::BAD_REQUEST,
            "validation",
        )
        .await;
    }
    app.stop().await;
}

/// One event of a school's filtering duties, as the filtering service publishes it.
fn duty<E: Event>(school: &str, stream: &str, version: i64, event: &E) -> KafkaRecord {
    to_kafka(&Envelope {
        event_id: Uuid::now_v7(),
        event_type: E::TYPE.into(),
        source: "/trustsafe/filtering".into(),
        stream_id: stream.into(),
        stream_version: version,
        trust_id: "viking".into(),
        school_id: Some(school.into()),
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        actor: Actor::person("someone", "dsl"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        trace: TraceContext::default(),
        data: serde_json::to_value(event).unwrap(),
    })
}

#[tokio::test]
async fn the_trust_lead_sees_where_each_school_stands_with_its_filtering_duties() {
    use trustsafe_events::filtering::duties::{
        ChangeAction, CheckResult, DutyRole, DutyRolesNamed, FilterChangeDecided, FilterChangeProposed,
        FilterCheckLogged, FilteringReviewRecorded,
    };
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let days = chrono::Duration::days;
    let today = now.date_naive();
    let (kept, refused) = (Uuid::now_v7(), Uuid::now_v7());
    let change = |id: Uuid| FilterChangeProposed {
        change_id: id,
        action: ChangeAction::Unblock,
        host: Some("museum.example".into()),
        category: None,
        from_breach: None,
        restricted: None,
    };
    let check = |at: DateTime<Utc>| FilterCheckLogged {
        check_id: Uuid::now_v7(),
        checked_at: at,
        next_check_by: at + days(120),
        result: CheckResult::Passed,
        restricted: None,
    };
    let records = [
        duty(
            "raps",
            "duty-roles-raps",
            1,
            &DutyRolesNamed {
                named: vec![DutyRole::SeniorLeader, DutyRole::Dsl, DutyRole::ItProvider],
                restricted: None,
            },
        ),
        // The later check stands, whichever arrives first.
        duty("raps", "filter-checks-raps", 1, &check(now - days(5))),
        duty("raps", "filter-checks-raps", 2, &check(now - days(200))),
        duty(
            "raps",
            "filter-reviews-raps",
            1,
            &FilteringReviewRecorded {
                review_id: Uuid::now_v7(),
                reviewed_on: today - days(30),
                next_review_by: today + days(335),
                checks_considered: vec![],
                changes_considered: vec![],
                restricted: None,
            },
        ),
        duty("raps", &format!("filter-change-{kept}"), 1, &change(kept)),
        duty(
            "chilton",
            &format!("filter-change-{refused}"),
            1,
            &change(refused),
        ),
        duty(
            "chilton",
            &format!("filter-change-{refused}"),
            2,
            &FilterChangeDecided {
                change_id: refused,
                approved: false,
                restricted: None,
            },
        ),
        duty("chilton", "filter-checks-chilton", 1, &check(now - days(130))),
    ];
    trustsafe_testkit::produce(app.broker.log(), topics::FILTERING, &records).await;
    app.consumed("reporting.breaches", records.len() as i64).await;

    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    let figures = app.json("/api/v1/trusts/viking/filtering", &lead).await;
    let raps = &figures["duties"]["raps"];
    assert_eq!(raps["roles_missing"], serde_json::json!(["governor"]));
    assert_eq!(
        (raps["check_due"].clone(), raps["review"].clone()),
        (false.into(), "current".into())
    );
    assert_eq!(raps["changes_awaiting"], 1);
    let chilton = &figures["duties"]["chilton"];
    assert_eq!(
        (chilton["check_due"].clone(), chilton["review"].clone()),
        (true.into(), "not_recorded".into())
    );
    assert_eq!(chilton["changes_awaiting"], 0, "a rejected change awaits nothing");
    let free = &figures["duties"]["ramsgate-free"];
    assert_eq!(
        (
            free["check_due"].clone(),
            free["roles_missing"].as_array().unwrap().len()
        ),
        (true.into(), 4)
    );
    app.stop().await;
}

#[tokio::test]
async fn the_same_host_or_alert_at_two_schools_within_a_week_is_shown_without_naming_it() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let days = chrono::Duration::days;
    let due = now + days(1);
    let breaches = [
        Breach::recorded("raps", "gambling", 2, now - days(3), due, true)
            .keyed(Some("aaaabbbbccccdddd"), BreachSource::Log),
        Breach::recorded("chilton", "gambling", 2, now - days(1), due, false)
            .keyed(Some("aaaabbbbccccdddd"), BreachSource::Log),
        // The same host at a third school, but weeks before: not part of it.
        Breach::recorded("ramsgate-free", "gambling", 2, now - days(40), due, false)
            .keyed(Some("aaaabbbbccccdddd"), BreachSource::Log),
        // Another host at one school only.
        Breach::recorded("raps", "gaming", 1, now - days(2), due, false)
            .keyed(Some("eeeeffff00001111"), BreachSource::Log),
        // A monitoring alert in one category at two schools.
        Breach::recorded("raps", "self_harm", 3, now - days(2), due, true).keyed(None, BreachSource::Alert),
        Breach::recorded("ramsgate-free", "self_harm", 3, now - days(2), due, true)
            .keyed(None, BreachSource::Alert),
    ];
    let records: Vec<KafkaRecord> = breaches.iter().flat_map(|breach| breach.events.clone()).collect();
    trustsafe_testkit::produce(app.broker.log(), topics::FILTERING, &records).await;
    app.consumed("reporting.breaches", records.len() as i64).await;

    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    let figures = app
        .json("/api/v1/trusts/viking/filtering?from=2000-01", &lead)
        .await;
    let patterns = figures["patterns"].as_array().unwrap();
    assert_eq!(patterns.len(), 2, "{patterns:?}");
    let host = patterns.iter().find(|p| p["kind"] == "host").unwrap();
    assert_eq!(host["reference"], "aaaabbbbcccc");
    assert_eq!(host["schools"], serde_json::json!(["chilton", "raps"]));
    assert_eq!(
        (host["breaches"].clone(), host["category"].clone()),
        (2.into(), "gambling".into())
    );
    let alert = patterns.iter().find(|p| p["kind"] == "alert_category").unwrap();
    assert_eq!(alert["reference"], "self_harm");
    assert_eq!(alert["schools"], serde_json::json!(["ramsgate-free", "raps"]));
    // A period that ends before them shows none.
    let before = app
        .json("/api/v1/trusts/viking/filtering?from=2000-01&to=2001-01", &lead)
        .await;
    assert!(before["patterns"].as_array().unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn the_governors_report_shows_the_terms_filtering_with_small_counts_suppressed() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let minutes = chrono::Duration::minutes;
    let (seen, due) = (now - minutes(5), now + minutes(600));
    let mut breaches: Vec<Breach> = (0..7)
        .map(|_| Breach::recorded("raps", "gambling", 2, seen, due, false))
        .collect();
    // Two pupils' self-harm searches at RAPS, found genuine, their parents not yet told and overdue.
    breaches.extend(
        (0..2).map(|_| {
            Breach::recorded("raps", "self_harm", 4, seen, due, true).triaged(Some(now - minutes(1)))
        }),
    );
    breaches.extend((0..6).map(|_| Breach::recorded("chilton", "pornography", 3, seen, due, false)));
    let mut records: Vec<KafkaRecord> = breaches.iter().flat_map(|breach| breach.events.clone()).collect();
    records.push(duty(
        "raps",
        "duty-roles-raps",
        1,
        &trustsafe_events::filtering::duties::DutyRolesNamed {
            named: vec![trustsafe_events::filtering::duties::DutyRole::Governor],
            restricted: None,
        },
    ));
    trustsafe_testkit::produce(app.broker.log(), topics::FILTERING, &records).await;
    app.consumed("reporting.breaches", records.len() as i64).await;

    let governor = app.trust_token("viking-governor", "viking", TrustRole::TrustGovernor);
    let (term, _, _) = crate::governors::this_term();
    let path = format!("/api/v1/trusts/viking/reports/governors?term={term}");
    let report = app.json(&path, &governor).await;
    let filtering = &report["filtering"];
    let school = |id: &str| {
        filtering["schools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|school| school["school_id"] == id)
            .unwrap()
            .clone()
    };
    let (raps, chilton) = (school("raps"), school("chilton"));
    assert_eq!(raps["name"], "Ramsgate Arts Primary School");
    assert_eq!(raps["figures"]["by_category"]["gambling"], 7);
    assert_eq!(raps["figures"]["by_category"]["self_harm"], "<5");
    // Its severities and months would give its total, and the total less 7 the two.
    assert_eq!(raps["figures"]["by_severity"]["4"], "withheld");
    assert_eq!(
        raps["figures"]["by_month"][now.format("%Y-%m").to_string()],
        "withheld"
    );
    assert_eq!(
        (
            raps["figures"]["overdue_parents"].clone(),
            raps["figures"]["parents"]["owed"].clone()
        ),
        ("<5".into(), "<5".into())
    );
    assert_eq!(chilton["figures"]["by_category"]["pornography"], 6);
    assert_eq!(chilton["figures"]["by_severity"]["3"], 6);
    let total = &filtering["total"]["by_category"];
    assert_eq!(
        (
            total["gambling"].clone(),
            total["self_harm"].clone(),
            total["pornography"].clone()
        ),
        (7.into(), "withheld".into(), 6.into())
    );
    assert_eq!(filtering["total"]["overdue_parents"], "withheld");
    // The duties governors oversee, as the trust lead sees them.
    assert_eq!(
        raps["duties"]["roles_missing"],
        serde_json::json!(["senior_leader", "dsl", "it_provider"])
    );
    assert_eq!(school("ramsgate-free")["duties"]["review"], "not_recorded");
    assert!(!report.to_string().contains("someone"), "no one is named");

    let csv = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(&governor)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for row in [
        "raps,Ramsgate Arts Primary School,filtering.by_category,gambling,7",
        "raps,Ramsgate Arts Primary School,filtering.by_category,self_harm,<5",
        "raps,Ramsgate Arts Primary School,filtering.parents,owed,<5",
        "total,All schools,filtering.by_category,self_harm,withheld",
        "raps,Ramsgate Arts Primary School,filtering_duties.roles_missing,,senior_leader; dsl; it_provider",
    ] {
        assert!(csv.lines().any(|line| line == row), "{row} in\n{csv}");
    }
    app.stop().await;
}
