//! Bounded strings: the limits of the contract, checked once at the edge.

use crate::error::{DomainError, TextKind, Violation};

/// The longest accepted plain string (in characters).
pub const MAX_STRING_CHARS: usize = 255;

/// Refuses the NUL character, which PostgreSQL text and jsonb cannot hold.
pub fn storable(field: &str, value: &str) -> Result<(), DomainError> {
    if value.contains('\0') {
        return Err(DomainError::invalid_field(field, Violation::ContainsNul { kind: TextKind::Plain }));
    }
    Ok(())
}

/// Checks a client-supplied string against the common length limit.
pub fn bounded(field: &str, value: String, max_chars: usize) -> Result<String, DomainError> {
    storable(field, &value)?;
    if value.chars().count() > max_chars {
        return Err(DomainError::invalid_field(field, Violation::TooLong { max_chars }));
    }
    Ok(value)
}

/// [`bounded`] for an optional value.
pub fn bounded_opt(field: &str, value: Option<String>, max_chars: usize) -> Result<Option<String>, DomainError> {
    value.map(|v| bounded(field, v, max_chars)).transpose()
}

/// Whether `s` is a key or a name of the contract: `^[A-Za-z0-9_-]+$`, its length (in bytes,
/// which are characters here) in `lengths`.
pub fn is_key_like(s: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_length() {
        assert!(bounded("f", "ok".into(), 5).is_ok());
        assert!(bounded("f", "toolong".into(), 5).is_err());
        assert!(matches!(
            bounded("f", "a\0b".into(), 5),
            Err(DomainError::Validation { field: Some(f), violation: Violation::ContainsNul { kind: TextKind::Plain } })
                if f == "f"
        ));
        assert!(matches!(
            bounded("f", "toolong".into(), 5),
            Err(DomainError::Validation { violation: Violation::TooLong { max_chars: 5 }, .. })
        ));
    }

    #[test]
    fn key_like() {
        assert!(is_key_like("a-B_9", 2..=5));
        assert!(!is_key_like("a", 2..=5));
        assert!(!is_key_like("abcdef", 2..=5));
        assert!(!is_key_like("a b", 2..=5));
        assert!(!is_key_like("ab.", 2..=5));
        assert!(!is_key_like("äb", 2..=5));
    }
}
