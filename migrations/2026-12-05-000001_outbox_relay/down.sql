DROP INDEX events_published_idx;
DROP INDEX events_pending_idx;
ALTER TABLE events DROP COLUMN part;
ALTER TABLE events DROP COLUMN seq;
CREATE INDEX events_unpublished_idx ON events (created_at, project_id, id) WHERE published_at IS NULL;
