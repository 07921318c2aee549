//! What each category of concern requires, and by when: the defaults from the policies
//! (`procedures.yaml`, shipped in the binary), from which each school's DSL workflow starts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::category::Category;

const DEFAULTS: &str = include_str!("../../procedures.yaml");

/// How long a step may take from the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DeadlineSpec", into = "DeadlineSpec")]
pub enum Deadline {
    Hours(u32),
    /// Monday to Friday (a LADO referral: one working day).
    WorkingDays(u32),
}

/// A deadline as written: `{ hours: 1 }` or `{ working_days: 1 }`.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlineSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    working_days: Option<u32>,
}

impl TryFrom<DeadlineSpec> for Deadline {
    type Error = &'static str;

    fn try_from(spec: DeadlineSpec) -> Result<Self, Self::Error> {
        match (spec.hours, spec.working_days) {
            (Some(hours), None) if hours > 0 => Ok(Deadline::Hours(hours)),
            (None, Some(days)) if days > 0 => Ok(Deadline::WorkingDays(days)),
            _ => Err("a deadline is a positive number of hours or of working_days, not both"),
        }
    }
}

impl From<Deadline> for DeadlineSpec {
    fn from(deadline: Deadline) -> Self {
        match deadline {
            Deadline::Hours(hours) => DeadlineSpec {
                hours: Some(hours),
                working_days: None,
            },
            Deadline::WorkingDays(days) => DeadlineSpec {
                hours: None,
                working_days: Some(days),
            },
        }
    }
}

/// Which concerns a step applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    Always,
    StaffInvolved,
    ImmediateRisk,
    DeviceInvolved,
}

/// What is known of a concern when its steps are worked out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub staff_involved: bool,
    pub immediate_risk: bool,
    pub device_involved: bool,
}

impl Applies {
    fn to(self, facts: Facts) -> bool {
        match self {
            Applies::Always => true,
            Applies::StaffInvolved => facts.staff_involved,
            Applies::ImmediateRisk => facts.immediate_risk,
            Applies::DeviceInvolved => facts.device_involved,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTemplate {
    pub id: String,
    pub title: String,
    pub when: Applies,
    #[serde(default)]
    pub deadline: Option<Deadline>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryProcedure {
    pub label: String,
    pub source: String,
    /// False where staff must never view, copy or keep the image: record a reference instead.
    #[serde(default = "yes")]
    pub images_accepted: bool,
    pub steps: Vec<StepTemplate>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    pub deadline: Deadline,
    pub source: String,
}

/// The procedures of every category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedures {
    pub acknowledgement: Acknowledgement,
    /// Steps of every concern, after its category's own.
    pub common: Vec<StepTemplate>,
    pub categories: BTreeMap<Category, CategoryProcedure>,
}

impl Procedures {
    /// The policies' defaults.
    pub fn defaults() -> Self {
        serde_yaml_ng::from_str(DEFAULTS).expect("procedures.yaml is valid (tested)")
    }

    pub fn category(&self, category: Category) -> &CategoryProcedure {
        self.categories
            .get(&category)
            .expect("every category has a procedure (tested)")
    }

    /// The steps a concern of `category` with these `facts` must go through, in order.
    pub fn steps_for(&self, category: Category, facts: Facts) -> Vec<&StepTemplate> {
        self.category(category)
            .steps
            .iter()
            .chain(&self.common)
            .filter(|step| step.when.to(facts))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn ids(steps: &[&StepTemplate]) -> Vec<String> {
        steps.iter().map(|step| step.id.clone()).collect()
    }

    #[test]
    fn every_category_has_a_procedure_with_unique_step_ids() {
        let procedures = Procedures::defaults();
        for category in Category::ALL {
            let everything = Facts {
                staff_involved: true,
                immediate_risk: true,
                device_involved: true,
            };
            let steps = procedures.steps_for(category, everything);
            let unique: HashSet<_> = steps.iter().map(|step| &step.id).collect();
            assert_eq!(unique.len(), steps.len(), "{category:?} repeats a step id");
            assert!(
                ids(&steps).contains(&"debrief".to_owned()),
                "{category:?}: every concern ends in a debrief"
            );
        }
        assert_eq!(
            procedures.categories.len(),
            Category::ALL.len(),
            "no procedure for an unknown category"
        );
        assert_eq!(
            procedures.acknowledgement.deadline,
            Deadline::Hours(1),
            "the DSL is told immediately"
        );
    }

    #[test]
    fn a_deadline_is_hours_or_working_days_never_both_or_zero() {
        let parse = |text: &str| serde_yaml_ng::from_str::<Deadline>(text);
        assert_eq!(parse("{ working_days: 1 }").unwrap(), Deadline::WorkingDays(1));
        assert!(parse("{ hours: 1, working_days: 1 }").is_err());
        assert!(parse("{ hours: 0 }").is_err());
        assert!(parse("{ weeks: 1 }").is_err());
    }

    #[test]
    fn indecent_images_bring_the_iwf_police_and_lado_when_staff_are_involved() {
        let procedures = Procedures::defaults();
        let pupils_only = ids(&procedures.steps_for(Category::IndecentImagesOfChildren, Facts::default()));
        for required in [
            "secure_devices",
            "iwf_report",
            "police_report",
            "delete_copies",
            "parents_informed",
        ] {
            assert!(
                pupils_only.contains(&required.to_owned()),
                "{required} in {pupils_only:?}"
            );
        }
        assert!(!pupils_only.contains(&"lado_referral".to_owned()));
        let staff = procedures.steps_for(
            Category::IndecentImagesOfChildren,
            Facts {
                staff_involved: true,
                ..Facts::default()
            },
        );
        let lado = staff
            .iter()
            .find(|step| step.id == "lado_referral")
            .expect("LADO when staff are involved");
        assert_eq!(lado.deadline, Some(Deadline::WorkingDays(1)));
        assert!(
            !procedures
                .category(Category::IndecentImagesOfChildren)
                .images_accepted
        );
        assert!(!procedures.category(Category::NudeImageSharing).images_accepted);
        assert!(procedures.category(Category::Cyberbullying).images_accepted);
    }

    #[test]
    fn immediate_risk_of_sexual_abuse_calls_for_999_and_staff_conduct_for_the_lado() {
        let procedures = Procedures::defaults();
        let calm = ids(&procedures.steps_for(Category::OnlineSexualAbuse, Facts::default()));
        let urgent = ids(&procedures.steps_for(
            Category::OnlineSexualAbuse,
            Facts {
                immediate_risk: true,
                ..Facts::default()
            },
        ));
        assert!(!calm.contains(&"police_999".to_owned()) && urgent.contains(&"police_999".to_owned()));
        for required in [
            "police_101",
            "ceop_report",
            "cset_intelligence",
            "other_settings_alert",
        ] {
            assert!(calm.contains(&required.to_owned()), "{required}");
        }
        let conduct = ids(&procedures.steps_for(Category::StaffOnlineConduct, Facts::default()));
        assert!(conduct.starts_with(&["head_informed".to_owned(), "lado_referral".to_owned()]));
    }
}
