//! The trust's and the schools' dashboards and the trust's pseudonymised case list. Figures only:
//! this service holds no names and no narrative. Governors see counts from 1 to 4 as "<5".

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use trustsafe_auth::{Caller, SchoolRole, TrustRole};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::Tenancy;
use utoipa::{OpenApi, ToSchema};

use crate::store::{self, AGE_BANDS, Figures};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/trusts/{trust_id}/dashboard",
        web::get().to(trust_dashboard),
    )
    .route("/api/v1/trusts/{trust_id}/cases", web::get().to(cases))
    .route(
        "/api/v1/schools/{school_id}/dashboard",
        web::get().to(school_dashboard),
    );
}

#[derive(OpenApi)]
#[openapi(
    paths(trust_dashboard, school_dashboard, cases),
    components(schemas(trustsafe_problem::ProblemDocument)),
    tags((name = "reporting", description = "Figures across a trust's schools, and its pseudonymised case list"))
)]
pub struct ReportingApi;

/// A count, or `"<5"` where a governor would otherwise see 1 to 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Exact(i64),
    Suppressed,
}

impl Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Exact(n) => serializer.serialize_i64(*n),
            Count::Suppressed => serializer.serialize_str("<5"),
        }
    }
}

/// Whether small counts are shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    Exact,
    /// Governors: 1 to 4 is "<5", so no child can be singled out.
    SmallCountsSuppressed,
}

impl Detail {
    fn count(self, n: i64) -> Count {
        match self {
            Detail::SmallCountsSuppressed if (1..5).contains(&n) => Count::Suppressed,
            _ => Count::Exact(n),
        }
    }

    fn counts(self, counts: &BTreeMap<String, i64>) -> BTreeMap<String, Count> {
        counts
            .iter()
            .map(|(key, n)| (key.clone(), self.count(*n)))
            .collect()
    }
}

#[derive(Serialize, ToSchema)]
pub struct FiguresView {
    /// Concerns reported in the period, by category.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub concerns_by_category: BTreeMap<String, Count>,
    /// Concerns reported, by month (YYYY-MM, UTC).
    #[schema(value_type = BTreeMap<String, Object>)]
    pub opened_by_month: BTreeMap<String, Count>,
    /// Concerns closed, by month.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub closed_by_month: BTreeMap<String, Count>,
    /// Open concerns now, by days since reported: 0_7_days, 8_30_days, 31_90_days, over_90_days.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub open_by_age: BTreeMap<String, Count>,
    /// Concerns not acknowledged by their deadline, now.
    #[schema(value_type = Object)]
    pub overdue_acknowledgements: Count,
    /// Required steps past their deadline on open concerns, now.
    #[schema(value_type = Object)]
    pub overdue_steps: Count,
    /// Of the concerns reported in the period and acknowledged; none if none were.
    pub median_minutes_to_acknowledge: Option<f64>,
}

