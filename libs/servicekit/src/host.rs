//! Runs one service: its database (migrated), its outbox relay and its HTTP server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::{Context, Result};
use rdkafka::ClientConfig;
use sqlx::postgres::PgPoolOptions;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use trustsafe_auth::Authenticator;
use trustsafe_eventstore::kafka::SharedLog;
use trustsafe_eventstore::{EventStore, Relay, RelayConfig};
use trustsafe_problem::Problem;

use crate::operations::{self, Dependencies};
use crate::{PseudonymKey, Tenancy};

/// What makes one service itself.
#[derive(Clone, Copy, Debug)]
pub struct ServiceSpec {
    /// `incident`, `filtering`, …: its database is `trustsafe_<name>`, its CloudEvents source `/trustsafe/<name>`.
    pub name: &'static str,
}

impl ServiceSpec {
    /// The service's OpenAPI document so far: its title and the operations endpoints. A service
    /// merges its own API into it.
    pub fn openapi(&self, description: &str) -> utoipa::openapi::OpenApi {
        use utoipa::OpenApi;
        let mut doc = operations::OperationsApi::openapi();
        doc.info = utoipa::openapi::InfoBuilder::new()
            .title(format!("trustsafe {} service", self.name))
            .version("1.0.0")
            .description(Some(description))
            .build();
        doc
    }

    pub fn database(&self) -> String {
        format!("trustsafe_{}", self.name)
    }

    pub fn source(&self) -> String {
        format!("/trustsafe/{}", self.name)
    }
}

#[derive(Clone)]
pub struct HostConfig {
    pub database_url: String,
    /// The shared log: brokers and namespace.
    pub log: SharedLog,
    pub bind: SocketAddr,
    /// The trusts and schools, shared by every service of the process.
    pub tenancy: Arc<Tenancy>,
    /// Verifies the bearer tokens of every request; each service checks grants itself.
    pub authenticator: Arc<Authenticator>,
    /// Every pseudonym the service shows or publishes is keyed by this.
    pub pseudonyms: Arc<PseudonymKey>,
}

pub struct RunningService {
    pub spec: ServiceSpec,
    pub address: SocketAddr,
    server: actix_web::dev::ServerHandle,
    tasks: Vec<JoinHandle<()>>,
    shutdown: CancellationToken,
}

impl RunningService {
    /// Stops taking requests, finishes those in flight, and lets the relay and the other background
    /// tasks finish what they are doing.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.server.stop(true).await;
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// A service being assembled: its database connected and migrated, its outbox relay running. The
/// service adds its own tables, background tasks and routes, then [`ServiceBase::serve`]s.
pub struct ServiceBase {
    pub spec: ServiceSpec,
    pub store: EventStore,
    pub config: HostConfig,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl ServiceBase {
    pub async fn connect(spec: ServiceSpec, config: &HostConfig) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&config.database_url)
            .await
            .with_context(|| format!("{}: connecting to its database", spec.name))?;
        let store = EventStore::new(pool, spec.source());
        store
            .migrate()
            .await
            .with_context(|| format!("{}: migrating", spec.name))?;
        let mut base = Self {
            spec,
            store: store.clone(),
            config: config.clone(),
            shutdown: CancellationToken::new(),
            tasks: Vec::new(),
        };
        let relay = Relay::new(store, &config.log, RelayConfig::default())?;
        base.spawn(|shutdown| async move { relay.run(shutdown).await });
        Ok(base)
    }

    /// Runs `task` beside the service; it is told to finish through its token when the service stops.
    pub fn spawn<F, Fut>(&mut self, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.push(tokio::spawn(task(self.shutdown.clone())));
    }

    /// Serves the operations endpoints, `/openapi.json` and the service's own routes (`api`).
    pub async fn serve<F>(self, openapi: utoipa::openapi::OpenApi, api: F) -> Result<RunningService>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let Self {
            spec,
            store,
            config,
            shutdown,
            mut tasks,
        } = self;
        let kafka_probe = ClientConfig::new()
            .set("bootstrap.servers", &config.log.brokers)
            .create()?;
        let dependencies = web::Data::new(Dependencies {
            pool: store.pool().clone(),
            kafka: Arc::new(kafka_probe),
        });
        let tenancy = web::Data::from(config.tenancy.clone());
        let authenticator = web::Data::from(config.authenticator.clone());
        let openapi = web::Data::new(openapi);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(dependencies.clone())
                .app_data(tenancy.clone())
                .app_data(authenticator.clone())
                .configure(operations::configure)
                .configure(api.clone())
                .app_data(openapi.clone())
                .route(
                    "/openapi.json",
                    web::get().to(|doc: web::Data<utoipa::openapi::OpenApi>| async move {
                        HttpResponse::Ok().json(doc.get_ref())
                    }),
                )
                .default_service(web::route().to(|| async { Err::<HttpResponse, _>(Problem::not_found()) }))
        })
        .workers(2)
        .disable_signals()
        .bind(config.bind)
        .with_context(|| format!("{}: binding {}", spec.name, config.bind))?;
        let address = server.addrs()[0];
        let (handle, server_task) = spawn_server(server.run(), spec.name);
        tasks.push(server_task);
        Ok(RunningService {
            spec,
            address,
            server: handle,
            tasks,
            shutdown,
        })
    }
}

/// Starts a service that has nothing of its own yet but its event store: the host alone.
pub async fn start(
    spec: ServiceSpec,
    config: &HostConfig,
    openapi: utoipa::openapi::OpenApi,
) -> Result<RunningService> {
    ServiceBase::connect(spec, config)
        .await?
        .serve(openapi, |_| {})
        .await
}

/// Runs a started actix server in the background: its handle (to stop it) and its task.
pub fn spawn_server(
    server: actix_web::dev::Server,
    name: &'static str,
) -> (actix_web::dev::ServerHandle, JoinHandle<()>) {
    let handle = server.handle();
    let task = tokio::spawn(async move {
        if let Err(err) = server.await {
            tracing::error!(%err, name, "http server stopped");
        }
    });
    (handle, task)
}
