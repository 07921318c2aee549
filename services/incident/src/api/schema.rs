//! OpenAPI schemas of the contract's enums (which know nothing of HTTP), listing their values.

use serde::Serialize;
use trustsafe_events::incident::{Agency, Category, PersonKind, PersonRole, SubjectStaffRole};

use crate::domain::concern::Status;
use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, Type};

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
