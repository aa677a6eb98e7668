-- The scoring pass (RFM, tiers, lifecycle) stops storing figures that move with
-- the calendar: recency_days grew by one for every buyer each day and the
-- frequency baseline of customers younger than 15 months shrank daily, so every
-- run rewrote most rows. Readers derive recency from last_order_at and the
-- as_of of the last scoring run, kept here with what that run used, so the next
-- run can find the few customers whose scores or stage can have moved
-- (docs/analytics.md, "Incremental scoring").
ALTER TABLE customer_metrics DROP COLUMN recency_days;
ALTER TABLE customer_metrics DROP COLUMN orders_baseline_90d;

CREATE TABLE scoring_state (
  workspace_id  integer PRIMARY KEY REFERENCES workspaces(id),
  -- the reference time ("now") of the last scoring run
  as_of         timestamptz NOT NULL,
  -- the settings it scored with (rfm, tiers, lifecycle): any change rescores everyone
  settings      jsonb NOT NULL,
  -- its score thresholds: R as timestamps on last_order_at, F and M as values
  cuts          jsonb NOT NULL
);

-- The scoring pass is the only writer of these two, and it writes rows of the
-- customer_metrics rows it reads; workspaces are never deleted. Their per-row
-- foreign-key checks were about a quarter of the PostgreSQL CPU of a first
-- scoring pass (one tier and one transition per customer), as for events in 0012.
ALTER TABLE tier_history DROP CONSTRAINT IF EXISTS tier_history_workspace_id_fkey;
ALTER TABLE lifecycle_transitions DROP CONSTRAINT IF EXISTS lifecycle_transitions_workspace_id_fkey;
