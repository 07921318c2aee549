//! The roster: what the MIS sends about a person, the rules each record must pass, what a sync does to
//! a person already known, and who may read what of them.
//!
//! Every field may be null (an MIS leaves out what a school did not grant). A record with an error is
//! refused on its own, with every problem named; the rest of its batch goes on. A removal is a record
//! of its own: a person missing from a batch is never taken to have left.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};
use trustsafe_auth::SchoolRole;
use trustsafe_events::aup::{ChildLink, PersonDetails, PersonFlags, RosterKind};
use utoipa::ToSchema;

use super::upn::Upn;

/// The longest text field the roster keeps.
const MAX_TEXT: usize = 200;
/// More accounts than any one person has: a record with more is a mistake.
const MAX_LIST: usize = 50;

/// A person as the MIS sends them. Pupils carry `upn`, `year_group`, `date_of_birth` and `flags`;
/// staff `email` and `job_roles`; parents and carers `phones`, `emails` and `children`. Anyone may
/// carry `accounts`: their directory user names, as a web filter logs them.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingPerson {
    #[schema(value_type = Option<String>, example = "pupil")]
    pub kind: Option<RosterKind>,
    /// The person's id in the MIS: with `kind`, what the roster knows them by.
    pub mis_id: Option<String>,
    pub upn: Option<String>,
    pub forename: Option<String>,
    pub surname: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<NaiveDate>,
    /// `N1`, `N2`, `R` (or `Reception`), `1`–`14`, `Y7`, `Year 7`, or a number (-2 N1, -1 N2, 0 R).
    #[schema(value_type = Option<String>, example = "Year 7")]
    pub year_group: Option<YearGroupInput>,
    #[schema(value_type = Option<Object>)]
    pub flags: Option<PersonFlags>,
    pub email: Option<String>,
    #[serde(default, deserialize_with = "nullable_list")]
    pub job_roles: Vec<String>,
    #[serde(default, deserialize_with = "nullable_list")]
    pub phones: Vec<String>,
    #[serde(default, deserialize_with = "nullable_list")]
    pub emails: Vec<String>,
    #[serde(default, deserialize_with = "nullable_list")]
    pub children: Vec<IncomingChild>,
    #[serde(default, deserialize_with = "nullable_list")]
    pub accounts: Vec<String>,
}

/// A parent's or carer's child, by the child's MIS id.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingChild {
    pub mis_id: Option<String>,
    /// Only someone with parental responsibility signs for a child. Null counts as no.
    pub parental_responsibility: Option<bool>,
    pub relationship: Option<String>,
}

/// A year group as MIS systems write it.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum YearGroupInput {
    Number(i64),
    Text(String),
}

/// A person the MIS says has left.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingRemoval {
    #[schema(value_type = Option<String>, example = "pupil")]
    pub kind: Option<RosterKind>,
    pub mis_id: Option<String>,
}

/// A list that may be null, or hold nulls: both are nothing.
fn nullable_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items: Option<Vec<Option<T>>> = Option::deserialize(deserializer)?;
    Ok(items.into_iter().flatten().flatten().collect())
}

/// Something about one field of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub field: String,
    pub message: String,
}

impl Issue {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A person as the roster keeps them: checked and tidied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub kind: RosterKind,
    pub year_group: Option<i8>,
    pub flags: PersonFlags,
    pub details: PersonDetails,
}

/// A record that passed, and what was said about it.
#[derive(Clone, Debug)]
pub struct Checked<T> {
    pub record: T,
    pub warnings: Vec<Issue>,
}

/// The record's problems, or the record.
pub type Checking<T> = Result<Checked<T>, Vec<Issue>>;

/// Collects a record's errors and warnings while it is read.
#[derive(Default)]
struct Findings {
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
}

impl Findings {
    /// `value` trimmed; None when blank; an error when too long or holding a NUL.
    fn text(&mut self, field: &str, value: Option<String>) -> Option<String> {
        let value = value?.trim().to_owned();
        if value.is_empty() {
            return None;
        }
        if value.contains('\0') {
            self.errors.push(Issue::new(field, "contains the NUL character"));
        } else if value.chars().count() > MAX_TEXT {
            self.errors
                .push(Issue::new(field, format!("is longer than {MAX_TEXT} characters")));
        }
        Some(value)
    }

