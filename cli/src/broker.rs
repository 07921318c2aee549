//! `trustsafe broker`: the embedded broker alone, as a process of its own, its log in a SQLite file
//! under the data dir. For `trustsafe serve` on one machine without Apache Kafka, and for
//! `bench faults`, which kills it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use trustsafe_devstack::{EmbeddedBroker, sqlite_storage};

#[derive(clap::Args)]
pub struct BrokerArgs {
    /// Where its log lives (`broker.db`).
    #[arg(long, env = "TRUSTSAFE_DATA_DIR", default_value = ".trustsafe")]
    data_dir: PathBuf,
    /// The port to listen on, on 127.0.0.1.
    #[arg(long, env = "TRUSTSAFE_KAFKA_PORT", default_value_t = 9092)]
    port: u16,
}

pub async fn run(args: BrokerArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let mut broker = EmbeddedBroker::start(sqlite_storage(&args.data_dir), args.port)
        .await
        .with_context(|| format!("starting the embedded broker on port {}", args.port))?;
    eprintln!("broker listening on {}", broker.bootstrap_servers());
    crate::dev::StopSignals::install()?.next().await;
    broker.stop().await;
    Ok(())
}
