//! `trustsafe dev`: the whole platform in one process.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::signal::unix::{Signal, SignalKind, signal};
use trustsafe_auth::dev::{self, DevIdentity};
use trustsafe_auth::{AuthConfig, Authenticator};
use trustsafe_devstack::ensure_database;
use trustsafe_gateway::{DemoUser, GatewayConfig, Upstream};
use trustsafe_servicekit::{HostConfig, Service, Tenancy};

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
    /// No demo sign-in: the dashboard's list of demo users (each with a token) is not served.
    #[arg(long)]
    no_demo_sign_in: bool,
    /// Serve the demo sign-in on an address other than loopback, where anyone who reaches it can sign
    /// in as any demo user, every school's DSL among them.
    #[arg(long)]
    expose_demo_sign_in: bool,
}

impl DevArgs {
    /// Refuses to put the demo sign-in on the network unless asked to, and warns of anything but
    /// loopback: dev mode signs every token with a key kept in the data dir.
    fn check_exposure(&self) -> Result<()> {
        if self.http_host.is_loopback() {
            return Ok(());
        }
        if !self.no_demo_sign_in && !self.expose_demo_sign_in {
            anyhow::bail!(
                "--http-host {} would let anyone who can reach this machine sign in as any demo user, \
                 every school's DSL among them. Pass --no-demo-sign-in, or --expose-demo-sign-in to accept that.",
                self.http_host
            );
        }
        eprintln!(
            "WARNING: trustsafe dev listens on {} (not loopback): its tokens are signed by a dev key in {} \
             and it is not a production server.{}",
            self.http_host,
            self.stack.data_dir.display(),
            if self.no_demo_sign_in {
                ""
            } else {
                " Demo sign-in is exposed: anyone who reaches it can act as any demo user."
            }
        );
        Ok(())
    }
}

/// Runs the platform until Ctrl-C or SIGTERM, which may come at any moment: before the platform is
/// up, what has started is dropped (the private PostgreSQL stops with it); after, everything stops
/// in order; a second signal while it stops ends the process at once (PostgreSQL still stops, as
/// the kernel tells it when this process ends).
pub async fn run(args: DevArgs) -> Result<()> {
    let mut stop = StopSignals::install()?;
    args.check_exposure()?;
    let platform = tokio::select! {
        platform = start(&args) => platform?,
        _ = stop.next() => {
            eprintln!("stopped while starting; the next start carries on where this one was");
            return Ok(());
        }
    };
    let demo_history = if args.no_demo_history {
        DemoHistory::default()
    } else {
        // Through the incident, aup and filtering services' own cores; their relays publish it.
        let seeding = async {
            let now = chrono::Utc::now();
            let concerns = trustsafe_incident::demo::seed_history(&platform.incident, now).await?;
            let agreements = trustsafe_aup::demo::seed(&platform.aup, now).await?;
            let breaches = trustsafe_filtering::demo_history::seed(&platform.filtering, now).await?;
            anyhow::Ok(DemoHistory {
                concerns,
                agreements,
                breaches,
            })
        };
        tokio::select! {
            written = seeding => written.context("writing the demo history")?,
            _ = stop.next() => {
                eprintln!("stopping while writing the demo history; the next start finishes it");
                platform.stop(stop).await;
                return Ok(());
            }
        }
    };
    platform.describe(&args, demo_history);
    stop.next().await;
    eprintln!("stopping…");
    platform.stop(stop).await;
    eprintln!("stopped");
    Ok(())
}

/// What the demo history wrote on this start (nothing where it was written before).
#[derive(Default)]
struct DemoHistory {
    concerns: usize,
    agreements: usize,
    breaches: usize,
}

/// Everything `trustsafe dev` runs.
struct Platform {
    stack: Stack,
    tenancy: Arc<Tenancy>,
    incident: HostConfig,
    aup: HostConfig,
    filtering: HostConfig,
    services: Vec<trustsafe_servicekit::RunningService>,
    gateway: trustsafe_gateway::RunningGateway,
    demo_tokens: Vec<(String, String)>,
    tokens_file: std::path::PathBuf,
}

