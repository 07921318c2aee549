//! `trustsafe bench outage`: the broker taken away under a steady load of reports through the gateway,
//! then brought back. Every acknowledged report must reach the incident store, the topic and the trust's
//! dashboard once; the figure is how long the dashboard takes to be fresh again, beside its freshness
//! before the outage in the same run.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use serde_json::{Value, json};
use tokio::time::Instant;
use trustsafe_auth::{Grants, SchoolRole, TrustRole};
use trustsafe_events::incident::IncidentReported;
use trustsafe_events::{Event, from_kafka};
use trustsafe_eventstore::kafka::{SharedLog, record_of};
use uuid::Uuid;

use super::app::BenchApp;
use super::{open_loop, quantile_ms};
use crate::stack::{Stack, StackOptions, create_topics};

#[derive(clap::Args)]
pub struct OutageArgs {
    /// Where the bench's own private PostgreSQL and broker log live (kept apart from `dev`'s).
    #[arg(long, default_value = ".trustsafe-bench")]
    data_dir: PathBuf,
    /// Port of the private PostgreSQL (ignored when DATABASE_URL is set).
    #[arg(long, default_value_t = 15433)]
    postgres_port: u16,
    /// Reports sent per second through the gateway, before, during and after the outage.
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// Seconds of load before the broker goes away (at least 10: the freshness before it is timed
    /// from 5 s in to 2 s before).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(10..))]
    before: u64,
    /// Seconds the broker is away.
    #[arg(long, default_value_t = 60)]
    down: u64,
    /// Seconds of load after it is back.
    #[arg(long, default_value_t = 15)]
    after: u64,
    /// With KAFKA_BROKERS: the directory the node was started from (`scripts/kafka.sh start DIR`), so
    /// the bench can stop it and start it again.
    #[arg(long)]
    kafka_dir: Option<PathBuf>,
}

pub async fn run(args: OutageArgs) -> Result<()> {
    let options = StackOptions {
        data_dir: args.data_dir.clone(),
        kafka_port: 0,
        postgres_port: args.postgres_port,
    };
    let mut stack = Stack::start(&options).await?;
    // Topics of this run's own: a data dir (or a Kafka) reused from another bench holds other concerns.
    stack.log = stack
        .log
        .clone()
        .with_namespace(format!("outage-{}.", Uuid::now_v7().simple()))
        .map_err(anyhow::Error::msg)?;
    create_topics(&stack.log).await?;
    let broker = if stack.embedded_broker() {
        Broker::Embedded
    } else {
        let dir = args
            .kafka_dir
            .clone()
            .context("on Apache Kafka, --kafka-dir names the node's directory so it can be stopped")?;
        let port = stack
            .log
            .brokers
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        Broker::Kafka { dir, port }
    };
    let result = measure(&mut stack, &broker, &args).await;
    stack.stop().await;
    result
}

/// The broker the bench takes away.
enum Broker {
    Embedded,
    Kafka { dir: PathBuf, port: String },
}

impl Broker {
    async fn down(&self, stack: &mut Stack) -> Result<()> {
        match self {
            Broker::Embedded => stack.stop_broker().await,
            Broker::Kafka { dir, .. } => kafka_script("stop", dir, None)?,
        }
        Ok(())
    }

    async fn back(&self, stack: &mut Stack) -> Result<()> {
        match self {
            Broker::Embedded => stack.resume_broker().await,
            Broker::Kafka { dir, port } => kafka_script("start", dir, Some(port)),
        }
    }
}

