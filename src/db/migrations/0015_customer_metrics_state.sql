-- The customer figures step keeps its own baseline: the reference time every
-- customer_metrics row's figures hold for, written in the same transaction as the
-- figures. A daily run then moves the window counts of customers whose rows only
-- crossed a window edge by the rows that crossed it (plus or minus), and recomputes
-- from scratch only the customers whose rows changed since `since`
-- (docs/analytics.md, "Incremental runs"). No row, or different settings, means the
-- next run recomputes everyone.
CREATE TABLE customer_metrics_state (
  workspace_id       integer PRIMARY KEY REFERENCES workspaces(id),
  -- the reference time ("now") of the run whose figures customer_metrics holds
  as_of              timestamptz NOT NULL,
  -- no transaction that was still open when that run read the data started before
  -- this: rows changed after it (updated_at, received_at) may be missing from them
  since              timestamptz NOT NULL,
  -- the settings the window figures were counted with: a change recomputes everyone
  window_months      integer NOT NULL,
  core_event_types   text[] NOT NULL
);
