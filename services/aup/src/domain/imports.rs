//! Acceptances another system already collected, as its CSV export gives them: Smoothwall Monitor's
//! log-on AUP log and Microsoft Entra's Terms of Use acceptance records. Neither publishes a fixed
//! layout, so the columns are found by their header names (in any order, any case); a header without
//! a user, an answer and a time refuses the upload before any line is read. Each line is accounted
//! for, and a person is found by the directory account the system logged.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use trustsafe_events::aup::{AcceptanceSystem, Decision};
use uuid::Uuid;

/// Where each field is, by column index.
#[derive(Clone, Debug)]
pub struct Layout {
    system: AcceptanceSystem,
    user: usize,
    decision: usize,
    time: usize,
    expires: Option<usize>,
}

fn normalised(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .replace(['_', '-'], " ")
}

const USER: [&str; 8] = [
    "user principal name",
    "userprincipalname",
    "upn",
    "username",
    "user name",
    "user",
    "login",
    "email",
];
const DECISION: [&str; 7] = [
    "state", "status", "action", "result", "response", "decision", "accepted",
];
const TIME: [&str; 12] = [
    "recorded (utc)",
    "recorded date time",
    "recordeddatetime",
    "recorded",
    "time (utc)",
    "time",
    "date",
    "timestamp",
    "date/time",
    "date time",
    "datetime",
    "accepted on",
];
const EXPIRES: [&str; 5] = [
    "expiration",
    "expires",
    "expiry",
    "expiration date time",
    "expirationdatetime",
];

impl Layout {
    /// The columns of `system`'s export, from its header line; the refusal names what is missing.
    pub fn from_header(system: AcceptanceSystem, header: &[&str]) -> Result<Self, String> {
        let names: Vec<String> = header.iter().map(|name| normalised(name)).collect();
        let find = |wanted: &[&str]| {
            wanted
                .iter()
                .find_map(|wanted| names.iter().position(|name| name == wanted))
        };
        let missing = || {
            format!(
                "the {} export's header must name the user (e.g. {}), the answer (e.g. {}) and its time \
                 (e.g. {}); it has {}",
                system.name(),
                if system == AcceptanceSystem::EntraTermsOfUse {
                    "User principal name"
                } else {
                    "Username"
                },
                if system == AcceptanceSystem::EntraTermsOfUse {
                    "State"
                } else {
                    "Action"
                },
                if system == AcceptanceSystem::EntraTermsOfUse {
                    "Recorded (UTC)"
                } else {
                    "Time"
                },
                names.join(", ")
            )
        };
        Ok(Self {
            system,
            user: find(&USER).ok_or_else(missing)?,
            decision: find(&DECISION).ok_or_else(missing)?,
            time: find(&TIME).ok_or_else(missing)?,
            expires: find(&EXPIRES),
        })
    }

    /// The zone a time written without an offset is in: Smoothwall's appliance logs the school's
    /// wall clock; Entra's records are in UTC.
    fn zone(&self) -> Tz {
        match self.system {
            AcceptanceSystem::SmoothwallMonitor => chrono_tz::Europe::London,
            AcceptanceSystem::EntraTermsOfUse => chrono_tz::UTC,
        }
    }

    /// One line of the export (numbered from 1, the header's).
    pub fn line(&self, fields: &[&str], line: u64, now: DateTime<Utc>) -> Line {
        if fields.iter().all(|field| field.trim().is_empty()) {
            return Line::Blank;
        }
        let field = |index: usize| fields.get(index).map_or("", |field| field.trim());
        let user = field(self.user);
        if user.is_empty() {
            return Line::Rejected("no user".into());
        }
        let Some(decision) = decision(field(self.decision)) else {
            return Line::Rejected(format!(
                "the answer {:?} is neither accepted nor declined",
                field(self.decision)
            ));
        };
        let Some(at) = written_time(field(self.time), self.zone()) else {
            return Line::Rejected(format!("the time {:?} is not a date and time", field(self.time)));
        };
        if at > now + chrono::Duration::minutes(5) {
            return Line::Rejected(format!("the time {at} is in the future"));
        }
        let expires = self.expires.map(field).filter(|text| !text.is_empty());
        if let Some(expires) = expires {
            match written_time(expires, self.zone()) {
                Some(expires) if expires <= now => return Line::Expired,
                Some(_) => {}
                None => return Line::Rejected(format!("the expiry {expires:?} is not a date and time")),
            }
        }
        Line::Acceptance(Acceptance {
            line,
            user: user.to_owned(),
            decision,
            at,
        })
    }
}

/// What one line of an export is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    Blank,
    Acceptance(Acceptance),
    /// The system says the acceptance has expired: it is not an answer that stands.
    Expired,
    Rejected(String),
}

