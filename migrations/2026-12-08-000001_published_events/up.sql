-- Published events leave the outbox (§6, docs/events.md).
--
-- The relay marked an event by setting `events.published_at`. That column is in the predicates
-- of both partial indexes, so every mark was a non-HOT update: a new row version, a new entry in
-- the primary key (with a uniqueness check and bottom-up deletion of the old versions) and one
-- in the published index. Now a mark moves the row: it is deleted from `events` (no index is
-- touched) and inserted here, at the right end of this table's indexes (docs/benchmarks.md,
-- change 42). `events` keeps only pending events; `published_at` stays in it, always NULL, so
-- that the statements that write events are unchanged.
--
-- `payload` becomes `json`: the event's text as the service encoded it, stored and sent back as
-- it is. As `jsonb`, every event was parsed into a tree when it was written (`jsonb_recv`) and
-- printed again when the relay read it (`jsonb_send`, a tenth of the relay's database time);
-- nothing queries inside a payload on a hot path (operators such as `->` work on `json` too).
--
-- No foreign key to `projects`: every row comes from `events`, whose key checked the project
-- when the event was written, and a check per published event would lock the project's row
-- again. The service never deletes a project; one deleted by hand leaves its published events
-- until retention deletes them.
CREATE TABLE published_events (
    project_id    uuid        NOT NULL,
    id            uuid        NOT NULL,
    project_key   text        NOT NULL,
    kind          text        NOT NULL,
    resource_id   uuid        NOT NULL,
    actor         jsonb       NOT NULL,
    payload       json        NOT NULL,
    created_at    timestamptz NOT NULL,
    published_at  timestamptz NOT NULL,
    seq           bigint      NOT NULL,
    CONSTRAINT published_events_pkey PRIMARY KEY (project_id, id)
);
CREATE INDEX published_events_published_idx ON published_events (published_at);

INSERT INTO published_events (project_id, id, project_key, kind, resource_id, actor, payload, created_at,
    published_at, seq)
SELECT project_id, id, project_key, kind, resource_id, actor, payload::json, created_at, published_at, seq
FROM events WHERE published_at IS NOT NULL;
DELETE FROM events WHERE published_at IS NOT NULL;
DROP INDEX events_published_idx;
ALTER TABLE events ALTER COLUMN payload TYPE json USING payload::json;
