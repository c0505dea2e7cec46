//! The routes, one module per family and resource.

pub mod admin_customers;
pub mod admin_groups;
pub mod oauth;
pub mod ops;
pub mod project_groups;
pub mod project_types;

use actix_web::web;

/// The admin family's routes, under one `/admin` scope. The router tries routes in order and a
/// route with a `{parameter}` is a regular expression run against the path: a project-family
/// request used to pay one for each of the six admin routes before its own (6 % of the
/// instructions of a group read, docs/benchmarks.md, change 33); the scope turns it away with
/// one comparison of its first segment.
pub fn admin(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/admin").configure(admin_customers::configure).configure(admin_groups::configure));
}

/// The project family's routes, under one `/{project_key}` scope. It must be registered after
/// every other family: its first segment matches any path. The groups' routes come before the
/// types' (whose paths they never match), since they are the ones requested most.
pub fn project(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/{project_key}").configure(project_groups::configure).configure(project_types::configure));
}