async fn start(args: &DevArgs) -> Result<Platform> {
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
    let pseudonyms = crate::stack::pseudonym_key(&args.stack.data_dir)?;
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
    write_private(&tokens_file, &listing).context("writing the demo tokens")?;
    let tenancy = Arc::new(tenancy);
    // Each service gets its own database and the next HTTP port after the gateway's.
    let host = |service: &'static Service, offset: u16| {
        let (stack, tenancy, authenticator, pseudonyms) =
            (&stack, tenancy.clone(), authenticator.clone(), pseudonyms.clone());
        async move {
            let database_url = ensure_database(&stack.admin_database_url, &service.database()).await?;
            let port = args
                .http_port
                .checked_add(offset)
                .context("--http-port is too high")?;
            Ok::<_, anyhow::Error>(HostConfig {
                database_url,
                log: stack.log.clone(),
                bind: SocketAddr::new(args.http_host, port),
                tenancy,
                authenticator,
                pseudonyms,
            })
        }
    };
    let mut services = Vec::new();
    let mut configs = std::collections::HashMap::new();
    for (offset, service) in (1..).zip(crate::services::ALL) {
        let config = host(service, offset).await?;
        services.push((service.start)(&config).await?);
        configs.insert(service.name, config);
    }
    // The demo history is written through these three services' cores.
    let mut config_of = |name: &str| {
        configs
            .remove(name)
            .with_context(|| format!("the {name} service is not in the registry"))
    };
    let (incident, aup, filtering) = (
        config_of(trustsafe_incident::SERVICE.name)?,
        config_of(trustsafe_aup::SERVICE.name)?,
        config_of(trustsafe_filtering::SERVICE.name)?,
    );

    // The front door, routing each school resource to the service that owns it.
    let mut gateway = GatewayConfig::new(
        SocketAddr::new(args.http_host, args.http_port),
        tenancy.clone(),
        authenticator,
    );
    gateway.jwks = Some(identity.jwks());
    gateway.demo_users = demo_tokens
        .iter()
        .filter(|_| !args.no_demo_sign_in)
        .map(|(who, token)| DemoUser {
            who: who.clone(),
            token: token.clone(),
        })
        .collect();
    for service in &services {
        gateway.upstreams.push(Upstream::of(
            service.service,
            format!("http://{}", service.address),
        ));
    }
    let gateway = trustsafe_gateway::start(gateway).await?;
    Ok(Platform {
        stack,
        tenancy,
        incident,
        aup,
        filtering,
        services,
        gateway,
        demo_tokens,
        tokens_file,
    })
}

impl Platform {
    /// Stops the gateway, then the services, then the broker and PostgreSQL. A further signal on the
    /// way ends the process there and then.
    async fn stop(self, mut stop: StopSignals) {
        tokio::spawn(async move {
            stop.next().await;
            eprintln!("stopping now");
            std::process::exit(130);
        });
        self.gateway.stop().await;
        for service in self.services {
            service.stop().await;
        }
        self.stack.stop().await;
    }

    fn describe(&self, args: &DevArgs, demo: DemoHistory) {
        let Self {
            stack,
            tenancy,
            services,
            gateway,
            demo_tokens,
            tokens_file,
            ..
        } = self;
        println!(
            "trustsafe dev is running (data in {})",
            args.stack.data_dir.display()
        );
        println!(
            "  kafka       {}{}",
            stack.log.brokers,
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
        for service in services {
            let base = format!("http://{}", service.address);
            println!(
                "  {:<11} {base}/healthz  {base}/readyz  {base}/metrics",
                service.service.name
            );
        }
        println!(
            "demo users (tokens valid 7 days, also in {}):",
            tokens_file.display()
        );
        for (who, token) in demo_tokens {
            println!("  {who:<34} {token}");
        }
        println!(
            "more: trustsafe token --data-dir {} --school raps --role dsl",
            args.stack.data_dir.display()
        );
        if demo.concerns > 0 {
            println!(
                "demo history: {} concerns over the last twelve months (--no-demo-history to skip)",
                demo.concerns
            );
        }
        if demo.agreements > 0 {
            println!(
                "demo roster: {} acceptable-use answers from made-up pupils, parents and staff at every school",
                demo.agreements
            );
        }
        if demo.breaches > 0 {
            println!(
                "demo filtering: {} breaches from a made-up school day's log each month, in each school's provider's format",
                demo.breaches
            );
        }
        println!("Ctrl-C stops everything.");
    }
}

/// Writes `text` to `path` readable by its owner alone (0600), whatever the umask: the demo tokens
/// sign in as every DSL of the tenancy.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // A file made by an older version keeps its mode through open(): set it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}

/// Ctrl-C in a terminal and SIGTERM from a process manager, listened for from the moment they are
/// installed: until then a signal ends the process with no stop code run.
pub struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    pub fn install() -> Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("listening for Ctrl-C")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    /// The next Ctrl-C or SIGTERM.
    pub async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
