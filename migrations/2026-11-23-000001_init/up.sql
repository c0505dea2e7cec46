-- xclade customers: initial schema.
-- Every table carries project_id, and every primary key and unique constraint includes it,
-- so the schema can later be distributed by project (e.g. Citus). Constraint names are
-- explicit: the adapter maps violations to domain errors by these names.

CREATE TABLE projects (
    project_id            uuid        NOT NULL,
    key                   text        NOT NULL,
    name                  text        NOT NULL,
    customer_group_count  integer     NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_pkey PRIMARY KEY (project_id),
    CONSTRAINT projects_key_key UNIQUE (key),
    CONSTRAINT projects_key_check CHECK (key ~ '^[a-z0-9][a-z0-9-]{1,35}$'),
    CONSTRAINT projects_group_count_check CHECK (customer_group_count >= 0)
);

CREATE TABLE api_clients (
    project_id   uuid        NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    id           uuid        NOT NULL,
    client_id    text        NOT NULL,
    secret_hash  text        NOT NULL,
    scopes       text[]      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_clients_pkey PRIMARY KEY (project_id, id),
    CONSTRAINT api_clients_client_id_key UNIQUE (project_id, client_id)
);
-- Token issuance looks a client up by client_id alone (the project is not known yet).
CREATE INDEX api_clients_client_id_idx ON api_clients (client_id);

CREATE TABLE admin_users (
    project_id     uuid        NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    id             uuid        NOT NULL,
    email          text        NOT NULL,
    password_hash  text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_users_pkey PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX admin_users_email_key ON admin_users (project_id, lower(email));
CREATE INDEX admin_users_email_idx ON admin_users (lower(email));

CREATE TABLE types (
    project_id         uuid        NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    id                 uuid        NOT NULL,
    version            bigint      NOT NULL DEFAULT 1,
    key                text        NOT NULL,
    name               jsonb       NOT NULL,
    description        jsonb,
    resource_type_ids  text[]      NOT NULL,
    field_definitions  jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_at         timestamptz NOT NULL,
    created_by         jsonb,
    last_modified_at   timestamptz NOT NULL,
    last_modified_by   jsonb,
    CONSTRAINT types_pkey PRIMARY KEY (project_id, id),
    CONSTRAINT types_key_key UNIQUE (project_id, key),
    CONSTRAINT types_version_check CHECK (version >= 1)
);

CREATE TABLE customers (
    project_id                   uuid        NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    id                           uuid        NOT NULL,
    email                        text        NOT NULL,
    company_name                 text,
    first_name                   text,
    last_name                    text,
    phone                        text,
    metadata                     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    has_account                  boolean     NOT NULL DEFAULT false,
    default_billing_address_id   uuid,
    default_shipping_address_id  uuid,
    created_by                   text,
    created_at                   timestamptz NOT NULL,
    updated_at                   timestamptz NOT NULL,
    deleted_at                   timestamptz,
    CONSTRAINT customers_pkey PRIMARY KEY (project_id, id)
);
-- Email is unique per project among customers that are not deleted, case-insensitively.
CREATE UNIQUE INDEX customers_email_key ON customers (project_id, lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX customers_created_at_idx ON customers (project_id, created_at) WHERE deleted_at IS NULL;

CREATE TABLE customer_addresses (
    project_id    uuid        NOT NULL,
    id            uuid        NOT NULL,
    customer_id   uuid        NOT NULL,
    address_name  text,
    company       text,
    first_name    text,
    last_name     text,
    address_1     text,
    address_2     text,
    city          text,
    country_code  text,
    province      text,
    postal_code   text,
    phone         text,
    metadata      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT customer_addresses_pkey PRIMARY KEY (project_id, id),
    CONSTRAINT customer_addresses_customer_fkey FOREIGN KEY (project_id, customer_id)
        REFERENCES customers (project_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_addresses_customer_idx ON customer_addresses (project_id, customer_id, id);

-- The default addresses live on the customer, so "at most one default of each kind" holds by
-- construction; an address's is_default_* flags are derived from these columns.
ALTER TABLE customers
    ADD CONSTRAINT customers_default_billing_fkey FOREIGN KEY (project_id, default_billing_address_id)
        REFERENCES customer_addresses (project_id, id),
    ADD CONSTRAINT customers_default_shipping_fkey FOREIGN KEY (project_id, default_shipping_address_id)
        REFERENCES customer_addresses (project_id, id);

CREATE TABLE customer_groups (
    project_id        uuid        NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    id                uuid        NOT NULL,
    version           bigint      NOT NULL DEFAULT 1,
    key               text,
    name              text        NOT NULL,
    custom_type_id    uuid,
    custom_fields     jsonb,
    metadata          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at        timestamptz NOT NULL,
    created_by        jsonb,
    last_modified_at  timestamptz NOT NULL,
    last_modified_by  jsonb,
    CONSTRAINT customer_groups_pkey PRIMARY KEY (project_id, id),
    CONSTRAINT customer_groups_name_key UNIQUE (project_id, name),
    CONSTRAINT customer_groups_key_key UNIQUE (project_id, key),
    CONSTRAINT customer_groups_version_check CHECK (version >= 1),
    CONSTRAINT customer_groups_custom_type_fkey FOREIGN KEY (project_id, custom_type_id)
        REFERENCES types (project_id, id) ON DELETE RESTRICT
);
CREATE INDEX customer_groups_custom_type_idx ON customer_groups (project_id, custom_type_id)
    WHERE custom_type_id IS NOT NULL;
CREATE INDEX customer_groups_created_at_idx ON customer_groups (project_id, created_at, id);

CREATE TABLE customer_group_memberships (
    project_id   uuid        NOT NULL,
    customer_id  uuid        NOT NULL,
    group_id     uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_group_memberships_pkey PRIMARY KEY (project_id, customer_id, group_id),
    CONSTRAINT customer_group_memberships_customer_fkey FOREIGN KEY (project_id, customer_id)
        REFERENCES customers (project_id, id) ON DELETE CASCADE,
    CONSTRAINT customer_group_memberships_group_fkey FOREIGN KEY (project_id, group_id)
        REFERENCES customer_groups (project_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_group_memberships_group_idx ON customer_group_memberships (project_id, group_id, customer_id);

-- Transactional outbox: one row per domain event, written in the transaction of the change.
CREATE TABLE events (
    project_id    uuid        NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    id            uuid        NOT NULL,
    project_key   text        NOT NULL,
    kind          text        NOT NULL,
    resource_id   uuid        NOT NULL,
    actor         jsonb       NOT NULL,
    payload       jsonb       NOT NULL,
    created_at    timestamptz NOT NULL,
    published_at  timestamptz,
    CONSTRAINT events_pkey PRIMARY KEY (project_id, id)
);
CREATE INDEX events_unpublished_idx ON events (created_at, project_id, id) WHERE published_at IS NULL;

-- Idempotency keys of admin-family creates (24 h window enforced by the service).
CREATE TABLE idempotency_keys (
    project_id    uuid        NOT NULL REFERENCES projects (project_id) ON DELETE CASCADE,
    key           text        NOT NULL,
    request_hash  text        NOT NULL,
    resource_id   uuid,
    response      text,
    created_at    timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (project_id, key)
);
