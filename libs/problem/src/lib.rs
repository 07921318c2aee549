//! RFC 9457 `application/problem+json`: every error a trustsafe service answers with. The `type` is a
//! stable URI per kind of error, so clients can branch on it without parsing prose.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// The kinds of error, each with its status and its stable `type` URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 400: malformed JSON, missing or invalid fields.
    Validation,
    /// 401: no token, or a token that does not verify.
    Unauthorized,
    /// 403: you may see the record, but not do this to it. (A record you may not see is 404.)
    Forbidden,
    /// 404: not found, or not yours: existence is never revealed.
    NotFound,
    /// 409: someone else changed it first.
    Conflict,
    /// 412: the `If-Match` version is stale.
    PreconditionFailed,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 422: well-formed, but refused by a rule.
    Unprocessable,
    /// 429: too many requests; see Retry-After.
    RateLimited,
    /// 502: an upstream service answered badly or not at all.
    BadGateway,
    /// 503: a dependency is down.
    Unavailable,
    /// 504: an upstream service took too long.
    GatewayTimeout,
    /// 500: a fault of ours, never of the client's input.
    Internal,
}

impl Kind {
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Validation => "validation",
            Kind::Unauthorized => "unauthorized",
            Kind::Forbidden => "forbidden",
            Kind::NotFound => "not-found",
            Kind::Conflict => "conflict",
            Kind::PreconditionFailed => "precondition-failed",
            Kind::PayloadTooLarge => "payload-too-large",
            Kind::Unprocessable => "unprocessable",
            Kind::RateLimited => "rate-limited",
            Kind::BadGateway => "bad-gateway",
            Kind::Unavailable => "unavailable",
            Kind::GatewayTimeout => "gateway-timeout",
            Kind::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Kind::Validation => StatusCode::BAD_REQUEST,
            Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Kind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Kind::BadGateway => StatusCode::BAD_GATEWAY,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Validation => "The request is malformed",
            Kind::Unauthorized => "Authentication required",
            Kind::Forbidden => "Not permitted",
            Kind::NotFound => "Not found",
            Kind::Conflict => "Conflict",
            Kind::PreconditionFailed => "The record has changed",
            Kind::PayloadTooLarge => "The body is too large",
            Kind::Unprocessable => "Refused by a rule",
            Kind::RateLimited => "Too many requests",
            Kind::BadGateway => "An upstream service failed",
            Kind::Unavailable => "A dependency is unavailable",
            Kind::GatewayTimeout => "An upstream service timed out",
            Kind::Internal => "Internal error",
        }
    }

    /// The stable `type` URI.
    pub fn type_uri(self) -> String {
        format!("urn:trustsafe:problem:{}", self.slug())
    }
}

/// One problem, ready to answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: Kind,
    pub detail: String,
    /// Field → message, for validation errors.
    pub errors: BTreeMap<String, String>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Serialize)]
struct Body<'a> {
    r#type: String,
    title: &'static str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    errors: &'a BTreeMap<String, String>,
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            errors: BTreeMap::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_error(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.insert(field.into(), message.into());
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// 401 with the `WWW-Authenticate` challenge a bearer-token client expects.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(Kind::Unauthorized, detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    pub fn not_found() -> Self {
        Self::new(Kind::NotFound, "No such record here.")
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(Body {
            r#type: self.kind.type_uri(),
            title: self.kind.title(),
            status: self.kind.status().as_u16(),
            detail: &self.detail,
            errors: &self.errors,
        })
        .expect("problem bodies serialise")
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.slug(), self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.kind.status());
        response.content_type(CONTENT_TYPE);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(self.body().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_rfc_9457_json_with_a_stable_type() {
        let problem =
            Problem::new(Kind::Validation, "Two fields are wrong.").with_error("category", "is required");
        let response = problem.error_response();
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            CONTENT_TYPE
        );
        let body = problem.body();
        assert_eq!(body["type"], "urn:trustsafe:problem:validation");
        assert_eq!(body["status"], 400);
        assert_eq!(body["errors"]["category"], "is required");
        assert!(Problem::not_found().body().get("errors").is_none());
        let challenge = Problem::unauthorized("no token").error_response();
        assert_eq!(
            challenge.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
    }
}

/// The body of every error, as the OpenAPI documents describe it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDocument {
    /// A stable URI per kind of error, e.g. `urn:trustsafe:problem:not-found`.
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field → message, for validation errors.
    pub errors: Option<BTreeMap<String, String>>,
}
