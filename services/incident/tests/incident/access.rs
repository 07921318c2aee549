//! Who sees a concern: another school's, another reporter's, the trust's and the whistleblower's.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_events::incident::SubjectStaffRole;
use trustsafe_incident::domain::access::{Route, Viewer, Visibility};

use crate::support::*;

/// Whether `token` can read the concern (200), and finds it in the school's list.
async fn sees(app: &TestApp, concern: &Value, token: &str) -> bool {
    let school = concern["school_id"].as_str().unwrap();
    let path = format!(
        "/api/v1/schools/{school}/incidents/{}",
        concern["id"].as_str().unwrap()
    );
    let read = app.get(&path, token).await;
    let status = read.status();
    let history = app.get(&format!("{path}/history"), token).await.status();
    let listed = app
        .get(&format!("/api/v1/schools/{school}/incidents"), token)
        .await;
    let in_list = if listed.status() == StatusCode::OK {
        let page: Value = listed.json().await.unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["id"] == concern["id"])
    } else {
        false
    };
    assert_eq!(status == StatusCode::OK, in_list, "the list agrees with the read");
    assert_eq!(status, history, "the history agrees with the read");
    if status != StatusCode::OK {
        problem(read, StatusCode::NOT_FOUND, "not-found").await;
    }
    status == StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_reporter_another_school_and_the_trust_see_nothing_until_it_is_escalated() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let other_teacher = app.school_token("raps-ta", "raps", &[SchoolRole::Staff]);
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let deputy = app.school_token("raps-deputy", "raps", &[SchoolRole::DeputyDsl]);
    let chilton_dsl = app.school_token("chilton-dsl", "chilton", &[SchoolRole::Dsl]);
    let governor = app.school_token("raps-governor", "raps", &[SchoolRole::Governor]);
    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);
    let claremont_lead = app.trust_token("claremont-lead", "claremont", TrustRole::TrustSafeguardingLead);

    let concern = app.report("raps", &teacher, &iioc_report()).await;
    assert!(sees(&app, &concern, &teacher).await);
    assert!(sees(&app, &concern, &dsl).await);
    assert!(sees(&app, &concern, &deputy).await);
    assert!(
        !sees(&app, &concern, &other_teacher).await,
        "another member of staff"
    );
    assert!(!sees(&app, &concern, &governor).await);
    assert!(
        !sees(&app, &concern, &lead).await,
        "the trust sees no case detail"
    );

    // Another school's DSL, or another trust's lead: the gateway does not even reveal the school.
    let path = format!(
        "/api/v1/schools/raps/incidents/{}",
        concern["id"].as_str().unwrap()
    );
    for token in [&chilton_dsl, &claremont_lead] {
        problem(app.get(&path, token).await, StatusCode::NOT_FOUND, "not-found").await;
        problem(
            app.post(&format!("{path}/acknowledge"), token, &json!({})).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    // Asked through the Chilton path, the RAPS concern does not exist.
    let via_chilton = format!(
        "/api/v1/schools/chilton/incidents/{}",
        concern["id"].as_str().unwrap()
    );
    problem(
        app.get(&via_chilton, &chilton_dsl).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;

    // The reporter may see it but not act; another member of staff may not even see it.
    problem(
        app.post(&format!("{path}/acknowledge"), &teacher, &json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(
        app.post(&format!("{path}/acknowledge"), &other_teacher, &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;

    // Escalated to the trust: the lead sees this one case, with its notes, and may add one.
    let concern = app.act(&concern, "acknowledge", &dsl, &json!({})).await;
    let concern = app
        .act(
            &concern,
            "notes",
            &dsl,
            &json!({"text": "Police asked us not to speak to the family yet"}),
        )
        .await;
    let escalated = app
        .act(
            &concern,
            "escalate",
            &dsl,
            &json!({"reason": "The same account targeted pupils at Chilton"}),
        )
        .await;
    assert_eq!(escalated["escalated"], true);
    assert!(sees(&app, &escalated, &lead).await);
    let read: Value = app.get(&path, &lead).await.json().await.unwrap();
    assert_eq!(read["access"], "trust_reader");
    assert_eq!(
        read["notes"][0]["text"],
        "Police asked us not to speak to the family yet"
    );
    app.act(
        &read,
        "notes",
        &lead,
        &json!({"text": "Trust informed the LADO for Chilton"}),
    )
    .await;
    problem(
        app.post(
            &format!("{path}/close"),
            &lead,
            &json!({"outcome": "x", "lessons_learned": "y"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // The reporter never sees notes, steps or referrals.
    let theirs: Value = app.get(&path, &teacher).await.json().await.unwrap();
    for hidden in ["notes", "steps", "referrals", "escalation", "closure"] {
        assert!(
            theirs.get(hidden).is_none(),
            "{hidden} shown to the reporter: {theirs}"
        );
    }
    // Another trust's lead still sees nothing, escalated or not.
    assert!(!sees(&app, &escalated, &other_teacher).await);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concern_about_the_head_is_for_the_trust_lead_alone() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    // At RAPS the DSL is the head of school.
    let dsl_head = app.school_token("raps-head", "raps", &[SchoolRole::Dsl, SchoolRole::Headteacher]);
    let deputy = app.school_token("raps-deputy", "raps", &[SchoolRole::DeputyDsl]);
    let lead = app.trust_token("viking-lead", "viking", TrustRole::TrustSafeguardingLead);

    let report = json!({
        "category": "staff_online_conduct",
        "summary": "Head of school messaging a pupil on Instagram",
        "description": "A parent showed me direct messages from the head's personal account.",
        "occurred_at": chrono::Utc::now() - chrono::Duration::days(1),
        "subject_staff_role": "headteacher",
        "people": [{"person_ref": "STAFF-HEAD", "kind": "staff", "role": "alleged"},
                   {"person_ref": "UPN-C789", "kind": "pupil", "role": "victim"}]
    });
    let concern = app.report("raps", &teacher, &report).await;
    assert!(
        !sees(&app, &concern, &dsl_head).await,
        "nobody sees a concern about themselves"
    );
    assert!(!sees(&app, &concern, &deputy).await);
    assert!(sees(&app, &concern, &teacher).await);
    assert!(sees(&app, &concern, &lead).await);

    let read: Value = app
        .get(
            &format!(
                "/api/v1/schools/raps/incidents/{}",
                concern["id"].as_str().unwrap()
            ),
            &lead,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["access"], "handler");
    let steps: Vec<&str> = read["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        steps.starts_with(&["head_informed", "lado_referral"]),
        "{steps:?}"
    );
    let acknowledged = app.act(&read, "acknowledge", &lead, &json!({})).await;
    let with_lado = app
        .act(
            &acknowledged,
            "referrals",
            &lead,
            &json!({"agency": "lado", "reference": "LADO-KENT-2026-311"}),
        )
        .await;
    let lado = with_lado["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "lado_referral")
        .unwrap();
    assert!(
        lado["completed"].is_object(),
        "the LADO referral completes its step"
    );

    // A concern about a member of staff goes to the head and the DSL.
    let mut about_staff = report.clone();
    about_staff["subject_staff_role"] = json!("staff");
    about_staff["people"] = json!([{"person_ref": "STAFF-TA9", "kind": "staff", "role": "alleged"}]);
    let concern = app.report("raps", &teacher, &about_staff).await;
    assert!(sees(&app, &concern, &dsl_head).await);
    assert!(!sees(&app, &concern, &lead).await, "not escalated");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reporter_sees_in_the_history_only_what_their_view_shows() {
    let app = TestApp::spawn().await;
    let teacher = app.school_token("raps-teacher", "raps", &[SchoolRole::Staff]);
    let dsl = app.school_token("raps-dsl", "raps", &[SchoolRole::Dsl]);
    let concern = app.report("raps", &teacher, &iioc_report()).await;
    let concern = app.act(&concern, "acknowledge", &dsl, &json!({})).await;
    let concern = app
        .act(
            &concern,
            "referrals",
            &dsl,
            &json!({"agency": "iwf", "reference": "IWF-SECRET-1"}),
        )
        .await;
    let concern = app
        .act(
            &concern,
            "close",
            &dsl,
            &json!({"outcome": "OUTCOME-SECRET", "lessons_learned": "LESSON-SECRET", "override_reason": "police asked"}),
        )
        .await;
    app.act(&concern, "reopen", &dsl, &json!({"reason": "REOPEN-SECRET"}))
        .await;
    let path = format!(
        "/api/v1/schools/raps/incidents/{}/history",
        concern["id"].as_str().unwrap()
    );

    let history: Value = app.get(&path, &teacher).await.json().await.unwrap();
    let events: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["reported", "acknowledged", "closed", "reopened"]);
    let text = history.to_string();
    for hidden in [
        "secure_devices",
        "\"steps\"",
        "IWF-SECRET-1",
        "OUTCOME-SECRET",
        "LESSON-SECRET",
        "REOPEN-SECRET",
        "overridden_steps",
        "workflow_version",
    ] {
        assert!(
            !text.contains(hidden),
            "the reporter's history shows {hidden}: {text}"
        );
    }
    assert!(
        text.contains("Pupil found an indecent image"),
        "their own report is theirs to see"
    );

    // The DSL's history has it all.
    let full = app
        .get(&path, &dsl)
        .await
        .json::<Value>()
        .await
        .unwrap()
        .to_string();
    for shown in [
        "secure_devices",
        "IWF-SECRET-1",
        "OUTCOME-SECRET",
        "overridden_steps",
    ] {
        assert!(full.contains(shown), "{shown}");
    }
    app.stop().await;
}

/// One person at RAPS or its trust, as the test tokens and the domain's rule both see them.
struct Person {
    subject: &'static str,
    school_roles: &'static [SchoolRole],
    trust_role: Option<TrustRole>,
}

impl Person {
    fn token(&self, app: &TestApp) -> String {
        match self.trust_role {
            Some(role) => app.trust_token(self.subject, "viking", role),
            None => app.school_token(self.subject, "raps", self.school_roles),
        }
    }

    fn viewer(&self) -> Viewer {
        Viewer {
            subject: self.subject.into(),
            school_roles: self.school_roles.iter().copied().collect(),
            trust_roles: self.trust_role.into_iter().collect(),
        }
    }
}

const PEOPLE: [Person; 10] = [
    Person {
        subject: "t-reporter",
        school_roles: &[SchoolRole::Staff],
        trust_role: None,
    },
    Person {
        subject: "t-other",
        school_roles: &[SchoolRole::Staff],
        trust_role: None,
    },
    Person {
        subject: "t-alleged",
        school_roles: &[SchoolRole::Staff],
        trust_role: None,
    },
    Person {
        subject: "dsl",
        school_roles: &[SchoolRole::Dsl],
        trust_role: None,
    },
    Person {
        subject: "deputy",
        school_roles: &[SchoolRole::DeputyDsl],
        trust_role: None,
    },
    Person {
        subject: "head",
        school_roles: &[SchoolRole::Headteacher],
        trust_role: None,
    },
    Person {
        subject: "dsl-head",
        school_roles: &[SchoolRole::Dsl, SchoolRole::Headteacher],
        trust_role: None,
    },
    Person {
        subject: "governor",
        school_roles: &[SchoolRole::Governor],
        trust_role: None,
    },
    Person {
        subject: "lead",
        school_roles: &[],
        trust_role: Some(TrustRole::TrustSafeguardingLead),
    },
    Person {
        subject: "trust-governor",
        school_roles: &[],
        trust_role: Some(TrustRole::TrustGovernor),
    },
];

/// One concern of the table, and what decides who sees it.
struct Row {
    id: String,
    route: Route,
    reported_by: &'static str,
    escalated: bool,
    alleged: Vec<String>,
}

impl Row {
    fn seen_by(&self, viewer: &Viewer) -> bool {
        let rule = Visibility {
            route: self.route,
            reported_by: self.reported_by,
            escalated: self.escalated,
            alleged: &self.alleged,
        };
        rule.access(viewer).is_some()
    }
}

/// The list's SQL against the domain's one rule: every routing (about a pupil, a member of staff, the
/// head, the DSL) × reported by a teacher or the DSL × escalated or not, listed by every role there
/// is. Each person's list holds exactly the concerns `Visibility::access` lets them see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_lists_exactly_what_the_visibility_rule_admits() {
    let app = TestApp::spawn().await;
    let token = |subject: &str| PEOPLE.iter().find(|p| p.subject == subject).unwrap().token(&app);
    let subjects = [
        (None, None),
        (Some(SubjectStaffRole::Staff), Some("t-alleged")),
        (Some(SubjectStaffRole::Headteacher), Some("dsl-head")),
        (Some(SubjectStaffRole::Dsl), Some("dsl-head")),
    ];
    let mut rows = Vec::new();
    for (role, alleged) in subjects {
        for reported_by in ["t-reporter", "dsl"] {
            for escalate in [false, true] {
                let route = Route::of(role);
                if escalate && route == Route::TrustLead {
                    continue; // already the trust lead's
                }
                let mut body = cyberbullying_report("A concern of the table");
                if let (Some(role), Some(alleged)) = (role, alleged) {
                    body["subject_staff_role"] = serde_json::to_value(role).unwrap();
                    body["people"] = json!([{"person_ref": alleged, "kind": "staff", "role": "alleged"}]);
                }
                let mut concern = app.report("raps", &token(reported_by), &body).await;
                if escalate {
                    let handler = token(if route == Route::Dsl { "dsl" } else { "head" });
                    let acknowledged = app.act(&concern, "acknowledge", &handler, &json!({})).await;
                    let reason = json!({"reason": "Seen at another school"});
                    concern = app.act(&acknowledged, "escalate", &handler, &reason).await;
                }
                rows.push(Row {
                    id: concern["id"].as_str().unwrap().to_owned(),
                    route,
                    reported_by,
                    escalated: escalate,
                    alleged: alleged.into_iter().map(String::from).collect(),
                });
            }
        }
    }
    // One at another school, which no list at RAPS holds.
    let chilton = app.school_token("chilton-teacher", "chilton", &[SchoolRole::Staff]);
    app.report("chilton", &chilton, &cyberbullying_report("Not RAPS's"))
        .await;

    for person in &PEOPLE {
        let viewer = person.viewer();
        let expected: BTreeSet<&str> = rows
            .iter()
            .filter(|row| row.seen_by(&viewer))
            .map(|row| row.id.as_str())
            .collect();
        let listed = app
            .get("/api/v1/schools/raps/incidents?limit=200", &person.token(&app))
            .await;
        let listed: BTreeSet<String> = if listed.status() == StatusCode::OK {
            let page: Value = listed.json().await.unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned())
                .collect()
        } else {
            BTreeSet::new()
        };
        let listed: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
        assert_eq!(listed, expected, "{} lists what the rule admits", person.subject);
    }
    // The table is no table if everyone sees all or nothing.
    let seen = |subject: &str| {
        let viewer = PEOPLE.iter().find(|p| p.subject == subject).unwrap().viewer();
        rows.iter().filter(|row| row.seen_by(&viewer)).count()
    };
    let counts: Vec<usize> = [
        "t-reporter",
        "t-alleged",
        "dsl",
        "head",
        "dsl-head",
        "lead",
        "governor",
    ]
    .into_iter()
    .map(seen)
    .collect();
    assert_eq!(rows.len(), 12);
    assert_eq!(counts, [6, 0, 10, 4, 8, 8, 0], "{counts:?}");
    app.stop().await;
}