impl FiguresView {
    fn new(figures: &Figures, detail: Detail) -> Self {
        let mut open_by_age = detail.counts(&figures.open_by_age);
        for band in AGE_BANDS {
            open_by_age.entry(band.to_owned()).or_insert(Count::Exact(0));
        }
        Self {
            concerns_by_category: detail.counts(&figures.concerns_by_category),
            opened_by_month: detail.counts(&figures.opened_by_month),
            closed_by_month: detail.counts(&figures.closed_by_month),
            open_by_age,
            overdue_acknowledgements: detail.count(figures.overdue_acknowledgements),
            overdue_steps: detail.count(figures.overdue_steps),
            median_minutes_to_acknowledge: figures.median_minutes_to_acknowledge,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SchoolFigures {
    pub school_id: String,
    pub name: String,
    pub figures: FiguresView,
}

#[derive(Serialize, ToSchema)]
pub struct DashboardView {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    pub generated_at: DateTime<Utc>,
    /// True for governors: counts from 1 to 4 read "<5".
    pub small_counts_suppressed: bool,
    pub schools: Vec<SchoolFigures>,
    pub total: FiguresView,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// `from` and `to` (inclusive dates); by default the twelve months to today.
fn period(req: &HttpRequest, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), Problem> {
    let query = web::Query::<Period>::from_query(req.query_string()).map_err(|err| {
        Problem::new(
            Kind::Validation,
            format!("The query is malformed: {err}. Dates are YYYY-MM-DD."),
        )
    })?;
    let to = query.to.unwrap_or(today);
    let from = query.from.unwrap_or(to - Duration::days(365));
    if from > to {
        return Err(Problem::new(Kind::Validation, "from is after to.").with_error("from", "after to"));
    }
    Ok((from, to))
}

fn bounds((from, to): (NaiveDate, NaiveDate)) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |date: NaiveDate| date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    (start(from), start(to) + Duration::days(1))
}

fn unavailable(err: sqlx::Error) -> Problem {
    tracing::error!(%err, "reporting store");
    Problem::new(
        Kind::Unavailable,
        "The reporting store is unavailable; try again shortly.",
    )
}

async fn answer(
    pool: &PgPool,
    tenancy: &Tenancy,
    schools: Vec<String>,
    period: (NaiveDate, NaiveDate),
    detail: Detail,
) -> Result<HttpResponse, Problem> {
    let now = Utc::now();
    let dashboard = store::dashboard(pool, &schools, bounds(period), now)
        .await
        .map_err(unavailable)?;
    let schools = schools
        .iter()
        .map(|school_id| SchoolFigures {
            school_id: school_id.clone(),
            name: tenancy
                .school(school_id)
                .map(|(_, school)| school.name.clone())
                .unwrap_or_default(),
            figures: FiguresView::new(&dashboard.schools[school_id], detail),
        })
        .collect();
    Ok(HttpResponse::Ok().json(DashboardView {
        from: period.0,
        to: period.1,
        generated_at: now,
        small_counts_suppressed: detail == Detail::SmallCountsSuppressed,
        schools,
        total: FiguresView::new(&dashboard.total, detail),
    }))
}

/// Every school of the trust and the trust in total, for its safeguarding lead (and, with small counts
/// suppressed, its governors).
#[utoipa::path(get, path = "/api/v1/trusts/{trust_id}/dashboard", operation_id = "get_trust_dashboard", tag = "reporting",
    params(("trust_id" = String, Path), ("from" = Option<String>, Query, description = "YYYY-MM-DD; default a year before to"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD, inclusive; default today")),
    responses((status = 200, description = "The figures", body = DashboardView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
pub async fn trust_dashboard(
    req: HttpRequest,
    caller: Caller,
    trust_id: web::Path<String>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let trust = tenancy.trust(&trust_id).ok_or_else(Problem::not_found)?;
    let detail = if caller.has_trust_role(&trust.id, TrustRole::TrustSafeguardingLead) {
        Detail::Exact
    } else if caller.has_trust_role(&trust.id, TrustRole::TrustGovernor) {
        Detail::SmallCountsSuppressed
    } else {
        return Err(Problem::not_found());
    };
    let period = period(&req, Utc::now().date_naive())?;
    let schools = trust.schools.iter().map(|school| school.id.clone()).collect();
    answer(&pool, &tenancy, schools, period, detail).await
}

/// One school's figures, for its DSL, deputies and headteacher (and its trust's safeguarding lead).
#[utoipa::path(get, path = "/api/v1/schools/{school_id}/dashboard", operation_id = "get_school_dashboard", tag = "reporting",
    params(("school_id" = String, Path), ("from" = Option<String>, Query, description = "YYYY-MM-DD"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD, inclusive")),
    responses((status = 200, description = "The figures", body = DashboardView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
pub async fn school_dashboard(
    req: HttpRequest,
    caller: Caller,
    school_id: web::Path<String>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let (trust, school) = tenancy.school(&school_id).ok_or_else(Problem::not_found)?;
    let leads = [SchoolRole::Dsl, SchoolRole::DeputyDsl, SchoolRole::Headteacher]
        .into_iter()
        .any(|role| caller.has_school_role(&school.id, role));
    if !(leads || caller.has_trust_role(&trust.id, TrustRole::TrustSafeguardingLead)) {
        return Err(Problem::not_found());
    }
    let period = period(&req, Utc::now().date_naive())?;
    answer(&pool, &tenancy, vec![school.id.clone()], period, Detail::Exact).await
}

#[derive(Serialize, ToSchema)]
pub struct CaseView {
    /// Stable per case, and not its id.
    pub pseudonym: String,
    pub school_id: String,
    pub category: String,
    pub status: String,
    pub age_days: i64,
    pub acknowledgement_overdue: bool,
    pub overdue_steps: i64,
    pub escalated: bool,
    /// The case's detail, for an escalated case only.
    pub detail: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseView>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A page ends at a case's report time and pseudonym, never its id.
fn cursor_of(case: &store::Case) -> String {
    format!("{}_{}", case.reported_at.timestamp_micros(), case.pseudonym)
}

fn position_of(cursor: &str) -> Option<(DateTime<Utc>, String)> {
    let (micros, pseudonym) = cursor.split_once('_')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        pseudonym.to_owned(),
    ))
}

/// The trust's concerns, pseudonymised: school, category, status, age and overdue flags; no names,
/// no narrative. An escalated case links to its detail. For the trust safeguarding lead.
#[utoipa::path(get, path = "/api/v1/trusts/{trust_id}/cases", operation_id = "list_trust_cases", tag = "reporting",
    params(("trust_id" = String, Path), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "A page of cases, newest first", body = CasePage),
              (status = 400, description = "A malformed cursor or limit", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
pub async fn cases(
    req: HttpRequest,
    caller: Caller,
    trust_id: web::Path<String>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let trust = tenancy.trust(&trust_id).ok_or_else(Problem::not_found)?;
    if !caller.has_trust_role(&trust.id, TrustRole::TrustSafeguardingLead) {
        return Err(Problem::not_found());
    }
    let query = web::Query::<CaseQuery>::from_query(req.query_string())
        .map_err(|err| Problem::new(Kind::Validation, format!("The query is malformed: {err}.")))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Problem::new(Kind::Validation, "limit is 1 to 200.").with_error("limit", "out of range"));
    }
    let after = query
        .cursor
        .as_deref()
        .map(|cursor| {
            position_of(cursor).ok_or_else(|| {
                Problem::new(Kind::Validation, "The cursor is not one this API gave.")
                    .with_error("cursor", "malformed")
            })
        })
        .transpose()?;
    let now = Utc::now();
    let mut rows = store::cases(&pool, &trust.id, after, i64::from(limit) + 1, now)
        .await
        .map_err(unavailable)?;
    let next_cursor = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        cursor_of(rows.last().expect("a full page"))
    });
    let items = rows
        .into_iter()
        .map(|case| CaseView {
            detail: case.escalated.then(|| {
                format!(
                    "/api/v1/schools/{}/incidents/{}",
                    case.school_id, case.incident_id
                )
            }),
            pseudonym: case.pseudonym,
            school_id: case.school_id,
            category: case.category,
            status: case.status,
            age_days: (now - case.reported_at).num_days(),
            acknowledgement_overdue: case.acknowledgement_overdue,
            overdue_steps: case.overdue_steps,
            escalated: case.escalated,
        })
        .collect();
    Ok(HttpResponse::Ok().json(CasePage { items, next_cursor }))
}
