//! What an upload becomes: blocked and flagged requests gathered into breaches (the same person, host
//! and category within an hour of the first sighting is one breach with a count), every request
//! counted into hourly aggregates, every line accounted for. Illegal content is never merged: each
//! sighting is a breach of its own.

use std::collections::HashMap;

use super::categories::{Normalised, Normaliser};
use super::feeds::{Action, LogLine};
use super::suppression::Suppressions;

/// How long after its first sighting a breach takes in more of the same.
pub const WINDOW_SECONDS: i64 = 3600;

/// The most refused lines an answer lists one by one; all are counted.
pub const REFUSALS_LISTED: usize = 1000;

/// Who, where and what: sightings with the same key within the window are one breach.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BreachKey {
    /// The account lower-cased, else the client, else empty.
    pub who: String,
    /// The host lower-cased.
    pub host: String,
    pub category: u16,
}

/// A breach as an upload saw it, before the store says whether it continues one already kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighted {
    pub key: BreachKey,
    pub first_seen: i64,
    pub last_seen: i64,
    pub count: u32,
    pub user: Option<String>,
    pub client: Option<String>,
    /// The first address seen, with its host when the format logs the path alone.
    pub url: String,
    pub vendor_category: Option<String>,
    pub vendor_severity: Option<String>,
    pub normalised: Normalised,
    pub action: Action,
    /// The first sighting's context (a monitoring alert's capture).
    pub context: Option<String>,
}

/// An hour's count for one category and action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HourKey {
    /// The hour's first second (epoch).
    pub hour: i64,
    pub category: u16,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub line: u64,
    pub reason: String,
}

/// An upload's lines, accounted for.
#[derive(Debug, Default)]
pub struct Tally {
    pub lines_read: u64,
    pub lines_skipped: u64,
    /// Lines that are (or joined) a breach.
    pub lines_in_breaches: u64,
    /// Lines only counted.
    pub lines_counted: u64,
    pub lines_refused: u64,
    /// Blocked or flagged requests a suppression rule covers: counted, not breaches.
    pub lines_suppressed: u64,
    /// The first [`REFUSALS_LISTED`] refused lines.
    pub refusals: Vec<Refusal>,
    pub hours: HashMap<HourKey, u64>,
    pub breaches: Vec<Sighted>,
    open: HashMap<BreachKey, usize>,
    suppressions: Suppressions,
}

fn url_of(line: &LogLine<'_>) -> String {
    if line.url.starts_with('/') {
        format!("{}{}", line.host, line.url)
    } else {
        line.url.to_owned()
    }
}

impl Tally {
    /// A tally that counts what `suppressions` cover instead of recording it.
    pub fn suppressing(suppressions: Suppressions) -> Self {
        Self {
            suppressions,
            ..Self::default()
        }
    }

    pub fn skipped(&mut self) {
        self.lines_read += 1;
        self.lines_skipped += 1;
    }

    pub fn refused(&mut self, line: u64, reason: String) {
        self.lines_read += 1;
        self.lines_refused += 1;
        if self.refusals.len() < REFUSALS_LISTED {
            self.refusals.push(Refusal { line, reason });
        }
    }

