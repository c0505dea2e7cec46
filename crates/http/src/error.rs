//! Error bodies of the two families. Each maps domain errors in exactly one function.

pub mod admin;
pub mod project;

pub use admin::AdminError;
pub use project::ProjectError;

/// Marks a response whose error body was rendered by us, so the rewrite middleware leaves it.
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

/// Logs an opaque server-side failure with its cause chain; the client never sees it.
pub(crate) fn log_internal(err: &xclade_domain::DomainError) {
    let mut chain = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    tracing::error!(error = %err, cause = %chain, "request failed");
}
