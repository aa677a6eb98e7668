-- A durable job queue and cron schedules on PostgreSQL (and PGlite). Workers
-- claim jobs with FOR UPDATE SKIP LOCKED, so several processes share the work
-- and none runs the same job twice; a worker that dies stops heartbeating and
-- its job is handed to another.

CREATE TABLE jobs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  task          text NOT NULL,
  payload       jsonb NOT NULL DEFAULT '{}',
  -- at most one queued or running job per key (e.g. "schedule:daily@2026-11-23T01:00Z")
  key           text,
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  run_at        timestamptz NOT NULL DEFAULT now(),
  attempts      integer NOT NULL DEFAULT 0,
  max_attempts  integer NOT NULL DEFAULT 3,
  locked_by     text,
  locked_at     timestamptz,
  heartbeat_at  timestamptz,
  progress      jsonb,
  last_error    text,
  result        jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX jobs_ready ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX jobs_running ON jobs (heartbeat_at) WHERE status = 'running';
CREATE UNIQUE INDEX jobs_key ON jobs (workspace_id, key) WHERE key IS NOT NULL;
CREATE INDEX jobs_task_created ON jobs (workspace_id, task, created_at DESC);

CREATE TABLE schedules (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  name          text NOT NULL,
  task          text NOT NULL,
  cron          text NOT NULL,
  time_zone     text NOT NULL,
  payload       jsonb NOT NULL DEFAULT '{}',
  enabled       boolean NOT NULL DEFAULT true,
  next_run_at   timestamptz NOT NULL,
  last_run_at   timestamptz,
  PRIMARY KEY (workspace_id, name)
);
