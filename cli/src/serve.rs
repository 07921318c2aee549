//! `trustsafe serve <service>`: one service as its own process, configured from the environment, as
//! production runs it (docker-compose.yml, Kubernetes) against Apache Kafka and PostgreSQL.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use trustsafe_auth::{AuthConfig, Authenticator, KeySource};
use trustsafe_gateway::{GatewayConfig, Upstream};
use trustsafe_servicekit::{HostConfig, PseudonymKey, Tenancy};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// gateway, or one of the services: incident, filtering, aup or reporting.
    service: String,
    /// Where to listen.
    #[arg(long, env = "TRUSTSAFE_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    http_addr: SocketAddr,
    /// The trusts and schools.
    #[arg(long, env = "TRUSTSAFE_TENANCY_FILE")]
    tenancy: PathBuf,
    /// The token issuer (`iss`) to accept.
    #[arg(long, env = "TRUSTSAFE_AUTH_ISSUER")]
    issuer: String,
    /// The audience (`aud`) tokens must name.
    #[arg(long, env = "TRUSTSAFE_AUTH_AUDIENCE", default_value = "trustsafe")]
    audience: String,
    /// Where the issuer publishes its keys.
    #[arg(long, env = "TRUSTSAFE_AUTH_JWKS_URL", conflicts_with = "public_key")]
    jwks_url: Option<String>,
    /// Or one public key (PEM: RSA, EC P-256 or Ed25519).
    #[arg(long, env = "TRUSTSAFE_AUTH_PUBLIC_KEY_FILE")]
    public_key: Option<PathBuf>,
}

fn required(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| format!("{name} is not set"))
}

pub async fn run(args: ServeArgs) -> Result<()> {
    let tenancy = Arc::new(Tenancy::load(&args.tenancy)?);
    let keys = match (&args.jwks_url, &args.public_key) {
        (Some(url), None) => KeySource::jwks_url(url),
        (None, Some(path)) => {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            KeySource::public_key_pem(&pem)?
        }
        _ => bail!("set TRUSTSAFE_AUTH_JWKS_URL or TRUSTSAFE_AUTH_PUBLIC_KEY_FILE"),
    };
    let authenticator = Arc::new(Authenticator::new(AuthConfig {
        issuer: args.issuer.clone(),
        audience: args.audience.clone(),
        keys,
        dev_mode: false,
    })?);

    if args.service == "gateway" {
        let mut config = GatewayConfig::new(args.http_addr, tenancy, authenticator);
        for service in crate::services::ALL {
            config
                .upstreams
                .push(Upstream::of(service, required(&service.url_variable())?));
        }
        let gateway = trustsafe_gateway::start(config).await?;
        eprintln!("gateway listening on {}", gateway.address);
        crate::dev::StopSignals::install()?.next().await;
        gateway.stop().await;
        return Ok(());
    }

    let service = crate::services::named(&args.service).with_context(|| {
        format!(
            "no service {:?}: gateway, {}",
            args.service,
            crate::services::names()
        )
    })?;
    let database_url = required("DATABASE_URL")?;
    let pseudonyms = Arc::new(
        PseudonymKey::from_base64(&required("TRUSTSAFE_PSEUDONYM_SECRET")?)
            .context("TRUSTSAFE_PSEUDONYM_SECRET")?,
    );
    let log = crate::stack::shared_log(required("KAFKA_BROKERS")?)?;
    crate::stack::create_topics(&log).await?;
    let config = HostConfig {
        database_url,
        log,
        bind: args.http_addr,
        tenancy,
        authenticator,
        pseudonyms,
    };
    let running = (service.start)(&config).await?;
    eprintln!("{} listening on {}", service.name, running.address);
    crate::dev::StopSignals::install()?.next().await;
    running.stop().await;
    Ok(())
}
