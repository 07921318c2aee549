//! A stream's events take effect in version order whatever order the log delivers them in: a relay
//! retrying after a long broker outage, or a stream held at an unpublishable event, can put a later
//! version on the topic first. The consumer waits for the gap rather than apply past it.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgConnection;
use trustsafe_events::{Envelope, KafkaRecord, to_kafka, topics};
use trustsafe_eventstore::{HandlerError, Projection};

use crate::consumer::{Running, run_consumer, stored_envelopes};
use crate::support::{TestEnv, produce};

/// Writes down each applied event's stream and version, in the order applied.
struct Sequence;

impl Projection for Sequence {
    fn name(&self) -> &str {
        "sequence"
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::AUDIT.into()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        sqlx::query("INSERT INTO test_sequence (stream, version, event_id) VALUES ($1, $2, $3)")
            .bind(&event.stream_id)
            .bind(event.stream_version)
            .bind(event.event_id)
            .execute(tx)
            .await?;
        Ok(())
    }

    fn tables(&self) -> &[&str] {
        &["test_sequence"]
    }
}

async fn start(env: &TestEnv) -> Running {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS test_sequence
             (applied BIGINT GENERATED ALWAYS AS IDENTITY, stream TEXT, version BIGINT, event_id UUID)",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    run_consumer(env, Arc::new(Sequence))
}

/// Each stream's versions in the order they were applied.
async fn applied(env: &TestEnv, stream: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM test_sequence WHERE stream = $1 ORDER BY applied")
        .bind(stream)
        .fetch_all(&env.pool)
        .await
        .unwrap()
}

async fn waiting(env: &TestEnv) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT stream_id, stream_version, waiting_for FROM dead_letters
          WHERE waiting_for IS NOT NULL ORDER BY stream_id, stream_version",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap()
}

async fn eventually<F: Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `records[stream][version - 1]`, as the log would carry them.
async fn streams(env: &TestEnv, count: usize, per_stream: usize) -> Vec<Vec<KafkaRecord>> {
    stored_envelopes(env, count, per_stream)
        .await
        .chunks(per_stream)
        .map(|stream| stream.iter().map(to_kafka).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_delivered_out_of_order_takes_effect_in_order() {
    let env = TestEnv::start().await;
    let records = streams(&env, 2, 5).await;
    let (a, b) = (&records[0], &records[1]);
    // Stream a loses version 2 and 4 for now (a copy of 3 comes twice); stream b comes whole.
    produce(
        env.log(),
        topics::AUDIT,
        &[a[0].clone(), a[2].clone(), b[0].clone(), a[2].clone()],
    )
    .await;
    produce(
        env.log(),
        topics::AUDIT,
        &[
            a[4].clone(),
            b[1].clone(),
            b[2].clone(),
            b[3].clone(),
            b[4].clone(),
        ],
    )
    .await;
    let running = start(&env).await;

    eventually("stream b applied whole", || async {
        applied(&env, "audit-1").await.len() == 5
    })
    .await;
    eventually("stream a's later versions waiting", || async {
        waiting(&env).await.len() == 3
    })
    .await;
    assert_eq!(
        applied(&env, "audit-0").await,
        [1],
        "nothing applied past the gap"
    );
    assert_eq!(
        waiting(&env).await,
        [
            ("audit-0".to_owned(), 3, 2),
            ("audit-0".to_owned(), 3, 2),
            ("audit-0".to_owned(), 5, 2)
        ]
    );

    produce(env.log(), topics::AUDIT, &[a[3].clone()]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(applied(&env, "audit-0").await, [1], "version 4 waits for 2 too");
    produce(env.log(), topics::AUDIT, &[a[1].clone()]).await;
    eventually("stream a applied whole", || async {
        applied(&env, "audit-0").await.len() == 5
    })
    .await;

    running.stop().await;
    assert_eq!(applied(&env, "audit-0").await, [1, 2, 3, 4, 5]);
    assert_eq!(applied(&env, "audit-1").await, [1, 2, 3, 4, 5]);
    assert!(waiting(&env).await.is_empty(), "nothing left waiting");
    let parked: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(parked, 0, "the copy of version 3 was known as one, not parked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_still_waiting_at_a_restart_are_applied_when_their_gap_fills() {
    let env = TestEnv::start().await;
    let records = streams(&env, 1, 3).await;
    produce(
        env.log(),
        topics::AUDIT,
        &[records[0][0].clone(), records[0][2].clone()],
    )
    .await;
    let running = start(&env).await;
    eventually("version 3 waiting", || async { waiting(&env).await.len() == 1 }).await;
    running.stop().await;

    // The start re-drives what waits; it waits on, until version 2 arrives.
    let running = start(&env).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(applied(&env, "audit-0").await, [1]);
    produce(env.log(), topics::AUDIT, &[records[0][1].clone()]).await;
    eventually("the stream applied whole", || async {
        applied(&env, "audit-0").await.len() == 3
    })
    .await;
    running.stop().await;
    assert_eq!(applied(&env, "audit-0").await, [1, 2, 3]);
    assert!(waiting(&env).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_event_claiming_an_applied_version_is_parked_not_applied() {
    let env = TestEnv::start().await;
    let records = streams(&env, 1, 2).await;
    let mut impostor = records[0][0].clone();
    let id = uuid::Uuid::now_v7();
    impostor.headers.retain(|(key, _)| key != "ce_id");
    impostor
        .headers
        .push(("ce_id".into(), id.to_string().into_bytes()));
    produce(
        env.log(),
        topics::AUDIT,
        &[records[0][0].clone(), impostor, records[0][1].clone()],
    )
    .await;
    let running = start(&env).await;
    eventually("the stream applied", || async {
        applied(&env, "audit-0").await.len() == 2
    })
    .await;
    eventually("the impostor parked", || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM dead_letters")
            .fetch_one(&env.pool)
            .await
            .unwrap()
            == 1
    })
    .await;
    running.stop().await;
    let (error, parked_id): (String, uuid::Uuid) = sqlx::query_as("SELECT error, event_id FROM dead_letters")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert!(
        error.contains("version 1 of stream audit-0 was already applied as another event"),
        "{error}"
    );
    assert_eq!(parked_id, id);
    assert_eq!(applied(&env, "audit-0").await, [1, 2]);
}
