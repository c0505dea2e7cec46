//! (being written)
use actix_web::web;
pub fn configure(_cfg: &mut web::ServiceConfig) {}
pub fn openapi() -> utoipa::openapi::OpenApi {
    utoipa::openapi::OpenApiBuilder::new().build()
}
