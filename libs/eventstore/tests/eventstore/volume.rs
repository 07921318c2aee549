//! A hundred thousand events through the whole log, as a trust's busy term puts them there: appended
//! in batches, published by the relay in multi-record batches, consumed live and then replayed. Every
//! event takes effect exactly once each time, each stream in order, nothing parked or left behind, and
//! nothing stalls (the embedded broker once stopped answering at about 20,000 records in bulk).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use trustsafe_eventstore::{Consumer, ConsumerConfig, ExpectedVersion, Relay, RelayConfig};

use crate::consumer::{Effects, create_effects_table, effects, run_consumer, wait_for_effects};
use crate::support::{TestEnv, context, record_read};

const STREAMS: usize = 1_000;
const PER_STREAM: usize = 100;
const EVENTS: i64 = (STREAMS * PER_STREAM) as i64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_events_pass_live_and_in_a_replay_exactly_once_in_order() {
    let env = TestEnv::start().await;
    create_effects_table(&env).await;
    let started = Instant::now();
    for stream in 0..STREAMS {
        let events: Vec<_> = (0..PER_STREAM)
            .map(|n| record_read(stream * PER_STREAM + n))
            .collect();
        env.store
            .append(
                &format!("audit-{stream}"),
                ExpectedVersion::NoStream,
                &context("raps"),
                &events,
            )
            .await
            .unwrap();
    }
    println!("appended {EVENTS} events in {:?}", started.elapsed());

    let relay = Relay::new(env.store.clone(), env.log(), RelayConfig::default()).unwrap();
    let stop_relay = CancellationToken::new();
    let relaying = {
        let token = stop_relay.clone();
        tokio::spawn(async move { relay.run(token).await })
    };
    let live = run_consumer(&env, Arc::new(Effects::new("volume")));
    wait_for_effects(&env, "volume", EVENTS, Duration::from_secs(600)).await;
    println!("published and applied live in {:?}", started.elapsed());
    live.stop().await;
    stop_relay.cancel();
    relaying.await.unwrap();
    assert_eq!(env.outbox_len().await, 0, "nothing left behind in the outbox");
    assert_eq!(
        effects(&env, "volume").await,
        (EVENTS, EVENTS),
        "live: each event once"
    );
    let (parked, streams_whole): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM dead_letters),
                (SELECT count(*) FROM stream_positions WHERE consumer = 'volume' AND version = $1)",
    )
    .bind(PER_STREAM as i64)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        (parked, streams_whole),
        (0, STREAMS as i64),
        "nothing parked, every stream whole"
    );

    let replay_started = Instant::now();
    let consumer = Consumer::new(
        env.pool.clone(),
        Arc::new(Effects::new("volume")),
        ConsumerConfig::new(env.log()),
    );
    let rebuilt = consumer.rebuild(|_| {}).await.unwrap();
    let read = rebuilt.events;
    println!(
        "replayed {read} records in {:?}, the swap holding the live consumer {:?}",
        replay_started.elapsed(),
        rebuilt.held
    );
    assert!(read >= EVENTS as u64, "the replay read the whole topic: {read}");
    assert_eq!(
        effects(&env, "volume").await,
        (EVENTS, EVENTS),
        "replay: each event once"
    );
}
