//! Reading a school's breaches and its filter's hourly figures.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use trustsafe_auth::{Caller, SchoolRole};
use trustsafe_eventstore::NewEvent;
use trustsafe_servicekit::PseudonymKey;
use trustsafe_servicekit::scope::policy::SafeguardingLeads;
use trustsafe_servicekit::scope::{SchoolPolicy, SchoolScope};
use uuid::Uuid;

use super::error::FilteringError;
use crate::domain::life::{Command, LifeError, LifeEvent, Step};
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

fn is_lead(scope: &ReaderScope) -> bool {
    SafeguardingLeads::admits(&scope.caller, &scope.school_id, &scope.trust_id)
}

pub struct Breaches {
    store: BreachStore,
    pseudonyms: Arc<PseudonymKey>,
}

impl Breaches {
    pub fn new(store: BreachStore, pseudonyms: Arc<PseudonymKey>) -> Self {
        Self { store, pseudonyms }
    }

    /// The breach, if the caller may take `step` on it: 404 when they may not see it, 403 when they
    /// may see it but not do this. Asked before a body is read.
    pub async fn may(
        &self,
        scope: &ReaderScope,
        id: Uuid,
        step: Step,
    ) -> Result<StoredBreach, FilteringError> {
        let breach = self.get(scope, id).await?;
        if !step.may(is_lead(scope)) {
            return Err(FilteringError::Forbidden(
                "Telling parents, escalating and resolving are for the school's safeguarding leads.".into(),
            ));
        }
        Ok(breach)
    }

    /// Carries out `command` on breach `id`: the breach after it.
    pub async fn act(
        &self,
        scope: &ReaderScope,
        id: Uuid,
        command: Command,
    ) -> Result<StoredBreach, FilteringError> {
        let breach = self.may(scope, id, command.step()).await?;
        let lead = is_lead(scope);
        let now = Utc::now();
        let events = breach.life.handle(command, now).map_err(|err| match err {
            LifeError::Invalid(field, message) => FilteringError::Invalid {
                field: field.into(),
                message,
            },
            LifeError::Conflict(detail) => FilteringError::Conflict(detail),
            LifeError::Refused(detail) => FilteringError::Refused(detail),
        })?;
        let mut life = breach.life.clone();
        let mut appended = Vec::with_capacity(events.len());
        for event in &events {
            life.apply(event, now);
            appended.push(match event {
                LifeEvent::Triaged(event) => NewEvent::new(event, now),
                LifeEvent::ParentsInformed(event) => NewEvent::new(event, now),
                LifeEvent::Escalated(event) => NewEvent::new(event, now),
                LifeEvent::Resolved(event) => NewEvent::new(event, now),
            });
        }
        let role = if lead { "safeguarding_lead" } else { "technician" };
        let context = super::acting(
            &self.pseudonyms,
            &scope.caller,
            &scope.trust_id,
            &scope.school_id,
            role,
        );
        self.store
            .save_life(&context, id, breach.version, &life, &appended)
            .await?;
        self.get(scope, id).await
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
