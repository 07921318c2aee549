//! `trustsafe bench roster`: a secondary's whole roster (pupils and their parents) synced by its MIS
//! through the gateway, beside a raw batched INSERT of the same rows in the same run; then 50-record
//! deltas, timed one by one.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use trustsafe_aup::domain::upn::with_check_letter;
use trustsafe_auth::Scope;

use super::app::BenchApp;
use super::{bar, quantile_ms};
use crate::stack::{Stack, StackOptions};

#[derive(clap::Args)]
pub struct RosterArgs {
    /// Where the bench's own private PostgreSQL and broker log live (kept apart from `dev`'s).
    #[arg(long, default_value = ".trustsafe-bench")]
    data_dir: std::path::PathBuf,
    /// Port of the private PostgreSQL (ignored when DATABASE_URL is set).
    #[arg(long, default_value_t = 15433)]
    postgres_port: u16,
    #[arg(long, default_value_t = 2000)]
    pupils: usize,
    #[arg(long, default_value_t = 3000)]
    parents: usize,
    /// Deltas timed after the full sync.
    #[arg(long, default_value_t = 100)]
    deltas: usize,
    /// Records in each delta.
    #[arg(long, default_value_t = 50)]
    delta_size: usize,
}

pub async fn run(args: RosterArgs) -> Result<()> {
    if args.pupils == 0 || args.delta_size > args.pupils {
        bail!("--pupils must be at least one and at least --delta-size");
    }
    let stack = Stack::start(&StackOptions {
        data_dir: args.data_dir.clone(),
        kafka_port: 0,
        postgres_port: args.postgres_port,
    })
    .await?;
    let result = async {
        let app = BenchApp::start(&stack, &trustsafe_aup::SERVICE).await?;
        let measured = measure(&app, &args).await;
        app.stop().await?;
        measured
    }
    .await;
    stack.stop().await;
    result
}

fn pupil(n: usize, year: i64) -> Value {
    json!({
        "kind": "pupil", "mis_id": format!("P{n}"), "upn": with_check_letter(&format!("88640012{n:04}")),
        "forename": format!("Pupil{n}"), "surname": format!("Surname{n:05}"), "date_of_birth": "2012-05-01",
        "year_group": year, "flags": {"send": n.is_multiple_of(9), "in_care": n.is_multiple_of(97), "eal": n.is_multiple_of(5)},
        "accounts": [format!("curriculum\\pupil{n}"), format!("pupil{n}@school.example")]
    })
}

fn parent(n: usize, pupils: usize) -> Value {
    json!({
        "kind": "parent", "mis_id": format!("C{n}"), "forename": "Pat", "surname": format!("Parent{n:05}"),
        "phones": ["01843 000000"], "emails": [format!("parent{n}@example.org")],
        "children": [{"mis_id": format!("P{}", n % pupils), "parental_responsibility": true, "relationship": "parent"}]
    })
}

async fn measure(app: &BenchApp, args: &RosterArgs) -> Result<()> {
    let token = app.identity.scope_token("bench-mis", "raps", Scope::Mis);
    let url = format!("{}/api/v1/schools/raps/people", app.gateway_url);
    let client = reqwest::Client::new();
    let records: Vec<Value> = (0..args.pupils)
        .map(|n| pupil(n, 7 + (n % 7) as i64))
        .chain((0..args.parents).map(|n| parent(n, args.pupils)))
        .collect();
    let total = records.len();
    println!(
        "trustsafe bench roster — PUT {url}: {} pupils and {} parents in one call, then {} deltas of {}",
        args.pupils, args.parents, args.deltas, args.delta_size
    );

    let batch = json!({"as_of": chrono::Utc::now(), "people": records});
    let started = Instant::now();
    let answer = client.put(&url).bearer_auth(&token).json(&batch).send().await?;
    let full = started.elapsed();
    if answer.status() != 200 {
        bail!(
            "the full sync answered {}: {}",
            answer.status(),
            answer.text().await?
        );
    }
    let raw = raw_insert(&app.database_url, batch["people"].as_array().expect("a list")).await?;

    let progress = bar(args.deltas as u64, "50-record deltas through the gateway");
    let mut latencies = Vec::with_capacity(args.deltas);
    for round in 0..args.deltas {
        let people: Vec<Value> = (0..args.delta_size)
            .map(|k| {
                let n = (round * args.delta_size + k) % args.pupils;
                pupil(n, 7 + ((n + round + 1) % 7) as i64)
            })
            .collect();
        let delta = json!({"as_of": chrono::Utc::now(), "people": people});
        let started = Instant::now();
        let answer = client.put(&url).bearer_auth(&token).json(&delta).send().await?;
        latencies.push(started.elapsed());
        if answer.status() != 200 {
            bail!("a delta answered {}: {}", answer.status(), answer.text().await?);
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    latencies.sort();

    let synced_per_second = total as f64 / full.as_secs_f64();
    let raw_per_second = total as f64 / raw.as_secs_f64();
    let ratio = synced_per_second / raw_per_second;
    let p95 = quantile_ms(&latencies, 0.95);
    println!();
    println!("{:<52} {:>10} {:>12}", "", "seconds", "records/s");
    println!(
        "{:<52} {:>10.2} {:>12.0}",
        "full sync through the gateway (checked, events, rows)",
        full.as_secs_f64(),
        synced_per_second
    );
    println!(
        "{:<52} {:>10.2} {:>12.0}",
        "raw batched INSERT of the same rows (baseline)",
        raw.as_secs_f64(),
        raw_per_second
    );
    println!(
        "full sync {ratio:.2}x the raw insert rate (target ≥ 0.25x: {}); deltas of {}: p50 {:.1} ms, p95 {p95:.1} ms (target ≤ 200 ms: {})",
        if ratio >= 0.25 { "met" } else { "MISSED" },
        args.delta_size,
        quantile_ms(&latencies, 0.5),
        if p95 <= 200.0 { "met" } else { "MISSED" }
    );
    Ok(())
}

/// The same rows written straight into a table shaped like the roster's, in one batched statement:
/// what the sync would cost with no checks, no events and no gateway.
async fn raw_insert(database_url: &str, records: &[Value]) -> Result<Duration> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await?;
    sqlx::query("CREATE TABLE bench_raw_people (LIKE people INCLUDING ALL)")
        .execute(&pool)
        .await?;
    let text = |field: &str| -> Vec<Option<String>> {
        records
            .iter()
            .map(|record| record[field].as_str().map(str::to_owned))
            .collect()
    };
    let ids: Vec<uuid::Uuid> = records.iter().map(|_| uuid::Uuid::now_v7()).collect();
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO bench_raw_people (id, school_id, kind, mis_id, surname, forename, year_group, record, as_of, version)
         SELECT id, 'raps', kind, mis_id, surname, forename, year_group, record, now(), 1
           FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::jsonb[])
                AS r(id, kind, mis_id, surname, forename, year_group, record)",
    )
    .bind(&ids)
    .bind(text("kind"))
    .bind(text("mis_id"))
    .bind(text("surname"))
    .bind(text("forename"))
    .bind(records.iter().map(|record| record["year_group"].as_i64().map(|year| year as i16)).collect::<Vec<_>>())
    .bind(records)
    .execute(&pool)
    .await?;
    Ok(started.elapsed())
}
