//! `/api/v1/schools/{school_id}/breaches` and the filter's hourly figures: read by the school's
//! safeguarding leads (and the trust's) and its technician.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use trustsafe_events::aup::RosterKind;
use trustsafe_events::filtering::{BreachAction, BreachSource, Verdict};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::query::query;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::breaches::{Breaches, ReaderScope};
use crate::store::{BreachFilter, StoredBreach};

/// A breach, whole: who, where and what.
#[derive(Serialize, ToSchema)]
pub struct BreachView {
    pub id: Uuid,
    /// log, alert or report
    #[schema(value_type = String, example = "log")]
    pub source: BreachSource,
    pub feed: Option<String>,
    pub category: String,
    pub severity: u8,
    pub vendor_category: Option<String>,
    pub vendor_severity: Option<String>,
    /// blocked or flagged
    #[schema(value_type = String, example = "blocked")]
    pub action: BreachAction,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub count: u32,
    /// The account as the filter logged it.
    pub user: Option<String>,
    /// The roster's person, once their account is known.
    pub person_id: Option<Uuid>,
    /// pupil, staff or parent
    #[schema(value_type = Option<String>)]
    pub person_kind: Option<RosterKind>,
    pub year_group: Option<i8>,
    pub client: Option<String>,
    pub host: String,
    /// The start of the host's key, as the trust lead's cross-school patterns name it.
    pub pattern_reference: Option<String>,
    pub url: String,
    pub context: Option<String>,
    /// Escalated to a concern (at once at severity 4 or more).
    pub escalated: bool,
    /// open (not yet triaged), triaged or resolved.
    #[schema(example = "open")]
    pub status: String,
    /// genuine, false_positive or over_blocking, once triaged.
    #[schema(value_type = Option<String>)]
    pub verdict: Option<Verdict>,
    pub triage_due: DateTime<Utc>,
    /// When the parents or carers of the pupil involved are to be told by (a genuine breach by a pupil).
    pub parents_due: Option<DateTime<Utc>>,
    pub parents_informed_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The steps past their deadline now: `triage`, `parents_informed`.
    pub overdue: Vec<String>,
}

