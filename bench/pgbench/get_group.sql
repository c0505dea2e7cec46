-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario. Statements between
-- \startpipeline and \endpipeline are sent together, as the service pipelines them.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- `--@ name := expression` draws a key of this request (pgbench cannot make UUIDs): bench.py
-- inlines `(expression)` for each `:name`, so the draw adds no round trip (only the lookup).
-- GET /{projectKey}/customer-groups/{id}: 1 round trip, the group by project and id.
\set n random(0, :ngroups - 1)
--@ gid := SELECT id FROM bench.groups WHERE n = :n
SELECT "customer_groups"."project_id", "customer_groups"."id", "customer_groups"."version", "customer_groups"."key", "customer_groups"."name", "customer_groups"."custom_type_id", "customer_groups"."custom_fields", "customer_groups"."metadata", "customer_groups"."created_at", "customer_groups"."created_by", "customer_groups"."last_modified_at", "customer_groups"."last_modified_by" FROM "customer_groups" WHERE (("customer_groups"."project_id" = :pid) AND ("customer_groups"."id" = :gid)) LIMIT :one;
