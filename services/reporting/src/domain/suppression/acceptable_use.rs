//! Acceptable-use figures as each audience sees them.

use std::collections::BTreeMap;

use super::{Count, Suppressible, each_suppressed, exactly, suppressed, total_breakdown, total_count};
use crate::domain::acceptable_use::AupFigures;

/// Acceptable-use figures as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownAcceptableUse {
    /// Keyed `audience/standing`.
    pub compliance: BTreeMap<String, Count>,
    pub unplaced: Count,
    pub grants_in_force: Count,
    pub grants_lapsed: Count,
    pub granted_without_agreement: Count,
    pub visitors_by_month: BTreeMap<String, Count>,
}

/// For governors each count is suppressed on its own, then:
/// - an audience's standings break down people whose number is public (a school's pupils by key
///   stage are in the DfE's census): one hidden standing is that number less the others, so an
///   audience with a hidden standing is withheld whole;
/// - a total across schools is withheld where any school's part of it is hidden.
impl Suppressible for AupFigures {
    type Shown = ShownAcceptableUse;

    fn exactly(&self) -> ShownAcceptableUse {
        ShownAcceptableUse {
            compliance: exactly(&self.compliance),
            unplaced: Count::Exact(self.unplaced),
            grants_in_force: Count::Exact(self.grants_in_force),
            grants_lapsed: Count::Exact(self.grants_lapsed),
            granted_without_agreement: Count::Exact(self.granted_without_agreement),
            visitors_by_month: exactly(&self.visitors_by_month),
        }
    }

    fn for_governors(&self) -> ShownAcceptableUse {
        let mut compliance = each_suppressed(&self.compliance);
        withhold_audiences_with_a_hidden_standing(&mut compliance);
        ShownAcceptableUse {
            compliance,
            unplaced: suppressed(self.unplaced),
            grants_in_force: suppressed(self.grants_in_force),
            grants_lapsed: suppressed(self.grants_lapsed),
            granted_without_agreement: suppressed(self.granted_without_agreement),
            visitors_by_month: each_suppressed(&self.visitors_by_month),
        }
    }

    fn total_for_governors(&self, schools: &BTreeMap<String, ShownAcceptableUse>) -> ShownAcceptableUse {
        let parts = || schools.values();
        let single = |n: i64, pick: fn(&ShownAcceptableUse) -> Count| total_count(n, parts().map(pick));
        let mut compliance = total_breakdown(&self.compliance, parts().map(|s| &s.compliance));
        withhold_audiences_with_a_hidden_standing(&mut compliance);
        ShownAcceptableUse {
            compliance,
            unplaced: single(self.unplaced, |s| s.unplaced),
            grants_in_force: single(self.grants_in_force, |s| s.grants_in_force),
            grants_lapsed: single(self.grants_lapsed, |s| s.grants_lapsed),
            granted_without_agreement: single(self.granted_without_agreement, |s| {
                s.granted_without_agreement
            }),
            visitors_by_month: total_breakdown(
                &self.visitors_by_month,
                parts().map(|s| &s.visitors_by_month),
            ),
        }
    }
}

/// The audience of an `audience/standing` key.
fn audience_of(key: &str) -> &str {
    key.split_once('/').map_or(key, |(audience, _)| audience)
}

fn withhold_audiences_with_a_hidden_standing(compliance: &mut BTreeMap<String, Count>) {
    let hidden: Vec<String> = compliance
        .iter()
        .filter(|(_, count)| count.hidden())
        .map(|(key, _)| audience_of(key).to_owned())
        .collect();
    for (key, count) in compliance.iter_mut() {
        if hidden.iter().any(|audience| audience == audience_of(key)) {
            *count = Count::Withheld;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Detail, show};
    use super::*;

    fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(key, n)| ((*key).to_owned(), *n)).collect()
    }

    /// RAPS: 3 KS2 pupils have declined beside 180 current; its staff all current. Chilton: nothing
    /// small.
    fn trust() -> (BTreeMap<String, AupFigures>, AupFigures) {
        let raps = AupFigures {
            compliance: counts(&[
                ("ks2/current", 180),
                ("ks2/declined", 3),
                ("staff/current", 40),
                ("staff/due", 0),
            ]),
            unplaced: 0,
            grants_in_force: 200,
            grants_lapsed: 2,
            granted_without_agreement: 0,
            visitors_by_month: counts(&[("2026-09", 12), ("2026-10", 1)]),
        };
        let chilton = AupFigures {
            compliance: counts(&[("ks2/current", 150), ("ks2/declined", 6), ("staff/current", 30)]),
            unplaced: 5,
            grants_in_force: 160,
            grants_lapsed: 0,
            granted_without_agreement: 0,
            visitors_by_month: counts(&[("2026-09", 7), ("2026-10", 9)]),
        };
        let mut total = AupFigures::default();
        for figures in [&raps, &chilton] {
            for (key, n) in &figures.compliance {
                *total.compliance.entry(key.clone()).or_default() += n;
            }
            for (key, n) in &figures.visitors_by_month {
                *total.visitors_by_month.entry(key.clone()).or_default() += n;
            }
            total.unplaced += figures.unplaced;
            total.grants_in_force += figures.grants_in_force;
            total.grants_lapsed += figures.grants_lapsed;
        }
        (
            BTreeMap::from([("raps".into(), raps), ("chilton".into(), chilton)]),
            total,
        )
    }

    #[test]
    fn given_a_small_standing_governors_see_neither_it_nor_what_would_give_it_away() {
        let (schools, total) = trust();
        let (shown, total) = show(&schools, &total, Detail::SmallCountsSuppressed);
        let raps = &shown["raps"];
        // RAPS's KS2 pupils are public: 183 less the 180 current would be the 3 who declined.
        assert_eq!(raps.compliance["ks2/declined"], Count::Withheld);
        assert_eq!(raps.compliance["ks2/current"], Count::Withheld);
        assert_eq!(raps.compliance["staff/current"], Count::Exact(40));
        assert_eq!(raps.compliance["staff/due"], Count::Exact(0), "zero is no one");
        // The trust's declined less Chilton's 6 would be RAPS's 3.
        assert_eq!(total.compliance["ks2/declined"], Count::Withheld);
        assert_eq!(total.compliance["staff/current"], Count::Exact(70));
        assert_eq!(
            (raps.grants_lapsed, total.grants_lapsed),
            (Count::Small, Count::Withheld)
        );
        assert_eq!(raps.visitors_by_month["2026-10"], Count::Small);
        assert_eq!(total.visitors_by_month["2026-10"], Count::Withheld);
        assert_eq!(total.visitors_by_month["2026-09"], Count::Exact(19));
        let chilton = &shown["chilton"];
        assert_eq!(chilton.compliance["ks2/declined"], Count::Exact(6));
        assert_eq!(chilton.unplaced, Count::Exact(5));
    }

    #[test]
    fn the_trust_lead_sees_every_count() {
        let (schools, total) = trust();
        let (shown, total) = show(&schools, &total, Detail::Exact);
        assert_eq!(shown["raps"].compliance["ks2/declined"], Count::Exact(3));
        assert_eq!(total.compliance["ks2/declined"], Count::Exact(9));
        assert_eq!(total.grants_lapsed, Count::Exact(2));
    }
}
