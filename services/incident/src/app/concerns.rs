//! The service's core: who is asking, for which school; load, decide, save. Handlers stay thin over it.

use std::sync::Arc;

use trustsafe_auth::SchoolRole;
use trustsafe_events::Actor;
use trustsafe_events::incident::{Category, Workflow};
use trustsafe_eventstore::{AppendContext, ExpectedVersion};
use trustsafe_servicekit::{PseudonymKey, Purpose};
use uuid::Uuid;

use crate::app::Scope;
use crate::app::clock::Clock;
use crate::app::error::ConcernError;
use crate::domain::DomainError;
use crate::domain::access::{Access, Viewer};
use crate::domain::concern::{self, Command, Concern, ConcernEvent, Context, NewReport};
use crate::domain::workflow;
use crate::store::{ConcernStore, ListFilter, ListedConcern, Loaded, roster};

/// A create's Idempotency-Key and the request it came with.
pub struct Idempotency {
    pub key: String,
    pub request: serde_json::Value,
}

/// The answer to a create, as first given (a retry with the same key gets it again).
pub struct Created {
    pub status: u16,
    pub body: serde_json::Value,
    pub location: String,
}

pub struct Concerns {
    store: ConcernStore,
    defaults: Workflow,
    clock: Clock,
    /// Names people on the shared log (`ce_actor`, an audit's reader) without their token subject.
    pseudonyms: Arc<PseudonymKey>,
}

impl Concerns {
    pub fn new(store: ConcernStore, clock: Clock, pseudonyms: Arc<PseudonymKey>) -> Self {
        Self {
            store,
            defaults: workflow::defaults(),
            clock,
            pseudonyms,
        }
    }

    /// Who is acting, for the events they cause: their subject stays in this service's store, the
    /// log names them by a keyed hash within the trust (a whistleblower is not on the permanent log).
    fn context(&self, viewer: &Viewer, trust_id: &str, school_id: &str, role: &str) -> AppendContext {
        let pseudonym = self
            .pseudonyms
            .pseudonym(Purpose::Actor, trust_id, viewer.subject.as_bytes());
        AppendContext {
            trust_id: trust_id.to_owned(),
            school_id: Some(school_id.to_owned()),
            actor: Actor::person(viewer.subject.clone(), role).with_pseudonym(pseudonym),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
        }
    }

    /// The school's workflow and its version (0: the policies' defaults).
    async fn workflow_on(
        &self,
        conn: &mut sqlx::PgConnection,
        school_id: &str,
    ) -> Result<(Workflow, i64), ConcernError> {
        Ok(self
            .store
            .workflow(conn, school_id)
            .await?
            .unwrap_or_else(|| (self.defaults.clone(), 0)))
    }

    /// Records a new concern. `render` makes the answer's body, kept for a retry with the same key.
    pub async fn report(
        &self,
        scope: &Scope,
        mut new: NewReport,
        idempotency: Option<Idempotency>,
        render: impl FnOnce(&Concern, Access) -> serde_json::Value,
    ) -> Result<Created, ConcernError> {
        let (viewer, school_id, trust_id) = viewer(scope);
        let mut tx = self.store.pool().begin().await?;
        if let Some(idempotency) = &idempotency {
            let key = (school_id, viewer.subject.as_str(), idempotency.key.as_str());
            if let Some(first) = self
                .store
                .claim_idempotency_key(&mut tx, key, &idempotency.request)
                .await?
            {
                return if first.request == idempotency.request {
                    Ok(Created {
                        status: first.status,
                        body: first.response,
                        location: first.location.unwrap_or_default(),
                    })
                } else {
                    Err(ConcernError::KeyReused)
                };
            }
        }
        let workflow = self.workflow_on(&mut tx, school_id).await?;
        let picked: Vec<Uuid> = new.people.iter().filter_map(|person| person.person_id).collect();
        new.roster = roster::kinds(&mut tx, school_id, &picked).await?;
        let now = self.clock.now();
        let id = Uuid::now_v7();
        let name_alleged = |person_ref: &str| {
            self.pseudonyms
                .pseudonym(Purpose::Alleged, trust_id, person_ref.as_bytes())
        };
        let reported = concern::report(
            new,
            Some(&viewer),
            (&workflow.0, workflow.1),
            id,
            now,
            &name_alleged,
        )?;
        let role = viewer.school_role().map(role_name).unwrap_or("staff");
        let context = self.context(&viewer, trust_id, school_id, role);
        let concern = Concern::reported(school_id, reported.clone(), &context.actor, now);
        self.store
            .save_concern(
                &mut tx,
                &concern,
                ExpectedVersion::NoStream,
                &context,
                &[ConcernEvent::Reported(reported)],
                now,
            )
            .await?;
        let access = concern.access(&viewer).unwrap_or(Access::Reporter);
        let body = render(&concern, access);
        self.store
            .audit_reads(&mut tx, &context, &[id], "incident-report", access.role(), now)
            .await?;
        let location = format!("/api/v1/schools/{school_id}/incidents/{id}");
        if let Some(idempotency) = &idempotency {
            let key = (school_id, viewer.subject.as_str(), idempotency.key.as_str());
            self.store
                .keep_answer(&mut tx, key, 201, &body, &location)
                .await?;
        }
        tx.commit().await?;
        Ok(Created {
            status: 201,
            body,
            location,
        })
    }

