use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// Every committed OpenAPI document, from the code: file name → document.
pub fn documents() -> BTreeMap<String, Value> {
    let services = [
        &trustsafe_incident::SERVICE,
        &trustsafe_filtering::SERVICE,
        &trustsafe_aup::SERVICE,
        &trustsafe_reporting::SERVICE,
    ];
    let json = |doc: &utoipa::openapi::OpenApi| serde_json::to_value(doc).unwrap();
    let mut documents: BTreeMap<String, Value> = services
        .iter()
        .map(|service| (format!("{}.json", service.name), json(&service.openapi())))
        .collect();
    documents.insert(
        "gateway.json".into(),
        json(&trustsafe_gateway::gateway_document()),
    );
    documents.insert(
        "trustsafe.json".into(),
        json(&trustsafe_gateway::merged_document(
            services.iter().map(|service| service.openapi()).collect(),
        )),
    );
    documents
}

pub fn committed(name: &str) -> Value {
    let path = openapi_dir().join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default()).unwrap_or(Value::Null)
}

/// The package directory as cargo gives it when running the test, not as it was when compiled: the
/// build cache is shared between checkouts, so a compile-time path can name another (even deleted) one.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
}

fn openapi_dir() -> PathBuf {
    manifest_dir().join("../openapi")
}

/// `TRUSTSAFE_BLESS=1 cargo test -p trustsafe --test e2e openapi` rewrites them after a deliberate change.
#[test]
fn committed_openapi_documents_are_current() {
    for (name, document) in documents() {
        if std::env::var_os("TRUSTSAFE_BLESS").is_some() {
            std::fs::write(
                openapi_dir().join(&name),
                serde_json::to_string_pretty(&document).unwrap() + "\n",
            )
            .unwrap();
        }
        assert!(
            committed(&name) == document,
            "openapi/{name} is stale: run `TRUSTSAFE_BLESS=1 cargo test -p trustsafe --test e2e openapi` and commit it"
        );
    }
}

#[test]
fn the_merged_document_is_openapi_3_1_with_bearer_security_and_problem_errors() {
    let merged = &documents()["trustsafe.json"];
    assert!(merged["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        merged["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(merged["components"]["schemas"]["Problem"].is_object());
    assert_eq!(merged["paths"]["/healthz"]["get"]["tags"][0], "operations");
}

#[test]
fn every_api_operation_a_service_documents_gets_security_and_the_gateway_errors() {
    let mut service: utoipa::openapi::OpenApi = serde_json::from_value(serde_json::json!({
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": {
            "/api/v1/schools/{school_id}/incidents": {"get": {"responses": {"200": {"description": "the list"}}}},
            "/healthz": {"get": {"responses": {"200": {"description": "up"}}}}
        }
    }))
    .unwrap();
    service.info.title = "a service".into();
    let merged = serde_json::to_value(trustsafe_gateway::merged_document(vec![service])).unwrap();
    let operation = &merged["paths"]["/api/v1/schools/{school_id}/incidents"]["get"];
    assert_eq!(operation["security"][0]["bearer"], serde_json::json!([]));
    for status in ["200", "401", "404", "413", "429", "502", "504"] {
        assert!(
            operation["responses"][status].is_object(),
            "{status} in {operation}"
        );
    }
    assert_eq!(
        operation["responses"]["404"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    assert_eq!(
        merged["paths"]["/healthz"]["get"]["responses"]["200"]["description"], "The process answers",
        "the gateway's own"
    );
}

/// The merged document keeps one schema per name: two services naming different shapes alike would
/// quietly lose one of them (the aup roster's person once replaced the incident's in the merge).
#[test]
fn a_schema_name_means_one_shape_across_the_services() {
    let mut seen: BTreeMap<String, (String, Value)> = BTreeMap::new();
    let mut clashes = Vec::new();
    for (file, document) in documents() {
        if file == "trustsafe.json" {
            continue;
        }
        let schemas = document["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (name, schema) in schemas {
            match seen.get(&name) {
                Some((first, earlier)) if *earlier != schema => {
                    clashes.push(format!("{name}: {first} and {file}"))
                }
                Some(_) => {}
                None => {
                    seen.insert(name, (file.clone(), schema));
                }
            }
        }
    }
    assert!(clashes.is_empty(), "schemas of one name that differ: {clashes:?}");
}
