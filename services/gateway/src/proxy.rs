//! Forwarding one API request to the service that owns it, streaming both ways.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures::{SinkExt, StreamExt};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use trustsafe_auth::Caller;
use trustsafe_problem::{Kind, Problem};

use crate::config::{GatewayConfig, Upstream};

pub(crate) struct Proxy {
    pub config: GatewayConfig,
    client: reqwest::Client,
    limiter: DefaultKeyedRateLimiter<String>,
}

/// Request headers a service needs from its caller; everything else stays at the door.
const FORWARDED: [HeaderName; 8] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    HeaderName::from_static("idempotency-key"),
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
];

/// Response headers passed back to the caller.
const RETURNED: [HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CONTENT_DISPOSITION,
    header::ETAG,
    header::LOCATION,
    header::RETRY_AFTER,
    header::WWW_AUTHENTICATE,
];

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

impl Proxy {
    pub fn new(config: GatewayConfig) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(config.upstream_timeout)
            .connect_timeout(std::time::Duration::from_secs(2))
            .build()?;
        let per_second = std::num::NonZeroU32::new(config.rate_per_second.max(1)).expect("at least 1");
        let burst = std::num::NonZeroU32::new(config.rate_burst.max(1)).expect("at least 1");
        let limiter = RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst));
        Ok(Self {
            config,
            client,
            limiter,
        })
    }

    fn upstream(&self, resource: &str, school_path: bool) -> Option<&Upstream> {
        self.config.upstreams.iter().find(|upstream| {
            let owned = if school_path {
                &upstream.school_resources
            } else {
                &upstream.trust_resources
            };
            owned.contains(&resource)
        })
    }

    /// 429 once the caller has used up their quota, with the wait in Retry-After.
    fn admit(&self, caller: &Caller) -> Result<(), Problem> {
        self.limiter.check_key(&caller.subject).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Problem::new(
                Kind::RateLimited,
                "Too many requests from this caller; slow down.",
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)))
        })
    }
}

/// `/api/v1/schools/{school_id}/{rest}`: for callers with a grant on that school, or on its trust
/// (the trust safeguarding lead reaches cases a school escalated; the service decides which).
pub(crate) async fn school(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Payload,
    caller: Caller,
    proxy: web::Data<Proxy>,
) -> Result<HttpResponse, Problem> {
    let (school_id, rest) = path.into_inner();
    let forwarded = forwarded_path(&req, &school_id)?;
    let trust = proxy
        .config
        .tenancy
        .school(&school_id)
        .map(|(trust, _)| trust.id.clone());
    let allowed = trust.is_some_and(|trust| caller.knows_school(&school_id) || caller.knows_trust(&trust));
    if !allowed {
        return Err(Problem::not_found());
    }
    forward(req, &forwarded, &rest, true, body, &caller, &proxy).await
}

/// `/api/v1/trusts/{trust_id}/{rest}`: for callers with a grant on that trust only.
pub(crate) async fn trust(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Payload,
    caller: Caller,
    proxy: web::Data<Proxy>,
) -> Result<HttpResponse, Problem> {
    let (trust_id, rest) = path.into_inner();
    let forwarded = forwarded_path(&req, &trust_id)?;
    if proxy.config.tenancy.trust(&trust_id).is_none() || !caller.knows_trust(&trust_id) {
        return Err(Problem::not_found());
    }
    forward(req, &forwarded, &rest, false, body, &caller, &proxy).await
}

/// What may stand in a forwarded path segment unencoded: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The path (and query) to forward, rebuilt segment by segment from the request's own, so the
/// service is asked for exactly what was authorised. A `.` or `..` segment, in any spelling, could be
/// resolved on the way (a URL library removes dot segments) into another school's or trust's path,
/// and an encoded `/` would add a segment the router did not match: both are refused.
fn forwarded_path(req: &HttpRequest, authorised_id: &str) -> Result<String, Problem> {
    let refused = || {
        Problem::new(
            Kind::Validation,
            "The path has a '.' or '..' segment, or an encoded '/' or '\\', which the API never uses.",
        )
    };
    let mut rebuilt = String::with_capacity(req.uri().path().len());
    for (n, segment) in req.uri().path().split('/').skip(1).enumerate() {
        let decoded = percent_decode_str(segment).decode_utf8().map_err(|_| refused())?;
        if decoded == "." || decoded == ".." || decoded.contains(['/', '\\']) {
            return Err(refused());
        }
        // `/api/v1/{schools|trusts}/{id}/…`: the id checked is the id forwarded.
        if n == 3 && decoded != authorised_id {
            return Err(refused());
        }
        rebuilt.push('/');
        rebuilt.extend(utf8_percent_encode(&decoded, SEGMENT));
    }
    if let Some(query) = req.uri().query() {
        rebuilt.push('?');
        rebuilt.push_str(query);
    }
    Ok(rebuilt)
}

