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

/// Who holds the relay's leader lock on this test's database, once someone does.
async fn lock_holder(env: &TestEnv, other_than: Option<i32>) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let holder: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_locks
              WHERE locktype = 'advisory' AND granted
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_optional(&env.pool)
        .await
        .unwrap();
        match holder {
            Some(pid) if Some(pid) != other_than => return pid,
            _ => assert!(Instant::now() < deadline, "no relay took the lead"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two relays must never publish at once. The first relay's lock connection is killed while it
/// idles; the second takes the lock. The first must learn it lost the lead at its next query
/// rather than go on publishing the outbox through its pool beside the second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_whose_lock_connection_died_stops_publishing() {
    let env = TestEnv::start().await;
    let quick = RelayConfig {
        idle_poll: Duration::from_millis(100),
        ..RelayConfig::default()
    };
    let (_first, _first_shutdown) = start_relay(&env, quick.clone());
    let first = lock_holder(&env, None).await;
    let (_second, _second_shutdown) = start_relay(&env, quick);
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert!(killed);
    lock_holder(&env, Some(first)).await;

    // One transaction, one notification: both relays wake on it, and both would read every row.
    let events = 300;
    let mut tx = env.pool.begin().await.unwrap();
    for n in 0..events {
        env.store
            .append_in(
                &mut tx,
                &format!("audit-fence-{n}"),
                ExpectedVersion::NoStream,
                &context("raps"),
                &[record_read(n)],
            )
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    env.outbox_drained(Duration::from_secs(30)).await;

    let records = read_topic(env.log(), topics::AUDIT, events, Duration::from_secs(30), |_| {
        true
    })
    .await;
    // Whatever a second publisher would have sent is on the topic by now, after the first copies.
    let late = crate::support::read_for(env.log(), topics::AUDIT, Duration::from_secs(3)).await;
    assert_eq!(
        (records.len(), late.len()),
        (events, events),
        "each event published once, by one relay"
    );
}

/// An event the broker will never take (over the client's 1 MB record limit) holds its own stream,
/// in order, and nothing else: the streams behind it in the outbox are published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpublishable_event_holds_its_stream_and_no_other() {
    let env = TestEnv::start().await;
    let mut oversized = record_read(0);
    oversized.data["record_id"] = serde_json::Value::String("x".repeat(1_200_000));
    env.store
        .append(
            "audit-oversized",
            ExpectedVersion::NoStream,
            &context("raps"),
            &[oversized],
        )
        .await
        .unwrap();
    env.store
        .append(
            "audit-oversized",
            ExpectedVersion::Exactly(1),
            &context("raps"),
            &[record_read(1)],
        )
        .await
        .unwrap();
    for n in 0..20 {
        env.store
            .append(
                &format!("audit-behind-{n}"),
                ExpectedVersion::NoStream,
                &context("raps"),
                &[record_read(n)],
            )
            .await
            .unwrap();
    }
    let (_relay, _shutdown) = start_relay(&env, RelayConfig::default());

    let records = read_topic(env.log(), topics::AUDIT, 20, Duration::from_secs(30), |_| true).await;
    assert!(
        records
            .iter()
            .all(|record| record.key.starts_with("audit-behind-"))
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.outbox_len().await != 2 {
        assert!(
            Instant::now() < deadline,
            "only the held stream's two events are left"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (stream, version, reason): (String, i64, String) = sqlx::query_as(
        "SELECT h.stream_id, e.stream_version, h.reason
           FROM outbox_held h JOIN events e ON e.global_position = h.global_position",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!((stream.as_str(), version), ("audit-oversized", 1));
    assert!(reason.contains("too large"), "{reason}");
    let late = crate::support::read_for(env.log(), topics::AUDIT, Duration::from_secs(2)).await;
    assert!(
        late.iter().all(|record| record.key != "audit-oversized"),
        "neither the refused event nor the one after it was published"
    );
}

/// Told to stop, the leader stops: it does not stand for leader again once its lead has ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_told_to_stop_stops() {
    let env = TestEnv::start().await;
    let (relay, shutdown) = start_relay(&env, RelayConfig::default());
    lock_holder(&env, None).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), relay)
        .await
        .expect("the relay stopped within 10 s")
        .unwrap();
}
