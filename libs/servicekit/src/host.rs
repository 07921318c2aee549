//! Runs one service: its database (migrated), its outbox relay and its HTTP server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::{Context, Result};
use rdkafka::ClientConfig;
use sqlx::postgres::PgPoolOptions;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use trustsafe_auth::Authenticator;
use trustsafe_eventstore::kafka::SharedLog;
use trustsafe_eventstore::{Consumer, EventStore, Projection, Relay, RelayConfig};
use trustsafe_problem::Problem;
use utoipa_actix_web::AppExt;

use crate::operations::{self, Dependencies};
use crate::{PseudonymKey, Service, Tenancy};

static CONSUMER_RESTARTS: LazyLock<prometheus::IntCounterVec> = LazyLock::new(|| {
    prometheus::register_int_counter_vec!(
        "trustsafe_consumer_restarts_total",
        "Times a consumer stopped and was started again, by consumer",
        &["consumer"]
    )
    .expect("registered once")
});

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
    pub service: &'static Service,
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
    pub service: &'static Service,
    pub store: EventStore,
    pub config: HostConfig,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl ServiceBase {
    pub async fn connect(service: &'static Service, config: &HostConfig) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&config.database_url)
            .await
            .with_context(|| format!("{}: connecting to its database", service.name))?;
        let store = EventStore::new(pool, service.source());
        store
            .migrate()
            .await
            .with_context(|| format!("{}: migrating", service.name))?;
        let mut base = Self {
            service,
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

    /// Runs a consumer for as long as the service runs. A consumer returns only when it cannot go on
    /// (the broker refused it, its database went away): it is started again, waiting longer each
    /// time up to half a minute, and each restart is counted. Poison records are parked and lag is
    /// measured by the consumer kit itself.
    pub fn run_consumer<P: Projection>(&mut self, consumer: Consumer<P>) {
        let name = consumer.name().to_owned();
        debug_assert!(
            self.service.consumers.contains(&name.as_str()),
            "{} runs a consumer {name} it does not declare",
            self.service.name
        );
        self.spawn(|shutdown| async move {
            let mut wait = Duration::from_secs(1);
            while !shutdown.is_cancelled() {
                let started = tokio::time::Instant::now();
                let Err(err) = consumer.run(shutdown.clone()).await else {
                    continue;
                };
                CONSUMER_RESTARTS.with_label_values(&[&name]).inc();
                // A consumer that ran a good while before failing starts again promptly.
                if started.elapsed() > Duration::from_secs(60) {
                    wait = Duration::from_secs(1);
                }
                tracing::warn!(%err, consumer = %name, wait_s = wait.as_secs(), "consumer stopped; restarting");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.cancelled() => {}
                }
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        });
    }

    /// Serves the operations endpoints, `/openapi.json` and the service's routes, with the shared
    /// state its handlers need (`state`).
    pub async fn serve<F>(self, state: F) -> Result<RunningService>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let Self {
            service,
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
        let openapi = web::Data::new(service.openapi());
        let routes = service.routes;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(dependencies.clone())
                .app_data(tenancy.clone())
                .app_data(authenticator.clone())
                .configure(operations::configure)
                .configure(state.clone())
                .into_utoipa_app()
                .configure(routes)
                .into_app()
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
        // Longer than the gateway keeps an idle connection (30 s): the gateway always closes first.
        // With actix's 5 s default a request could be sent on a connection the service was closing
        // that instant, and the caller got a 502 (seen once in CI's schemathesis run).
        .keep_alive(std::time::Duration::from_secs(75))
        .on_connect(no_delay)
        .disable_signals()
        .bind(config.bind)
        .with_context(|| format!("{}: binding {}", service.name, config.bind))?;
        let address = server.addrs()[0];
        let (handle, server_task) = spawn_server(server.run(), service.name);
        tasks.push(server_task);
        Ok(RunningService {
            service,
            address,
            server: handle,
            tasks,
            shutdown,
        })
    }
}

/// Starts a service that has nothing of its own yet but its event store: the host alone.
pub async fn start(service: &'static Service, config: &HostConfig) -> Result<RunningService> {
    ServiceBase::connect(service, config).await?.serve(|_| {}).await
}

/// Sends each write of an answer at once (TCP_NODELAY) on an accepted connection. Without it, an
/// answer written in more than one piece (the gateway streams a service's body on as it arrives)
/// holds its last small piece back until the client acknowledges the first, and a client that
/// delays its acknowledgements (40 ms on Linux) makes that a 40 ms stall.
pub fn no_delay(connection: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>()
        && let Err(err) = stream.set_nodelay(true)
    {
        tracing::debug!(%err, "TCP_NODELAY not set");
    }
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
