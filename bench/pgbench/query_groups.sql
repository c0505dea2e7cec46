-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- GET /{projectKey}/customer-groups?where=createdAt > "<a group's createdAt>"&limit=20
-- (withTotal defaults to true): 3 round trips, no transaction.
\set n random(0, :ngroups - 1)
-- Round trip 1 is the pool's check of the connection (`SELECT $1`, $1 = 1). Here the same round
-- trip draws the random key(s) of this request from schema bench (pgbench cannot make UUIDs).
SELECT created_at AS ts FROM bench.groups WHERE n = :n \gset
SELECT count(*) AS count FROM customer_groups g WHERE g.project_id = :pid AND COALESCE(g.created_at > :ts, FALSE);
SELECT g.* FROM customer_groups g WHERE g.project_id = :pid AND COALESCE(g.created_at > :ts, FALSE) ORDER BY g.id ASC LIMIT :limit OFFSET :zero;
