//! Services, each on a database of its own, with the gateway in front: what the service benches measure.

use std::sync::Arc;

use anyhow::Result;
use trustsafe_devstack::ensure_database;
use trustsafe_gateway::{GatewayConfig, RunningGateway, Upstream};
use trustsafe_servicekit::{HostConfig, PseudonymKey, RunningService, Service, Tenancy};
use trustsafe_testkit::Identity;
use uuid::Uuid;

use crate::stack::Stack;

pub(crate) struct BenchApp {
    pub identity: Identity,
    /// The first service's database.
    pub database_url: String,
    /// Each service's database, in the order they were given.
    pub database_urls: Vec<String>,
    /// The first service itself, e.g. `http://127.0.0.1:41234`.
    pub service_url: String,
    /// The gateway in front of them.
    pub gateway_url: String,
    databases: Vec<String>,
    admin_database_url: String,
    services: Vec<RunningService>,
    gateway: RunningGateway,
}

impl BenchApp {
    /// `service` on a fresh database of the stack's PostgreSQL, and the gateway in front with its
    /// rate limit lifted (the rate limit is not what a bench measures).
    pub async fn start(stack: &Stack, service: &'static Service) -> Result<BenchApp> {
        Self::start_all(stack, &[service]).await
    }

    /// [`BenchApp::start`] for several services sharing the stack's log (the first is the one the
    /// bench talks to directly).
    pub async fn start_all(stack: &Stack, services: &[&'static Service]) -> Result<BenchApp> {
        let identity = Identity::new();
        let tenancy = Arc::new(Tenancy::example());
        let pseudonyms: Arc<PseudonymKey> = identity.pseudonyms.clone();
        let mut config = GatewayConfig::new(
            "127.0.0.1:0".parse()?,
            tenancy.clone(),
            identity.authenticator.clone(),
        );
        config.rate_per_second = 1_000_000;
        config.rate_burst = 1_000_000;
        let (mut databases, mut database_urls, mut running) = (Vec::new(), Vec::new(), Vec::new());
        for service in services {
            let database = format!("trustsafe_bench_{}_{}", service.name, Uuid::now_v7().simple());
            let database_url = ensure_database(&stack.admin_database_url, &database).await?;
            let started = (service.start)(&HostConfig {
                database_url: database_url.clone(),
                log: stack.log.clone(),
                bind: "127.0.0.1:0".parse()?,
                tenancy: tenancy.clone(),
                authenticator: identity.authenticator.clone(),
                pseudonyms: pseudonyms.clone(),
            })
            .await?;
            config
                .upstreams
                .push(Upstream::of(service, format!("http://{}", started.address)));
            databases.push(database);
            database_urls.push(database_url);
            running.push(started);
        }
        let gateway = trustsafe_gateway::start(config).await?;
        Ok(BenchApp {
            identity,
            database_url: database_urls[0].clone(),
            database_urls,
            service_url: format!("http://{}", running[0].address),
            gateway_url: format!("http://{}", gateway.address),
            databases,
            admin_database_url: stack.admin_database_url.clone(),
            services: running,
            gateway,
        })
    }

    /// Stops them all and drops their databases.
    pub async fn stop(self) -> Result<()> {
        self.gateway.stop().await;
        for service in self.services {
            service.stop().await;
        }
        crate::bench::drop_databases(&self.admin_database_url, &self.databases).await?;
        Ok(())
    }
}