    fn texts(&mut self, field: &str, values: Vec<String>) -> Vec<String> {
        if values.len() > MAX_LIST {
            self.errors
                .push(Issue::new(field, format!("has more than {MAX_LIST} entries")));
        }
        let mut seen = BTreeSet::new();
        values
            .into_iter()
            .enumerate()
            .filter_map(|(n, value)| self.text(&format!("{field}[{n}]"), Some(value)))
            .filter(|value| seen.insert(value.to_lowercase()))
            .collect()
    }

    fn ignored(&mut self, field: &str, present: bool, kind: RosterKind) {
        if present {
            self.warnings.push(Issue::new(
                field,
                format!("is not kept for a {}", kind_name(kind)),
            ));
        }
    }

    fn done<T>(self, record: T) -> Checking<T> {
        if self.errors.is_empty() {
            Ok(Checked {
                record,
                warnings: self.warnings,
            })
        } else {
            Err(self.errors)
        }
    }
}

pub fn kind_name(kind: RosterKind) -> &'static str {
    match kind {
        RosterKind::Pupil => "pupil",
        RosterKind::Staff => "member of staff",
        RosterKind::Parent => "parent or carer",
    }
}

/// Checks one person as of `as_of` (a date of birth after it is an error).
pub fn check_person(incoming: IncomingPerson, as_of: DateTime<Utc>) -> Checking<Person> {
    let mut found = Findings::default();
    let mis_id = found.text("mis_id", incoming.mis_id);
    if mis_id.is_none() {
        found.errors.push(Issue::new("mis_id", "is required"));
    }
    let Some(kind) = incoming.kind else {
        found
            .errors
            .push(Issue::new("kind", "is required: pupil, staff or parent"));
        return Err(found.errors);
    };
    let mut details = PersonDetails {
        mis_id: mis_id.unwrap_or_default(),
        forename: found.text("forename", incoming.forename),
        surname: found.text("surname", incoming.surname),
        accounts: found.texts("accounts", incoming.accounts),
        ..PersonDetails::default()
    };
    let mut person = Person {
        kind,
        year_group: None,
        flags: PersonFlags::default(),
        details: PersonDetails::default(),
    };
    if kind == RosterKind::Pupil {
        details.upn = found
            .text("upn", incoming.upn)
            .and_then(|text| match Upn::parse(&text) {
                Ok(upn) => {
                    if let Some(warning) = upn.warning {
                        found.warnings.push(Issue::new("upn", warning));
                    }
                    Some(upn.text)
                }
                Err(err) => {
                    found.errors.push(Issue::new("upn", err.to_string()));
                    None
                }
            });
        person.year_group = incoming.year_group.and_then(|year| match year_group(&year) {
            Some(year) => Some(year),
            None => {
                found.errors.push(Issue::new(
                    "year_group",
                    "is not a year group: N1, N2, R, 1 to 14, Y7 or Year 7",
                ));
                None
            }
        });
        if let Some(born) = incoming.date_of_birth {
            if born > as_of.date_naive() {
                found
                    .errors
                    .push(Issue::new("date_of_birth", "is after the roster's as_of date"));
            }
            details.date_of_birth = Some(born);
        }
        person.flags = incoming.flags.unwrap_or_default();
    } else {
        found.ignored("upn", incoming.upn.is_some(), kind);
        found.ignored("year_group", incoming.year_group.is_some(), kind);
        found.ignored("date_of_birth", incoming.date_of_birth.is_some(), kind);
        found.ignored("flags", incoming.flags.is_some(), kind);
    }
    if kind == RosterKind::Staff {
        details.email = found.text("email", incoming.email);
        if details
            .email
            .as_deref()
            .is_some_and(|email| !looks_like_email(email))
        {
            found.errors.push(Issue::new("email", "is not an email address"));
        }
        details.job_roles = found.texts("job_roles", incoming.job_roles);
    } else {
        found.ignored("email", incoming.email.is_some(), kind);
        found.ignored("job_roles", !incoming.job_roles.is_empty(), kind);
    }
    if kind == RosterKind::Parent {
        details.phones = found.texts("phones", incoming.phones);
        details.emails = found.texts("emails", incoming.emails);
        for (n, email) in details.emails.iter().enumerate() {
            if !looks_like_email(email) {
                found
                    .errors
                    .push(Issue::new(format!("emails[{n}]"), "is not an email address"));
            }
        }
        details.children = children(&mut found, incoming.children);
    } else {
        found.ignored("phones", !incoming.phones.is_empty(), kind);
        found.ignored("emails", !incoming.emails.is_empty(), kind);
        found.ignored("children", !incoming.children.is_empty(), kind);
    }
    person.details = details;
    found.done(person)
}

