//! The filtering service's persistence: breach streams in the event store and the tables kept in step
//! with them in the same transaction (see `migrations/`).

mod breaches;
mod duties;
mod roster;

pub use breaches::{BreachFilter, BreachStore, Continued, GatherKey, MoreSightings, NewBreach, StoredBreach};
pub use duties::{DutyStore, StoredChange};
pub use roster::RosterStore;

/// Creates or upgrades the service's own tables (the event store's are migrated by the host).
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), trustsafe_eventstore::StoreError> {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator.run(pool).await?;
    Ok(())
}

/// A transaction that has appended `event` to `stream` (a school's, with one writer: any version), for
/// the rows kept in step with it.
async fn begin_with<E: trustsafe_events::Event>(
    events: &trustsafe_eventstore::EventStore,
    stream: &str,
    context: &trustsafe_eventstore::AppendContext,
    event: &E,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, trustsafe_eventstore::AppendError> {
    let mut tx = events
        .pool()
        .begin()
        .await
        .map_err(trustsafe_eventstore::StoreError::from)?;
    events
        .append_in(
            &mut tx,
            stream,
            trustsafe_eventstore::ExpectedVersion::Any,
            context,
            &[trustsafe_eventstore::NewEvent::new(event, now)],
        )
        .await?;
    Ok(tx)
}
