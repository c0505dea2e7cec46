-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario. Statements between
-- \startpipeline and \endpipeline are sent together, as the service pipelines them.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- `--@ name := expression` draws a key of this request (pgbench cannot make UUIDs): bench.py
-- inlines `(expression)` for each `:name`, so the draw adds no round trip (only the lookup).
-- GET /{projectKey}/customer-groups?where=createdAt > "<ts>"&limit=20 (withTotal): 1 round trip,
-- the total and the page pipelined, no transaction.
\set n random(0, :ngroups - 1)
--@ ts := SELECT created_at FROM bench.groups WHERE n = :n
\startpipeline
SELECT count(*) AS count FROM customer_groups g WHERE g.project_id = :pid AND COALESCE(g.created_at > :ts, FALSE);
SELECT g.* FROM customer_groups g WHERE g.project_id = :pid AND COALESCE(g.created_at > :ts, FALSE) ORDER BY g.id ASC LIMIT :limit OFFSET :zero;
\endpipeline
