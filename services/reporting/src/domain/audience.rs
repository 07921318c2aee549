//! Which concerns a figure may count for whoever asks: nothing a person may not know of may be
//! counted in anything they see. A concern about the DSL or the headteacher is the trust safeguarding
//! lead's alone (whistleblowing), and a concern naming someone as alleged is hidden from them; so a
//! school's own staff see figures without either, while the trust's lead and governors see every
//! concern (the governors with small counts suppressed, `suppression`).

use trustsafe_auth::{Caller, SchoolRole, TrustRole};

/// The concerns a viewer's figures are made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every concern: the trust's safeguarding lead and its governors.
    Trust,
    /// A school's DSL, deputies or headteacher: not the concerns handled by the trust lead alone, nor
    /// those naming this viewer as alleged (`alleged_as`: their pseudonym as the log would name an
    /// alleged person).
    SchoolStaff { alleged_as: String },
}

impl Audience {
    /// Whose figures `caller` may see for `school_id` of `trust_id`, and as which audience; `None`:
    /// not theirs to see (404). The trust lead sees a school as the trust does; the school's DSL,
    /// deputies and head as its staff. `alleged_as` names a person as the log names alleged people.
    pub fn of_school(
        caller: &Caller,
        trust_id: &str,
        school_id: &str,
        alleged_as: impl FnOnce(&str) -> String,
    ) -> Option<Audience> {
        if caller.has_trust_role(trust_id, TrustRole::TrustSafeguardingLead) {
            return Some(Audience::Trust);
        }
        let leads = [SchoolRole::Dsl, SchoolRole::DeputyDsl, SchoolRole::Headteacher]
            .into_iter()
            .any(|role| caller.has_school_role(school_id, role));
        leads.then(|| Audience::SchoolStaff {
            alleged_as: alleged_as(&caller.subject),
        })
    }

    /// Whether a concern handled by `handled_by` (its id on the log) naming `alleged` counts.
    pub fn counts(&self, handled_by: &str, alleged: &[String]) -> bool {
        match self {
            Audience::Trust => true,
            Audience::SchoolStaff { alleged_as } => {
                handled_by != "trust_lead" && !alleged.iter().any(|person| person == alleged_as)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use trustsafe_auth::Grants;

    use super::*;

    fn caller(subject: &str, school: &[(&str, SchoolRole)], trust: &[(&str, TrustRole)]) -> Caller {
        let mut grants = Grants::default();
        for (id, role) in school {
            grants.schools.entry((*id).into()).or_default().insert(*role);
        }
        for (id, role) in trust {
            grants.trusts.entry((*id).into()).or_default().insert(*role);
        }
        Caller {
            subject: subject.into(),
            name: None,
            grants,
        }
    }

    fn named(subject: &str) -> String {
        format!("alleged:{subject}")
    }

    #[test]
    fn the_trust_lead_counts_everything_and_school_staff_not_what_is_routed_away_from_them() {
        let lead = caller("lead", &[], &[("viking", TrustRole::TrustSafeguardingLead)]);
        let head = caller("head", &[("raps", SchoolRole::Headteacher)], &[]);
        let staff = caller("teacher", &[("raps", SchoolRole::Staff)], &[]);
        assert_eq!(
            Audience::of_school(&lead, "viking", "raps", named),
            Some(Audience::Trust)
        );
        assert_eq!(Audience::of_school(&staff, "viking", "raps", named), None);
        assert_eq!(Audience::of_school(&head, "viking", "chilton", named), None);
        let head = Audience::of_school(&head, "viking", "raps", named).unwrap();

        // Given a concern about the head, handled by the trust lead alone: the head's figures leave it out.
        assert!(Audience::Trust.counts("trust_lead", &[]));
        assert!(!head.counts("trust_lead", &[]));
        // A concern naming the head as alleged: left out of the head's figures, not the DSL's.
        let dsl = Audience::of_school(
            &caller("dsl", &[("raps", SchoolRole::Dsl)], &[]),
            "viking",
            "raps",
            named,
        )
        .unwrap();
        assert!(!head.counts("dsl_and_headteacher", &[named("head")]));
        assert!(dsl.counts("dsl_and_headteacher", &[named("head")]));
        assert!(head.counts("dsl", &[]));
    }
}
