//! Reading requests: a bounded JSON body whose errors name every bad field, `If-Match`, and
//! `Idempotency-Key`. Everything a client can get wrong is a problem+json answer, never a panic.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::Value;
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::body::json_object;
use utoipa::PartialSchema;
use utoipa::openapi::{RefOr, Schema};

/// The largest body a concern's request may have (a long description fits many times over).
pub const BODY_LIMIT: usize = 256 * 1024;

/// The body as a JSON object, read up to [`BODY_LIMIT`]. An empty body is `{}` when `empty_ok`.
pub async fn json_body(req: &HttpRequest, payload: web::Payload, empty_ok: bool) -> Result<Value, Problem> {
    json_object(req, payload, BODY_LIMIT, empty_ok).await
}

/// The body as `T`: every required field that is missing is named at once, then any field of the
/// wrong shape (or one `T` does not have: a body cannot set the school, the version or the author).
pub fn typed<T: DeserializeOwned + PartialSchema>(body: Value) -> Result<T, Problem> {
    let required = match T::schema() {
        RefOr::T(Schema::Object(object)) => object.required,
        _ => Vec::new(),
    };
    let missing: Vec<String> = required
        .into_iter()
        .filter(|field| body.get(field).is_none_or(Value::is_null))
        .collect();
    if !missing.is_empty() {
        let mut problem = Problem::new(
            Kind::Validation,
            format!("Required fields are missing: {}.", missing.join(", ")),
        );
        for field in missing {
            problem = problem.with_error(field, "is required");
        }
        return Err(problem);
    }
    named(body)
}

/// The body as `T`, naming the field that does not fit.
pub fn named<T: DeserializeOwned>(body: Value) -> Result<T, Problem> {
    if let Some(path) = nul_at(&body, String::new()) {
        // PostgreSQL keeps no NUL in text: refused here, rather than failing the store (a 503).
        // (After the images check: a body carrying an image is told so first.)
        return Err(Problem::new(
            Kind::Validation,
            "Text may not contain the NUL character (U+0000).",
        )
        .with_error(path, "contains U+0000"));
    }
    serde_path_to_error::deserialize(body).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        let message = err.into_inner().to_string();
        Problem::new(Kind::Validation, format!("{field}: {message}.")).with_error(field, message)
    })
}

/// `If-Match: "3"` → 3. Absent or `*`: no expectation.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, Problem> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            Problem::new(
                Kind::Validation,
                "If-Match must be an ETag this API gave, such as \"3\".",
            )
            .with_error("If-Match", format!("{text:?} is not one of our ETags"))
        })
}

pub fn etag(version: i64) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, Problem> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Problem::new(
            Kind::Validation,
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
        )
        .with_error("Idempotency-Key", "malformed"));
    }
    Ok(Some(key.to_owned()))
}

/// The path (`people[2].person_ref`) of the first text in `value` holding U+0000, if any.
fn nul_at(value: &Value, at: String) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then_some(at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(n, item)| nul_at(item, format!("{at}[{n}]"))),
        Value::Object(fields) => fields.iter().find_map(|(name, field)| {
            if name.contains('\0') {
                return Some(at.clone());
            }
            let path = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            nul_at(field, path)
        }),
        _ => None,
    }
}
