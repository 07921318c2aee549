//! What every filtering test stands on: the test kit's app running the filtering service, log lines
//! written in each vendor's format, and a snapshot of what is stored.

use reqwest::{Response, StatusCode};
use serde_json::Value;
use trustsafe_auth::{SchoolRole, Scope};
use trustsafe_testkit as testkit;

pub use testkit::problem;

pub const LOGS: &str = "/api/v1/schools/raps/filtering/logs";
pub const BREACHES: &str = "/api/v1/schools/raps/breaches";

/// 2026-11-30 09:00:00 UTC (GMT in London).
pub const NINE: i64 = 1_796_029_200;

/// A Squid native line: `user` asked for `url` at `at` and was blocked (or not).
pub fn squid(at: i64, user: &str, url: &str, blocked: bool) -> String {
    let status = if blocked { "TCP_DENIED/403" } else { "TCP_MISS/200" };
    format!("{at}.120    412 10.20.4.17 {status} 3910 GET {url} {user} HIER_NONE/- text/html")
}

/// A SquidGuard redirect (always a block) in `category`, at a London wall-clock time.
pub fn squidguard(time: &str, user: &str, host: &str, category: &str) -> String {
    format!(
        "{time} [2211] Request(pupils/{category}/-) {host}:443 10.20.4.17/lab-pc-07 {user} CONNECT REDIRECT"
    )
}

pub struct TestApp(testkit::TestApp);

impl std::ops::Deref for TestApp {
    type Target = testkit::TestApp;

    fn deref(&self) -> &testkit::TestApp {
        &self.0
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp(testkit::TestApp::spawn(&trustsafe_filtering::SERVICE).await)
    }

    pub async fn stop(self) {
        self.0.stop().await;
    }

    pub fn raps(&self, role: SchoolRole) -> String {
        self.school_token(&format!("raps-{role:?}"), "raps", &[role])
    }

    pub fn feed(&self, school: &str) -> String {
        self.identity
            .scope_token(&format!("{school}-feed"), school, Scope::FilterFeed)
    }

    /// Sends `body` as RAPS's log in `format`.
    pub async fn send_log(&self, token: &str, format: &str, body: impl Into<reqwest::Body>) -> Response {
        self.client
            .post(self.url(&format!("{LOGS}?format={format}")))
            .bearer_auth(token)
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await
            .expect("the gateway answers")
    }

    /// Sends lines as RAPS's technician; the status and the report.
    pub async fn upload(&self, format: &str, lines: &[String]) -> (StatusCode, Value) {
        let response = self
            .send_log(&self.raps(SchoolRole::Technician), format, lines.join("\n"))
            .await;
        let status = response.status();
        (status, response.json().await.expect("a JSON answer"))
    }

    /// RAPS's breaches, newest first, as its DSL reads them.
    pub async fn breaches(&self) -> Vec<Value> {
        let page = self.json(BREACHES, &self.raps(SchoolRole::Dsl)).await;
        page["breaches"].as_array().expect("a list").clone()
    }

    /// Everything the service holds, as one comparable text.
    pub async fn stored(&self) -> String {
        let breaches: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT id::text, record::text, version FROM breaches ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .unwrap();
        let hours: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT hour::text, category || action, requests FROM filter_hours ORDER BY 1, 2")
                .fetch_all(&self.pool)
                .await
                .unwrap();
        let events: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT stream_id, stream_version, data::text FROM events ORDER BY global_position",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        format!("{breaches:?}\n{hours:?}\n{events:?}")
    }
}
