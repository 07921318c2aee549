//! `trustsafe dev`: the whole platform in one process.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use trustsafe_auth::dev::{self, DevIdentity};
use trustsafe_auth::{AuthConfig, Authenticator};
use trustsafe_devstack::ensure_database;
use trustsafe_gateway::{DemoUser, GatewayConfig, Upstream};
use trustsafe_servicekit::{HostConfig, ServiceSpec, Tenancy};

use crate::StackArgs;
use crate::identity;
use crate::stack::Stack;

#[derive(clap::Args)]
pub struct DevArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// The gateway's port; the services listen on the ports after it.
    #[arg(long, env = "TRUSTSAFE_HTTP_PORT", default_value_t = 8080)]
    http_port: u16,
    /// Address to listen on.
    #[arg(long, env = "TRUSTSAFE_HTTP_HOST", default_value = "127.0.0.1")]
    http_host: std::net::IpAddr,
    /// The trusts and schools (default: the shipped example, deploy/tenancy.example.yaml).
    #[arg(long, env = "TRUSTSAFE_TENANCY_FILE")]
    tenancy: Option<std::path::PathBuf>,
    /// Leave an empty platform empty: without this, a year of demo concerns is written at every school
    /// the first time, so the dashboards have something to show.
    #[arg(long)]
    no_demo_history: bool,
}

pub async fn run(args: DevArgs) -> Result<()> {
    let tenancy = match &args.tenancy {
        Some(path) => Tenancy::load(path)?,
        None => Tenancy::example(),
    };
    let stack = Stack::start(&args.stack.options()).await?;

    let identity =
        DevIdentity::load_or_create(&args.stack.data_dir.join("identity")).context("the dev signing key")?;
    let authenticator = Arc::new(Authenticator::new(AuthConfig {
        issuer: dev::DEV_ISSUER.into(),
        audience: dev::AUDIENCE.into(),
        keys: identity.key_source(),
        dev_mode: true,
    })?);
    let demo_tokens: Vec<(String, String)> = identity::demo_grants(&tenancy)
        .iter()
        .map(|grant| (grant.describe(), identity::mint(&identity, grant, None)))
        .collect();
    // Written before anything listens, so whoever finds the platform ready finds the tokens too.
    let tokens_file = args.stack.data_dir.join("demo-tokens.txt");
    let listing: String = demo_tokens
        .iter()
        .map(|(who, token)| format!("{who}\t{token}\n"))
        .collect();
    std::fs::write(&tokens_file, &listing).context("writing the demo tokens")?;
    let tenancy = Arc::new(tenancy);
    // Each service gets its own database and the next HTTP port after the gateway's.
    let host = |spec: ServiceSpec, offset: u16| {
        let (stack, tenancy, authenticator) = (&stack, tenancy.clone(), authenticator.clone());
        async move {
            let database_url = ensure_database(&stack.admin_database_url, &spec.database()).await?;
            let port = args
                .http_port
                .checked_add(offset)
                .context("--http-port is too high")?;
            Ok::<_, anyhow::Error>(HostConfig {
                database_url,
                brokers: stack.brokers.clone(),
                bind: SocketAddr::new(args.http_host, port),
                tenancy,
                authenticator,
            })
        }
    };
    let incident = host(trustsafe_incident::SPEC, 1).await?;
    let services = vec![
        trustsafe_incident::start(&incident).await?,
        trustsafe_filtering::start(&host(trustsafe_filtering::SPEC, 2).await?).await?,
        trustsafe_aup::start(&host(trustsafe_aup::SPEC, 3).await?).await?,
        trustsafe_reporting::start(&host(trustsafe_reporting::SPEC, 4).await?).await?,
    ];

    // The front door, routing each school resource to the service that owns it.
    let mut gateway = GatewayConfig::new(
        SocketAddr::new(args.http_host, args.http_port),
        tenancy.clone(),
        authenticator,
    );
    gateway.jwks = Some(identity.jwks());
    gateway.demo_users = demo_tokens
        .iter()
        .map(|(who, token)| DemoUser {
            who: who.clone(),
            token: token.clone(),
        })
        .collect();
    for service in &services {
        gateway
            .upstreams
            .push(upstream(service.spec, format!("http://{}", service.address)));
    }
    let gateway = trustsafe_gateway::start(gateway).await?;
    let demo_history = if args.no_demo_history {
        0
    } else {
        // Through the incident service's own core; its relay publishes it and reporting reads it.
        trustsafe_incident::demo::seed_history(&incident, chrono::Utc::now())
            .await
            .context("writing the demo history")?
    };

    println!(
        "trustsafe dev is running (data in {})",
        args.stack.data_dir.display()
    );
    println!(
        "  kafka       {}{}",
        stack.brokers,
        if stack.embedded_broker() {
            "  (embedded)"
        } else {
            ""
        }
    );
    println!(
        "  postgres    {}{}",
        stack.admin_database_url,
        if stack.private_postgres() {
            "  (private cluster)"
        } else {
            ""
        }
    );
    for trust in &tenancy.trusts {
        let schools: Vec<&str> = trust.schools.iter().map(|school| school.id.as_str()).collect();
        println!(
            "  trust       {} ({}): {}",
            trust.id,
            trust.name,
            schools.join(", ")
        );
    }
    println!(
        "  dashboard   http://{}/  (sign in as a demo user below)",
        gateway.address
    );
    println!(
        "  gateway     http://{}/api/v1/…  /api/docs/  /healthz  /readyz  /metrics  /.well-known/jwks.json",
        gateway.address
    );
    for service in &services {
        let base = format!("http://{}", service.address);
        println!(
            "  {:<11} {base}/healthz  {base}/readyz  {base}/metrics",
            service.spec.name
        );
    }
    println!(
        "demo users (tokens valid 7 days, also in {}):",
        tokens_file.display()
    );
    for (who, token) in &demo_tokens {
        println!("  {who:<34} {token}");
    }
    println!(
        "more: trustsafe token --data-dir {} --school raps --role dsl",
        args.stack.data_dir.display()
    );
    if demo_history > 0 {
        println!(
            "demo history: {demo_history} concerns over the last twelve months (--no-demo-history to skip)"
        );
    }
    println!("Ctrl-C stops everything.");

    stop_requested().await?;
    eprintln!("stopping…");
    gateway.stop().await;
    for service in services {
        service.stop().await;
    }
    stack.stop().await;
    eprintln!("stopped");
    Ok(())
}

/// A service behind the gateway, with the resources it owns under a school's and a trust's paths.
pub fn upstream(spec: ServiceSpec, base_url: String) -> Upstream {
    let (school, trust): (&[&str], &[&str]) = match spec.name {
        "incident" => (trustsafe_incident::SCHOOL_RESOURCES, &[]),
        "filtering" => (trustsafe_filtering::SCHOOL_RESOURCES, &[]),
        "aup" => (trustsafe_aup::SCHOOL_RESOURCES, &[]),
        "reporting" => (
            trustsafe_reporting::SCHOOL_RESOURCES,
            trustsafe_reporting::TRUST_RESOURCES,
        ),
        _ => (&[], &[]),
    };
    Upstream {
        name: spec.name,
        base_url,
        school_resources: school.to_vec(),
        trust_resources: trust.to_vec(),
    }
}

/// Ctrl-C in a terminal, SIGTERM from a process manager.
pub async fn stop_requested() -> Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("waiting for Ctrl-C"),
        _ = terminate.recv() => Ok(()),
    }
}
