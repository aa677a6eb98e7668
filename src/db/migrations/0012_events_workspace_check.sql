-- Events are the highest-volume table and every row arrives through a path that
-- already resolved its workspace (a write key's workspace, an import or the demo
-- loader run for one workspace), and workspaces are never deleted. The per-row
-- foreign-key trigger cost about 1 ms of PostgreSQL CPU per 100 ingested events
-- (16 % of the database's share of /v1/batch; bench/RESULTS.md), so the
-- guarantee moves to the write paths. docs/decisions.md records the trade.
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_workspace_id_fkey;
