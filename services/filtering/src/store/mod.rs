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
