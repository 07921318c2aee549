//! `trustsafe bench gateway`: the DSL's concern list (20 concerns, about 15 KB) read by 400 different
//! callers, straight from the incident service, through the gateway, and straight again, at 1, 4 and
//! 16 connections, with the same load generator in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chrono::Utc;
use serde_json::json;
use trustsafe_auth::SchoolRole;
use trustsafe_testkit::Identity;

use super::app::BenchApp;
use super::{bar, quantile_ms};
use crate::stack::{Stack, StackOptions};

#[derive(clap::Args)]
pub struct GatewayArgs {
    /// Seconds of load for each side at each concurrency.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Where the bench's own private PostgreSQL and broker log live (kept apart from `dev`'s).
    #[arg(long, default_value = ".trustsafe-bench")]
    data_dir: std::path::PathBuf,
    /// Port of the private PostgreSQL (ignored when DATABASE_URL is set).
    #[arg(long, default_value_t = 15433)]
    postgres_port: u16,
}

const CONCURRENCIES: [usize; 3] = [1, 4, 16];
const CALLERS: usize = 400;
const CONCERNS: usize = 20;

pub async fn run(args: GatewayArgs) -> Result<()> {
    let stack = Stack::start(&StackOptions {
        data_dir: args.data_dir.clone(),
        kafka_port: 0,
        postgres_port: args.postgres_port,
    })
    .await?;
    let result = measure(&stack, &args).await;
    stack.stop().await;
    result
}

async fn measure(stack: &Stack, args: &GatewayArgs) -> Result<()> {
    let app = BenchApp::start(stack, &trustsafe_incident::SERVICE).await?;
    let (identity, service_url, gateway_url) = (&app.identity, &app.service_url, &app.gateway_url);
    let path = "/api/v1/schools/raps/incidents";
    let result = async {
        seed_concerns(identity, &format!("{service_url}{path}")).await?;
        let tokens: Arc<Vec<String>> = Arc::new(
            (0..CALLERS)
                .map(|n| identity.school_token(&format!("bench-dsl-{n}"), "raps", &[SchoolRole::Dsl]))
                .collect(),
        );
        println!(
            "trustsafe bench gateway — GET {path} ({CONCERNS} concerns) by {CALLERS} DSLs, {} s a side at each concurrency",
            args.seconds
        );
        println!();
        println!(
            "{:>5}  {:<12} {:>8} {:>8} {:>8} {:>11}",
            "conns", "side", "p50 ms", "p90 ms", "p99 ms", "requests/s"
        );
        let mut met = true;
        for connections in CONCURRENCIES {
            // Direct before and after the gateway: their mean is the baseline (the machine drifts over
            // a run), and their difference is how much a p99 moves here with nothing changed.
            let direct = load(&format!("{service_url}{path}"), &tokens, connections, args.seconds, "direct").await?;
            let through =
                load(&format!("{gateway_url}{path}"), &tokens, connections, args.seconds, "gateway").await?;
            let again =
                load(&format!("{service_url}{path}"), &tokens, connections, args.seconds, "direct again").await?;
            for (side, stats) in [("direct", &direct), ("gateway", &through), ("direct again", &again)] {
                println!(
                    "{connections:>5}  {side:<12} {:>8.2} {:>8.2} {:>8.2} {:>11.0}",
                    stats.p50_ms, stats.p90_ms, stats.p99_ms, stats.per_second
                );
            }
            let baseline_p99 = (direct.p99_ms + again.p99_ms) / 2.0;
            let tail = through.p99_ms - baseline_p99;
            let noise = (direct.p99_ms - again.p99_ms).abs();
            let ratio = through.per_second / ((direct.per_second + again.per_second) / 2.0);
            let this_met = tail <= 2.0 && ratio >= 0.8;
            met &= this_met;
            println!(
                "{:>5}  p99 {tail:+.2} ms (target ≤ 2 ms; direct against direct again: {noise:.2} ms), \
                 throughput {ratio:.2}x direct (target ≥ 0.8x): {}",
                "",
                if this_met { "met" } else { "MISSED" }
            );
        }
        println!();
        println!("targets {}", if met { "met at every concurrency" } else { "MISSED" });
        Ok(())
    }
    .await;
    app.stop().await?;
    result
}

