//! The incident service's persistence: concern and workflow streams in the event store, and the
//! tables kept in step with them in the same transaction (see migrations/1001_incident.sql).

pub mod roster;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};
use trustsafe_events::Envelope;
use trustsafe_events::audit::RecordRead;
use trustsafe_events::incident::{Workflow, WorkflowChanged};
use trustsafe_eventstore::{AppendContext, AppendError, EventStore, ExpectedVersion, NewEvent, StoreError};
use uuid::Uuid;

use crate::domain::access::Viewer;
use crate::domain::concern::{Concern, ConcernEvent, Status};

pub fn concern_stream(id: Uuid) -> String {
    format!("incident-{id}")
}

fn workflow_stream(school_id: &str) -> String {
    format!("workflow-{school_id}")
}

/// Each answer's reads are a stream of their own: an answer's audit is appended at once, and two
/// people reading the same concern never wait on each other's audit (per-concern audit streams
/// serialised every DSL reading a school's list behind one another).
fn audit_stream() -> String {
    format!("audit-{}", Uuid::now_v7())
}

/// An event of a concern, ready for the store.
pub fn new_event(event: &ConcernEvent, at: DateTime<Utc>) -> NewEvent {
    match event {
        ConcernEvent::Reported(event) => NewEvent::new(event, at),
        ConcernEvent::Acknowledged(event) => NewEvent::new(event, at),
        ConcernEvent::StepCompleted(event) => NewEvent::new(event, at),
        ConcernEvent::ReferralRecorded(event) => NewEvent::new(event, at),
        ConcernEvent::NoteAdded(event) => NewEvent::new(event, at),
        ConcernEvent::EscalatedToTrust(event) => NewEvent::new(event, at),
        ConcernEvent::Closed(event) => NewEvent::new(event, at),
        ConcernEvent::Reopened(event) => NewEvent::new(event, at),
    }
}

/// A concern and the envelopes it was built from.
pub struct Loaded {
    pub concern: Concern,
    pub envelopes: Vec<Envelope>,
}

/// Filters of a concern list.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub category: Option<String>,
    pub overdue: bool,
    /// Concerns older than this one (the cursor).
    pub before: Option<Uuid>,
    pub limit: i64,
}

/// One row of a concern list.
pub struct ListedConcern {
    pub id: Uuid,
    pub category: String,
    pub status: String,
    pub summary: String,
    pub reported_by: String,
    pub occurred_at: DateTime<Utc>,
    pub reported_at: DateTime<Utc>,
    pub acknowledge_by: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub next_deadline: Option<DateTime<Utc>>,
    pub escalated: bool,
    pub version: i64,
}

/// The first answer to a create with an Idempotency-Key.
pub struct StoredAnswer {
    pub request: serde_json::Value,
    pub status: u16,
    pub response: serde_json::Value,
    pub location: Option<String>,
}

#[derive(Clone)]
pub struct ConcernStore {
    events: EventStore,
}

impl ConcernStore {
    pub fn new(events: EventStore) -> Self {
        Self { events }
    }

    pub fn pool(&self) -> &PgPool {
        self.events.pool()
    }