async fn forward(
    req: HttpRequest,
    path_and_query: &str,
    rest: &str,
    school_path: bool,
    mut body: web::Payload,
    caller: &Caller,
    proxy: &Proxy,
) -> Result<HttpResponse, Problem> {
    proxy.admit(caller)?;
    let resource = rest.split('/').next().unwrap_or_default();
    let upstream = proxy
        .upstream(resource, school_path)
        .ok_or_else(Problem::not_found)?;
    let limit = proxy.config.body_limit;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large(limit));
    }

    let url = format!("{}{path_and_query}", upstream.base_url.trim_end_matches('/'));
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|_| Problem::new(Kind::Validation, "unsupported method"))?;
    let mut request = proxy.client.request(method, url);
    for name in &FORWARDED {
        if let Some(value) = req.headers().get(name) {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    if !req.headers().contains_key("traceparent") {
        for (name, value) in trustsafe_telemetry::current_trace_headers() {
            request = request.header(name, value);
        }
    }
    let request_id = request_id(&req);
    request = request.header(REQUEST_ID.as_str(), request_id.as_str());

    let has_body =
        declared.is_some_and(|length| length > 0) || req.headers().contains_key(header::TRANSFER_ENCODING);
    let over_limit = Arc::new(AtomicBool::new(false));
    if has_body {
        // The actix payload lives on this thread; a channel carries it to the (Send) client body, and
        // stops it at the limit.
        let (mut sender, receiver) = futures::channel::mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
        let flag = over_limit.clone();
        actix_web::rt::spawn(async move {
            let mut seen = 0;
            while let Some(chunk) = body.next().await {
                let item = match chunk {
                    Ok(chunk) => {
                        seen += chunk.len();
                        if seen > limit {
                            flag.store(true, Ordering::SeqCst);
                            Err(std::io::Error::other("body over the limit"))
                        } else {
                            Ok(chunk)
                        }
                    }
                    Err(err) => Err(std::io::Error::other(err.to_string())),
                };
                let stop = item.is_err();
                if sender.send(item).await.is_err() || stop {
                    break;
                }
            }
        });
        request = request.body(reqwest::Body::wrap_stream(receiver));
    }

    let response = match request.send().await {
        Ok(response) => response,
        Err(_) if over_limit.load(Ordering::SeqCst) => return Err(too_large(limit)),
        Err(err) if err.is_timeout() => {
            return Err(Problem::new(
                Kind::GatewayTimeout,
                format!("The {} service did not answer in time.", upstream.name),
            ));
        }
        Err(err) => {
            tracing::warn!(%err, upstream = upstream.name, "upstream failed");
            return Err(Problem::new(
                Kind::BadGateway,
                format!("The {} service is unavailable.", upstream.name),
            ));
        }
    };
    let status = actix_web::http::StatusCode::from_u16(response.status().as_u16())
        .map_err(|_| Problem::new(Kind::BadGateway, "The upstream answered with an invalid status."))?;
    let mut reply = HttpResponse::build(status);
    for name in &RETURNED {
        if let Some(value) = response.headers().get(name.as_str())
            && let Ok(value) = HeaderValue::from_bytes(value.as_bytes())
        {
            reply.insert_header((name.clone(), value));
        }
    }
    reply.insert_header((REQUEST_ID, request_id));
    // Keep the upstream's length when it gave one: the caller then gets a plain body, not chunks.
    Ok(match response.content_length() {
        Some(length) => reply.body(actix_web::body::SizedStream::new(length, response.bytes_stream())),
        None => reply.streaming(response.bytes_stream()),
    })
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        Kind::PayloadTooLarge,
        format!("Bodies are limited to {limit} bytes."),
    )
}

/// The caller's request id when it is a sane one, else a new one.
fn request_id(req: &HttpRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}
