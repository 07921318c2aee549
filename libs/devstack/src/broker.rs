//! A Kafka-protocol broker inside this process (tansu), for `trustsafe dev` and the tests: nothing to
//! install, and a real broker speaking the real protocol to rdkafka.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tansu_broker::broker::Broker;
use tansu_broker::coordinator::group::administrator::Controller;
use tansu_storage::StorageContainer;
use tokio::task::JoinHandle;
use url::Url;
use uuid::Uuid;

type TansuBroker = Broker<Controller<StorageContainer>, StorageContainer>;

/// Where the broker keeps its records.
#[derive(Clone, Debug)]
pub enum BrokerStorage {
    /// Gone with the process; fast. For tests.
    Memory,
    /// A SQLite file: topics, records and committed offsets survive a restart.
    Sqlite(PathBuf),
}

impl BrokerStorage {
    fn url(&self) -> Result<Url> {
        match self {
            BrokerStorage::Memory => Ok(Url::parse("memory://tansu/")?),
            // tansu 0.6 joins the URL's path to the working directory after dropping one leading
            // slash; a path that still starts with "/" after that (`sqlite:////abs`) replaces the
            // working directory, so an absolute path survives.
            BrokerStorage::Sqlite(path) => {
                let path = std::path::absolute(path)?;
                let text = path
                    .to_str()
                    .ok_or_else(|| anyhow!("broker path is not UTF-8: {path:?}"))?;
                Ok(Url::parse(&format!("sqlite:///{text}"))?)
            }
        }
    }
}

/// A running embedded broker. It can be stopped and started again on the same port with the same
/// storage, which is how tests take the broker away from a client and give it back.
pub struct EmbeddedBroker {
    address: SocketAddr,
    template: TansuBroker,
    serving: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a broker on 127.0.0.1:`port` (0: any free port) and waits until it accepts connections.
    pub async fn start(storage: BrokerStorage, port: u16) -> Result<Self> {
        let port = if port == 0 { free_port()? } else { port };
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = Url::parse(&format!("tcp://{address}"))?;
        let template = TansuBroker::builder()
            .node_id(1)
            .cluster_id("trustsafe")
            .incarnation_id(Uuid::now_v7())
            .advertised_listener(listener.clone())
            .storage(storage.url()?)
            .listener(listener)
            .silent(true)
            .build()
            .await
            .map_err(|err| anyhow!("embedded broker: {err:?}"))?;
        if let BrokerStorage::Sqlite(path) = &storage {
            index_record_headers(path).await?;
        }
        let mut broker = Self {
            address,
            template,
            serving: None,
        };
        broker.resume().await?;
        Ok(broker)
    }

    /// `host:port`, for `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> String {
        self.address.to_string()
    }

    /// Closes the listener and every connection; the storage stays.
    pub async fn stop(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.abort();
            let _ = serving.await;
        }
    }

    /// Serves again on the same address, with the same storage.
    pub async fn resume(&mut self) -> Result<()> {
        self.stop().await;
        let mut broker = self.template.clone();
        self.serving = Some(tokio::spawn(async move {
            if let Err(err) = broker.serve(tokio::time::Instant::now()).await {
                tracing::error!(?err, "embedded broker stopped");
            }
        }));
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(self.address).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(anyhow!("embedded broker did not listen on {}", self.address))
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.abort();
        }
    }
}

/// tansu 0.6's SQLite engine looks up each fetched record's headers in a `header` table it leaves
/// unindexed: a full scan per record, every CloudEvents record carrying eight headers. A year of a
/// trust's events made that 3–4 ms a record, a 500-record fetch held the engine's one storage queue
/// for two seconds, and group heartbeats queued behind it until the coordinator dropped consumers
/// (reporting stalled mid-catch-up). With this index a lookup takes about 0.02 ms. The broker
/// has created its tables by now (they are made when it is built); `if not exists` makes this a
/// no-op on every later start.
async fn index_record_headers(path: &Path) -> Result<()> {
    let database = libsql::Builder::new_local(std::path::absolute(path)?)
        .build()
        .await
        .context("opening the broker's SQLite file")?;
    database
        .connect()?
        .execute(
            "create index if not exists trustsafe_header_by_record on header (topition, offset_id)",
            (),
        )
        .await
        .context("indexing the broker's record headers")?;
    Ok(())
}

fn free_port() -> Result<u16> {
    let listener = StdListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// The broker's file under a data directory.
pub fn sqlite_storage(data_dir: &Path) -> BrokerStorage {
    BrokerStorage::Sqlite(data_dir.join("broker.db"))
}
