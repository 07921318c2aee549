//! A demo roster and a year of agreements for `trustsafe dev`, written through the same cores as live
//! ones: each school's MIS syncs made-up pupils (valid UPNs), their parents and staff; each trust
//! publishes its policies, in force for most of a year; the school's staff enter the paper forms that
//! came back; the technician gives the covered staff and older pupils the learning platform, and a
//! few visitors sign in at reception. Run at every start: the roster sync changes nothing the second time, and policies and
//! agreements are written only where there are none yet.

use chrono::{DateTime, Days, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use trustsafe_auth::{Caller, Grants, SchoolRole, Scope, TrustRole};
use trustsafe_events::aup::{AgreementSource, Audience, Decision, RosterKind, Signer};
use trustsafe_eventstore::EventStore;
use trustsafe_servicekit::{HostConfig, SchoolScope, TrustScope};

use crate::SERVICE;
use crate::app::access::Access;
use crate::app::error::AupError;
use crate::app::policies::{NewAgreement, Policies};
use crate::app::roster::{Roster, RosterBatch};
use crate::domain::documents::Draft;
use crate::domain::upn::with_check_letter;
use crate::store::{AccessStore, PeopleStore, PolicyStore};

const FORENAMES: [&str; 12] = [
    "Alex", "Sam", "Jo", "Charlie", "Robin", "Frankie", "Jamie", "Kit", "Morgan", "Riley", "Ash", "Remy",
];
const SURNAMES: [&str; 10] = [
    "Demo",
    "Example",
    "Sample",
    "Testing",
    "Madeup",
    "Fictional",
    "Pretend",
    "Dummy",
    "Mock",
    "Placeholder",
];
const PUPILS: usize = 60;
const STAFF: usize = 8;

fn caller(subject: &str, grants: Grants) -> Caller {
    Caller {
        subject: subject.into(),
        name: None,
        grants,
    }
}

/// The roster of school number `n` (made-up names that say so; UPNs of an invented Kent school).
fn demo_roster(n: usize, school_id: &str) -> Vec<Value> {
    let name = |k: usize| {
        (
            FORENAMES[k % FORENAMES.len()],
            SURNAMES[(k / FORENAMES.len() + n) % SURNAMES.len()],
        )
    };
    let mut people = Vec::new();
    for k in 0..PUPILS {
        let (forename, surname) = name(k);
        people.push(json!({
            "kind": "pupil", "mis_id": format!("P{k:03}"), "forename": forename, "surname": surname,
            "upn": with_check_letter(&format!("886{:04}24{k:03}", 2100 + n)),
            "year_group": k % 7, "date_of_birth": format!("{}-0{}-1{}", 2019 - (k % 7), 1 + k % 9, k % 10),
            "flags": {"send": k % 11 == 0, "in_care": k % 29 == 0, "eal": k % 6 == 0},
            "accounts": [format!("{school_id}\\{}.{}{k}", forename.to_lowercase(), surname.to_lowercase())]
        }));
        people.push(json!({
            "kind": "parent", "mis_id": format!("C{k:03}"), "forename": "Parent of", "surname": format!("{forename} {surname}"),
            "emails": [format!("parent{k}@example.org")],
            "children": [{"mis_id": format!("P{k:03}"), "parental_responsibility": true, "relationship": "parent"}]
        }));
    }
    for k in 0..STAFF {
        let (forename, surname) = name(k + 3);
        people.push(json!({
            "kind": "staff", "mis_id": format!("S{k:02}"), "forename": forename, "surname": format!("{surname} (staff)"),
            "email": format!("staff{k}@{school_id}.example"), "job_roles": ["Teacher"],
            "accounts": [format!("{school_id}\\staff{k}")]
        }));
    }
    people
}

/// Writes what is missing; the number of agreements written.
pub async fn seed(config: &HostConfig, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let pool = sqlx::PgPool::connect(&config.database_url).await?;
    let events = EventStore::new(pool.clone(), SERVICE.source());
    let people = PeopleStore::new(events.clone());
    let roster = Roster::new(people.clone(), config.pseudonyms.clone());
    let policies = std::sync::Arc::new(Policies::new(
        people,
        PolicyStore::new(events.clone()),
        config.pseudonyms.clone(),
    ));
    let access = Access::new(
        AccessStore::new(events.clone()),
        policies.clone(),
        PolicyStore::new(events),
        config.pseudonyms.clone(),
    );
    let in_force_since = now.date_naive() - Days::new(330);
    for trust in &config.tenancy.trusts {
        let lead = caller(
            "demo-lead",
            Grants::of(&[], &[(&trust.id, TrustRole::TrustSafeguardingLead)]),
        );
        let scope = TrustScope::admit(&config.tenancy, lead, &trust.id).expect("the trust's own lead");
        let already: i64 = sqlx::query_scalar("SELECT count(*) FROM aup_documents WHERE trust_id = $1")
            .bind(&trust.id)
            .fetch_one(&pool)
            .await?;
        if already > 0 {
            continue;
        }
        for (audience, title) in [
            (
                Audience::EyfsKs1,
                "Acceptable use: Early Years and Key Stage 1 (demo)",
            ),
            (Audience::Ks2, "Acceptable use: Key Stage 2 (demo)"),
            (
                Audience::SendLearners,
                "Acceptable use: learners with SEND (demo)",
            ),
            (Audience::Staff, "Acceptable use: staff and volunteers (demo)"),
            (
                Audience::ParentsCarers,
                "Acceptable use: parents and carers (demo)",
            ),
            (Audience::VisitorsVolunteers, "Acceptable use: visitors (demo)"),
        ] {
            let draft = Draft {
                title: title.into(),
                text: format!(
                    "{title}. Demo text: I will use the school's devices and internet safely and kindly."
                ),
                effective_from: in_force_since,
                resign_every_days: None,
                grace_days: None,
            };
            policies.publish_for_trust(&scope, audience, draft).await?;
        }
    }
    let mut written = 0;
    for (n, school_id) in config
        .tenancy
        .trusts
        .iter()
        .flat_map(|trust| &trust.schools)
        .map(|school| &school.id)
        .enumerate()
    {
        let mut grants = Grants::default();
        grants.scopes.insert(school_id.clone(), [Scope::Mis].into());
        let mis = SchoolScope::admit(&config.tenancy, caller("demo-mis", grants), school_id)
            .expect("the school's MIS");
        let batch = RosterBatch {
            as_of: Some(DateTime::from_naive_utc_and_offset(
                in_force_since.and_hms_opt(6, 0, 0).expect("a time"),
                Utc,
            )),
            people: demo_roster(n, school_id),
            removals: Vec::new(),
        };
        let report = roster.sync(&mis, batch).await?;
        let answered: i64 = sqlx::query_scalar("SELECT count(*) FROM agreements WHERE school_id = $1")
            .bind(school_id)
            .fetch_one(&pool)
            .await?;
        if answered > 0 {
            continue;
        }
        let staff = caller(
            &format!("demo-{school_id}-staff"),
            Grants::of(&[(school_id, SchoolRole::Staff)], &[]),
        );
        let office = SchoolScope::admit(&config.tenancy, staff, school_id).expect("the school's own staff");
        let technician = caller(
            &format!("demo-{school_id}-technician"),
            Grants::of(&[(school_id, SchoolRole::Technician)], &[]),
        );
        let technician =
            SchoolScope::admit(&config.tenancy, technician, school_id).expect("the school's own technician");
        let mut rng = StdRng::seed_from_u64(0x6175_7000 + n as u64);
        for (k, result) in report.results.iter().enumerate() {
            let (Some(person_id), Some(kind)) = (result.person_id, result.kind) else {
                continue;
            };
            let roll: f64 = rng.random();
            // Most forms come back; a few say no; some never come back.
            let decision = match roll {
                r if r < 0.82 => Decision::Agreed,
                r if r < 0.87 => Decision::Declined,
                _ => continue,
            };
            // Pupils and their parents alternate in the roster: pupil number k / 2, their parent next.
            let pupil = k / 2;
            let (audience, signer) = match kind {
                RosterKind::Pupil if pupil % 11 == 0 => (Audience::SendLearners, Signer::Themselves),
                RosterKind::Pupil if pupil % 7 <= 2 => match report.results[k + 1].person_id {
                    Some(parent_id) => (Audience::EyfsKs1, Signer::ParentOrCarer { parent_id }),
                    None => continue,
                },
                RosterKind::Pupil => (Audience::Ks2, Signer::Themselves),
                RosterKind::Parent => (Audience::ParentsCarers, Signer::Themselves),
                RosterKind::Staff => (Audience::Staff, Signer::Themselves),
            };
            let days_ago = rng.random_range(1..330);
            let answer = NewAgreement {
                person_id,
                audience,
                decision,
                signer,
                source: AgreementSource::PaperForm,
                signed_at: Some(now - Duration::days(days_ago)),
                version: None,
            };
            policies.agree(&office, answer).await?;
            written += 1;
            if decision == Decision::Agreed && matches!(audience, Audience::Staff | Audience::Ks2) {
                match access.grant(&technician, person_id, "Learning platform").await {
                    // A form signed nearly a year ago may already be overdue: no access for them.
                    Ok(_) | Err(AupError::Refused(_)) => {}
                    Err(err) => return Err(err.into()),
                }
            }
        }
        for visitor in 0..2 + n % 3 {
            access
                .welcome(
                    &office,
                    &format!("Visitor {visitor} (demo)"),
                    Some("Demo Supplies Ltd"),
                )
                .await?;
        }
    }
    pool.close().await;
    Ok(written)
}
