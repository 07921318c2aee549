//! What every incident test stands on: the test kit's app (a fresh database, a broker of its own, the
//! incident service and the gateway in front), and the helpers of this service's domain.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use trustsafe_events::KafkaRecord;
use trustsafe_testkit as testkit;

/// The test kit's app running the incident service, with this service's helpers.
pub struct TestApp(testkit::TestApp);

impl std::ops::Deref for TestApp {
    type Target = testkit::TestApp;

    fn deref(&self) -> &testkit::TestApp {
        &self.0
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp(testkit::TestApp::spawn(&trustsafe_incident::SERVICE).await)
    }

    pub async fn stop(self) {
        self.0.stop().await;
    }

    /// Reports a concern at `school`, which must be accepted; its view.
    pub async fn report(&self, school: &str, token: &str, body: &Value) -> Value {
        let response = self
            .post(&format!("/api/v1/schools/{school}/incidents"), token, body)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        response.json().await.unwrap()
    }

    /// A change to a concern, which must be accepted; its view.
    pub async fn act(&self, concern: &Value, action: &str, token: &str, body: &Value) -> Value {
        let path = format!(
            "/api/v1/schools/{}/incidents/{}/{action}",
            concern["school_id"].as_str().unwrap(),
            concern["id"].as_str().unwrap()
        );
        let response = self.post(&path, token, body).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{action}: {}",
            response.text().await.unwrap()
        );
        response.json().await.unwrap()
    }

    /// Everything the service has stored but its access audit, as one comparable text.
    pub async fn stored(&self) -> String {
        sqlx::query_scalar(
            "SELECT concat_ws(' | ',
                (SELECT string_agg(event_id::text || stream_version, ',' ORDER BY global_position)
                   FROM events WHERE stream_id NOT LIKE 'audit-%'),
                (SELECT string_agg(row_to_json(c)::text, ',' ORDER BY incident_id) FROM concerns c),
                (SELECT string_agg(row_to_json(w)::text, ',' ORDER BY school_id) FROM school_workflows w),
                (SELECT string_agg(key, ',' ORDER BY key) FROM idempotency_keys))",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// Waits until the relay has published everything appended so far.
    pub async fn published(&self) {
        for _ in 0..500 {
            let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if pending == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the outbox did not drain within ten seconds");
    }

    /// Reads `topic` from the start until `count` distinct events for which `wanted` holds have
    /// arrived (see [`testkit::read_topic`]).
    pub async fn read(
        &self,
        topic: &str,
        count: usize,
        wanted: impl Fn(&KafkaRecord) -> bool,
    ) -> Vec<KafkaRecord> {
        testkit::read_topic(self.broker.log(), topic, count, Duration::from_secs(20), wanted).await
    }

    /// Produces records, as another service would.
    pub async fn produce(&self, topic: &str, records: &[KafkaRecord]) {
        testkit::produce(self.broker.log(), topic, records).await;
    }
}

pub use testkit::{distinct_ids, header, problem};

/// The indecent-images report a member of staff at RAPS makes.
pub fn iioc_report() -> Value {
    json!({
        "category": "indecent_images_of_children",
        "summary": "Pupil found an indecent image on class laptop 14",
        "description": "During Year 5 computing, Sam (UPN A123) opened a folder on laptop 14 and called me over. I closed the lid and did not look further.",
        "occurred_at": chrono::Utc::now() - chrono::Duration::minutes(20),
        "location": "Year 5 classroom",
        "people": [{"person_ref": "UPN-A123", "kind": "pupil", "role": "witness"}],
        "device_involved": true,
        "immediate_risk": false
    })
}

pub fn cyberbullying_report(summary: &str) -> Value {
    json!({
        "category": "cyberbullying",
        "summary": summary,
        "description": "Messages in the class group chat calling a pupil names.",
        "occurred_at": chrono::Utc::now() - chrono::Duration::hours(3),
        "people": [{"person_ref": "UPN-B456", "kind": "pupil", "role": "victim"}]
    })
}
