-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario. Statements between
-- \startpipeline and \endpipeline are sent together, as the service pipelines them.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- `--@ name := expression` draws a key of this request (pgbench cannot make UUIDs): bench.py
-- inlines `(expression)` for each `:name`, so the draw adds no round trip (only the lookup).
-- POST /{projectKey}/customer-groups/{id} {"version": v, "actions": [changeName]}: 2 round trips:
-- the read of the group, then one statement that updates it at the expected version and inserts
-- its outbox event (a CTE: atomic without BEGIN/COMMIT).
\set n random(0, :ngroups - 1)
--@ gid := SELECT id FROM bench.groups WHERE n = :n
--@ newname := (SELECT name FROM bench.groups WHERE n = :n) || ' ' || gen_random_uuid()
--@ ts := date_trunc('milliseconds', clock_timestamp())
--@ eid := bench.uuidv7(clock_timestamp())
SELECT "customer_groups"."project_id", "customer_groups"."id", "customer_groups"."version", "customer_groups"."key", "customer_groups"."name", "customer_groups"."custom_type_id", "customer_groups"."custom_fields", "customer_groups"."metadata", "customer_groups"."created_at", "customer_groups"."created_by", "customer_groups"."last_modified_at", "customer_groups"."last_modified_by" FROM "customer_groups" WHERE (("customer_groups"."project_id" = :pid) AND ("customer_groups"."id" = :gid)) LIMIT :one \gset
\set newversion :version + 1
WITH saved AS (UPDATE customer_groups SET version = :newversion, key = :key, name = :newname, custom_type_id = NULL, custom_fields = NULL, metadata = :metadata, last_modified_at = :ts, last_modified_by = :actorjson WHERE project_id = :pid AND id = :gid AND version = :version RETURNING *), event AS (INSERT INTO events (project_id, id, project_key, kind, resource_id, actor, payload, created_at, published_at) SELECT :pid, :eid, :pkey, :kind, saved.id, :actorjson, :payload, :ts, NULL FROM saved) SELECT saved.* FROM saved;
