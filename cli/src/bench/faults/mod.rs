//! `trustsafe bench faults`: the crash matrix. The platform runs as separate processes (the gateway,
//! each service with its relay and consumers, the broker, PostgreSQL) under a steady load of
//! concerns reported and acknowledged through the gateway. Trial after trial, one of them in turn is
//! killed (SIGKILL) at a random moment and started again; once all are ready the next trial waits
//! its random moment. Then every answer a client was given is looked for in the incident store, on
//! the topic and in reporting's read model.

mod count;
mod load;
mod processes;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use rand::Rng;
use tokio::time::Instant;
use trustsafe_auth::dev::DevIdentity;
use trustsafe_auth::{Grants, SchoolRole, TrustRole};
use trustsafe_servicekit::PseudonymKey;

use self::load::{Callers, Life, Load};
use self::processes::{Platform, Settings, Target};
use super::bar;
use super::outage::concerns_counted;

/// The issuer of the bench's own tokens: the processes run as production does, not in dev mode.
const ISSUER: &str = "trustsafe-bench-faults";

#[derive(clap::Args)]
pub struct FaultsArgs {
    /// Where the bench's private PostgreSQL, broker log, keys and process logs live. It always runs
    /// a PostgreSQL of its own (it kills it), whatever DATABASE_URL says.
    #[arg(long, default_value = ".trustsafe-faults")]
    data_dir: PathBuf,
    /// Port of the private PostgreSQL.
    #[arg(long, default_value_t = 15434)]
    postgres_port: u16,
    /// Kills in all, taken in turn: the gateway, each service, the broker, PostgreSQL.
    #[arg(long, default_value_t = 100)]
    trials: usize,
    /// Concerns reported a second through the gateway (each then acknowledged by a DSL).
    #[arg(long, default_value_t = 10)]
    rate: u32,
    /// With KAFKA_BROKERS: the node's directory (`scripts/kafka.sh start DIR`), so it can be killed
    /// and started again.
    #[arg(long)]
    kafka_dir: Option<PathBuf>,
}

pub async fn run(args: FaultsArgs) -> Result<()> {
    let data_dir = std::path::absolute(&args.data_dir)?;
    let keys = data_dir.join("identity");
    std::fs::create_dir_all(&keys)?;
    let identity = DevIdentity::load_or_create(&keys)?.issuing_as(ISSUER);
    let public_key_file = keys.join("bench-issuer.pem");
    std::fs::write(&public_key_file, identity.public_key_pem())?;
    let tenancy_file = data_dir.join("tenancy.yaml");
    std::fs::write(&tenancy_file, trustsafe_servicekit::tenancy::EXAMPLE)?;
    let secret_file = keys.join("pseudonym-secret");
    PseudonymKey::load_or_create(&secret_file)?;
    let pseudonym_secret = std::fs::read_to_string(&secret_file)?;

    let mut platform = Platform::start(&Settings {
        data_dir: &data_dir,
        postgres_port: args.postgres_port,
        kafka_dir: args.kafka_dir.as_deref(),
        issuer: ISSUER,
        public_key_file: &public_key_file,
        tenancy_file: &tenancy_file,
        pseudonym_secret: pseudonym_secret.trim(),
    })
    .await?;
    let result = measure(&mut platform, &identity, &args).await;
    let stopped = platform.stop().await;
    result.and(stopped)
}

async fn measure(platform: &mut Platform, identity: &DevIdentity, args: &FaultsArgs) -> Result<()> {
    let hour = Duration::from_secs(3600);
    let token = |subject: String, grants: &Grants| identity.mint(&subject, None, grants, hour);
    let school = |role: SchoolRole| {
        let mut grants = Grants::default();
        grants.schools.insert("raps".into(), [role].into());
        grants
    };
    let callers = Arc::new(Callers {
        staff: (0..20)
            .map(|n| token(format!("bench-teacher-{n}"), &school(SchoolRole::Staff)))
            .collect(),
        dsls: (0..20)
            .map(|n| token(format!("bench-dsl-{n}"), &school(SchoolRole::Dsl)))
            .collect(),
    });
    let mut lead = Grants::default();
    lead.trusts
        .insert("viking".into(), [TrustRole::TrustSafeguardingLead].into());
    let lead = token("bench-lead".into(), &lead);

    let targets = platform.targets();
    println!(
        "trustsafe bench faults — {} concerns/s reported and acknowledged through the gateway; {} kills (SIGKILL) in turn of:",
        args.rate, args.trials
    );
    for target in &targets {
        println!("  {}", platform.describe(*target));
    }
    let load = Load::start(platform.gateway_url.clone(), callers, args.rate);
    let progress = bar(args.trials as u64, "killing and restarting");
    // For each target: how long after its kill every process was ready again.
    let mut recovered: BTreeMap<Target, Vec<Duration>> = BTreeMap::new();
    for trial in 0..args.trials {
        let target = targets[trial % targets.len()];
        progress.set_message(platform.describe(target));
        let (moment, down) = {
            let mut random = rand::rng();
            (
                Duration::from_millis(random.random_range(500..3000)),
                Duration::from_millis(random.random_range(0..1000)),
            )
        };
        tokio::time::sleep(moment).await;
        let killed = Instant::now();
        platform.kill(target).await?;
        tokio::time::sleep(down).await;
        platform.restart(target).await?;
        platform.ready(Duration::from_secs(180)).await?;
        let ended = platform.ended_alone();
        if !ended.is_empty() {
            bail!(
                "trial {trial} ({}): {} ended without being killed",
                platform.describe(target),
                ended.join(", ")
            );
        }
        recovered.entry(target).or_default().push(killed.elapsed());
        progress.inc(1);
    }
    progress.finish_and_clear();
    println!("trials done; waiting for every client's last request");
    let lives = load.finish().await?;
    report(platform, &lives, &recovered, &lead).await
}

