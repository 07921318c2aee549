//! Concerns' figures as each audience sees them.

use std::collections::BTreeMap;

use super::{
    Count, Suppressible, THRESHOLD, each_suppressed, exactly, suppressed, total_breakdown, total_count,
    withhold_second_breakdown,
};

/// The bands open concerns are counted in, by days since reported.
pub const AGE_BANDS: [&str; 4] = ["0_7_days", "8_30_days", "31_90_days", "over_90_days"];

/// The figures of one school, or of several together, exact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// Concerns reported in the period, by category; and the same concerns by month reported.
    pub concerns_by_category: BTreeMap<String, i64>,
    pub opened_by_month: BTreeMap<String, i64>,
    /// Concerns closed in the period, by month.
    pub closed_by_month: BTreeMap<String, i64>,
    /// Open concerns now, by age band.
    pub open_by_age: BTreeMap<String, i64>,
    pub overdue_acknowledgements: i64,
    pub overdue_steps: i64,
    /// Of the concerns reported in the period and acknowledged: how many, and the median time.
    pub acknowledged: i64,
    pub median_minutes_to_acknowledge: Option<f64>,
}

/// Figures as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub concerns_by_category: BTreeMap<String, Count>,
    pub opened_by_month: BTreeMap<String, Count>,
    pub closed_by_month: BTreeMap<String, Count>,
    pub open_by_age: BTreeMap<String, Count>,
    pub overdue_acknowledgements: Count,
    pub overdue_steps: Count,
    pub median_minutes_to_acknowledge: Option<f64>,
}

/// For governors each breakdown is suppressed on its own ("<5"), then:
/// - a school's (and the trust's) concerns by month are a second breakdown of the concerns shown by
///   category;
/// - a total of a category, month or band across schools is withheld when any school's part of it
///   is suppressed or withheld;
/// - a median of fewer than five acknowledged concerns is not shown.
impl Suppressible for Figures {
    type Shown = Shown;

    fn exactly(&self) -> Shown {
        Shown {
            concerns_by_category: exactly(&self.concerns_by_category),
            opened_by_month: exactly(&self.opened_by_month),
            closed_by_month: exactly(&self.closed_by_month),
            open_by_age: exactly(&self.open_by_age),
            overdue_acknowledgements: Count::Exact(self.overdue_acknowledgements),
            overdue_steps: Count::Exact(self.overdue_steps),
            median_minutes_to_acknowledge: self.median_minutes_to_acknowledge,
        }
    }

    fn for_governors(&self) -> Shown {
        let mut shown = Shown {
            concerns_by_category: each_suppressed(&self.concerns_by_category),
            opened_by_month: each_suppressed(&self.opened_by_month),
            closed_by_month: each_suppressed(&self.closed_by_month),
            open_by_age: each_suppressed(&self.open_by_age),
            overdue_acknowledgements: suppressed(self.overdue_acknowledgements),
            overdue_steps: suppressed(self.overdue_steps),
            median_minutes_to_acknowledge: median(self),
        };
        withhold_second_breakdown(&shown.concerns_by_category, &mut shown.opened_by_month);
        shown
    }

    fn total_for_governors(&self, schools: &BTreeMap<String, Shown>) -> Shown {
        let parts = || schools.values();
        let mut total = Shown {
            concerns_by_category: total_breakdown(
                &self.concerns_by_category,
                parts().map(|s| &s.concerns_by_category),
            ),
            opened_by_month: total_breakdown(&self.opened_by_month, parts().map(|s| &s.opened_by_month)),
            closed_by_month: total_breakdown(&self.closed_by_month, parts().map(|s| &s.closed_by_month)),
            open_by_age: total_breakdown(&self.open_by_age, parts().map(|s| &s.open_by_age)),
            overdue_acknowledgements: total_count(
                self.overdue_acknowledgements,
                parts().map(|s| s.overdue_acknowledgements),
            ),
            overdue_steps: total_count(self.overdue_steps, parts().map(|s| s.overdue_steps)),
            median_minutes_to_acknowledge: median(self),
        };
        withhold_second_breakdown(&total.concerns_by_category, &mut total.opened_by_month);
        total
    }
}

