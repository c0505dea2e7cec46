-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario. Statements between
-- \startpipeline and \endpipeline are sent together, as the service pipelines them.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- `--@ name := expression` draws a key of this request (pgbench cannot make UUIDs): bench.py
-- inlines `(expression)` for each `:name`, so the draw adds no round trip (only the lookup).
-- GET /admin/customers?q=<surname>&limit=50 (default fields): 2 round trips, no transaction: the
-- count and the page pipelined, then the page's groups and addresses pipelined.
-- bench.q.ids holds the ids of the page the service answers for the term (refreshed before
-- each run), the array the relation queries are given.
\set n random(1, :nterms)
--@ pattern := SELECT pattern FROM bench.q WHERE n = :n
--@ cids := (SELECT ids FROM bench.q WHERE n = :n)::uuid[]
\startpipeline
SELECT count(*) AS count FROM customers c WHERE c.project_id = :pid AND c.deleted_at IS NULL AND customer_search_text(c.email, c.first_name, c.last_name, c.company_name) ILIKE :pattern AND (c.email ILIKE :pattern OR c.first_name ILIKE :pattern OR c.last_name ILIKE :pattern OR c.company_name ILIKE :pattern);
SELECT c.* FROM customers c WHERE c.project_id = :pid AND c.deleted_at IS NULL AND customer_search_text(c.email, c.first_name, c.last_name, c.company_name) ILIKE :pattern AND (c.email ILIKE :pattern OR c.first_name ILIKE :pattern OR c.last_name ILIKE :pattern OR c.company_name ILIKE :pattern) ORDER BY c.id ASC LIMIT :limit OFFSET :zero;
\endpipeline
\startpipeline
SELECT "customer_group_memberships"."customer_id", "customer_groups"."project_id", "customer_groups"."id", "customer_groups"."version", "customer_groups"."key", "customer_groups"."name", "customer_groups"."custom_type_id", "customer_groups"."custom_fields", "customer_groups"."metadata", "customer_groups"."created_at", "customer_groups"."created_by", "customer_groups"."last_modified_at", "customer_groups"."last_modified_by" FROM ("customer_group_memberships" INNER JOIN "customer_groups" ON (("customer_groups"."project_id" = "customer_group_memberships"."project_id") AND ("customer_groups"."id" = "customer_group_memberships"."group_id"))) WHERE (("customer_group_memberships"."project_id" = :pid) AND ("customer_group_memberships"."customer_id" = ANY(:cids))) ORDER BY "customer_group_memberships"."customer_id", "customer_groups"."id";
SELECT "customer_addresses"."project_id", "customer_addresses"."id", "customer_addresses"."customer_id", "customer_addresses"."address_name", "customer_addresses"."company", "customer_addresses"."first_name", "customer_addresses"."last_name", "customer_addresses"."address_1", "customer_addresses"."address_2", "customer_addresses"."city", "customer_addresses"."country_code", "customer_addresses"."province", "customer_addresses"."postal_code", "customer_addresses"."phone", "customer_addresses"."metadata", "customer_addresses"."created_at", "customer_addresses"."updated_at" FROM "customer_addresses" WHERE (("customer_addresses"."project_id" = :pid) AND ("customer_addresses"."customer_id" = ANY(:cids))) ORDER BY "customer_addresses"."customer_id", "customer_addresses"."id";
\endpipeline
