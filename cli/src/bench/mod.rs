//! `trustsafe bench …`: each figure printed beside its raw baseline from the same run, as a ratio.

mod app;
mod eventstore;
mod faults;
mod filtering;
mod gateway;
mod incidents;
mod outage;
mod reporting;
mod roster;

use std::future::Future;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Subcommand)]
pub enum Target {
    /// Appends/s against raw INSERTs, relay publishes/s against raw produce, and peak memory.
    Eventstore(eventstore::EventstoreArgs),
    /// The crash matrix: each process, the broker and PostgreSQL killed in turn under load; nothing lost, duplicated or out of order.
    Faults(faults::FaultsArgs),
    /// Filter logs parsed on one core against cutting them into lines, and a day's log uploaded end to end.
    Filtering(filtering::FilteringArgs),
    /// An authenticated GET through the gateway against the same GET straight to the service.
    Gateway(gateway::GatewayArgs),
    /// Concerns reported through the gateway at a steady rate, against raw appends of the same event.
    Incidents(incidents::IncidentsArgs),
    /// The broker away for a minute under a steady load of reports: nothing lost, and the time until the dashboard is fresh.
    Outage(outage::OutageArgs),
    /// Dashboard freshness, rebuild against raw consume, and the dashboard over a million concerns.
    Reporting(reporting::ReportingArgs),
    /// A secondary's roster synced in full and in deltas by its MIS, against a raw batched INSERT.
    Roster(roster::RosterArgs),
}

pub async fn run(target: Target) -> anyhow::Result<()> {
    match target {
        Target::Eventstore(args) => eventstore::run(args).await,
        Target::Faults(args) => faults::run(args).await,
        Target::Filtering(args) => filtering::run(args).await,
        Target::Gateway(args) => gateway::run(args).await,
        Target::Incidents(args) => incidents::run(args).await,
        Target::Outage(args) => outage::run(args).await,
        Target::Reporting(args) => reporting::run(args).await,
        Target::Roster(args) => roster::run(args).await,
    }
}

/// Drops a bench run's databases (connected sessions ended).
pub(crate) async fn drop_databases(admin_url: &str, databases: &[String]) -> anyhow::Result<()> {
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(admin_url).await?;
    for database in databases {
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await?;
    }
    Ok(())
}

/// A consumer of no group reading every partition of the incident topic from its start (ending
/// each partition with an end-of-partition event when `to_the_end`), and how many partitions.
pub(crate) fn incident_topic_from_start(
    log: &trustsafe_eventstore::kafka::SharedLog,
    to_the_end: bool,
) -> anyhow::Result<(
    rdkafka::consumer::StreamConsumer<trustsafe_eventstore::kafka::ReadToEnd>,
    usize,
)> {
    use rdkafka::consumer::Consumer;
    let topic = log.topic(trustsafe_events::topics::INCIDENT);
    let consumer: rdkafka::consumer::StreamConsumer<_> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .set("group.id", format!("bench-{}", uuid::Uuid::now_v7()))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", to_the_end.to_string())
        .create_with_context(trustsafe_eventstore::kafka::ReadToEnd)?;
    let metadata = consumer.fetch_metadata(Some(&topic), Duration::from_secs(30))?;
    let partitions = metadata
        .topics()
        .first()
        .map_or(0, |topic| topic.partitions().len());
    let mut assignment = rdkafka::TopicPartitionList::new();
    for partition in 0..partitions as i32 {
        assignment.add_partition_offset(&topic, partition, rdkafka::Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    Ok((consumer, partitions))
}

/// The `quantile` (0 to 1) of sorted latencies, in milliseconds.
pub(crate) fn quantile_ms(sorted: &[Duration], quantile: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        len => sorted[((len - 1) as f64 * quantile) as usize].as_secs_f64() * 1000.0,
    }
}

pub(crate) fn bar(len: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:34} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_owned());
    bar
}

/// Calls `send(n)` for n in 0..`total` on a fixed schedule of `rate` a second (open loop: a slow
/// answer does not slow the sender, so a stall shows in the figures); each result with when it was
/// due, in order.
pub(crate) async fn open_loop<T, F, Fut>(
    rate: u32,
    total: u64,
    label: &str,
    send: F,
) -> anyhow::Result<Vec<(tokio::time::Instant, T)>>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let progress = bar(total, label);
    let started = tokio::time::Instant::now();
    let mut requests = Vec::with_capacity(total as usize);
    for n in 0..total {
        let due = started + interval * n as u32;
        tokio::time::sleep_until(due).await;
        let (request, progress) = (send(n), progress.clone());
        requests.push(tokio::spawn(async move {
            let result = request.await;
            progress.inc(1);
            (due, result)
        }));
    }
    let mut results = Vec::with_capacity(requests.len());
    for request in requests {
        results.push(request.await?);
    }
    progress.finish_and_clear();
    Ok(results)
}

pub(crate) struct Memory {
    pub rss_mib: u64,
    pub peak_mib: u64,
}

/// This process's resident memory now and at its peak, from /proc.
pub(crate) fn memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| {
                line.strip_prefix(name)?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(0)
            / 1024
    };
    Memory {
        rss_mib: field("VmRSS:"),
        peak_mib: field("VmHWM:"),
    }
}
