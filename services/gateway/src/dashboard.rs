//! The web dashboard, served from inside the binary: one page, its script and style, and the chart
//! library (Chart.js, pinned from npm and vendored; see `dashboard/vendor/README.md`). It calls only
//! the public API, with the token the user signs in with.

use actix_web::http::header::CONTENT_SECURITY_POLICY;
use actix_web::{HttpResponse, web};

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
}
