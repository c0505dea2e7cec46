//! Error bodies of the two families. Each maps domain errors in exactly one function.

pub mod admin;
pub mod project;

pub use admin::AdminError;
pub use project::ProjectError;

/// Marks a response whose error body was rendered by us, so the rewrite middleware leaves it.
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

/// Adds `Retry-After: 1` to a 503: the database being away and work refused under load are
/// both short-lived, and clients that honour the header back off instead of hammering.
pub(crate) fn retry_after(resp: &mut actix_web::HttpResponse) {
    if resp.status() == actix_web::http::StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from_static("1"));
    }
}

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
