//! The one OpenAPI 3.1 document of the public API: the gateway's own endpoints, and every service's
//! `/api/…` operations with the security scheme and the errors the gateway itself can answer.

use trustsafe_servicekit::operations::OperationsApi;
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, ContentBuilder, PathItem, Ref, RefOr, Response, ResponseBuilder};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "trustsafe API",
        version = "1.0.0",
        description = "Online-safety records for multi-academy trusts. Every /api operation takes a bearer JWT; \
                       a school or trust the caller has no grant on answers 404. Errors are RFC 9457 \
                       application/problem+json with a stable `type`."
    ),
    paths(crate::identity::jwks, crate::identity::demo_users, crate::trusts::get_trust),
    components(schemas(trustsafe_problem::ProblemDocument, crate::config::DemoUser)),
    tags(
        (name = "identity", description = "Keys that sign dev tokens"),
        (name = "tenancy", description = "Trusts and their schools, by name")
    )
)]
struct GatewayApi;

/// Errors any proxied operation can get from the gateway itself, before or instead of its service.
const GATEWAY_ERRORS: [(&str, &str); 6] = [
    ("401", "No token, or a token that does not verify"),
    (
        "404",
        "Not found, or not yours: a school or trust without a grant is not revealed",
    ),
    ("413", "The body is over the limit"),
    ("429", "Too many requests from this caller; see Retry-After"),
    ("502", "The owning service is unavailable"),
    ("504", "The owning service did not answer in time"),
];

/// The gateway's own document: operations endpoints and the dev JWKS.
pub fn gateway_document() -> utoipa::openapi::OpenApi {
    let mut doc = GatewayApi::openapi();
    doc.merge(OperationsApi::openapi());
    // The gateway's own API operations take a token like every service's.
    for (path, item) in doc.paths.paths.iter_mut() {
        if path.starts_with("/api/") {
            *item = with_gateway_errors(item.clone());
        }
    }
    let components = doc
        .components
        .get_or_insert_with(|| ComponentsBuilder::new().build());
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    doc
}

/// The gateway's document with every service's `/api/…` operations. Services' own operations
/// endpoints stay out: they are not reachable through the gateway.
pub fn merged_document(services: Vec<utoipa::openapi::OpenApi>) -> utoipa::openapi::OpenApi {
    let mut doc = gateway_document();
    for service in services {
        for (path, item) in service.paths.paths {
            if path.starts_with("/api/") {
                doc.paths.paths.insert(path, with_gateway_errors(item));
            }
        }
        if let Some(theirs) = service.components {
            let ours = doc
                .components
                .get_or_insert_with(|| ComponentsBuilder::new().build());
            ours.schemas.extend(theirs.schemas);
            ours.responses.extend(theirs.responses);
        }
    }
    doc
}

fn with_gateway_errors(mut item: PathItem) -> PathItem {
    let operations = [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ];
    for operation in operations.into_iter().flatten() {
        secure(operation);
    }
    item
}

fn secure(operation: &mut Operation) {
    operation.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    for (status, description) in GATEWAY_ERRORS {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    }
}

fn problem(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", content)
            .build(),
    )
}
