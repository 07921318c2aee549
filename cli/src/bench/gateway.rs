//! `trustsafe bench gateway`: the same cheap authenticated GET, through the gateway and straight to
//! the service, with the same load generator in the same run.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::{Result, bail};
use trustsafe_auth::{Caller, Grants, SchoolRole};
use trustsafe_gateway::{GatewayConfig, Upstream};
use trustsafe_problem::Problem;
use trustsafe_servicekit::Tenancy;
use trustsafe_testkit::Identity;

use super::{bar, quantile_ms};

#[derive(clap::Args)]
pub struct GatewayArgs {
    /// Seconds of load for each side.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
}

/// A service's cheap authenticated read: who the caller is at that school.
async fn roles_here(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, Problem> {
    let school = path.into_inner();
    if !caller.knows_school(&school) {
        return Err(Problem::not_found());
    }
    let roles: Vec<SchoolRole> = caller.school_roles(&school).collect();
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"subject": caller.subject, "school": school, "roles": roles})))
}

pub async fn run(args: GatewayArgs) -> Result<()> {
    let identity = Identity::new();
    let authenticator = identity.authenticator.clone();
    let mut grants = Grants::default();
    grants.schools.insert("raps".into(), [SchoolRole::Dsl].into());
    let token = identity
        .identity
        .mint("bench-dsl", None, &grants, Duration::from_secs(3600));

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let service = format!("http://{}", listener.local_addr()?);
    let service_auth = web::Data::from(authenticator.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(service_auth.clone())
            .route("/api/v1/schools/{school_id}/whoami", web::get().to(roles_here))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    let service_handle = server.handle();
    tokio::spawn(server);

    let mut config = GatewayConfig::new(
        "127.0.0.1:0".parse()?,
        Arc::new(Tenancy::example()),
        authenticator,
    );
    config.upstreams = vec![Upstream {
        name: "bench",
        base_url: service.clone(),
        school_resources: vec!["whoami"],
        trust_resources: Vec::new(),
    }];
    // The rate limit is not what is measured here.
    config.rate_per_second = 1_000_000;
    config.rate_burst = 1_000_000;
    let gateway = trustsafe_gateway::start(config).await?;
    let path = "/api/v1/schools/raps/whoami";

    println!(
        "trustsafe bench gateway — {} connections, {} s a side, GET {path} with a bearer token",
        args.connections, args.seconds
    );
    let direct = load(
        &format!("{service}{path}"),
        &token,
        &args,
        "straight to the service",
    )
    .await?;
    let through = load(
        &format!("http://{}{path}", gateway.address),
        &token,
        &args,
        "through the gateway",
    )
    .await?;

    println!();
    println!(
        "{:<24} {:>10} {:>10} {:>12}",
        "", "p50 ms", "p99 ms", "requests/s"
    );
    for (name, stats) in [
        ("straight to the service", &direct),
        ("through the gateway", &through),
    ] {
        println!(
            "{name:<24} {:>10.3} {:>10.3} {:>12.0}",
            stats.p50_ms, stats.p99_ms, stats.per_second
        );
    }
    let overhead = through.p50_ms - direct.p50_ms;
    let ratio = through.per_second / direct.per_second;
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    println!(
        "p50 overhead {overhead:.3} ms (target ≤ 1 ms: {})",
        verdict(overhead <= 1.0)
    );
    println!(
        "throughput {ratio:.2}x direct (target ≥ 0.7x: {})",
        verdict(ratio >= 0.7)
    );

    gateway.stop().await;
    service_handle.stop(true).await;
    Ok(())
}

struct Stats {
    p50_ms: f64,
    p99_ms: f64,
    per_second: f64,
}

/// `connections` clients each sending one request after another for `seconds`, after a short warm-up.
async fn load(url: &str, token: &str, args: &GatewayArgs, label: &str) -> Result<Stats> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .build()?;
    let duration = Duration::from_secs(args.seconds);
    let progress = bar(args.seconds, label);
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
    let workers = (0..args.connections).map(|_| {
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            let end = warm_up + duration;
            while Instant::now() < end {
                let started = Instant::now();
                let ok = match client.get(&url).bearer_auth(&token).send().await {
                    Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if started >= warm_up {
                    if ok {
                        latencies.push(started.elapsed())
                    } else {
                        failures += 1
                    }
                }
            }
            (latencies, failures)
        })
    });
    let mut latencies = Vec::new();
    let mut failures = 0;
    for worker in futures::future::join_all(workers).await {
        let (mine, failed) = worker?;
        latencies.extend(mine);
        failures += failed;
    }
    ticker.abort();
    progress.finish_and_clear();
    if failures > 0 || latencies.is_empty() {
        bail!("{label}: {failures} requests failed");
    }
    latencies.sort();
    Ok(Stats {
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
        per_second: latencies.len() as f64 / duration.as_secs_f64(),
    })
}
