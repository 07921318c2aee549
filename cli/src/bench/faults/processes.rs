//! The platform as separate processes of this binary (`trustsafe serve` for the gateway and each
//! service, `trustsafe broker` for the embedded broker), a private PostgreSQL and, on Apache Kafka,
//! the node `scripts/kafka.sh` runs: each can be killed (SIGKILL) and started again on its port.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::time::Instant;
use trustsafe_devstack::{PrivatePostgres, cluster_dir, ensure_database};
use trustsafe_eventstore::kafka::SharedLog;
use uuid::Uuid;

use crate::bench::outage::kafka_script;
use crate::services;

/// One process of this binary, started again with the same arguments, environment and port.
struct Process {
    name: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    port: u16,
    log: PathBuf,
    running: Option<tokio::process::Child>,
}

impl Process {
    fn start(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let child = tokio::process::Command::new(std::env::current_exe()?)
            .args(&self.args)
            .env_remove("DATABASE_URL")
            .env_remove("KAFKA_BROKERS")
            .envs(self.env.iter().cloned())
            .env(
                "RUST_LOG",
                std::env::var("TRUSTSAFE_FAULTS_RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.name))?;
        self.running = Some(child);
        Ok(())
    }

    /// SIGKILL, and reaped.
    async fn kill(&mut self) {
        if let Some(mut child) = self.running.take() {
            let _ = child.kill().await;
        }
    }

    /// Whether it has ended without being killed here.
    fn ended(&mut self) -> bool {
        self.running
            .as_mut()
            .is_none_or(|child| matches!(child.try_wait(), Ok(Some(_))))
    }
}

enum Broker {
    Embedded(Process),
    Kafka { dir: PathBuf, port: String },
}

/// What a trial kills.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Target {
    Gateway,
    /// Index into the services, in `services::ALL`'s order.
    Service(usize),
    Broker,
    Postgres,
}

pub(super) struct Platform {
    pub gateway_url: String,
    pub log: SharedLog,
    /// Each service's database, by service name.
    pub database_urls: Vec<(&'static str, String)>,
    gateway: Process,
    services: Vec<Process>,
    broker: Broker,
    postgres: Option<PrivatePostgres>,
    postgres_dir: PathBuf,
    postgres_port: u16,
    admin_url: String,
    databases: Vec<String>,
}

/// What every process is given: the bench's own issuer, the tenancy and the pseudonym secret.
pub(super) struct Settings<'a> {
    pub data_dir: &'a Path,
    pub postgres_port: u16,
    pub kafka_dir: Option<&'a Path>,
    pub issuer: &'a str,
    pub public_key_file: &'a Path,
    pub tenancy_file: &'a Path,
    pub pseudonym_secret: &'a str,
}

impl Platform {
    pub async fn start(settings: &Settings<'_>) -> Result<Self> {
        let logs = settings.data_dir.join("logs");
        std::fs::create_dir_all(&logs)?;
        let postgres_dir = cluster_dir(settings.data_dir)?;
        let postgres = start_postgres(&postgres_dir, settings.postgres_port).await?;
        let admin_url = postgres.url();

        let (brokers, broker) = match std::env::var("KAFKA_BROKERS") {
            Ok(brokers) => {
                let dir = settings
                    .kafka_dir
                    .context("on Apache Kafka, --kafka-dir names the node's directory so it can be killed")?;
                let port = brokers.rsplit(':').next().unwrap_or_default().to_owned();
                let broker = Broker::Kafka {
                    dir: dir.to_owned(),
                    port,
                };
                (brokers, broker)
            }
            Err(_) => {
                let port = free_port()?;
                let mut process = Process {
                    name: "broker".into(),
                    args: vec![
                        "broker".into(),
                        "--data-dir".into(),
                        settings.data_dir.join("broker").display().to_string(),
                        "--port".into(),
                        port.to_string(),
                    ],
                    env: Vec::new(),
                    port,
                    log: logs.join("broker.log"),
                    running: None,
                };
                process.start()?;
                wait_listening(port, Duration::from_secs(60)).await?;
                (format!("127.0.0.1:{port}"), Broker::Embedded(process))
            }
        };
        // Topics of this run's own: a broker log kept from an earlier run holds other concerns.
        let namespace = format!("faults-{}.", Uuid::now_v7().simple());
        let log = SharedLog::new(brokers.clone())
            .with_namespace(namespace.clone())
            .map_err(anyhow::Error::msg)?;
        crate::stack::create_topics(&log).await?;

        let common = [
            ("KAFKA_BROKERS".to_owned(), brokers),
            ("TRUSTSAFE_KAFKA_NAMESPACE".to_owned(), namespace),
            ("TRUSTSAFE_AUTH_ISSUER".to_owned(), settings.issuer.to_owned()),
            (
                "TRUSTSAFE_AUTH_PUBLIC_KEY_FILE".to_owned(),
                settings.public_key_file.display().to_string(),
            ),
            (
                "TRUSTSAFE_TENANCY_FILE".to_owned(),
                settings.tenancy_file.display().to_string(),
            ),
            (
                "TRUSTSAFE_PSEUDONYM_SECRET".to_owned(),
                settings.pseudonym_secret.to_owned(),
            ),
        ];
        let serving = |name: &str, port: u16, extra: Vec<(String, String)>| Process {
            name: name.to_owned(),
            args: vec!["serve".into(), name.into()],
            env: common
                .iter()
                .cloned()
                .chain([("TRUSTSAFE_HTTP_ADDR".to_owned(), format!("127.0.0.1:{port}"))])
                .chain(extra)
                .collect(),
            port,
            log: logs.join(format!("{name}.log")),
            running: None,
        };
        let run = Uuid::now_v7().simple().to_string();
        let (mut services, mut databases, mut database_urls, mut upstreams) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for service in services::ALL {
            let database = format!("trustsafe_faults_{}_{run}", service.name);
            let url = ensure_database(&admin_url, &database).await?;
            let port = free_port()?;
            let mut process = serving(service.name, port, vec![("DATABASE_URL".to_owned(), url.clone())]);
            process.start()?;
            upstreams.push((service.url_variable(), format!("http://127.0.0.1:{port}")));
            services.push(process);
            databases.push(database);
            database_urls.push((service.name, url));
        }
        let port = free_port()?;
        let mut gateway = serving("gateway", port, upstreams);
        gateway.start()?;
        let platform = Self {
            gateway_url: format!("http://127.0.0.1:{port}"),
            log,
            database_urls,
            gateway,
            services,
            broker,
            postgres: Some(postgres),
            postgres_dir,
            postgres_port: settings.postgres_port,
            admin_url,
            databases,
        };
        platform.ready(Duration::from_secs(120)).await?;
        Ok(platform)
    }

