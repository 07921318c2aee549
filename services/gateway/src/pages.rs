//! The web pages, served from inside the binary: the dashboard (its script and style, and the chart
//! library, Chart.js, pinned from npm and vendored; see `dashboard/vendor/README.md`) and the signing
//! page, with the script both use. Each calls only the public API, with the token its user signs in
//! with, under a Content-Security-Policy of its own.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY};
use actix_web::{HttpResponse, web};

/// The dashboard may load its own script, style and API answers, and nothing else (no inline script,
/// no other origin); the API keeps the stricter `default-src 'none'`. Chart.js draws into canvases
/// and may use data: images.
const DASHBOARD_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                                connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The signing page: its own script and style and API answers; no images, no frames, no forms sent
/// anywhere but by its script.
const SIGNING_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                              base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HTML: &str = "text/html; charset=utf-8";
const SCRIPT: &str = "text/javascript; charset=utf-8";
const STYLE: &str = "text/css; charset=utf-8";

/// (path, content type, body, policy)
const FILES: [(&str, &str, &[u8], &str); 8] = [
    (
        "/",
        HTML,
        include_bytes!("../dashboard/index.html"),
        DASHBOARD_POLICY,
    ),
    (
        "/dashboard/app.js",
        SCRIPT,
        include_bytes!("../dashboard/app.js"),
        DASHBOARD_POLICY,
    ),
    (
        "/dashboard/app.css",
        STYLE,
        include_bytes!("../dashboard/app.css"),
        DASHBOARD_POLICY,
    ),
    (
        "/dashboard/chart.umd.min.js",
        SCRIPT,
        include_bytes!("../dashboard/vendor/chart.umd.min.js"),
        DASHBOARD_POLICY,
    ),
    (
        "/shared/page.js",
        SCRIPT,
        include_bytes!("../shared/page.js"),
        SIGNING_POLICY,
    ),
    (
        "/sign",
        HTML,
        include_bytes!("../signing/index.html"),
        SIGNING_POLICY,
    ),
    (
        "/sign/sign.js",
        SCRIPT,
        include_bytes!("../signing/sign.js"),
        SIGNING_POLICY,
    ),
    (
        "/sign/sign.css",
        STYLE,
        include_bytes!("../signing/sign.css"),
        SIGNING_POLICY,
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, content_type, body, policy) in FILES {
        cfg.route(
            path,
            web::get().to(move || async move {
                let mut response = HttpResponse::Ok();
                response
                    .insert_header((CONTENT_SECURITY_POLICY, policy))
                    .insert_header((REFERRER_POLICY, "no-referrer"));
                if path == "/sign" {
                    // A shared desk or kiosk: nothing of the page is kept for the next person.
                    response.insert_header((CACHE_CONTROL, "no-store"));
                }
                response.content_type(content_type).body(body)
            }),
        );
    }
}
