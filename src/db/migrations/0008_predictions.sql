-- Predictions kept by the daily pipeline (SPEC §3): customer lifetime value from
-- BG/NBD or Pareto/NBD with Gamma-Gamma (docs/models-clv.md), next-best product
-- from sequence, co-purchase and repurchase patterns (docs/next-best-product.md),
-- and behavioural clusters (docs/clusters.md). Each table is rewritten whole by
-- its pipeline step.

-- One row per customer with at least one paid order, as of the last `clv` step.
CREATE TABLE customer_clv (
  workspace_id        integer NOT NULL REFERENCES workspaces(id),
  customer_id         text NOT NULL,
  as_of               timestamptz NOT NULL,
  model               text NOT NULL CHECK (model IN ('bgnbd', 'pareto-nbd')),
  -- the summary the models saw (days): repeat purchase days, first → last, first → as_of, mean repeat-day spend
  frequency           integer NOT NULL,
  recency_days        integer NOT NULL,
  age_days            integer NOT NULL,
  monetary            double precision NOT NULL,
  p_alive             double precision NOT NULL,
  exp_purchases_90d   double precision NOT NULL,
  exp_purchases_365d  double precision NOT NULL,
  exp_avg_spend       double precision NOT NULL,
  clv_12m             double precision NOT NULL,
  historical_clv      double precision NOT NULL,
  PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX customer_clv_value ON customer_clv (workspace_id, clv_12m DESC);

-- Every fit the pipeline made, newest last; backtest: the calibration/holdout check.
CREATE TABLE clv_fits (
  workspace_id    integer NOT NULL REFERENCES workspaces(id),
  id              bigint GENERATED ALWAYS AS IDENTITY,
  fitted_at       timestamptz NOT NULL,
  as_of           timestamptz NOT NULL,
  model           text NOT NULL,
  params          jsonb NOT NULL,
  spend_params    jsonb,
  log_likelihood  double precision NOT NULL,
  customers       integer NOT NULL,
  settings        jsonb NOT NULL DEFAULT '{}',
  warnings        jsonb NOT NULL DEFAULT '[]',
  backtest        jsonb,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX clv_fits_latest ON clv_fits (workspace_id, fitted_at DESC);

-- Product patterns. kind 'sequence': B bought after A (a later day, within 365 days) by the
-- same customer; 'co_purchase': A and B in the same order.
CREATE TABLE product_affinities (
  workspace_id     integer NOT NULL REFERENCES workspaces(id),
  kind             text NOT NULL CHECK (kind IN ('sequence', 'co_purchase')),
  from_product     text NOT NULL,
  to_product       text NOT NULL,
  customers        integer NOT NULL,          -- customers (sequence) or orders (co_purchase) with the pair
  support          double precision NOT NULL,
  confidence       double precision NOT NULL,
  lift             double precision NOT NULL,
  median_lag_days  double precision,          -- sequence only
  computed_at      timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, kind, from_product, to_product)
);
CREATE INDEX product_affinities_from ON product_affinities (workspace_id, from_product);

-- Products bought again at regular intervals (consumables).
CREATE TABLE product_repurchase (
  workspace_id          integer NOT NULL REFERENCES workspaces(id),
  product_id            text NOT NULL,
  median_interval_days  double precision NOT NULL,
  buyers                integer NOT NULL,     -- customers with at least one repeat purchase of it
  intervals             integer NOT NULL,
  computed_at           timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, product_id)
);

-- Up to three recommendations per customer, rank 1 first.
CREATE TABLE customer_next_products (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  customer_id   text NOT NULL,
  product_id    text NOT NULL,
  rank          smallint NOT NULL,
  reason        text NOT NULL CHECK (reason IN ('next', 'due', 'co_purchase')),
  score         double precision NOT NULL,
  due_at        timestamptz,
  from_product  text,
  computed_at   timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, customer_id, product_id)
);
CREATE INDEX customer_next_products_product ON customer_next_products (workspace_id, product_id);

CREATE TABLE customer_clusters (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  customer_id   text NOT NULL,
  cluster       smallint NOT NULL,
  as_of         timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX customer_clusters_cluster ON customer_clusters (workspace_id, cluster);

-- One row per clustering run; profiles: per cluster its size, feature means and label (en, zh-CN).
CREATE TABLE cluster_profiles (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  run_at        timestamptz NOT NULL,
  as_of         timestamptz NOT NULL,
  k             smallint NOT NULL,
  silhouette    double precision,
  customers     integer NOT NULL,
  profiles      jsonb NOT NULL,
  model         jsonb NOT NULL,
  PRIMARY KEY (workspace_id, run_at)
);
