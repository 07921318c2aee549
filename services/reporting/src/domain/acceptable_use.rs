//! Acceptable use across a trust's schools: where each school's roster stands with its own policy,
//! what access stands on record and whether any was given without a current agreement, and visitors
//! per month. Where a person stands is the aup service's rule (`trustsafe_aup::domain`), applied here
//! to what the log told reporting, so a dashboard counts as the service decides.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use trustsafe_aup::domain::access::GrantState;
use trustsafe_aup::domain::agreements::{Standing, primary_audience, standing};
use trustsafe_aup::domain::documents::in_force;
use trustsafe_events::aup::{AgreementRecorded, Audience, AupPublished, PersonRecorded};
use uuid::Uuid;

use super::periods::Days;

/// Someone on a school's roster (removed people are not).
pub struct OnRoster {
    pub school_id: String,
    pub person: PersonRecorded,
}

/// A grant of access to a system, revoked or not.
pub struct GrantFact {
    pub school_id: String,
    pub person_id: Uuid,
    pub granted_at: DateTime<Utc>,
    pub revoked: bool,
}

/// What the log told reporting about a trust's acceptable use.
#[derive(Default)]
pub struct AupFacts {
    pub roster: Vec<OnRoster>,
    /// Every version of every policy of the trust, trust-wide and the schools' own.
    pub policies: Vec<AupPublished>,
    /// Every answer anyone gave.
    pub answers: Vec<AgreementRecorded>,
    pub grants: Vec<GrantFact>,
    /// Each visitor's school and when they agreed.
    pub visits: Vec<(String, DateTime<Utc>)>,
}

/// One school's figures (or the trust's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AupFigures {
    /// People by their own policy and where they stand today, keyed `audience/standing`
    /// (`ks2/overdue`).
    pub compliance: BTreeMap<String, i64>,
    /// Pupils without a year group: no policy can be named for them.
    pub unplaced: i64,
    /// Grants not revoked whose holder's agreement is current: access in force.
    pub grants_in_force: i64,
    /// Grants not revoked whose holder's agreement is no longer current: they give nothing until the
    /// person signs again, and wait to be renewed or revoked.
    pub grants_lapsed: i64,
    /// Grants given when the person had no current agreement. Must be 0: the aup service refuses
    /// them; this checks it from the log.
    pub granted_without_agreement: i64,
    /// Visitors who agreed to the visitors' policy, by month (YYYY-MM, UTC), in the period.
    pub visitors_by_month: BTreeMap<String, i64>,
}

impl AupFigures {
    fn add(&mut self, other: &AupFigures) {
        let sum = |into: &mut BTreeMap<String, i64>, from: &BTreeMap<String, i64>| {
            for (key, n) in from {
                *into.entry(key.clone()).or_default() += n;
            }
        };
        sum(&mut self.compliance, &other.compliance);
        sum(&mut self.visitors_by_month, &other.visitors_by_month);
        self.unplaced += other.unplaced;
        self.grants_in_force += other.grants_in_force;
        self.grants_lapsed += other.grants_lapsed;
        self.granted_without_agreement += other.granted_without_agreement;
    }
}

/// The key of a compliance count.
pub fn compliance_key(audience: Audience, standing: Standing) -> String {
    format!("{}/{}", audience.name(), standing.name())
}

/// The policies a person's own agreement may be to: the ones access follows from (not Wi-Fi's, the
/// visitors' or the social-media staff's, which grant nothing on their own).
const OWN_POLICIES: [Audience; 6] = [
    Audience::EyfsKs1,
    Audience::Ks2,
    Audience::Ks3To5,
    Audience::SendLearners,
    Audience::Staff,
    Audience::ParentsCarers,
];

/// Each person's answers per policy, oldest first.
struct History<'a>(HashMap<(Uuid, Audience), Vec<&'a AgreementRecorded>>);

impl<'a> History<'a> {
    fn of(answers: &'a [AgreementRecorded]) -> Self {
        let mut by_person: HashMap<(Uuid, Audience), Vec<&AgreementRecorded>> = HashMap::new();
        for answer in answers {
            by_person
                .entry((answer.person_id, answer.audience))
                .or_default()
                .push(answer);
        }
        for answers in by_person.values_mut() {
            answers.sort_by_key(|answer| (answer.signed_at, answer.agreement_id));
        }
        History(by_person)
    }

    /// The person's last answer to `audience`'s policy signed by `at`.
    fn last(&self, person_id: Uuid, audience: Audience, at: DateTime<Utc>) -> Option<&'a AgreementRecorded> {
        self.0
            .get(&(person_id, audience))?
            .iter()
            .rev()
            .find(|answer| answer.signed_at <= at)
            .copied()
    }
}

