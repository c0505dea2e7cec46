-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario. Statements between
-- \startpipeline and \endpipeline are sent together, as the service pipelines them.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- POST /admin/customers/{id}/customer-groups {"add": [gadd], "remove": [grem]}: 10 round trips.
-- Each customer toggles between its seeded group gy and a group gx it is not in, so every
-- request adds one membership and removes one (the path that bumps both groups and writes the
-- event), as the load script does.
\set n random(1, :ncust)
-- The first round trip draws the random keys of this request from schema bench (pgbench cannot
-- make UUIDs, and they are too many to inline): the ceiling pays one round trip the service
-- does not make, and is that much lower (docs/benchmarks.md).
SELECT c.id AS cid, CASE WHEN m.group_id IS NULL THEN c.gy ELSE c.gx END AS gadd, '{' || CASE WHEN m.group_id IS NULL THEN c.gy ELSE c.gx END || ',' || CASE WHEN m.group_id IS NULL THEN c.gx ELSE c.gy END || '}' AS checked, '{' || CASE WHEN m.group_id IS NULL THEN c.gx ELSE c.gy END || '}' AS removed, '{' || least(c.gx, c.gy) || ',' || greatest(c.gx, c.gy) || '}' AS bumped, date_trunc('milliseconds', clock_timestamp()) AS ts, bench.uuidv7(clock_timestamp()) AS eid FROM bench.customers c LEFT JOIN customer_group_memberships m ON m.project_id = :pid AND m.customer_id = c.id AND m.group_id = c.gy WHERE c.n = :n \gset
BEGIN;
SELECT "customers"."project_id", "customers"."id", "customers"."email", "customers"."company_name", "customers"."first_name", "customers"."last_name", "customers"."phone", "customers"."metadata", "customers"."has_account", "customers"."default_billing_address_id", "customers"."default_shipping_address_id", "customers"."created_by", "customers"."created_at", "customers"."updated_at", "customers"."deleted_at" FROM "customers" WHERE (("customers"."project_id" = :pid) AND ("customers"."id" = :cid)) LIMIT :one FOR NO KEY UPDATE;
SELECT "customer_groups"."id" FROM "customer_groups" WHERE (("customer_groups"."project_id" = :pid) AND ("customer_groups"."id" = ANY(:checked))) ORDER BY "customer_groups"."id" FOR KEY SHARE;
INSERT INTO "customer_group_memberships" ("project_id", "customer_id", "group_id", "created_at") VALUES (:pid, :cid, :gadd, :ts) ON CONFLICT DO NOTHING RETURNING "customer_group_memberships"."customer_id", "customer_group_memberships"."group_id";
DELETE FROM "customer_group_memberships" WHERE ((("customer_group_memberships"."project_id" = :pid) AND ("customer_group_memberships"."customer_id" = :cid)) AND ("customer_group_memberships"."group_id" = ANY(:removed))) RETURNING "customer_group_memberships"."group_id";
SELECT "customer_groups"."id" FROM "customer_groups" WHERE (("customer_groups"."project_id" = :pid) AND ("customer_groups"."id" = ANY(:bumped))) ORDER BY "customer_groups"."id" FOR NO KEY UPDATE;
UPDATE "customer_groups" SET "version" = ("customer_groups"."version" + :one), "last_modified_at" = :ts, "last_modified_by" = :actorjson WHERE (("customer_groups"."project_id" = :pid) AND ("customer_groups"."id" = ANY(:bumped)));
\startpipeline
SELECT "customer_group_memberships"."customer_id", "customer_groups"."project_id", "customer_groups"."id", "customer_groups"."version", "customer_groups"."key", "customer_groups"."name", "customer_groups"."custom_type_id", "customer_groups"."custom_fields", "customer_groups"."metadata", "customer_groups"."created_at", "customer_groups"."created_by", "customer_groups"."last_modified_at", "customer_groups"."last_modified_by" FROM ("customer_group_memberships" INNER JOIN "customer_groups" ON (("customer_groups"."project_id" = "customer_group_memberships"."project_id") AND ("customer_groups"."id" = "customer_group_memberships"."group_id"))) WHERE (("customer_group_memberships"."project_id" = :pid) AND ("customer_group_memberships"."customer_id" = :cid)) ORDER BY "customer_group_memberships"."customer_id", "customer_groups"."id";
SELECT "customer_addresses"."project_id", "customer_addresses"."id", "customer_addresses"."customer_id", "customer_addresses"."address_name", "customer_addresses"."company", "customer_addresses"."first_name", "customer_addresses"."last_name", "customer_addresses"."address_1", "customer_addresses"."address_2", "customer_addresses"."city", "customer_addresses"."country_code", "customer_addresses"."province", "customer_addresses"."postal_code", "customer_addresses"."phone", "customer_addresses"."metadata", "customer_addresses"."created_at", "customer_addresses"."updated_at" FROM "customer_addresses" WHERE (("customer_addresses"."project_id" = :pid) AND ("customer_addresses"."customer_id" = :cid)) ORDER BY "customer_addresses"."customer_id", "customer_addresses"."id";
\endpipeline
INSERT INTO "events" ("project_id", "id", "project_key", "kind", "resource_id", "actor", "payload", "created_at", "published_at") VALUES (:pid, :eid, :pkey, :kind, :cid, :actorjson, :payload, :ts, DEFAULT);
COMMIT;
