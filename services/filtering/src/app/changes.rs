//! The filtering-policy change log: proposals, risk assessments, leadership's decision, the change made
//! in the filter (`domain::changes`). Read by those who read the school's duties.

use std::sync::Arc;

use chrono::Utc;
use trustsafe_auth::{Caller, SchoolRole, TrustRole};
use trustsafe_events::filtering::duties::Perspective;
use trustsafe_eventstore::NewEvent;
use trustsafe_servicekit::PseudonymKey;
use trustsafe_servicekit::scope::policy::SafeguardingLeads;
use trustsafe_servicekit::scope::{SchoolPolicy, SchoolScope};
use uuid::Uuid;

use super::breaches::{BreachReaders, ReaderScope};
use super::error::FilteringError;
use crate::domain::changes::{self, Change, ChangeEvent, ChangeState, Command, Holds, Known, Proposal, Step};
use crate::store::{BreachStore, DutyStore, StoredChange};

/// Who reads a school's filtering duties (its change log, checks, reviews and roles): those who read
/// its breaches, and its governors and the trust's, who oversee the provision.
pub struct DutyReaders;

impl SchoolPolicy for DutyReaders {
    fn admits(caller: &Caller, school_id: &str, trust_id: &str) -> bool {
        BreachReaders::admits(caller, school_id, trust_id)
            || caller.has_school_role(school_id, SchoolRole::Governor)
            || caller.has_trust_role(trust_id, TrustRole::TrustGovernor)
    }
}

pub type DutyScope = SchoolScope<DutyReaders>;

/// The most changes a list answers.
pub const MAX_LIST: i64 = 500;

fn holds(caller: &Caller, school_id: &str, trust_id: &str) -> Holds {
    Holds {
        safeguarding_lead: SafeguardingLeads::admits(caller, school_id, trust_id),
        technician: caller.has_school_role(school_id, SchoolRole::Technician),
        leadership: caller.has_school_role(school_id, SchoolRole::Headteacher)
            || caller.has_trust_role(trust_id, TrustRole::TrustSafeguardingLead),
    }
}

fn not_theirs() -> FilteringError {
    FilteringError::Forbidden(
        "Educational assessments are the safeguarding leads', technical ones and applying the technician's, \
         and the decision leadership's (the headteacher or the trust's lead)."
            .into(),
    )
}

pub struct Changes {
    duties: DutyStore,
    breaches: BreachStore,
    pseudonyms: Arc<PseudonymKey>,
}

impl Changes {
    pub fn new(duties: DutyStore, breaches: BreachStore, pseudonyms: Arc<PseudonymKey>) -> Self {
        Self {
            duties,
            breaches,
            pseudonyms,
        }
    }

    /// Proposes a change (the DSL or the technician); unblocking illegal content is refused.
    pub async fn propose(&self, scope: &ReaderScope, proposal: Proposal) -> Result<Change, FilteringError> {
        let host = proposal.host.as_deref().map(|host| host.trim().to_lowercase());
        let known = Known {
            illegal_at_host: match host {
                Some(host) if !host.is_empty() => {
                    self.breaches.illegal_at_host(&scope.school_id, &host).await?
                }
                _ => false,
            },
        };
        let proposed = changes::propose(proposal, known, Uuid::now_v7(), &scope.caller.subject)?;
        let change = Change::proposed(&proposed, Utc::now());
        let role = if SafeguardingLeads::admits(&scope.caller, &scope.school_id, &scope.trust_id) {
            "safeguarding_lead"
        } else {
            "technician"
        };
        let context = super::acting(&self.pseudonyms, scope, role);
        self.duties
            .propose(&context, &scope.school_id, &proposed, &change)
            .await?;
        Ok(change)
    }

    /// Whether the caller may take `step` on change `id`, asked before a body is read: 404 when the
    /// change is not the school's, 403 when the caller may read it but not take this step.
    pub async fn may(&self, scope: &DutyScope, id: Uuid, step: Step) -> Result<StoredChange, FilteringError> {
        let stored = self.stored(scope, id).await?;
        if !step.may(holds(&scope.caller, &scope.school_id, &scope.trust_id)) {
            return Err(not_theirs());
        }
        Ok(stored)
    }

    /// Takes a step on change `id`: as [`Changes::may`], then 403 for the other side's assessment and
    /// 409 when the change is not ready for it.
    pub async fn act(&self, scope: &DutyScope, id: Uuid, command: Command) -> Result<Change, FilteringError> {
        let StoredChange { mut change, version } = self.may(scope, id, command.step()).await?;
        if !command.may(holds(&scope.caller, &scope.school_id, &scope.trust_id)) {
            return Err(not_theirs());
        }
        let role = match &command {
            Command::Decide { .. } => "leadership",
            Command::Apply { .. } => "technician",
            Command::Assess { perspective, .. } => match perspective {
                Perspective::Educational => "safeguarding_lead",
                Perspective::Technical => "technician",
            },
        };
        let event = change.handle(command, &scope.caller.subject)?;
        let now = Utc::now();
        change.apply(&event, now);
        let new = match &event {
            ChangeEvent::Assessed(event) => NewEvent::new(event, now),
            ChangeEvent::Decided(event) => NewEvent::new(event, now),
            ChangeEvent::Applied(event) => NewEvent::new(event, now),
        };
        let context = super::acting(&self.pseudonyms, scope, role);
        self.duties.save_change(&context, version, &change, new).await?;
        Ok(change)
    }

    async fn stored(&self, scope: &DutyScope, id: Uuid) -> Result<StoredChange, FilteringError> {
        self.duties
            .change(&scope.school_id, id)
            .await?
            .ok_or(FilteringError::NotFound)
    }

    pub async fn get(&self, scope: &DutyScope, id: Uuid) -> Result<Change, FilteringError> {
        Ok(self.stored(scope, id).await?.change)
    }

    /// The change log, newest first.
    pub async fn list(
        &self,
        scope: &DutyScope,
        state: Option<ChangeState>,
    ) -> Result<Vec<Change>, FilteringError> {
        Ok(self.duties.changes(&scope.school_id, state, MAX_LIST).await?)
    }
}
