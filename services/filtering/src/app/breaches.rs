//! Reading a school's breaches and its filter's hourly figures.

use chrono::{DateTime, Utc};
use trustsafe_auth::{Caller, SchoolRole};
use trustsafe_servicekit::scope::policy::SafeguardingLeads;
use trustsafe_servicekit::scope::{SchoolPolicy, SchoolScope};
use uuid::Uuid;

use super::error::FilteringError;
use crate::store::{BreachFilter, BreachStore, StoredBreach};

/// Who reads a school's breaches: those who lead its safeguarding (and the trust's lead), and its
/// technician, who triages them beside the DSL.
pub struct BreachReaders;

impl SchoolPolicy for BreachReaders {
    fn admits(caller: &Caller, school_id: &str, trust_id: &str) -> bool {
        SafeguardingLeads::admits(caller, school_id, trust_id)
            || caller.has_school_role(school_id, SchoolRole::Technician)
    }
}

pub type ReaderScope = SchoolScope<BreachReaders>;

pub struct Breaches {
    store: BreachStore,
}

impl Breaches {
    pub fn new(store: BreachStore) -> Self {
        Self { store }
    }

    pub async fn list(
        &self,
        scope: &ReaderScope,
        filter: &BreachFilter,
    ) -> Result<Vec<StoredBreach>, FilteringError> {
        Ok(self.store.list(&scope.school_id, filter).await?)
    }

    pub async fn get(&self, scope: &ReaderScope, id: Uuid) -> Result<StoredBreach, FilteringError> {
        self.store
            .get(&scope.school_id, id)
            .await?
            .ok_or(FilteringError::NotFound)
    }

    /// (hour, category, action, requests) from `from` up to `to`.
    pub async fn hours(
        &self,
        scope: &ReaderScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, String, String, i64)>, FilteringError> {
        Ok(self.store.hours(&scope.school_id, from, to).await?)
    }
}
