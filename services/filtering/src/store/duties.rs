//! The DfE duties: each change's stream (`filter-change-<id>`) and the `filter_changes` row kept in
//! step with it; a school's checks, reviews and named roles, each on the school's stream and in its
//! table (migrations/2004_duties.sql).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool, Row};
use trustsafe_events::filtering::duties::{
    DutyRolesNamed, FilterChangeProposed, FilterCheckLogged, FilteringReviewRecorded, RoleHolders,
};
use trustsafe_eventstore::{AppendContext, AppendError, EventStore, ExpectedVersion, NewEvent, StoreError};
use uuid::Uuid;

use crate::domain::changes::{Change, ChangeState};

fn change_stream(id: Uuid) -> String {
    format!("filter-change-{id}")
}

fn state_text(state: ChangeState) -> &'static str {
    match state {
        ChangeState::Proposed => "proposed",
        ChangeState::Assessed => "assessed",
        ChangeState::Approved => "approved",
        ChangeState::Rejected => "rejected",
        ChangeState::Applied => "applied",
    }
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("a record serialises")
}

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|err| StoreError::Corrupt(err.to_string()))
}

/// A change as the table holds it.
#[derive(Clone, Debug)]
pub struct StoredChange {
    pub change: Change,
    pub version: i64,
}

