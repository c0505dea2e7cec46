-- Variant of ../get_customer.sql for measuring round trips (docs/benchmarks.md): the random
-- customer is looked up inside each statement instead of in a separate round trip, so the
-- variants differ only in how many round trips one request takes.
-- 1 round trip: the customer with its groups and addresses as JSON arrays, one statement.
\set n random(1, :ncust)
SELECT c.project_id, c.id, c.email, c.company_name, c.first_name, c.last_name, c.phone, c.metadata, c.has_account, c.default_billing_address_id, c.default_shipping_address_id, c.created_by, c.created_at, c.updated_at, c.deleted_at, (SELECT COALESCE(jsonb_agg(to_jsonb(g) ORDER BY g.id), '[]') FROM customer_group_memberships m JOIN customer_groups g ON g.project_id = m.project_id AND g.id = m.group_id WHERE m.project_id = c.project_id AND m.customer_id = c.id) AS groups, (SELECT COALESCE(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]') FROM customer_addresses a WHERE a.project_id = c.project_id AND a.customer_id = c.id) AS addresses FROM customers c WHERE c.project_id = :pid AND c.id = (SELECT id FROM bench.customers WHERE n = :n) AND c.deleted_at IS NULL;