    /// A request: counted in its hour, and kept as (part of) a breach when the filter blocked or
    /// flagged it (a supporting request never is).
    pub fn request(&mut self, line: &LogLine<'_>, normaliser: &mut Normaliser) {
        self.lines_read += 1;
        let normalised = normaliser.normalise(line.vendor_category, line.vendor_severity);
        let hour = HourKey {
            hour: line.at - line.at.rem_euclid(3600),
            category: normalised.category,
            action: line.action,
        };
        *self.hours.entry(hour).or_default() += 1;
        if line.action == Action::Allowed || line.supporting {
            self.lines_counted += 1;
            return;
        }
        let illegal = normaliser.is_illegal(normalised);
        if self.suppressions.covers(line, illegal) {
            self.lines_suppressed += 1;
            return;
        }
        self.lines_in_breaches += 1;
        let key = BreachKey {
            who: line.user.or(line.client).unwrap_or("").to_lowercase(),
            host: line.host.to_ascii_lowercase(),
            category: normalised.category,
        };
        if !illegal && let Some(&index) = self.open.get(&key) {
            let breach = &mut self.breaches[index];
            if line.at < breach.first_seen + WINDOW_SECONDS {
                breach.count += 1;
                breach.first_seen = breach.first_seen.min(line.at);
                breach.last_seen = breach.last_seen.max(line.at);
                breach.action = breach.action.max(line.action);
                if normalised.severity > breach.normalised.severity {
                    breach.normalised = normalised;
                    breach.vendor_severity = line.vendor_severity.map(str::to_owned);
                }
                return;
            }
        }
        let sighted = Sighted {
            key: key.clone(),
            first_seen: line.at,
            last_seen: line.at,
            count: 1,
            user: line.user.map(str::to_owned),
            client: line.client.map(str::to_owned),
            url: url_of(line),
            vendor_category: line.vendor_category.map(str::to_owned),
            vendor_severity: line.vendor_severity.map(str::to_owned),
            normalised,
            action: line.action,
            context: line.context.map(str::to_owned),
        };
        self.breaches.push(sighted);
        if !illegal {
            self.open.insert(key, self.breaches.len() - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        at: i64,
        user: &'static str,
        host: &'static str,
        category: &'static str,
        action: Action,
    ) -> LogLine<'static> {
        LogLine {
            at,
            user: Some(user),
            client: Some("10.0.0.1"),
            host,
            url: "/",
            action,
            vendor_category: Some(category),
            vendor_severity: None,
            supporting: false,
            context: None,
        }
    }

    const NINE: i64 = 1_796_029_200; // 2026-11-30 09:00:00Z

    #[test]
    fn given_blocks_by_one_pupil_within_the_hour_then_one_breach_with_a_count() {
        let (mut tally, mut normaliser) = (Tally::default(), Normaliser::new(&[]));
        for minute in [0, 10, 59] {
            tally.request(
                &line(
                    NINE + minute * 60,
                    "Y6Pupil",
                    "Casino.example",
                    "Gambling",
                    Action::Blocked,
                ),
                &mut normaliser,
            );
        }
        tally.request(
            &line(
                NINE + 3600,
                "y6pupil",
                "casino.example",
                "Gambling",
                Action::Blocked,
            ),
            &mut normaliser,
        );
        assert_eq!(
            tally.breaches.len(),
            2,
            "the fourth is past the hour: a new breach"
        );
        let first = &tally.breaches[0];
        assert_eq!(
            (first.count, first.first_seen, first.last_seen),
            (3, NINE, NINE + 59 * 60)
        );
        assert_eq!(first.url, "Casino.example/");
        assert_eq!(
            (tally.lines_read, tally.lines_in_breaches, tally.lines_counted),
            (4, 4, 0)
        );
    }

    #[test]
    fn given_other_people_hosts_or_categories_then_other_breaches() {
        let (mut tally, mut normaliser) = (Tally::default(), Normaliser::new(&[]));
        tally.request(
            &line(NINE, "a", "x.example", "Gambling", Action::Blocked),
            &mut normaliser,
        );
        tally.request(
            &line(NINE, "b", "x.example", "Gambling", Action::Blocked),
            &mut normaliser,
        );
        tally.request(
            &line(NINE, "a", "y.example", "Gambling", Action::Blocked),
            &mut normaliser,
        );
        tally.request(
            &line(NINE, "a", "x.example", "Pornography", Action::Blocked),
            &mut normaliser,
        );
        assert_eq!(tally.breaches.len(), 4);
    }

    #[test]
    fn given_illegal_content_then_every_sighting_is_its_own_breach() {
        let (mut tally, mut normaliser) = (Tally::default(), Normaliser::new(&[]));
        for second in 0..3 {
            tally.request(
                &line(NINE + second, "a", "x.example", "IWF list", Action::Blocked),
                &mut normaliser,
            );
        }
        assert_eq!(tally.breaches.len(), 3);
        assert!(
            tally
                .breaches
                .iter()
                .all(|breach| breach.count == 1 && breach.normalised.severity == 5)
        );
    }

    #[test]
    fn given_allowed_and_supporting_requests_then_only_counted_by_hour_category_and_action() {
        let (mut tally, mut normaliser) = (Tally::default(), Normaliser::new(&[]));
        tally.request(
            &line(NINE + 5, "a", "news.example", "News", Action::Allowed),
            &mut normaliser,
        );
        tally.request(
            &line(NINE + 3599, "a", "news.example", "News", Action::Allowed),
            &mut normaliser,
        );
        let mut supporting = line(NINE + 7, "a", "cdn.example", "Gambling", Action::Blocked);
        supporting.supporting = true;
        tally.request(&supporting, &mut normaliser);
        assert!(tally.breaches.is_empty());
        assert_eq!(tally.lines_counted, 3);
        let uncategorised = HourKey {
            hour: NINE,
            category: 11,
            action: Action::Allowed,
        };
        assert_eq!(tally.hours.get(&uncategorised), Some(&2));
        assert_eq!(tally.hours.values().sum::<u64>(), 3);
    }

    #[test]
    fn given_a_suppression_then_its_blocks_are_counted_but_illegal_content_still_recorded() {
        let rule = |host: &str| trustsafe_events::filtering::Suppression {
            host: Some(host.into()),
            phrase: None,
            reason: "noise".into(),
        };
        let suppressions = Suppressions::new(&[rule("ads.example"), rule("bad.example")]);
        let (mut tally, mut normaliser) = (Tally::suppressing(suppressions), Normaliser::new(&[]));
        tally.request(
            &line(NINE, "a", "ads.example", "Advertising", Action::Blocked),
            &mut normaliser,
        );
        tally.request(
            &line(NINE, "a", "bad.example", "IWF", Action::Blocked),
            &mut normaliser,
        );
        assert_eq!(
            (
                tally.lines_suppressed,
                tally.lines_in_breaches,
                tally.breaches.len()
            ),
            (1, 1, 1)
        );
        assert_eq!(
            tally.hours.values().sum::<u64>(),
            2,
            "suppressed requests are still counted"
        );
    }

    #[test]
    fn given_many_refused_lines_then_all_are_counted_and_the_first_thousand_listed() {
        let mut tally = Tally::default();
        for number in 1..=1500 {
            tally.refused(number, "bad".into());
        }
        tally.skipped();
        assert_eq!(
            (tally.lines_read, tally.lines_refused, tally.refusals.len()),
            (1501, 1500, 1000)
        );
        assert_eq!(tally.refusals[999].line, 1000);
    }
}
