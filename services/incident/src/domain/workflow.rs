//! A school's DSL workflow: the steps and deadlines each category of concern brings, who the DSL and
//! deputies are and whom to call. Every school starts from the policies' defaults
//! (`default-workflow.yaml`, shipped in the binary) and changes its own, within what the policies require.

use std::collections::{BTreeMap, HashSet};

use trustsafe_events::incident::{Applies, Category, CategoryProcedure, Deadline, StepTemplate, Workflow};

use super::deadline::{MAX_HOURS, MAX_WORKING_DAYS, no_longer_than, within_bounds};

const DEFAULTS: &str = include_str!("../../default-workflow.yaml");

/// What is known of a concern when its steps are worked out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub staff_involved: bool,
    pub immediate_risk: bool,
    pub device_involved: bool,
}

fn applies(when: Applies, facts: Facts) -> bool {
    match when {
        Applies::Always => true,
        Applies::StaffInvolved => facts.staff_involved,
        Applies::ImmediateRisk => facts.immediate_risk,
        Applies::DeviceInvolved => facts.device_involved,
    }
}

/// The policies' workflow, from which every school starts.
pub fn defaults() -> Workflow {
    serde_yaml_ng::from_str(DEFAULTS).expect("default-workflow.yaml is valid (tested)")
}

pub fn procedure(workflow: &Workflow, category: Category) -> &CategoryProcedure {
    workflow
        .categories
        .get(&category)
        .expect("a workflow has every category (validated)")
}

/// The steps a concern of `category` with these `facts` goes through, in order.
pub fn steps_for(workflow: &Workflow, category: Category, facts: Facts) -> Vec<&StepTemplate> {
    procedure(workflow, category)
        .steps
        .iter()
        .chain(&workflow.common_steps)
        .filter(|step| applies(step.when, facts))
        .collect()
}

