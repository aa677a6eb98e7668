-- The per-customer tables the pipeline's steps write in bulk drop their per-row
-- foreign key to workspaces, the trade 0012, 0013, 0020 and 0029 made. Each of
-- churn_scores, customer_clv, customer_clusters and customer_next_products is
-- rewritten whole by its step, every day, for the workspace of a job (`jobs`
-- keeps its own foreign key to workspaces), and workspaces are never deleted.
-- Inserting 1M rows took about twice as long with the trigger (churn_scores
-- 11.3 → 5.9 s, customer_clv 14.0 → 6.7 s, customer_clusters 13.2 → 5.4 s,
-- customer_next_products 14.1 → 6.7 s; bench/RESULTS.md).
-- Segment members and their history keep their foreign key to segments
-- (workspace_id, id), which deletes them with their segment and can only hold
-- for a segment of an existing workspace: the direct key to workspaces checked
-- nothing more, at about 6 s of CPU per million members entered.
-- docs/decisions.md records the trade.
ALTER TABLE churn_scores DROP CONSTRAINT IF EXISTS churn_scores_workspace_id_fkey;
ALTER TABLE customer_clv DROP CONSTRAINT IF EXISTS customer_clv_workspace_id_fkey;
ALTER TABLE customer_clusters DROP CONSTRAINT IF EXISTS customer_clusters_workspace_id_fkey;
ALTER TABLE customer_next_products DROP CONSTRAINT IF EXISTS customer_next_products_workspace_id_fkey;
ALTER TABLE segment_members DROP CONSTRAINT IF EXISTS segment_members_workspace_id_fkey;
ALTER TABLE segment_membership_events DROP CONSTRAINT IF EXISTS segment_membership_events_workspace_id_fkey;
