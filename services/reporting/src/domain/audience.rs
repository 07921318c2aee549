//! Which concerns a figure may count for whoever asks: nothing a person may not know of may be
//! counted in anything they see. A concern about the DSL or the headteacher is the trust safeguarding
//! lead's alone (whistleblowing), and a concern naming someone as alleged is hidden from them; so a
//! school's own staff see figures without either, while the trust's lead and governors see every
//! concern (the governors with small counts suppressed, `suppression`).

use trustsafe_auth::{Caller, TrustRole};
use trustsafe_events::incident::HandledBy;

use super::suppression::Detail;

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
    /// The audience of someone who leads safeguarding at a school of `trust_id` or across the trust
    /// (whom else a school's figures admit is the scope's to say): the trust lead sees a school as
    /// the trust does; the school's DSL, deputies and head as its staff. `alleged_as` names a person
    /// as the log names alleged people.
    pub fn of_school_lead(
        caller: &Caller,
        trust_id: &str,
        alleged_as: impl FnOnce(&str) -> String,
    ) -> Audience {
        if caller.has_trust_role(trust_id, TrustRole::TrustSafeguardingLead) {
            Audience::Trust
        } else {
            Audience::SchoolStaff {
                alleged_as: alleged_as(&caller.subject),
            }
        }
    }

    /// Whether a concern handled by `handled_by` (its id on the log) naming `alleged` counts.
    pub fn counts(&self, handled_by: &str, alleged: &[String]) -> bool {
        match self {
            Audience::Trust => true,
            Audience::SchoolStaff { alleged_as } => {
                school_staff_may_count(handled_by) && !alleged.iter().any(|person| person == alleged_as)
            }
        }
    }
}

/// Whether a school's own staff may count a concern handled by `handled_by` (its id on the log): not
/// one about the DSL or the headteacher, which the trust's lead handles alone. The read model keeps
/// the two apart in its rollups (`school_sees`) by this rule.
pub fn school_staff_may_count(handled_by: &str) -> bool {
    handled_by != HandledBy::TrustLead.id()
}

/// How a reader of a trust's figures sees them: its safeguarding lead exactly, anyone else the trust's
/// figures admit (its governors) with small counts suppressed, over whole terms.
pub fn trust_detail(caller: &Caller, trust_id: &str) -> Detail {
    if caller.has_trust_role(trust_id, TrustRole::TrustSafeguardingLead) {
        Detail::Exact
    } else {
        Detail::SmallCountsSuppressed
    }
}

#[cfg(test)]
mod tests {
    use trustsafe_auth::{Grants, SchoolRole};

    use super::*;

    fn caller(subject: &str, school: &[(&str, SchoolRole)], trust: &[(&str, TrustRole)]) -> Caller {
        Caller {
            subject: subject.into(),
            name: None,
            grants: Grants::of(school, trust),
        }
    }

    fn named(subject: &str) -> String {
        format!("alleged:{subject}")
    }

    #[test]
    fn the_trust_lead_counts_everything_and_school_staff_not_what_is_routed_away_from_them() {
        let lead = caller("lead", &[], &[("viking", TrustRole::TrustSafeguardingLead)]);
        let head = caller("head", &[("raps", SchoolRole::Headteacher)], &[]);
        assert_eq!(Audience::of_school_lead(&lead, "viking", named), Audience::Trust);
        let head = Audience::of_school_lead(&head, "viking", named);
        assert_eq!(
            head,
            Audience::SchoolStaff {
                alleged_as: named("head")
            }
        );

        // Given a concern about the head, handled by the trust lead alone: the head's figures leave it out.
        assert!(Audience::Trust.counts("trust_lead", &[]));
        assert!(!head.counts("trust_lead", &[]));
        // A concern naming the head as alleged: left out of the head's figures, not the DSL's.
        let dsl =
            Audience::of_school_lead(&caller("dsl", &[("raps", SchoolRole::Dsl)], &[]), "viking", named);
        assert!(!head.counts("dsl_and_headteacher", &[named("head")]));
        assert!(dsl.counts("dsl_and_headteacher", &[named("head")]));
        assert!(head.counts("dsl", &[]));
    }

    #[test]
    fn governors_see_the_trust_s_figures_suppressed_and_its_lead_exactly() {
        let lead = caller("lead", &[], &[("viking", TrustRole::TrustSafeguardingLead)]);
        let governor = caller("governor", &[], &[("viking", TrustRole::TrustGovernor)]);
        assert_eq!(trust_detail(&lead, "viking"), Detail::Exact);
        assert_eq!(trust_detail(&governor, "viking"), Detail::SmallCountsSuppressed);
    }
}