/// Checks a school's new workflow against the policies: every category present, step ids well
/// formed and unique, deadlines positive, and nothing the defaults require dropped, weakened or given
/// longer. Field → what is wrong.
pub fn check(workflow: &Workflow, defaults: &Workflow) -> Result<(), BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    check_deadline(
        &mut errors,
        "acknowledgement_deadline".into(),
        Some(workflow.acknowledgement_deadline),
        Some(defaults.acknowledgement_deadline),
    );
    for step in &workflow.common_steps {
        let required = defaults.common_steps.iter().find(|d| d.id == step.id);
        check_deadline(
            &mut errors,
            format!("common_steps.{}.deadline", step.id),
            step.deadline,
            required.and_then(|d| d.deadline),
        );
    }
    for category in Category::ALL {
        let (Some(mine), Some(default)) = (
            workflow.categories.get(&category),
            defaults.categories.get(&category),
        ) else {
            errors.insert(format!("categories.{}", category.id()), "is required".into());
            continue;
        };
        let prefix = format!("categories.{}", category.id());
        if mine.label.trim().is_empty() {
            errors.insert(format!("{prefix}.label"), "must not be empty".into());
        }
        if mine.images_accepted && !default.images_accepted {
            errors.insert(
                format!("{prefix}.images_accepted"),
                "the policies forbid keeping images of this kind".into(),
            );
        }
        for step in &mine.steps {
            let required = default.steps.iter().find(|d| d.id == step.id);
            check_deadline(
                &mut errors,
                format!("{prefix}.steps.{}.deadline", step.id),
                step.deadline,
                required.and_then(|d| d.deadline),
            );
        }
        let mut ids = HashSet::new();
        for step in mine.steps.iter().chain(&workflow.common_steps) {
            if !valid_step_id(&step.id) {
                errors.insert(
                    format!("{prefix}.steps.{}", step.id),
                    "a step id is 1-64 lower-case letters, digits and underscores".into(),
                );
            } else if !ids.insert(step.id.as_str()) {
                errors.insert(format!("{prefix}.steps.{}", step.id), "appears twice".into());
            }
            if step.title.trim().is_empty() {
                errors.insert(
                    format!("{prefix}.steps.{}.title", step.id),
                    "must not be empty".into(),
                );
            }
        }
        for required in default.steps.iter().chain(&defaults.common_steps) {
            let kept = mine
                .steps
                .iter()
                .chain(&workflow.common_steps)
                .find(|step| step.id == required.id);
            match kept {
                None => {
                    errors.insert(
                        format!("{prefix}.steps.{}", required.id),
                        format!(
                            "is required by the policies ({})",
                            required
                                .source
                                .as_deref()
                                .unwrap_or(default.source.as_deref().unwrap_or("policy"))
                        ),
                    );
                }
                Some(step) if step.when != required.when && step.when != Applies::Always => {
                    errors.insert(
                        format!("{prefix}.steps.{}.when", required.id),
                        "may apply more widely (always), not differently".into(),
                    );
                }
                Some(_) => {}
            }
        }
    }
    check_sizes(workflow, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// How long a workflow's texts and lists may be: whatever a DSL types is bounded, so no setting can
/// make a report, a view or an event grow without end.
const LABEL_MAX: usize = 100;
const TITLE_MAX: usize = 300;
const SOURCE_MAX: usize = 200;
const CONTACT_FIELD_MAX: usize = 254;
const STEPS_MAX: usize = 50;
const DEPUTIES_MAX: usize = 20;

fn check_sizes(workflow: &Workflow, errors: &mut BTreeMap<String, String>) {
    let mut long_texts = BTreeMap::new();
    let mut too_long = |field: String, text: Option<&str>, max: usize| {
        if text.is_some_and(|text| text.chars().count() > max) {
            long_texts.insert(field, format!("at most {max} characters"));
        }
    };
    let contacts = workflow
        .dsl
        .iter()
        .map(|contact| ("dsl".to_owned(), contact))
        .chain(
            workflow
                .deputies
                .iter()
                .enumerate()
                .map(|(n, c)| (format!("deputies[{n}]"), c)),
        )
        .chain(
            workflow
                .contacts
                .iter()
                .map(|(agency, c)| (format!("contacts.{}", snake_case(agency)), c)),
        );
    for (at, contact) in contacts {
        too_long(format!("{at}.name"), Some(&contact.name), CONTACT_FIELD_MAX);
        too_long(format!("{at}.phone"), contact.phone.as_deref(), CONTACT_FIELD_MAX);
        too_long(format!("{at}.email"), contact.email.as_deref(), CONTACT_FIELD_MAX);
        too_long(
            format!("{at}.local_authority"),
            contact.local_authority.as_deref(),
            CONTACT_FIELD_MAX,
        );
    }
    let procedures = workflow
        .categories
        .iter()
        .map(|(category, procedure)| (format!("categories.{}", category.id()), procedure));
    for (prefix, procedure) in procedures {
        too_long(format!("{prefix}.label"), Some(&procedure.label), LABEL_MAX);
        too_long(
            format!("{prefix}.source"),
            procedure.source.as_deref(),
            SOURCE_MAX,
        );
        for step in &procedure.steps {
            too_long(
                format!("{prefix}.steps.{}.title", step.id),
                Some(&step.title),
                TITLE_MAX,
            );
            too_long(
                format!("{prefix}.steps.{}.source", step.id),
                step.source.as_deref(),
                SOURCE_MAX,
            );
        }
        if procedure.steps.len() > STEPS_MAX {
            errors.insert(format!("{prefix}.steps"), format!("at most {STEPS_MAX} steps"));
        }
    }
    for step in &workflow.common_steps {
        too_long(
            format!("common_steps.{}.title", step.id),
            Some(&step.title),
            TITLE_MAX,
        );
    }
    errors.extend(long_texts);
    if workflow.common_steps.len() > STEPS_MAX {
        errors.insert("common_steps".into(), format!("at most {STEPS_MAX} steps"));
    }
    if workflow.deputies.len() > DEPUTIES_MAX {
        errors.insert("deputies".into(), format!("at most {DEPUTIES_MAX} deputies"));
    }
}

/// A step's deadline against the one the policies set, if any.
fn check_deadline(
    errors: &mut BTreeMap<String, String>,
    field: String,
    mine: Option<Deadline>,
    required: Option<Deadline>,
) {
    let problem = match (mine, required) {
        (Some(deadline), _) if !within_bounds(deadline) => {
            format!("a deadline is 1 to {MAX_HOURS} hours or 1 to {MAX_WORKING_DAYS} working days")
        }
        (Some(mine), Some(required)) if !no_longer_than(mine, required) => {
            format!("may be shortened, not made longer than {}", describe(required))
        }
        (None, Some(required)) => format!("the policies set a deadline of {}", describe(required)),
        _ => return,
    };
    errors.insert(field, problem);
}

fn describe(deadline: Deadline) -> String {
    match deadline {
        Deadline::Hours(1) => "1 hour".into(),
        Deadline::Hours(hours) => format!("{hours} hours"),
        Deadline::WorkingDays(1) => "1 working day".into(),
        Deadline::WorkingDays(days) => format!("{days} working days"),
    }
}

/// An enum's wire name (`education_safeguarding_team`), as the API's field paths spell it.
fn snake_case(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn valid_step_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use trustsafe_events::incident::Agency;

    use super::*;

    fn ids(steps: &[&StepTemplate]) -> Vec<String> {
        steps.iter().map(|step| step.id.clone()).collect()
    }

    #[test]
    fn the_defaults_pass_their_own_check_and_cover_every_category() {
        let defaults = defaults();
        assert_eq!(check(&defaults, &defaults), Ok(()));
        assert_eq!(defaults.categories.len(), Category::ALL.len());
        assert_eq!(
            defaults.acknowledgement_deadline,
            Deadline::Hours(1),
            "the DSL is told immediately"
        );
        for category in Category::ALL {
            let everything = Facts {
                staff_involved: true,
                immediate_risk: true,
                device_involved: true,
            };
            assert!(
                ids(&steps_for(&defaults, category, everything)).contains(&"debrief".to_owned()),
                "{category:?}: every concern ends in a debrief"
            );
        }
    }

    #[test]
    fn indecent_images_bring_the_iwf_police_and_lado_when_staff_are_involved() {
        let defaults = defaults();
        let pupils_only = ids(&steps_for(
            &defaults,
            Category::IndecentImagesOfChildren,
            Facts::default(),
        ));
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
        let staff = Facts {
            staff_involved: true,
            ..Facts::default()
        };
        let with_staff = steps_for(&defaults, Category::IndecentImagesOfChildren, staff);
        let lado = with_staff
            .iter()
            .find(|step| step.id == "lado_referral")
            .expect("LADO when staff are involved");
        assert_eq!(lado.deadline, Some(Deadline::WorkingDays(1)));
        assert_eq!(lado.completed_by_referral, Some(Agency::Lado));
        let iwf = with_staff.iter().find(|step| step.id == "iwf_report").unwrap();
        assert_eq!(iwf.completed_by_referral, Some(Agency::Iwf));
        assert!(!procedure(&defaults, Category::IndecentImagesOfChildren).images_accepted);
        assert!(!procedure(&defaults, Category::NudeImageSharing).images_accepted);
        assert!(procedure(&defaults, Category::Cyberbullying).images_accepted);
    }

    #[test]
    fn immediate_risk_of_sexual_abuse_calls_for_999_and_staff_conduct_for_the_lado() {
        let defaults = defaults();
        let calm = ids(&steps_for(
            &defaults,
            Category::OnlineSexualAbuse,
            Facts::default(),
        ));
        let urgent = ids(&steps_for(
            &defaults,
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
        let conduct = ids(&steps_for(
            &defaults,
            Category::StaffOnlineConduct,
            Facts::default(),
        ));
        assert!(conduct.starts_with(&["head_informed".to_owned(), "lado_referral".to_owned()]));
    }

    #[test]
    fn a_school_may_add_steps_and_shorten_deadlines_but_not_drop_or_lengthen_what_the_policies_require() {
        let defaults = defaults();
        let mut mine = defaults.clone();
        mine.acknowledgement_deadline = Deadline::Hours(1);
        let iioc = mine
            .categories
            .get_mut(&Category::IndecentImagesOfChildren)
            .unwrap();
        iioc.label = "IIOC".into();
        iioc.steps.push(StepTemplate {
            id: "trust_informed".into(),
            title: "Tell the trust safeguarding lead".into(),
            when: Applies::Always,
            deadline: Some(Deadline::Hours(2)),
            completed_by_referral: None,
            source: None,
        });
        iioc.steps[1].deadline = Some(Deadline::Hours(2));
        assert_eq!(check(&mine, &defaults), Ok(()));

        let mut dropped = defaults.clone();
        dropped
            .categories
            .get_mut(&Category::IndecentImagesOfChildren)
            .unwrap()
            .steps
            .retain(|step| step.id != "iwf_report");
        dropped.acknowledgement_deadline = Deadline::WorkingDays(1);
        dropped.categories.remove(&Category::Other);
        dropped
            .categories
            .get_mut(&Category::NudeImageSharing)
            .unwrap()
            .images_accepted = true;
        let errors = check(&dropped, &defaults).unwrap_err();
        for field in [
            "categories.indecent_images_of_children.steps.iwf_report",
            "acknowledgement_deadline",
            "categories.other",
            "categories.nude_image_sharing.images_accepted",
        ] {
            assert!(errors.contains_key(field), "{field} in {errors:?}");
        }
    }
}
#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn texts_and_lists_a_dsl_types_are_bounded() {
        let defaults = defaults();
        let mut wordy = defaults.clone();
        wordy.categories.get_mut(&Category::Cyberbullying).unwrap().label = "x".repeat(101);
        wordy.dsl = Some(trustsafe_events::incident::Contact {
            name: "y".repeat(255),
            ..Default::default()
        });
        let errors = check(&wordy, &defaults).unwrap_err();
        assert!(
            errors.contains_key("categories.cyberbullying.label"),
            "{errors:?}"
        );
        assert!(errors.contains_key("dsl.name"), "{errors:?}");
    }
}