    /// Every target, in the order the trials take them.
    pub fn targets(&self) -> Vec<Target> {
        let mut targets = vec![Target::Gateway];
        targets.extend((0..self.services.len()).map(Target::Service));
        targets.extend([Target::Broker, Target::Postgres]);
        targets
    }

    pub fn describe(&self, target: Target) -> String {
        match target {
            Target::Gateway => "the gateway".into(),
            Target::Service(index) => {
                let service = services::ALL[index];
                match service.consumers.len() {
                    0 => format!("{} (its API and relay)", service.name),
                    1 => format!("{} (its API, relay and consumer)", service.name),
                    n => format!("{} (its API, relay and {n} consumers)", service.name),
                }
            }
            Target::Broker => match self.broker {
                Broker::Embedded(_) => "the embedded broker".into(),
                Broker::Kafka { .. } => "the Apache Kafka node".into(),
            },
            Target::Postgres => "PostgreSQL".into(),
        }
    }

    pub async fn kill(&mut self, target: Target) -> Result<()> {
        match target {
            Target::Gateway => self.gateway.kill().await,
            Target::Service(index) => self.services[index].kill().await,
            Target::Broker => match &mut self.broker {
                Broker::Embedded(process) => process.kill().await,
                Broker::Kafka { dir, .. } => kill_kafka(dir).await?,
            },
            Target::Postgres => {
                if let Some(postgres) = self.postgres.take() {
                    tokio::task::spawn_blocking(move || postgres.kill()).await?;
                }
            }
        }
        Ok(())
    }

