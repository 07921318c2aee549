//! The roster's accounts as the aup topic names them (keyed hashes), and the attribution of breaches
//! recorded before their user was on the roster.

use sqlx::{PgConnection, Row};
use trustsafe_events::filtering::{AttributedTo, BreachAttributed};
use trustsafe_eventstore::{AppendContext, AppendError, EventStore, NewEvent, StoreError, StreamEvent};
use uuid::Uuid;

use super::breaches::kind_text;
use crate::domain::breaches::Attribution;

#[derive(Clone)]
pub struct RosterStore {
    events: EventStore,
}

impl RosterStore {
    pub fn new(events: EventStore) -> Self {
        Self { events }
    }

    /// The person's accounts are now these (their earlier ones are forgotten).
    pub async fn learn(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        attribution: Attribution,
        hashes: &[String],
    ) -> Result<(), StoreError> {
        self.forget(tx, attribution.person_id).await?;
        sqlx::query(
            "INSERT INTO roster_accounts (school_id, account_hash, person_id, kind, year_group)
             SELECT $1, hash, $2, $3, $4 FROM UNNEST($5::text[]) AS hash
             ON CONFLICT (school_id, account_hash)
             DO UPDATE SET person_id = EXCLUDED.person_id, kind = EXCLUDED.kind, year_group = EXCLUDED.year_group",
        )
        .bind(school_id)
        .bind(attribution.person_id)
        .bind(kind_text(attribution.involved.kind))
        .bind(attribution.involved.year_group.map(i16::from))
        .bind(hashes)
        .execute(tx)
        .await?;
        Ok(())
    }

    pub async fn forget(&self, tx: &mut PgConnection, person_id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM roster_accounts WHERE person_id = $1")
            .bind(person_id)
            .execute(tx)
            .await?;
        Ok(())
    }

    /// Attributes the school's breaches recorded under these account hashes with no person yet.
    /// Returns how many.
    pub async fn attribute(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        school_id: &str,
        attribution: Attribution,
        hashes: &[String],
    ) -> Result<usize, AppendError> {
        let rows = sqlx::query(
            "SELECT id, version FROM breaches
              WHERE school_id = $1 AND account_hash = ANY($2) AND person_id IS NULL
              FOR UPDATE",
        )
        .bind(school_id)
        .bind(hashes)
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(rows.len());
        let mut appends = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get("id").map_err(StoreError::from)?;
            let event = BreachAttributed {
                breach_id: id,
                involved: attribution.involved,
                restricted: Some(AttributedTo {
                    person_id: attribution.person_id,
                }),
            };
            appends.push(StreamEvent {
                stream_id: format!("breach-{id}"),
                expected: row.try_get("version").map_err(StoreError::from)?,
                event: NewEvent::new(&event, chrono::Utc::now()),
            });
            ids.push(id);
        }
        self.events.append_each(tx, context, &appends).await?;
        let involved = serde_json::to_value(attribution.involved).expect("involved serialises");
        sqlx::query(
            "UPDATE breaches
                SET person_id = $2, version = version + 1,
                    record = jsonb_set(record || jsonb_build_object('involved', $3::jsonb),
                                       '{restricted,person_id}', to_jsonb($2::uuid))
              WHERE id = ANY($1)",
        )
        .bind(&ids)
        .bind(attribution.person_id)
        .bind(involved)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        Ok(ids.len())
    }
}
