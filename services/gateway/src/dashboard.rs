//! The web dashboard, served from inside the binary: one page, its script and style, and the chart
//! library (Chart.js, pinned from npm and vendored; see `dashboard/vendor/README.md`). It calls only
//! the public API, with the token the user signs in with.

use actix_web::http::header::CONTENT_SECURITY_POLICY;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use trustsafe_problem::Problem;
use utoipa::ToSchema;

use crate::proxy::Proxy;

/// The page may load its own script, style and API answers, and nothing else (no inline script, no
/// other origin); the API keeps the stricter `default-src 'none'`.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                      connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const FILES: [(&str, &str, &[u8]); 4] = [
    (
        "/",
        "text/html; charset=utf-8",
        include_bytes!("../dashboard/index.html"),
    ),
    (
        "/dashboard/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../dashboard/app.js"),
    ),
    (
        "/dashboard/app.css",
        "text/css; charset=utf-8",
        include_bytes!("../dashboard/app.css"),
    ),
    (
        "/dashboard/chart.umd.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../dashboard/vendor/chart.umd.min.js"),
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, content_type, body) in FILES {
        cfg.route(
            path,
            web::get().to(move || async move {
                HttpResponse::Ok()
                    .insert_header((CONTENT_SECURITY_POLICY, POLICY))
                    .content_type(content_type)
                    .body(body)
            }),
        );
    }
    cfg.route("/dev/demo-users", web::get().to(demo_users));
}

/// A demo user the dashboard offers to sign in as.
#[derive(Clone, Serialize, ToSchema)]
pub struct DemoUser {
    /// Who they are, e.g. "raps dsl".
    pub who: String,
    pub token: String,
}

/// The demo users and their tokens, in dev mode only (404 otherwise): anyone who can reach a dev
/// gateway can already mint tokens with its key on disk.
#[utoipa::path(get, path = "/dev/demo-users", operation_id = "list_demo_users", tag = "identity", responses(
    (status = 200, description = "The demo users and their tokens", body = Vec<DemoUser>),
    (status = 404, description = "Not in dev mode", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")
))]
pub(crate) async fn demo_users(proxy: web::Data<Proxy>) -> Result<HttpResponse, Problem> {
    if proxy.config.demo_users.is_empty() {
        return Err(Problem::not_found());
    }
    Ok(HttpResponse::Ok().json(&proxy.config.demo_users))
}
