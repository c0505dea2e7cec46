-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario. Statements between
-- \startpipeline and \endpipeline are sent together, as the service pipelines them.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- POST /{projectKey}/customer-groups/{id} {"version": v, "actions": [changeName]}: 5 round trips
-- (a read, then the write transaction). The service binds
-- NULL for custom_type_id and custom_fields; pgbench cannot bind NULL, so they are literals.
\set n random(0, :ngroups - 1)
-- The first round trip draws the random keys of this request from schema bench (pgbench cannot
-- make UUIDs, and they are too many to inline): the ceiling pays one round trip the service
-- does not make, and is that much lower (docs/benchmarks.md).
SELECT id AS gid, name || ' ' || gen_random_uuid() AS newname, date_trunc('milliseconds', clock_timestamp()) AS ts, bench.uuidv7(clock_timestamp()) AS eid FROM bench.groups WHERE n = :n \gset
SELECT "customer_groups"."project_id", "customer_groups"."id", "customer_groups"."version", "customer_groups"."key", "customer_groups"."name", "customer_groups"."custom_type_id", "customer_groups"."custom_fields", "customer_groups"."metadata", "customer_groups"."created_at", "customer_groups"."created_by", "customer_groups"."last_modified_at", "customer_groups"."last_modified_by" FROM "customer_groups" WHERE (("customer_groups"."project_id" = :pid) AND ("customer_groups"."id" = :gid)) LIMIT :one \gset
\set newversion :version + 1
BEGIN;
UPDATE "customer_groups" SET "version" = :newversion, "key" = :key, "name" = :newname, "custom_type_id" = NULL, "custom_fields" = NULL, "metadata" = :metadata, "last_modified_at" = :ts, "last_modified_by" = :actorjson WHERE ((("customer_groups"."project_id" = :pid) AND ("customer_groups"."id" = :gid)) AND ("customer_groups"."version" = :version)) RETURNING "customer_groups"."project_id", "customer_groups"."id", "customer_groups"."version", "customer_groups"."key", "customer_groups"."name", "customer_groups"."custom_type_id", "customer_groups"."custom_fields", "customer_groups"."metadata", "customer_groups"."created_at", "customer_groups"."created_by", "customer_groups"."last_modified_at", "customer_groups"."last_modified_by";
INSERT INTO "events" ("project_id", "id", "project_key", "kind", "resource_id", "actor", "payload", "created_at", "published_at") VALUES (:pid, :eid, :pkey, :kind, :gid, :actorjson, :payload, :ts, DEFAULT);
COMMIT;
