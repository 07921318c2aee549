//! Agreements: which policy a person signs, who may sign it for them, and where each person stands —
//! current, due, overdue, missing or declined. Access to systems and devices follows from standing.

use chrono::{Days, NaiveDate};
use trustsafe_events::aup::{
    AgreementRecorded, Audience, AupPublished, Decision, PersonRecorded, RosterKind, Signer,
};

/// How long before a yearly re-sign falls due that it shows as due.
const DUE_NOTICE_DAYS: u64 = 30;

/// Whether a parent or carer signs a policy for their child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParentSignature {
    /// The child is too young: only a parent or carer with parental responsibility signs (SWGfL: for
    /// younger children the parent's signature should be sufficient).
    Required,
    /// The learner signs, or a parent or carer for them.
    Allowed,
    NotAllowed,
}

pub fn parent_signature(audience: Audience) -> ParentSignature {
    match audience {
        Audience::EyfsKs1 => ParentSignature::Required,
        Audience::Ks2 | Audience::SendLearners => ParentSignature::Allowed,
        _ => ParentSignature::NotAllowed,
    }
}

/// The policy a person's compliance is counted by: a pupil's key stage (SEND learners their own),
/// staff's, parents'. None for a pupil whose year group the MIS did not give.
pub fn primary_audience(person: &PersonRecorded) -> Option<Audience> {
    match person.kind {
        RosterKind::Staff => Some(Audience::Staff),
        RosterKind::Parent => Some(Audience::ParentsCarers),
        RosterKind::Pupil if person.flags.send == Some(true) => Some(Audience::SendLearners),
        RosterKind::Pupil => person.year_group.map(key_stage),
    }
}

/// The key stage's policy for a year group.
fn key_stage(year_group: i8) -> Audience {
    match year_group {
        ..=2 => Audience::EyfsKs1,
        3..=6 => Audience::Ks2,
        _ => Audience::Ks3To5,
    }
}

/// Whether `audience`'s policy is one this person may sign: their own, or one for access they may
/// need (Wi-Fi; official social media for staff).
pub fn fits(person: &PersonRecorded, audience: Audience) -> bool {
    match (person.kind, audience) {
        (_, Audience::WifiUsers) => true,
        (RosterKind::Staff, Audience::Staff | Audience::SocialMediaStaff) => true,
        (RosterKind::Parent, Audience::ParentsCarers) => true,
        (RosterKind::Pupil, Audience::SendLearners) => person.flags.send == Some(true),
        (RosterKind::Pupil, Audience::EyfsKs1 | Audience::Ks2 | Audience::Ks3To5) => {
            person.year_group.is_none_or(|year| key_stage(year) == audience)
        }
        _ => false,
    }
}

/// Checks an agreement before it is recorded: the policy fits the person, and whoever signs may.
/// `parent` is the signing parent's record when a parent signs. The refusal says why.
pub fn may_agree(
    person: &PersonRecorded,
    audience: Audience,
    signer: &Signer,
    parent: Option<&PersonRecorded>,
) -> Result<(), String> {
    if !fits(person, audience) {
        return Err(format!("The {audience:?} policy is not one this person signs."));
    }
    match (signer, parent_signature(audience)) {
        (Signer::Themselves, ParentSignature::Required) => {
            Err("A parent or carer with parental responsibility signs this policy for the child.".into())
        }
        (Signer::ParentOrCarer { .. }, ParentSignature::NotAllowed) => {
            Err("This policy is signed by the person themselves.".into())
        }
        (Signer::ParentOrCarer { parent_id }, _) => match parent {
            Some(parent)
                if parent.person_id == *parent_id
                    && parent.kind == RosterKind::Parent
                    && parent.responsible_for.contains(&person.person_id) =>
            {
                Ok(())
            }
            _ => {
                Err("The signer is not a parent or carer with parental responsibility for this child.".into())
            }
        },
        (Signer::Themselves, _) => Ok(()),
    }
}

