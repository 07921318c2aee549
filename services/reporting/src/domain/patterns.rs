//! The same pattern at two schools of a trust: the same blocked host (by its key: the log never names
//! it), or the same category of monitoring alert, at two or more schools within a week. Shown to the
//! trust lead without naming anyone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

/// How close in time two schools' sightings make a pattern.
pub const WITHIN_DAYS: i64 = 7;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PatternKey {
    /// A host's keyed hash.
    Host(String),
    /// A monitoring alert's normalised category.
    AlertCategory(String),
}

/// One breach as patterns see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    pub key: PatternKey,
    pub school_id: String,
    pub category: String,
    pub first_seen: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub key: PatternKey,
    /// The category most of its breaches were in.
    pub category: String,
    pub schools: BTreeSet<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Its breaches: those within a week of one at another school.
    pub breaches: usize,
}

/// The patterns among `sightings`, newest first.
pub fn patterns(sightings: Vec<Sighting>) -> Vec<Pattern> {
    let mut by_key: BTreeMap<PatternKey, Vec<Sighting>> = BTreeMap::new();
    for sighting in sightings {
        by_key.entry(sighting.key.clone()).or_default().push(sighting);
    }
    let window = Duration::days(WITHIN_DAYS);
    let mut found: Vec<Pattern> = by_key
        .into_iter()
        .filter_map(|(key, mut seen)| {
            seen.sort_by_key(|sighting| sighting.first_seen);
            // A sighting counts when another school's is within the window either side of it.
            let counted: Vec<&Sighting> = seen
                .iter()
                .enumerate()
                .filter(|(index, sighting)| {
                    let near = |other: &&Sighting| {
                        other.school_id != sighting.school_id
                            && (other.first_seen - sighting.first_seen).abs() <= window
                    };
                    seen[..*index]
                        .iter()
                        .rev()
                        .take_while(|other| sighting.first_seen - other.first_seen <= window)
                        .any(|other| near(&other))
                        || seen[index + 1..]
                            .iter()
                            .take_while(|other| other.first_seen - sighting.first_seen <= window)
                            .any(|other| near(&other))
                })
                .map(|(_, sighting)| sighting)
                .collect();
            let schools: BTreeSet<String> = counted.iter().map(|s| s.school_id.clone()).collect();
            if schools.len() < 2 {
                return None;
            }
            let mut categories: BTreeMap<&str, usize> = BTreeMap::new();
            for sighting in &counted {
                *categories.entry(&sighting.category).or_default() += 1;
            }
            let category = categories
                .into_iter()
                .max_by_key(|(_, n)| *n)
                .map(|(category, _)| category.to_owned())
                .unwrap_or_default();
            Some(Pattern {
                key,
                category,
                schools,
                first_seen: counted.first()?.first_seen,
                last_seen: counted.last()?.first_seen,
                breaches: counted.len(),
            })
        })
        .collect();
    found.sort_by_key(|pattern| std::cmp::Reverse(pattern.last_seen));
    found
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 10, 0, 0).unwrap()
    }

    fn host(key: &str, school: &str, day: u32) -> Sighting {
        Sighting {
            key: PatternKey::Host(key.into()),
            school_id: school.into(),
            category: "gambling".into(),
            first_seen: at(day),
        }
    }

    #[test]
    fn the_same_host_at_two_schools_within_a_week_is_a_pattern() {
        let found = patterns(vec![
            host("k1", "raps", 2),
            host("k1", "raps", 3),
            host("k1", "chilton", 8),
            host("k1", "raps", 28),
        ]);
        assert_eq!(found.len(), 1);
        let pattern = &found[0];
        assert_eq!(pattern.schools, BTreeSet::from(["chilton".into(), "raps".into()]));
        assert_eq!(
            (pattern.first_seen, pattern.last_seen, pattern.breaches),
            (at(2), at(8), 3)
        );
    }

    #[test]
    fn one_school_or_two_schools_weeks_apart_is_no_pattern() {
        assert!(patterns(vec![host("k1", "raps", 2), host("k1", "raps", 3)]).is_empty());
        assert!(patterns(vec![host("k1", "raps", 2), host("k1", "chilton", 10)]).is_empty());
        assert!(patterns(vec![host("k1", "raps", 2), host("k2", "chilton", 3)]).is_empty());
    }

    #[test]
    fn an_alert_category_at_two_schools_is_a_pattern_of_its_own() {
        let alert = |school: &str, day| Sighting {
            key: PatternKey::AlertCategory("self_harm".into()),
            school_id: school.into(),
            category: "self_harm".into(),
            first_seen: at(day),
        };
        let found = patterns(vec![alert("raps", 5), alert("chilton", 6), host("k1", "raps", 5)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, PatternKey::AlertCategory("self_harm".into()));
    }
}
