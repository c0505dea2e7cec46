//! Operational routes: liveness, readiness, metrics.

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Resources, so another method on these paths is 405 with `Allow`, not 404.
    cfg.service(web::resource("/health/live").route(web::get().to(live)))
        .service(web::resource("/health/ready").route(web::get().to(ready)))
        .service(web::resource("/metrics").route(web::get().to(metrics)));
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, description = "The process is up")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database is reachable and migrated.
#[utoipa::path(get, path = "/health/ready", tag = "operations", responses(
    (status = 200, description = "Ready to serve"),
    (status = 503, description = "The database is unreachable or not migrated")))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    // The relay's state is named, but never makes the service unready: the API works while
    // NATS is away (events wait in the outbox).
    let relay = state.events.as_ref().map_or("disabled", |e| e.snapshot().relay_state);
    match state.health.ready().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok", "relay": relay})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "relay": relay}))
        }
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool_stats.as_ref().map(|p| p.stats());
    let mut text = state.metrics.render(pool);
    if let Some(events) = &state.events {
        crate::metrics::render_events(&mut text, &events.snapshot());
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text)
}
