//! `trustsafe bench eventstore`: appends against raw INSERTs, the relay against raw produce.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use rdkafka::producer::FutureProducer;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use trustsafe_devstack::ensure_database;
use trustsafe_events::{Actor, KafkaRecord, audit::RecordRead, to_kafka};
use trustsafe_eventstore::kafka::SharedLog;
use trustsafe_eventstore::{AppendContext, EventStore, ExpectedVersion, NewEvent, Relay, RelayConfig, kafka};
use uuid::Uuid;

use super::{bar, memory};
use crate::stack::{Stack, StackOptions};

#[derive(clap::Args)]
pub struct EventstoreArgs {
    /// Where the bench's own private PostgreSQL and broker log live (kept apart from `dev`'s).
    #[arg(long, default_value = ".trustsafe-bench")]
    data_dir: std::path::PathBuf,
    /// Port of the private PostgreSQL (ignored when DATABASE_URL is set).
    #[arg(long, default_value_t = 15433)]
    postgres_port: u16,
    /// Single-event appends (and single-row INSERTs) to time.
    #[arg(long, default_value_t = 3000)]
    single: usize,
    /// Batches of `--batch-size` events (and multi-row INSERTs) to time.
    #[arg(long, default_value_t = 100)]
    batches: usize,
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Events the relay publishes (and messages produced raw).
    #[arg(long, default_value_t = 20000)]
    messages: usize,
}

const BENCH_TOPIC: &str = "trustsafe.bench.v1";
const RAW_TOPIC: &str = "trustsafe.bench-raw.v1";

pub async fn run(args: EventstoreArgs) -> Result<()> {
    // The bench's own embedded broker on a free port, so it can run beside `trustsafe dev`.
    let options = StackOptions {
        data_dir: args.data_dir.clone(),
        kafka_port: 0,
        postgres_port: args.postgres_port,
    };
    let stack = Stack::start(&options).await?;
    let result = measure(&stack, &args).await;
    stack.stop().await;
    result
}