fn children(found: &mut Findings, incoming: Vec<IncomingChild>) -> Vec<ChildLink> {
    let mut seen = BTreeSet::new();
    let mut links = Vec::new();
    for (n, child) in incoming.into_iter().enumerate() {
        let field = format!("children[{n}]");
        let Some(mis_id) = found.text(&format!("{field}.mis_id"), child.mis_id) else {
            found
                .errors
                .push(Issue::new(format!("{field}.mis_id"), "is required"));
            continue;
        };
        if !seen.insert(mis_id.clone()) {
            found
                .warnings
                .push(Issue::new(field, "names the same child twice"));
            continue;
        }
        if child.parental_responsibility.is_none() {
            found.warnings.push(Issue::new(
                format!("{field}.parental_responsibility"),
                "is not given: taken as no, so they cannot sign for this child",
            ));
        }
        links.push(ChildLink {
            relationship: found.text(&format!("{field}.relationship"), child.relationship),
            mis_id,
            person_id: None,
            parental_responsibility: child.parental_responsibility.unwrap_or(false),
        });
    }
    links
}

/// Enough of an address to be one (the MIS checks the rest).
fn looks_like_email(text: &str) -> bool {
    text.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !text.contains(' '))
}

/// A National Curriculum year: -2 (N1) to 14.
pub fn year_group(input: &YearGroupInput) -> Option<i8> {
    let year = match input {
        YearGroupInput::Number(number) => *number,
        YearGroupInput::Text(text) => {
            let text = text.trim().to_ascii_uppercase();
            match text.as_str() {
                "N1" => -2,
                "N2" => -1,
                "R" | "YR" | "RECEPTION" => 0,
                _ => {
                    let digits = text
                        .strip_prefix("YEAR")
                        .or_else(|| text.strip_prefix('Y'))
                        .unwrap_or(&text)
                        .trim();
                    digits.parse().ok()?
                }
            }
        }
    };
    (-2..=14).contains(&year).then_some(year as i8)
}

/// Checks one removal.
pub fn check_removal(incoming: IncomingRemoval) -> Checking<(RosterKind, String)> {
    let mut found = Findings::default();
    let mis_id = found.text("mis_id", incoming.mis_id);
    if mis_id.is_none() {
        found.errors.push(Issue::new("mis_id", "is required"));
    }
    if incoming.kind.is_none() {
        found
            .errors
            .push(Issue::new("kind", "is required: pupil, staff or parent"));
    }
    match (incoming.kind, mis_id) {
        (Some(kind), Some(mis_id)) => found.done((kind, mis_id)),
        _ => Err(found.errors),
    }
}

/// What the roster holds of a person before a sync.
#[derive(Clone, Debug, PartialEq)]
pub struct Known<R> {
    /// The record as last recorded (the event's data, restricted part included).
    pub record: R,
    pub as_of: DateTime<Utc>,
    pub removed: bool,
}

/// What a sync does to one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// New to the roster.
    Created,
    /// Their record changed, or they came back after a removal.
    Updated,
    /// The same as the roster already holds: nothing is written.
    Unchanged,
    /// Taken off the roster.
    Removed,
    /// The roster already holds newer data about them (`as_of` is later): nothing is written.
    Stale,
}

/// What recording `record` as of `as_of` does, given what the roster knows.
pub fn recording<R: PartialEq>(known: Option<&Known<R>>, record: &R, as_of: DateTime<Utc>) -> Outcome {
    match known {
        None => Outcome::Created,
        Some(known) if known.as_of > as_of => Outcome::Stale,
        Some(known) if known.removed || known.record != *record => Outcome::Updated,
        Some(_) => Outcome::Unchanged,
    }
}

/// What removing someone as of `as_of` does. Someone the roster never knew is None.
pub fn removing<R>(known: Option<&Known<R>>, as_of: DateTime<Utc>) -> Option<Outcome> {
    let known = known?;
    Some(if known.as_of > as_of {
        Outcome::Stale
    } else if known.removed {
        Outcome::Unchanged
    } else {
        Outcome::Removed
    })
}

/// How much of a person someone at the school may read. The one rule for the list, a person and
/// their history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RosterView {
    /// Names, kind and year group: enough for a member of staff to pick the person a concern is about.
    Names,
    /// Names and directory accounts, and staff emails: what a technician needs to run the filter.
    Directory,
    /// Everything, and the history: the DSL, deputies and the headteacher.
    Full,
}

