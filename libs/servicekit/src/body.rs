//! Reading a request body up to a limit: the one reader the gateway (which streams what it reads to
//! the service) and the services (which collect it) share. A declared length over the limit is refused
//! before a byte is read; a body that grows past it is refused as soon as it does.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use futures::StreamExt;
use trustsafe_problem::{Kind, Problem};

#[derive(Debug)]
pub enum BodyError {
    /// More than the limit, declared or sent.
    TooLarge { limit: usize },
    /// The connection failed while the body was read.
    Unreadable(String),
}

impl From<BodyError> for Problem {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge { limit } => Problem::new(
                Kind::PayloadTooLarge,
                format!("Bodies are limited to {limit} bytes."),
            ),
            BodyError::Unreadable(err) => {
                Problem::new(Kind::Validation, format!("The body could not be read: {err}"))
            }
        }
    }
}

pub struct BoundedBody {
    payload: web::Payload,
    limit: usize,
    seen: usize,
    /// A length was declared and was more than zero, or the body is chunked.
    present: bool,
}

impl BoundedBody {
    /// The request's body, to be read up to `limit` bytes; refused at once when its declared length
    /// is over it.
    pub fn new(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Self, BodyError> {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(BodyError::TooLarge { limit });
        }
        Ok(Self {
            payload,
            limit,
            seen: 0,
            present: declared.is_some_and(|length| length > 0)
                || req.headers().contains_key(header::TRANSFER_ENCODING),
        })
    }

    /// Whether the request has a body at all.
    pub fn is_present(&self) -> bool {
        self.present
    }

    /// The next chunk, or the error that ends the body.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, BodyError>> {
        let chunk = match self.payload.next().await? {
            Ok(chunk) => chunk,
            Err(err) => return Some(Err(BodyError::Unreadable(err.to_string()))),
        };
        self.seen += chunk.len();
        Some(if self.seen > self.limit {
            Err(BodyError::TooLarge { limit: self.limit })
        } else {
            Ok(chunk)
        })
    }

    /// The whole body.
    pub async fn collect(mut self) -> Result<BytesMut, BodyError> {
        let mut body = BytesMut::new();
        while let Some(chunk) = self.next_chunk().await {
            body.extend_from_slice(&chunk?);
        }
        Ok(body)
    }
}

/// The body as a JSON object, read up to `limit` bytes: anything else is a problem naming what is
/// wrong (not JSON, not an object, a Content-Type that is not JSON). An empty body is `{}` when
/// `empty_ok`.
pub async fn json_object(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    empty_ok: bool,
) -> Result<serde_json::Value, Problem> {
    if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
        let content_type = content_type.to_str().unwrap_or_default().to_ascii_lowercase();
        if !(content_type.starts_with("application/json") || content_type.contains("+json")) {
            return Err(
                Problem::new(Kind::Validation, "Send the body as application/json.")
                    .with_error("Content-Type", format!("{content_type} is not JSON")),
            );
        }
    }
    let body = BoundedBody::new(req, payload, limit)?.collect().await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return if empty_ok {
            Ok(serde_json::Value::Object(Default::default()))
        } else {
            Err(Problem::new(Kind::Validation, "A JSON body is required."))
        };
    }
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|err| Problem::new(Kind::Validation, format!("The body is not valid JSON: {err}.")))?;
    if !value.is_object() {
        return Err(Problem::new(Kind::Validation, "The body must be a JSON object."));
    }
    Ok(value)
}