/// Twenty concerns reported by a member of staff, so the list is a real one.
async fn seed_concerns(identity: &Identity, url: &str) -> Result<()> {
    let client = reqwest::Client::new();
    let token = identity.school_token("bench-teacher", "raps", &[SchoolRole::Staff]);
    for n in 0..CONCERNS {
        let response = client
            .post(url)
            .bearer_auth(&token)
            .json(&json!({
                "category": "cyberbullying",
                "summary": format!("Unkind messages in a class group chat ({n})"),
                "description": "Messages sent in a Year 6 group chat after school, reported by a teaching assistant \
                                who saw them on a pupil's phone during a lesson; the pupil was upset and asked for help.",
                "occurred_at": Utc::now() - chrono::Duration::hours(n as i64 + 1),
                "location": "Year 6 classroom",
                "people": [
                    {"person_ref": format!("UPN-{n:06}"), "kind": "pupil", "role": "victim"},
                    {"person_ref": format!("UPN-{:06}", n + 100), "kind": "pupil", "role": "alleged"}
                ]
            }))
            .send()
            .await?;
        if response.status() != 201 {
            bail!("seeding concern {n}: {}", response.status());
        }
    }
    Ok(())
}

struct Stats {
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    per_second: f64,
}

/// `connections` clients each sending one request after another for `seconds` (after a second of
/// warm-up), each request as the next of the callers in turn.
async fn load(
    url: &str,
    tokens: &Arc<Vec<String>>,
    connections: usize,
    seconds: u64,
    side: &str,
) -> Result<Stats> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    let duration = Duration::from_secs(seconds);
    let progress = bar(seconds + 1, &format!("{side}, {connections} connections"));
    let ticker = {
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(1));
            interval.tick().await;
            loop {
                interval.tick().await;
                progress.inc(1);
            }
        })
    };
    let warm_up = Instant::now() + Duration::from_secs(1);
    let workers = (0..connections).map(|worker| {
        let (client, url, tokens) = (client.clone(), url.to_owned(), tokens.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = (0u64, None);
            let end = warm_up + duration;
            let mut next = worker;
            while Instant::now() < end {
                let token = &tokens[next % tokens.len()];
                next += connections;
                let started = Instant::now();
                let outcome = match client.get(&url).bearer_auth(token).send().await {
                    Ok(response) if response.status() == 200 => {
                        response.bytes().await.map(drop).map_err(|err| err.to_string())
                    }
                    Ok(response) => Err(format!(
                        "{}: {}",
                        response.status(),
                        response.text().await.unwrap_or_default()
                    )),
                    Err(err) => Err(err.to_string()),
                };
                if started >= warm_up {
                    match outcome {
                        Ok(()) => latencies.push(started.elapsed()),
                        Err(err) => {
                            failures.0 += 1;
                            failures.1.get_or_insert(err);
                        }
                    }
                }
            }
            (latencies, failures)
        })
    });
    let mut latencies = Vec::new();
    let (mut failures, mut first_failure) = (0, None);
    for worker in futures::future::join_all(workers).await {
        let (mine, (failed, first)) = worker?;
        latencies.extend(mine);
        failures += failed;
        first_failure = first_failure.or(first);
    }
    ticker.abort();
    progress.finish_and_clear();
    if failures > 0 || latencies.is_empty() {
        bail!(
            "{url}: {failures} requests failed, the first with {}",
            first_failure.unwrap_or_else(|| "no answer".into())
        );
    }
    latencies.sort();
    Ok(Stats {
        p50_ms: quantile_ms(&latencies, 0.5),
        p90_ms: quantile_ms(&latencies, 0.9),
        p99_ms: quantile_ms(&latencies, 0.99),
        per_second: latencies.len() as f64 / duration.as_secs_f64(),
    })
}
