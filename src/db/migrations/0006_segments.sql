-- Tags and segments (SPEC §2): rules in the rule language (docs/rules.md),
-- their current members, and the history of who entered and left when, so
-- automations can fire on entry. Built-in tags are seeded per workspace by
-- the application (src/core/segments/builtin.ts) when a workspace is first used.

CREATE TABLE segments (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            text NOT NULL,
  kind          text NOT NULL DEFAULT 'segment' CHECK (kind IN ('tag', 'segment')),
  name          text NOT NULL,
  name_zh       text,
  description   text,
  rule          jsonb NOT NULL,
  rule_text     text NOT NULL,
  builtin       boolean NOT NULL DEFAULT false,
  enabled       boolean NOT NULL DEFAULT true,
  owner         text,
  created_by    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  -- the last evaluation by the pipeline
  evaluated_at  timestamptz,
  member_count  integer NOT NULL DEFAULT 0,
  last_error    text,
  PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX segments_name ON segments (workspace_id, lower(name));

CREATE TABLE segment_members (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  segment_id    text NOT NULL,
  customer_id   text NOT NULL,
  since         timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, segment_id, customer_id),
  FOREIGN KEY (workspace_id, segment_id) REFERENCES segments (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX segment_members_customer ON segment_members (workspace_id, customer_id);

CREATE TABLE segment_membership_events (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  segment_id    text NOT NULL,
  customer_id   text NOT NULL,
  at            timestamptz NOT NULL,
  change        text NOT NULL CHECK (change IN ('entered', 'left')),
  PRIMARY KEY (workspace_id, segment_id, customer_id, at, change),
  FOREIGN KEY (workspace_id, segment_id) REFERENCES segments (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX segment_membership_events_at ON segment_membership_events (workspace_id, segment_id, at);
CREATE INDEX segment_membership_events_customer ON segment_membership_events (workspace_id, customer_id, at);
