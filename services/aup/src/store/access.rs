//! Access grants, device loans and visitors: their streams and tables (migrations/1003_access.sql).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use trustsafe_events::aup::{AccessGranted, AccessRevoked, DeviceLent, DeviceReturned, VisitorAgreed};
use trustsafe_eventstore::{AppendContext, AppendError, EventStore, ExpectedVersion, NewEvent, StoreError};
use uuid::Uuid;

/// A grant as the record of access shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct GrantRow {
    pub grant_id: Uuid,
    pub person_id: Uuid,
    pub system: String,
    pub granted_at: DateTime<Utc>,
    pub granted_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// A loan, out or back.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LoanRow {
    pub loan_id: Uuid,
    pub device: String,
    pub person_id: Uuid,
    pub lent_at: DateTime<Utc>,
    pub lent_by: String,
    pub returned_at: Option<DateTime<Utc>>,
    pub returned_by: Option<String>,
}

#[derive(Clone)]
pub struct AccessStore {
    events: EventStore,
}

impl AccessStore {
    pub fn new(events: EventStore) -> Self {
        Self { events }
    }

    pub fn pool(&self) -> &PgPool {
        self.events.pool()
    }

    async fn first(
        &self,
        tx: &mut PgConnection,
        stream: String,
        context: &AppendContext,
        event: NewEvent,
    ) -> Result<(), AppendError> {
        self.events
            .append_in(tx, &stream, ExpectedVersion::NoStream, context, &[event])
            .await
            .map(|_| ())
    }

    async fn second(
        &self,
        tx: &mut PgConnection,
        stream: String,
        context: &AppendContext,
        event: NewEvent,
    ) -> Result<(), AppendError> {
        self.events
            .append_in(tx, &stream, ExpectedVersion::Exactly(1), context, &[event])
            .await
            .map(|_| ())
    }

    pub async fn grant(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        granted: &AccessGranted,
        granted_by: &str,
    ) -> Result<(), AppendError> {
        let event = NewEvent::new(granted, granted.granted_at);
        self.first(tx, format!("grant-{}", granted.grant_id), context, event)
            .await?;
        sqlx::query(
            "INSERT INTO access_grants (grant_id, school_id, person_id, system, granted_at, granted_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(granted.grant_id)
        .bind(&context.school_id)
        .bind(granted.person_id)
        .bind(&granted.system)
        .bind(granted.granted_at)
        .bind(granted_by)
        .execute(tx)
        .await
        .map_err(StoreError::from)?;
        Ok(())
    }

    /// The school's grant `id`, taken for update.
    pub async fn grant_of(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        id: Uuid,
    ) -> Result<Option<GrantRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT grant_id, person_id, system, granted_at, granted_by, revoked_at, revoked_by
               FROM access_grants WHERE school_id = $1 AND grant_id = $2 FOR UPDATE",
        )
        .bind(school_id)
        .bind(id)
        .fetch_optional(tx)
        .await?)
    }

    pub async fn revoke(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        revoked: &AccessRevoked,
        revoked_by: &str,
    ) -> Result<(), AppendError> {
        let event = NewEvent::new(revoked, revoked.revoked_at);
        self.second(tx, format!("grant-{}", revoked.grant_id), context, event)
            .await?;
        sqlx::query("UPDATE access_grants SET revoked_at = $2, revoked_by = $3 WHERE grant_id = $1")
            .bind(revoked.grant_id)
            .bind(revoked.revoked_at)
            .bind(revoked_by)
            .execute(tx)
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }

    /// Every grant of the school, oldest first.
    pub async fn grants(&self, school_id: &str) -> Result<Vec<GrantRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT grant_id, person_id, system, granted_at, granted_by, revoked_at, revoked_by
               FROM access_grants WHERE school_id = $1 ORDER BY granted_at, grant_id",
        )
        .bind(school_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Lends a device; a device already out is refused by the table's one-out index
    /// (`AppendError::Store(StoreError::Unique)`), so two lenders at one moment cannot both win.
    pub async fn lend(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        lent: &DeviceLent,
        lent_by: &str,
    ) -> Result<(), AppendError> {
        sqlx::query(
            "INSERT INTO device_loans (loan_id, school_id, device, person_id, lent_at, lent_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(lent.loan_id)
        .bind(&context.school_id)
        .bind(&lent.device)
        .bind(lent.person_id)
        .bind(lent.lent_at)
        .bind(lent_by)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        let event = NewEvent::new(lent, lent.lent_at);
        self.first(tx, format!("loan-{}", lent.loan_id), context, event)
            .await
    }

    /// The loan of `device` that is out now, taken for update.
    pub async fn out(
        &self,
        tx: &mut PgConnection,
        school_id: &str,
        device: &str,
    ) -> Result<Option<LoanRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT loan_id, device, person_id, lent_at, lent_by, returned_at, returned_by
               FROM device_loans WHERE school_id = $1 AND device = $2 AND returned_at IS NULL FOR UPDATE",
        )
        .bind(school_id)
        .bind(device)
        .fetch_optional(tx)
        .await?)
    }

    pub async fn give_back(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        returned: &DeviceReturned,
        returned_by: &str,
    ) -> Result<(), AppendError> {
        let event = NewEvent::new(returned, returned.returned_at);
        self.second(tx, format!("loan-{}", returned.loan_id), context, event)
            .await?;
        sqlx::query("UPDATE device_loans SET returned_at = $2, returned_by = $3 WHERE loan_id = $1")
            .bind(returned.loan_id)
            .bind(returned.returned_at)
            .bind(returned_by)
            .execute(tx)
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }

    /// Loans of the school, newest first: of one device, or those out now.
    pub async fn loans(&self, school_id: &str, device: Option<&str>) -> Result<Vec<LoanRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT loan_id, device, person_id, lent_at, lent_by, returned_at, returned_by
               FROM device_loans
              WHERE school_id = $1 AND (device = $2 OR ($2 IS NULL AND returned_at IS NULL))
              ORDER BY lent_at DESC, loan_id DESC",
        )
        .bind(school_id)
        .bind(device)
        .fetch_all(self.pool())
        .await?)
    }

    /// Records a visitor and their code's hash. A code already issued, ever, is a unique violation:
    /// the caller draws another.
    pub async fn visitor(
        &self,
        tx: &mut PgConnection,
        context: &AppendContext,
        agreed: &VisitorAgreed,
        code_hash: &str,
        recorded_by: &str,
    ) -> Result<(), AppendError> {
        sqlx::query(
            "INSERT INTO visitors (visitor_id, school_id, record, code_hash, expires_at, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(agreed.visitor_id)
        .bind(&context.school_id)
        .bind(serde_json::to_value(agreed).map_err(|err| StoreError::Corrupt(err.to_string()))?)
        .bind(code_hash)
        .bind(agreed.wifi_code_expires_at)
        .bind(recorded_by)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        let event = NewEvent::new(agreed, agreed.agreed_at);
        self.first(tx, format!("visitor-{}", agreed.visitor_id), context, event)
            .await
    }

    /// When the school's code with this hash stops working; None for a code it never issued.
    pub async fn code_expiry(
        &self,
        school_id: &str,
        code_hash: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT expires_at FROM visitors WHERE school_id = $1 AND code_hash = $2")
                .bind(school_id)
                .bind(code_hash)
                .fetch_optional(self.pool())
                .await?,
        )
    }
}
