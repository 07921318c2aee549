//! The aup service's persistence: streams in the event store and the tables kept in step with them
//! in the same transaction (see `migrations/`).

mod access;
mod people;
mod policies;

pub use access::{AccessStore, GrantRow, LoanRow};
pub use people::{PeopleFilter, PeopleStore, Saved, StoredPerson, mis_id_of};
pub use policies::{PolicyStore, StoredAgreement};

/// Creates or upgrades the service's own tables (the event store's are migrated by the host).
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), trustsafe_eventstore::StoreError> {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator.run(pool).await?;
    Ok(())
}
