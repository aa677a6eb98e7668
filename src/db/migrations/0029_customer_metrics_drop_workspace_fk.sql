-- customer_metrics drops its per-row foreign key to workspaces, the trade 0012,
-- 0013 and 0020 made for events, orders and customers. Rows are inserted only by
-- the pipeline's figures pass (the scoring pass updates them), run for the
-- workspace of a job, whose own foreign key says the workspace exists; and
-- workspaces are never deleted. A first pass inserts a row per customer: at 1M
-- customers the trigger took 5.9 s of a 10.1 s insert (3.1 s without it).
-- docs/decisions.md records the trade.
ALTER TABLE customer_metrics DROP CONSTRAINT IF EXISTS customer_metrics_workspace_id_fkey;