/// Starts a change's stream with its proposal, and its row, inside `tx` (a breach triaged as
/// over-blocking proposes one in its own transaction).
pub(super) async fn insert_change(
    events: &EventStore,
    tx: &mut PgConnection,
    context: &AppendContext,
    school_id: &str,
    proposed: &FilterChangeProposed,
    change: &Change,
) -> Result<(), AppendError> {
    let appended = events
        .append_in(
            tx,
            &change_stream(change.change_id),
            ExpectedVersion::NoStream,
            context,
            &[NewEvent::new(proposed, change.proposed.at)],
        )
        .await?;
    sqlx::query(
        "INSERT INTO filter_changes (change_id, school_id, state, proposed_at, change, version)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(change.change_id)
    .bind(school_id)
    .bind(state_text(change.state()))
    .bind(change.proposed.at)
    .bind(json(change))
    .bind(appended.last_version)
    .execute(tx)
    .await
    .map_err(StoreError::from)?;
    Ok(())
}

#[derive(Clone)]
pub struct DutyStore {
    events: EventStore,
}

impl DutyStore {
    pub fn new(events: EventStore) -> Self {
        Self { events }
    }

    fn pool(&self) -> &PgPool {
        self.events.pool()
    }

    pub async fn propose(
        &self,
        context: &AppendContext,
        school_id: &str,
        proposed: &FilterChangeProposed,
        change: &Change,
    ) -> Result<(), AppendError> {
        let mut tx = self.pool().begin().await.map_err(StoreError::from)?;
        insert_change(&self.events, &mut tx, context, school_id, proposed, change).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Appends a step at `version` and keeps the row in step with `change` after it.
    pub async fn save_change(
        &self,
        context: &AppendContext,
        version: i64,
        change: &Change,
        event: NewEvent,
    ) -> Result<(), AppendError> {
        let mut tx = self.pool().begin().await.map_err(StoreError::from)?;
        let appended = self
            .events
            .append_in(
                &mut tx,
                &change_stream(change.change_id),
                ExpectedVersion::Exactly(version),
                context,
                &[event],
            )
            .await?;
        sqlx::query(
            "UPDATE filter_changes SET state = $2, applied_at = $3, change = $4, version = $5
              WHERE change_id = $1",
        )
        .bind(change.change_id)
        .bind(state_text(change.state()))
        .bind(change.applied.as_ref().map(|applied| applied.at))
        .bind(json(change))
        .bind(appended.last_version)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn change(&self, school_id: &str, id: Uuid) -> Result<Option<StoredChange>, StoreError> {
        let row =
            sqlx::query("SELECT change, version FROM filter_changes WHERE school_id = $1 AND change_id = $2")
                .bind(school_id)
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.map(|row| {
            Ok(StoredChange {
                change: from_json(row.try_get("change")?)?,
                version: row.try_get("version")?,
            })
        })
        .transpose()
    }

    /// The school's changes, newest first; only those in `state` when given.
    pub async fn changes(
        &self,
        school_id: &str,
        state: Option<ChangeState>,
        limit: i64,
    ) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT change FROM filter_changes WHERE school_id = $1 AND ($2::text IS NULL OR state = $2)
              ORDER BY proposed_at DESC, change_id DESC LIMIT $3",
        )
        .bind(school_id)
        .bind(state.map(state_text))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| from_json(row.try_get("change")?))
            .collect()
    }

    pub async fn log_check(
        &self,
        context: &AppendContext,
        school_id: &str,
        check: &FilterCheckLogged,
        now: DateTime<Utc>,
    ) -> Result<(), AppendError> {
        let mut tx = super::begin_with(
            &self.events,
            &format!("filter-checks-{school_id}"),
            context,
            check,
            now,
        )
        .await?;
        sqlx::query(
            "INSERT INTO filter_checks (check_id, school_id, checked_at, logged_at, record)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(check.check_id)
        .bind(school_id)
        .bind(check.checked_at)
        .bind(now)
        .bind(json(check))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// The school's checks, latest first; only those among `ids` when given.
    pub async fn checks(
        &self,
        school_id: &str,
        ids: Option<&[Uuid]>,
        limit: i64,
    ) -> Result<Vec<FilterCheckLogged>, StoreError> {
        let rows = sqlx::query(
            "SELECT record FROM filter_checks WHERE school_id = $1 AND ($2::uuid[] IS NULL OR check_id = ANY($2))
              ORDER BY checked_at DESC, check_id DESC LIMIT $3",
        )
        .bind(school_id)
        .bind(ids)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| from_json(row.try_get("record")?))
            .collect()
    }

    /// The changes with these ids, oldest first.
    pub async fn changes_among(&self, school_id: &str, ids: &[Uuid]) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT change FROM filter_changes WHERE school_id = $1 AND change_id = ANY($2)
              ORDER BY proposed_at, change_id",
        )
        .bind(school_id)
        .bind(ids)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| from_json(row.try_get("change")?))
            .collect()
    }

    /// What a review on `reviewed_on` considers: the checks logged and changes applied after the
    /// previous review's day, up to the end of `reviewed_on`.
    pub async fn since_last_review(
        &self,
        school_id: &str,
        reviewed_on: NaiveDate,
    ) -> Result<(Vec<Uuid>, Vec<Uuid>), StoreError> {
        let previous: Option<NaiveDate> = sqlx::query_scalar(
            "SELECT max(reviewed_on) FROM filter_reviews WHERE school_id = $1 AND reviewed_on < $2",
        )
        .bind(school_id)
        .bind(reviewed_on)
        .fetch_one(self.pool())
        .await?;
        let checks = sqlx::query_scalar(
            "SELECT check_id FROM filter_checks WHERE school_id = $1
                AND ($2::date IS NULL OR checked_at >= ($2::date + 1)::timestamp AT TIME ZONE 'UTC')
                AND checked_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'
              ORDER BY checked_at, check_id",
        )
        .bind(school_id)
        .bind(previous)
        .bind(reviewed_on)
        .fetch_all(self.pool())
        .await?;
        let changes = sqlx::query_scalar(
            "SELECT change_id FROM filter_changes WHERE school_id = $1 AND applied_at IS NOT NULL
                AND ($2::date IS NULL OR applied_at >= ($2::date + 1)::timestamp AT TIME ZONE 'UTC')
                AND applied_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'
              ORDER BY applied_at, change_id",
        )
        .bind(school_id)
        .bind(previous)
        .bind(reviewed_on)
        .fetch_all(self.pool())
        .await?;
        Ok((checks, changes))
    }

    pub async fn record_review(
        &self,
        context: &AppendContext,
        school_id: &str,
        review: &FilteringReviewRecorded,
        now: DateTime<Utc>,
    ) -> Result<(), AppendError> {
        let mut tx = super::begin_with(
            &self.events,
            &format!("filter-reviews-{school_id}"),
            context,
            review,
            now,
        )
        .await?;
        sqlx::query(
            "INSERT INTO filter_reviews (review_id, school_id, reviewed_on, next_review_by, recorded_at, record)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(review.review_id)
        .bind(school_id)
        .bind(review.reviewed_on)
        .bind(review.next_review_by)
        .bind(now)
        .bind(json(review))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// The school's reviews, latest first; the one with `id` alone when given.
    pub async fn reviews(
        &self,
        school_id: &str,
        id: Option<Uuid>,
    ) -> Result<Vec<FilteringReviewRecorded>, StoreError> {
        let rows = sqlx::query(
            "SELECT record FROM filter_reviews WHERE school_id = $1 AND ($2::uuid IS NULL OR review_id = $2)
              ORDER BY reviewed_on DESC, recorded_at DESC",
        )
        .bind(school_id)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| from_json(row.try_get("record")?))
            .collect()
    }

    pub async fn name_roles(
        &self,
        context: &AppendContext,
        school_id: &str,
        named: &DutyRolesNamed,
        now: DateTime<Utc>,
    ) -> Result<(), AppendError> {
        let mut tx = super::begin_with(
            &self.events,
            &format!("duty-roles-{school_id}"),
            context,
            named,
            now,
        )
        .await?;
        sqlx::query(
            "INSERT INTO duty_roles (school_id, holders, named_at) VALUES ($1, $2, $3)
             ON CONFLICT (school_id) DO UPDATE SET holders = EXCLUDED.holders, named_at = EXCLUDED.named_at",
        )
        .bind(school_id)
        .bind(json(&named.restricted.clone().unwrap_or_default()))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Who holds the roles and since when; nobody before they are first named.
    pub async fn roles(&self, school_id: &str) -> Result<Option<(RoleHolders, DateTime<Utc>)>, StoreError> {
        let row = sqlx::query("SELECT holders, named_at FROM duty_roles WHERE school_id = $1")
            .bind(school_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| Ok((from_json(row.try_get("holders")?)?, row.try_get("named_at")?)))
            .transpose()
    }
}
