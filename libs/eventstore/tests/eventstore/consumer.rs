use std::sync::Arc;
use std::time::Duration;

use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use trustsafe_events::audit::RecordRead;
use trustsafe_events::{Envelope, KafkaRecord, to_kafka, topics};
use trustsafe_eventstore::{Consumer, ConsumerConfig, HandlerError, Projection};

use crate::support::{TestEnv, context, produce, record_read};

/// A projection whose effect is a row per applied event, so double effects can be counted.
pub struct Effects {
    name: String,
}

impl Effects {
    pub fn new(name: &str) -> Self {
        Self { name: name.into() }
    }
}

impl Projection for Effects {
    fn name(&self) -> &str {
        &self.name
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::AUDIT.into()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let read: RecordRead = event.decode()?;
        // A fault of the projection's own that a record reaches.
        assert!(read.record_kind != "panics", "a projection bug");
        sqlx::query("INSERT INTO test_effects (consumer, event_id, record_id) VALUES ($1, $2, $3)")
            .bind(&self.name)
            .bind(event.event_id)
            .bind(read.record_id)
            .execute(tx)
            .await?;
        Ok(())
    }

    fn tables(&self) -> &[&str] {
        &["test_effects"]
    }
}

pub async fn create_effects_table(env: &TestEnv) {
    sqlx::query("CREATE TABLE IF NOT EXISTS test_effects (consumer TEXT NOT NULL, event_id UUID NOT NULL, record_id TEXT NOT NULL)")
        .execute(&env.pool)
        .await
        .unwrap();
}

/// A consumer running in the background; `stop` it before the broker goes.
pub struct Running {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap();
    }
}

pub fn run_consumer<P: Projection>(env: &TestEnv, projection: Arc<P>) -> Running {
    let consumer = Consumer::new(env.pool.clone(), projection, ConsumerConfig::new(env.log()));
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    Running {
        shutdown,
        task: tokio::spawn(async move { consumer.run(token).await.unwrap() }),
    }
}

/// (effect rows, distinct event ids among them)
pub async fn effects(env: &TestEnv, consumer: &str) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), count(DISTINCT event_id) FROM test_effects WHERE consumer = $1")
        .bind(consumer)
        .fetch_one(&env.pool)
        .await
        .unwrap_or((0, 0))
}

