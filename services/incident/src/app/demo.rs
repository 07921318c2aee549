//! A year of demo history for `trustsafe dev`, so the dashboards have something to say. Every concern
//! goes through the same core as a live one (the school's workflow, its deadlines, the rules of who may
//! do what), reported by the school's demo member of staff and handled by its demo DSL, with the clock
//! set back to when each thing happened. No person is named: the texts say they are demo data.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Datelike, Duration, Months, NaiveTime, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use trustsafe_auth::{Caller, Grants, SchoolRole};
use trustsafe_events::incident::{Category, ConcernSource};
use trustsafe_eventstore::EventStore;
use trustsafe_servicekit::{HostConfig, Tenancy};
use uuid::Uuid;

use crate::SERVICE;
use crate::app::Scope;
use crate::app::clock::Clock;
use crate::app::concerns::{Concerns, Idempotency};
use crate::domain::concern::{Command, Concern, NewReport};
use crate::store::ConcernStore;

/// How often each category is reported, roughly as a school sees them.
const CATEGORY_WEIGHTS: [(Category, u32); 12] = [
    (Category::Cyberbullying, 30),
    (Category::InappropriateContent, 14),
    (Category::SocialMediaMisuse, 12),
    (Category::OffensiveCommunication, 10),
    (Category::OnlineHate, 8),
    (Category::DeviceMisuse, 8),
    (Category::NudeImageSharing, 7),
    (Category::DataSecurity, 3),
    (Category::OnlineSexualAbuse, 3),
    (Category::RadicalisationExtremism, 2),
    (Category::IndecentImagesOfChildren, 1),
    (Category::Other, 2),
];

/// Concerns a month at a school of average size, by month of the year: fewer in the holidays.
const SEASON: [u32; 12] = [7, 8, 7, 6, 8, 7, 6, 1, 9, 10, 9, 5];

/// Writes the demo history of every school in the tenancy, from the first day of the month eleven
/// months ago until `now`, unless the service already holds concerns. Returns how many it wrote.
///
/// It can be interrupted at any moment: the next call finishes the same history (against the clock
/// of the first), writing only the concerns not yet written. A concern interrupted between its report
/// and its closing stays as far as it got, as a real one might.
pub async fn seed_history(config: &HostConfig, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let pool = sqlx::PgPool::connect(&config.database_url).await?;
    let store = ConcernStore::new(EventStore::new(pool.clone(), SERVICE.source()));
    let Some(now) = begin_or_resume(&pool, now).await? else {
        return Ok(0);
    };
    let clock = Clock::set_by_hand(now);
    let concerns = Concerns::new(store, clock.clone(), config.pseudonyms.clone());
    let history = History {
        pool: pool.clone(),
        tenancy: config.tenancy.clone(),
        concerns,
        clock,
        now,
    };
    let mut written = 0;
    for (n, school) in schools(&config.tenancy).into_iter().enumerate() {
        let done: HashSet<i32> =
            sqlx::query_scalar("SELECT ordinal FROM demo_history_concerns WHERE school_id = $1")
                .bind(&school)
                .fetch_all(&pool)
                .await?
                .into_iter()
                .collect();
        // The same history on every run against the same clock, different at each school.
        let seed = 0x7275_7374 + n as u64;
        written += history
            .school(&school, seed, &done)
            .await
            .with_context(|| format!("demo history of {school}"))?;
    }
    sqlx::query("UPDATE demo_history SET finished = true")
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(written)
}

/// The clock to write the history against: `now` for a first start, the first start's clock for
/// one that did not finish; `None` when there is nothing to write (finished, or a platform in use).
async fn begin_or_resume(pool: &sqlx::PgPool, now: DateTime<Utc>) -> anyhow::Result<Option<DateTime<Utc>>> {
    let run: Option<(DateTime<Utc>, bool)> = sqlx::query_as("SELECT as_of, finished FROM demo_history")
        .fetch_optional(pool)
        .await?;
    match run {
        Some((_, true)) => Ok(None),
        Some((as_of, false)) => Ok(Some(as_of)),
        None => {
            let in_use: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM concerns)")
                .fetch_one(pool)
                .await?;
            if in_use {
                return Ok(None);
            }
            sqlx::query("INSERT INTO demo_history (as_of) VALUES ($1)")
                .bind(now)
                .execute(pool)
                .await?;
            Ok(Some(now))
        }
    }
}

