-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- POST /admin/customers: 5 round trips.
-- Round trip 1 is the pool's check of the connection (`SELECT $1`, $1 = 1). Here the same round
-- trip draws the random key(s) of this request from schema bench (pgbench cannot make UUIDs).
SELECT bench.uuidv7(clock_timestamp()) AS cid, bench.uuidv7(clock_timestamp()) AS eid, 'pgb-' || gen_random_uuid() || '@load.example' AS email, date_trunc('milliseconds', clock_timestamp()) AS ts \gset
BEGIN;
INSERT INTO "customers" ("project_id", "id", "email", "company_name", "first_name", "last_name", "phone", "metadata", "has_account", "default_billing_address_id", "default_shipping_address_id", "created_by", "created_at", "updated_at", "deleted_at") VALUES (:pid, :cid, :email, :company, :first, :last, :phone, :meta, :hasacc, DEFAULT, DEFAULT, :actor, :ts, :ts, DEFAULT);
INSERT INTO "events" ("project_id", "id", "project_key", "kind", "resource_id", "actor", "payload", "created_at", "published_at") VALUES (:pid, :eid, :pkey, :kind, :cid, :actorjson, :payload, :ts, DEFAULT);
COMMIT;
