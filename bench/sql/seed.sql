-- Bulk seed of the benchmark database: the rows the service's own code path would write for
--   * :g customer groups created by the API client :actor (POST /{projectKey}/customer-groups),
--   * :n customers (POST /admin/customers), each with
--       - two addresses (POST /admin/customers/{id}/addresses; the first one is the default
--         billing and shipping address), and
--       - three groups (one POST /admin/customers/{id}/customer-groups adding three ids),
-- with the same values, nulls, JSON shapes, millisecond timestamps, UUIDv7 ids in creation
-- order, group versions bumped once per member that joined, and the project's group counter.
-- bench/bench.py checks that against rows the running service writes (`seed check`).
--
-- Not written: the outbox rows (`events`) of those writes; the outbox starts empty.
--
-- Also creates schema `bench` (never read by the service): the helper tables the pgbench
-- ceilings and the load scripts draw random keys from.
--
-- psql -v pid=<project uuid> -v actor=<client_id> -v n=<customers> -v g=<groups> -f seed.sql
\set ON_ERROR_STOP on
\timing off
SET client_min_messages = warning;

BEGIN;
-- The bulk load inserts rows whose foreign keys point both ways (customers <-> addresses);
-- every key is generated consistently below and checked at the end, so the FK triggers are
-- skipped for speed (superuser only).
SET LOCAL session_replication_role = replica;

DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- A UUIDv7 (RFC 9562) for the millisecond of `ts`: 48-bit Unix time in ms, version 7, variant
-- 10, random bits otherwise, as the service's generator makes (ids sort in creation order).
CREATE FUNCTION bench.uuidv7(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;

SELECT date_trunc('milliseconds', now() - interval '30 days') AS base \gset

-- Groups: one every millisecond from :base, keys group-0001…, names Group 0001….
CREATE TABLE bench.groups AS
SELECT j AS n, bench.uuidv7(t) AS id, t AS created_at,
       'group-' || lpad((j + 1)::text, 4, '0') AS key,
       'Group ' || lpad((j + 1)::text, 4, '0') AS name
FROM (SELECT j, :'base'::timestamptz + j * interval '1 millisecond' AS t
      FROM generate_series(0, :g - 1) AS j) s;
ALTER TABLE bench.groups ADD PRIMARY KEY (n);

INSERT INTO customer_groups (project_id, id, version, key, name, custom_type_id, custom_fields, metadata,
                             created_at, created_by, last_modified_at, last_modified_by)
SELECT :'pid', id, 1, key, name, NULL, NULL, '{}'::jsonb,
       created_at, jsonb_build_object('clientId', :'actor'), created_at, jsonb_build_object('clientId', :'actor')
FROM bench.groups;

-- Customers: customer i is created at :base + (:g + 4i) ms, its addresses 1 and 2 ms later,
-- its memberships 3 ms later (so ids of customers and addresses are in creation order).
-- Surnames: one per 50 customers (200 at 10 000, 20 000 at 1 000 000, two letters appended), so
-- a `q` search matches 50 customers at every scale and the scales compare like with like.
SELECT least(20000, greatest(200, :n / 50)) AS surnames \gset
CREATE TEMP TABLE stage ON COMMIT DROP AS
SELECT i, t,
       bench.uuidv7(t) AS cid,
       bench.uuidv7(t + interval '1 millisecond') AS a1,
       bench.uuidv7(t + interval '2 millisecond') AS a2,
       (ARRAY['Ada','Alan','Alice','Amir','Anna','Ben','Carla','Chen','Dana','David','Elena','Emil','Eva',
              'Farah','Felix','Grace','Hana','Ivan','Jane','Jonas','Kai','Lara','Leo','Lina','Marco','Maya',
              'Nadia','Omar','Paula','Priya','Quentin','Rosa','Sam','Sofia','Tariq','Uma','Victor','Wei',
              'Yusuf','Zoe'])[1 + i % 40] AS first_name,
       (ARRAY['Bar','Cor','Dal','Fen','Gar','Hol','Kin','Lor','Mar','Nor','Pel','Quin','Ros','Sal','Tor',
              'Val','Wen','Yar','Zel','Bren'])[1 + ((i * 7) % :surnames % 200) / 10]
         || (ARRAY['ton','ley','wick','ford','by','mann','ski','sen','ez','berg'])[1 + ((i * 7) % :surnames % 200) % 10]
         || CASE WHEN :surnames > 200 THEN
              (ARRAY['b','c','d','f','g','h','j','k','m','n'])[1 + ((i * 7) % :surnames / 200) / 10]
              || (ARRAY['a','e','i','o','u','y','r','s','t','l'])[1 + ((i * 7) % :surnames / 200) % 10]
            ELSE '' END
         AS last_name,
       (ARRAY['Springfield','Riverside','Fairview','Georgetown','Madison','Arlington','Ashland',
              'Clinton','Dover','Kingston'])[1 + i % 10] AS city,
       (ARRAY['bronze','silver','gold'])[1 + i % 3] AS tier
FROM (SELECT i, :'base'::timestamptz + (:g + 4 * i) * interval '1 millisecond' AS t
      FROM generate_series(1, :n) AS i) s;

INSERT INTO customers (project_id, id, email, company_name, first_name, last_name, phone, metadata,
                       has_account, default_billing_address_id, default_shipping_address_id,
                       created_by, created_at, updated_at, deleted_at)
SELECT :'pid', cid, lower(first_name) || '.' || lower(last_name) || i || '@example.com',
       'Company ' || lpad((i % 1000)::text, 3, '0'), first_name, last_name,
       '+1 555 ' || lpad((i % 10000000)::text, 7, '0'),
       jsonb_build_object('source', 'import', 'tier', tier),
       false, a1, a1, :'actor', t, t + interval '2 millisecond', NULL
FROM stage;

INSERT INTO customer_addresses (project_id, id, customer_id, address_name, company, first_name, last_name,
                                address_1, address_2, city, country_code, province, postal_code, phone,
                                metadata, created_at, updated_at)
SELECT :'pid', a.id, s.cid, a.address_name, a.company, s.first_name, s.last_name, a.address_1, a.address_2,
       s.city, 'us', 'us-ca', lpad((10000 + i % 89999)::text, 5, '0'), '+1 555 ' || lpad((i % 10000000)::text, 7, '0'),
       '{}'::jsonb, a.t, a.t
FROM stage s
CROSS JOIN LATERAL (VALUES
    (s.a1, 'Home', NULL, (100 + i % 900) || ' Main Street', 'Apt ' || (1 + i % 50), s.t + interval '1 millisecond'),
    (s.a2, 'Office', 'Company ' || lpad((i % 1000)::text, 3, '0'), (100 + i % 900) || ' Market Street', NULL,
     s.t + interval '2 millisecond')
) AS a(id, address_name, company, address_1, address_2, t);

-- Customer i belongs to groups i, i + g/3 and i + 2g/3 (mod g).
INSERT INTO customer_group_memberships (project_id, customer_id, group_id, created_at)
SELECT :'pid', s.cid, g.id, s.t + interval '3 millisecond'
FROM stage s
CROSS JOIN LATERAL unnest(ARRAY[s.i % :g, (s.i + :g / 3) % :g, (s.i + 2 * :g / 3) % :g]) AS k(n)
JOIN bench.groups g ON g.n = k.n;

-- Every membership change bumps the group's version and last-modified stamp (bump_groups).
UPDATE customer_groups cg
SET version = 1 + m.members, last_modified_at = m.last_at
FROM (SELECT group_id, count(*) AS members, max(created_at) AS last_at
      FROM customer_group_memberships WHERE project_id = :'pid' GROUP BY group_id) m
WHERE cg.project_id = :'pid' AND cg.id = m.group_id;

UPDATE projects SET customer_group_count = :g WHERE project_id = :'pid';

-- Helper rows for the load scripts and pgbench: customer n, a group it is in (gy) and one it is
-- not in (gx) for the add+remove scenario.
CREATE TABLE bench.customers AS
SELECT s.i AS n, s.cid AS id, gx.id AS gx, gy.id AS gy
FROM stage s
JOIN bench.groups gx ON gx.n = (s.i + :g / 2) % :g
JOIN bench.groups gy ON gy.n = s.i % :g;
ALTER TABLE bench.customers ADD PRIMARY KEY (n);

-- The search terms of GET /admin/customers?q=… (the surnames, lower case) and, refreshed before
-- each ceiling run, the ids of the page the service answers (for the relation queries).
CREATE TABLE bench.q AS
SELECT row_number() OVER (ORDER BY term)::int AS n, term, '%' || term || '%' AS pattern, NULL::text AS ids
FROM (SELECT DISTINCT lower(last_name) AS term FROM stage) t;
ALTER TABLE bench.q ADD PRIMARY KEY (n);

CREATE TABLE bench.meta AS
SELECT :n::bigint AS customers, :g::int AS groups, :'pid'::uuid AS project_id, :'actor'::text AS actor,
       now() AS seeded_at;
COMMIT;

-- Integrity of what the skipped FK triggers would have checked (each must be false).
SELECT
  (SELECT count(*) FROM customer_addresses a WHERE NOT EXISTS
      (SELECT 1 FROM customers c WHERE c.project_id = a.project_id AND c.id = a.customer_id)) > 0 AS orphan_addresses,
  (SELECT count(*) FROM customers c WHERE c.default_billing_address_id IS NOT NULL AND NOT EXISTS
      (SELECT 1 FROM customer_addresses a WHERE a.project_id = c.project_id AND a.id = c.default_billing_address_id))
      > 0 AS dangling_defaults,
  (SELECT count(*) FROM customer_group_memberships m WHERE NOT EXISTS
      (SELECT 1 FROM customer_groups g WHERE g.project_id = m.project_id AND g.id = m.group_id)
      OR NOT EXISTS (SELECT 1 FROM customers c WHERE c.project_id = m.project_id AND c.id = m.customer_id))
      > 0 AS orphan_memberships \gset
\if :orphan_addresses
  \echo seed: orphan addresses
  SELECT 1/0;
\endif
\if :dangling_defaults
  \echo seed: dangling default addresses
  SELECT 1/0;
\endif
\if :orphan_memberships
  \echo seed: orphan memberships
  SELECT 1/0;
\endif

VACUUM (ANALYZE) customers, customer_addresses, customer_groups, customer_group_memberships, projects,
    bench.customers, bench.groups, bench.q;
