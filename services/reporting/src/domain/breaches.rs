//! What the trust lead is shown of filtering breaches: counts by category, severity and month, what is
//! open and past its deadline, and whether parents were told of their child's breaches in time. The
//! deadlines are the filtering service's (they travel on the log); the counting is here.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

/// One breach as the read model holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreachFact {
    pub school_id: String,
    pub category: String,
    pub severity: u8,
    pub first_seen: DateTime<Utc>,
    pub triage_by: DateTime<Utc>,
    pub triaged: bool,
    pub parents_by: Option<DateTime<Utc>>,
    pub parents_informed_at: Option<DateTime<Utc>>,
    pub escalated: bool,
    pub resolved: bool,
}

/// One school's (or the trust's) filtering figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BreachFigures {
    pub by_category: BTreeMap<String, i64>,
    pub by_severity: BTreeMap<u8, i64>,
    pub by_month: BTreeMap<String, i64>,
    pub escalated: i64,
    /// Now, whatever the period.
    pub open: i64,
    pub overdue_triage: i64,
    pub overdue_parents: i64,
    /// Breaches by pupils found genuine (so their parents were owed), in the period.
    pub parents_owed: i64,
    pub parents_told_on_time: i64,
    pub parents_told_late: i64,
    pub parents_not_yet_told: i64,
}

impl BreachFigures {
    /// Counts a breach first seen in the period.
    pub fn count_in_period(&mut self, fact: &BreachFact) {
        *self.by_category.entry(fact.category.clone()).or_default() += 1;
        *self.by_severity.entry(fact.severity).or_default() += 1;
        *self
            .by_month
            .entry(fact.first_seen.format("%Y-%m").to_string())
            .or_default() += 1;
        self.escalated += i64::from(fact.escalated);
        if let Some(due) = fact.parents_by {
            self.parents_owed += 1;
            match fact.parents_informed_at {
                Some(told) if told <= due => self.parents_told_on_time += 1,
                Some(_) => self.parents_told_late += 1,
                None => self.parents_not_yet_told += 1,
            }
        }
    }

    /// Counts an unresolved breach as it stands `now`.
    pub fn count_open(&mut self, fact: &BreachFact, now: DateTime<Utc>) {
        if fact.resolved {
            return;
        }
        self.open += 1;
        self.overdue_triage += i64::from(!fact.triaged && now > fact.triage_by);
        self.overdue_parents +=
            i64::from(fact.parents_informed_at.is_none() && fact.parents_by.is_some_and(|due| now > due));
    }
}

/// Per school and in total: breaches first seen in `days`, and those open now.
pub fn figures(
    in_period: &[BreachFact],
    open: &[BreachFact],
    days: (NaiveDate, NaiveDate),
    now: DateTime<Utc>,
) -> (BTreeMap<String, BreachFigures>, BreachFigures) {
    let (mut schools, mut total) = (BTreeMap::<String, BreachFigures>::new(), BreachFigures::default());
    for fact in in_period {
        let day = fact.first_seen.date_naive();
        if day < days.0 || day > days.1 {
            continue;
        }
        schools
            .entry(fact.school_id.clone())
            .or_default()
            .count_in_period(fact);
        total.count_in_period(fact);
    }
    for fact in open {
        schools
            .entry(fact.school_id.clone())
            .or_default()
            .count_open(fact, now);
        total.count_open(fact, now);
    }
    (schools, total)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        "2026-11-30T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::hours(hours)
    }

    fn fact(school: &str, category: &str) -> BreachFact {
        BreachFact {
            school_id: school.into(),
            category: category.into(),
            severity: 2,
            first_seen: at(0),
            triage_by: at(24),
            triaged: false,
            parents_by: None,
            parents_informed_at: None,
            escalated: false,
            resolved: false,
        }
    }

    #[test]
    fn given_breaches_at_two_schools_then_each_and_the_trust_count_them() {
        let days = (at(-24 * 30).date_naive(), at(0).date_naive());
        let mut told_late = fact("raps", "gambling");
        told_late.parents_by = Some(at(30));
        told_late.parents_informed_at = Some(at(40));
        told_late.triaged = true;
        let mut owed = fact("chilton", "self_harm");
        owed.severity = 4;
        owed.escalated = true;
        owed.triaged = true;
        owed.parents_by = Some(at(30));
        let mut old = fact("raps", "gaming");
        old.first_seen = at(-24 * 400);
        old.resolved = true;
        let all = [told_late.clone(), owed.clone(), fact("raps", "gambling"), old];
        let open: Vec<BreachFact> = all.iter().filter(|fact| !fact.resolved).cloned().collect();
        let (schools, total) = figures(&all, &open, days, at(48));
        assert_eq!(total.by_category.get("gambling"), Some(&2));
        assert_eq!(total.by_category.get("gaming"), None, "outside the period");
        assert_eq!(
            (total.open, total.overdue_triage, total.overdue_parents),
            (3, 1, 1)
        );
        assert_eq!(
            (
                total.parents_owed,
                total.parents_told_late,
                total.parents_not_yet_told
            ),
            (2, 1, 1)
        );
        assert_eq!(
            (
                schools["raps"].by_month.get("2026-11"),
                schools["chilton"].escalated
            ),
            (Some(&2), 1)
        );
        assert_eq!(schools["chilton"].by_severity.get(&4), Some(&1));
    }
}