async fn report(
    platform: &Platform,
    lives: &[Life],
    recovered: &BTreeMap<Target, Vec<Duration>>,
    lead: &str,
) -> Result<()> {
    let database = |name: &str| {
        platform
            .database_urls
            .iter()
            .find(|(service, _)| *service == name)
            .map(|(_, url)| url.clone())
            .expect("every service has a database")
    };
    let (incident, reporting) = (database("incident"), database("reporting"));
    // Settled: nothing left to publish and the read model at every stream's version.
    println!("waiting for the outbox to empty and reporting to catch up");
    let settle_deadline = Instant::now() + Duration::from_secs(300);
    let settled_from = Instant::now();
    let (store, model) = loop {
        let store = count::store(&incident).await?;
        let model = count::model(&reporting).await?;
        let settled = store.outbox == 0 && model.gaps(&store) == 0;
        if settled || Instant::now() > settle_deadline {
            break (store, model);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let settled_in = settled_from.elapsed();
    let topic = count::topic(&platform.log).await?;
    let dashboard = concerns_counted(&reqwest::Client::new(), &platform.gateway_url, lead).await?;

    println!();
    println!("| killed | kills | every process ready again after (p50 / max) |");
    println!("| --- | --- | --- |");
    for (target, times) in recovered {
        let mut times = times.clone();
        times.sort();
        println!(
            "| {} | {} | {:.1} s / {:.1} s |",
            platform.describe(*target),
            times.len(),
            times[times.len() / 2].as_secs_f64(),
            times[times.len() - 1].as_secs_f64()
        );
    }
    let reported: Vec<uuid::Uuid> = lives.iter().filter_map(|life| life.reported).collect();
    let acknowledged: Vec<uuid::Uuid> = lives
        .iter()
        .filter(|life| life.acknowledged)
        .filter_map(|life| life.reported)
        .collect();
    let asked_again = lives
        .iter()
        .filter(|life| life.report_tries > 1 || life.acknowledge_tries > 1)
        .count();
    println!();
    println!(
        "concerns: {} attempted, {} reported (201), {} acknowledged (200); {asked_again} asked again after a lost answer",
        lives.len(),
        reported.len(),
        acknowledged.len()
    );
    // Answers given whose effect is missing: a report, or an acknowledgement, not held.
    let lost = |holds_report: &dyn Fn(&uuid::Uuid) -> bool,
                holds_acknowledgement: &dyn Fn(&uuid::Uuid) -> bool| {
        reported.iter().filter(|id| !holds_report(id)).count()
            + acknowledged
                .iter()
                .filter(|id| !holds_acknowledgement(id))
                .count()
    };
    let lost_store = lost(&|id| store.versions.contains_key(id), &|id| {
        store.versions.get(id).is_some_and(|version| *version >= 2)
    });
    let lost_topic = lost(&|id| topic.reported.contains(id), &|id| {
        topic.acknowledged.contains(id)
    });
    let lost_model = lost(&|id| model.acknowledged.contains_key(id), &|id| {
        model.acknowledged.get(id) == Some(&true)
    });
    let strangers = model
        .acknowledged
        .keys()
        .filter(|id| !store.versions.contains_key(id))
        .count();
    let over_counted = (dashboard - model.acknowledged.len() as i64).max(0);
    let duplicated = store.extra_concerns + store.acknowledged_twice + strangers as i64 + over_counted;
    let gaps = model.gaps(&store);
    println!(
        "lost (answered, then missing): {lost_store} from the incident store, {lost_topic} from the topic, {lost_model} from reporting's read model"
    );
    println!(
        "duplicated effects: {duplicated} ({} second concerns for one report's key, {} concerns acknowledged twice, \
         {strangers} read-model rows for no stored concern; the dashboard counts {dashboard} of {} concerns stored)",
        store.extra_concerns,
        store.acknowledged_twice,
        store.versions.len()
    );
    println!(
        "order violations on the topic: {} ({} records read, {} of them a stream version already read, which consumers pass over)",
        topic.order_violations, topic.records, topic.again
    );
    println!(
        "projection gaps: {gaps} (streams the read model holds at another version than the store, and parked records); \
         settled {:.1} s after the load ended, {} events left in the outbox",
        settled_in.as_secs_f64(),
        store.outbox
    );
    let met = lost_store + lost_topic + lost_model + gaps + topic.order_violations == 0
        && duplicated == 0
        && dashboard == store.versions.len() as i64;
    println!(
        "target: 0 lost, 0 duplicated, 0 order violations, 0 gaps: {}",
        if met { "met" } else { "MISSED" }
    );
    Ok(())
}
