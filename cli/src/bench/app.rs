//! One service on a database of its own with the gateway in front: what the service benches measure.

use std::sync::Arc;

use anyhow::Result;
use trustsafe_devstack::ensure_database;
use trustsafe_gateway::{GatewayConfig, RunningGateway, Upstream};
use trustsafe_servicekit::{HostConfig, RunningService, Service, Tenancy};
use trustsafe_testkit::Identity;
use uuid::Uuid;

use crate::stack::Stack;

pub(crate) struct BenchApp {
    pub identity: Identity,
    pub database_url: String,
    /// The service itself, e.g. `http://127.0.0.1:41234`.
    pub service_url: String,
    /// The gateway in front of it.
    pub gateway_url: String,
    database: String,
    admin_database_url: String,
    service: RunningService,
    gateway: RunningGateway,
}

impl BenchApp {
    /// `service` on a fresh database of the stack's PostgreSQL, and the gateway in front with its
    /// rate limit lifted (the rate limit is not what a bench measures).
    pub async fn start(stack: &Stack, service: &'static Service) -> Result<BenchApp> {
        let database = format!("trustsafe_bench_{}", Uuid::now_v7().simple());
        let database_url = ensure_database(&stack.admin_database_url, &database).await?;
        let identity = Identity::new();
        let tenancy = Arc::new(Tenancy::example());
        let running = (service.start)(&HostConfig {
            database_url: database_url.clone(),
            log: stack.log.clone(),
            bind: "127.0.0.1:0".parse()?,
            tenancy: tenancy.clone(),
            authenticator: identity.authenticator.clone(),
            pseudonyms: identity.pseudonyms.clone(),
        })
        .await?;
        let service_url = format!("http://{}", running.address);
        let mut config = GatewayConfig::new("127.0.0.1:0".parse()?, tenancy, identity.authenticator.clone());
        config.upstreams = vec![Upstream::of(service, service_url.clone())];
        config.rate_per_second = 1_000_000;
        config.rate_burst = 1_000_000;
        let gateway = trustsafe_gateway::start(config).await?;
        Ok(BenchApp {
            identity,
            database_url,
            service_url,
            gateway_url: format!("http://{}", gateway.address),
            database,
            admin_database_url: stack.admin_database_url.clone(),
            service: running,
            gateway,
        })
    }

    /// Stops both and drops the database.
    pub async fn stop(self) -> Result<()> {
        self.gateway.stop().await;
        self.service.stop().await;
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&self.admin_database_url).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.database
        ))
        .execute(&mut admin)
        .await?;
        Ok(())
    }
}
