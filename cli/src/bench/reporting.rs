//! `trustsafe bench reporting`: how fresh the trust's dashboard is, how fast the read model rebuilds
//! against a raw consume of the same topic, and how fast the dashboard answers over a million concerns.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use trustsafe_auth::{Authenticator, Grants, SchoolRole, TrustRole};
use trustsafe_devstack::ensure_database;
use trustsafe_events::incident::{Category, ConcernSource, HandledBy, PlannedStep};
use trustsafe_events::{
    Actor, Envelope, Event, KafkaRecord, TraceContext, incident::IncidentReported, to_kafka,
};
use trustsafe_eventstore::kafka;
use trustsafe_eventstore::kafka::SharedLog;
use trustsafe_gateway::{GatewayConfig, Upstream};
use trustsafe_servicekit::tenancy::{PolicyDates, School, Trust};
use trustsafe_servicekit::{HostConfig, Tenancy};
use trustsafe_testkit::Identity;
use uuid::Uuid;

use super::{bar, quantile_ms};
use crate::stack::{Stack, StackOptions};

#[derive(clap::Args)]
pub struct ReportingArgs {
    /// Where the bench's own private PostgreSQL and broker log live (kept apart from `dev`'s).
    #[arg(long, default_value = ".trustsafe-bench")]
    data_dir: std::path::PathBuf,
    /// Port of the private PostgreSQL (ignored when DATABASE_URL is set).
    #[arg(long, default_value_t = 15433)]
    postgres_port: u16,
    /// Concerns reported one after another, each timed until the trust's dashboard counts it.
    #[arg(long, default_value_t = 200)]
    fresh: usize,
    /// Events on the topic for the rebuild, produced in multi-record batches and applied live first.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Concerns in the read model for the dashboard's query, across `--schools` schools.
    #[arg(long, default_value_t = 1_000_000)]
    concerns: usize,
    #[arg(long, default_value_t = 100)]
    schools: usize,
    /// Dashboard requests timed.
    #[arg(long, default_value_t = 50)]
    queries: usize,
}