/// Where a person stands with a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Standing {
    /// Agreed to the version in force, and not yet near the yearly re-sign.
    Current,
    /// Still covered, but must sign again soon: a new version is in its grace period, or the yearly
    /// re-sign is within 30 days.
    Due,
    /// Not covered: the yearly re-sign or a new version's grace period has passed.
    Overdue,
    /// Never signed.
    Missing,
    /// Declined the last time they were asked.
    Declined,
    /// The school has no policy in force for this audience: no one can be covered.
    NoPolicy,
}

impl Standing {
    pub const ALL: [Standing; 6] = [
        Standing::Current,
        Standing::Due,
        Standing::Overdue,
        Standing::Missing,
        Standing::Declined,
        Standing::NoPolicy,
    ];

    /// Its name in the API.
    pub fn name(self) -> &'static str {
        match self {
            Standing::Current => "current",
            Standing::Due => "due",
            Standing::Overdue => "overdue",
            Standing::Missing => "missing",
            Standing::Declined => "declined",
            Standing::NoPolicy => "no_policy",
        }
    }

    pub fn named(name: &str) -> Option<Standing> {
        Standing::ALL.into_iter().find(|standing| standing.name() == name)
    }

    /// Whether access to systems and devices may be granted (and is kept).
    pub fn covers(self) -> bool {
        matches!(self, Standing::Current | Standing::Due)
    }
}

