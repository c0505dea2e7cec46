-- Published events back into the outbox, marked by `published_at` (those of projects that
-- still exist: `events` has a foreign key to `projects`).
ALTER TABLE events ALTER COLUMN payload TYPE jsonb USING payload::jsonb;
CREATE INDEX events_published_idx ON events (published_at) WHERE published_at IS NOT NULL;
INSERT INTO events (project_id, id, project_key, kind, resource_id, actor, payload, created_at, published_at, seq)
OVERRIDING SYSTEM VALUE
SELECT project_id, id, project_key, kind, resource_id, actor, payload::jsonb, created_at, published_at, seq
FROM published_events WHERE project_id IN (SELECT project_id FROM projects);
DROP TABLE published_events;
