//! Per-request observation: correlation id, a `request` span around the handler (so every log
//! line of the request, the storage adapter's retries included, carries its correlation id), one
//! structured access-log line, metrics, and the rewrite of framework-made errors (404, 405, …)
//! into the family's JSON body.

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
use std::time::Instant;
use tracing::Instrument;

/// The correlation header.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// The correlation id of a request, stored in its extensions.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && id.bytes().all(|b| b.is_ascii_graphic())
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
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(CorrelationId(correlation.clone()));
    let method = req.method().clone();
    let state = req.app_data::<web::Data<AppState>>().cloned();

    // Handler and extractor errors arrive as responses; an `Err` here can only come from a
    // deeper middleware, and actix renders it itself.
    let span = tracing::info_span!("request", correlation_id = %correlation, method = %method, path = %req.path());
    let mut res = next.call(req).instrument(span).await?.map_into_boxed_body();

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
    if let Ok(value) = HeaderValue::from_str(&correlation) {
        res.headers_mut().insert(HeaderName::from_static(CORRELATION_HEADER), value);
    }
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let latency = started.elapsed();
    if let Some(state) = state {
        state.metrics.observe(method.as_str(), &route, status.as_u16(), latency);
    }
    tracing::info!(
        target: "xclade::access",
        method = %method,
        route = %route,
        status = status.as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        correlation_id = %correlation,
        "request"
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::{middleware::from_fn, App};
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// A log sink the test can read back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("sink").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn log_lines_inside_a_handler_carry_the_correlation_id() {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = init_service(App::new().wrap(from_fn(observe)).route(
            "/work",
            web::get().to(|| async {
                tracing::warn!("a retry deep inside the request");
                HttpResponse::Ok().finish()
            }),
        ))
        .await;
        let req = TestRequest::get().uri("/work").insert_header((CORRELATION_HEADER, "corr-123")).to_request();
        let res = call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        let logs = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        let inside = logs.lines().find(|l| l.contains("a retry deep inside the request")).expect("the handler's line");
        let line: serde_json::Value = serde_json::from_str(inside).expect("json");
        assert_eq!(line["span"]["correlation_id"], "corr-123", "{inside}");
        assert_eq!(line["span"]["name"], "request", "{inside}");
    }
}
