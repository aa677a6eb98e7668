-- Per-buyer state of the cohorts and KPI steps, kept between runs so that a daily
-- run rereads only the customers whose orders or events changed (docs/analytics.md,
-- "Cohorts" and "KPIs"). Everything here is derived from orders and events and
-- rebuilt by any full run, so the tables are unlogged: a crash empties them, the
-- missing state row then makes the next run a full one. The per-customer tables
-- have no index: a run reads and rewrites them in bulk (hash joins with the day's
-- customers), and keeping a (workspace, customer) index up to date cost more than
-- the rest of a full run's writes together.

CREATE UNLOGGED TABLE cohort_members (
  workspace_id     integer NOT NULL,
  customer_id      text COLLATE "C" NOT NULL,   -- as customers.id (0014)
  -- year × 12 + month − 1 of the first paid order, in the workspace's time zone
  first_month      integer NOT NULL,
  -- bit k set: a paid order (purchase_months) or an event (event_months) in month
  -- first_month + k, up to the reference time of the run that wrote the row
  purchase_months  bigint NOT NULL,
  event_months     bigint NOT NULL
);

CREATE UNLOGGED TABLE cohort_state (
  workspace_id  integer PRIMARY KEY REFERENCES workspaces(id),
  -- the reference time, time zone and window of the run that wrote cohort_members
  as_of         timestamptz NOT NULL,
  time_zone     text NOT NULL,
  months        integer NOT NULL
);

-- One row per customer with a paid order up to the reference time: the figures the
-- buyer KPIs (churn, win-back, repurchase, newly churned, active) count over.
CREATE UNLOGGED TABLE kpi_buyers (
  workspace_id       integer NOT NULL,
  customer_id        text COLLATE "C" NOT NULL,  -- as customers.id (0014)
  last_paid_at       timestamptz NOT NULL,   -- last paid order up to the reference time
  last_paid_30d_ago  timestamptz,            -- last paid order up to 30 days before it
  paid_12m           integer NOT NULL,       -- paid orders in the 12 months to it
  -- its last order (any status) or event in the 30 days to it, or null: the active KPI
  -- asks only whether there was one, and later runs keep the latest with greatest()
  last_active_at     timestamptz
);

CREATE UNLOGGED TABLE kpi_state (
  workspace_id  integer PRIMARY KEY REFERENCES workspaces(id),
  as_of         timestamptz NOT NULL
);
