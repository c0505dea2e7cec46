//! Diesel's view of the schema of `migrations/2026-11-23-000001_init/up.sql`.
//!
//! Written by hand to match the migration exactly (composite primary keys included). The
//! foreign keys are composite `(project_id, …)`, which `joinable!` cannot express: joins
//! spell their `ON` clause out.

diesel::table! {
    projects (project_id) {
        project_id -> Uuid,
        key -> Text,
        name -> Text,
        customer_group_count -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_clients (project_id, id) {
        project_id -> Uuid,
        id -> Uuid,
        client_id -> Text,
        secret_hash -> Text,
        scopes -> Array<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    admin_users (project_id, id) {
        project_id -> Uuid,
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    types (project_id, id) {
        project_id -> Uuid,
        id -> Uuid,
        version -> Int8,
        key -> Text,
        name -> Jsonb,
        description -> Nullable<Jsonb>,
        resource_type_ids -> Array<Text>,
        field_definitions -> Jsonb,
        created_at -> Timestamptz,
        created_by -> Nullable<Jsonb>,
        last_modified_at -> Timestamptz,
        last_modified_by -> Nullable<Jsonb>,
    }
}

diesel::table! {
    customers (project_id, id) {
        project_id -> Uuid,
        id -> Uuid,
        email -> Text,
        company_name -> Nullable<Text>,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        phone -> Nullable<Text>,
        metadata -> Jsonb,
        has_account -> Bool,
        default_billing_address_id -> Nullable<Uuid>,
        default_shipping_address_id -> Nullable<Uuid>,
        created_by -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    customer_addresses (project_id, id) {
        project_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        address_name -> Nullable<Text>,
        company -> Nullable<Text>,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        address_1 -> Nullable<Text>,
        address_2 -> Nullable<Text>,
        city -> Nullable<Text>,
        country_code -> Nullable<Text>,
        province -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        phone -> Nullable<Text>,
        metadata -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    customer_groups (project_id, id) {
        project_id -> Uuid,
        id -> Uuid,
        version -> Int8,
        key -> Nullable<Text>,
        name -> Text,
        custom_type_id -> Nullable<Uuid>,
        custom_fields -> Nullable<Jsonb>,
        metadata -> Jsonb,
        created_at -> Timestamptz,
        created_by -> Nullable<Jsonb>,
        last_modified_at -> Timestamptz,
        last_modified_by -> Nullable<Jsonb>,
    }
}

diesel::table! {
    customer_group_memberships (project_id, customer_id, group_id) {
        project_id -> Uuid,
        customer_id -> Uuid,
        group_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    events (project_id, id) {
        project_id -> Uuid,
        id -> Uuid,
        project_key -> Text,
        kind -> Text,
        resource_id -> Uuid,
        actor -> Jsonb,
        payload -> Json,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
        seq -> Int8,
        part -> Nullable<Int2>,
    }
}

diesel::table! {
    idempotency_keys (project_id, key) {
        project_id -> Uuid,
        key -> Text,
        request_hash -> Text,
        resource_id -> Nullable<Uuid>,
        response -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    projects,
    api_clients,
    admin_users,
    types,
    customers,
    customer_addresses,
    customer_groups,
    customer_group_memberships,
    events,
    idempotency_keys,
);
