//! OpenAPI schemas of the contract's enums (which know nothing of HTTP), listing their values.

use std::borrow::Cow;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde_json::Value;
use trustsafe_events::incident::{Agency, Category, PersonKind, PersonRole, SubjectStaffRole, Workflow};

use crate::domain::concern::Status;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Object, RefOr, Schema};

fn one_of<T: Serialize>(values: &[T], description: &str) -> Object {
    let names: Vec<String> = values
        .iter()
        .filter_map(|value| serde_json::to_value(value).ok()?.as_str().map(str::to_owned))
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .description(Some(description))
        .build()
}

pub fn category() -> Object {
    one_of(&Category::ALL, "A trust-wide category of online-safety concern.")
}

pub fn status() -> Object {
    one_of(
        &Status::ALL,
        "reported (waiting for the DSL), acknowledged, closed, or reopened (closed once, open again).",
    )
}

pub fn agency() -> Object {
    one_of(&Agency::ALL, "An outside agency.")
}

pub fn person_kind() -> Object {
    one_of(&PersonKind::ALL, "Who the person is to the school.")
}

pub fn person_role() -> Object {
    one_of(&PersonRole::ALL, "Their part in the concern.")
}

pub fn subject_staff_role() -> Object {
    one_of(
        &SubjectStaffRole::ALL,
        "Staff-conduct concerns: whom it is about. About a member of staff it goes to the headteacher \
         and the DSL; about the DSL (or a deputy) or the headteacher, to the trust safeguarding lead only.",
    )
}

/// The workflow document in the OpenAPI document: the contract's own JSON Schema of it (the one
/// `openapi/events/` publishes), so the two can never disagree.
pub struct WorkflowDocument;

impl utoipa::PartialSchema for WorkflowDocument {
    fn schema() -> RefOr<Schema> {
        contract_schema::<Workflow>().0
    }
}

impl utoipa::ToSchema for WorkflowDocument {
    fn name() -> Cow<'static, str> {
        "Workflow".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend(contract_schema::<Workflow>().1);
    }
}

/// `T`'s schema as schemars makes it (JSON Schema 2020-12, which OpenAPI 3.1 speaks), with the
/// schemas it refers to under `#/components/schemas`.
fn contract_schema<T: JsonSchema>() -> (RefOr<Schema>, Vec<(String, RefOr<Schema>)>) {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    let root = serde_json::to_value(generator.root_schema_for::<T>()).expect("a schema serialises");
    let read = |mut schema: Value| {
        if let Some(fields) = schema.as_object_mut() {
            fields.remove("$schema");
            fields.remove("components");
        }
        consts_as_enums(&mut schema);
        serde_json::from_value::<RefOr<Schema>>(schema)
            .expect("schemars' output reads as an OpenAPI schema (tested)")
    };
    let definitions = generator
        .take_definitions(true)
        .into_iter()
        .map(|(name, schema)| (name, read(schema)))
        .collect();
    (read(root), definitions)
}

/// `{"const": x}` as `{"enum": [x]}`: the same constraint, in the form utoipa keeps.
fn consts_as_enums(schema: &mut Value) {
    match schema {
        Value::Object(fields) => {
            if let Some(value) = fields.remove("const") {
                fields.insert("enum".into(), Value::Array(vec![value]));
            }
            fields.values_mut().for_each(consts_as_enums);
        }
        Value::Array(items) => items.iter_mut().for_each(consts_as_enums),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing of the contract's schema is lost on the way into the OpenAPI document.
    #[test]
    fn the_workflow_schema_survives_the_way_into_openapi() {
        let mut settings = SchemaSettings::draft2020_12();
        settings.definitions_path = "/components/schemas".into();
        let mut generator = settings.into_generator();
        generator.root_schema_for::<Workflow>();
        let mut expected = serde_json::to_value(generator.take_definitions(true)).unwrap();
        consts_as_enums(&mut expected);
        let (root, definitions) = contract_schema::<Workflow>();
        let converted: serde_json::Map<String, Value> = definitions
            .into_iter()
            .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap()))
            .collect();
        assert_eq!(Value::Object(converted), expected);
        let root = serde_json::to_value(root).unwrap();
        assert_eq!(
            root["properties"]["categories"]["additionalProperties"]["$ref"],
            "#/components/schemas/CategoryProcedure"
        );
        assert!(expected["Agency"].to_string().contains("\"lado\""));
    }
}