    pub async fn restart(&mut self, target: Target) -> Result<()> {
        match target {
            Target::Gateway => self.gateway.start(),
            Target::Service(index) => self.services[index].start(),
            Target::Broker => match &mut self.broker {
                Broker::Embedded(process) => {
                    process.start()?;
                    wait_listening(process.port, Duration::from_secs(60)).await
                }
                Broker::Kafka { dir, port } => {
                    let (dir, port) = (dir.clone(), port.clone());
                    tokio::task::spawn_blocking(move || kafka_script("start", &dir, Some(&port))).await?
                }
            },
            Target::Postgres => {
                self.postgres = Some(start_postgres(&self.postgres_dir, self.postgres_port).await?);
                Ok(())
            }
        }
    }

    /// Waits until the gateway and every service answer `/readyz` (their database and broker both
    /// answer); a process that ended without being killed is an error, with where its log is.
    pub async fn ready(&self, within: Duration) -> Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()?;
        let deadline = Instant::now() + within;
        let processes: Vec<&Process> = self.services.iter().chain([&self.gateway]).collect();
        for process in processes {
            let url = format!("http://127.0.0.1:{}/readyz", process.port);
            loop {
                let answer = client.get(&url).send().await;
                if answer.is_ok_and(|answer| answer.status() == 200) {
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "{} was not ready within {within:?} (its log: {})",
                        process.name,
                        process.log.display()
                    );
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// The processes that ended without being killed, by name.
    pub fn ended_alone(&mut self) -> Vec<String> {
        let mut ended = Vec::new();
        let broker = match &mut self.broker {
            Broker::Embedded(process) => Some(process),
            Broker::Kafka { .. } => None,
        };
        for process in self.services.iter_mut().chain([&mut self.gateway]).chain(broker) {
            if process.ended() {
                ended.push(process.name.clone());
            }
        }
        ended
    }

    /// Stops every process and drops the run's databases (the broker's log and the cluster stay).
    pub async fn stop(mut self) -> Result<()> {
        self.gateway.kill().await;
        for process in &mut self.services {
            process.kill().await;
        }
        if let Broker::Embedded(process) = &mut self.broker {
            process.kill().await;
        }
        crate::bench::drop_databases(&self.admin_url, &self.databases).await?;
        if let Some(postgres) = self.postgres.take() {
            tokio::task::spawn_blocking(move || postgres.stop()).await?;
        }
        Ok(())
    }
}

/// Starts the cluster, trying again while a killed server's sessions are still on their way out
/// (they hold its shared memory until they notice).
async fn start_postgres(dir: &Path, port: u16) -> Result<PrivatePostgres> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let dir = dir.to_owned();
        match tokio::task::spawn_blocking(move || PrivatePostgres::start(&dir, port)).await? {
            Ok(postgres) => return Ok(postgres),
            Err(err) if Instant::now() > deadline => return Err(err),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// SIGKILL to the node `scripts/kafka.sh start DIR` started, and waits until it is gone.
async fn kill_kafka(dir: &Path) -> Result<()> {
    let pid_file = dir.join("kafka.pid");
    let pid =
        std::fs::read_to_string(&pid_file).with_context(|| format!("reading {}", pid_file.display()))?;
    let pid = pid.trim().to_owned();
    tokio::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .await?;
    while tokio::process::Command::new("kill")
        .args(["-0", &pid])
        .stderr(Stdio::null())
        .status()
        .await?
        .success()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = std::fs::remove_file(pid_file);
    Ok(())
}

async fn wait_listening(port: u16, within: Duration) -> Result<()> {
    let deadline = Instant::now() + within;
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if Instant::now() > deadline {
            bail!("nothing listened on port {port} within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
