//! Acceptable-use policies: a document per audience, trust-wide or one school's own, in numbered
//! versions. Which version is in force at a school on a day, and what a new version must be.

use chrono::NaiveDate;
use trustsafe_events::aup::{Audience, AupPublished};

use super::people::Issue;

/// The longest policy text kept (Kent's longest template is a few thousand words).
const MAX_TEXT: usize = 200_000;

/// A version as someone asks to publish it.
#[derive(Clone, Debug)]
pub struct Draft {
    pub title: String,
    pub text: String,
    pub effective_from: NaiveDate,
    pub resign_every_days: Option<u32>,
    pub grace_days: Option<u32>,
}

/// A draft that passed: its title and text tidied, its periods given their defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub title: String,
    pub text: String,
    pub effective_from: NaiveDate,
    pub resign_every_days: u32,
    pub grace_days: u32,
}

/// Signing again every year, as both policies' templates advise.
pub const YEARLY: u32 = 365;
/// How long an agreement to the version before stays current once a new one is in force.
pub const DEFAULT_GRACE_DAYS: u32 = 30;

/// Checks a draft published on `today`: every problem named.
pub fn check(draft: Draft, today: NaiveDate) -> Result<Checked, Vec<Issue>> {
    let mut errors = Vec::new();
    let title = draft.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(Issue::new("title", "is required, at most 200 characters"));
    }
    let text = draft.text.trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        errors.push(Issue::new(
            "text",
            format!("is required, at most {MAX_TEXT} characters"),
        ));
    }
    if title.contains('\0') || text.contains('\0') {
        errors.push(Issue::new("text", "contains the NUL character"));
    }
    let resign_every_days = draft.resign_every_days.unwrap_or(YEARLY);
    if !(30..=3 * YEARLY).contains(&resign_every_days) {
        errors.push(Issue::new("resign_every_days", "is from 30 to 1095 days"));
    }
    let grace_days = draft.grace_days.unwrap_or(DEFAULT_GRACE_DAYS);
    if grace_days > 180 {
        errors.push(Issue::new("grace_days", "is at most 180 days"));
    }
    // A school often records a policy already in force on paper (since the start of term): up to a
    // year back is accepted, so that paper agreements to it can be entered.
    if draft.effective_from + chrono::Days::new(366) < today {
        errors.push(Issue::new("effective_from", "is more than a year ago"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Checked {
        title,
        text,
        effective_from: draft.effective_from,
        resign_every_days,
        grace_days,
    })
}

/// The version in force for `audience` at `school_id` on `today`: the latest version already
/// effective of the school's own document if it has one in force, else of the trust's.
pub fn in_force<'a>(
    versions: &'a [AupPublished],
    school_id: &str,
    audience: Audience,
    today: NaiveDate,
) -> Option<&'a AupPublished> {
    let latest = |own: bool| {
        versions
            .iter()
            .filter(|version| version.audience == audience && version.effective_from <= today)
            .filter(|version| match &version.school_id {
                Some(school) => own && school == school_id,
                None => !own,
            })
            .max_by_key(|version| version.version)
    };
    latest(true).or_else(|| latest(false))
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn day(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, month, day).unwrap()
    }

    fn version(school: Option<&str>, number: i32, effective_from: NaiveDate) -> AupPublished {
        AupPublished {
            document_id: Uuid::nil(),
            audience: Audience::Ks2,
            school_id: school.map(str::to_owned),
            version: number,
            title: format!("v{number}"),
            content_hash: String::new(),
            effective_from,
            resign_every_days: YEARLY,
            grace_days: DEFAULT_GRACE_DAYS,
            restricted: None,
        }
    }

    #[test]
    fn a_schools_own_version_in_force_wins_over_the_trusts() {
        let versions = [
            version(None, 1, day(1, 1)),
            version(None, 2, day(9, 1)),
            version(Some("raps"), 1, day(10, 1)),
            version(Some("chilton"), 1, day(2, 1)),
        ];
        let title =
            |school, today| in_force(&versions, school, Audience::Ks2, today).map(|v| v.title.clone());
        assert_eq!(
            title("raps", day(8, 31)).as_deref(),
            Some("v1"),
            "the trust's, before its v2"
        );
        assert_eq!(title("raps", day(9, 30)).as_deref(), Some("v2"), "the trust's v2");
        assert_eq!(
            in_force(&versions, "raps", Audience::Ks2, day(10, 1))
                .unwrap()
                .school_id
                .as_deref(),
            Some("raps"),
            "its own once in force"
        );
        assert_eq!(
            in_force(&versions, "raps", Audience::Staff, day(10, 1)),
            None,
            "no staff policy"
        );
    }

    #[test]
    fn a_draft_is_tidied_given_defaults_and_refused_with_every_problem() {
        let draft = Draft {
            title: " Pupil AUP (KS2) ".into(),
            text: "I will ask a teacher before using the internet.".into(),
            effective_from: day(9, 1),
            resign_every_days: None,
            grace_days: None,
        };
        let checked = check(draft.clone(), day(8, 20)).unwrap();
        assert_eq!(
            (
                checked.title.as_str(),
                checked.resign_every_days,
                checked.grace_days
            ),
            ("Pupil AUP (KS2)", 365, 30)
        );
        let errors = check(
            Draft {
                title: " ".into(),
                resign_every_days: Some(7),
                grace_days: Some(400),
                ..draft
            },
            day(9, 2) + chrono::Days::new(367),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|issue| issue.field.as_str()).collect();
        assert_eq!(
            fields,
            ["title", "resign_every_days", "grace_days", "effective_from"]
        );
    }
}
