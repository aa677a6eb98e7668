-- The pipeline run whose cohorts pass rebuilt kpi_buyers (docs/analytics.md, "KPIs"):
-- a full cohorts pass reads every order and event anyway, and computes the buyer KPIs'
-- figures in the same two passes; the KPI step of that run then reuses them instead of
-- reading the orders and events again. Null when the KPI step wrote the rows itself.
ALTER TABLE kpi_state ADD COLUMN run_id bigint;
