use reqwest::StatusCode;
use serde_json::Value;
use trustsafe_auth::SchoolRole;

use crate::support::*;

async fn get(base: &str, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn assert_problem(response: reqwest::Response, status: StatusCode, kind: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], format!("urn:trustsafe:problem:{kind}"), "{body}");
    body
}

#[actix_web::test]
async fn an_authenticated_request_reaches_the_owning_service() {
    let setup = Setup::new();
    let (_gateway, base) = gateway(setup.config(&upstream())).await;
    let dsl = setup.school_token("raps", SchoolRole::Dsl);

    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/schools/raps/incidents?status=open"))
        .bearer_auth(&dsl)
        .header("Idempotency-Key", "k-1")
        .header("Cookie", "session=stolen")
        .body(vec![b'x'; 600])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["etag"], "\"3\"", "the version travels back");
    assert!(
        headers.get("x-internal").is_none(),
        "upstream-only headers stay inside"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    let echoed: Value = response.json().await.unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/api/v1/schools/raps/incidents");
    assert_eq!(echoed["query"], "status=open");
    assert_eq!(
        echoed["authorization"], true,
        "the service checks the token again"
    );
    assert_eq!(echoed["idempotency_key"], "k-1");
    assert_eq!(echoed["cookie"], Value::Null, "cookies are not forwarded");
    assert_eq!(echoed["body_bytes"], 600);
    assert_eq!(
        headers["x-request-id"].to_str().unwrap(),
        echoed["request_id"].as_str().unwrap()
    );

    let lead = setup.trust_token("viking");
    assert_eq!(
        get(&base, "/api/v1/trusts/viking/dashboard", Some(&lead))
            .await
            .status(),
        200
    );
    assert_eq!(
        get(&base, "/api/v1/schools/raps/incidents/1", Some(&lead))
            .await
            .status(),
        200,
        "reaches its schools"
    );
}

#[actix_web::test]
async fn other_schools_trusts_and_paths_answer_404_and_no_token_401() {
    let setup = Setup::new();
    let (_gateway, base) = gateway(setup.config(&upstream())).await;
    let dsl = setup.school_token("raps", SchoolRole::Dsl);
    let lead = setup.trust_token("viking");
    for (path, token) in [
        ("/api/v1/schools/chilton/incidents", &dsl),
        ("/api/v1/schools/atlantis/incidents", &dsl),
        ("/api/v1/trusts/viking/dashboard", &dsl),
        ("/api/v1/schools/claremont/incidents", &lead),
        ("/api/v1/trusts/claremont/dashboard", &lead),
        ("/api/v1/schools/raps/no-such-resource", &dsl),
        ("/api/v2/anything", &dsl),
    ] {
        let response = get(&base, path, Some(token)).await;
        let body = assert_problem(response, StatusCode::NOT_FOUND, "not-found").await;
        assert!(
            !body.to_string().contains("forbidden"),
            "{path}: existence is not revealed"
        );
    }
    assert_problem(
        get(&base, "/api/v1/schools/raps/incidents", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_problem(
        get(&base, "/api/v1/schools/raps/incidents", Some("x.y.z")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413_declared_or_streamed() {
    let setup = Setup::new();
    let (_gateway, base) = gateway(setup.config(&upstream())).await;
    let dsl = setup.school_token("raps", SchoolRole::Dsl);
    let url = format!("{base}/api/v1/schools/raps/incidents");
    let declared = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&dsl)
        .body(vec![b'x'; 2000])
        .send()
        .await
        .unwrap();
    assert_problem(declared, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;

    let chunks = futures::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 512])));
    let streamed = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&dsl)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_problem(streamed, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;
}

#[actix_web::test]
async fn a_caller_over_their_rate_gets_429_with_retry_after() {
    let setup = Setup::new();
    let mut config = setup.config(&upstream());
    config.rate_per_second = 1;
    config.rate_burst = 3;
    let (_gateway, base) = gateway(config).await;
    let dsl = setup.school_token("raps", SchoolRole::Dsl);
    for _ in 0..3 {
        assert_eq!(
            get(&base, "/api/v1/schools/raps/incidents", Some(&dsl))
                .await
                .status(),
            200
        );
    }
    let limited = get(&base, "/api/v1/schools/raps/incidents", Some(&dsl)).await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS, "rate-limited").await;
    let other = setup.school_token("chilton", SchoolRole::Dsl);
    assert_eq!(
        get(&base, "/api/v1/schools/chilton/incidents", Some(&other))
            .await
            .status(),
        200,
        "per caller"
    );
}