impl RosterView {
    /// The widest view the roles at the school give; None for anyone else (governors, the trust's
    /// people, integrations), who read no one.
    pub fn of(roles: impl IntoIterator<Item = SchoolRole>) -> Option<RosterView> {
        roles
            .into_iter()
            .filter_map(|role| match role {
                SchoolRole::Dsl | SchoolRole::DeputyDsl | SchoolRole::Headteacher => Some(RosterView::Full),
                SchoolRole::Technician => Some(RosterView::Directory),
                SchoolRole::Staff => Some(RosterView::Names),
                SchoolRole::Governor => None,
            })
            .max()
    }

    /// What of `details` this view shows; the rest is left out.
    pub fn shows(self, details: &PersonDetails) -> PersonDetails {
        let names = PersonDetails {
            mis_id: details.mis_id.clone(),
            forename: details.forename.clone(),
            surname: details.surname.clone(),
            ..PersonDetails::default()
        };
        match self {
            RosterView::Names => names,
            RosterView::Directory => PersonDetails {
                email: details.email.clone(),
                accounts: details.accounts.clone(),
                ..names
            },
            RosterView::Full => details.clone(),
        }
    }

    /// Whether this view shows a pupil's sensitive flags.
    pub fn shows_flags(self) -> bool {
        self == RosterView::Full
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 9, day, 8, 0, 0).unwrap()
    }

    fn incoming(value: serde_json::Value) -> IncomingPerson {
        serde_json::from_value(value).unwrap()
    }

    fn fields(issues: &[Issue]) -> Vec<&str> {
        issues.iter().map(|issue| issue.field.as_str()).collect()
    }

    #[test]
    fn a_pupil_is_tidied_and_kept_with_a_warning_for_an_unknown_authority() {
        let checked = check_person(
            incoming(json!({
                "kind": "pupil", "mis_id": " A1 ", "upn": "b801200005001", "forename": "Ada ",
                "surname": null, "year_group": "Year 7", "date_of_birth": "2014-05-02",
                "flags": {"send": true, "eal": null}, "accounts": ["RAPS\\ada", null, "raps\\ADA", " "]
            })),
            at(1),
        )
        .unwrap();
        let pupil = checked.record;
        assert_eq!(pupil.details.mis_id, "A1");
        assert_eq!(pupil.details.upn.as_deref(), Some("B801200005001"));
        assert_eq!(pupil.details.forename.as_deref(), Some("Ada"));
        assert_eq!(pupil.details.surname, None);
        assert_eq!(pupil.year_group, Some(7));
        assert_eq!(pupil.flags.send, Some(true));
        assert_eq!(
            pupil.details.accounts,
            vec!["RAPS\\ada"],
            "one account, whatever its case"
        );
        assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
    }

    #[test]
    fn every_problem_of_a_record_is_named_at_once() {
        let errors = check_person(
            incoming(json!({
                "kind": "pupil", "upn": "C801200005001", "year_group": "Year 15",
                "date_of_birth": "2027-01-01", "forename": "x\u{0}"
            })),
            at(1),
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            ["mis_id", "forename", "upn", "year_group", "date_of_birth"]
        );
        assert!(
            errors[2].message.contains("check letter"),
            "{}",
            errors[2].message
        );
    }

    #[test]
    fn a_record_without_a_kind_is_refused_and_fields_of_another_kind_are_ignored_aloud() {
        let errors = check_person(incoming(json!({"mis_id": "S1"})), at(1)).unwrap_err();
        assert_eq!(fields(&errors), ["kind"]);
        let staff = check_person(
            incoming(json!({"kind": "staff", "mis_id": "S1", "upn": "B801200005001",
                            "email": "t.teacher@raps.sch.uk", "job_roles": ["Teacher", null]})),
            at(1),
        )
        .unwrap();
        assert_eq!(fields(&staff.warnings), ["upn"]);
        assert_eq!(staff.record.details.upn, None);
        assert_eq!(staff.record.details.job_roles, vec!["Teacher"]);
        let bad_email = check_person(
            incoming(json!({"kind": "staff", "mis_id": "S2", "email": "nobody"})),
            at(1),
        );
        assert_eq!(fields(&bad_email.unwrap_err()), ["email"]);
    }

    #[test]
    fn a_parent_links_children_and_an_unknown_responsibility_counts_as_none() {
        let parent = check_person(
            incoming(
                json!({"kind": "parent", "mis_id": "C1", "emails": ["mum@example.org"],
                            "children": [{"mis_id": "A1", "parental_responsibility": true},
                                         {"mis_id": "A2"}, null, {"mis_id": "A1"}]}),
            ),
            at(1),
        )
        .unwrap();
        let links = &parent.record.details.children;
        assert_eq!(links.len(), 2);
        assert!(links[0].parental_responsibility && !links[1].parental_responsibility);
        assert_eq!(
            fields(&parent.warnings),
            ["children[1].parental_responsibility", "children[2]"]
        );
        let orphan = check_person(
            incoming(json!({"kind": "parent", "mis_id": "C2", "children": [{}]})),
            at(1),
        );
        assert_eq!(fields(&orphan.unwrap_err()), ["children[0].mis_id"]);
    }

    #[test]
    fn year_groups_are_read_as_schools_write_them() {
        let read = |text: &str| year_group(&YearGroupInput::Text(text.into()));
        assert_eq!(read("N1"), Some(-2));
        assert_eq!(read("R"), Some(0));
        assert_eq!(read("reception"), Some(0));
        assert_eq!(read("Y11"), Some(11));
        assert_eq!(read(" 13 "), Some(13));
        assert_eq!(read("Year 3"), Some(3));
        assert_eq!(read("Year 15"), None);
        assert_eq!(read("Nursery"), None);
        assert_eq!(year_group(&YearGroupInput::Number(-3)), None);
        assert_eq!(year_group(&YearGroupInput::Number(14)), Some(14));
    }

    #[test]
    fn given_a_known_person_a_sync_changes_only_what_is_newer_and_different() {
        let known = Known {
            record: "v1",
            as_of: at(2),
            removed: false,
        };
        assert_eq!(recording(None, &"v1", at(1)), Outcome::Created);
        assert_eq!(recording(Some(&known), &"v1", at(3)), Outcome::Unchanged);
        assert_eq!(recording(Some(&known), &"v2", at(3)), Outcome::Updated);
        assert_eq!(
            recording(Some(&known), &"v2", at(2)),
            Outcome::Updated,
            "a correction of the same moment"
        );
        assert_eq!(recording(Some(&known), &"v2", at(1)), Outcome::Stale);
        let removed = Known {
            removed: true,
            ..known
        };
        assert_eq!(
            recording(Some(&removed), &"v1", at(3)),
            Outcome::Updated,
            "back on the roster"
        );
    }

    #[test]
    fn given_a_known_person_a_removal_is_written_once() {
        let known = Known {
            record: (),
            as_of: at(2),
            removed: false,
        };
        assert_eq!(removing::<()>(None, at(3)), None);
        assert_eq!(removing(Some(&known), at(3)), Some(Outcome::Removed));
        assert_eq!(removing(Some(&known), at(1)), Some(Outcome::Stale));
        let removed = Known {
            removed: true,
            ..known
        };
        assert_eq!(removing(Some(&removed), at(3)), Some(Outcome::Unchanged));
    }

    #[test]
    fn staff_read_names_technicians_accounts_and_leads_everything() {
        use SchoolRole::*;
        assert_eq!(RosterView::of([Staff]), Some(RosterView::Names));
        assert_eq!(RosterView::of([Staff, Technician]), Some(RosterView::Directory));
        assert_eq!(RosterView::of([Technician, DeputyDsl]), Some(RosterView::Full));
        assert_eq!(RosterView::of([Headteacher]), Some(RosterView::Full));
        assert_eq!(RosterView::of([Governor]), None);
        assert_eq!(RosterView::of([]), None);
        let details = PersonDetails {
            mis_id: "A1".into(),
            forename: Some("Ada".into()),
            upn: Some("B801200005001".into()),
            date_of_birth: NaiveDate::from_ymd_opt(2014, 5, 2),
            accounts: vec!["raps\\ada".into()],
            ..PersonDetails::default()
        };
        let names = RosterView::Names.shows(&details);
        assert_eq!(
            (names.forename.as_deref(), names.upn, names.accounts.len()),
            (Some("Ada"), None, 0)
        );
        let directory = RosterView::Directory.shows(&details);
        assert_eq!((directory.date_of_birth, directory.accounts.len()), (None, 1));
        assert_eq!(RosterView::Full.shows(&details), details);
        assert!(RosterView::Full.shows_flags() && !RosterView::Directory.shows_flags());
    }
}
