//! `trustsafe`: run the whole platform on one machine, and measure it.

mod bench;
mod broker;
mod dev;
mod identity;
mod replay;
mod serve;
mod services;
mod stack;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "trustsafe",
    version,
    about = "Online-safety records for multi-academy trusts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in this process, with an embedded broker and (unless DATABASE_URL is set) a
    /// private PostgreSQL. Ctrl-C stops everything; a second start finds its data again.
    Dev(dev::DevArgs),
    /// Run one service as its own process, configured from the environment (production).
    Serve(serve::ServeArgs),
    /// Run the embedded broker alone, its log in the data dir (for `serve` without Apache Kafka).
    Broker(broker::BrokerArgs),
    /// Print a signed dev token (alone on the last line) for a role at a school or trust.
    Token(identity::TokenArgs),
    /// Rebuild a read model from offset zero of the shared log (stop `trustsafe dev` first).
    Replay(replay::ReplayArgs),
    /// Measure a part of the platform against its raw baseline, in one run.
    Bench {
        #[command(subcommand)]
        target: bench::Target,
    },
}

#[derive(clap::Args, Clone)]
pub struct StackArgs {
    /// Where the private PostgreSQL cluster and the broker's log live.
    #[arg(long, env = "TRUSTSAFE_DATA_DIR", default_value = ".trustsafe")]
    pub data_dir: PathBuf,
    /// Port of the embedded Kafka-protocol broker (ignored when KAFKA_BROKERS is set).
    #[arg(long, env = "TRUSTSAFE_KAFKA_PORT", default_value_t = 9092)]
    pub kafka_port: u16,
    /// Port of the private PostgreSQL (ignored when DATABASE_URL is set).
    #[arg(long, env = "TRUSTSAFE_POSTGRES_PORT", default_value_t = 15432)]
    pub postgres_port: u16,
}

impl StackArgs {
    fn options(&self) -> stack::StackOptions {
        stack::StackOptions {
            data_dir: self.data_dir.clone(),
            kafka_port: self.kafka_port,
            postgres_port: self.postgres_port,
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let _telemetry = trustsafe_telemetry::init("trustsafe");
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // The chain of causes, without a backtrace: this is for the person at the terminal.
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Dev(args) => dev::run(args).await,
            Command::Broker(args) => broker::run(args).await,
            Command::Token(args) => identity::token(args),
            Command::Serve(args) => serve::run(args).await,
            Command::Replay(args) => replay::run(args).await,
            Command::Bench { target } => bench::run(target).await,
        }
    })
}