/// Every school's figures and the trust's, for `days` (visitors) and as things stand at `now`.
pub fn figures(
    facts: &AupFacts,
    schools: &[String],
    days: Days,
    now: DateTime<Utc>,
) -> (BTreeMap<String, AupFigures>, AupFigures) {
    let history = History::of(&facts.answers);
    let standing_at = |school_id: &str, person_id: Uuid, audience: Audience, at: DateTime<Utc>| {
        let day = at.date_naive();
        standing(
            history.last(person_id, audience, at),
            in_force(&facts.policies, school_id, audience, day),
            day,
        )
    };
    let mut per_school: BTreeMap<String, AupFigures> = schools
        .iter()
        .map(|school| (school.clone(), AupFigures::default()))
        .collect();
    let mut covered_now: HashMap<Uuid, bool> = HashMap::new();
    for entry in &facts.roster {
        let Some(figures) = per_school.get_mut(&entry.school_id) else {
            continue;
        };
        let person = &entry.person;
        let Some(audience) = primary_audience(person) else {
            figures.unplaced += 1;
            covered_now.insert(person.person_id, false);
            continue;
        };
        let standing = standing_at(&entry.school_id, person.person_id, audience, now);
        covered_now.insert(person.person_id, standing.covers());
        *figures
            .compliance
            .entry(compliance_key(audience, standing))
            .or_default() += 1;
    }
    for grant in &facts.grants {
        let Some(figures) = per_school.get_mut(&grant.school_id) else {
            continue;
        };
        let covered = covered_now.get(&grant.person_id).copied().unwrap_or(false);
        match GrantState::of(grant.revoked, covered) {
            GrantState::Active => figures.grants_in_force += 1,
            GrantState::Lapsed => figures.grants_lapsed += 1,
            GrantState::Revoked => {}
        }
        // Their own policy then may not be today's (a pupil moves up a key stage): any of theirs
        // that covered them on the day will do.
        let covered_then = OWN_POLICIES.iter().any(|audience| {
            standing_at(&grant.school_id, grant.person_id, *audience, grant.granted_at).covers()
        });
        if !covered_then {
            figures.granted_without_agreement += 1;
        }
    }
    let (from, to) = days;
    for (school_id, agreed_at) in &facts.visits {
        let day = agreed_at.date_naive();
        let Some(figures) = per_school.get_mut(school_id) else {
            continue;
        };
        if (from..=to).contains(&day) {
            *figures
                .visitors_by_month
                .entry(day.format("%Y-%m").to_string())
                .or_default() += 1;
        }
    }
    let mut total = AupFigures::default();
    for figures in per_school.values() {
        total.add(figures);
    }
    (per_school, total)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use trustsafe_events::aup::{AgreementSource, Decision, PersonFlags, RosterKind, Signer};

    use super::*;

    fn at(month: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, month, day, 9, 0, 0).unwrap()
    }

    fn pupil(year_group: Option<i8>) -> PersonRecorded {
        PersonRecorded {
            person_id: Uuid::now_v7(),
            kind: RosterKind::Pupil,
            year_group,
            flags: PersonFlags::default(),
            account_hashes: Vec::new(),
            responsible_for: Vec::new(),
            as_of: at(9, 1),
            restricted: None,
        }
    }

    fn policy(
        audience: Audience,
        school_id: Option<&str>,
        version: i32,
        from: DateTime<Utc>,
    ) -> AupPublished {
        AupPublished {
            document_id: Uuid::from_u128(audience as u128 + 1),
            audience,
            school_id: school_id.map(str::to_owned),
            version,
            title: format!("{} v{version}", audience.name()),
            content_hash: String::new(),
            effective_from: from.date_naive(),
            resign_every_days: 365,
            grace_days: 30,
            restricted: None,
        }
    }

    fn answer(
        person: &PersonRecorded,
        of: &AupPublished,
        decision: Decision,
        on: DateTime<Utc>,
    ) -> AgreementRecorded {
        AgreementRecorded {
            agreement_id: Uuid::now_v7(),
            person_id: person.person_id,
            audience: of.audience,
            document_id: of.document_id,
            version: of.version,
            decision,
            signer: Signer::Themselves,
            source: AgreementSource::AsGiven,
            signed_at: on,
        }
    }

    fn on_roster(school_id: &str, person: &PersonRecorded) -> OnRoster {
        OnRoster {
            school_id: school_id.to_owned(),
            person: person.clone(),
        }
    }

    fn grant(
        school_id: &str,
        person: &PersonRecorded,
        granted_at: DateTime<Utc>,
        revoked: bool,
    ) -> GrantFact {
        GrantFact {
            school_id: school_id.to_owned(),
            person_id: person.person_id,
            granted_at,
            revoked,
        }
    }

    fn autumn() -> Days {
        (at(9, 1).date_naive(), at(12, 31).date_naive())
    }

    #[test]
    fn given_a_roster_and_its_answers_each_person_counts_once_under_their_own_policy() {
        let ks2 = policy(Audience::Ks2, None, 1, at(9, 1));
        let (signed, declined, never, unplaced) =
            (pupil(Some(4)), pupil(Some(5)), pupil(Some(6)), pupil(None));
        let elsewhere = pupil(Some(4));
        let facts = AupFacts {
            roster: vec![
                on_roster("raps", &signed),
                on_roster("raps", &declined),
                on_roster("raps", &never),
                on_roster("raps", &unplaced),
                on_roster("chilton", &elsewhere),
            ],
            policies: vec![ks2.clone()],
            answers: vec![
                answer(&signed, &ks2, Decision::Agreed, at(9, 3)),
                answer(&declined, &ks2, Decision::Agreed, at(9, 3)),
                answer(&declined, &ks2, Decision::Declined, at(9, 10)),
            ],
            ..AupFacts::default()
        };
        let schools = ["raps".to_owned(), "chilton".to_owned()];

        let (per_school, total) = figures(&facts, &schools, autumn(), at(10, 1));

        let raps = &per_school["raps"];
        assert_eq!(raps.compliance["ks2/current"], 1);
        assert_eq!(raps.compliance["ks2/declined"], 1, "the later answer stands");
        assert_eq!(raps.compliance["ks2/missing"], 1);
        assert_eq!(raps.unplaced, 1);
        assert_eq!(per_school["chilton"].compliance["ks2/missing"], 1);
        assert_eq!(total.compliance["ks2/missing"], 2);
        assert_eq!(total.compliance.values().sum::<i64>() + total.unplaced, 5);
    }

    #[test]
    fn given_grants_those_lapsed_are_told_apart_and_one_given_without_agreement_is_counted() {
        let last_september = |day| Utc.with_ymd_and_hms(2025, 9, day, 9, 0, 0).unwrap();
        let ks3 = policy(Audience::Ks3To5, None, 1, last_september(1));
        let (current, lapsed, never_signed, moved_up) =
            (pupil(Some(8)), pupil(Some(9)), pupil(Some(10)), pupil(Some(7)));
        let ks2 = policy(Audience::Ks2, None, 1, at(1, 5));
        let facts = AupFacts {
            roster: [&current, &lapsed, &never_signed, &moved_up]
                .into_iter()
                .map(|person| on_roster("raps", person))
                .collect(),
            policies: vec![ks3.clone(), ks2.clone()],
            answers: vec![
                answer(&current, &ks3, Decision::Agreed, at(9, 2)),
                // Signed a year ago: overdue by October.
                answer(&lapsed, &ks3, Decision::Agreed, last_september(10)),
                // Signed as a year 6 in the summer, granted then; a year 7 now who has not signed KS3's.
                answer(&moved_up, &ks2, Decision::Agreed, at(6, 1)),
            ],
            grants: vec![
                grant("raps", &current, at(9, 3), false),
                grant("raps", &current, at(9, 4), true),
                grant("raps", &lapsed, at(2, 1), false),
                grant("raps", &never_signed, at(9, 5), false),
                grant("raps", &moved_up, at(6, 2), false),
            ],
            ..AupFacts::default()
        };

        let (per_school, _) = figures(&facts, &["raps".to_owned()], autumn(), at(10, 1));

        let raps = &per_school["raps"];
        assert_eq!(raps.grants_in_force, 1);
        assert_eq!(
            raps.grants_lapsed, 3,
            "overdue, never signed, moved up without signing"
        );
        assert_eq!(
            raps.granted_without_agreement, 1,
            "only the grant to someone who had never signed: the year 6 was covered on the day"
        );
    }

    #[test]
    fn given_visitors_only_the_periods_are_counted_by_month() {
        let facts = AupFacts {
            visits: vec![
                ("raps".to_owned(), at(9, 2)),
                ("raps".to_owned(), at(9, 30)),
                ("raps".to_owned(), at(10, 1)),
                ("raps".to_owned(), at(8, 31)),
                ("another-trusts".to_owned(), at(9, 2)),
            ],
            ..AupFacts::default()
        };

        let (per_school, total) = figures(&facts, &["raps".to_owned()], autumn(), at(10, 2));

        assert_eq!(
            per_school["raps"].visitors_by_month,
            BTreeMap::from([("2026-09".to_owned(), 2), ("2026-10".to_owned(), 1)])
        );
        assert_eq!(total.visitors_by_month.values().sum::<i64>(), 3);
    }
}
