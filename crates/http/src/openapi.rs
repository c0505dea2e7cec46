//! The OpenAPI 3.1 document, generated from the route annotations, and the offline API reference.

use actix_web::{web, HttpResponse};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "xclade customers", description = "Customers and customer groups: the admin family (`/admin/*`) and the project family (`/{projectKey}/*`)."),
    paths(
        crate::routes::ops::live,
        crate::routes::ops::ready,
        crate::routes::ops::metrics,
        crate::routes::oauth::token,
        crate::routes::oauth::login,
    ),
    components(schemas(crate::error::admin::AdminErrorBody, crate::routes::oauth::TokenResponse, crate::routes::oauth::LoginResponse)),
    modifiers(&SecurityAddon),
    tags((name = "operations"), (name = "auth"), (name = "admin customers"), (name = "admin customer groups"), (name = "customer groups"))
)]
struct BaseDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The whole document: the base plus every family's routes.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = BaseDoc::openapi();
    doc.merge(crate::routes::admin_customers::openapi());
    doc.merge(crate::routes::admin_groups::openapi());
    doc.merge(crate::routes::project_groups::openapi());
    doc.merge(crate::routes::project_types::openapi());
    doc
}

async fn openapi_json(doc: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((actix_web::http::header::LOCATION, "/docs/")).finish()
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let doc = document();
    cfg.app_data(web::Data::new(doc.clone()))
        .route("/openapi.json", web::get().to(openapi_json))
        // The reference's address is `/docs`; its assets are relative to `/docs/`.
        .route("/docs", web::get().to(docs_redirect))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/docs/openapi.json", doc));
}
