//! A school's own category and suppression rules: read by those who read its breaches, replaced by
//! its safeguarding leads. Every rule is checked (`domain::categories`, `domain::suppression`); none
//! may touch illegal content.

use std::sync::Arc;

use trustsafe_events::filtering::{CategoryRule, CategoryRulesSet, Suppression, SuppressionsSet};
use trustsafe_servicekit::PseudonymKey;
use trustsafe_servicekit::scope::SchoolScope;
use trustsafe_servicekit::scope::policy::SafeguardingLeads;

use super::breaches::ReaderScope;
use super::error::FilteringError;
use crate::domain::categories::check_rule;
use crate::domain::suppression;
use crate::store::BreachStore;

pub type LeadScope = SchoolScope<SafeguardingLeads>;

/// The most rules a school keeps.
pub const MAX_RULES: usize = 500;

pub struct Categories {
    store: BreachStore,
    pseudonyms: Arc<PseudonymKey>,
}

impl Categories {
    pub fn new(store: BreachStore, pseudonyms: Arc<PseudonymKey>) -> Self {
        Self { store, pseudonyms }
    }

    pub async fn rules(&self, scope: &ReaderScope) -> Result<Vec<CategoryRule>, FilteringError> {
        Ok(self.store.rules(&scope.school_id).await?)
    }

    pub async fn suppressions(&self, scope: &ReaderScope) -> Result<Vec<Suppression>, FilteringError> {
        Ok(self.store.suppressions(&scope.school_id).await?)
    }

    /// Replaces the school's suppression rules with `rules`, each checked; the first fault refuses them all.
    pub async fn replace_suppressions(
        &self,
        scope: &LeadScope,
        rules: &[Suppression],
    ) -> Result<Vec<Suppression>, FilteringError> {
        if rules.len() > suppression::MAX_RULES {
            return Err(FilteringError::Invalid {
                field: "rules".into(),
                message: format!("are at most {}", suppression::MAX_RULES),
            });
        }
        let checked = rules
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                suppression::check(rule).map_err(|(field, message)| FilteringError::Invalid {
                    field: format!("rules[{index}].{field}"),
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let context = super::acting(&self.pseudonyms, scope, "safeguarding_lead");
        self.store
            .set_suppressions(
                &context,
                &scope.school_id,
                &SuppressionsSet {
                    rules: checked.clone(),
                },
            )
            .await?;
        Ok(checked)
    }

    /// Replaces the school's rules with `rules`, each checked; the first fault refuses them all.
    pub async fn replace(
        &self,
        scope: &LeadScope,
        rules: &[CategoryRule],
    ) -> Result<Vec<CategoryRule>, FilteringError> {
        if rules.len() > MAX_RULES {
            return Err(FilteringError::Invalid {
                field: "rules".into(),
                message: format!("are at most {MAX_RULES}"),
            });
        }
        let mut checked: Vec<CategoryRule> = Vec::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            let rule = check_rule(rule).map_err(|err| FilteringError::Invalid {
                field: format!("rules[{index}].{}", err.field),
                message: err.message,
            })?;
            if checked.iter().any(|earlier| earlier.vendor == rule.vendor) {
                return Err(FilteringError::Invalid {
                    field: format!("rules[{index}].vendor"),
                    message: format!("{:?} has a rule already", rule.vendor),
                });
            }
            checked.push(rule);
        }
        let context = super::acting(&self.pseudonyms, scope, "safeguarding_lead");
        self.store
            .set_rules(
                &context,
                &scope.school_id,
                &CategoryRulesSet {
                    rules: checked.clone(),
                },
            )
            .await?;
        Ok(checked)
    }
}