fn median(figures: &Figures) -> Option<f64> {
    (figures.acknowledged >= THRESHOLD)
        .then_some(figures.median_minutes_to_acknowledge)
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::super::{Detail, show};
    use super::*;

    fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(key, n)| ((*key).to_owned(), *n)).collect()
    }

    /// Two schools: RAPS with 2 nude-image concerns beside 9 cyberbullying, Chilton with 7 and 6.
    fn trust() -> (BTreeMap<String, Figures>, Figures) {
        let raps = Figures {
            concerns_by_category: counts(&[("cyberbullying", 9), ("nude_image_sharing", 2)]),
            opened_by_month: counts(&[("2026-09", 6), ("2026-10", 5)]),
            closed_by_month: counts(&[("2026-10", 3)]),
            open_by_age: counts(&[("0_7_days", 8)]),
            overdue_acknowledgements: 1,
            overdue_steps: 6,
            acknowledged: 4,
            median_minutes_to_acknowledge: Some(31.0),
        };
        let chilton = Figures {
            concerns_by_category: counts(&[("cyberbullying", 7), ("nude_image_sharing", 6)]),
            opened_by_month: counts(&[("2026-09", 7), ("2026-10", 6)]),
            closed_by_month: counts(&[("2026-10", 8)]),
            open_by_age: counts(&[("0_7_days", 5)]),
            overdue_acknowledgements: 0,
            overdue_steps: 5,
            acknowledged: 12,
            median_minutes_to_acknowledge: Some(45.0),
        };
        let total = Figures {
            concerns_by_category: counts(&[("cyberbullying", 16), ("nude_image_sharing", 8)]),
            opened_by_month: counts(&[("2026-09", 13), ("2026-10", 11)]),
            closed_by_month: counts(&[("2026-10", 11)]),
            open_by_age: counts(&[("0_7_days", 13)]),
            overdue_acknowledgements: 1,
            overdue_steps: 11,
            acknowledged: 16,
            median_minutes_to_acknowledge: Some(40.0),
        };
        (
            BTreeMap::from([("raps".into(), raps), ("chilton".into(), chilton)]),
            total,
        )
    }

    #[test]
    fn a_small_count_and_everything_that_would_give_it_away_are_hidden_from_governors() {
        let (schools, total) = trust();
        let (shown, total) = show(&schools, &total, Detail::SmallCountsSuppressed);
        let raps = &shown["raps"];
        assert_eq!(raps.concerns_by_category["nude_image_sharing"], Count::Small);
        assert_eq!(raps.concerns_by_category["cyberbullying"], Count::Exact(9));
        // RAPS's months would give its total (11), and 11 - 9 = 2: withheld.
        assert!(
            raps.opened_by_month
                .values()
                .all(|count| *count == Count::Withheld)
        );
        // The trust's nude-image total less Chilton's 6 would give RAPS's 2: withheld.
        assert_eq!(total.concerns_by_category["nude_image_sharing"], Count::Withheld);
        assert_eq!(total.concerns_by_category["cyberbullying"], Count::Exact(16));
        assert!(
            total
                .opened_by_month
                .values()
                .all(|count| *count == Count::Withheld)
        );
        // RAPS's one overdue acknowledgement: small, and the trust's 1 with it.
        assert_eq!(raps.overdue_acknowledgements, Count::Small);
        assert_eq!(total.overdue_acknowledgements, Count::Withheld);
        // A median of four cases is no median; of twelve it is.
        assert_eq!(raps.median_minutes_to_acknowledge, None);
        assert_eq!(shown["chilton"].median_minutes_to_acknowledge, Some(45.0));
        // Chilton has nothing small: all of it shows, months included.
        assert_eq!(shown["chilton"].opened_by_month["2026-09"], Count::Exact(7));
    }

    #[test]
    fn nothing_a_governor_sees_adds_up_to_a_suppressed_count() {
        // Whatever the governor adds or subtracts of what is shown exactly, within one breakdown or
        // across them, RAPS's 2 cannot be had: every exact figure that includes it is withheld.
        let (schools, total) = trust();
        let (shown, total) = show(&schools, &total, Detail::SmallCountsSuppressed);
        let exact = |counts: &BTreeMap<String, Count>| -> i64 {
            counts
                .values()
                .filter_map(|count| match count {
                    Count::Exact(n) => Some(*n),
                    _ => None,
                })
                .sum()
        };
        let raps = &shown["raps"];
        // RAPS's whole (11) is not to be had from its months, nor from the trust's totals.
        assert!(exact(&raps.opened_by_month) == 0 && exact(&total.opened_by_month) == 0);
        assert_eq!(exact(&raps.concerns_by_category), 9);
        let candidates = [
            exact(&total.concerns_by_category) - exact(&shown["chilton"].concerns_by_category) - 9,
            exact(&total.opened_by_month) - 9,
        ];
        assert!(!candidates.contains(&2), "{candidates:?}");
    }

    #[test]
    fn exact_detail_shows_everything() {
        let (schools, total) = trust();
        let (shown, total) = show(&schools, &total, Detail::Exact);
        assert_eq!(
            shown["raps"].concerns_by_category["nude_image_sharing"],
            Count::Exact(2)
        );
        assert_eq!(total.opened_by_month["2026-10"], Count::Exact(11));
        assert_eq!(shown["raps"].median_minutes_to_acknowledge, Some(31.0));
    }
}
