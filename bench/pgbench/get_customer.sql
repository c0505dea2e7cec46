-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario. Statements between
-- \startpipeline and \endpipeline are sent together, as the service pipelines them.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- `--@ name := expression` draws a key of this request (pgbench cannot make UUIDs): bench.py
-- inlines `(expression)` for each `:name`, so the draw adds no round trip (only the lookup).
-- GET /admin/customers/{id} (default fields: groups and addresses): 1 round trip, no transaction.
\set n random(1, :ncust)
--@ cid := SELECT id FROM bench.customers WHERE n = :n
\startpipeline
SELECT "customers"."project_id", "customers"."id", "customers"."email", "customers"."company_name", "customers"."first_name", "customers"."last_name", "customers"."phone", "customers"."metadata", "customers"."has_account", "customers"."default_billing_address_id", "customers"."default_shipping_address_id", "customers"."created_by", "customers"."created_at", "customers"."updated_at", "customers"."deleted_at" FROM "customers" WHERE (("customers"."project_id" = :pid) AND ("customers"."id" = :cid)) LIMIT :one;
SELECT "customer_group_memberships"."customer_id", "customer_groups"."project_id", "customer_groups"."id", "customer_groups"."version", "customer_groups"."key", "customer_groups"."name", "customer_groups"."custom_type_id", "customer_groups"."custom_fields", "customer_groups"."metadata", "customer_groups"."created_at", "customer_groups"."created_by", "customer_groups"."last_modified_at", "customer_groups"."last_modified_by" FROM ("customer_group_memberships" INNER JOIN "customer_groups" ON (("customer_groups"."project_id" = "customer_group_memberships"."project_id") AND ("customer_groups"."id" = "customer_group_memberships"."group_id"))) WHERE (("customer_group_memberships"."project_id" = :pid) AND ("customer_group_memberships"."customer_id" = :cid)) ORDER BY "customer_group_memberships"."customer_id", "customer_groups"."id";
SELECT "customer_addresses"."project_id", "customer_addresses"."id", "customer_addresses"."customer_id", "customer_addresses"."address_name", "customer_addresses"."company", "customer_addresses"."first_name", "customer_addresses"."last_name", "customer_addresses"."address_1", "customer_addresses"."address_2", "customer_addresses"."city", "customer_addresses"."country_code", "customer_addresses"."province", "customer_addresses"."postal_code", "customer_addresses"."phone", "customer_addresses"."metadata", "customer_addresses"."created_at", "customer_addresses"."updated_at" FROM "customer_addresses" WHERE (("customer_addresses"."project_id" = :pid) AND ("customer_addresses"."customer_id" = :cid)) ORDER BY "customer_addresses"."customer_id", "customer_addresses"."id";
\endpipeline
