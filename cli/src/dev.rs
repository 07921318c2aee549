//! `trustsafe dev`: the whole platform in one process.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use trustsafe_devstack::ensure_database;
use trustsafe_servicekit::{HostConfig, ServiceSpec, Tenancy};

use crate::StackArgs;
use crate::stack::Stack;

/// The services this workspace has, each with its own database and HTTP port.
pub const SERVICES: [ServiceSpec; 3] = [
    ServiceSpec { name: "incident" },
    ServiceSpec { name: "filtering" },
    ServiceSpec { name: "aup" },
];

#[derive(clap::Args)]
pub struct DevArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// The front door (the gateway, once it exists); the services listen on the ports after it.
    #[arg(long, env = "TRUSTSAFE_HTTP_PORT", default_value_t = 8080)]
    http_port: u16,
    /// Address to listen on.
    #[arg(long, env = "TRUSTSAFE_HTTP_HOST", default_value = "127.0.0.1")]
    http_host: std::net::IpAddr,
    /// The trusts and schools (default: the shipped example, deploy/tenancy.example.yaml).
    #[arg(long, env = "TRUSTSAFE_TENANCY_FILE")]
    tenancy: Option<std::path::PathBuf>,
}

pub async fn run(args: DevArgs) -> Result<()> {
    let tenancy = match &args.tenancy {
        Some(path) => Tenancy::load(path)?,
        None => Tenancy::example(),
    };
    let stack = Stack::start(&args.stack.options()).await?;

    let mut running = Vec::new();
    for (n, spec) in SERVICES.iter().enumerate() {
        let database_url = ensure_database(&stack.admin_database_url, &spec.database()).await?;
        let port = args
            .http_port
            .checked_add(1 + n as u16)
            .context("--http-port is too high")?;
        let config = HostConfig {
            database_url,
            brokers: stack.brokers.clone(),
            bind: SocketAddr::new(args.http_host, port),
        };
        running.push(trustsafe_servicekit::start(*spec, &config).await?);
    }

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
    for service in &running {
        let base = format!("http://{}", service.address);
        println!(
            "  {:<11} {base}/healthz  {base}/readyz  {base}/metrics",
            service.spec.name
        );
    }
    println!("Ctrl-C stops everything.");

    stop_requested().await?;
    eprintln!("stopping…");
    for service in running {
        service.stop().await;
    }
    stack.stop().await;
    eprintln!("stopped");
    Ok(())
}

/// Ctrl-C in a terminal, SIGTERM from a process manager.
async fn stop_requested() -> Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("waiting for Ctrl-C"),
        _ = terminate.recv() => Ok(()),
    }
}
