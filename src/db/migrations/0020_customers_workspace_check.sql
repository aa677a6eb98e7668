-- Customers drop their per-row foreign key to workspaces, as events (0012) and
-- orders, order lines and customer_stats (0013) did. Every writer of customer
-- rows runs for one workspace resolved before its first row: an import looks
-- the workspace up first and refuses an unknown one (`no_workspace`),
-- ingestion takes it from the verified write key, the demo loader runs for one
-- existing workspace; merges and erasure only update rows already there; and
-- workspaces are never deleted. The trigger cost about 0.9 s of PostgreSQL CPU
-- per 200k stub customers of a first orders import, three times the insert.
-- docs/decisions.md records the trade.
ALTER TABLE customers DROP CONSTRAINT IF EXISTS customers_workspace_id_fkey;
