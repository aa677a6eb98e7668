-- Orders, order lines and the per-customer order summary drop their per-row
-- foreign key to workspaces, as events did in 0012. Every write of these
-- tables runs for one workspace resolved before the first row: an import
-- (which looks the workspace up first and refuses an unknown one), ingestion
-- (the verified write key's workspace), the demo loader (one existing
-- workspace) and refreshCustomerStats (rows derived from customers, which keep
-- their foreign key); workspaces are never deleted. The trigger cost about
-- 10 s of PostgreSQL CPU per million imported orders, three times the insert
-- itself. docs/decisions.md records the trade.
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_workspace_id_fkey;
ALTER TABLE order_lines DROP CONSTRAINT IF EXISTS order_lines_workspace_id_fkey;
ALTER TABLE customer_stats DROP CONSTRAINT IF EXISTS customer_stats_workspace_id_fkey;
