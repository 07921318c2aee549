//! What every aup test stands on: the test kit's app (a fresh database, a broker of its own, the aup
//! service and the gateway in front), made-up people with valid UPNs, and a snapshot of what is stored.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_aup::domain::upn::with_check_letter;
use trustsafe_auth::SchoolRole;
use trustsafe_testkit as testkit;

pub use testkit::problem;

pub const PEOPLE: &str = "/api/v1/schools/raps/people";

/// The test kit's app running the aup service, with this service's helpers.
pub struct TestApp(testkit::TestApp);

impl std::ops::Deref for TestApp {
    type Target = testkit::TestApp;

    fn deref(&self) -> &testkit::TestApp {
        &self.0
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp(testkit::TestApp::spawn(&trustsafe_aup::SERVICE).await)
    }

    pub async fn stop(self) {
        self.0.stop().await;
    }

    /// RAPS's MIS.
    pub fn mis(&self) -> String {
        self.mis_token("raps-mis", "raps")
    }

    pub fn raps(&self, role: SchoolRole) -> String {
        self.school_token(&format!("raps-{role:?}"), "raps", &[role])
    }

    /// Sends a batch as RAPS's MIS; the status and the answer.
    pub async fn sync(&self, batch: &Value) -> (StatusCode, Value) {
        let response = self.put(PEOPLE, &self.mis(), batch).await;
        let status = response.status();
        (status, response.json().await.expect("a JSON answer"))
    }

    /// Sends a batch that must be taken whole (200); the answer.
    pub async fn synced(&self, batch: &Value) -> Value {
        let (status, answer) = self.sync(batch).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// Everything the roster holds, as one comparable text: the people table and the event store.
    pub async fn stored(&self) -> String {
        let people: Vec<(String, String, i64, bool)> =
            sqlx::query_as("SELECT id::text, record::text, version, removed FROM people ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .unwrap();
        let events: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT stream_id, stream_version, data::text FROM events ORDER BY global_position",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        format!("{people:?}\n{events:?}")
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// A valid UPN for pupil `n` of a Kent school.
pub fn upn(n: usize) -> String {
    with_check_letter(&format!("886200024{:03}", n % 1000)).unwrap()
}

pub fn pupil(n: usize, surname: &str, year: i64) -> Value {
    json!({
        "kind": "pupil", "mis_id": format!("P{n}"), "upn": upn(n), "forename": format!("Pupil{n}"),
        "surname": surname, "date_of_birth": "2015-03-04", "year_group": year,
        "flags": {"send": n.is_multiple_of(7), "in_care": false, "eal": null},
        "accounts": [format!("raps\\pupil{n}")]
    })
}

pub fn staff(n: usize, surname: &str) -> Value {
    json!({
        "kind": "staff", "mis_id": format!("S{n}"), "forename": "Sam", "surname": surname,
        "email": format!("s{n}@raps.sch.uk"), "job_roles": ["Teacher"], "accounts": [format!("raps\\staff{n}")]
    })
}

pub fn parent(n: usize, children: &[usize]) -> Value {
    json!({
        "kind": "parent", "mis_id": format!("C{n}"), "forename": "Pat", "surname": format!("Parent{n}"),
        "phones": ["01843 000000"], "emails": [format!("parent{n}@example.org")],
        "children": children.iter().map(|child| json!({
            "mis_id": format!("P{child}"), "parental_responsibility": true, "relationship": "mother"
        })).collect::<Vec<_>>()
    })
}

/// The person a sync answered for `mis_id`.
pub fn person_id(answer: &Value, mis_id: &str) -> String {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["mis_id"] == mis_id)
        .and_then(|result| result["person_id"].as_str())
        .unwrap_or_else(|| panic!("no person for {mis_id} in {answer}"))
        .to_owned()
}

/// The outcome of each record of an answer, in order.
pub fn outcomes(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["outcome"].as_str().unwrap().to_owned())
        .collect()
}