async fn measure(stack: &Stack, args: &EventstoreArgs) -> Result<()> {
    let database = format!("trustsafe_bench_{}", Uuid::now_v7().simple());
    let url = ensure_database(&stack.admin_database_url, &database).await?;
    let pool = PgPoolOptions::new().max_connections(4).connect(&url).await?;
    let store = EventStore::new(pool.clone(), "/trustsafe/bench");
    store.migrate().await?;
    sqlx::query("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
        .execute(&pool)
        .await?;
    kafka::ensure_topics(
        &stack.log,
        &[BENCH_TOPIC, RAW_TOPIC],
        kafka::TopicSettings {
            partitions: 3,
            replication: None,
        },
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let idle = memory();
    println!(
        "trustsafe bench eventstore — broker {}, {} events of ~{} bytes",
        stack.log.brokers,
        args.messages,
        event_size()
    );
    println!(
        "memory at idle: {} MiB resident (the whole stack in this process; PostgreSQL's own processes aside)",
        idle.rss_mib
    );

    let context = AppendContext {
        trust_id: "viking".into(),
        school_id: Some("raps".into()),
        actor: Actor::person("bench", "dsl"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
    };

    // Appends, one event each, against a single-row INSERT of the same row into an identical table.
    let raw_single = rate(args.single, "raw INSERT, 1 row", |n| {
        let pool = pool.clone();
        async move {
            raw_insert(
                &pool,
                &[event(n)],
                &format!("raw-{}", n / 10),
                (n % 10) as i64 + 1,
            )
            .await
        }
    })
    .await?;
    let append_single = rate(args.single, "append, 1 event", |n| {
        let (store, context) = (&store, &context);
        async move {
            let expected = if n % 10 == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exactly((n % 10) as i64)
            };
            store
                .append(&format!("single-{}", n / 10), expected, context, &[event(n)])
                .await?;
            Ok(())
        }
    })
    .await?;
    let size = args.batch_size;
    let raw_batched = rate(args.batches, &format!("raw INSERT, {size} rows"), |n| {
        let pool = pool.clone();
        async move {
            let events: Vec<_> = (0..size).map(event).collect();
            raw_insert(&pool, &events, &format!("raw-batch-{n}"), 1).await
        }
    })
    .await?;
    let append_batched = rate(args.batches, &format!("append, {size} events"), |n| {
        let (store, context) = (&store, &context);
        async move {
            let events: Vec<_> = (0..size).map(event).collect();
            store
                .append(&format!("batch-{n}"), ExpectedVersion::NoStream, context, &events)
                .await?;
            Ok(())
        }
    })
    .await?;
    sqlx::query("DELETE FROM outbox").execute(&pool).await?;

    // The relay draining a full outbox, against producing the very same records straight to the broker.
    let progress = bar(args.messages as u64, "filling the outbox (not timed)");
    let chunk = 500;
    for start in (0..args.messages).step_by(chunk) {
        let events: Vec<_> = (start..(start + chunk).min(args.messages))
            .map(|n| NewEvent {
                topic: BENCH_TOPIC.into(),
                ..event(n)
            })
            .collect();
        store
            .append(
                &format!("relay-{}", start / chunk),
                ExpectedVersion::NoStream,
                &context,
                &events,
            )
            .await?;
        progress.inc(events.len() as u64);
    }
    progress.finish_and_clear();
    let records: Vec<KafkaRecord> = store
        .load("relay-0")
        .await?
        .iter()
        .map(to_kafka)
        .cycle()
        .take(args.messages)
        .collect();

    let raw_produce = produce_raw(&stack.log, &records).await?;
    let relay = Relay::new(store.clone(), &stack.log, RelayConfig::default())?;
    let progress = bar(args.messages as u64, "relay publishing");
    // The bench is the only relay on its database: any connection may stand for the leader's.
    let mut leader = store.pool().acquire().await?;
    let started = Instant::now();
    let mut published = 0;
    while published < args.messages {
        let outcome = relay.publish_batch(&mut leader).await?;
        if outcome.failed > 0 {
            bail!(
                "the broker refused {} events during the benchmark",
                outcome.failed
            );
        }
        published += outcome.published;
        progress.inc(outcome.published as u64);
    }
    progress.finish_and_clear();
    let relay_rate = args.messages as f64 / started.elapsed().as_secs_f64();
    let peak = memory();

    println!();
    println!(
        "{:<34} {:>12} {:>14} {:>7}  target",
        "measure", "trustsafe/s", "baseline/s", "ratio"
    );
    let row = |name: &str, ours: f64, raw: f64, target: f64| {
        let ratio = ours / raw;
        let verdict = if ratio >= target { "met" } else { "MISSED" };
        println!("{name:<34} {ours:>12.0} {raw:>14.0} {ratio:>6.2}x  ≥{target}x {verdict}");
    };
    row("append 1 event vs INSERT 1 row", append_single, raw_single, 0.5);
    row(
        &format!("append {size} events vs INSERT {size} rows"),
        append_batched * size as f64,
        raw_batched * size as f64,
        0.5,
    );
    row("relay publish vs raw produce", relay_rate, raw_produce, 0.5);
    println!();
    println!(
        "memory: {} MiB resident at idle, {} MiB peak (targets: idle < 500 MiB, load < 1024 MiB)",
        idle.rss_mib, peak.peak_mib
    );

    pool.close().await;
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&stack.admin_database_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}

fn event(n: usize) -> NewEvent {
    let read = RecordRead {
        record_kind: "incident".into(),
        record_id: format!("0192a7c4-{n:08}"),
        school_id: "raps".into(),
        reader: "dsl-raps".into(),
        role: "dsl".into(),
        read_at: Utc::now(),
    };
    NewEvent::new(&read, Utc::now())
}

fn event_size() -> usize {
    let envelope = trustsafe_events::Envelope {
        event_id: Uuid::now_v7(),
        event_type: "audit.record_read.v2".into(),
        source: "/trustsafe/bench".into(),
        stream_id: "relay-0".into(),
        stream_version: 1,
        trust_id: "viking".into(),
        school_id: Some("raps".into()),
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        actor: Actor::person("bench", "dsl"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        trace: Default::default(),
        data: event(0).data,
    };
    let record = to_kafka(&envelope);
    record.value.len()
        + record.key.len()
        + record
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

/// The baseline of an append: the same row, the same table shape, one plain INSERT statement.
async fn raw_insert(pool: &PgPool, events: &[NewEvent], stream: &str, first_version: i64) -> Result<()> {
    let metadata =
        serde_json::json!({"actor": {"subject": "bench", "role": "dsl"}, "correlation_id": Uuid::now_v7()});
    let ids: Vec<Uuid> = events.iter().map(|event| event.event_id).collect();
    let versions: Vec<i64> = (first_version..first_version + events.len() as i64).collect();
    let types: Vec<&str> = events.iter().map(|event| event.event_type.as_str()).collect();
    let data: Vec<&serde_json::Value> = events.iter().map(|event| &event.data).collect();
    sqlx::query(
        "INSERT INTO raw_events (event_id, stream_id, stream_version, event_type, trust_id, school_id, occurred_at, metadata, data)
         SELECT id, $2, version, event_type, 'viking', 'raps', now(), $3, data
           FROM UNNEST($1::uuid[], $4::bigint[], $5::text[], $6::jsonb[]) AS new(id, version, event_type, data)",
    )
    .bind(&ids)
    .bind(stream)
    .bind(&metadata)
    .bind(&versions)
    .bind(&types)
    .bind(&data)
    .execute(pool)
    .await?;
    Ok(())
}

async fn produce_raw(log: &SharedLog, records: &[KafkaRecord]) -> Result<f64> {
    let producer: FutureProducer = log.producer().create()?;
    let topic = log.topic(RAW_TOPIC);
    let progress = bar(records.len() as u64, "raw produce");
    let started = Instant::now();
    let mut deliveries = Vec::with_capacity(records.len());
    for record in records {
        let message = kafka::future_record(&topic, record);
        deliveries.push(producer.send_result(message).map_err(|(err, _)| err)?);
    }
    for delivery in deliveries {
        delivery.await.context("producer gone")?.map_err(|(err, _)| err)?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(records.len() as f64 / started.elapsed().as_secs_f64())
}

/// Runs `step(0..count)` one after another and returns steps per second.
async fn rate<F, Fut>(count: usize, label: &str, mut step: F) -> Result<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let progress = bar(count as u64, label);
    let started = Instant::now();
    for n in 0..count {
        step(n).await.with_context(|| format!("{label}, step {n}"))?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    let elapsed = started.elapsed().max(Duration::from_micros(1));
    Ok(count as f64 / elapsed.as_secs_f64())
}
