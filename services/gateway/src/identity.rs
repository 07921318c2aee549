//! What dev mode serves about its identity: the keys that sign its tokens, and its demo users. Both
//! answer 404 outside dev mode.

use actix_web::{HttpResponse, get, web};
use trustsafe_problem::Problem;

use crate::config::{DemoUser, GatewayConfig};

/// The dev identity's public keys, so other tools can verify dev tokens (404 outside dev mode).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "identity", responses(
    (status = 200, description = "A JWK set", content_type = "application/json"),
    (status = 404, description = "Not in dev mode", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")
))]
#[get("/.well-known/jwks.json")]
pub(crate) async fn jwks(config: web::Data<GatewayConfig>) -> Result<HttpResponse, Problem> {
    config
        .jwks
        .as_ref()
        .map(|jwks| HttpResponse::Ok().json(jwks))
        .ok_or_else(Problem::not_found)
}

/// The demo users and their tokens, in dev mode only (404 otherwise): anyone who can reach a dev
/// gateway can already mint tokens with its key on disk.
#[utoipa::path(get, path = "/dev/demo-users", operation_id = "list_demo_users", tag = "identity", responses(
    (status = 200, description = "The demo users and their tokens", body = Vec<DemoUser>),
    (status = 404, description = "Not in dev mode", body = trustsafe_problem::ProblemDocument, content_type = "application/problem+json")
))]
#[get("/dev/demo-users")]
pub(crate) async fn demo_users(config: web::Data<GatewayConfig>) -> Result<HttpResponse, Problem> {
    if config.demo_users.is_empty() {
        return Err(Problem::not_found());
    }
    Ok(HttpResponse::Ok().json(&config.demo_users))
}
