//! Reading a request's query string: a malformed one is a problem saying what a good one looks like.

use actix_web::{HttpRequest, web};
use trustsafe_problem::{Kind, Problem};

/// The request's query as `Q`; `hint` says what a well-formed one looks like.
pub fn query<Q: serde::de::DeserializeOwned>(req: &HttpRequest, hint: &str) -> Result<Q, Problem> {
    web::Query::<Q>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|err| Problem::new(Kind::Validation, format!("The query is malformed: {err}.{hint}")))
}
