//! What every incident test stands on: the test kit's app (a fresh database, a broker of its own, the
//! incident service and the gateway in front), and the helpers of this service's domain.

use std::collections::HashSet;
use std::time::Duration;

use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use trustsafe_events::KafkaRecord;
use trustsafe_eventstore::kafka;
use trustsafe_testkit as testkit;
use uuid::Uuid;

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

    /// Reads `topic` from the start until `count` distinct events (by `ce_id`) for which `wanted`
    /// holds have arrived; those records, duplicates included. (Not up to the high watermarks: tansu
    /// 0.6's in-memory engine can report a stale one.)
    pub async fn read(
        &self,
        topic: &str,
        count: usize,
        wanted: impl Fn(&KafkaRecord) -> bool,
    ) -> Vec<KafkaRecord> {
        let topic = &self.broker.topic(topic);
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.broker.log().brokers)
            .set("group.id", format!("reader-{}", Uuid::now_v7()))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut assignment = TopicPartitionList::new();
        for partition in 0..testkit::PARTITIONS {
            assignment
                .add_partition_offset(topic, partition, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&assignment).unwrap();
        let mut records = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while distinct_ids(&records).len() < count {
            let message = tokio::time::timeout_at(deadline, consumer.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "only {} of {count} events on {topic}",
                        distinct_ids(&records).len()
                    )
                })
                .unwrap();
            let record = kafka::record_of(&message);
            if wanted(&record) {
                records.push(record);
            }
        }
        records
    }

    /// Produces records, as another service would.
    pub async fn produce(&self, topic: &str, records: &[KafkaRecord]) {
        testkit::produce(self.broker.log(), topic, records).await;
    }
}

pub fn header(record: &KafkaRecord, name: &str) -> String {
    String::from_utf8(record.header(name).unwrap_or_default().to_vec()).unwrap()
}

/// The distinct event ids among `records`.
pub fn distinct_ids(records: &[KafkaRecord]) -> HashSet<String> {
    records.iter().map(|record| header(record, "ce_id")).collect()
}

/// Asserts a problem+json answer of `status` and `kind`; its body.
pub async fn problem(response: Response, status: StatusCode, kind: &str) -> Value {
    assert_eq!(response.status(), status, "{:?}", response.headers());
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], format!("urn:trustsafe:problem:{kind}"), "{body}");
    body
}

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
