//! Acceptable use: each policy document's stream `aup-document-<id>` with its versions, and each
//! answer's stream `agreement-<id>`, with the tables kept in step (migrations/1002_acceptable_use.sql).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use trustsafe_events::aup::{AgreementRecorded, Audience, AupPublished};
use trustsafe_eventstore::{AppendContext, AppendError, EventStore, ExpectedVersion, NewEvent, StoreError};
use uuid::Uuid;

fn document_stream(id: Uuid) -> String {
    format!("aup-document-{id}")
}

fn agreement_stream(id: Uuid) -> String {
    format!("agreement-{id}")
}

fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|err| StoreError::Corrupt(err.to_string()))
}

/// An answer and who entered it.
pub struct StoredAgreement {
    pub agreement: AgreementRecorded,
    pub recorded_by: String,
}

#[derive(Clone)]
pub struct PolicyStore {
    events: EventStore,
}

impl PolicyStore {
    pub fn new(events: EventStore) -> Self {
        Self { events }
    }

    pub fn pool(&self) -> &PgPool {
        self.events.pool()
    }

    /// The document for `audience`, trust-wide or `school_id`'s own, and its last version; taken
    /// for update, so that two publishers of one document take turns.
    pub async fn document(
        &self,
        tx: &mut PgConnection,
        trust_id: &str,
        school_id: Option<&str>,
        audience: Audience,
    ) -> Result<Option<(Uuid, i32)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT d.document_id, (SELECT max(version) FROM aup_versions v WHERE v.document_id = d.document_id)
               FROM aup_documents d
              WHERE d.trust_id = $1 AND coalesce(d.school_id, '') = coalesce($2, '') AND d.audience = $3
                FOR UPDATE",
        )
        .bind(trust_id)
        .bind(school_id)
        .bind(audience.name())
        .fetch_optional(tx)
        .await?)
    }

    /// Appends a version to its document's stream, creating the document with its first.
    pub async fn publish(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        published: &AupPublished,
        at: DateTime<Utc>,
    ) -> Result<(), AppendError> {
        if published.version == 1 {
            sqlx::query(
                "INSERT INTO aup_documents (document_id, trust_id, school_id, audience) VALUES ($1, $2, $3, $4)",
            )
            .bind(published.document_id)
            .bind(&context.trust_id)
            .bind(&published.school_id)
            .bind(published.audience.name())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        }
        self.events
            .append_in(
                tx,
                &document_stream(published.document_id),
                ExpectedVersion::Exactly(i64::from(published.version) - 1),
                context,
                &[NewEvent::new(published, at)],
            )
            .await?;
        sqlx::query("INSERT INTO aup_versions (document_id, version, record) VALUES ($1, $2, $3)")
            .bind(published.document_id)
            .bind(published.version)
            .bind(serde_json::to_value(published).map_err(|err| StoreError::Corrupt(err.to_string()))?)
            .execute(tx)
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }

    /// Every version of the trust's documents and of `school_id`'s own, text included.
    pub async fn versions(&self, trust_id: &str, school_id: &str) -> Result<Vec<AupPublished>, StoreError> {
        let records: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT v.record FROM aup_versions v JOIN aup_documents d USING (document_id)
              WHERE d.trust_id = $1 AND (d.school_id IS NULL OR d.school_id = $2)
              ORDER BY d.audience, d.school_id NULLS FIRST, v.version",
        )
        .bind(trust_id)
        .bind(school_id)
        .fetch_all(self.pool())
        .await?;
        records.into_iter().map(decode).collect()
    }

    /// Records an answer in its own stream.
    pub async fn record(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        agreement: &AgreementRecorded,
        recorded_by: &str,
    ) -> Result<(), AppendError> {
        self.events
            .append_in(
                tx,
                &agreement_stream(agreement.agreement_id),
                ExpectedVersion::NoStream,
                context,
                &[NewEvent::new(agreement, agreement.signed_at)],
            )
            .await?;
        sqlx::query(
            "INSERT INTO agreements (agreement_id, person_id, school_id, audience, signed_at, record, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(agreement.agreement_id)
        .bind(agreement.person_id)
        .bind(&context.school_id)
        .bind(agreement.audience.name())
        .bind(agreement.signed_at)
        .bind(serde_json::to_value(agreement).map_err(|err| StoreError::Corrupt(err.to_string()))?)
        .bind(recorded_by)
        .execute(tx)
        .await
        .map_err(StoreError::from)?;
        Ok(())
    }

    /// Each person's latest answer per audience at the school; of `people` only, when given.
    pub async fn latest(
        &self,
        school_id: &str,
        people: Option<&[Uuid]>,
    ) -> Result<Vec<AgreementRecorded>, StoreError> {
        let records: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT DISTINCT ON (person_id, audience) record FROM agreements
              WHERE school_id = $1 AND ($2::uuid[] IS NULL OR person_id = ANY($2))
              ORDER BY person_id, audience, signed_at DESC, agreement_id DESC",
        )
        .bind(school_id)
        .bind(people)
        .fetch_all(self.pool())
        .await?;
        records.into_iter().map(decode).collect()
    }

    /// Every answer of a person, newest first, with who entered it.
    pub async fn answers(
        &self,
        school_id: &str,
        person_id: Uuid,
    ) -> Result<Vec<StoredAgreement>, StoreError> {
        let rows: Vec<(serde_json::Value, String)> = sqlx::query_as(
            "SELECT record, recorded_by FROM agreements WHERE school_id = $1 AND person_id = $2
              ORDER BY signed_at DESC, agreement_id DESC",
        )
        .bind(school_id)
        .bind(person_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(record, recorded_by)| {
                Ok(StoredAgreement {
                    agreement: decode(record)?,
                    recorded_by,
                })
            })
            .collect()
    }
}
