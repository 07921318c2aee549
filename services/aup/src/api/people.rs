//! `/api/v1/schools/{school_id}/people`: the roster, synced by the MIS and read by the school.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use serde::Deserialize;
use trustsafe_events::aup::RosterKind;
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::query::query;
use uuid::Uuid;

use super::views::{PeoplePage, PersonChange, RosterBatchDocument, RosterPersonView, SyncAnswer, history};
use super::{BODY_LIMIT, body, path_id};
use crate::app::roster::{MisScope, ReaderScope, Roster, RosterBatch};
use crate::domain::people::{YearGroupInput, year_group};
use crate::store::PeopleFilter;

/// The most records one call may carry: a large secondary's pupils and parents fit with room over.
pub const MAX_RECORDS: usize = 20_000;

/// Syncs the school's roster from its MIS (the `mis` scope): a whole roster or a delta, in one call or
/// in pages. Each record is checked on its own and answered on its own: 200 when every record was
/// taken, 207 when some were refused (the rest are kept). The same batch twice changes nothing.
#[utoipa::path(operation_id = "sync_people", tag = "people",
    params(("school_id" = String, Path)),
    request_body(content = RosterBatchDocument),
    responses(
        (status = 200, description = "Every record taken", body = SyncAnswer),
        (status = 207, description = "Some records refused, each with its errors; the others taken", body = SyncAnswer),
        (status = 400, description = "Not a batch at all (malformed JSON, `people` not a list)", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "More than 20,000 records or 16 MiB: send pages", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[put("/api/v1/schools/{school_id}/people")]
pub async fn sync(
    req: HttpRequest,
    scope: MisScope,
    payload: web::Payload,
    roster: web::Data<Roster>,
) -> Result<HttpResponse, Problem> {
    let batch: RosterBatchDocument = body(&req, payload, BODY_LIMIT).await?;
    let (people, removals) = (
        batch.people.unwrap_or_default(),
        batch.removals.unwrap_or_default(),
    );
    if people.len() + removals.len() > MAX_RECORDS {
        return Err(Problem::new(
            Kind::PayloadTooLarge,
            format!("A batch carries at most {MAX_RECORDS} records; send the roster in pages."),
        ));
    }
    let report = roster
        .sync(
            &scope,
            RosterBatch {
                as_of: batch.as_of,
                people,
                removals,
            },
        )
        .await?;
    let answer = SyncAnswer::from(report);
    let status = if answer.counts.rejected > 0 {
        StatusCode::MULTI_STATUS
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleQuery {
    kind: Option<RosterKind>,
    year_group: Option<String>,
    /// Part of a name.
    name: Option<String>,
    #[serde(default)]
    include_removed: bool,
    cursor: Option<Uuid>,
    limit: Option<i64>,
}

const PEOPLE_QUERY: &str = " Use kind (pupil, staff, parent), year_group (R, 7, Year 7), name, include_removed, cursor and limit (1 to 200).";

/// The school's people in name order, as much of each as the caller may read (staff: names; the
/// technician: accounts too; the DSL, deputies and headteacher: everything). Removed people are left
/// out unless `include_removed`.
#[utoipa::path(operation_id = "list_people", tag = "people",
    params(("school_id" = String, Path),
           ("kind" = Option<String>, Query, description = "pupil, staff or parent"),
           ("year_group" = Option<String>, Query, description = "N1, N2, R, 1–14"),
           ("name" = Option<String>, Query, description = "Part of a surname or forename"),
           ("include_removed" = Option<bool>, Query),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
           ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses(
        (status = 200, description = "A page of people", body = PeoplePage),
        (status = 400, description = "A malformed query", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/people")]
pub async fn list(
    req: HttpRequest,
    scope: ReaderScope,
    roster: web::Data<Roster>,
) -> Result<HttpResponse, Problem> {
    let asked: PeopleQuery = query(&req, PEOPLE_QUERY)?;
    let limit = asked.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(
            Problem::new(Kind::Validation, "limit is from 1 to 200.").with_error("limit", "is from 1 to 200")
        );
    }
    let year_group = match asked.year_group {
        None => None,
        Some(text) => Some(year_group(&YearGroupInput::Text(text)).ok_or_else(|| {
            Problem::new(
                Kind::Validation,
                format!("year_group is not a year group.{PEOPLE_QUERY}"),
            )
            .with_error("year_group", "is not a year group")
        })?),
    };
    let filter = PeopleFilter {
        kind: asked.kind,
        year_group,
        name: match asked.name.filter(|name| !name.trim().is_empty()) {
            Some(name) if name.contains('\0') || name.chars().count() > 100 => {
                return Err(
                    Problem::new(Kind::Validation, "name is at most 100 characters, without NUL.")
                        .with_error("name", "is at most 100 characters, without NUL"),
                );
            }
            name => name,
        },
        include_removed: asked.include_removed,
        after: asked.cursor,
        limit,
    };
    let (view, people) = roster.list(&scope, &filter).await?;
    let next_cursor = (people.len() as i64 == limit)
        .then(|| people.last().map(|person| person.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(PeoplePage {
        people: people
            .into_iter()
            .map(|person| RosterPersonView::of(person, view))
            .collect(),
        next_cursor,
    }))
}

/// One person, as much as the caller may read; the ETag is their record's version.
#[utoipa::path(operation_id = "get_person", tag = "people",
    params(("school_id" = String, Path), ("person_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The person", body = RosterPersonView, headers(("ETag" = String))),
        (status = 404, description = "No such person at this school, or not the caller's to read", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/people/{person_id}")]
pub async fn get(
    scope: ReaderScope,
    path: web::Path<(String, String)>,
    roster: web::Data<Roster>,
) -> Result<HttpResponse, Problem> {
    let id = path_id(&path.1)?;
    let (view, person) = roster.person(&scope, id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", person.version)))
        .json(RosterPersonView::of(person, view)))
}

/// What changed in a person's record and when (the DSL, deputies and the headteacher).
#[utoipa::path(operation_id = "person_history", tag = "people",
    params(("school_id" = String, Path), ("person_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Oldest first", body = Vec<PersonChange>),
        (status = 403, description = "The caller may read the person but not their history", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such person at this school", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/people/{person_id}/history")]
pub async fn person_history(
    scope: ReaderScope,
    path: web::Path<(String, String)>,
    roster: web::Data<Roster>,
) -> Result<HttpResponse, Problem> {
    let id = path_id(&path.1)?;
    let envelopes = roster.history(&scope, id).await?;
    Ok(HttpResponse::Ok().json(history(&envelopes)))
}
