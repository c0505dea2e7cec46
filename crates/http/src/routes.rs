//! The routes, one module per family and resource.

/// The project family's handlers that address one resource by a target read from the path:
/// the by-id and by-key twins differ only in that target, so each is one line here and the
/// work is in `$inner(principal, state, req[, payload], $target)`. Attributes (the doc comment,
/// `utoipa::path`) are kept on the generated function.
macro_rules! target_handlers {
    () => {};
    ($(#[$meta:meta])* $name:ident => $inner:ident($target:ident); $($rest:tt)*) => {
        $(#[$meta])*
        pub async fn $name(
            principal: $crate::auth::ProjectPrincipal,
            state: actix_web::web::Data<$crate::state::AppState>,
            req: actix_web::HttpRequest,
        ) -> $crate::error::project::ProjectResult<actix_web::HttpResponse> {
            $inner(principal, state, req, $target).await
        }
        target_handlers!($($rest)*);
    };
    ($(#[$meta:meta])* $name:ident => $inner:ident(payload, $target:ident); $($rest:tt)*) => {
        $(#[$meta])*
        pub async fn $name(
            principal: $crate::auth::ProjectPrincipal,
            state: actix_web::web::Data<$crate::state::AppState>,
            req: actix_web::HttpRequest,
            payload: actix_web::web::Payload,
        ) -> $crate::error::project::ProjectResult<actix_web::HttpResponse> {
            $inner(principal, state, req, payload, $target).await
        }
        target_handlers!($($rest)*);
    };
    ($(#[$meta:meta])* $name:ident => head $inner:ident($target:ident); $($rest:tt)*) => {
        $(#[$meta])*
        pub async fn $name(
            principal: $crate::error::project::ProjectResult<$crate::auth::ProjectPrincipal>,
            state: actix_web::web::Data<$crate::state::AppState>,
            req: actix_web::HttpRequest,
        ) -> actix_web::HttpResponse {
            $inner(principal, state, req, $target).await
        }
        target_handlers!($($rest)*);
    };
}

pub mod admin_customers;
pub mod admin_groups;
pub mod oauth;
pub mod ops;
pub mod project_groups;
pub mod project_types;
