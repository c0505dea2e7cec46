//! Per-request observation: correlation id, the request's context around the handler (so every
//! log line of the request, the storage adapter's retries included, carries its correlation id:
//! [`current_request`]), one structured access-log line, metrics, and the rewrite of
//! framework-made errors (404, 405, …) into the family's JSON body.
//!
//! The context is a task-local value, not a `tracing` span: a span cost the request a slab
//! entry, its fields formatted as JSON when it was made, and the subscriber's bookkeeping at
//! every poll (about 4 % of a create's CPU, docs/benchmarks.md change 27), while the log lines
//! need three strings that the middleware has at hand. The server's log layer reads them with
//! [`current_request`].

use crate::error::admin::AdminErrorBody;
use crate::error::project::envelope;
use crate::error::Rendered;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use std::rc::Rc;
use std::time::Instant;

/// The correlation header.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// The correlation id of a request, stored in its extensions.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// What the log lines written while a request runs say about it (their `span` object).
#[derive(Debug)]
pub struct RequestContext {
    /// The request's correlation id (the `X-Correlation-ID` it answers with).
    pub correlation_id: String,
    /// The request's method.
    pub method: actix_web::http::Method,
    /// The request's path, without the query.
    pub path: String,
}

tokio::task_local! {
    static REQUEST: Rc<RequestContext>;
}

/// Calls `f` with the context of the request whose handler is running on this thread, if any.
pub fn current_request<R>(f: impl FnOnce(Option<&RequestContext>) -> R) -> R {
    match REQUEST.try_with(Rc::clone) {
        Ok(context) => f(Some(&context)),
        Err(_) => f(None),
    }
}

/// Which family renders errors of this path.
pub(crate) fn is_admin_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/") || path.starts_with("/auth/")
}

fn rewrite_error(path: &str, status: StatusCode) -> HttpResponse {
    let message = match status {
        StatusCode::NOT_FOUND => "The requested route was not found.".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "The method is not allowed on this route.".to_owned(),
        s => s.canonical_reason().unwrap_or("Error").to_owned(),
    };
    if is_admin_path(path) {
        let kind = match status {
            StatusCode::NOT_FOUND => "not_found",
            s if s.is_server_error() => "unknown_error",
            _ => "invalid_data",
        };
        HttpResponse::build(status).json(AdminErrorBody { kind, message, code: None })
    } else {
        let code = match status {
            StatusCode::NOT_FOUND => "ResourceNotFound",
            StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
            s if s.is_server_error() => "General",
            _ => "InvalidInput",
        };
        HttpResponse::build(status).json(envelope(status, code, &message, Default::default(), Default::default()))
    }
}

/// The observing middleware; wrap the whole app with `from_fn(observe)`.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let correlation = req
        .headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(new_correlation_id);
    req.extensions_mut().insert(CorrelationId(correlation.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let context = Rc::new(RequestContext {
        correlation_id: correlation,
        method: req.method().clone(),
        path: req.path().to_owned(),
    });

    // Handler and extractor errors arrive as responses; an `Err` here can only come from a
    // deeper middleware, and actix renders it itself.
    let mut res = REQUEST.scope(Rc::clone(&context), next.call(req)).await?.map_into_boxed_body();
    let RequestContext { correlation_id: correlation, method, .. } = &*context;

    let status = res.status();
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() >= 400 && res.response().extensions().get::<Rendered>().is_none() && !is_json {
        let request = res.request().clone();
        // A 405 keeps the `Allow` header actix set from the resource's methods (RFC 9110).
        let allow = res.headers().get(actix_web::http::header::ALLOW).cloned();
        let mut rewritten = rewrite_error(request.path(), status);
        if let Some(allow) = allow {
            rewritten.headers_mut().insert(actix_web::http::header::ALLOW, allow);
        }
        res = ServiceResponse::new(request, rewritten);
    }
    if let Ok(value) = HeaderValue::from_str(correlation) {
        res.headers_mut().insert(HeaderName::from_static(CORRELATION_HEADER), value);
    }
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let latency = started.elapsed();
    if let Some(state) = state {
        state.metrics.observe(method.as_str(), &route, status.as_u16(), latency);
    }
    tracing::info!(
        target: "xclade::access",
        method = method.as_str(),
        route = route.as_str(),
        status = status.as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        correlation_id = correlation.as_str(),
        "request"
    );
    Ok(res)
}

/// A new correlation id: a UUID v7, written without going through `fmt`.
pub(crate) fn new_correlation_id() -> String {
    let mut buf = uuid::Uuid::encode_buffer();
    uuid::Uuid::now_v7().hyphenated().encode_lower(&mut buf).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{call_service, init_service, read_body, TestRequest};
    use actix_web::{middleware::from_fn, App};

    #[actix_web::test]
    async fn the_handler_runs_inside_its_request_context() {
        let app = init_service(App::new().wrap(from_fn(observe)).route(
            "/work",
            web::get().to(|| async {
                // Across an await, as a storage adapter's retry would log.
                actix_web::rt::task::yield_now().await;
                let seen = current_request(|ctx| ctx.map(|c| format!("{} {} {}", c.correlation_id, c.method, c.path)));
                HttpResponse::Ok().body(seen.unwrap_or_default())
            }),
        ))
        .await;
        let req = TestRequest::get().uri("/work?x=1").insert_header((CORRELATION_HEADER, "corr-123")).to_request();
        let res = call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        assert_eq!(read_body(res).await, "corr-123 GET /work");
        assert!(current_request(|ctx| ctx.is_none()), "no context outside a request");
    }

    #[test]
    fn generated_correlation_ids_are_uuids() {
        let id = new_correlation_id();
        assert_eq!(uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()), Ok(7), "{id}");
        assert_eq!(id, id.to_lowercase());
        assert_ne!(id, new_correlation_id());
    }
}
