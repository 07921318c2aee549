//! `GET /api/v1/trusts/{trust_id}`: the trust's name and the schools the caller may see in it, from the
//! tenancy the gateway already holds, so a page shows names rather than ids.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use trustsafe_auth::Caller;
use trustsafe_problem::Problem;
use trustsafe_servicekit::Tenancy;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct SchoolName {
    pub id: String,
    pub name: String,
    /// The DfE's unique reference number, when known.
    pub urn: Option<u32>,
    pub local_authority: String,
}

#[derive(Serialize, ToSchema)]
pub struct TrustView {
    pub id: String,
    pub name: String,
    /// Every school of the trust for its own people; for a school's people, their schools alone.
    pub schools: Vec<SchoolName>,
}

/// The trust and its schools, as far as the caller may see them: the trust's people see every school;
/// a school's people (and integrations) their own schools. Anyone else gets 404.
#[utoipa::path(get, path = "/api/v1/trusts/{trust_id}", operation_id = "get_trust", tag = "tenancy",
    params(("trust_id" = String, Path)),
    responses(
        (status = 200, description = "The trust and its schools", body = TrustView),
    ))]
#[get("/api/v1/trusts/{trust_id}")]
pub(crate) async fn get_trust(
    caller: Caller,
    tenancy: web::Data<Tenancy>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let trust = tenancy.trust(&path).ok_or_else(Problem::not_found)?;
    let whole = caller.knows_trust(&trust.id);
    let schools: Vec<SchoolName> = trust
        .schools
        .iter()
        .filter(|school| whole || caller.knows_school(&school.id))
        .map(|school| SchoolName {
            id: school.id.clone(),
            name: school.name.clone(),
            urn: school.urn,
            local_authority: school.local_authority.clone(),
        })
        .collect();
    if schools.is_empty() && !whole {
        return Err(Problem::not_found());
    }
    Ok(HttpResponse::Ok().json(TrustView {
        id: trust.id.clone(),
        name: trust.name.clone(),
        schools,
    }))
}