pub async fn wait_for_effects(env: &TestEnv, consumer: &str, count: i64, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while effects(env, consumer).await.0 < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?} effects of {count} within {within:?}",
            effects(env, consumer).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn stored_envelopes(env: &TestEnv, streams: usize, per_stream: usize) -> Vec<Envelope> {
    let mut all = Vec::new();
    for stream in 0..streams {
        let id = format!("audit-{stream}");
        let events: Vec<_> = (0..per_stream).map(|n| record_read(stream * 100 + n)).collect();
        env.store
            .append(
                &id,
                trustsafe_eventstore::ExpectedVersion::NoStream,
                &context("raps"),
                &events,
            )
            .await
            .unwrap();
        all.extend(env.store.load(&id).await.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_batch_delivered_twice_has_one_effect() {
    let env = TestEnv::start().await;
    create_effects_table(&env).await;
    let records: Vec<KafkaRecord> = stored_envelopes(&env, 4, 10).await.iter().map(to_kafka).collect();
    produce(env.log(), topics::AUDIT, &records).await;
    produce(env.log(), topics::AUDIT, &records).await;

    let projection = Arc::new(Effects::new("twice"));
    let run = run_consumer(&env, projection);
    wait_for_effects(&env, "twice", 40, Duration::from_secs(30)).await;
    // Let the second copies arrive too, then look again.
    let checkpointed = async {
        loop {
            let next: Option<i64> = sqlx::query_scalar(
                "SELECT sum(next_offset)::bigint FROM consumer_checkpoints WHERE consumer = 'twice'",
            )
            .fetch_one(&env.pool)
            .await
            .unwrap();
            if next == Some(80) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), checkpointed)
        .await
        .expect("all 80 records consumed");
    run.stop().await;
    assert_eq!(effects(&env, "twice").await, (40, 40), "no double effect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_are_parked_and_the_consumer_moves_on() {
    let env = TestEnv::start().await;
    create_effects_table(&env).await;
    let good: Vec<KafkaRecord> = stored_envelopes(&env, 1, 2).await.iter().map(to_kafka).collect();
    let with = |mutate: &dyn Fn(&mut KafkaRecord)| {
        let mut record = good[0].clone();
        record.headers.retain(|(key, _)| key != "ce_id");
        record
            .headers
            .push(("ce_id".into(), uuid::Uuid::now_v7().to_string().into_bytes()));
        // A stream of its own (the record key, and so the partition, stays the good events'): as
        // another event claiming version 1 of theirs it would be parked for that instead.
        record.headers.retain(|(key, _)| key != "ce_subject");
        record.headers.push((
            "ce_subject".into(),
            format!("audit-poison-{}", uuid::Uuid::now_v7()).into_bytes(),
        ));
        mutate(&mut record);
        record
    };
    let set = |record: &mut KafkaRecord, name: &str, value: &str| {
        record.headers.retain(|(key, _)| key != name);
        record.headers.push((name.into(), value.as_bytes().to_vec()));
    };
    // Same stream key as the good events: a stuck partition would starve them.
    let poison = [
        with(&|record| record.value = b"{not json".to_vec()),
        with(&|record| set(record, "ce_type", "incident.teleported.v9")),
        with(&|record| record.value = br#"{"record_kind": 7}"#.to_vec()),
        with(&|record| record.headers.retain(|(key, _)| key != "ce_subject")),
        with(&|record| {
            let mut data: serde_json::Value = serde_json::from_slice(&record.value).unwrap();
            data["record_kind"] = "panics".into();
            record.value = serde_json::to_vec(&data).unwrap();
        }),
    ];
    produce(env.log(), topics::AUDIT, &poison[..2]).await;
    produce(env.log(), topics::AUDIT, &good[..1]).await;
    produce(env.log(), topics::AUDIT, &poison[2..]).await;
    produce(env.log(), topics::AUDIT, &good[1..]).await;

    let run = run_consumer(&env, Arc::new(Effects::new("poison")));
    wait_for_effects(&env, "poison", 2, Duration::from_secs(30)).await;
    run.stop().await;
    let parked: Vec<String> =
        sqlx::query_scalar("SELECT error FROM dead_letters WHERE consumer = 'poison' ORDER BY \"offset\"")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(parked.len(), 5, "{parked:?}");
    assert!(parked[0].contains("not JSON"), "{parked:?}");
    assert!(parked[1].contains("unknown event type"), "{parked:?}");
    assert!(parked[2].contains("does not match its schema"), "{parked:?}");
    assert!(parked[3].contains("ce_subject"), "{parked:?}");
    assert!(parked[4].contains("panicked: a projection bug"), "{parked:?}");
    let payload: Vec<u8> = sqlx::query_scalar(
        "SELECT payload FROM dead_letters WHERE consumer = 'poison' ORDER BY \"offset\" LIMIT 1",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(payload, b"{not json", "the record is kept as it came");
    assert_eq!(effects(&env, "poison").await, (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projection_rebuilt_from_zero_ends_as_it_was() {
    let env = TestEnv::start().await;
    create_effects_table(&env).await;
    let records: Vec<KafkaRecord> = stored_envelopes(&env, 3, 20).await.iter().map(to_kafka).collect();
    produce(env.log(), topics::AUDIT, &records).await;
    produce(env.log(), topics::AUDIT, &records[..5]).await;

    let projection = Arc::new(Effects::new("rebuild"));
    let run = run_consumer(&env, projection.clone());
    wait_for_effects(&env, "rebuild", 60, Duration::from_secs(30)).await;
    run.stop().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let snapshot = || async {
        sqlx::query_as::<_, (String,)>(
            "SELECT record_id FROM test_effects WHERE consumer = 'rebuild' ORDER BY record_id",
        )
        .fetch_all(&env.pool)
        .await
        .unwrap()
    };
    let before = snapshot().await;
    let written = || async {
        sqlx::query_scalar::<_, String>("SELECT xmin::text FROM test_effects WHERE record_id = $1")
            .bind(&before[30].0)
            .fetch_one(&env.pool)
            .await
            .unwrap()
    };
    let untouched = written().await;
    // What a faulty projection might have left: a row missing, a row wrong, a row for nothing.
    sqlx::query("DELETE FROM test_effects WHERE record_id = $1")
        .bind(&before[0].0)
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE test_effects SET record_id = 'wrong' WHERE record_id = $1")
        .bind(&before[1].0)
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO test_effects VALUES ('rebuild', gen_random_uuid(), 'nothing')")
        .execute(&env.pool)
        .await
        .unwrap();

    let consumer = Consumer::new(env.pool.clone(), projection, ConsumerConfig::new(env.log()));
    let mut reports = Vec::new();
    let read = consumer
        .rebuild(|progress| reports.push(progress))
        .await
        .unwrap()
        .events;
    assert_eq!(read, 65, "every record of the topic, duplicates included");
    assert_eq!(
        reports.last().map(|p| (p.done, p.total)),
        Some((65, 65)),
        "progress reaches the end"
    );
    assert_eq!(snapshot().await, before, "the read model as the log says");
    assert_eq!(
        written().await,
        untouched,
        "a row that was right is not written again"
    );
    assert_eq!(effects(&env, "rebuild").await, (60, 60));
    assert_eq!(
        rebuild_schemas(&env).await,
        0,
        "the fresh tables were dropped after the swap"
    );
}

/// Schemas of rebuilds under way or left by one that died.
async fn rebuild_schemas(env: &TestEnv) -> i64 {
    sqlx::query_scalar(r"SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild\_%'")
        .fetch_one(&env.pool)
        .await
        .unwrap()
}

/// A rebuild that dies part-way (Ctrl-C, a passing broker error) must not leave the read model
/// partial: it fills fresh tables beside the live ones, so the live model is untouched until a
/// rebuild has caught up, and the next rebuild starts afresh. (More records than a rebuild's batch.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_that_dies_part_way_leaves_the_live_model_whole() {
    let env = TestEnv::start().await;
    create_effects_table(&env).await;
    let records: Vec<KafkaRecord> = stored_envelopes(&env, 100, 60)
        .await
        .iter()
        .map(to_kafka)
        .collect();
    produce(env.log(), topics::AUDIT, &records).await;
    let projection = Arc::new(Effects::new("interrupted"));
    let run = run_consumer(&env, projection.clone());
    wait_for_effects(&env, "interrupted", 6000, Duration::from_secs(60)).await;
    run.stop().await;

    let consumer = Consumer::new(
        env.pool.clone(),
        projection.clone(),
        ConsumerConfig::new(env.log()),
    );
    let died = tokio::spawn(async move {
        consumer
            .rebuild(|progress| assert!(progress.done == 0, "stopped after its first batch"))
            .await
    })
    .await;
    assert!(died.is_err(), "the rebuild died part-way");
    assert_eq!(
        effects(&env, "interrupted").await,
        (6000, 6000),
        "the live model is whole"
    );
    let partial: i64 = sqlx::query_scalar("SELECT count(*) FROM rebuild_interrupted.test_effects")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert!(
        partial > 0 && partial < 6000,
        "the fresh model was partial: {partial} of 6000"
    );

    let consumer = Consumer::new(env.pool.clone(), projection, ConsumerConfig::new(env.log()));
    assert_eq!(consumer.rebuild(|_| {}).await.unwrap().events, 6000);
    assert_eq!(effects(&env, "interrupted").await, (6000, 6000));
    assert_eq!(rebuild_schemas(&env).await, 0);
}

/// A projection whose later events need the earlier ones' rows, as a concern's closing needs its
/// report: each stream's first event makes its row and every later one counts into it.
struct Tally;

impl Projection for Tally {
    fn name(&self) -> &str {
        "tally"
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::AUDIT.into()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let statement = if event.stream_version == 1 {
            "INSERT INTO test_tally (stream, events) VALUES ($1, 1)"
        } else {
            "UPDATE test_tally SET events = events + 1 WHERE stream = $1"
        };
        sqlx::query(statement).bind(&event.stream_id).execute(tx).await?;
        Ok(())
    }

    fn tables(&self) -> &[&str] {
        &["test_tally"]
    }
}

async fn create_tally_table(env: &TestEnv) {
    sqlx::query("CREATE TABLE test_tally (stream TEXT PRIMARY KEY, events BIGINT NOT NULL)")
        .execute(&env.pool)
        .await
        .unwrap();
}

/// Every stream's tally in `schema`: (streams, events counted, streams short of `each`).
async fn tallies(env: &TestEnv, schema: &str, each: usize) -> (i64, i64, i64) {
    sqlx::query_as(&format!(
        "SELECT count(*), coalesce(sum(events), 0)::bigint, count(*) FILTER (WHERE events <> $1) FROM {schema}.test_tally"
    ))
    .bind(each as i64)
    .fetch_one(&env.pool)
    .await
    .unwrap()
}

/// Appends the next event of each of `streams` (now at `version`) and puts it on the topic.
async fn one_more_each(env: &TestEnv, streams: usize, version: usize) {
    let mut more = Vec::new();
    for stream in 0..streams {
        let id = format!("audit-{stream}");
        env.store
            .append(
                &id,
                trustsafe_eventstore::ExpectedVersion::Exactly(version as i64),
                &context("raps"),
                &[record_read(stream * 100 + version)],
            )
            .await
            .unwrap();
        more.push(to_kafka(env.store.load(&id).await.unwrap().last().unwrap()));
    }
    produce(env.log(), topics::AUDIT, &more).await;
}

async fn wait_for_tallies(env: &TestEnv, streams: usize, each: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tallies(env, "public", each).await != (streams as i64, (streams * each) as i64, 0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "every stream at {each}: {:?}",
            tallies(env, "public", each).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `streams` streams of `first` events on the topic, tallied by a live consumer that has applied them.
async fn tallied_live(env: &TestEnv, streams: usize, first: usize) -> (Arc<Tally>, Running) {
    create_tally_table(env).await;
    let records: Vec<KafkaRecord> = stored_envelopes(env, streams, first)
        .await
        .iter()
        .map(to_kafka)
        .collect();
    produce(env.log(), topics::AUDIT, &records).await;
    let tally = Arc::new(Tally);
    let live = run_consumer(env, tally.clone());
    wait_for_tallies(env, streams, first).await;
    (tally, live)
}

/// A keyed model a faulty projection left wrong is set right row by row at the swap: a row of a
/// key the log knows but with wrong values is made right, a missing one comes back, one of a key
/// the log does not know goes, and a row that was right is not written again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_sets_a_keyed_model_right_row_by_row() {
    let env = TestEnv::start().await;
    let (streams, first) = (5, 4);
    let (tally, live) = tallied_live(&env, streams, first).await;
    live.stop().await;
    let written = |stream: &'static str| {
        let pool = env.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT xmin::text FROM test_tally WHERE stream = $1")
                .bind(stream)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let untouched = written("audit-4").await;
    for wrong in [
        "UPDATE test_tally SET events = 99 WHERE stream = 'audit-0'",
        "DELETE FROM test_tally WHERE stream = 'audit-1'",
        "INSERT INTO test_tally VALUES ('audit-nothing', 1)",
    ] {
        sqlx::query(wrong).execute(&env.pool).await.unwrap();
    }

    let consumer = Consumer::new(env.pool.clone(), tally, ConsumerConfig::new(env.log()));
    consumer.rebuild(|_| {}).await.unwrap();
    assert_eq!(
        tallies(&env, "public", first).await,
        (5, 20, 0),
        "every stream as the log says, and nothing else"
    );
    assert_eq!(
        written("audit-4").await,
        untouched,
        "a row that was right is not written again"
    );
}

/// A rebuild a migration asks for (`rebuilds`) is run at the consumer's next start, before it
/// applies anything live; with two processes starting at once, it is done, asked for no more, and
/// both go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_a_migration_asks_for_runs_at_the_next_start() {
    let env = TestEnv::start().await;
    let (streams, first) = (5, 4);
    let (tally, live) = tallied_live(&env, streams, first).await;
    live.stop().await;
    for statement in [
        "UPDATE test_tally SET events = 99 WHERE stream = 'audit-0'",
        "INSERT INTO rebuilds (consumer) VALUES ('tally')",
    ] {
        sqlx::query(statement).execute(&env.pool).await.unwrap();
    }

    let (one, another) = (run_consumer(&env, tally.clone()), run_consumer(&env, tally));
    wait_for_tallies(&env, streams, first).await;
    one_more_each(&env, streams, first).await;
    wait_for_tallies(&env, streams, first + 1).await;
    one.stop().await;
    another.stop().await;
    let asked: i64 = sqlx::query_scalar("SELECT count(*) FROM rebuilds")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(asked, 0, "done, and asked for no more");
    assert_eq!(rebuild_schemas(&env).await, 0, "no fresh model left behind");
}

/// The live consumer keeps the model current while a rebuild fills its fresh one: events arriving
/// after the rebuild has caught up are applied live at once, and again into the fresh model at the
/// swap, which must keep them (a closed concern stays closed) and let the live consumer go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_model_stays_current_during_a_rebuild_and_the_swap_keeps_it() {
    let env = TestEnv::start().await;
    let (streams, first) = (40, 30);
    let (tally, live) = tallied_live(&env, streams, first).await;

    let consumer = Consumer::new(env.pool.clone(), tally, ConsumerConfig::new(env.log()));
    let mut rebuild = consumer.start_rebuild().await.unwrap();
    assert_eq!(rebuild.catch_up(|_| {}).await.unwrap(), (streams * first) as u64);
    assert_eq!(tallies(&env, "rebuild_tally", first).await, (40, 1200, 0));

    one_more_each(&env, streams, first).await;
    wait_for_tallies(&env, streams, first + 1).await;
    assert_eq!(
        tallies(&env, "rebuild_tally", first).await,
        (40, 1200, 0),
        "applied live while the fresh model had not read them"
    );
    let rebuilt = rebuild.swap().await.unwrap();
    assert_eq!(rebuilt.events, (streams * (first + 1)) as u64);
    assert_eq!(
        tallies(&env, "public", first + 1).await,
        (40, 1240, 0),
        "the swap kept them"
    );

    one_more_each(&env, streams, first + 1).await;
    wait_for_tallies(&env, streams, first + 2).await;
    live.stop().await;
    assert_eq!(tallies(&env, "public", first + 2).await, (40, 1280, 0));
}

/// Events the live consumer had not read when the model was swapped are in the fresh model already:
/// when it reads them they find their dedup rows and count nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_the_live_consumer_had_not_read_at_the_swap_change_nothing_after_it() {
    let env = TestEnv::start().await;
    let (streams, first) = (20, 10);
    let (tally, live) = tallied_live(&env, streams, first).await;
    live.stop().await;

    let consumer = Consumer::new(env.pool.clone(), tally.clone(), ConsumerConfig::new(env.log()));
    let mut rebuild = consumer.start_rebuild().await.unwrap();
    rebuild.catch_up(|_| {}).await.unwrap();
    one_more_each(&env, streams, first).await;
    rebuild.swap().await.unwrap();
    assert_eq!(
        tallies(&env, "public", first + 1).await,
        (20, 220, 0),
        "the swap's last catch-up"
    );

    let live = run_consumer(&env, tally);
    one_more_each(&env, streams, first + 1).await;
    wait_for_tallies(&env, streams, first + 2).await;
    live.stop().await;
    assert_eq!(
        tallies(&env, "public", first + 2).await,
        (20, 240, 0),
        "nothing counted twice"
    );
}

/// A projection that cannot apply anything yet, as a service whose tenancy does not list a school
/// until it is restarted with a new one.
struct NotYet {
    ready: Arc<std::sync::atomic::AtomicBool>,
}

impl Projection for NotYet {
    fn name(&self) -> &str {
        "not-yet"
    }

    fn topics(&self) -> Vec<String> {
        vec![topics::AUDIT.into()]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        if !self.ready.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(HandlerError::Reject("no school raps in the tenancy".into()));
        }
        let read: RecordRead = event.decode()?;
        sqlx::query("INSERT INTO test_effects (consumer, event_id, record_id) VALUES ('not-yet', $1, $2)")
            .bind(event.event_id)
            .bind(read.record_id)
            .execute(tx)
            .await?;
        Ok(())
    }

    fn tables(&self) -> &[&str] {
        &[]
    }
}

/// "Not yet" is not poison: what was parked is tried again at the next start, and applied once the
/// service can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_records_are_tried_again_at_the_next_start() {
    let env = TestEnv::start().await;
    create_effects_table(&env).await;
    let records: Vec<KafkaRecord> = stored_envelopes(&env, 2, 3).await.iter().map(to_kafka).collect();
    produce(env.log(), topics::AUDIT, &records).await;
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let parked = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM dead_letters WHERE consumer = 'not-yet'")
            .fetch_one(&env.pool)
            .await
            .unwrap()
    };
    let start = |ready: Arc<std::sync::atomic::AtomicBool>| {
        let consumer = Consumer::new(
            env.pool.clone(),
            Arc::new(NotYet { ready }),
            ConsumerConfig::new(env.log()),
        );
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        (
            shutdown,
            tokio::spawn(async move { consumer.run(token).await.unwrap() }),
        )
    };

    let (shutdown, running) = start(ready.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while parked().await < 6 {
        assert!(tokio::time::Instant::now() < deadline, "all six parked");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    running.await.unwrap();

    // Restarted with the school in its tenancy.
    ready.store(true, std::sync::atomic::Ordering::SeqCst);
    let (shutdown, running) = start(ready);
    wait_for_effects(&env, "not-yet", 6, Duration::from_secs(30)).await;
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(parked().await, 0, "nothing left parked");
    assert_eq!(effects(&env, "not-yet").await, (6, 6));
}
