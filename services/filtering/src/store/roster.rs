//! The roster's accounts as the aup topic names them (keyed hashes), and the attribution of breaches
//! recorded before their user was on the roster.

use sqlx::{PgConnection, Row};
use trustsafe_events::filtering::{AttributedTo, BreachAttributed};
use trustsafe_eventstore::{AppendContext, AppendError, EventStore, NewEvent, StoreError, StreamEvent};
use uuid::Uuid;

use super::breaches::{kind_text, life_json, life_of};
use crate::domain::breaches::Attribution;
use crate::domain::life::Life;

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

    /// The school's breaches recorded under these account hashes with no person yet: (id, version, life).
    pub async fn unattributed(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        hashes: &[String],
    ) -> Result<Vec<(Uuid, i64, Life)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, version, life FROM breaches
              WHERE school_id = $1 AND account_hash = ANY($2) AND person_id IS NULL
              FOR UPDATE",
        )
        .bind(school_id)
        .bind(hashes)
        .fetch_all(&mut *tx)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("version")?, life_of(row)?)))
            .collect()
    }

    /// Attributes these breaches (at their versions, with their lives after it) to the person.
    pub async fn attribute(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        attribution: Attribution,
        breaches: &[(Uuid, i64, Life)],
    ) -> Result<(), AppendError> {
        if breaches.is_empty() {
            return Ok(());
        }
        let appends: Vec<StreamEvent> = breaches
            .iter()
            .map(|(id, version, life)| StreamEvent {
                stream_id: format!("breach-{id}"),
                expected: *version,
                event: NewEvent::new(
                    &BreachAttributed {
                        breach_id: *id,
                        involved: attribution.involved,
                        parents_by: life.parents_due,
                        restricted: Some(AttributedTo {
                            person_id: attribution.person_id,
                        }),
                    },
                    chrono::Utc::now(),
                ),
            })
            .collect();
        self.events.append_each(tx, context, &appends).await?;
        let involved = serde_json::to_value(attribution.involved).expect("involved serialises");
        sqlx::query(
            "UPDATE breaches b
                SET person_id = $2, version = b.version + 1, life = new.life, next_due = new.next_due,
                    record = jsonb_set(b.record || jsonb_build_object('involved', $3::jsonb),
                                       '{restricted,person_id}', to_jsonb($2::uuid))
               FROM UNNEST($1::uuid[], $4::jsonb[], $5::timestamptz[]) AS new(id, life, next_due)
              WHERE b.id = new.id",
        )
        .bind(breaches.iter().map(|(id, ..)| *id).collect::<Vec<_>>())
        .bind(attribution.person_id)
        .bind(involved)
        .bind(
            breaches
                .iter()
                .map(|(.., life)| life_json(life))
                .collect::<Vec<_>>(),
        )
        .bind(
            breaches
                .iter()
                .map(|(.., life)| life.next_due())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        Ok(())
    }
}