/// `scripts/kafka.sh stop DIR`, or `start DIR` on the port it had.
pub(crate) fn kafka_script(command: &str, dir: &std::path::Path, port: Option<&str>) -> Result<()> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kafka.sh");
    let mut run = Command::new("bash");
    run.arg(script).arg(command).arg(dir);
    if let Some(port) = port {
        run.env("TRUSTSAFE_KAFKA_PORT", port);
    }
    let output = run.output().context("running scripts/kafka.sh")?;
    if !output.status.success() {
        bail!(
            "scripts/kafka.sh {command} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// One report sent: when it was due, and the concern's id if it was acknowledged (201).
struct Sent {
    due: Instant,
    answered: Instant,
    id: Option<Uuid>,
}

async fn measure(stack: &mut Stack, broker: &Broker, args: &OutageArgs) -> Result<()> {
    let app = BenchApp::start_all(
        stack,
        &[&trustsafe_incident::SERVICE, &trustsafe_reporting::SERVICE],
    )
    .await?;
    let mut staff = Grants::default();
    staff.schools.insert("raps".into(), [SchoolRole::Staff].into());
    let mut lead = Grants::default();
    lead.trusts
        .insert("viking".into(), [TrustRole::TrustSafeguardingLead].into());
    let hour = Duration::from_secs(3600);
    let staff = app.identity.identity.mint("bench-teacher", None, &staff, hour);
    let lead = app.identity.identity.mint("bench-lead", None, &lead, hour);
    let which = if matches!(broker, Broker::Embedded) {
        "the embedded broker"
    } else {
        "Apache Kafka"
    };
    println!(
        "trustsafe bench outage — {} reports/s through the gateway; {which} away for {} s after {} s, then {} s more",
        args.rate, args.down, args.before, args.after
    );

    // The dashboard's count, read every 100 ms throughout: (when, concerns counted).
    let counted = Arc::new(Mutex::new(Vec::<(Instant, i64)>::new()));
    let watching = tokio::spawn(watch_dashboard(app.gateway_url.clone(), lead, counted.clone()));
    let started = Instant::now();
    let load = tokio::spawn(steady_load(
        format!("{}/api/v1/schools/raps/incidents", app.gateway_url),
        staff,
        args.rate,
        args.before + args.down + args.after,
    ));
    tokio::time::sleep_until(started + Duration::from_secs(args.before)).await;
    // From the moment it is told to go: a Kafka node may take seconds to shut down.
    let went_down = Instant::now();
    broker.down(stack).await?;
    println!("broker away");
    tokio::time::sleep_until(went_down + Duration::from_secs(args.down)).await;
    broker.back(stack).await?;
    let came_back = Instant::now();
    println!("broker back after {:.1} s", (came_back - went_down).as_secs_f64());
    let sent = load.await??;

    let acknowledged: Vec<&Sent> = sent.iter().filter(|sent| sent.id.is_some()).collect();
    let ids: HashSet<Uuid> = acknowledged.iter().filter_map(|sent| sent.id).collect();
    let total = ids.len() as i64;
    let fresh_deadline = Instant::now() + Duration::from_secs(300);
    while last_count(&counted) < total && Instant::now() < fresh_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    watching.abort();
    let counted = counted.lock().expect("the watcher's figures").clone();

    // Freshness before the outage: for the k-th report acknowledged, from its answer until the
    // dashboard counted k; once the consumers have joined (5 s in), and not in the last 2 s, which
    // the outage may catch on their way. After it: until the dashboard counted every report
    // answered while the broker was away.
    let steady = (
        started + Duration::from_secs(5),
        went_down - Duration::from_secs(2),
    );
    let mut answered: Vec<Instant> = acknowledged.iter().map(|sent| sent.answered).collect();
    answered.sort();
    let first_count_reaching = |k: i64, from: Instant| {
        counted
            .iter()
            .find(|(at, count)| *count >= k && *at >= from)
            .map(|(at, _)| *at)
    };
    let mut lags: Vec<Duration> = answered
        .iter()
        .enumerate()
        .filter(|(_, at)| **at >= steady.0 && **at < steady.1)
        .filter_map(|(k, at)| first_count_reaching(k as i64 + 1, *at).map(|seen| seen - *at))
        .collect();
    lags.sort();
    let during_outage = answered.iter().filter(|at| **at < came_back).count() as i64;
    let recovered = first_count_reaching(during_outage, came_back).map(|at| at - came_back);

    let in_store = stored_ids(&app.database_urls[0], "SELECT incident_id FROM concerns").await?;
    let in_model = stored_ids(&app.database_urls[1], "SELECT incident_id FROM concerns").await?;
    let (on_topic, records) = reported_on_topic(&stack.log, &ids).await?;
    let dashboard = counted.last().map_or(0, |(_, count)| *count);
    app.stop().await?;

    let latencies = |phase: &dyn Fn(Instant) -> bool| {
        let mut all: Vec<Duration> = sent
            .iter()
            .filter(|sent| sent.id.is_some() && phase(sent.due))
            .map(|sent| sent.answered - sent.due)
            .collect();
        all.sort();
        (quantile_ms(&all, 0.5), quantile_ms(&all, 0.99))
    };
    let before = latencies(&|due| due < went_down);
    let away = latencies(&|due| due >= went_down && due < came_back);
    let missing = |held: &HashSet<Uuid>| ids.difference(held).count();
    println!();
    println!(
        "reports: {} attempted, {} acknowledged (201), {} refused",
        sent.len(),
        total,
        sent.len() - acknowledged.len()
    );
    println!(
        "report latency: p50 {:.1} / p99 {:.1} ms with the broker, p50 {:.1} / p99 {:.1} ms without it",
        before.0, before.1, away.0, away.1
    );
    println!(
        "lost (acknowledged, then missing): {} from the incident store, {} from the topic, {} from reporting's read model",
        missing(&in_store),
        missing(&on_topic),
        missing(&in_model)
    );
    let strangers = in_model.difference(&ids).count();
    println!(
        "duplicated effects: the dashboard counts {dashboard} of {total}; {strangers} rows in the read model \
         for no acknowledged report; {} records delivered more than once on the topic (dedup makes them harmless)",
        records - on_topic.len(),
    );
    let (p50, p95) = (quantile_ms(&lags, 0.5), quantile_ms(&lags, 0.95));
    match recovered {
        Some(recovered) => println!(
            "fresh again {:.1} s after the broker came back ({during_outage} reports acknowledged while it was away); \
             before the outage a report reached the dashboard in p50 {p50:.0} ms, p95 {p95:.0} ms",
            recovered.as_secs_f64()
        ),
        None => println!(
            "NOT fresh again within 300 s of the broker coming back (counted {dashboard} of {total}); \
             before the outage p50 {p50:.0} ms, p95 {p95:.0} ms"
        ),
    }
    let lost = missing(&in_store) + missing(&on_topic) + missing(&in_model);
    let verdict = if lost == 0 && strangers == 0 && dashboard == total && recovered.is_some() {
        "met"
    } else {
        "MISSED"
    };
    println!("target: 0 lost, 0 duplicated, fresh again: {verdict}");
    Ok(())
}

/// Reads the trust's dashboard every 100 ms and keeps its count of concerns.
async fn watch_dashboard(base: String, lead: String, counted: Arc<Mutex<Vec<(Instant, i64)>>>) {
    let client = reqwest::Client::new();
    loop {
        if let Ok(count) = concerns_counted(&client, &base, &lead).await {
            counted.lock().expect("the figures").push((Instant::now(), count));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The concerns the trust's dashboard counts, all categories together.
pub(crate) async fn concerns_counted(
    client: &reqwest::Client,
    base: &str,
    lead: &str,
) -> reqwest::Result<i64> {
    let url = format!("{base}/api/v1/trusts/viking/dashboard");
    let dashboard: Value = client.get(&url).bearer_auth(lead).send().await?.json().await?;
    Ok(dashboard["total"]["concerns_by_category"]
        .as_object()
        .map_or(0, |counts| counts.values().filter_map(Value::as_i64).sum()))
}

fn last_count(counted: &Mutex<Vec<(Instant, i64)>>) -> i64 {
    counted
        .lock()
        .expect("the figures")
        .last()
        .map_or(0, |(_, count)| *count)
}

/// Reports on a fixed schedule (open loop), for `seconds`.
async fn steady_load(url: String, token: String, rate: u32, seconds: u64) -> Result<Vec<Sent>> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let answers = open_loop(rate, u64::from(rate) * seconds, "reporting concerns", |n| {
        let request = client.post(&url).bearer_auth(&token).json(&json!({
            "category": "cyberbullying",
            "summary": format!("Outage bench concern {n}"),
            "description": "Unkind messages in a class group chat, reported by a teaching assistant.",
            "occurred_at": Utc::now() - chrono::Duration::minutes(30),
        }));
        async move {
            let id = match request.send().await {
                Ok(answer) if answer.status() == 201 => answer
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|concern| concern["id"].as_str()?.parse().ok()),
                _ => None,
            };
            (Instant::now(), id)
        }
    })
    .await?;
    Ok(answers
        .into_iter()
        .map(|(due, (answered, id))| Sent { due, answered, id })
        .collect())
}

async fn stored_ids(database_url: &str, query: &str) -> Result<HashSet<Uuid>> {
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(database_url).await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(query).fetch_all(&mut connection).await?;
    Ok(ids.into_iter().collect())
}

/// The concerns reported on the incident topic (distinct), and how many such records were read:
/// read from the start until every one of `wanted` has been seen, or 60 s without a new record.
async fn reported_on_topic(log: &SharedLog, wanted: &HashSet<Uuid>) -> Result<(HashSet<Uuid>, usize)> {
    let (consumer, _) = super::incident_topic_from_start(log, false)?;
    let (mut seen, mut records) = (HashSet::new(), 0);
    while !wanted.is_subset(&seen) {
        let Ok(message) = tokio::time::timeout(Duration::from_secs(60), consumer.recv()).await else {
            break;
        };
        let Ok(envelope) = from_kafka(&record_of(&message?)) else {
            continue;
        };
        if envelope.event_type == IncidentReported::TYPE
            && let Some(id) = envelope.data["incident_id"]
                .as_str()
                .and_then(|id| id.parse().ok())
        {
            records += 1;
            seen.insert(id);
        }
    }
    Ok((seen, records))
}
