//! Filtering breaches' figures as each audience sees them.

use std::collections::BTreeMap;

use super::{
    Count, Suppressible, each_suppressed, exactly, suppressed, total_breakdown, total_count,
    withhold_second_breakdown, withhold_whole_of,
};
use crate::domain::breaches::BreachFigures;

/// Filtering figures as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownBreaches {
    pub by_category: BTreeMap<String, Count>,
    /// By severity, "1" to "5".
    pub by_severity: BTreeMap<String, Count>,
    pub by_month: BTreeMap<String, Count>,
    pub escalated: Count,
    pub open: Count,
    pub overdue_triage: Count,
    pub overdue_parents: Count,
    pub parents_owed: Count,
    pub parents_told_on_time: Count,
    pub parents_told_late: Count,
    pub parents_not_yet_told: Count,
}

/// Severity keys as shown: "1" to "5".
fn by_severity(figures: &BreachFigures) -> BTreeMap<String, i64> {
    figures
        .by_severity
        .iter()
        .map(|(severity, n)| (severity.to_string(), *n))
        .collect()
}

/// For governors each count is suppressed on its own, then:
/// - breaches by severity and by month are second breakdowns of the breaches shown by category;
/// - parents owed is the sum of told on time, told late and not yet told;
/// - a total across schools is withheld where any school's part of it is hidden.
impl Suppressible for BreachFigures {
    type Shown = ShownBreaches;

    fn exactly(&self) -> ShownBreaches {
        ShownBreaches {
            by_category: exactly(&self.by_category),
            by_severity: exactly(&by_severity(self)),
            by_month: exactly(&self.by_month),
            escalated: Count::Exact(self.escalated),
            open: Count::Exact(self.open),
            overdue_triage: Count::Exact(self.overdue_triage),
            overdue_parents: Count::Exact(self.overdue_parents),
            parents_owed: Count::Exact(self.parents_owed),
            parents_told_on_time: Count::Exact(self.parents_told_on_time),
            parents_told_late: Count::Exact(self.parents_told_late),
            parents_not_yet_told: Count::Exact(self.parents_not_yet_told),
        }
    }

    fn for_governors(&self) -> ShownBreaches {
        let mut shown = ShownBreaches {
            by_category: each_suppressed(&self.by_category),
            by_severity: each_suppressed(&by_severity(self)),
            by_month: each_suppressed(&self.by_month),
            escalated: suppressed(self.escalated),
            open: suppressed(self.open),
            overdue_triage: suppressed(self.overdue_triage),
            overdue_parents: suppressed(self.overdue_parents),
            parents_owed: suppressed(self.parents_owed),
            parents_told_on_time: suppressed(self.parents_told_on_time),
            parents_told_late: suppressed(self.parents_told_late),
            parents_not_yet_told: suppressed(self.parents_not_yet_told),
        };
        withhold_given_away(&mut shown);
        shown
    }

    fn total_for_governors(&self, schools: &BTreeMap<String, ShownBreaches>) -> ShownBreaches {
        let parts = || schools.values();
        let single = |n: i64, pick: fn(&ShownBreaches) -> Count| total_count(n, parts().map(pick));
        let mut total = ShownBreaches {
            by_category: total_breakdown(&self.by_category, parts().map(|s| &s.by_category)),
            by_severity: total_breakdown(&by_severity(self), parts().map(|s| &s.by_severity)),
            by_month: total_breakdown(&self.by_month, parts().map(|s| &s.by_month)),
            escalated: single(self.escalated, |s| s.escalated),
            open: single(self.open, |s| s.open),
            overdue_triage: single(self.overdue_triage, |s| s.overdue_triage),
            overdue_parents: single(self.overdue_parents, |s| s.overdue_parents),
            parents_owed: single(self.parents_owed, |s| s.parents_owed),
            parents_told_on_time: single(self.parents_told_on_time, |s| s.parents_told_on_time),
            parents_told_late: single(self.parents_told_late, |s| s.parents_told_late),
            parents_not_yet_told: single(self.parents_not_yet_told, |s| s.parents_not_yet_told),
        };
        withhold_given_away(&mut total);
        total
    }
}

/// What the sums between a school's (or the trust's) own figures would give away.
fn withhold_given_away(shown: &mut ShownBreaches) {
    withhold_second_breakdown(&shown.by_category, &mut shown.by_severity);
    withhold_second_breakdown(&shown.by_category, &mut shown.by_month);
    let parts = [
        shown.parents_told_on_time,
        shown.parents_told_late,
        shown.parents_not_yet_told,
    ];
    withhold_whole_of(&mut shown.parents_owed, &parts);
}

#[cfg(test)]
mod tests {
    use super::super::{Detail, show};
    use super::*;

    fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(key, n)| ((*key).to_owned(), *n)).collect()
    }

    /// RAPS: 3 gambling breaches beside 12 pornography; two of its pupils' parents told late.
    /// Chilton: 8 and 6, nothing small.
    fn trust() -> (BTreeMap<String, BreachFigures>, BreachFigures) {
        let raps = BreachFigures {
            by_category: counts(&[("gambling", 3), ("pornography", 12)]),
            by_severity: BTreeMap::from([(2, 3), (3, 12)]),
            by_month: counts(&[("2026-09", 7), ("2026-10", 8)]),
            escalated: 0,
            open: 6,
            overdue_triage: 0,
            overdue_parents: 0,
            parents_owed: 9,
            parents_told_on_time: 7,
            parents_told_late: 2,
            parents_not_yet_told: 0,
        };
        let chilton = BreachFigures {
            by_category: counts(&[("gambling", 8), ("pornography", 6)]),
            by_severity: BTreeMap::from([(2, 8), (3, 6)]),
            by_month: counts(&[("2026-09", 9), ("2026-10", 5)]),
            escalated: 5,
            open: 7,
            overdue_triage: 5,
            overdue_parents: 0,
            parents_owed: 6,
            parents_told_on_time: 6,
            parents_told_late: 0,
            parents_not_yet_told: 0,
        };
        let total = BreachFigures {
            by_category: counts(&[("gambling", 11), ("pornography", 18)]),
            by_severity: BTreeMap::from([(2, 11), (3, 18)]),
            by_month: counts(&[("2026-09", 16), ("2026-10", 13)]),
            escalated: 5,
            open: 13,
            overdue_triage: 5,
            overdue_parents: 0,
            parents_owed: 15,
            parents_told_on_time: 13,
            parents_told_late: 2,
            parents_not_yet_told: 0,
        };
        (
            BTreeMap::from([("raps".into(), raps), ("chilton".into(), chilton)]),
            total,
        )
    }

    fn exact_sum<'a>(counts: impl IntoIterator<Item = &'a Count>) -> i64 {
        counts
            .into_iter()
            .filter_map(|count| match count {
                Count::Exact(n) => Some(*n),
                _ => None,
            })
            .sum()
    }

    #[test]
    fn given_a_small_count_at_one_school_then_governors_cannot_work_it_out() {
        let (schools, total) = trust();
        let (shown, total) = show(&schools, &total, Detail::SmallCountsSuppressed);
        let raps = &shown["raps"];
        assert_eq!(raps.by_category["gambling"], Count::Small);
        assert_eq!(raps.by_category["pornography"], Count::Exact(12));
        // Its severities and months would give its whole (15), and 15 - 12 = 3.
        assert!(raps.by_severity.values().all(|count| *count == Count::Withheld));
        assert!(raps.by_month.values().all(|count| *count == Count::Withheld));
        // The trust's gambling total less Chilton's 8 would give RAPS's 3.
        assert_eq!(total.by_category["gambling"], Count::Withheld);
        assert_eq!(total.by_category["pornography"], Count::Exact(18));
        assert_eq!(exact_sum(total.by_month.values()), 0);
        // Two parents told late: small, so the parents owed (9) are withheld, and the trust's with them.
        assert_eq!(raps.parents_told_late, Count::Small);
        assert_eq!(raps.parents_owed, Count::Withheld);
        assert_eq!(raps.parents_told_on_time, Count::Exact(7));
        assert_eq!(total.parents_owed, Count::Withheld);
        assert_eq!(total.parents_told_late, Count::Withheld);
        // Chilton has nothing from 1 to 4: all of it shows.
        let chilton = &shown["chilton"];
        assert_eq!(chilton.by_month["2026-10"], Count::Exact(5));
        assert_eq!(chilton.by_severity["3"], Count::Exact(6));
        assert_eq!(
            (chilton.escalated, chilton.parents_owed),
            (Count::Exact(5), Count::Exact(6))
        );
        // Zero is no one, and shows.
        assert_eq!(raps.escalated, Count::Exact(0));
        assert_eq!(total.escalated, Count::Exact(5));
    }

    #[test]
    fn nothing_a_governor_sees_adds_up_to_a_hidden_count() {
        let (schools, total_figures) = trust();
        let (shown, total) = show(&schools, &total_figures, Detail::SmallCountsSuppressed);
        let (raps, chilton) = (&shown["raps"], &shown["chilton"]);
        // RAPS's 3 gambling breaches and 2 late parents, by every sum of what is shown exactly.
        let candidates = [
            exact_sum(total.by_category.values()) - exact_sum(chilton.by_category.values()) - 12,
            exact_sum(raps.by_severity.values()) - 12,
            exact_sum(raps.by_month.values()) - 12,
            exact_sum(total.by_severity.values()) - exact_sum(chilton.by_severity.values()) - 12,
            exact_sum([&raps.parents_owed]) - 7,
            exact_sum([&total.parents_owed]) - exact_sum([&chilton.parents_owed]) - 7,
        ];
        assert!(!candidates.contains(&3), "{candidates:?}");
        assert!(!candidates.contains(&2), "{candidates:?}");
    }

    #[test]
    fn the_trust_lead_sees_every_count() {
        let (schools, total) = trust();
        let (shown, total) = show(&schools, &total, Detail::Exact);
        assert_eq!(shown["raps"].by_category["gambling"], Count::Exact(3));
        assert_eq!(shown["raps"].parents_told_late, Count::Exact(2));
        assert_eq!(total.by_severity["2"], Count::Exact(11));
        assert_eq!(total.parents_owed, Count::Exact(15));
    }
}
