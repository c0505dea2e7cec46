//! The routes, one module per family and resource.

pub mod admin_customers;
pub mod admin_groups;
pub mod oauth;
pub mod ops;
pub mod project_groups;
pub mod project_types;
