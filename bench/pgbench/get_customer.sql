-- The SQL xclade-customers sends for one request of this scenario, statement for statement and
-- round trip for round trip (captured with log_statement = all; bench/bench.py re-checks it
-- every run), run by `pgbench -M prepared` as the ceiling of the scenario. Statements between
-- \startpipeline and \endpipeline are sent together, as the service pipelines them.
-- Variables from -D: pid (project id), pkey (project key), actor (client id), actorjson,
-- payload (an outbox payload of the size the service writes), kind, one = 1, …
-- `--@ name := expression` draws a key of this request (pgbench cannot make UUIDs): bench.py
-- inlines `(expression)` for each `:name`, so the draw adds no round trip (only the lookup).
-- GET /admin/customers/{id} (default fields: groups and addresses): 1 statement (the customer with
-- its groups and addresses as arrays of records), 1 round trip, no transaction.
\set n random(1, :ncust)
--@ cid := SELECT id FROM bench.customers WHERE n = :n
SELECT c.project_id, c.id, c.email, c.company_name, c.first_name, c.last_name, c.phone, c.metadata, c.has_account, c.default_billing_address_id, c.default_shipping_address_id, c.created_by, c.created_at, c.updated_at, c.deleted_at, ARRAY(SELECT ROW(g.id, g.version, g.key, g.name, g.custom_type_id, g.custom_fields, g.metadata, g.created_at, g.created_by, g.last_modified_at, g.last_modified_by) FROM customer_group_memberships m JOIN customer_groups g ON g.project_id = m.project_id AND g.id = m.group_id WHERE :yes AND m.project_id = :pid AND m.customer_id = :cid ORDER BY g.id) AS groups, ARRAY(SELECT ROW(a.id, a.address_name, a.company, a.first_name, a.last_name, a.address_1, a.address_2, a.city, a.country_code, a.province, a.postal_code, a.phone, a.metadata, a.created_at, a.updated_at) FROM customer_addresses a WHERE :yes AND a.project_id = :pid AND a.customer_id = :cid ORDER BY a.id) AS addresses FROM customers c WHERE c.project_id = :pid AND c.id = :cid LIMIT 1;