/// An answer as another system logged it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acceptance {
    pub line: u64,
    pub user: String,
    pub decision: Decision,
    pub at: DateTime<Utc>,
}

fn decision(text: &str) -> Option<Decision> {
    let is = |words: &[&str]| words.iter().any(|word| text.eq_ignore_ascii_case(word));
    if is(&["accepted", "accept", "agreed", "agree", "yes", "true"]) {
        Some(Decision::Agreed)
    } else if is(&["declined", "decline", "rejected", "reject", "no", "false"]) {
        Some(Decision::Declined)
    } else {
        None
    }
}

/// A time as exports write it: with an offset (RFC 3339), or without one in `zone` (ISO or UK day
/// first). In the hour the clocks go back, the earlier reading.
fn written_time(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    const FORMATS: [&str; 6] = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ];
    let naive = FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())?;
    zone.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|at| at.with_timezone(&Utc))
}

/// A user name as a system logs it, reduced to the name alone: `RAPS\Jo.Demo` and
/// `jo.demo@raps.example` are both `jo.demo`.
fn bare(user: &str) -> String {
    let user = user.rsplit('\\').next().unwrap_or(user);
    let user = user.split('@').next().unwrap_or(user);
    user.to_lowercase()
}

/// The school's people by the directory accounts the roster gives them: a logged user name is theirs
/// when it is one of their accounts (any case), or when its name alone is, and no one else's.
#[derive(Default)]
pub struct Accounts {
    whole: HashMap<String, Uuid>,
    /// None where two people share the name alone.
    bare: HashMap<String, Option<Uuid>>,
}

/// Why a logged user name finds no one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unmatched {
    NoOne,
    MoreThanOne,
}

impl Accounts {
    pub fn of<'a>(people: impl IntoIterator<Item = (Uuid, &'a [String])>) -> Self {
        let mut accounts = Accounts::default();
        for (person, names) in people {
            for name in names {
                accounts.whole.insert(name.to_lowercase(), person);
                accounts
                    .bare
                    .entry(bare(name))
                    .and_modify(|found| {
                        if *found != Some(person) {
                            *found = None;
                        }
                    })
                    .or_insert(Some(person));
            }
        }
        accounts
    }

    pub fn find(&self, user: &str) -> Result<Uuid, Unmatched> {
        if let Some(person) = self.whole.get(&user.to_lowercase()) {
            return Ok(*person);
        }
        match self.bare.get(&bare(user)) {
            Some(Some(person)) => Ok(*person),
            Some(None) => Err(Unmatched::MoreThanOne),
            None => Err(Unmatched::NoOne),
        }
    }
}

