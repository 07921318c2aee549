use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use trustsafe_events::topics;
use trustsafe_eventstore::{ExpectedVersion, Relay, RelayConfig};

use crate::consumer::{Effects, effects};
use crate::support::{TestEnv, assert_stream_order, context, header, read_topic, record_read};

fn start_relay(env: &TestEnv, config: RelayConfig) -> (tokio::task::JoinHandle<()>, CancellationToken) {
    let relay = Relay::new(env.store.clone(), env.log(), config).unwrap();
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    (tokio::spawn(async move { relay.run(token).await }), shutdown)
}

#[tokio::test]
async fn an_event_reaches_its_topic_within_milliseconds_of_commit() {
    let env = TestEnv::start().await;
    // A long idle poll: only the commit notification can wake the relay in time.
    let config = RelayConfig {
        idle_poll: Duration::from_secs(30),
        ..RelayConfig::default()
    };
    let (_relay, _shutdown) = start_relay(&env, config);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    env.store
        .append(
            "audit-raps",
            ExpectedVersion::NoStream,
            &context("raps"),
            &[record_read(1)],
        )
        .await
        .unwrap();
    env.outbox_drained(Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "woke by notification, not by polling: {elapsed:?}"
    );
    let records = read_topic(env.log(), topics::AUDIT, 1, Duration::from_secs(10), |_| true).await;
    assert_eq!(records[0].key, "audit-raps");
    assert_eq!(header(&records[0], "ce_type"), "audit.record_read.v2");
}

/// The global-position trap: a lower position still uncommitted while a higher one commits.
#[tokio::test]
async fn a_transaction_that_commits_late_is_not_skipped() {
    let env = TestEnv::start().await;
    let (_relay, _shutdown) = start_relay(&env, RelayConfig::default());

    let mut held = env.pool.begin().await.unwrap();
    env.store
        .append_in(
            &mut held,
            "audit-held",
            ExpectedVersion::NoStream,
            &context("raps"),
            &[record_read(1)],
        )
        .await
        .unwrap();
    let low: i64 = sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(&mut *held)
        .await
        .unwrap();
    env.store
        .append(
            "audit-quick",
            ExpectedVersion::NoStream,
            &context("raps"),
            &[record_read(2)],
        )
        .await
        .unwrap();
    let high: i64 = sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert!(low < high, "the held transaction took the lower position");

    let first = read_topic(env.log(), topics::AUDIT, 1, Duration::from_secs(10), |_| true).await;
    assert_eq!(
        first[0].key, "audit-quick",
        "the higher position is published while the lower is held"
    );

    held.commit().await.unwrap();
    env.outbox_drained(Duration::from_secs(10)).await;
    let all = read_topic(env.log(), topics::AUDIT, 2, Duration::from_secs(10), |_| true).await;
    let mut keys: Vec<_> = all.iter().map(|record| record.key.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["audit-held", "audit-quick"], "the relay missed 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_stopped_mid_batch_loses_nothing_and_effects_happen_once() {
    let env = TestEnv::start().await;
    let (streams, per_stream) = (20, 50);
    for stream in 0..streams {
        let events: Vec<_> = (0..per_stream).map(|n| record_read(stream * 1000 + n)).collect();
        for chunk in events.chunks(10) {
            env.store
                .append(
                    &format!("audit-{stream}"),
                    ExpectedVersion::Any,
                    &context("raps"),
                    chunk,
                )
                .await
                .unwrap();
        }
    }
    let total = (streams * per_stream) as i64;

    // Kill the relay while it is part-way through the outbox.
    let small_batches = RelayConfig {
        batch_size: 25,
        ..RelayConfig::default()
    };
    let (relay, _shutdown) = start_relay(&env, small_batches.clone());
    while env.outbox_len().await == total {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    relay.abort();
    let _ = relay.await;
    let left = env.outbox_len().await;
    assert!(
        left > 0 && left < total,
        "stopped mid-way: {left} of {total} left"
    );

    // The window a crash can leave: acknowledged by the broker, not yet deleted from the outbox.
    sqlx::query(
        "INSERT INTO outbox (global_position, topic)
         SELECT global_position, $1 FROM events WHERE global_position NOT IN (SELECT global_position FROM outbox)
          ORDER BY global_position LIMIT 100",
    )
    .bind(topics::AUDIT)
    .execute(&env.pool)
    .await
    .unwrap();

    let (_relay, _shutdown) = start_relay(&env, small_batches);
    env.outbox_drained(Duration::from_secs(60)).await;

    let records = read_topic(
        env.log(),
        topics::AUDIT,
        total as usize,
        Duration::from_secs(30),
        |_| true,
    )
    .await;
    assert_stream_order(&records);
    let distinct: std::collections::HashSet<_> =
        records.iter().map(|record| header(record, "ce_id")).collect();
    assert_eq!(distinct.len() as i64, total, "every event reached the topic");

    // A consumer applies each event once, duplicates on the topic notwithstanding.
    crate::consumer::create_effects_table(&env).await;
    let consumer = Arc::new(Effects::new("mid-batch"));
    let run = crate::consumer::run_consumer(&env, consumer.clone());
    crate::consumer::wait_for_effects(&env, "mid-batch", total, Duration::from_secs(60)).await;
    run.stop().await;
    let (count, distinct) = effects(&env, "mid-batch").await;
    assert_eq!((count, distinct), (total, total), "exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_succeed_while_the_broker_is_away_and_publish_in_order_when_it_returns() {
    let mut env = TestEnv::with_own_broker().await;
    let config = RelayConfig {
        retry_backoff: Duration::from_millis(200),
        ..RelayConfig::default()
    };
    let (_relay, _shutdown) = start_relay(&env, config);
    env.store
        .append(
            "audit-before",
            ExpectedVersion::NoStream,
            &context("raps"),
            &[record_read(0)],
        )
        .await
        .unwrap();
    env.outbox_drained(Duration::from_secs(10)).await;

    env.broker.stop().await;
    for stream in 0..5 {
        for n in 0..20 {
            env.store
                .append(
                    &format!("audit-away-{stream}"),
                    ExpectedVersion::Exactly(n),
                    &context("raps"),
                    &[record_read(n as usize)],
                )
                .await
                .expect("appends do not need the broker");
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        env.outbox_len().await,
        100,
        "nothing is lost or marked published while the broker is away"
    );

    env.broker.resume().await;
    env.outbox_drained(Duration::from_secs(60)).await;
    let records = read_topic(env.log(), topics::AUDIT, 101, Duration::from_secs(30), |_| true).await;
    assert_stream_order(&records);
    let away = records
        .iter()
        .filter(|record| record.key.starts_with("audit-away-"))
        .count();
    assert!(
        away >= 100,
        "all 100 published after the broker returned, got {away}"
    );
}
