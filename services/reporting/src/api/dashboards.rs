//! The trust's and a school's dashboards.

use actix_web::get;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, Duration, Months, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use trustsafe_auth::{Caller, TrustRole};
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::{PseudonymKey, Purpose, Tenancy};

use super::figures::{DashboardView, FiguresView, SchoolFigures};
use super::{TRUST_READERS, trust_of, unavailable};
use crate::domain::audience::Audience;
use crate::domain::periods;
use crate::domain::suppression::{self, Detail};
use crate::store;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    from: Option<String>,
    to: Option<String>,
    term: Option<String>,
}

fn query(req: &HttpRequest) -> Result<Period, Problem> {
    web::Query::<Period>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|err| {
            Problem::new(
                Kind::Validation,
                format!(
                    "The query is malformed: {err}. A period is from=YYYY-MM&to=YYYY-MM, or term=YYYY-season."
                ),
            )
        })
}

/// The months `from` to `to` (inclusive, `YYYY-MM`) as their first and last days; by default the twelve
/// months to this one. Periods are whole months: the figures are kept per month.
fn months(query: &Period, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), Problem> {
    if query.term.is_some() {
        return Err(
            Problem::new(Kind::Validation, "Ask for months (from, to), not a term, here.")
                .with_error("term", "not taken here"),
        );
    }
    let parse = |name: &str, text: &Option<String>| match text {
        None => Ok(None),
        Some(text) => periods::month(text).map(Some).ok_or_else(|| {
            Problem::new(
                Kind::Validation,
                format!("{name} is not a month written YYYY-MM."),
            )
            .with_error(name, "a month, YYYY-MM")
        }),
    };
    let this_month = today.with_day(1).expect("every month has a first day");
    let to = parse("to", &query.to)?.unwrap_or(this_month);
    let from = parse("from", &query.from)?.unwrap_or(to - Months::new(11));
    if from > to {
        return Err(Problem::new(Kind::Validation, "from is after to.").with_error("from", "after to"));
    }
    Ok((from, periods::last_day(to)))
}

/// Governors see whole terms only (`term=2026-autumn`; by default this one): no two periods they can
/// ask for overlap, so none can be subtracted from another to single out a small count.
pub fn whole_term(
    term: Option<&str>,
    from_or_to: bool,
    today: NaiveDate,
) -> Result<(String, (NaiveDate, NaiveDate)), Problem> {
    if from_or_to {
        return Err(Problem::new(
            Kind::Validation,
            "Governors see whole terms: ask for term=2026-autumn, 2027-spring or 2027-summer, not months.",
        )
        .with_error("from", "governors see whole terms"));
    }
    let named = term.map(str::to_owned).unwrap_or_else(|| periods::term_of(today));
    let period = periods::term(&named).ok_or_else(|| {
        Problem::new(
            Kind::Validation,
            "Say which term: term=2026-autumn, 2027-spring or 2027-summer.",
        )
        .with_error("term", "YYYY-autumn, YYYY-spring or YYYY-summer")
    })?;
    Ok((named, period))
}

/// The figures of `schools` for `period` (the first day of its first month to the last of its last),
/// as `detail` allows.
pub async fn view(
    pool: &PgPool,
    tenancy: &Tenancy,
    schools: Vec<String>,
    period: (NaiveDate, NaiveDate),
    (audience, detail): (&Audience, Detail),
) -> Result<DashboardView, Problem> {
    let now = Utc::now();
    let months = (period.0, period.1 + Duration::days(1));
    let dashboard = store::dashboard(pool, &schools, months, now, audience)
        .await
        .map_err(unavailable)?;
    let (shown, total) = suppression::show(&dashboard.schools, &dashboard.total, detail);
    let schools = schools
        .iter()
        .map(|school_id| SchoolFigures {
            school_id: school_id.clone(),
            name: tenancy
                .school(school_id)
                .map(|(_, school)| school.name.clone())
                .unwrap_or_default(),
            figures: FiguresView::new(&shown[school_id]),
        })
        .collect();
    Ok(DashboardView {
        from: period.0,
        to: period.1,
        generated_at: now,
        small_counts_suppressed: detail == Detail::SmallCountsSuppressed,
        schools,
        total: FiguresView::new(&total),
    })
}

/// Every school of the trust and the trust in total, for its safeguarding lead (any months), and for
/// its governors (whole terms, small counts suppressed with whatever would give them away).
#[utoipa::path(operation_id = "get_trust_dashboard", tag = "reporting",
    params(("trust_id" = String, Path), ("from" = Option<String>, Query, description = "The first month, YYYY-MM; by default eleven months before to (not for governors)"),
           ("to" = Option<String>, Query, description = "The last month, YYYY-MM, inclusive; by default this month (not for governors)"),
           ("term" = Option<String>, Query, description = "Governors: the term, e.g. 2026-autumn; by default this one")),
    responses((status = 200, description = "The figures", body = DashboardView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
#[get("/api/v1/trusts/{trust_id}/dashboard")]
pub async fn trust_dashboard(
    req: HttpRequest,
    caller: Caller,
    trust_id: web::Path<String>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
) -> Result<HttpResponse, Problem> {
    let trust = trust_of(&tenancy, &caller, &trust_id, &TRUST_READERS)?;
    let query = query(&req)?;
    let today = Utc::now().date_naive();
    let (detail, period) = if caller.has_trust_role(&trust.id, TrustRole::TrustSafeguardingLead) {
        (Detail::Exact, months(&query, today)?)
    } else {
        let from_or_to = query.from.is_some() || query.to.is_some();
        (
            Detail::SmallCountsSuppressed,
            whole_term(query.term.as_deref(), from_or_to, today)?.1,
        )
    };
    let schools = trust.schools.iter().map(|school| school.id.clone()).collect();
    let view = view(&pool, &tenancy, schools, period, (&Audience::Trust, detail)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// One school's figures, for its DSL, deputies and headteacher (and its trust's safeguarding lead).
#[utoipa::path(operation_id = "get_school_dashboard", tag = "reporting",
    params(("school_id" = String, Path), ("from" = Option<String>, Query, description = "The first month, YYYY-MM"),
           ("to" = Option<String>, Query, description = "The last month, YYYY-MM, inclusive")),
    responses((status = 200, description = "The figures", body = DashboardView),
              (status = 400, description = "A malformed period", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")))]
#[get("/api/v1/schools/{school_id}/dashboard")]
pub async fn school_dashboard(
    req: HttpRequest,
    caller: Caller,
    school_id: web::Path<String>,
    pool: web::Data<PgPool>,
    tenancy: web::Data<Tenancy>,
    pseudonyms: web::Data<PseudonymKey>,
) -> Result<HttpResponse, Problem> {
    let (trust, school) = tenancy.school(&school_id).ok_or_else(Problem::not_found)?;
    // School staff see their school without the concerns routed away from them.
    let audience = Audience::of_school(&caller, &trust.id, &school.id, |subject| {
        pseudonyms.pseudonym(Purpose::Alleged, &trust.id, subject.as_bytes())
    })
    .ok_or_else(Problem::not_found)?;
    let period = months(&query(&req)?, Utc::now().date_naive())?;
    let schools = vec![school.id.clone()];
    let view = view(&pool, &tenancy, schools, period, (&audience, Detail::Exact)).await?;
    Ok(HttpResponse::Ok().json(view))
}
