//! The access core: grant and revoke access to systems, lend and take back numbered devices, welcome
//! visitors with a Wi-Fi code, and answer a captive portal. Nothing is granted or lent to someone
//! whose agreement does not cover them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use trustsafe_auth::Caller;
use trustsafe_events::Actor;
use trustsafe_events::aup::{
    AccessGranted, AccessRevoked, Audience, DeviceLent, DeviceReturned, VisitorAgreed, VisitorDetails,
};
use trustsafe_eventstore::{AppendContext, AppendError, StoreError};
use trustsafe_servicekit::policy::{AnyRole, CaptivePortal};
use trustsafe_servicekit::{PseudonymKey, Purpose, SchoolScope};
use uuid::Uuid;

use crate::app::error::AupError;
use crate::app::policies::Policies;
use crate::domain::access::{self, GrantState};
use crate::domain::agreements::Standing;
use crate::domain::documents;
use crate::domain::people::{Issue, RosterView};
use crate::store::{AccessStore, GrantRow, LoanRow, PolicyStore, StoredPerson};

pub type StaffScope = SchoolScope<AnyRole>;

/// What the access endpoints do, as far as who may do it goes.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Give, take away or read access to systems: the school's leads and technician.
    Grant,
    /// Lend devices and welcome visitors: any member of staff.
    Lend,
    /// Import acceptances another system collected: those who keep the record of access.
    Import,
}

/// A grant on the record, with what it is worth today.
pub struct Grant {
    pub row: GrantRow,
    pub person: Option<StoredPerson>,
    pub state: GrantState,
}

/// A visitor welcomed: their record and the code to hand them (shown once, never stored).
pub struct Welcome {
    pub agreed: VisitorAgreed,
    pub code: String,
}

/// What a captive portal learns of a code.
pub struct CodeCheck {
    pub valid: bool,
    pub expires_at: DateTime<Utc>,
}

pub struct Access {
    store: AccessStore,
    policies: Arc<Policies>,
    versions: PolicyStore,
    pseudonyms: Arc<PseudonymKey>,
}

