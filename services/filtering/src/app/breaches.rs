//! Reading a school's breaches and its filter's hourly figures.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use trustsafe_auth::{Caller, SchoolRole};
use trustsafe_events::filtering::Verdict;
use trustsafe_events::filtering::duties::{ChangeAction, FilterChangeProposed};
use trustsafe_eventstore::NewEvent;
use trustsafe_servicekit::PseudonymKey;
use trustsafe_servicekit::scope::policy::SafeguardingLeads;
use trustsafe_servicekit::scope::{SchoolPolicy, SchoolScope};
use uuid::Uuid;

use super::error::FilteringError;
use crate::domain::changes::{self, Change, Known, Proposal};
use crate::domain::life::{Command, LifeEvent, Step};
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
        self.act_at(scope, id, command, Utc::now()).await
    }

    /// [`Breaches::act`] as at `now` (the demo history's past).
    pub async fn act_at(
        &self,
        scope: &ReaderScope,
        id: Uuid,
        command: Command,
        now: DateTime<Utc>,
    ) -> Result<StoredBreach, FilteringError> {
        let breach = self.may(scope, id, command.step()).await?;
        let lead = is_lead(scope);
        let events = breach.life.handle(command, now)?;
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
        let context = super::acting(&self.pseudonyms, scope, role);
        let proposal = self.over_blocking_proposal(scope, &breach, &events, now).await?;
        self.store
            .save_life(
                &context,
                id,
                breach.version,
                &life,
                &appended,
                proposal.as_ref().map(|(proposed, change)| (proposed, change)),
            )
            .await?;
        self.get(scope, id).await
    }

    /// A breach triaged as over-blocking proposes unblocking its host for the change log, unless the
    /// school has seen illegal content there.
    async fn over_blocking_proposal(
        &self,
        scope: &ReaderScope,
        breach: &StoredBreach,
        events: &[LifeEvent],
        now: DateTime<Utc>,
    ) -> Result<Option<(FilterChangeProposed, Change)>, FilteringError> {
        let over_blocking = events.iter().any(
            |event| matches!(event, LifeEvent::Triaged(triaged) if triaged.verdict == Verdict::OverBlocking),
        );
        let Some(host) = breach
            .record
            .restricted
            .as_ref()
            .map(|details| details.host.clone())
        else {
            return Ok(None);
        };
        if !over_blocking || host.is_empty() {
            return Ok(None);
        }
        let known = Known {
            illegal_at_host: self.store.illegal_at_host(&scope.school_id, &host).await?,
        };
        let proposal = Proposal {
            action: ChangeAction::Unblock,
            host: Some(host),
            category: None,
            reason: format!(
                "A breach in {} was triaged as over-blocking.",
                breach.record.category
            ),
            from_breach: Some(breach.id),
        };
        Ok(
            changes::propose(proposal, known, Uuid::now_v7(), &scope.caller.subject)
                .ok()
                .map(|proposed| {
                    let change = Change::proposed(&proposed, now);
                    (proposed, change)
                }),
        )
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