impl BreachView {
    /// The breach as it stands at `now`.
    pub fn of(stored: StoredBreach, now: DateTime<Utc>) -> Self {
        let life = stored.life;
        let record = stored.record;
        let details = record.restricted.unwrap_or_default();
        Self {
            id: stored.id,
            source: record.source,
            feed: record.feed,
            category: record.category,
            severity: record.severity,
            vendor_category: record.vendor_category,
            vendor_severity: record.vendor_severity,
            action: record.action,
            first_seen: record.first_seen,
            last_seen: record.last_seen,
            count: record.count,
            user: details.user,
            person_id: details.person_id,
            person_kind: record.involved.map(|involved| involved.kind),
            year_group: record.involved.and_then(|involved| involved.year_group),
            client: details.client,
            host: details.host,
            pattern_reference: record.host_key.map(|key| key.chars().take(12).collect()),
            url: details.url,
            context: details.context,
            escalated: life.escalated,
            status: match (life.resolved_at, life.verdict) {
                (Some(_), _) => "resolved",
                (None, Some(_)) => "triaged",
                (None, None) => "open",
            }
            .into(),
            verdict: life.verdict,
            triage_due: life.triage_due,
            parents_due: life.parents_due,
            parents_informed_at: life.parents_informed_at,
            resolved_at: life.resolved_at,
            overdue: life.overdue(now).into_iter().map(str::to_owned).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BreachPage {
    pub breaches: Vec<BreachView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BreachQuery {
    category: Option<String>,
    #[serde(default)]
    overdue: bool,
    #[serde(default)]
    include_resolved: bool,
    min_severity: Option<u8>,
    cursor: Option<String>,
    limit: Option<i64>,
}

const BREACH_QUERY: &str =
    " Use category, min_severity (1 to 5), overdue, include_resolved, cursor and limit (1 to 200).";

fn invalid(field: &str, message: &str) -> Problem {
    Problem::new(Kind::Validation, format!("{field} {message}.{BREACH_QUERY}")).with_error(field, message)
}

/// A cursor is the last breach's first sighting and id: `<rfc3339>_<uuid>`.
fn cursor_of(breach: &BreachView) -> String {
    format!("{}_{}", breach.first_seen.to_rfc3339(), breach.id)
}

fn parse_cursor(text: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (time, id) = text.rsplit_once('_')?;
    Some((
        DateTime::parse_from_rfc3339(time).ok()?.to_utc(),
        id.parse().ok()?,
    ))
}

/// The school's breaches, newest first; resolved ones only with `include_resolved`.
#[utoipa::path(operation_id = "list_breaches", tag = "filtering",
    params(("school_id" = String, Path),
           ("category" = Option<String>, Query, description = "A normalised category"),
           ("min_severity" = Option<u8>, Query, description = "1 to 5"),
           ("overdue" = Option<bool>, Query, description = "Only those past a deadline"),
           ("include_resolved" = Option<bool>, Query),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
           ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses(
        (status = 200, description = "A page of breaches", body = BreachPage),
        (status = 400, description = "A malformed query", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/breaches")]
pub async fn list(
    req: HttpRequest,
    scope: ReaderScope,
    breaches: web::Data<Breaches>,
) -> Result<HttpResponse, Problem> {
    let asked: BreachQuery = query(&req, BREACH_QUERY)?;
    let limit = asked.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(invalid("limit", "is from 1 to 200"));
    }
    if asked
        .min_severity
        .is_some_and(|severity| !(1..=5).contains(&severity))
    {
        return Err(invalid("min_severity", "is from 1 to 5"));
    }
    if asked
        .category
        .as_ref()
        .is_some_and(|category| category.len() > 40 || category.contains('\0'))
    {
        return Err(invalid("category", "is at most 40 characters, without NUL"));
    }
    let before = match asked.cursor.as_deref() {
        None => None,
        Some(text) => {
            Some(parse_cursor(text).ok_or_else(|| invalid("cursor", "is not a cursor this list gave"))?)
        }
    };
    let now = Utc::now();
    let filter = BreachFilter {
        category: asked.category,
        overdue_at: asked.overdue.then_some(now),
        include_resolved: asked.include_resolved,
        min_severity: asked.min_severity,
        before,
        limit,
    };
    let found: Vec<BreachView> = breaches
        .list(&scope, &filter)
        .await?
        .into_iter()
        .map(|breach| BreachView::of(breach, now))
        .collect();
    let next_cursor = (found.len() as i64 == limit)
        .then(|| found.last().map(cursor_of))
        .flatten();
    Ok(HttpResponse::Ok().json(BreachPage {
        breaches: found,
        next_cursor,
    }))
}

/// One breach.
#[utoipa::path(operation_id = "get_breach", tag = "filtering",
    params(("school_id" = String, Path), ("breach_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The breach", body = BreachView),
        (status = 404, description = "No such breach at this school, or not the caller's to read", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/breaches/{breach_id}")]
pub async fn get(
    scope: ReaderScope,
    path: web::Path<(String, String)>,
    breaches: web::Data<Breaches>,
) -> Result<HttpResponse, Problem> {
    let id: Uuid = path.1.parse().map_err(|_| Problem::not_found())?;
    Ok(HttpResponse::Ok().json(BreachView::of(breaches.get(&scope, id).await?, Utc::now())))
}

/// Requests in one hour, category and action.
#[derive(Serialize, ToSchema)]
pub struct HourCount {
    pub hour: DateTime<Utc>,
    pub category: String,
    pub action: String,
    pub requests: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursQuery {
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
}

/// Every request the school's filter logged, by hour, category and action: the filter at work.
#[utoipa::path(operation_id = "filter_hours", tag = "filtering",
    params(("school_id" = String, Path),
           ("from" = DateTime<Utc>, Query, description = "The first hour"),
           ("to" = Option<DateTime<Utc>>, Query, description = "Up to (not including); at most 93 days after from, default 24 hours")),
    responses(
        (status = 200, description = "Hourly counts, oldest first", body = Vec<HourCount>),
        (status = 400, description = "A malformed query or a span over 93 days", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/schools/{school_id}/filtering/hours")]
pub async fn hours(
    req: HttpRequest,
    scope: ReaderScope,
    breaches: web::Data<Breaches>,
) -> Result<HttpResponse, Problem> {
    const HINT: &str = " Use from and to, RFC 3339 times at most 93 days apart.";
    let asked: HoursQuery = query(&req, HINT)?;
    let to = asked.to.unwrap_or(asked.from + Duration::hours(24));
    if to <= asked.from || to - asked.from > Duration::days(93) {
        return Err(Problem::new(
            Kind::Validation,
            format!("to is after from, by at most 93 days.{HINT}"),
        )
        .with_error("to", "is after from, by at most 93 days"));
    }
    let rows = breaches.hours(&scope, asked.from, to).await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|(hour, category, action, requests)| HourCount {
                hour,
                category,
                action,
                requests,
            })
            .collect::<Vec<_>>(),
    ))
}