/// Where someone whose last answer was `last` stands with `in_force` on `today`.
pub fn standing(
    last: Option<&AgreementRecorded>,
    in_force: Option<&AupPublished>,
    today: NaiveDate,
) -> Standing {
    let Some(in_force) = in_force else {
        return Standing::NoPolicy;
    };
    let Some(last) = last else {
        return Standing::Missing;
    };
    if last.decision == Decision::Declined {
        return Standing::Declined;
    }
    let signed_on = last.signed_at.date_naive();
    let resign_by = signed_on + Days::new(u64::from(in_force.resign_every_days));
    if today >= resign_by {
        return Standing::Overdue;
    }
    let to_the_version_in_force =
        last.document_id == in_force.document_id && last.version == in_force.version;
    if !to_the_version_in_force {
        let grace_ends = in_force.effective_from + Days::new(u64::from(in_force.grace_days));
        return if today < grace_ends {
            Standing::Due
        } else {
            Standing::Overdue
        };
    }
    if today + Days::new(DUE_NOTICE_DAYS) >= resign_by {
        Standing::Due
    } else {
        Standing::Current
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use trustsafe_events::aup::{AgreementSource, PersonFlags};
    use uuid::Uuid;

    use super::*;

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn person(kind: RosterKind, year_group: Option<i8>, send: Option<bool>) -> PersonRecorded {
        PersonRecorded {
            person_id: Uuid::now_v7(),
            kind,
            year_group,
            flags: PersonFlags {
                send,
                ..PersonFlags::default()
            },
            account_hashes: Vec::new(),
            responsible_for: Vec::new(),
            as_of: Utc::now(),
            restricted: None,
        }
    }

    fn policy(version: i32, effective_from: NaiveDate) -> AupPublished {
        AupPublished {
            document_id: Uuid::nil(),
            audience: Audience::Ks2,
            school_id: None,
            version,
            title: "KS2".into(),
            content_hash: String::new(),
            effective_from,
            resign_every_days: 365,
            grace_days: 30,
            restricted: None,
        }
    }

    fn agreed(version: i32, on: NaiveDate, decision: Decision) -> AgreementRecorded {
        AgreementRecorded {
            agreement_id: Uuid::now_v7(),
            person_id: Uuid::nil(),
            audience: Audience::Ks2,
            document_id: Uuid::nil(),
            version,
            decision,
            signer: Signer::Themselves,
            source: AgreementSource::AsGiven,
            signed_at: Utc.from_utc_datetime(&on.and_hms_opt(9, 0, 0).unwrap()),
        }
    }

    #[test]
    fn a_pupil_signs_their_key_stages_policy_and_send_learners_their_own() {
        use Audience::*;
        assert_eq!(
            primary_audience(&person(RosterKind::Pupil, Some(0), None)),
            Some(EyfsKs1)
        );
        assert_eq!(
            primary_audience(&person(RosterKind::Pupil, Some(3), None)),
            Some(Ks2)
        );
        assert_eq!(
            primary_audience(&person(RosterKind::Pupil, Some(7), Some(false))),
            Some(Ks3To5)
        );
        assert_eq!(
            primary_audience(&person(RosterKind::Pupil, Some(7), Some(true))),
            Some(SendLearners)
        );
        assert_eq!(primary_audience(&person(RosterKind::Pupil, None, None)), None);
        assert_eq!(
            primary_audience(&person(RosterKind::Parent, None, None)),
            Some(ParentsCarers)
        );
        let year_five = person(RosterKind::Pupil, Some(5), None);
        assert!(fits(&year_five, Ks2) && fits(&year_five, WifiUsers));
        assert!(!fits(&year_five, Ks3To5) && !fits(&year_five, Staff) && !fits(&year_five, SendLearners));
        let teacher = person(RosterKind::Staff, None, None);
        assert!(fits(&teacher, SocialMediaStaff) && !fits(&teacher, ParentsCarers));
    }

    #[test]
    fn a_young_childs_policy_is_signed_by_a_parent_with_parental_responsibility() {
        let child = person(RosterKind::Pupil, Some(1), None);
        let mut mum = person(RosterKind::Parent, None, None);
        let by_mum = Signer::ParentOrCarer {
            parent_id: mum.person_id,
        };
        assert!(may_agree(&child, Audience::EyfsKs1, &Signer::Themselves, None).is_err());
        assert!(
            may_agree(&child, Audience::EyfsKs1, &by_mum, Some(&mum)).is_err(),
            "no responsibility yet"
        );
        mum.responsible_for.push(child.person_id);
        assert_eq!(may_agree(&child, Audience::EyfsKs1, &by_mum, Some(&mum)), Ok(()));
        let stranger = person(RosterKind::Parent, None, None);
        assert!(
            may_agree(&child, Audience::EyfsKs1, &by_mum, Some(&stranger)).is_err(),
            "the signer named is not who signed"
        );
        let teacher = person(RosterKind::Staff, None, None);
        let by_teacher = Signer::ParentOrCarer {
            parent_id: teacher.person_id,
        };
        assert!(may_agree(&teacher, Audience::Staff, &by_teacher, Some(&mum)).is_err());
        assert_eq!(
            may_agree(&teacher, Audience::Staff, &Signer::Themselves, None),
            Ok(())
        );
        assert!(
            may_agree(&child, Audience::Ks2, &Signer::Themselves, None).is_err(),
            "not their key stage"
        );
    }

    #[test]
    fn given_an_agreement_standing_follows_the_year_and_new_versions() {
        let v1 = policy(1, day(2025, 9, 1));
        let signed = agreed(1, day(2025, 9, 10), Decision::Agreed);
        assert_eq!(standing(None, None, day(2025, 9, 1)), Standing::NoPolicy);
        assert_eq!(standing(None, Some(&v1), day(2025, 9, 1)), Standing::Missing);
        assert_eq!(
            standing(Some(&signed), Some(&v1), day(2025, 10, 1)),
            Standing::Current
        );
        assert_eq!(
            standing(Some(&signed), Some(&v1), day(2026, 8, 11)),
            Standing::Due,
            "30 days before the year is up"
        );
        assert_eq!(
            standing(Some(&signed), Some(&v1), day(2026, 9, 10)),
            Standing::Overdue,
            "a year on"
        );
        let v2 = policy(2, day(2026, 1, 5));
        assert_eq!(
            standing(Some(&signed), Some(&v2), day(2026, 1, 5)),
            Standing::Due,
            "a new version, in its grace"
        );
        assert_eq!(
            standing(Some(&signed), Some(&v2), day(2026, 2, 4)),
            Standing::Overdue,
            "its grace is over"
        );
        let declined = agreed(2, day(2026, 1, 6), Decision::Declined);
        assert_eq!(
            standing(Some(&declined), Some(&v2), day(2026, 1, 7)),
            Standing::Declined
        );
        assert!(Standing::Due.covers() && !Standing::Overdue.covers() && !Standing::Declined.covers());
    }
}
