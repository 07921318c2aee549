//! A year of demo history for `trustsafe dev`, so the dashboards have something to say. Every concern
//! goes through the same core as a live one (the school's workflow, its deadlines, the rules of who may
//! do what), reported by the school's demo member of staff and handled by its demo DSL, with the clock
//! set back to when each thing happened. No person is named: the texts say they are demo data.

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

use crate::SPEC;
use crate::clock::Clock;
use crate::domain::concern::{Command, Concern, NewReport};
use crate::incidents::Incidents;
use crate::store::IncidentStore;

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
pub async fn seed_history(config: &HostConfig, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let pool = sqlx::PgPool::connect(&config.database_url).await?;
    let store = IncidentStore::new(EventStore::new(pool.clone(), SPEC.source()));
    let already: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM concerns)")
        .fetch_one(&pool)
        .await?;
    if already {
        return Ok(0);
    }
    let clock = Clock::set_by_hand(now);
    let incidents = Incidents::new(store, config.tenancy.clone(), clock.clone());
    let history = History {
        incidents,
        clock,
        now,
    };
    let mut written = 0;
    for (n, school) in schools(&config.tenancy).into_iter().enumerate() {
        // The same history on every run, different at each school.
        let mut rng = StdRng::seed_from_u64(0x7275_7374 + n as u64);
        written += history
            .school(&school, &mut rng)
            .await
            .with_context(|| format!("demo history of {school}"))?;
    }
    pool.close().await;
    Ok(written)
}

fn schools(tenancy: &Tenancy) -> Vec<String> {
    tenancy
        .trusts
        .iter()
        .flat_map(|trust| trust.schools.iter().map(|school| school.id.clone()))
        .collect()
}

fn demo_caller(school_id: &str, role: SchoolRole, word: &str) -> Caller {
    let mut grants = Grants::default();
    grants.schools.insert(school_id.to_owned(), [role].into());
    Caller {
        subject: format!("demo-{school_id}-{word}"),
        name: Some(format!("{school_id} {word}")),
        grants,
    }
}

struct History {
    incidents: Incidents,
    clock: Clock,
    now: DateTime<Utc>,
}

impl History {
    async fn school(&self, school_id: &str, rng: &mut StdRng) -> anyhow::Result<usize> {
        let staff = demo_caller(school_id, SchoolRole::Staff, "staff");
        let dsl = demo_caller(school_id, SchoolRole::Dsl, "dsl");
        let size = rng.random_range(0.6..1.4);
        let first_month = self.now.date_naive().with_day(1).expect("a first day") - Months::new(11);
        let mut written = 0;
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
                self.concern(school_id, (&staff, &dsl), pick_category(rng), at, rng)
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
        (staff, dsl): (&Caller, &Caller),
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
            device_involved: rng.random_bool(0.3),
            immediate_risk: false,
            source: ConcernSource::StaffReport,
        };
        let created = self
            .incidents
            .report(
                staff,
                school_id,
                new,
                None,
                |concern, _| json!({ "id": concern.id }),
            )
            .await?;
        let id: Uuid = serde_json::from_value(created.body["id"].clone())?;

        // The most recent concerns are still being worked on: some not yet acknowledged, some steps
        // not yet done (and, past their deadlines, overdue).
        let recent = self.now - reported_at < Duration::days(14);
        if recent && rng.random_bool(0.25) {
            return Ok(());
        }
        let mut at = reported_at + Duration::minutes(rng.random_range(4..150));
        let Some(concern) = self.command(school_id, dsl, id, at, Command::Acknowledge).await? else {
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
            if self.command(school_id, dsl, id, at, escalate).await?.is_none() {
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
            if self.command(school_id, dsl, id, at, command).await?.is_none() {
                return Ok(());
            }
        }
        at += Duration::days(rng.random_range(2..35));
        let close = Command::Close {
            outcome: "Demo outcome: resolved with the pupils and parents.".into(),
            lessons_learned: "Demo: none beyond the usual.".into(),
            override_reason: None,
        };
        if self.command(school_id, dsl, id, at, close).await?.is_some() && rng.random_bool(0.03) {
            at += Duration::days(rng.random_range(1..20));
            let reopen = Command::Reopen {
                reason: "Demo: a new message came to light.".into(),
            };
            self.command(school_id, dsl, id, at, reopen).await?;
        }
        Ok(())
    }

    /// Carries out `command` at `at`; `None` when `at` has not come yet.
    async fn command(
        &self,
        school_id: &str,
        caller: &Caller,
        id: Uuid,
        at: DateTime<Utc>,
        command: Command,
    ) -> anyhow::Result<Option<Concern>> {
        if at >= self.now {
            return Ok(None);
        }
        self.clock.set(at);
        let (concern, _) = self
            .incidents
            .command(caller, school_id, id, None, command)
            .await?;
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