    /// Creates or upgrades the service's own tables (the event store's are migrated by the host).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.set_ignore_missing(true);
        migrator.run(self.pool()).await?;
        Ok(())
    }

    /// The concern `id` of `school_id`; None if there is none at that school.
    pub async fn concern(&self, school_id: &str, id: Uuid) -> Result<Option<Loaded>, StoreError> {
        let envelopes = self.events.load(&concern_stream(id)).await?;
        if envelopes
            .first()
            .is_none_or(|first| first.school_id.as_deref() != Some(school_id))
        {
            return Ok(None);
        }
        let mut history = Vec::with_capacity(envelopes.len());
        for envelope in &envelopes {
            let event = ConcernEvent::decode(envelope).map_err(|err| {
                StoreError::Corrupt(format!(
                    "{} v{}: {err}",
                    envelope.stream_id, envelope.stream_version
                ))
            })?;
            // The envelope's time is the service's clock at the append, as every stamp in the data is.
            history.push((event, envelope.actor.clone(), envelope.occurred_at));
        }
        Ok(Concern::replay(school_id, &history).map(|concern| Loaded { concern, envelopes }))
    }

    /// Appends `events` to the concern's stream (at `expected`) and brings its row up to `after`, on
    /// the caller's transaction.
    pub async fn save_concern(
        &self,
        tx: &mut PgConnection,
        after: &Concern,
        expected: ExpectedVersion,
        context: &AppendContext,
        events: &[ConcernEvent],
        now: DateTime<Utc>,
    ) -> Result<(), AppendError> {
        let new: Vec<NewEvent> = events.iter().map(|event| new_event(event, now)).collect();
        self.events
            .append_in(tx, &concern_stream(after.id), expected, context, &new)
            .await?;
        upsert_row(tx, after).await.map_err(StoreError::from)?;
        Ok(())
    }

    /// The concerns of `school_id` that `viewer` may see, newest first. The visibility test mirrors
    /// `domain::access::Visibility::access`.
    pub async fn list(
        &self,
        school_id: &str,
        viewer: &Viewer,
        filter: &ListFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<ListedConcern>, StoreError> {
        let rows = sqlx::query(
            "SELECT incident_id, category, status, summary, reported_by, occurred_at, reported_at,
                    acknowledge_by, acknowledged_at, next_deadline, escalated, version
               FROM concerns
              WHERE school_id = $1
                AND NOT ($2 = ANY (alleged))
                AND (reported_by = $2
                     OR (route = 'dsl' AND $3)
                     OR (route = 'dsl_and_headteacher' AND ($3 OR $4))
                     OR (route = 'trust_lead' AND $5)
                     OR (escalated AND $5))
                AND ($6::text IS NULL OR status = $6)
                AND ($7::text IS NULL OR category = $7)
                AND (NOT $8 OR next_deadline < $9)
                AND ($10::uuid IS NULL OR incident_id < $10)
              ORDER BY incident_id DESC
              LIMIT $11",
        )
        .bind(school_id)
        .bind(&viewer.subject)
        .bind(viewer.is_dsl())
        .bind(viewer.is_headteacher())
        .bind(viewer.is_trust_lead())
        .bind(filter.status.map(Status::id))
        .bind(filter.category.as_deref())
        .bind(filter.overdue)
        .bind(now)
        .bind(filter.before)
        .bind(filter.limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ListedConcern {
                    id: row.try_get("incident_id")?,
                    category: row.try_get("category")?,
                    status: row.try_get("status")?,
                    summary: row.try_get("summary")?,
                    reported_by: row.try_get("reported_by")?,
                    occurred_at: row.try_get("occurred_at")?,
                    reported_at: row.try_get("reported_at")?,
                    acknowledge_by: row.try_get("acknowledge_by")?,
                    acknowledged_at: row.try_get("acknowledged_at")?,
                    next_deadline: row.try_get("next_deadline")?,
                    escalated: row.try_get("escalated")?,
                    version: row.try_get("version")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The school's workflow and its version; None while the school still uses the defaults.
    pub async fn workflow(
        &self,
        conn: &mut PgConnection,
        school_id: &str,
    ) -> Result<Option<(Workflow, i64)>, StoreError> {
        let row: Option<(serde_json::Value, i64)> =
            sqlx::query_as("SELECT workflow, version FROM school_workflows WHERE school_id = $1")
                .bind(school_id)
                .fetch_optional(conn)
                .await?;
        row.map(|(workflow, version)| {
            serde_json::from_value(workflow)
                .map(|workflow| (workflow, version))
                .map_err(|err| StoreError::Corrupt(format!("workflow of {school_id}: {err}")))
        })
        .transpose()
    }

    /// Appends the school's new workflow (at `expected`) and makes it current, on the caller's
    /// transaction. Returns its version.
    pub async fn save_workflow(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        expected: i64,
        context: &AppendContext,
        workflow: &Workflow,
        now: DateTime<Utc>,
    ) -> Result<i64, AppendError> {
        let changed = WorkflowChanged::new(school_id, workflow.clone());
        let expected = match expected {
            0 => ExpectedVersion::NoStream,
            version => ExpectedVersion::Exactly(version),
        };
        let appended = self
            .events
            .append_in(
                tx,
                &workflow_stream(school_id),
                expected,
                context,
                &[NewEvent::new(&changed, now)],
            )
            .await?;
        sqlx::query(
            "INSERT INTO school_workflows (school_id, version, workflow) VALUES ($1, $2, $3)
             ON CONFLICT (school_id) DO UPDATE SET version = EXCLUDED.version, workflow = EXCLUDED.workflow",
        )
        .bind(school_id)
        .bind(appended.last_version)
        .bind(serde_json::to_value(workflow).expect("a workflow serialises"))
        .execute(tx)
        .await
        .map_err(StoreError::from)?;
        Ok(appended.last_version)
    }

    /// Claims `key` for this request on the caller's transaction. None: claimed, go ahead. Some: an
    /// earlier request took it (if it is still running, this waits for it to commit).
    pub async fn claim_idempotency_key(
        &self,
        tx: &mut PgConnection,
        (school_id, subject, key): (&str, &str, &str),
        request: &serde_json::Value,
    ) -> Result<Option<StoredAnswer>, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (school_id, subject, key, request) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(school_id)
        .bind(subject)
        .bind(key)
        .bind(request)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if claimed {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT request, status, response, location FROM idempotency_keys
              WHERE school_id = $1 AND subject = $2 AND key = $3",
        )
        .bind(school_id)
        .bind(subject)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        let status: Option<i16> = row.try_get("status")?;
        Ok(Some(StoredAnswer {
            request: row.try_get("request")?,
            status: status.unwrap_or(201) as u16,
            response: row
                .try_get::<Option<serde_json::Value>, _>("response")?
                .unwrap_or_default(),
            location: row.try_get("location")?,
        }))
    }

    /// Keeps the answer to the request that claimed `key`.
    pub async fn keep_answer(
        &self,
        tx: &mut PgConnection,
        (school_id, subject, key): (&str, &str, &str),
        status: u16,
        response: &serde_json::Value,
        location: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $4, response = $5, location = $6
              WHERE school_id = $1 AND subject = $2 AND key = $3",
        )
        .bind(school_id)
        .bind(subject)
        .bind(key)
        .bind(status as i16)
        .bind(response)
        .bind(location)
        .execute(tx)
        .await?;
        Ok(())
    }

    /// Records, for `trustsafe.audit.v1`, that the context's actor read the concerns `ids` under
    /// `role`, on the caller's transaction (so a response carrying a concern is never given unaudited).
    pub async fn audit_reads(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        ids: &[Uuid],
        record_kind: &str,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppendError> {
        if ids.is_empty() {
            return Ok(());
        }
        let reads: Vec<NewEvent> = ids
            .iter()
            .map(|id| {
                let read = RecordRead {
                    record_kind: record_kind.to_owned(),
                    record_id: id.to_string(),
                    school_id: context.school_id.clone().unwrap_or_default(),
                    // As the log names the reader: the pseudonym the service set on the actor.
                    reader: context.actor.on_the_log(),
                    role: role.to_owned(),
                    read_at: now,
                };
                NewEvent::new(&read, now)
            })
            .collect();
        self.events
            .append_in(tx, &audit_stream(), ExpectedVersion::NoStream, context, &reads)
            .await?;
        Ok(())
    }

    /// Claims the concern for a filtering breach: true the first time, false ever after.
    pub async fn claim_breach(
        &self,
        tx: &mut PgConnection,
        breach_id: Uuid,
        incident_id: Uuid,
    ) -> Result<bool, sqlx::Error> {
        Ok(sqlx::query(
            "INSERT INTO breach_concerns (breach_id, incident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(breach_id)
        .bind(incident_id)
        .execute(tx)
        .await?
        .rows_affected()
            == 1)
    }
}

async fn upsert_row(tx: &mut PgConnection, concern: &Concern) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO concerns (incident_id, school_id, category, status, route, reported_by, alleged,
                               escalated, summary, occurred_at, reported_at, acknowledge_by,
                               acknowledged_at, next_deadline, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (incident_id) DO UPDATE SET
             status = EXCLUDED.status, escalated = EXCLUDED.escalated,
             acknowledged_at = EXCLUDED.acknowledged_at, next_deadline = EXCLUDED.next_deadline,
             version = EXCLUDED.version",
    )
    .bind(concern.id)
    .bind(&concern.school_id)
    .bind(concern.report.category.id())
    .bind(concern.status.id())
    .bind(concern.route().id())
    .bind(&concern.reported.by)
    .bind(concern.alleged())
    .bind(concern.escalation.is_some())
    .bind(
        concern
            .narrative()
            .map(|narrative| narrative.summary.as_str())
            .unwrap_or_default(),
    )
    .bind(concern.report.occurred_at)
    .bind(concern.reported.at)
    .bind(concern.report.acknowledge_by)
    .bind(concern.acknowledgement.as_ref().map(|stamp| stamp.at))
    .bind(concern.next_deadline())
    .bind(concern.version)
    .execute(tx)
    .await?;
    Ok(())
}
