//! The roles a school names, the checks it logs and its annual review (`domain::duties`), and the
//! review as a document for inspection (`domain::inspection`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use trustsafe_events::filtering::duties::{FilterCheckLogged, FilteringReviewRecorded, RoleHolders};
use trustsafe_servicekit::PseudonymKey;
use trustsafe_servicekit::tenancy::Tenancy;
use uuid::Uuid;

use super::breaches::ReaderScope;
use super::categories::LeadScope;
use super::changes::DutyScope;
use super::error::FilteringError;
use crate::domain::duties::{self, CheckEntry, DutyStatus, ReviewEntry};
use crate::domain::inspection;
use crate::store::DutyStore;

/// The most checks a list answers.
pub const MAX_CHECKS: i64 = 1000;

pub struct Duties {
    store: DutyStore,
    pseudonyms: Arc<PseudonymKey>,
    tenancy: Arc<Tenancy>,
}

impl Duties {
    pub fn new(store: DutyStore, pseudonyms: Arc<PseudonymKey>, tenancy: Arc<Tenancy>) -> Self {
        Self {
            store,
            pseudonyms,
            tenancy,
        }
    }

    /// Names who holds the roles (the school's safeguarding leads); a blank role is not named.
    pub async fn name_roles(
        &self,
        scope: &LeadScope,
        holders: &RoleHolders,
    ) -> Result<(RoleHolders, DateTime<Utc>), FilteringError> {
        let named = duties::name_roles(holders)?;
        let now = Utc::now();
        let context = super::acting(&self.pseudonyms, scope, "safeguarding_lead");
        self.store
            .name_roles(&context, &scope.school_id, &named, now)
            .await?;
        Ok((named.restricted.unwrap_or_default(), now))
    }

    pub async fn roles(
        &self,
        scope: &DutyScope,
    ) -> Result<Option<(RoleHolders, DateTime<Utc>)>, FilteringError> {
        Ok(self.store.roles(&scope.school_id).await?)
    }

    /// Logs a check (the DSL or the technician).
    pub async fn log_check(
        &self,
        scope: &ReaderScope,
        entry: CheckEntry,
    ) -> Result<FilterCheckLogged, FilteringError> {
        let now = Utc::now();
        let check = duties::log_check(entry, Uuid::now_v7(), now)?;
        let context = super::acting(&self.pseudonyms, scope, "checker");
        self.store
            .log_check(&context, &scope.school_id, &check, now)
            .await?;
        Ok(check)
    }

    pub async fn checks(&self, scope: &DutyScope) -> Result<Vec<FilterCheckLogged>, FilteringError> {
        Ok(self.store.checks(&scope.school_id, None, MAX_CHECKS).await?)
    }

    /// Records the annual review (the school's safeguarding leads), with the checks logged and changes
    /// applied since the previous one.
    pub async fn record_review(
        &self,
        scope: &LeadScope,
        entry: ReviewEntry,
    ) -> Result<FilteringReviewRecorded, FilteringError> {
        let now = Utc::now();
        let reviewed_on = entry.reviewed_on;
        let (record, next_review_by) = duties::check_review(entry, now.date_naive())?;
        let (checks_considered, changes_considered) = self
            .store
            .since_last_review(&scope.school_id, reviewed_on)
            .await?;
        let review = FilteringReviewRecorded {
            review_id: Uuid::now_v7(),
            reviewed_on,
            next_review_by,
            checks_considered,
            changes_considered,
            restricted: Some(record),
        };
        let context = super::acting(&self.pseudonyms, scope, "safeguarding_lead");
        self.store
            .record_review(&context, &scope.school_id, &review, now)
            .await?;
        Ok(review)
    }

    pub async fn reviews(&self, scope: &DutyScope) -> Result<Vec<FilteringReviewRecorded>, FilteringError> {
        Ok(self.store.reviews(&scope.school_id, None).await?)
    }

    /// Review `id` as a document for inspection, with the checks and changes it considered.
    pub async fn review_document(&self, scope: &DutyScope, id: Uuid) -> Result<String, FilteringError> {
        let review = self
            .store
            .reviews(&scope.school_id, Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or(FilteringError::NotFound)?;
        let checks = self
            .store
            .checks(&scope.school_id, Some(&review.checks_considered), MAX_CHECKS)
            .await?;
        let changes = self
            .store
            .changes_among(&scope.school_id, &review.changes_considered)
            .await?;
        let school = self
            .tenancy
            .school(&scope.school_id)
            .map_or(scope.school_id.as_str(), |(_, school)| school.name.as_str());
        Ok(inspection::review_document(school, &review, &checks, &changes))
    }

    /// Where the school stands: roles missing, a check due, the review overdue.
    pub async fn status(&self, scope: &DutyScope) -> Result<DutyStatus, FilteringError> {
        let named = self
            .store
            .roles(&scope.school_id)
            .await?
            .map(|(holders, _)| duties::named(&holders))
            .unwrap_or_default();
        let last_check = self.store.checks(&scope.school_id, None, 1).await?;
        let last_review = self.store.reviews(&scope.school_id, None).await?;
        Ok(duties::status(
            &named,
            last_check
                .first()
                .map(|check| (check.checked_at, check.next_check_by)),
            last_review
                .first()
                .map(|review| (review.reviewed_on, review.next_review_by)),
            Utc::now(),
        ))
    }
}
