//! Bounded strings: the limits of the contract, checked once at the edge.

use crate::error::DomainError;

/// The longest accepted plain string (in characters).
pub const MAX_STRING_CHARS: usize = 255;

/// Checks a client-supplied string against the common length limit.
pub fn bounded(field: &str, value: String, max_chars: usize) -> Result<String, DomainError> {
    if value.chars().count() > max_chars {
        return Err(DomainError::invalid_field(
            field,
            format!("Field '{field}' must be at most {max_chars} characters long"),
        ));
    }
    Ok(value)
}

/// [`bounded`] for an optional value.
pub fn bounded_opt(field: &str, value: Option<String>, max_chars: usize) -> Result<Option<String>, DomainError> {
    value.map(|v| bounded(field, v, max_chars)).transpose()
}
