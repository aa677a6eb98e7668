-- Customer analytics kept current by the daily pipeline (SPEC §2): one row of
-- figures per customer, value-tier history, lifecycle transitions.

CREATE TABLE customer_metrics (
  workspace_id        integer NOT NULL REFERENCES workspaces(id),
  customer_id         text NOT NULL,
  as_of               timestamptz NOT NULL,
  -- purchases (paid orders only)
  first_order_at      timestamptz,
  last_order_at       timestamptz,
  orders_total        integer NOT NULL DEFAULT 0,
  spend_total         numeric(16, 2) NOT NULL DEFAULT 0,
  orders_window       integer NOT NULL DEFAULT 0,   -- in the RFM window (default 12 months)
  spend_window        numeric(16, 2) NOT NULL DEFAULT 0,
  orders_90d          integer NOT NULL DEFAULT 0,
  orders_prev_90d     integer NOT NULL DEFAULT 0,   -- the 90 days before those
  orders_base         integer NOT NULL DEFAULT 0,   -- orders in the 12 months before the last 90 days
  orders_baseline_90d double precision,             -- those per 90 days of history (scoring pass: it moves with time)
  coupon_orders_window integer NOT NULL DEFAULT 0,
  refunded_orders     integer NOT NULL DEFAULT 0,   -- refunded or returned, all time
  orders_all_statuses integer NOT NULL DEFAULT 0,
  -- behaviour
  last_event_at       timestamptz,
  events_30d          integer NOT NULL DEFAULT 0,
  logins_30d          integer NOT NULL DEFAULT 0,
  logins_7d           integer NOT NULL DEFAULT 0,
  core_uses_30d       integer NOT NULL DEFAULT 0,
  events_prev_30d     integer NOT NULL DEFAULT 0,
  -- service
  complaints_total    integer NOT NULL DEFAULT 0,
  complaints_90d      integer NOT NULL DEFAULT 0,
  open_tickets        integer NOT NULL DEFAULT 0,
  csat_avg            double precision,
  last_nps            smallint,
  referrals           integer NOT NULL DEFAULT 0,
  -- scores
  recency_days        integer,
  r_score             smallint,
  f_score             smallint,
  m_score             smallint,
  rfm_score           numeric(5, 2),
  tier                char(1) CHECK (tier IN ('A', 'B', 'C', 'D')),
  rfm_segment         text,
  lifecycle_stage     text,
  stage_since         timestamptz,
  PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX customer_metrics_tier ON customer_metrics (workspace_id, tier);
CREATE INDEX customer_metrics_stage ON customer_metrics (workspace_id, lifecycle_stage);
CREATE INDEX customer_metrics_segment ON customer_metrics (workspace_id, rfm_segment);

-- A customer's tier on any past date: the row whose [valid_from, valid_to) holds it.
CREATE TABLE tier_history (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  customer_id   text NOT NULL,
  valid_from    timestamptz NOT NULL,
  valid_to      timestamptz,
  tier          char(1) NOT NULL,
  rfm_score     numeric(5, 2),
  PRIMARY KEY (workspace_id, customer_id, valid_from)
);
CREATE INDEX tier_history_open ON tier_history (workspace_id, customer_id) WHERE valid_to IS NULL;
CREATE INDEX tier_history_period ON tier_history (workspace_id, valid_from, valid_to);

CREATE TABLE lifecycle_transitions (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  customer_id   text NOT NULL,
  at            timestamptz NOT NULL,
  from_stage    text,
  to_stage      text NOT NULL,
  PRIMARY KEY (workspace_id, customer_id, at)
);
CREATE INDEX lifecycle_transitions_at ON lifecycle_transitions (workspace_id, at);

-- The reference time of each run, so the next incremental run knows which
-- orders and events crossed a window boundary in between.
ALTER TABLE pipeline_runs ADD COLUMN as_of timestamptz;

-- Incremental runs find what changed since the last run through these.
CREATE INDEX orders_updated ON orders (workspace_id, updated_at);
CREATE INDEX events_received ON events (workspace_id, received_at);
CREATE INDEX events_time ON events (workspace_id, occurred_at);
CREATE INDEX tickets_updated ON tickets (workspace_id, updated_at);
CREATE INDEX survey_responses_updated ON survey_responses (workspace_id, updated_at);
CREATE INDEX customers_updated ON customers (workspace_id, updated_at);
