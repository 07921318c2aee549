//! Forwarding one API request to the service that owns it, streaming both ways.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures::SinkExt;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use trustsafe_auth::Caller;
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::body::{BodyError, BoundedBody};
use trustsafe_servicekit::{SchoolScope, TrustScope, policy::AnyGrant};

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
            // Shorter than the services keep an idle connection (75 s), so a pooled connection is
            // never one the service is closing at the moment a request goes out on it.
            .pool_idle_timeout(std::time::Duration::from_secs(30))
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

    /// The service that owns `rest`'s first segment under a school's or a trust's path, once the
    /// caller is within their quota (429 with the wait in Retry-After otherwise).
    fn admit(&self, caller: &Caller, rest: &str, owner: Owner) -> Result<&Upstream, Problem> {
        self.limiter.check_key(&caller.subject).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Problem::new(
                Kind::RateLimited,
                "Too many requests from this caller; slow down.",
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)))
        })?;
        let resource = rest.split('/').next().unwrap_or_default();
        self.config
            .upstreams
            .iter()
            .find(|upstream| match owner {
                Owner::School => upstream.school_resources.contains(resource),
                Owner::Trust => upstream.trust_resources.contains(resource),
            })
            .ok_or_else(Problem::not_found)
    }
}

/// Whose path a resource is under.
#[derive(Clone, Copy)]
enum Owner {
    School,
    Trust,
}

/// `/api/v1/schools/{school_id}/{rest}`: for callers with a grant on that school, or on its trust
/// (the trust safeguarding lead reaches cases a school escalated; the service decides which).
pub(crate) async fn school(
    req: HttpRequest,
    scope: SchoolScope<AnyGrant>,
    rest: web::Path<(String, String)>,
    body: web::Payload,
    proxy: web::Data<Proxy>,
) -> Result<HttpResponse, Problem> {
    let path = forwarded_path(&req, &scope.school_id)?;
    let upstream = proxy.admit(&scope.caller, &rest.1, Owner::School)?;
    forward(&req, upstream, &path, body, &proxy).await
}

/// `/api/v1/trusts/{trust_id}/{rest}`: for callers with a grant on that trust only.
pub(crate) async fn trust(
    req: HttpRequest,
    scope: TrustScope<AnyGrant>,
    rest: web::Path<(String, String)>,
    body: web::Payload,
    proxy: web::Data<Proxy>,
) -> Result<HttpResponse, Problem> {
    let path = forwarded_path(&req, &scope.trust_id)?;
    let upstream = proxy.admit(&scope.caller, &rest.1, Owner::Trust)?;
    forward(&req, upstream, &path, body, &proxy).await
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

/// Sends the request on to `upstream` and streams its answer back.
async fn forward(
    req: &HttpRequest,
    upstream: &Upstream,
    path_and_query: &str,
    body: web::Payload,
    proxy: &Proxy,
) -> Result<HttpResponse, Problem> {
    let limit = upstream.body_limit.min(proxy.config.body_limit);
    let body = BoundedBody::new(req, body, limit)?;
    let request_id = request_id(req);
    let over_limit = Arc::new(AtomicBool::new(false));
    let mut request = upstream_request(req, upstream, path_and_query, &request_id, proxy)?;
    if body.is_present() {
        request = request.body(streamed(body, over_limit.clone()));
    }
    let response = request.send().await.map_err(|err| {
        if over_limit.load(Ordering::SeqCst) {
            BodyError::TooLarge { limit }.into()
        } else if err.is_timeout() {
            Problem::new(
                Kind::GatewayTimeout,
                format!("The {} service did not answer in time.", upstream.name),
            )
        } else {
            tracing::warn!(%err, upstream = upstream.name, "upstream failed");
            Problem::new(
                Kind::BadGateway,
                format!("The {} service is unavailable.", upstream.name),
            )
        }
    })?;
    reply(response, request_id)
}

/// The request to the service: the same method, path and the headers it needs, with a request id
/// and the trace context.
fn upstream_request(
    req: &HttpRequest,
    upstream: &Upstream,
    path_and_query: &str,
    request_id: &str,
    proxy: &Proxy,
) -> Result<reqwest::RequestBuilder, Problem> {
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
    Ok(request.header(REQUEST_ID.as_str(), request_id))
}

/// The caller's body as the client's: the actix payload lives on this thread, so a task reads it
/// (up to the limit, raising `over_limit` past it) into a channel the (Send) client body drains.
fn streamed(mut body: BoundedBody, over_limit: Arc<AtomicBool>) -> reqwest::Body {
    let (mut sender, receiver) = futures::channel::mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = body.next_chunk().await {
            let item = chunk.map_err(|err| {
                if matches!(err, BodyError::TooLarge { .. }) {
                    over_limit.store(true, Ordering::SeqCst);
                }
                std::io::Error::other(format!("{err:?}"))
            });
            let stop = item.is_err();
            if sender.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    reqwest::Body::wrap_stream(receiver)
}

/// The service's answer for the caller: its status, the headers a caller may see, its body.
fn reply(response: reqwest::Response, request_id: String) -> Result<HttpResponse, Problem> {
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

/// The caller's request id when it is a sane one, else a new one.
fn request_id(req: &HttpRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}