#[actix_web::test]
async fn a_service_down_is_502_and_a_slow_one_504() {
    let setup = Setup::new();
    let dsl = setup.school_token("raps", SchoolRole::Dsl);
    let (_down, down_base) = gateway(setup.config(&closed_port())).await;
    let body = assert_problem(
        get(&down_base, "/api/v1/schools/raps/incidents", Some(&dsl)).await,
        StatusCode::BAD_GATEWAY,
        "bad-gateway",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("incident"), "{body}");
    assert_eq!(get(&down_base, "/readyz", None).await.status(), 503);

    let (_up, base) = gateway(setup.config(&upstream())).await;
    assert_problem(
        get(&base, "/api/v1/schools/raps/incidents/slow", Some(&dsl)).await,
        StatusCode::GATEWAY_TIMEOUT,
        "gateway-timeout",
    )
    .await;
    assert_eq!(get(&base, "/readyz", None).await.status(), 200);
    assert_eq!(get(&base, "/healthz", None).await.status(), 200);
    let metrics = get(&base, "/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("trustsafe_gateway_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(metrics.contains("status=\"504\""), "{metrics}");
}

#[actix_web::test]
async fn the_dashboard_is_served_from_the_binary_under_its_own_policy_and_demo_users_only_in_dev() {
    let setup = Setup::new();
    let (_gateway, base) = gateway(setup.config(&upstream())).await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/app.css", "text/css; charset=utf-8"),
        ("/dashboard/chart.umd.min.js", "text/javascript; charset=utf-8"),
    ] {
        let response = get(&base, path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        let policy = response.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("script-src 'self'") && !policy.contains("unsafe"),
            "{path}: {policy}"
        );
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    // The API keeps the strict policy; the page's files are the only ones under /dashboard/.
    let api = get(&base, "/api/v1/schools/raps/incidents", None).await;
    assert_eq!(
        api.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_problem(
        get(&base, "/dashboard/secrets.js", None).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    // Outside dev mode there are no demo users to offer.
    assert_problem(
        get(&base, "/dev/demo-users", None).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;

    let mut config = setup.config(&upstream());
    config.demo_users = vec![trustsafe_gateway::DemoUser {
        who: "raps dsl".into(),
        token: setup.school_token("raps", SchoolRole::Dsl),
    }];
    let (_dev_gateway, dev_base) = gateway(config).await;
    let users: Value = get(&dev_base, "/dev/demo-users", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users[0]["who"], "raps dsl");
}

/// Sends `GET target` exactly as written: an HTTP client would resolve its dot segments first.
async fn raw_get(base: &str, target: &str, token: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().unwrap();
    (status, response)
}

#[actix_web::test]
async fn the_gateway_forwards_exactly_the_path_it_authorised() {
    let setup = Setup::new();
    let (_gateway, base) = gateway(setup.config(&upstream())).await;
    let dsl = setup.school_token("raps", SchoolRole::Dsl);
    let lead = setup.trust_token("viking");
    for (target, token) in [
        ("/api/v1/schools/raps/incidents/../../chilton/incidents", &dsl),
        (
            "/api/v1/schools/raps/incidents/%2e%2e/%2E%2E/chilton/incidents",
            &dsl,
        ),
        ("/api/v1/schools/raps/incidents/.%2E/..%2fchilton", &dsl),
        ("/api/v1/schools/raps/./incidents", &dsl),
        (
            "/api/v1/schools/raps/incidents%2F..%2F..%2Fchilton%2Fincidents",
            &dsl,
        ),
        ("/api/v1/schools/raps/incidents/..%5C..%5Cchilton", &dsl),
        (
            "/api/v1/trusts/viking/dashboard/../../../schools/claremont/incidents",
            &lead,
        ),
    ] {
        let (status, response) = raw_get(&base, target, token).await;
        assert_eq!(status, 400, "{target}: {response}");
        assert!(
            response.contains("urn:trustsafe:problem:validation"),
            "{target}: {response}"
        );
        assert!(
            !response.contains("\"path\""),
            "{target} reached a service: {response}"
        );
    }
    // An ordinary encoded character is forwarded as it was matched.
    let (status, response) = raw_get(&base, "/api/v1/schools/raps/incidents/a%20b?x=1", &dsl).await;
    assert_eq!(status, 200, "{response}");
    assert!(
        response.contains(r#""path":"/api/v1/schools/raps/incidents/a%20b""#),
        "{response}"
    );
}
