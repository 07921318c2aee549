//! A BOLA sweep generated from the merged OpenAPI document: every operation that takes a school, a
//! trust or a record id, called after records exist with the tokens of another school, another trust,
//! a governor, a member of staff and an MIS client, answers 404 (or the 401/403 the document gives
//! it), never the record, and never a validation error that would show the record is there.

use std::process::Command;

use chrono::Utc;
use serde_json::{Value, json};

use crate::dev::{DemoTokens, interrupt, started_platform};

/// What the school records and nobody in the sweep may be shown: a concern's narrative, its DSL's
/// name, a pupil's directory account (on the roster and in a breach) and date of birth (which no
/// caller of the sweep may read).
const SECRETS: [&str; 5] = [
    "BOLA-SECRET-SUMMARY",
    "BOLA-SECRET-DESCRIPTION",
    "BOLA-SECRET-DSL",
    "bola-secret-account",
    "2016-02-29",
];

/// What a caller of the sweep may do at RAPS as its own business (the answer may be a success, or a
/// refusal of what they sent, but never a secret): its staff read the roster's names, the policies,
/// their own reports (of concerns and of breaches) and loans; its governor reads the policies and the
/// filtering duties (the change log, roles, checks, reviews); its MIS syncs the roster and reads
/// standing and compliance; anyone at a school of the trust reads the trust's name.
fn own_business(who: &str, method: &str, template: &str) -> bool {
    let staff = who == "another member of the school's staff";
    let governor = who == "the school's governor";
    let mis = who == "the school's MIS client";
    // The trust's name and the caller's own schools in it: anyone at a school of the trust.
    if (method, template) == ("get", "/api/v1/trusts/{trust_id}") {
        return !who.starts_with("another trust");
    }
    let Some(path) = template.strip_prefix("/api/v1/schools/{school_id}") else {
        return false;
    };
    match (method, path) {
        ("get" | "post", "/incidents") | ("post", "/breaches") => staff,
        ("get", "/aup" | "/aup/{audience}/versions") => staff || governor,
        ("get", "/people" | "/people/{person_id}" | "/loans" | "/devices/{device}/loans") => staff,
        ("post", "/agreements" | "/visitors" | "/devices/{device}/loans" | "/devices/{device}/return") => {
            staff
        }
        ("get", "/people/{person_id}/aup-status") => staff || mis,
        (
            "get",
            "/filtering/changes"
            | "/filtering/changes/{change_id}"
            | "/filtering/roles"
            | "/filtering/checks"
            | "/filtering/reviews"
            | "/filtering/reviews/{review_id}/document"
            | "/filtering/duties",
        ) => governor,
        ("put", "/people") | ("get", "/aup-compliance") => mis,
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_operation_answers_another_schools_or_trusts_record() {
    let (data_dir, ports, dev) = started_platform().await;
    let base = format!("http://127.0.0.1:{}", ports.http);
    let tokens = DemoTokens::of(&data_dir);
    let token = |who: &str| tokens.get(who);
    let client = reqwest::Client::new();

    // RAPS's records: a concern its staff member reported, and a workflow naming its DSL.
    let concern: Value = client
        .post(format!("{base}/api/v1/schools/raps/incidents"))
        .bearer_auth(token("raps staff"))
        .json(&json!({
            "category": "indecent_images_of_children",
            "summary": SECRETS[0],
            "description": SECRETS[1],
            "occurred_at": Utc::now(),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let concern_id = concern["id"].as_str().unwrap().to_owned();
    let mut workflow: Value = client
        .get(format!("{base}/api/v1/schools/raps/workflow"))
        .bearer_auth(token("raps dsl"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    workflow["dsl"] = json!({"name": SECRETS[2]});
    let saved = client
        .put(format!("{base}/api/v1/schools/raps/workflow"))
        .bearer_auth(token("raps dsl"))
        .header("If-Match", "\"0\"")
        .json(&workflow)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    // A RAPS pupil on the roster, from its MIS.
    let synced: Value = client
        .put(format!("{base}/api/v1/schools/raps/people"))
        .bearer_auth(token("raps mis client"))
        .json(&json!({"people": [{
            "kind": "pupil", "mis_id": "BOLA-1", "forename": "Bo", "surname": "La", "year_group": 4,
            "date_of_birth": "2016-02-29", "accounts": ["raps\\bola-secret-account"]
        }]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let person_id = synced["results"][0]["person_id"].as_str().unwrap().to_owned();
    // A breach by that pupil, from RAPS's filter log sent by its technician.
    let blocked = format!(
        "{}.000 12 10.20.4.17 TCP_DENIED/403 3910 GET http://casino.example/ raps\\bola-secret-account HIER_NONE/- text/html\n",
        Utc::now().timestamp()
    );
    let uploaded = client
        .post(format!("{base}/api/v1/schools/raps/filtering/logs?format=squid"))
        .bearer_auth(token("raps technician"))
        .body(blocked)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200);
    let breaches: Value = client
        .get(format!("{base}/api/v1/schools/raps/breaches"))
        .bearer_auth(token("raps dsl"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let breach_id = breaches["breaches"][0]["id"].as_str().unwrap().to_owned();
    // A filtering change and an annual review at RAPS, which its governor oversees.
    let change: Value = client
        .post(format!("{base}/api/v1/schools/raps/filtering/changes"))
        .bearer_auth(token("raps technician"))
        .json(&json!({"action": "unblock", "host": "museum.example", "reason": "History archive"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let change_id = change["id"].as_str().unwrap().to_owned();
    let review: Value = client
        .post(format!("{base}/api/v1/schools/raps/filtering/reviews"))
        .bearer_auth(token("raps dsl"))
        .json(&json!({
            "reviewed_on": Utc::now().date_naive(),
            "participants": {"senior_leader": "Ms Head", "dsl": "Ms Lead", "it_provider": "TalkStraight"},
            "risk_profile": {"ages": "4-11", "send": "Few", "eal": "Some"},
            "byod": "None", "ai": "Blocked for pupils", "provision": "Lightspeed"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let review_id = review["id"].as_str().unwrap().to_owned();

    // Someone else on RAPS's staff (not the reporter), as the dev identity mints them.
    let other_staff = Command::new(env!("CARGO_BIN_EXE_trustsafe"))
        .args([
            "token",
            "--school",
            "raps",
            "--role",
            "staff",
            "--subject",
            "bola-other-staff",
            "--data-dir",
        ])
        .arg(&data_dir)
        .output()
        .unwrap();
    let other_staff = String::from_utf8(other_staff.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let callers = [
        ("another school's DSL", token("chilton dsl")),
        (
            "another trust's safeguarding lead",
            token("claremont trust_safeguarding_lead"),
        ),
        ("another trust's governor", token("claremont trust_governor")),
        ("the school's governor", token("raps governor")),
        ("the school's MIS client", token("raps mis client")),
        ("the school's captive portal", token("raps captive_portal client")),
        ("another member of the school's staff", other_staff),
    ];

    let document: Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut tried = 0;
    let mut operations = 0;
    let mut leaks = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        if ![
            "{school_id}",
            "{trust_id}",
            "{incident_id}",
            "{person_id}",
            "{breach_id}",
            "{change_id}",
            "{review_id}",
        ]
        .iter()
        .any(|p| template.contains(p))
        {
            continue;
        }
        let path = template
            .replace("{school_id}", "raps")
            .replace("{trust_id}", "viking")
            .replace("{incident_id}", &concern_id)
            .replace("{step_id}", "secure_devices")
            .replace("{person_id}", &person_id)
            .replace("{breach_id}", &breach_id)
            .replace("{change_id}", &change_id)
            .replace("{review_id}", &review_id)
            .replace("{grant_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{device}", "iPad-1")
            .replace("{code}", "AAAA-BBBB-CC")
            .replace("{audience}", "ks2");
        assert!(
            !path.contains('{'),
            "a path parameter the sweep does not know: {template}"
        );
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let documented: Vec<u16> = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter_map(|status| status.parse().ok())
                .filter(|status| [401, 403].contains(status))
                .collect();
            for (who, token) in &callers {
                tried += 1;
                let mut request = client
                    .request(method.to_uppercase().parse().unwrap(), format!("{base}{path}"))
                    .bearer_auth(token)
                    .header("If-Match", "\"1\"");
                if method != "get" {
                    request = request.json(&json!({}));
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                let shows_record =
                    SECRETS.iter().any(|secret| body.contains(secret)) || body.contains(&concern_id);
                let refused =
                    status == 404 || documented.contains(&status) || own_business(who, method, template);
                if !refused || shows_record {
                    leaks.push(format!("{method} {template} as {who}: {status} {body}"));
                }
            }
        }
    }
    println!(
        "BOLA sweep: {operations} operations × {} tokens = {tried} requests, {} leaks",
        callers.len(),
        leaks.len()
    );
    assert!(
        operations >= 10,
        "the document's operations were found: {operations}"
    );
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    interrupt(dev);
    let _ = std::fs::remove_dir_all(&data_dir);
}
