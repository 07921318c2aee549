//! `trustsafe replay reporting`: rebuilds each reporting read model (concerns; breaches and duties;
//! acceptable use) from offset zero of the shared log into fresh tables, with progress, and swaps it
//! in when caught up. With `--data-dir`, stop `trustsafe dev` first (this starts the same private
//! cluster); against `DATABASE_URL` and `KAFKA_BROKERS` it runs beside the reporting service, whose
//! dashboards stay current throughout and whose live consumers wait only for the swap.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::postgres::PgPoolOptions;
use trustsafe_devstack::ensure_database;
use trustsafe_eventstore::{Consumer, EventStore, Projection};

use crate::StackArgs;
use crate::stack::Stack;

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The projection to rebuild: reporting.
    projection: String,
    #[command(flatten)]
    stack: StackArgs,
}

pub async fn run(args: ReplayArgs) -> Result<()> {
    if args.projection != "reporting" {
        bail!("no projection {:?}: reporting", args.projection);
    }
    let stack = Stack::start(&args.stack.options()).await?;
    let result = replay(&stack, &args.stack.data_dir).await;
    stack.stop().await;
    result
}

async fn replay(stack: &Stack, data_dir: &std::path::Path) -> Result<()> {
    let service = &trustsafe_reporting::SERVICE;
    let url = ensure_database(&stack.admin_database_url, &service.database()).await?;
    let pool = PgPoolOptions::new().max_connections(4).connect(&url).await?;
    EventStore::new(pool.clone(), service.source()).migrate().await?;
    trustsafe_reporting::migrate(&pool).await?;
    let key = crate::stack::pseudonym_key(data_dir)?;
    rebuild(
        "reporting",
        &trustsafe_reporting::consumer(pool.clone(), &stack.log, key),
    )
    .await?;
    rebuild(
        "reporting's breaches and duties",
        &trustsafe_reporting::breach_consumer(pool.clone(), &stack.log),
    )
    .await?;
    rebuild(
        "reporting's acceptable use",
        &trustsafe_reporting::acceptable_use_consumer(pool.clone(), &stack.log),
    )
    .await?;
    pool.close().await;
    Ok(())
}

/// Rebuilds one read model with a progress bar, and says how fast it went.
async fn rebuild<P: Projection>(model: &str, consumer: &Consumer<P>) -> Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("replaying {msg} [{bar:30}] {pos}/{len} events {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(model.to_owned());
    let started = std::time::Instant::now();
    let rebuilt = consumer
        .rebuild(|progress| {
            bar.set_length(progress.total);
            bar.set_position(progress.done);
        })
        .await
        .with_context(|| format!("replaying {model}"))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{model} rebuilt from {} events in {seconds:.1} s ({:.0} events/s); swapped in, live consumer held {} ms",
        rebuilt.events,
        rebuilt.events as f64 / seconds.max(1e-6),
        rebuilt.held.as_millis()
    );
    Ok(())
}
