//! `trustsafe bench filtering`: the log parsers alone on one core, each beside cutting the same bytes
//! into lines (the floor); then a school day's proxy log uploaded end to end through the gateway,
//! beside reading the same bytes in process, and how soon its breaches reach the trust's dashboard
//! beside one breach alone.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chrono::NaiveDate;
use trustsafe_auth::{SchoolRole, TrustRole};
use trustsafe_filtering::app::demo::{BLOCKED, day_log};
use trustsafe_filtering::domain::categories::Normaliser;
use trustsafe_filtering::domain::feeds::{Format, LineParser, LocalClock, Parsed};
use trustsafe_filtering::domain::upload::Upload;

use super::app::BenchApp;
use super::bar;
use crate::stack::{Stack, StackOptions};

#[derive(clap::Args)]
pub struct FilteringArgs {
    /// Where the bench's own private PostgreSQL and broker log live (kept apart from `dev`'s).
    #[arg(long, default_value = ".trustsafe-bench")]
    data_dir: std::path::PathBuf,
    /// Port of the private PostgreSQL (ignored when DATABASE_URL is set).
    #[arg(long, default_value_t = 15433)]
    postgres_port: u16,
    #[arg(long, default_value_t = 1000)]
    pupils: usize,
    /// Requests per pupil in the school day.
    #[arg(long, default_value_t = 90)]
    per_pupil: usize,
    /// Blocked requests per thousand.
    #[arg(long, default_value_t = 10)]
    blocked_per_mille: u32,
    /// Times each parser reads the day (the best run counts).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

pub async fn run(args: FilteringArgs) -> Result<()> {
    if args.pupils == 0 || args.per_pupil == 0 || args.rounds == 0 {
        bail!("--pupils, --per-pupil and --rounds must be at least one");
    }
    let day = NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
    println!(
        "trustsafe bench filtering — a school day of {} pupils × {} requests, {}‰ blocked, in each format",
        args.pupils, args.per_pupil, args.blocked_per_mille
    );
    println!();
    println!(
        "{:<16} {:>9} {:>14} {:>14} {:>14} {:>7} {:>7}",
        "format", "lines", "floor lines/s", "parse lines/s", "ingest lines/s", "parse", "ingest"
    );
    let progress = bar(Format::ALL.len() as u64, "parsing each format");
    let mut rows = Vec::new();
    for format in Format::ALL {
        let log = day_log(
            format,
            day,
            args.pupils,
            args.per_pupil,
            args.blocked_per_mille,
            &BLOCKED,
            1,
        );
        let lines = memchr::memchr_iter(b'\n', &log).count();
        let floor = best(args.rounds, || split_lines(&log));
        let parse = best(args.rounds, || parse_and_normalise(format, &log));
        let ingest = best(args.rounds, || ingest(format, &log));
        rows.push((format, lines, floor, parse, ingest));
        progress.inc(1);
    }
    progress.finish_and_clear();
    let rate = |lines: usize, took: Duration| lines as f64 / took.as_secs_f64();
    for (format, lines, floor, parse, ingest) in &rows {
        println!(
            "{:<16} {:>9} {:>14.0} {:>14.0} {:>14.0} {:>6.2}x {:>6.2}x",
            format.name(),
            lines,
            rate(*lines, *floor),
            rate(*lines, *parse),
            rate(*lines, *ingest),
            floor.as_secs_f64() / parse.as_secs_f64(),
            floor.as_secs_f64() / ingest.as_secs_f64(),
        );
    }
    let slowest = rows
        .iter()
        .map(|(_, lines, _, parse, _)| rate(*lines, *parse))
        .fold(f64::INFINITY, f64::min);
    println!(
        "parse + normalise, slowest format: {slowest:.0} lines/s on one core (target ≥ 1,000,000: {}); the ratios are against the floor",
        if slowest >= 1_000_000.0 { "met" } else { "MISSED" }
    );
    println!("(ingest = parse, normalise, gather into breaches and hourly counts, and digest the bytes)");

    let stack = Stack::start(&StackOptions {
        data_dir: args.data_dir.clone(),
        kafka_port: 0,
        postgres_port: args.postgres_port,
    })
    .await?;
    let result = async {
        let app = BenchApp::start_all(
            &stack,
            &[&trustsafe_filtering::SERVICE, &trustsafe_reporting::SERVICE],
        )
        .await?;
        let measured = upload(&app, &args, day).await;
        app.stop().await?;
        measured
    }
    .await;
    stack.stop().await;
    result
}

/// The quickest of `rounds` runs.
fn best(rounds: usize, mut run: impl FnMut() -> usize) -> Duration {
    (0..rounds)
        .map(|_| {
            let started = Instant::now();
            black_box(run());
            started.elapsed()
        })
        .min()
        .expect("at least one round")
}

/// The floor: cutting the bytes into lines and looking at each once.
fn split_lines(log: &[u8]) -> usize {
    log.split(|&byte| byte == b'\n')
        .map(|line| black_box(line).len())
        .sum()
}

fn parse_and_normalise(format: Format, log: &[u8]) -> usize {
    let mut parser = LineParser::new(format, LocalClock::london());
    let mut normaliser = Normaliser::new(&[]);
    let mut severities = 0usize;
    for line in log.split(|&byte| byte == b'\n') {
        let text = String::from_utf8_lossy(line);
        if let Ok(Parsed::Line(parsed)) = parser.parse(&text) {
            severities += usize::from(
                normaliser
                    .normalise(parsed.vendor_category, parsed.vendor_severity)
                    .severity,
            );
        }
    }
    severities
}

fn ingest(format: Format, log: &[u8]) -> usize {
    let mut upload = Upload::new(
        LineParser::new(format, LocalClock::london()),
        Normaliser::new(&[]),
    );
    for chunk in log.chunks(64 * 1024) {
        upload.push(chunk).expect("a generated log reads");
    }
    upload.finish().expect("a generated log reads");
    upload.tally.breaches.len()
}

/// The day's Squid log through the gateway as the technician sends it, plain and gzipped, against
/// reading the same bytes in process.
async fn upload(app: &BenchApp, args: &FilteringArgs, day: NaiveDate) -> Result<()> {
    let token = app
        .identity
        .school_token("bench-technician", "raps", &[SchoolRole::Technician]);
    let url = format!(
        "{}/api/v1/schools/raps/filtering/logs?format=squid",
        app.gateway_url
    );
    let client = reqwest::Client::new();
    // Not timed: the first breach waits for reporting's consumer to join its group (on Apache Kafka
    // the group coordinator holds a new group back 3 s, group.initial.rebalance.delay.ms), which is
    // a start's cost, not the dashboard's freshness.
    let warm_up = single_breach(app, &client, &url, &token, day).await?;
    println!();
    println!(
        "pipeline warmed up (a first breach reached the dashboard in {} ms, not counted)",
        warm_up.as_millis()
    );
    println!("{:<58} {:>10} {:>12}", "", "seconds", "lines/s");
    for (label, seed, gzip) in [("plain", 2, false), ("gzip", 3, true)] {
        let log = day_log(
            Format::Squid,
            day,
            args.pupils,
            args.per_pupil,
            args.blocked_per_mille,
            &BLOCKED,
            seed,
        );
        let lines = memchr::memchr_iter(b'\n', &log).count();
        let in_process = best(args.rounds, || ingest(Format::Squid, &log));
        let body = if gzip { compress(&log)? } else { log.clone() };
        let sent = body.len();
        let before = counted(app, &client).await?;
        let started = Instant::now();
        let answer = client.post(&url).bearer_auth(&token).body(body).send().await?;
        let took = started.elapsed();
        let answered = Instant::now();
        if answer.status() != 200 {
            bail!(
                "the upload answered {}: {}",
                answer.status(),
                answer.text().await?
            );
        }
        let report: serde_json::Value = answer.json().await?;
        if report["lines_read"].as_u64() != Some(lines as u64) {
            bail!("the upload read {} lines of {lines}", report["lines_read"]);
        }
        let through = lines as f64 / took.as_secs_f64();
        println!(
            "{:<58} {:>10.2} {:>12.0}",
            format!(
                "upload through the gateway, {label} ({:.1} MB, {} breaches)",
                sent as f64 / 1e6,
                report["breaches_recorded"]
            ),
            took.as_secs_f64(),
            through
        );
        println!(
            "{:<58} {:>10.2} {:>12.0}",
            "  the same bytes read in process (baseline)",
            in_process.as_secs_f64(),
            lines as f64 / in_process.as_secs_f64()
        );
        println!(
            "  {:.2}x the in-process rate; target ≥ 200,000 lines/s end to end: {}",
            in_process.as_secs_f64() / took.as_secs_f64(),
            if through >= 200_000.0 { "met" } else { "MISSED" }
        );
        let recorded = report["breaches_recorded"].as_u64().unwrap_or_default();
        let arrivals = arrivals(app, &client, answered, before, recorded).await?;
        let single = single_breach(app, &client, &url, &token, day).await?;
        println!(
            "  its {recorded} breaches on the trust dashboard after the answer: p50 {:.0} ms, p95 {:.0} ms \
             (one breach alone: {:.0} ms, the baseline); target p95 ≤ 1000 ms: {}",
            quantile(&arrivals, 0.5),
            quantile(&arrivals, 0.95),
            single.as_secs_f64() * 1000.0,
            if quantile(&arrivals, 0.95) <= 1000.0 {
                "met"
            } else {
                "MISSED"
            }
        );
    }
    Ok(())
}

/// The breaches the trust's safeguarding lead counts on the dashboard (every month on record).
async fn counted(app: &BenchApp, client: &reqwest::Client) -> Result<u64> {
    let lead = app
        .identity
        .trust_token("bench-lead", "viking", TrustRole::TrustSafeguardingLead);
    let figures: serde_json::Value = client
        .get(format!(
            "{}/api/v1/trusts/viking/filtering?from=2000-01",
            app.gateway_url
        ))
        .bearer_auth(lead)
        .send()
        .await?
        .json()
        .await?;
    Ok(figures["total"]["by_category"]
        .as_object()
        .map(|counts| counts.values().filter_map(serde_json::Value::as_u64).sum())
        .unwrap_or_default())
}

/// When each of `recorded` new breaches was first counted on the dashboard (beyond `before`), in
/// ms after `since`, polled every few milliseconds; in order.
async fn arrivals(
    app: &BenchApp,
    client: &reqwest::Client,
    since: Instant,
    before: u64,
    recorded: u64,
) -> Result<Vec<f64>> {
    let target = before + recorded;
    let mut seen = before;
    let mut arrivals = Vec::with_capacity(recorded as usize);
    let progress = bar(recorded, "breaches reaching the trust dashboard");
    while seen < target {
        if since.elapsed() > Duration::from_secs(120) {
            bail!(
                "{} of {recorded} breaches reached the dashboard within 120 s",
                seen - before
            );
        }
        let now = counted(app, client).await?.min(target);
        let at = since.elapsed().as_secs_f64() * 1000.0;
        for _ in seen..now {
            arrivals.push(at);
        }
        progress.inc(now.saturating_sub(seen));
        seen = seen.max(now);
        if seen < target {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    progress.finish_and_clear();
    Ok(arrivals)
}

/// One blocked line alone, from the upload's answer until the dashboard counts it: the pipeline's
/// floor (relay, broker, consumer, read model) beside which a day's breaches are measured.
async fn single_breach(
    app: &BenchApp,
    client: &reqwest::Client,
    url: &str,
    token: &str,
    day: NaiveDate,
) -> Result<Duration> {
    let at = day.and_hms_opt(12, 0, 0).expect("noon").and_utc().timestamp();
    let line = format!(
        "{at}.000 12 10.9.9.9 TCP_DENIED/403 100 GET http://single-{}.example/ bench-single HIER_NONE/- text/html\n",
        uuid::Uuid::now_v7().simple()
    );
    let before = counted(app, client).await?;
    let answer = client.post(url).bearer_auth(token).body(line).send().await?;
    let since = Instant::now();
    if answer.status() != 200 {
        bail!("the single line answered {}", answer.status());
    }
    arrivals(app, client, since, before, 1).await?;
    Ok(since.elapsed())
}

/// The `q` quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn compress(log: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(log)?;
    Ok(encoder.finish()?)
}