    /// A concern the caller may see, each read audited on `trustsafe.audit.v1` before it is answered.
    pub async fn read(
        &self,
        scope: &Scope,
        id: Uuid,
        record_kind: &str,
    ) -> Result<(Loaded, Access), ConcernError> {
        let (viewer, school_id, trust_id) = viewer(scope);
        let (loaded, access) = self.visible(&viewer, school_id, id).await?;
        let context = self.context(&viewer, trust_id, school_id, access.role());
        let mut tx = self.store.pool().begin().await?;
        self.store
            .audit_reads(
                &mut tx,
                &context,
                &[id],
                record_kind,
                access.role(),
                self.clock.now(),
            )
            .await?;
        tx.commit().await?;
        Ok((loaded, access))
    }

    pub async fn list(&self, scope: &Scope, filter: &ListFilter) -> Result<Vec<ListedConcern>, ConcernError> {
        let (viewer, school_id, trust_id) = viewer(scope);
        // Staff list what they may see (their own reports, or what they handle) and the trust lead
        // what was escalated; a governor or an integration has no list of concerns at all.
        if !viewer.is_staff() && !viewer.is_trust_lead() {
            return Err(DomainError::NotFound.into());
        }
        let listed = self
            .store
            .list(school_id, &viewer, filter, self.clock.now())
            .await?;
        // A list shows each concern's summary: each is a read of that concern, audited.
        let mut tx = self.store.pool().begin().await?;
        let role = viewer
            .school_role()
            .map(role_name)
            .unwrap_or("trust_safeguarding_lead");
        let context = self.context(&viewer, trust_id, school_id, role);
        let ids: Vec<Uuid> = listed.iter().map(|concern| concern.id).collect();
        self.store
            .audit_reads(&mut tx, &context, &ids, "incident-list", role, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(listed)
    }

    /// Changes a concern: `if_match` is the version the caller last saw, if they said.
    pub async fn command(
        &self,
        scope: &Scope,
        id: Uuid,
        if_match: Option<i64>,
        command: Command,
    ) -> Result<(Concern, Access), ConcernError> {
        let (viewer, school_id, trust_id) = viewer(scope);
        let (Loaded { concern, .. }, access) = self.visible(&viewer, school_id, id).await?;
        if let Some(expected) = if_match
            && expected != concern.version
        {
            return Err(ConcernError::Stale {
                current: concern.version,
            });
        }
        let now = self.clock.now();
        let events = concern.handle(
            command,
            &Context {
                viewer: &viewer,
                now,
                new_id: Uuid::now_v7(),
            },
        )?;
        let context = self.context(&viewer, trust_id, school_id, access.role());
        let mut after = concern.clone();
        for event in &events {
            after.apply(event, &context.actor);
        }
        let mut tx = self.store.pool().begin().await?;
        self.store
            .save_concern(
                &mut tx,
                &after,
                ExpectedVersion::Exactly(concern.version),
                &context,
                &events,
                now,
            )
            .await?;
        // The answer carries the concern as it now stands: a read, audited with the change.
        self.store
            .audit_reads(&mut tx, &context, &[id], "incident-command", access.role(), now)
            .await?;
        tx.commit().await?;
        Ok((after, access))
    }

    /// Concern `id` of `school_id` as `viewer` may see it: not there and not theirs are both 404.
    async fn visible(
        &self,
        viewer: &Viewer,
        school_id: &str,
        id: Uuid,
    ) -> Result<(Loaded, Access), ConcernError> {
        let loaded = self
            .store
            .concern(school_id, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let access = loaded.concern.access(viewer).ok_or(DomainError::NotFound)?;
        Ok((loaded, access))
    }

    /// Whether `caller` may do what they ask before a byte of its body is read, so that what they may
    /// not know of answers 404 (or 403) whatever they send, never a validation error.
    pub async fn may(&self, scope: &Scope, target: Target) -> Result<(), ConcernError> {
        let (viewer, school_id, _) = viewer(scope);
        match target {
            Target::NewConcern => viewer.may_report()?,
            Target::Workflow => {
                viewer.workflow_editor_role()?;
            }
            Target::Concern(id) => {
                self.visible(&viewer, school_id, id).await?;
            }
        }
        Ok(())
    }

    /// Why a body carrying files is refused: for a new concern of `category`, or for concern `id`. A
    /// concern the caller may not see is still not found.
    pub async fn refuse_images(&self, scope: &Scope, target: ImagesFor) -> ConcernError {
        let refusal = async {
            let (viewer, school_id, _) = viewer(scope);
            let category = match target {
                ImagesFor::Report(category) => category,
                ImagesFor::Concern(id) => {
                    self.visible(&viewer, school_id, id)
                        .await?
                        .0
                        .concern
                        .report
                        .category
                }
            };
            let mut conn = self.store.pool().acquire().await?;
            let (workflow, _) = self.workflow_on(&mut conn, school_id).await?;
            Ok::<_, ConcernError>(images_refusal(&workflow, category).into())
        };
        // Refused either way: not found (or unavailable) first, else for its images.
        refusal.await.unwrap_or_else(|err| err)
    }

    /// The school's workflow, for its DSL, deputies and headteacher.
    pub async fn workflow(&self, scope: &Scope) -> Result<(Workflow, i64), ConcernError> {
        let (viewer, school_id, _) = viewer(scope);
        if !(viewer.is_dsl() || viewer.is_headteacher()) {
            return Err(DomainError::NotFound.into());
        }
        let mut conn = self.store.pool().acquire().await?;
        self.workflow_on(&mut conn, school_id).await
    }

    /// Sets the school's workflow (the DSL or the headteacher), within what the policies require.
    pub async fn set_workflow(
        &self,
        scope: &Scope,
        if_match: Option<i64>,
        workflow: Workflow,
    ) -> Result<(Workflow, i64), ConcernError> {
        let (viewer, school_id, trust_id) = viewer(scope);
        let role = viewer.workflow_editor_role()?;
        workflow::check(&workflow, &self.defaults).map_err(|errors| DomainError::Refused {
            detail: "The workflow breaks what the policies require; see errors.".into(),
            errors,
        })?;
        let mut tx = self.store.pool().begin().await?;
        let (_, current) = self.workflow_on(&mut tx, school_id).await?;
        if let Some(expected) = if_match
            && expected != current
        {
            return Err(ConcernError::Stale { current });
        }
        let context = self.context(&viewer, trust_id, school_id, role);
        let version = self
            .store
            .save_workflow(&mut tx, school_id, current, &context, &workflow, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok((workflow, version))
    }
}

/// The caller at the scope's school, the school and its trust.
fn viewer(scope: &Scope) -> (Viewer, &str, &str) {
    let Scope {
        caller,
        school_id,
        trust_id,
        ..
    } = scope;
    (Viewer::of(caller, school_id, trust_id), school_id, trust_id)
}

/// What a request would change.
pub enum Target {
    NewConcern,
    Concern(Uuid),
    Workflow,
}

/// What a body carrying files is about.
pub enum ImagesFor {
    Report(Category),
    Concern(Uuid),
}

/// Files are not kept with concerns. Where the policies forbid keeping images at all (nudes,
/// indecent images), the refusal says so and what to do instead.
fn images_refusal(workflow: &Workflow, category: Category) -> DomainError {
    if workflow::procedure(workflow, category).images_accepted {
        return DomainError::invalid(
            "attachments",
            "are not accepted: describe what you saw in the description",
        );
    }
    DomainError::refused(format!(
        "Images are never accepted for {} concerns: staff must not view, copy, keep or send them \
         (RAPS 11.2, 11.4; Claremont 9.1, 9.3). Leave the device secured, and record the external report \
         reference (IWF, CEOP or police) instead.",
        category.id()
    ))
}

pub fn role_name(role: SchoolRole) -> &'static str {
    match role {
        SchoolRole::Dsl => "dsl",
        SchoolRole::DeputyDsl => "deputy_dsl",
        SchoolRole::Staff => "staff",
        SchoolRole::Technician => "technician",
        SchoolRole::Headteacher => "headteacher",
        SchoolRole::Governor => "governor",
    }
}