fn schools(tenancy: &Tenancy) -> Vec<String> {
    tenancy
        .trusts
        .iter()
        .flat_map(|trust| trust.schools.iter().map(|school| school.id.clone()))
        .collect()
}

/// The school's demo member of staff (or DSL), as the endpoints would admit them.
fn demo_scope(tenancy: &Tenancy, school_id: &str, role: SchoolRole, word: &str) -> anyhow::Result<Scope> {
    let mut grants = Grants::default();
    grants.schools.insert(school_id.to_owned(), [role].into());
    let caller = Caller {
        subject: format!("demo-{school_id}-{word}"),
        name: Some(format!("{school_id} {word}")),
        grants,
    };
    Scope::admit(tenancy, caller, school_id).with_context(|| format!("{school_id} is not in the tenancy"))
}

struct History {
    pool: sqlx::PgPool,
    tenancy: Arc<Tenancy>,
    concerns: Concerns,
    clock: Clock,
    now: DateTime<Utc>,
}

impl History {
    /// The school's history. Its plan (when, what) comes from one generator and each concern's course
    /// from a generator of its own, so the concerns `done` can be passed over without changing the rest.
    async fn school(&self, school_id: &str, seed: u64, done: &HashSet<i32>) -> anyhow::Result<usize> {
        let rng = &mut StdRng::seed_from_u64(seed);
        let staff = demo_scope(&self.tenancy, school_id, SchoolRole::Staff, "staff")?;
        let dsl = demo_scope(&self.tenancy, school_id, SchoolRole::Dsl, "dsl")?;
        let size = rng.random_range(0.6..1.4);
        let first_month = self.now.date_naive().with_day(1).expect("a first day") - Months::new(11);
        let mut written = 0;
        let mut ordinal = 0;
        for offset in 0..12 {
            let month = first_month + Months::new(offset);
            let expected = f64::from(SEASON[month.month0() as usize]) * size;
            let count = rng.random_range(expected * 0.7..=expected * 1.3).round() as u32;
            for _ in 0..count {
                // A school day in the month, in school hours; none yet to come.
                let day = month + Duration::days(rng.random_range(0..31));
                if day.month() != month.month() || matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                    continue;
                }
                let minute = rng.random_range(8 * 60..16 * 60);
                let at = day.and_time(NaiveTime::MIN).and_utc() + Duration::minutes(minute);
                if at >= self.now {
                    continue;
                }
                let category = pick_category(rng);
                ordinal += 1;
                if done.contains(&ordinal) {
                    continue;
                }
                let course = &mut StdRng::seed_from_u64(seed.wrapping_mul(1_000_003) + ordinal as u64);
                self.concern(school_id, ordinal, (&staff, &dsl), category, at, course)
                    .await?;
                written += 1;
            }
        }
        Ok(written)
    }

    /// One concern from its report to, where enough time has passed, its closing.
    async fn concern(
        &self,
        school_id: &str,
        ordinal: i32,
        (staff, dsl): (&Scope, &Scope),
        category: Category,
        reported_at: DateTime<Utc>,
        rng: &mut StdRng,
    ) -> anyhow::Result<()> {
        self.clock.set(reported_at);
        let label = category.id().replace('_', " ");
        let new = NewReport {
            category,
            summary: format!("Demo concern: {label}"),
            description: "Demo history written by trustsafe dev. No real person or event.".into(),
            occurred_at: reported_at - Duration::minutes(rng.random_range(10..600)),
            location: None,
            subject_staff_role: None,
            people: Vec::new(),
            roster: Default::default(),
            device_involved: rng.random_bool(0.3),
            immediate_risk: false,
            source: ConcernSource::StaffReport,
        };
        // The key makes a report repeated after an interruption (before it was noted below) the same
        // concern, not a second one.
        let idempotency = Idempotency {
            key: format!("demo-history-{ordinal}"),
            request: json!({ "demo_history": ordinal }),
        };
        let created = self
            .concerns
            .report(
                staff,
                new,
                Some(idempotency),
                |concern, _| json!({ "id": concern.id }),
            )
            .await?;
        let id: Uuid = serde_json::from_value(created.body["id"].clone())?;
        sqlx::query(
            "INSERT INTO demo_history_concerns (school_id, ordinal) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(school_id)
        .bind(ordinal)
        .execute(&self.pool)
        .await?;

        // The most recent concerns are still being worked on: some not yet acknowledged, some steps
        // not yet done (and, past their deadlines, overdue).
        let recent = self.now - reported_at < Duration::days(14);
        if recent && rng.random_bool(0.25) {
            return Ok(());
        }
        let mut at = reported_at + Duration::minutes(rng.random_range(4..150));
        let Some(concern) = self.command(dsl, id, at, Command::Acknowledge).await? else {
            return Ok(());
        };
        if matches!(
            category,
            Category::IndecentImagesOfChildren
                | Category::OnlineSexualAbuse
                | Category::RadicalisationExtremism
        ) {
            at += Duration::hours(1);
            let escalate = Command::EscalateToTrust {
                reason: "Demo: the trust safeguarding lead is kept informed.".into(),
            };
            if self.command(dsl, id, at, escalate).await?.is_none() {
                return Ok(());
            }
        }
        for step in concern.steps {
            let late = rng.random_bool(0.1);
            at = match (step.planned.due_at, late) {
                (Some(due), false) if due > at => at + (due - at) / 2,
                _ => at + Duration::hours(rng.random_range(2..30)),
            };
            if recent && rng.random_bool(0.3) {
                return Ok(());
            }
            let command = match step.planned.completed_by_referral {
                Some(agency) => Command::RecordReferral {
                    agency,
                    reference: Some(format!("DEMO-{}", rng.random_range(1000..9999))),
                    note: None,
                },
                None => Command::CompleteStep {
                    step_id: step.planned.step_id.clone(),
                    note: None,
                    reference: None,
                },
            };
            if self.command(dsl, id, at, command).await?.is_none() {
                return Ok(());
            }
        }
        at += Duration::days(rng.random_range(2..35));
        let close = Command::Close {
            outcome: "Demo outcome: resolved with the pupils and parents.".into(),
            lessons_learned: "Demo: none beyond the usual.".into(),
            override_reason: None,
        };
        if self.command(dsl, id, at, close).await?.is_some() && rng.random_bool(0.03) {
            at += Duration::days(rng.random_range(1..20));
            let reopen = Command::Reopen {
                reason: "Demo: a new message came to light.".into(),
            };
            self.command(dsl, id, at, reopen).await?;
        }
        Ok(())
    }

    /// Carries out `command` at `at`; `None` when `at` has not come yet.
    async fn command(
        &self,
        scope: &Scope,
        id: Uuid,
        at: DateTime<Utc>,
        command: Command,
    ) -> anyhow::Result<Option<Concern>> {
        if at >= self.now {
            return Ok(None);
        }
        self.clock.set(at);
        let (concern, _) = self.concerns.command(scope, id, None, command).await?;
        Ok(Some(concern))
    }
}

fn pick_category(rng: &mut StdRng) -> Category {
    let total: u32 = CATEGORY_WEIGHTS.iter().map(|(_, weight)| weight).sum();
    let mut pick = rng.random_range(0..total);
    for (category, weight) in CATEGORY_WEIGHTS {
        if pick < weight {
            return category;
        }
        pick -= weight;
    }
    Category::Other
}
