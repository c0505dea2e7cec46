-- The outbox relay (§6): a global write order and partitions by resource.
--
-- `seq` orders events as they were written: the writes of one resource are serialized by
-- its row lock, so each of its events gets a higher `seq` than the ones before it.
-- `part` puts every event of one resource in one of 16 partitions; a relay takes partitions
-- with session advisory locks, so the events of a resource are only ever sent by one relay at a
-- time, in `seq` order.
ALTER TABLE events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE events ADD COLUMN part smallint GENERATED ALWAYS AS ((hashtext(resource_id::text) & 15)::smallint) STORED;

DROP INDEX events_unpublished_idx;
CREATE INDEX events_pending_idx ON events (part, seq) WHERE published_at IS NULL;
CREATE INDEX events_published_idx ON events (published_at) WHERE published_at IS NOT NULL;
