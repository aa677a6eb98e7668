-- Churn prediction (SPEC §3, docs/churn.md): the model registry — every trained
-- model with its preparation, metrics and data window, one active per kind — and
-- each customer's latest churn score with its drivers and early-warning scorecard.

CREATE TABLE models (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            bigint GENERATED ALWAYS AS IDENTITY,
  kind          text NOT NULL DEFAULT 'churn' CHECK (kind IN ('churn')),
  version       integer NOT NULL,
  algorithm     text NOT NULL,
  -- the feature keys in model column order, and the medians used for blanks
  features      jsonb NOT NULL,
  -- training settings: horizon, basis, cut-offs, seed, calibration
  params        jsonb NOT NULL DEFAULT '{}',
  -- the serialised model (src/core/ml) and its calibrator
  model         jsonb NOT NULL,
  -- per candidate and baseline: ROC-AUC, PR-AUC, log loss, Brier, lift, calibration; ground truth when known
  metrics       jsonb NOT NULL DEFAULT '{}',
  window_from   timestamptz NOT NULL,  -- oldest cut-off
  window_to     timestamptz NOT NULL,  -- newest (test) cut-off
  rows          integer NOT NULL,
  trained_by    text NOT NULL,
  trained_at    timestamptz NOT NULL,
  active        boolean NOT NULL DEFAULT false,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, kind, version)
);
CREATE UNIQUE INDEX models_one_active ON models (workspace_id, kind) WHERE active;

-- The latest score of every customer who has bought (rewritten by the churn_scoring step).
CREATE TABLE churn_scores (
  workspace_id        integer NOT NULL REFERENCES workspaces(id),
  customer_id         text NOT NULL,
  model_id            bigint,            -- null: no active model, the tier comes from the scorecard
  scored_at           timestamptz NOT NULL,
  probability         double precision,
  risk_tier           text NOT NULL CHECK (risk_tier IN ('high', 'medium', 'low')),
  -- [{feature, direction: up|down, size, value, context}] largest first; null when not explained
  drivers             jsonb,
  scorecard_points    integer NOT NULL,
  scorecard_level     text NOT NULL CHECK (scorecard_level IN ('high', 'medium', 'low')),
  -- [{indicator, points, value}] the indicators that fired
  scorecard_breakdown jsonb NOT NULL DEFAULT '[]',
  PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX churn_scores_probability ON churn_scores (workspace_id, probability DESC NULLS LAST);
CREATE INDEX churn_scores_tier ON churn_scores (workspace_id, risk_tier);
