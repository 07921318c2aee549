//! A year of demo breaches for `trustsafe dev`, written through the same cores as live ones: each
//! month a school's filter sends a made-up school day's log (`demo::day_log`) in its provider's format,
//! and its DSL triages and resolves what is older than a fortnight, as they would have at the time.
//! Run at every start: a log already taken changes nothing, and what was triaged and resolved stays
//! so, so a start stopped part-way is finished by the next.

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use trustsafe_auth::{Caller, Grants, SchoolRole};
use trustsafe_events::filtering::Verdict;
use trustsafe_eventstore::EventStore;
use trustsafe_servicekit::{HostConfig, SchoolScope};

use super::breaches::Breaches;
use super::demo::{EVERYDAY, day_log};
use super::ingest::Ingest;
use crate::SERVICE;
use crate::domain::feeds::Format;
use crate::domain::life::Command;
use crate::store::{BreachFilter, BreachStore};

/// Months of history (a school day's log each month), and the made-up school day (pupils, requests
/// each, blocked per mille). Kept small: a few thousand events at once stall the embedded broker
/// (issue 15).
const MONTHS: u32 = 12;
const PUPILS: usize = 30;
const REQUESTS_EACH: usize = 15;
const BLOCKED_PER_MILLE: u32 = 12;

fn caller(subject: &str, school_id: &str, role: SchoolRole) -> Caller {
    Caller {
        subject: subject.into(),
        name: None,
        grants: Grants::of(&[(school_id, role)], &[]),
    }
}

/// The log format of a school's filtering provider, as the tenancy names it.
fn format_of(provider: Option<&str>) -> Format {
    match provider.map(str::to_lowercase) {
        Some(provider) if provider.contains("smoothwall") => Format::SmoothwallCsv,
        Some(provider) if provider.contains("lightspeed") => Format::LightspeedCsv,
        Some(provider) if provider.contains("forti") => Format::Fortigate,
        // E2Guardian, open source and common in schools, logs categories (Squid alone does not).
        _ => Format::E2guardianCsv,
    }
}

/// Writes what is not yet written of the history; the breaches it recorded.
pub async fn seed(config: &HostConfig, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let pool = sqlx::PgPool::connect(&config.database_url).await?;
    let store = BreachStore::new(EventStore::new(pool.clone(), SERVICE.source()));
    let ingest = Ingest::new(store.clone(), config.pseudonyms.clone());
    let breaches = Breaches::new(store, config.pseudonyms.clone());
    let tenancy = &config.tenancy;
    let mut written = 0;
    let today = now.date_naive();
    for (n, school) in tenancy.trusts.iter().flat_map(|trust| &trust.schools).enumerate() {
        let technician = caller("demo-technician", &school.id, SchoolRole::Technician);
        let sender =
            SchoolScope::admit(tenancy, technician, &school.id).expect("the school's own technician");
        let format = format_of(school.filtering_provider.as_deref());
        // The second Wednesday of each of the last twelve months: the same days, and so the same bytes
        // (which the service takes once), at every start within a month.
        let first_of_month = today - chrono::Days::new(u64::from(today.day0()));
        for month in (0..MONTHS).rev() {
            let Some(start) = first_of_month.checked_sub_months(chrono::Months::new(month)) else {
                continue;
            };
            let to_wednesday = (7 + 2 - start.weekday().num_days_from_monday()) % 7;
            let day = start + chrono::Days::new(u64::from(to_wednesday) + 7);
            if day >= today {
                continue;
            }
            let seed = (n as u64) << 32 | u64::from(day.year_ce().1) << 8 | u64::from(day.month());
            let log = day_log(
                format,
                day,
                PUPILS,
                REQUESTS_EACH,
                BLOCKED_PER_MILLE,
                EVERYDAY,
                seed,
            );
            let mut upload = ingest.begin(&sender, format, chrono_tz::Europe::London).await?;
            upload
                .push(&log)
                .map_err(|err| anyhow::anyhow!("the demo log: {err:?}"))?;
            let report = ingest.finish(&sender, upload, format).await?;
            if !report.repeated {
                written += report.breaches_recorded as usize;
            }
        }
        // The DSL has triaged and resolved all but the last fortnight's, at the time.
        let dsl = caller("demo-dsl", &school.id, SchoolRole::Dsl);
        let reader = SchoolScope::admit(tenancy, dsl, &school.id).expect("the school's own DSL");
        let filter = BreachFilter {
            limit: 100_000,
            ..BreachFilter::default()
        };
        let mut random = StdRng::seed_from_u64(n as u64);
        for breach in breaches.list(&reader, &filter).await? {
            if breach.record.first_seen > now - Duration::days(14) {
                continue;
            }
            let triaged_at = breach.record.first_seen + Duration::minutes(random.random_range(30..20 * 60));
            if breach.life.verdict.is_none() {
                let verdict = if random.random_range(0..10) < 8 {
                    Verdict::Genuine
                } else {
                    Verdict::FalsePositive
                };
                let triage = Command::Triage { verdict, note: None };
                breaches.act_at(&reader, breach.id, triage, triaged_at).await?;
            }
            let resolve = Command::Resolve {
                outcome: "Talked it through with the pupil; the filter did its job (demo).".into(),
                parents_not_informed_because: None,
            };
            breaches
                .act_at(&reader, breach.id, resolve, triaged_at + Duration::days(1))
                .await?;
        }
    }
    Ok(written)
}