fn code_hash(code: &str) -> String {
    Sha256::digest(code.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn not_covered(standing: Standing) -> AupError {
    AupError::Refused(format!(
        "They have no current acceptable-use agreement (their standing is {}): record their agreement first.",
        standing.name()
    ))
}

impl Access {
    pub fn new(
        store: AccessStore,
        policies: Arc<Policies>,
        versions: PolicyStore,
        pseudonyms: Arc<PseudonymKey>,
    ) -> Self {
        Self {
            store,
            policies,
            versions,
            pseudonyms,
        }
    }

    fn context(&self, caller: &Caller, trust_id: &str, school_id: &str) -> AppendContext {
        let pseudonym = self
            .pseudonyms
            .pseudonym(Purpose::Actor, trust_id, caller.subject.as_bytes());
        AppendContext {
            trust_id: trust_id.to_owned(),
            school_id: Some(school_id.to_owned()),
            actor: Actor::person(caller.subject.clone(), "staff").with_pseudonym(pseudonym),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
        }
    }

    /// Whether the caller may do `action` at the school: asked before a request's body is read, so
    /// that who may not gets 404 (or 403) whatever they sent.
    pub fn may(scope: &StaffScope, action: Action) -> Result<(), AupError> {
        match action {
            Action::Grant => Self::roles_may(scope, access::may_grant, "Access to systems"),
            Action::Lend => Self::roles_may(scope, access::may_lend, "Lending devices"),
            Action::Import => Self::roles_may(scope, access::may_grant, "Importing acceptances"),
        }
    }

    fn roles_may(
        scope: &StaffScope,
        rule: fn(Vec<trustsafe_auth::SchoolRole>) -> bool,
        what: &str,
    ) -> Result<(), AupError> {
        let roles: Vec<_> = scope.caller.school_roles(&scope.school_id).collect();
        if RosterView::of(roles.clone()).is_none() {
            return Err(AupError::NotFound);
        }
        if rule(roles) {
            Ok(())
        } else {
            Err(AupError::Forbidden(format!(
                "{what} is for the school's leads and its technician."
            )))
        }
    }

    /// Someone on the roster whom their agreement covers today.
    async fn covered(&self, scope: &StaffScope, person_id: Uuid) -> Result<StoredPerson, AupError> {
        let person = self
            .policies
            .on_roster(&scope.school_id, person_id, "person_id")
            .await?;
        let standing = self
            .policies
            .standing_of(&scope.trust_id, &scope.school_id, &person)
            .await?;
        if !standing.covers() {
            return Err(not_covered(standing));
        }
        Ok(person)
    }

    pub async fn grant(
        &self,
        scope: &StaffScope,
        person_id: Uuid,
        system: &str,
    ) -> Result<AccessGranted, AupError> {
        Self::may(scope, Action::Grant)?;
        let system = access::label("system", system).map_err(|issue| AupError::Invalid(vec![issue]))?;
        let person = self.covered(scope, person_id).await?;
        let granted = AccessGranted {
            grant_id: Uuid::now_v7(),
            person_id: person.id,
            system,
            granted_at: Utc::now(),
        };
        let mut tx = self.store.pool().begin().await?;
        self.store
            .grant(
                &mut tx,
                &self.context(&scope.caller, &scope.trust_id, &scope.school_id),
                &granted,
                &scope.caller.subject,
            )
            .await?;
        tx.commit().await?;
        Ok(granted)
    }

    pub async fn revoke(&self, scope: &StaffScope, grant_id: Uuid) -> Result<AccessRevoked, AupError> {
        Self::may(scope, Action::Grant)?;
        let mut tx = self.store.pool().begin().await?;
        let grant = self
            .store
            .grant_of(&mut tx, &scope.school_id, grant_id)
            .await?
            .ok_or(AupError::NotFound)?;
        if grant.revoked_at.is_some() {
            return Err(AupError::Conflict("This access was already taken away.".into()));
        }
        let revoked = AccessRevoked {
            grant_id,
            person_id: grant.person_id,
            revoked_at: Utc::now(),
        };
        self.store
            .revoke(
                &mut tx,
                &self.context(&scope.caller, &scope.trust_id, &scope.school_id),
                &revoked,
                &scope.caller.subject,
            )
            .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// The record of who has access to what, since when, on whose say-so, and whether it holds today.
    pub async fn grants(&self, scope: &StaffScope) -> Result<(RosterView, Vec<Grant>), AupError> {
        Self::may(scope, Action::Grant)?;
        let view = RosterView::of(scope.caller.school_roles(&scope.school_id)).ok_or(AupError::NotFound)?;
        let people: HashMap<Uuid, (StoredPerson, Standing)> = self
            .policies
            .standings(&scope.trust_id, &scope.school_id)
            .await?
            .into_iter()
            .map(|(person, standing)| {
                (
                    person.id,
                    (
                        person,
                        standing.map_or(Standing::NoPolicy, |(_, standing)| standing),
                    ),
                )
            })
            .collect();
        let grants = self.store.grants(&scope.school_id).await?;
        Ok((
            view,
            grants
                .into_iter()
                .map(|row| {
                    // Someone removed from the roster is covered by nothing.
                    let found = people.get(&row.person_id).cloned();
                    let covered = found.as_ref().is_some_and(|(_, standing)| standing.covers());
                    Grant {
                        state: GrantState::of(row.revoked_at.is_some(), covered),
                        person: found.map(|(person, _)| person),
                        row,
                    }
                })
                .collect(),
        ))
    }

    pub async fn lend(
        &self,
        scope: &StaffScope,
        device: &str,
        person_id: Uuid,
    ) -> Result<DeviceLent, AupError> {
        Self::may(scope, Action::Lend)?;
        let device = access::label("device", device).map_err(|issue| AupError::Invalid(vec![issue]))?;
        let person = self.covered(scope, person_id).await?;
        let lent = DeviceLent {
            loan_id: Uuid::now_v7(),
            device,
            person_id: person.id,
            lent_at: Utc::now(),
        };
        let mut tx = self.store.pool().begin().await?;
        let context = self.context(&scope.caller, &scope.trust_id, &scope.school_id);
        match self
            .store
            .lend(&mut tx, &context, &lent, &scope.caller.subject)
            .await
        {
            Err(AppendError::Store(StoreError::Unique)) => {
                return Err(AupError::Conflict(format!(
                    "{} is out on loan: take it back first.",
                    lent.device
                )));
            }
            other => other?,
        }
        tx.commit().await?;
        Ok(lent)
    }

    pub async fn take_back(&self, scope: &StaffScope, device: &str) -> Result<DeviceReturned, AupError> {
        Self::may(scope, Action::Lend)?;
        let device = access::label("device", device).map_err(|issue| AupError::Invalid(vec![issue]))?;
        let device = device.as_str();
        let mut tx = self.store.pool().begin().await?;
        let loan = self
            .store
            .out(&mut tx, &scope.school_id, device)
            .await?
            .ok_or_else(|| AupError::Conflict(format!("{device} is not out on loan.")))?;
        let returned = DeviceReturned {
            loan_id: loan.loan_id,
            device: loan.device,
            returned_at: Utc::now(),
        };
        let context = self.context(&scope.caller, &scope.trust_id, &scope.school_id);
        self.store
            .give_back(&mut tx, &context, &returned, &scope.caller.subject)
            .await?;
        tx.commit().await?;
        Ok(returned)
    }

    /// A device's loans, or every device out now.
    pub async fn loans(&self, scope: &StaffScope, device: Option<&str>) -> Result<Vec<LoanRow>, AupError> {
        Self::may(scope, Action::Lend)?;
        let device = device
            .map(|device| access::label("device", device))
            .transpose()
            .map_err(|issue| AupError::Invalid(vec![issue]))?;
        Ok(self.store.loans(&scope.school_id, device.as_deref()).await?)
    }

    /// A visitor who has read the visitors' policy in force agrees, and gets a Wi-Fi code valid for
    /// 24 hours.
    pub async fn welcome(
        &self,
        scope: &StaffScope,
        name: &str,
        organisation: Option<&str>,
    ) -> Result<Welcome, AupError> {
        Self::may(scope, Action::Lend)?;
        let mut issues = Vec::new();
        let name = access::label("name", name)
            .map_err(|issue| issues.push(issue))
            .ok();
        let organisation = organisation
            .map(|organisation| access::label("organisation", organisation))
            .transpose()
            .map_err(|issue| issues.push(issue))
            .ok()
            .flatten();
        let Some(name) = name.filter(|_| issues.is_empty()) else {
            return Err(AupError::Invalid(issues));
        };
        let now = Utc::now();
        let versions = self.versions.versions(&scope.trust_id, &scope.school_id).await?;
        let in_force = documents::in_force(
            &versions,
            &scope.school_id,
            Audience::VisitorsVolunteers,
            now.date_naive(),
        )
        .ok_or_else(|| {
            AupError::Refused("The school has no visitors' policy in force for them to agree to.".into())
        })?;
        let context = self.context(&scope.caller, &scope.trust_id, &scope.school_id);
        // A code is never issued twice: on the (astronomically rare) clash, draw again.
        for _ in 0..5 {
            let code = access::wifi_code(rand_bits());
            let agreed = VisitorAgreed {
                visitor_id: Uuid::now_v7(),
                document_id: in_force.document_id,
                version: in_force.version,
                agreed_at: now,
                wifi_code_expires_at: access::code_expires(now),
                restricted: Some(VisitorDetails {
                    name: name.clone(),
                    organisation: organisation.clone(),
                }),
            };
            let mut tx = self.store.pool().begin().await?;
            match self
                .store
                .visitor(
                    &mut tx,
                    &context,
                    &agreed,
                    &code_hash(&code),
                    &scope.caller.subject,
                )
                .await
            {
                Err(AppendError::Store(StoreError::Unique)) => continue,
                other => other?,
            }
            tx.commit().await?;
            return Ok(Welcome { agreed, code });
        }
        Err(AupError::Store(StoreError::Corrupt(
            "no unused Wi-Fi code in five draws".into(),
        )))
    }

    /// Whether a code the school issued works now; NotFound for one it never issued.
    pub async fn check_code(
        &self,
        scope: &SchoolScope<CaptivePortal>,
        typed: &str,
    ) -> Result<CodeCheck, AupError> {
        let code = access::typed_code(typed).ok_or_else(|| {
            AupError::Invalid(vec![Issue::new(
                "code",
                "is not a Wi-Fi code: ten letters and digits",
            )])
        })?;
        let expires_at = self
            .store
            .code_expiry(&scope.school_id, &code_hash(&code))
            .await?
            .ok_or(AupError::NotFound)?;
        Ok(CodeCheck {
            valid: Utc::now() < expires_at,
            expires_at,
        })
    }
}

fn rand_bits() -> u64 {
    rand::random()
}
