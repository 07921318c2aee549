//! The roster as the incident service knows it (migrations/1003_roster.sql): one write per event, in
//! the consumer kit's transaction, and the kinds of the people a report names by roster id.

use std::collections::HashMap;

use sqlx::PgConnection;
use trustsafe_events::aup::RosterKind;
use trustsafe_events::incident::PersonKind;
use uuid::Uuid;

fn kind_text(kind: RosterKind) -> &'static str {
    match kind {
        RosterKind::Pupil => "pupil",
        RosterKind::Staff => "staff",
        RosterKind::Parent => "parent",
    }
}

fn person_kind(text: &str) -> Option<PersonKind> {
    match text {
        "pupil" => Some(PersonKind::Pupil),
        "staff" => Some(PersonKind::Staff),
        "parent" => Some(PersonKind::Parent),
        _ => None,
    }
}

/// A person joined a school's roster or their record changed (back on it, if they had left).
pub async fn recorded(
    tx: &mut PgConnection,
    person_id: Uuid,
    school_id: &str,
    kind: RosterKind,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO roster (person_id, school_id, kind) VALUES ($1, $2, $3)
         ON CONFLICT (person_id) DO UPDATE SET school_id = $2, kind = $3, removed = false",
    )
    .bind(person_id)
    .bind(school_id)
    .bind(kind_text(kind))
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn removed(tx: &mut PgConnection, person_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE roster SET removed = true WHERE person_id = $1")
        .bind(person_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// The roster's tables.
pub const TABLES: &[&str] = &["roster"];

/// The kinds of those of `ids` on `school_id`'s roster now.
pub async fn kinds(
    conn: &mut PgConnection,
    school_id: &str,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, PersonKind>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT person_id, kind FROM roster WHERE school_id = $1 AND person_id = ANY($2) AND NOT removed",
    )
    .bind(school_id)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind)| Some((id, person_kind(&kind)?)))
        .collect())
}
