//! Every event type on the shared log reads with tools nobody here wrote: librdkafka (PyPI's
//! `confluent-kafka`) for the records and the CloudEvents SDK's Kafka binding (PyPI's `cloudevents`)
//! for the events, on whichever broker the suite runs against.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};
use trustsafe_events::{catalog, topics};

use crate::dev::{DemoTokens, dev_log, interrupt, started_platform};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_type_reads_with_the_cloudevents_sdk() {
    let (data_dir, ports, dev) = started_platform().await;
    let log = dev_log(&data_dir, &ports);
    let api = Api::new(&data_dir, ports.http);

    // One concern's whole life at RAPS, so each incident event type is published once at least.
    let concern = api
        .send(
            "POST",
            "/api/v1/schools/raps/incidents",
            "raps staff",
            json!({
                "category": "indecent_images_of_children",
                "summary": "Image found on a shared laptop",
                "description": "Found while helping a pupil log in.",
                "occurred_at": Utc::now()
            }),
        )
        .await;
    let path = format!(
        "/api/v1/schools/raps/incidents/{}",
        concern["id"].as_str().unwrap()
    );
    api.send("GET", &path, "raps dsl", Value::Null).await;
    let act = |action: &str, body: Value| {
        let path = format!("{path}/{action}");
        let api = &api;
        async move { api.send("POST", &path, "raps dsl", body).await }
    };
    act("acknowledge", json!({})).await;
    act("notes", json!({"text": "Laptop locked away"})).await;
    act("steps/secure_devices/complete", json!({})).await;
    act("referrals", json!({"agency": "iwf", "reference": "IWF-E2E-1"})).await;
    act(
        "escalate",
        json!({"reason": "The trust lead is told of every IIOC concern"}),
    )
    .await;
    for step in ["police_report", "delete_copies", "parents_informed", "debrief"] {
        act(&format!("steps/{step}/complete"), json!({})).await;
    }
    act(
        "close",
        json!({"outcome": "Handed to the police", "lessons_learned": "None"}),
    )
    .await;
    act("reopen", json!({"reason": "More images came to light"})).await;

    // The school relabels a category: its workflow stream's event.
    let mut workflow = api
        .send("GET", "/api/v1/schools/raps/workflow", "raps dsl", Value::Null)
        .await;
    workflow["categories"]["cyberbullying"]["label"] = json!("Online bullying");
    api.send_if_match(
        "PUT",
        "/api/v1/schools/raps/workflow",
        "raps dsl",
        "\"0\"",
        workflow,
    )
    .await;

    filtering_life(&api).await;
    aup_life(&api).await;
    breach_life(&api).await;
    filtering_duties(&api).await;
    // The incident service opens a concern for it: two concerns at RAPS, all published.
    let deadline = Instant::now() + Duration::from_secs(30);
    while api
        .send("GET", "/api/v1/schools/raps/incidents", "raps dsl", Value::Null)
        .await["items"]
        .as_array()
        .unwrap()
        .len()
        < 2
    {
        assert!(Instant::now() < deadline, "the breach opened no concern");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let wanted: BTreeSet<&str> = catalog()
        .iter()
        .filter(|kind| kind.superseded_by.is_none())
        .map(|kind| kind.event_type)
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let read = read_with_the_sdk(&log.brokers, &topics::ALL.map(|topic| log.topic(topic)));
        assert_eq!(read["unreadable"], json!([]), "records the SDK could not read");
        let seen: BTreeSet<&str> = read["types"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let missing: Vec<&&str> = wanted.difference(&seen).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not on the topics: {missing:?} (read: {read})"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    interrupt(dev);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Runs `tests/tools/read_cloudevents.py` with the tools' Python (`TRUSTSAFE_PYTHON`, which
/// scripts/setup.sh prepares; else `python3`).
fn read_with_the_sdk(brokers: &str, topics: &[String]) -> Value {
    let python = std::env::var("TRUSTSAFE_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = crate::openapi::manifest_dir().join("../tests/tools/read_cloudevents.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(brokers)
        .args(topics)
        .output()
        .unwrap_or_else(|err| panic!("running {python}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "{python} lacks the tools: run scripts/setup.sh, or set TRUSTSAFE_PYTHON ({stderr})"
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("{python} {}: {stdout}{stderr}", script.display()))
}

/// A pupil's and a visitor's acceptable use at RAPS, so each aup event type is published once at
/// least: the MIS syncs the roster, the trust publishes a policy, the pupil agrees, is granted access
/// (then loses it), borrows and returns a device, a visitor gets a Wi-Fi code, and the pupil leaves.
/// RAPS's FortiGate sends a self-harm block by a pupil the roster does not know yet (it
/// escalates to a concern at once), then more of it within the hour; the pupil joins the roster in
/// [`aup_life`], and the breach is attributed to them. The DSL sets a category rule and a suppression; a monitor
/// pushes an alert.
async fn filtering_life(api: &Api) {
    let noise = json!({"rules": [{"host": "ads.example", "reason": "Advert frames"}]});
    api.send(
        "PUT",
        "/api/v1/schools/raps/filtering/suppressions",
        "raps dsl",
        noise,
    )
    .await;
    let line = |ago: i64| {
        let at = Utc::now() - chrono::Duration::seconds(ago);
        format!(
            "date={} time={} tz=\"+0000\" type=\"utm\" subtype=\"webfilter\" user=\"cee.ee\" srcip=10.20.4.17 \
             hostname=\"forum.example\" url=\"/\" action=\"blocked\" catdesc=\"Self Harm\"\n",
            at.format("%Y-%m-%d"),
            at.format("%H:%M:%S")
        )
    };
    let first = api
        .upload("fortigate", "raps filter_feed client", line(120))
        .await;
    assert_eq!(first["breaches_escalated"], 1, "{first}");
    let more = api.upload("fortigate", "raps filter_feed client", line(60)).await;
    assert_eq!(more["breaches_continued"], 1, "{more}");
    let rules = json!({"rules": [{"vendor": "esports", "category": "gaming", "severity": 1}]});
    api.send(
        "PUT",
        "/api/v1/schools/raps/filtering/categories/rules",
        "raps dsl",
        rules,
    )
    .await;
    let alert = json!({"time": Utc::now(), "category": "Bullying", "severity": "caution", "user": "cee.ee"});
    api.send(
        "POST",
        "/api/v1/schools/raps/filtering/alerts",
        "raps filter_feed client",
        json!({"alerts": [alert]}),
    )
    .await;
}

/// The self-harm breach, attributed to the pupil once the roster learned them, is triaged, their
/// parents told, and it is resolved.
async fn breach_life(api: &Api) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let breach = loop {
        let page = api
            .send("GET", "/api/v1/schools/raps/breaches", "raps dsl", Value::Null)
            .await;
        let found = page["breaches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|breach| breach["category"] == "self_harm" && breach["person_kind"] == "pupil")
            .cloned();
        if let Some(breach) = found {
            break breach;
        }
        assert!(
            Instant::now() < deadline,
            "the breach was never attributed: {page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let path = format!("/api/v1/schools/raps/breaches/{}", breach["id"].as_str().unwrap());
    api.send(
        "POST",
        &format!("{path}/triage"),
        "raps technician",
        json!({"verdict": "genuine"}),
    )
    .await;
    api.send(
        "POST",
        &format!("{path}/parents-informed"),
        "raps dsl",
        json!({"how": "phone"}),
    )
    .await;
    api.send(
        "POST",
        &format!("{path}/resolve"),
        "raps dsl",
        json!({"outcome": "Talked it through"}),
    )
    .await;
}

/// RAPS runs its DfE filtering duties: a change proposed, assessed from both sides, decided by the
/// trust's lead and applied; its roles named; a check logged; its annual review recorded.
async fn filtering_duties(api: &Api) {
    let changes = "/api/v1/schools/raps/filtering/changes";
    let proposal = json!({"action": "unblock", "host": "museum.example", "reason": "History archive"});
    let change = api.send("POST", changes, "raps technician", proposal).await;
    let change = format!("{changes}/{}", change["id"].as_str().unwrap());
    for (perspective, who) in [("educational", "raps dsl"), ("technical", "raps technician")] {
        let assessment = json!({"perspective": perspective, "risk": "low"});
        api.send("POST", &format!("{change}/assessments"), who, assessment)
            .await;
    }
    let decision = json!({"approved": true});
    api.send(
        "POST",
        &format!("{change}/decision"),
        "viking trust_safeguarding_lead",
        decision,
    )
    .await;
    api.send("POST", &format!("{change}/applied"), "raps technician", json!({}))
        .await;
    let roles = json!({"senior_leader": "Ms Head", "governor": "Mr Governor", "dsl": "Ms Lead", "it_provider": "TalkStraight"});
    api.send("PUT", "/api/v1/schools/raps/filtering/roles", "raps dsl", roles)
        .await;
    let check = json!({"checked_by": "TalkStraight", "what_tested": "testfiltering.com", "result": "passed"});
    api.send(
        "POST",
        "/api/v1/schools/raps/filtering/checks",
        "raps technician",
        check,
    )
    .await;
    let review = json!({
        "reviewed_on": Utc::now().date_naive(),
        "participants": {"senior_leader": "Ms Head", "dsl": "Ms Lead", "it_provider": "TalkStraight"},
        "risk_profile": {"ages": "4-11", "send": "Few", "eal": "Some"},
        "byod": "None", "ai": "Blocked for pupils", "provision": "Lightspeed"
    });
    api.send(
        "POST",
        "/api/v1/schools/raps/filtering/reviews",
        "raps dsl",
        review,
    )
    .await;
}

async fn aup_life(api: &Api) {
    let pupil = json!({"kind": "pupil", "mis_id": "CE-1", "forename": "Cee", "surname": "Ee", "year_group": 4,
                       "accounts": ["cee.ee"]});
    let synced = api
        .send(
            "PUT",
            "/api/v1/schools/raps/people",
            "raps mis client",
            json!({"people": [pupil]}),
        )
        .await;
    let person = synced["results"][0]["person_id"].as_str().unwrap().to_owned();
    for audience in ["ks2", "visitors_volunteers"] {
        let policy =
            json!({"title": audience, "text": "Be kind online.", "effective_from": Utc::now().date_naive()});
        api.send(
            "PUT",
            &format!("/api/v1/trusts/viking/aup/{audience}"),
            "viking trust_safeguarding_lead",
            policy,
        )
        .await;
    }
    let answer = json!({"person_id": person, "audience": "ks2", "decision": "agreed"});
    api.send("POST", "/api/v1/schools/raps/agreements", "raps staff", answer)
        .await;
    let grant = json!({"person_id": person, "system": "Learning platform"});
    let granted = api
        .send("POST", "/api/v1/schools/raps/access-grants", "raps dsl", grant)
        .await;
    let revoke = format!(
        "/api/v1/schools/raps/access-grants/{}/revoke",
        granted["grant_id"].as_str().unwrap()
    );
    api.send("POST", &revoke, "raps dsl", json!({})).await;
    let loan = json!({"person_id": person});
    api.send(
        "POST",
        "/api/v1/schools/raps/devices/iPad-1/loans",
        "raps staff",
        loan,
    )
    .await;
    api.send(
        "POST",
        "/api/v1/schools/raps/devices/iPad-1/return",
        "raps staff",
        json!({}),
    )
    .await;
    api.send(
        "POST",
        "/api/v1/schools/raps/visitors",
        "raps staff",
        json!({"name": "Vera Visitor"}),
    )
    .await;
    let leaves = json!({"removals": [{"kind": "pupil", "mis_id": "CE-1"}]});
    api.send("PUT", "/api/v1/schools/raps/people", "raps mis client", leaves)
        .await;
}
struct Api {
    base: String,
    tokens: DemoTokens,
    client: reqwest::Client,
}

impl Api {
    fn new(data_dir: &std::path::Path, port: u16) -> Api {
        Api {
            base: format!("http://127.0.0.1:{port}"),
            tokens: DemoTokens::of(data_dir),
            client: reqwest::Client::new(),
        }
    }

    fn token(&self, who: &str) -> String {
        self.tokens.get(who)
    }

    /// Sends a filter log in `format` as `who`.
    async fn upload(&self, format: &str, who: &str, log: String) -> Value {
        let response = self
            .client
            .post(format!(
                "{}/api/v1/schools/raps/filtering/logs?format={format}",
                self.base
            ))
            .bearer_auth(self.token(who))
            .body(log)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "upload: {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn send(&self, method: &str, path: &str, who: &str, body: Value) -> Value {
        self.request(method, path, who, None, body).await
    }

    async fn send_if_match(&self, method: &str, path: &str, who: &str, etag: &str, body: Value) -> Value {
        self.request(method, path, who, Some(etag), body).await
    }

    async fn request(&self, method: &str, path: &str, who: &str, etag: Option<&str>, body: Value) -> Value {
        let mut request = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(self.token(who));
        if let Some(etag) = etag {
            request = request.header("if-match", etag);
        }
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}
