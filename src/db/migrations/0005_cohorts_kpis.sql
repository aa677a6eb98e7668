-- Cohort retention and daily KPI values, written by the pipeline so the
-- dashboard reads them instantly and trends have history.

CREATE TABLE cohort_retention (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  -- 'purchase': bought in the month; 'activity': bought or any event in the month
  basis         text NOT NULL CHECK (basis IN ('purchase', 'activity')),
  cohort_month  date NOT NULL,   -- month of the first paid order, in the workspace time zone
  month_offset  integer NOT NULL,
  cohort_size   integer NOT NULL,
  retained      integer NOT NULL,
  computed_at   timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, basis, cohort_month, month_offset)
);

CREATE TABLE kpi_values (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  kpi           text NOT NULL,
  day           date NOT NULL,
  value         double precision,
  numerator     double precision,
  denominator   double precision,
  computed_at   timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, kpi, day)
);