pub async fn run(args: ReportingArgs) -> Result<()> {
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

/// A trust of `count` generated schools beside the example tenancy, for the query at scale.
fn tenancy(count: usize) -> Tenancy {
    let mut tenancy = Tenancy::example();
    tenancy.trusts.push(Trust {
        id: "bench".into(),
        name: "Bench Academy Trust".into(),
        schools: (0..count)
            .map(|n| School {
                id: format!("bench-{n:03}"),
                name: format!("Bench School {n}"),
                urn: None,
                local_authority: "Kent".into(),
                filtering_provider: None,
                broadband_provider: None,
                online_safety_policy: PolicyDates {
                    approved: None,
                    approved_label: None,
                    next_review: None,
                    next_review_label: None,
                },
            })
            .collect(),
    });
    tenancy
}

struct Platform {
    gateway: trustsafe_gateway::RunningGateway,
    services: Vec<trustsafe_servicekit::RunningService>,
    reporting_db: String,
    databases: Vec<String>,
    /// The services' pseudonym key, which a rebuild of their read model needs too.
    pseudonyms: Arc<trustsafe_servicekit::PseudonymKey>,
}

async fn measure(stack: &Stack, args: &ReportingArgs) -> Result<()> {
    let identity = Identity::new();
    let authenticator = identity.authenticator.clone();
    let tenancy = Arc::new(tenancy(args.schools));
    let platform = start(stack, &tenancy, &authenticator).await?;
    let base = format!("http://{}", platform.gateway.address);
    let token = |grants: Grants| {
        identity
            .identity
            .mint("bench", None, &grants, Duration::from_secs(3600))
    };
    let mut staff = Grants::default();
    staff.schools.insert("raps".into(), [SchoolRole::Staff].into());
    let lead = |trust: &str| {
        let mut grants = Grants::default();
        grants
            .trusts
            .insert(trust.into(), [TrustRole::TrustSafeguardingLead].into());
        token(grants)
    };
    println!("trustsafe bench reporting — broker {}", stack.log.brokers);

    // Each figure is printed as soon as it is measured: a long run shows where it is even without a
    // terminal for the progress bars.
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let result = async {
        let (p50, p95) = freshness(&base, &token(staff), &lead("viking"), args.fresh).await?;
        println!(
            "freshness, report → trust dashboard ({} concerns):  p50 {p50:.0} ms  p95 {p95:.0} ms  (target p95 ≤ 1000 ms: {})",
            args.fresh,
            verdict(p95 <= 1000.0)
        );
        let Replayed { rate, raw, applying, held } = rebuild(stack, &platform, args.events + args.fresh).await?;
        println!(
            "rebuild beside the live consumer ({} events):  replay {rate:.0} events/s  raw rdkafka consume {raw:.0} events/s  ratio {:.2}x  (target ≥ 0.5x: {})  {:.0}% of it applying in PostgreSQL  the swap held the live consumer {} ms",
            args.events + args.fresh,
            rate / raw,
            verdict(rate / raw >= 0.5),
            applying * 100.0,
            held.as_millis()
        );
        let (p50, p95) = query(&platform, &base, &lead("bench"), args).await?;
        println!(
            "trust dashboard over {} concerns in {} schools:  p50 {p50:.0} ms  p95 {p95:.0} ms  (target p95 ≤ 100 ms: {})",
            args.concerns,
            args.schools,
            verdict(p95 <= 100.0)
        );
        Ok::<_, anyhow::Error>(())
    }
    .await;
    platform.gateway.stop().await;
    for service in platform.services {
        service.stop().await;
    }
    crate::bench::drop_databases(&stack.admin_database_url, &platform.databases).await?;
    result
}

async fn start(
    stack: &Stack,
    tenancy: &Arc<Tenancy>,
    authenticator: &Arc<Authenticator>,
) -> Result<Platform> {
    let mut databases = Vec::new();
    let mut services = Vec::new();
    let pseudonyms = Arc::new(trustsafe_servicekit::PseudonymKey::generate());
    for service in [&trustsafe_incident::SERVICE, &trustsafe_reporting::SERVICE] {
        let name = format!("trustsafe_bench_{}_{}", service.name, Uuid::now_v7().simple());
        let config = HostConfig {
            database_url: ensure_database(&stack.admin_database_url, &name).await?,
            log: stack.log.clone(),
            bind: "127.0.0.1:0".parse()?,
            tenancy: tenancy.clone(),
            authenticator: authenticator.clone(),
            pseudonyms: pseudonyms.clone(),
        };
        databases.push(name);
        services.push((service.start)(&config).await?);
    }
    let mut config = GatewayConfig::new("127.0.0.1:0".parse()?, tenancy.clone(), authenticator.clone());
    for service in &services {
        config.upstreams.push(Upstream::of(
            service.service,
            format!("http://{}", service.address),
        ));
    }
    // The rate limit is not what is measured here.
    config.rate_per_second = 1_000_000;
    config.rate_burst = 1_000_000;
    let gateway = trustsafe_gateway::start(config).await?;
    let reporting_db = trustsafe_devstack::database_url(&stack.admin_database_url, &databases[1]);
    Ok(Platform {
        gateway,
        services,
        reporting_db,
        databases,
        pseudonyms,
    })
}

/// Reports concerns one after another; each is timed from the report until the trust's dashboard
/// counts it.
async fn freshness(base: &str, staff: &str, lead: &str, count: usize) -> Result<(f64, f64)> {
    let client = reqwest::Client::new();
    let counted = || async {
        let dashboard: Value = client
            .get(format!("{base}/api/v1/trusts/viking/dashboard"))
            .bearer_auth(lead)
            .send()
            .await?
            .json()
            .await?;
        let total: i64 = dashboard["total"]["concerns_by_category"]
            .as_object()
            .map(|counts| counts.values().filter_map(Value::as_i64).sum())
            .unwrap_or_default();
        Ok::<_, anyhow::Error>(total)
    };
    let progress = bar(count as u64, "report → trust dashboard");
    let mut latencies = Vec::with_capacity(count);
    let already = counted().await?;
    for n in 0..count {
        let started = Instant::now();
        let response = client
            .post(format!("{base}/api/v1/schools/raps/incidents"))
            .bearer_auth(staff)
            .json(&json!({
                "category": "cyberbullying",
                "summary": format!("Freshness {n}"),
                "description": "Unkind messages in a class group chat.",
                "occurred_at": Utc::now() - chrono::Duration::minutes(10)
            }))
            .send()
            .await?;
        if response.status() != 201 {
            bail!("a report was refused: {}", response.text().await?);
        }
        while counted().await? < already + n as i64 + 1 {
            if started.elapsed() > Duration::from_secs(30) {
                bail!("concern {n} did not reach the dashboard within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        latencies.push(started.elapsed());
        progress.inc(1);
    }
    progress.finish_and_clear();
    latencies.sort();
    Ok((quantile_ms(&latencies, 0.5), quantile_ms(&latencies, 0.95)))
}

/// Report events on the incident topic (up to `total` with those already there); the rebuild of
/// the read model from them against a raw rdkafka consume of the very same records, once the live
/// consumer has caught up and is idle.
async fn rebuild(stack: &Stack, platform: &Platform, total: usize) -> Result<Replayed> {
    let live = PgPoolOptions::new()
        .max_connections(1)
        .connect(&platform.reporting_db)
        .await?;
    let applied = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM processed_events WHERE consumer = 'reporting.concerns'",
        )
        .fetch_one(&live)
        .await
    };
    let count = total.saturating_sub(applied().await? as usize);
    let producer: FutureProducer = stack.log.producer().create()?;
    let topic = stack.log.topic(trustsafe_events::topics::INCIDENT);
    let progress = bar(count as u64, "producing events (not timed)");
    let mut deliveries = Vec::with_capacity(count);
    for n in 0..count {
        let record = report_record(n);
        deliveries.push(
            producer
                .send_result(kafka::future_record(&topic, &record))
                .map_err(|(err, _)| err)?,
        );
        if deliveries.len() >= 10_000 {
            for delivery in deliveries.drain(..) {
                delivery.await.context("producer gone")?.map_err(|(err, _)| err)?;
                progress.inc(1);
            }
        }
    }
    for delivery in deliveries {
        delivery.await.context("producer gone")?.map_err(|(err, _)| err)?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    while (applied().await? as usize) < total {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    live.close().await;

    let raw = raw_consume(&stack.log).await?;
    // Beside the running service's live consumer, into its own database, as an operator would.
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&platform.reporting_db)
        .await?;
    let progress = bar(0, "replay reporting");
    let started = Instant::now();
    let rebuilt = trustsafe_reporting::consumer(pool.clone(), &stack.log, platform.pseudonyms.clone())
        .rebuild(|step| {
            progress.set_length(step.total);
            progress.set_position(step.done);
        })
        .await?;
    let took = started.elapsed();
    progress.finish_and_clear();
    pool.close().await;
    Ok(Replayed {
        rate: rebuilt.events as f64 / took.as_secs_f64(),
        raw,
        applying: rebuilt.applying.as_secs_f64() / took.as_secs_f64(),
        held: rebuilt.held,
    })
}

/// A rebuild's rate and a raw consume's (events/s), the share of the rebuild spent applying in
/// PostgreSQL, and how long the swap held the live consumer.
struct Replayed {
    rate: f64,
    raw: f64,
    applying: f64,
    held: Duration,
}

/// Reads the incident topic from the start to its end, doing nothing with the records: events/s.
async fn raw_consume(log: &SharedLog) -> Result<f64> {
    let consumer: StreamConsumer<kafka::ReadToEnd> = log
        .consumer(&format!("bench-raw-{}", Uuid::now_v7()))
        .set("enable.partition.eof", "true")
        .create_with_context(kafka::ReadToEnd)?;
    let topic = &log.topic(trustsafe_events::topics::INCIDENT);
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut assignment = TopicPartitionList::new();
    let mut open = HashSet::new();
    for partition in metadata.topics().iter().flat_map(|topic| topic.partitions()) {
        assignment.add_partition_offset(topic, partition.id(), Offset::Beginning)?;
        open.insert(partition.id());
    }
    consumer.assign(&assignment)?;
    let progress = bar(0, "raw rdkafka consume");
    let started = Instant::now();
    let mut read = 0u64;
    while !open.is_empty() {
        match consumer.recv().await {
            Err(KafkaError::PartitionEOF(partition)) => {
                open.remove(&partition);
            }
            Err(err) => return Err(err.into()),
            Ok(_) => {
                read += 1;
                progress.set_position(read);
            }
        }
    }
    progress.finish_and_clear();
    Ok(read as f64 / started.elapsed().as_secs_f64())
}

fn report_record(n: usize) -> KafkaRecord {
    let id = Uuid::now_v7();
    let at = Utc::now() - chrono::Duration::minutes((n % 50_000) as i64);
    let reported = IncidentReported {
        incident_id: id,
        category: Category::ALL[n % Category::ALL.len()],
        occurred_at: at,
        source: ConcernSource::StaffReport,
        subject_staff_role: None,
        staff_involved: false,
        device_involved: n.is_multiple_of(3),
        immediate_risk: false,
        acknowledge_by: at + chrono::Duration::hours(1),
        steps: ["parents_informed", "debrief"]
            .map(|step| PlannedStep {
                step_id: step.into(),
                title: step.into(),
                due_at: Some(at + chrono::Duration::days(1)),
                completed_by_referral: None,
            })
            .to_vec(),
        workflow_version: 0,
        handled_by: HandledBy::Dsl,
        alleged: Vec::new(),
        restricted: None,
    };
    to_kafka(&Envelope {
        event_id: Uuid::now_v7(),
        event_type: IncidentReported::TYPE.into(),
        source: "/trustsafe/incident".into(),
        stream_id: format!("incident-{id}"),
        stream_version: 1,
        trust_id: "viking".into(),
        school_id: Some(["chilton", "ramsgate-free", "raps"][n % 3].into()),
        occurred_at: at,
        recorded_at: at,
        actor: Actor::person("bench", "staff"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        trace: TraceContext::default(),
        data: serde_json::to_value(&reported).expect("an event serialises"),
    })
}

/// A million concerns across the bench trust's schools over two years, written straight into the read
/// model by SQL (the same rows the projection writes, rollups included), then the trust dashboard
/// timed through the gateway. As in a school, most concerns are closed within weeks.
async fn query(platform: &Platform, base: &str, lead: &str, args: &ReportingArgs) -> Result<(f64, f64)> {
    let pool: PgPool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&platform.reporting_db)
        .await?;
    let progress = bar(args.concerns as u64, "generating concerns (not timed)");
    let chunk = 100_000;
    for start in (0..args.concerns).step_by(chunk) {
        let end = (start + chunk).min(args.concerns);
        sqlx::query(
            "WITH generated AS (
                 SELECT n, gen_random_uuid() AS id, now() - (n % 730) * interval '1 day' - (n % 1440) * interval '1 minute' AS reported_at,
                        -- Open: 30% of the last 30 days' concerns, and one in a thousand older ones.
                        (n % 730 < 30 AND n % 10 < 3) OR n % 1000 = 999 AS open
                   FROM generate_series($1::bigint, $2::bigint - 1) AS n
             ), concerns_in AS (
                 INSERT INTO concerns (incident_id, trust_id, school_id, category, status, pseudonym, reported_at,
                                       acknowledge_by, acknowledged_at, closed_at)
                 SELECT id, 'bench', 'bench-' || lpad((n % $3)::text, 3, '0'),
                        (ARRAY['cyberbullying','nude_image_sharing','online_sexual_abuse','indecent_images_of_children',
                               'radicalisation_extremism','online_hate','staff_online_conduct','offensive_communication',
                               'inappropriate_content','device_misuse','data_security','social_media_misuse','other'])[1 + n % 13],
                        CASE WHEN NOT open THEN 'closed' WHEN n % 10 = 0 THEN 'reported' ELSE 'acknowledged' END,
                        upper(substr(md5(id::text), 1, 12)), reported_at, reported_at + interval '1 hour',
                        CASE WHEN open AND n % 10 = 0 THEN NULL ELSE reported_at + (n % 120) * interval '1 minute' END,
                        CASE WHEN NOT open THEN least(reported_at + (n % 30) * interval '1 day', now()) END
                   FROM generated
                 RETURNING incident_id, school_id, reported_at, status
             )
             INSERT INTO concern_steps (incident_id, school_id, step_id, due_at, completed_at, concern_open)
             SELECT incident_id, school_id, step, reported_at + interval '1 day',
                    CASE WHEN status = 'closed' THEN reported_at END, status <> 'closed'
               FROM concerns_in, unnest(ARRAY['parents_informed', 'debrief']) AS step",
        )
        .bind(start as i64)
        .bind(end as i64)
        .bind(args.schools as i64)
        .execute(&pool)
        .await?;
        progress.inc((end - start) as u64);
    }
    // The rollups the projection would have kept, added up from the generated concerns.
    sqlx::query("SELECT refresh_rollups()").execute(&pool).await?;
    for table in [
        "concerns",
        "concern_steps",
        "monthly_counts",
        "monthly_acknowledgements",
    ] {
        sqlx::query(&format!("VACUUM ANALYZE {table}"))
            .execute(&pool)
            .await?;
    }
    progress.finish_and_clear();
    pool.close().await;

    let client = reqwest::Client::new();
    let url = format!("{base}/api/v1/trusts/bench/dashboard");
    let progress = bar(args.queries as u64, "trust dashboard queries");
    let mut latencies = Vec::with_capacity(args.queries);
    for _ in 0..args.queries {
        let started = Instant::now();
        let response = client.get(&url).bearer_auth(lead).send().await?;
        if response.status() != 200 {
            bail!("the dashboard answered {}", response.status());
        }
        response.bytes().await?;
        latencies.push(started.elapsed());
        progress.inc(1);
    }
    progress.finish_and_clear();
    latencies.sort();
    Ok((quantile_ms(&latencies, 0.5), quantile_ms(&latencies, 0.95)))
}
