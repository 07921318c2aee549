//! `trustsafe bench incidents`: concerns reported through the gateway at a steady rate, beside the
//! event store's raw append rate of the same event, in the same run.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chrono::Utc;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use trustsafe_auth::{Grants, SchoolRole};
use trustsafe_events::Actor;
use trustsafe_events::incident::{Category, ConcernSource, PersonInvolved, PersonKind, PersonRole};
use trustsafe_eventstore::{AppendContext, EventStore, ExpectedVersion, NewEvent};
use trustsafe_incident::domain::concern::{NewReport, report};
use trustsafe_incident::domain::workflow;
use uuid::Uuid;

use super::app::BenchApp;
use super::{bar, memory, open_loop, quantile_ms};
use crate::stack::{Stack, StackOptions};

#[derive(clap::Args)]
pub struct IncidentsArgs {
    /// Where the bench's own private PostgreSQL and broker log live (kept apart from `dev`'s).
    #[arg(long, default_value = ".trustsafe-bench")]
    data_dir: std::path::PathBuf,
    /// Port of the private PostgreSQL (ignored when DATABASE_URL is set).
    #[arg(long, default_value_t = 15433)]
    postgres_port: u16,
    /// Reports sent per second, on a fixed schedule whatever the answers' pace.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Seconds of steady load, after two of warm-up.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Raw appends timed for the baseline.
    #[arg(long, default_value_t = 3000)]
    appends: usize,
}

pub async fn run(args: IncidentsArgs) -> Result<()> {
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

async fn measure(stack: &Stack, args: &IncidentsArgs) -> Result<()> {
    let app = BenchApp::start(stack, &trustsafe_incident::SERVICE).await?;
    let identity = &app.identity;
    let mut grants = Grants::default();
    grants.schools.insert("raps".into(), [SchoolRole::Staff].into());
    let token = identity
        .identity
        .mint("bench-teacher", None, &grants, Duration::from_secs(3600));
    let url = format!("{}/api/v1/schools/raps/incidents", app.gateway_url);

    println!(
        "trustsafe bench incidents — POST {url} at {} requests/s for {} s (after 2 s of warm-up)",
        args.rate, args.seconds
    );
    let through = steady_load(&url, &token, args).await;
    let raw = raw_appends(&app.database_url, args.appends).await;
    let peak = memory();
    app.stop().await?;
    let (through, raw) = (through?, raw?);

    println!();
    println!("{:<44} {:>10} {:>9} {:>9}", "", "per second", "p50 ms", "p99 ms");
    println!(
        "{:<44} {:>10.0} {:>9.2} {:>9.2}",
        "reports through the gateway (201 Created)", through.per_second, through.p50_ms, through.p99_ms
    );
    println!(
        "{:<44} {:>10.0} {:>9.2} {:>9.2}",
        "raw event store append, same event (baseline)", raw.per_second, raw.p50_ms, raw.p99_ms
    );
    let verdict = if through.p99_ms <= 25.0 { "met" } else { "MISSED" };
    println!(
        "p99 {:.2} ms at {:.0}/s (target ≤ 25 ms: {verdict}); a report costs {:.1}x a raw append at p50; \
         the store appends {:.1}x the offered rate",
        through.p99_ms,
        through.per_second,
        through.p50_ms / raw.p50_ms,
        raw.per_second / f64::from(args.rate)
    );
    println!(
        "memory: {} MiB peak (the whole stack in this process; PostgreSQL's own processes aside)",
        peak.peak_mib
    );
    Ok(())
}

struct Figures {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Sends reports on a fixed schedule (open loop): each latency runs from the moment its request was
/// due, so a stall shows in the figures instead of quietly slowing the sender.
async fn steady_load(url: &str, token: &str, args: &IncidentsArgs) -> Result<Figures> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let warm_up = u64::from(args.rate) * 2;
    let total = warm_up + u64::from(args.rate) * args.seconds;
    let started = Instant::now();
    let answers = open_loop(args.rate, total, "reporting concerns", |n| {
        let request = client.post(url).bearer_auth(token).json(&json!({
            "category": "cyberbullying",
            "summary": format!("Bench concern {n}"),
            "description": "Unkind messages in a class group chat, reported by a teaching assistant.",
            "occurred_at": Utc::now() - chrono::Duration::minutes(30),
            "people": [{"person_ref": format!("UPN-{n:06}"), "kind": "pupil", "role": "victim"}]
        }));
        async move {
            let created = matches!(request.send().await, Ok(response) if response.status() == 201);
            (created, tokio::time::Instant::now())
        }
    })
    .await?;
    let measured_for = started.elapsed().as_secs_f64() - 2.0;
    let failures = answers.iter().filter(|(_, (created, _))| !created).count();
    if failures > 0 {
        bail!("{failures} reports were not created");
    }
    let mut latencies: Vec<Duration> = answers
        .iter()
        .skip(warm_up as usize)
        .map(|(due, (_, answered))| *answered - *due)
        .collect();
    latencies.sort();
    Ok(Figures {
        per_second: latencies.len() as f64 / measured_for,
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
    })
}

/// The same `incident.reported.v3` event appended straight to the event store, one after another.
async fn raw_appends(database_url: &str, count: usize) -> Result<Figures> {
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(database_url)
        .await?;
    let store = EventStore::new(pool.clone(), "/trustsafe/bench");
    let defaults = workflow::defaults();
    let context = AppendContext {
        trust_id: "viking".into(),
        school_id: Some("raps".into()),
        actor: Actor::person("bench-teacher", "staff"),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
    };
    let progress = bar(count as u64, "raw appends");
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for n in 0..count {
        let id = Uuid::now_v7();
        let new = NewReport {
            category: Category::Cyberbullying,
            summary: format!("Bench concern {n}"),
            description: "Unkind messages in a class group chat, reported by a teaching assistant.".into(),
            occurred_at: Utc::now() - chrono::Duration::minutes(30),
            location: None,
            subject_staff_role: None,
            people: vec![PersonInvolved {
                person_ref: Some(format!("UPN-{n:06}")),
                person_id: None,
                kind: PersonKind::Pupil,
                role: PersonRole::Victim,
            }],
            roster: Default::default(),
            device_involved: false,
            immediate_risk: false,
            source: ConcernSource::StaffReport,
        };
        let event = report(new, None, (&defaults, 0), id, Utc::now(), &str::to_owned)?;
        let at = Instant::now();
        store
            .append(
                &format!("incident-{id}"),
                ExpectedVersion::NoStream,
                &context,
                &[NewEvent::new(&event, Utc::now())],
            )
            .await?;
        latencies.push(at.elapsed());
        progress.inc(1);
    }
    let elapsed = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    pool.close().await;
    latencies.sort();
    Ok(Figures {
        per_second: count as f64 / elapsed,
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
    })
}
