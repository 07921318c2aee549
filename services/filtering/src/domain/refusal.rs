//! Why the domain refuses a command, and the checks every free text passes.

/// Longest texts, in characters.
pub const NOTE_MAX: usize = 4000;

/// Why a command is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A field is wrong: (field, message).
    Invalid(&'static str, String),
    /// Not in a state for this.
    Conflict(String),
    /// A rule refuses it.
    Refused(String),
}

/// A free text, trimmed: at most [`NOTE_MAX`] characters, without NUL; `None` when blank and not required.
pub fn text(field: &'static str, value: &str, required: bool) -> Result<Option<String>, Refusal> {
    let value = value.trim();
    if value.is_empty() {
        return if required {
            Err(Refusal::Invalid(field, "is required".into()))
        } else {
            Ok(None)
        };
    }
    if value.chars().count() > NOTE_MAX || value.contains('\0') {
        return Err(Refusal::Invalid(
            field,
            format!("is at most {NOTE_MAX} characters, without NUL"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// [`text`] for an optional field.
pub fn optional(field: &'static str, value: Option<&str>) -> Result<Option<String>, Refusal> {
    value.map_or(Ok(None), |value| text(field, value, false))
}
