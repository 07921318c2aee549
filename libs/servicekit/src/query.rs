//! Reading what a request asks for: its query string (a malformed one is a problem saying what a good
//! one looks like) and whether it accepts CSV.

use actix_web::{HttpRequest, web};
use trustsafe_problem::{Kind, Problem};

/// The request's query as `Q`; `hint` says what a well-formed one looks like.
pub fn query<Q: serde::de::DeserializeOwned>(req: &HttpRequest, hint: &str) -> Result<Q, Problem> {
    web::Query::<Q>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|err| Problem::new(Kind::Validation, format!("The query is malformed: {err}.{hint}")))
}

/// Whether the caller asks for CSV (`Accept: text/csv`) rather than JSON.
pub fn accepts_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"))
}
