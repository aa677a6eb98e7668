-- Indexes the benchmarks asked for (bench/RESULTS.md). Additions only.

-- Linking anonymous events to a customer (ingest's identify) looks up the
-- unlinked events of an anonymous id; without this it scans the events.
CREATE INDEX events_anonymous_unlinked ON events (workspace_id, anonymous_id) WHERE customer_id IS NULL;