/// Each person's latest answer in the export (a log-on log holds one per log-on; the latest stands),
/// and how many earlier ones it supersedes.
pub fn latest_per_person(matched: Vec<(Uuid, Acceptance)>) -> (Vec<(Uuid, Acceptance)>, u64) {
    let total = matched.len() as u64;
    let mut latest: HashMap<Uuid, Acceptance> = HashMap::new();
    for (person, acceptance) in matched {
        match latest.get(&person) {
            Some(kept) if (kept.at, kept.line) >= (acceptance.at, acceptance.line) => {}
            _ => {
                latest.insert(person, acceptance);
            }
        }
    }
    let mut latest: Vec<(Uuid, Acceptance)> = latest.into_iter().collect();
    latest.sort_by_key(|(_, acceptance)| acceptance.line);
    let superseded = total - latest.len() as u64;
    (latest, superseded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_header_finds_its_columns_in_any_order_and_without_them_the_upload_stops() {
        let entra = Layout::from_header(
            AcceptanceSystem::EntraTermsOfUse,
            &[
                "\u{feff}Display name",
                "User principal name",
                "Device ID",
                "State",
                "Recorded (UTC)",
                "Expiration",
            ],
        )
        .unwrap();
        assert_eq!(
            (entra.user, entra.decision, entra.time, entra.expires),
            (1, 3, 4, Some(5))
        );
        let smoothwall = Layout::from_header(
            AcceptanceSystem::SmoothwallMonitor,
            &["Time", "Action", "IP", "Username"],
        )
        .unwrap();
        assert_eq!((smoothwall.user, smoothwall.decision, smoothwall.time), (3, 1, 0));
        let refused =
            Layout::from_header(AcceptanceSystem::SmoothwallMonitor, &["Time", "Username"]).unwrap_err();
        assert!(
            refused.contains("the answer") && refused.contains("time, username"),
            "{refused}"
        );
    }

    #[test]
    fn given_lines_each_is_an_answer_or_says_why_not() {
        let layout = Layout::from_header(
            AcceptanceSystem::SmoothwallMonitor,
            &["Time", "Username", "Action", "Expires"],
        )
        .unwrap();
        let line = |fields: &[&str]| layout.line(fields, 2, now());
        // Summer time: 09:15 in London is 08:15 UTC.
        assert_eq!(
            line(&["2026-07-01 09:15:00", "RAPS\\jo.demo", "Accepted", ""]),
            Line::Acceptance(Acceptance {
                line: 2,
                user: "RAPS\\jo.demo".into(),
                decision: Decision::Agreed,
                at: Utc.with_ymd_and_hms(2026, 7, 1, 8, 15, 0).unwrap(),
            })
        );
        let Line::Acceptance(declined) = line(&["01/11/2026 08:00", "kit", "declined", ""]) else {
            panic!("a UK date");
        };
        assert_eq!(
            (declined.decision, declined.at.to_rfc3339()),
            (Decision::Declined, "2026-11-01T08:00:00+00:00".into())
        );
        assert_eq!(line(&["", "", "", ""]), Line::Blank);
        assert!(
            matches!(line(&["2026-07-01 09:15:00", "jo", "Maybe", ""]), Line::Rejected(reason) if reason.contains("Maybe"))
        );
        assert!(
            matches!(line(&["yesterday", "jo", "Accepted", ""]), Line::Rejected(reason) if reason.contains("yesterday"))
        );
        assert!(matches!(
            line(&["2026-07-01 09:15:00", " ", "Accepted", ""]),
            Line::Rejected(_)
        ));
        assert!(
            matches!(line(&["2027-07-01 09:15:00", "jo", "Accepted", ""]), Line::Rejected(reason) if reason.contains("future"))
        );
        assert_eq!(
            line(&["2026-07-01 09:15:00", "jo", "Accepted", "2026-10-01T00:00:00Z"]),
            Line::Expired
        );
        assert!(matches!(
            line(&["2026-07-01 09:15:00", "jo", "Accepted", "2027-07-01 00:00"]),
            Line::Acceptance(_)
        ));
    }

    #[test]
    fn the_hour_the_clocks_go_back_reads_as_its_first_pass() {
        let london = chrono_tz::Europe::London;
        assert_eq!(
            written_time("2026-10-25 01:30:00", london).unwrap().to_rfc3339(),
            "2026-10-25T00:30:00+00:00"
        );
        assert_eq!(
            written_time("2026-03-29 01:30:00", london).unwrap().to_rfc3339(),
            "2026-03-29T01:30:00+00:00",
            "no such wall time: the hour the clocks went forward"
        );
        assert_eq!(
            written_time("2026-07-01 09:15:00", chrono_tz::UTC)
                .unwrap()
                .to_rfc3339(),
            "2026-07-01T09:15:00+00:00"
        );
    }

    #[test]
    fn a_logged_user_name_finds_its_person_by_account_or_by_its_name_alone_if_no_one_shares_it() {
        let (jo, kit, sam) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let jo_accounts = vec!["RAPS\\Jo.Demo".to_owned()];
        let kit_accounts = vec!["kit.sample@raps.example".to_owned(), "RAPS\\shared".to_owned()];
        let sam_accounts = vec!["CHILTON\\shared".to_owned()];
        let accounts = Accounts::of([
            (jo, jo_accounts.as_slice()),
            (kit, kit_accounts.as_slice()),
            (sam, sam_accounts.as_slice()),
        ]);
        assert_eq!(accounts.find("raps\\jo.demo"), Ok(jo));
        assert_eq!(accounts.find("jo.demo@raps.example"), Ok(jo), "the name alone");
        assert_eq!(accounts.find("KIT.SAMPLE"), Ok(kit));
        assert_eq!(accounts.find("RAPS\\shared"), Ok(kit), "a whole account is exact");
        assert_eq!(accounts.find("shared@raps.example"), Err(Unmatched::MoreThanOne));
        assert_eq!(accounts.find("nobody"), Err(Unmatched::NoOne));
    }

    #[test]
    fn given_many_log_ons_a_persons_latest_answer_stands() {
        let at = |hour| Utc.with_ymd_and_hms(2026, 11, 2, hour, 0, 0).unwrap();
        let answer = |line, hour, decision| Acceptance {
            line,
            user: "jo".into(),
            decision,
            at: at(hour),
        };
        let (jo, kit) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let (latest, superseded) = latest_per_person(vec![
            (jo, answer(2, 9, Decision::Agreed)),
            (jo, answer(3, 11, Decision::Declined)),
            (kit, answer(4, 10, Decision::Agreed)),
            (jo, answer(5, 10, Decision::Agreed)),
        ]);
        assert_eq!(superseded, 2);
        assert_eq!(
            latest
                .iter()
                .map(|(person, answer)| (*person, answer.line))
                .collect::<Vec<_>>(),
            vec![(jo, 3), (kit, 4)]
        );
    }
}
