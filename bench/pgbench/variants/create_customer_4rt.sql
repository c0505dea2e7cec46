-- Variant of ../create_customer.sql for measuring round trips (docs/benchmarks.md): ids, email
-- and time are made inside the statements, so the variants differ only in round trips.
-- 4 round trips: without the pool's check of the connection.
BEGIN;
INSERT INTO "customers" ("project_id", "id", "email", "company_name", "first_name", "last_name", "phone", "metadata", "has_account", "default_billing_address_id", "default_shipping_address_id", "created_by", "created_at", "updated_at", "deleted_at") VALUES (:pid, bench.uuidv7(clock_timestamp()), 'pgb-' || gen_random_uuid() || '@load.example', :company, :first, :last, :phone, :meta, :hasacc, DEFAULT, DEFAULT, :actor, date_trunc('milliseconds', clock_timestamp()), date_trunc('milliseconds', clock_timestamp()), DEFAULT);
INSERT INTO "events" ("project_id", "id", "project_key", "kind", "resource_id", "actor", "payload", "created_at", "published_at") VALUES (:pid, bench.uuidv7(clock_timestamp()), :pkey, :kind, bench.uuidv7(clock_timestamp()), :actorjson, :payload, date_trunc('milliseconds', clock_timestamp()), DEFAULT);
COMMIT;
