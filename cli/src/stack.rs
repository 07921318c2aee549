//! The infrastructure under `trustsafe dev` and `trustsafe bench`: PostgreSQL and a Kafka-protocol
//! broker, embedded unless `DATABASE_URL` / `KAFKA_BROKERS` point elsewhere, and the topics.

use std::path::PathBuf;

use anyhow::{Context, Result};
use trustsafe_devstack::{EmbeddedBroker, PrivatePostgres, cluster_dir, sqlite_storage};
use trustsafe_events::topics;
use trustsafe_eventstore::kafka::{self, SharedLog};
use trustsafe_servicekit::PseudonymKey;

pub struct Stack {
    pub admin_database_url: String,
    pub log: SharedLog,
    postgres: Option<PrivatePostgres>,
    broker: Option<EmbeddedBroker>,
}

pub struct StackOptions {
    pub data_dir: PathBuf,
    pub kafka_port: u16,
    pub postgres_port: u16,
}

impl Stack {
    pub async fn start(options: &StackOptions) -> Result<Self> {
        std::fs::create_dir_all(&options.data_dir)
            .with_context(|| format!("creating the data directory {}", options.data_dir.display()))?;
        let data_dir = std::path::absolute(&options.data_dir)?;

        let (admin_database_url, postgres) = match std::env::var("DATABASE_URL") {
            Ok(url) => (url, None),
            Err(_) => {
                let dir = cluster_dir(&data_dir)?;
                eprintln!(
                    "starting a private PostgreSQL in {} on port {}",
                    dir.display(),
                    options.postgres_port
                );
                let cluster = tokio::task::spawn_blocking({
                    let port = options.postgres_port;
                    move || PrivatePostgres::start(&dir, port)
                })
                .await??;
                (cluster.url(), Some(cluster))
            }
        };

        let (brokers, broker) = match std::env::var("KAFKA_BROKERS") {
            Ok(brokers) => (brokers, None),
            Err(_) => {
                let broker = EmbeddedBroker::start(sqlite_storage(&data_dir), options.kafka_port)
                    .await
                    .with_context(|| {
                        format!("starting the embedded broker on port {}", options.kafka_port)
                    })?;
                (broker.bootstrap_servers(), Some(broker))
            }
        };
        let log = shared_log(brokers)?;
        create_topics(&log).await?;
        Ok(Self {
            admin_database_url,
            log,
            postgres,
            broker,
        })
    }

    pub fn embedded_broker(&self) -> bool {
        self.broker.is_some()
    }

    /// Takes the embedded broker away (its port refuses connections), keeping its log.
    pub async fn stop_broker(&mut self) {
        if let Some(broker) = &mut self.broker {
            broker.stop().await;
        }
    }

    /// Serves the embedded broker again on the same port, with everything it held.
    pub async fn resume_broker(&mut self) -> Result<()> {
        match &mut self.broker {
            Some(broker) => broker.resume().await,
            None => Ok(()),
        }
    }

    pub fn private_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub async fn stop(mut self) {
        if let Some(mut broker) = self.broker.take() {
            broker.stop().await;
        }
        if let Some(postgres) = self.postgres.take() {
            let _ = tokio::task::spawn_blocking(move || postgres.stop()).await;
        }
    }
}

/// The pseudonym secret: `TRUSTSAFE_PSEUDONYM_SECRET` when set, else the data dir's own (made on
/// first use), so `trustsafe dev` and `trustsafe replay` on one data dir name cases alike.
pub fn pseudonym_key(data_dir: &std::path::Path) -> Result<std::sync::Arc<PseudonymKey>> {
    let key = match std::env::var("TRUSTSAFE_PSEUDONYM_SECRET") {
        Ok(secret) => PseudonymKey::from_base64(&secret).context("TRUSTSAFE_PSEUDONYM_SECRET")?,
        Err(_) => PseudonymKey::load_or_create(&data_dir.join("identity").join("pseudonym-secret"))
            .context("the pseudonym secret")?,
    };
    Ok(std::sync::Arc::new(key))
}

/// The log at `brokers`, under `TRUSTSAFE_KAFKA_NAMESPACE` when it is set.
pub fn shared_log(brokers: String) -> Result<SharedLog> {
    let log = SharedLog::new(brokers);
    match std::env::var("TRUSTSAFE_KAFKA_NAMESPACE") {
        Ok(namespace) => log
            .with_namespace(namespace)
            .map_err(anyhow::Error::msg)
            .context("TRUSTSAFE_KAFKA_NAMESPACE"),
        Err(_) => Ok(log),
    }
}

/// Creates the platform's topics that do not exist yet and checks those that do
/// (`TRUSTSAFE_TOPIC_PARTITIONS`; `TRUSTSAFE_TOPIC_REPLICATION`, else three or every broker).
pub async fn create_topics(log: &SharedLog) -> Result<()> {
    let settings = kafka::TopicSettings {
        partitions: env_number("TRUSTSAFE_TOPIC_PARTITIONS", 3)?,
        replication: match std::env::var("TRUSTSAFE_TOPIC_REPLICATION") {
            Ok(_) => Some(env_number("TRUSTSAFE_TOPIC_REPLICATION", 1)?),
            Err(_) => None,
        },
    };
    kafka::ensure_topics(log, &topics::ALL, settings)
        .await
        .map_err(anyhow::Error::msg)
        .context("the platform's topics")
}

fn env_number(name: &str, default: i32) -> Result<i32> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .with_context(|| format!("{name} must be a whole number, not {value:?}")),
        Err(_) => Ok(default),
    }
}
