-- Liuke's business data model (SPEC §1). Every table carries workspace_id; the
-- business's own ids are the keys, so re-importing an export updates in place.

CREATE TABLE workspaces (
  id          integer PRIMARY KEY,
  slug        text NOT NULL UNIQUE,
  name        text NOT NULL,
  industry    text NOT NULL DEFAULT 'retail',
  time_zone   text NOT NULL DEFAULT 'Asia/Shanghai',
  currency    text NOT NULL DEFAULT 'CNY',
  locale      text NOT NULL DEFAULT 'zh-CN',
  settings    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO workspaces (id, slug, name) VALUES (1, 'default', 'Default workspace');

CREATE TABLE customers (
  workspace_id          integer NOT NULL REFERENCES workspaces(id),
  id                    text NOT NULL,
  name                  text,
  phone                 text,
  email                 text,
  gender                text CHECK (gender IN ('female', 'male', 'other')),
  birthday              date,
  region                text,
  city                  text,
  time_zone             text,
  registered_at         timestamptz,
  acquisition_channel   text,
  membership_level      text,
  membership_expires_at timestamptz,
  owner                 text,
  preferred_channel     text,
  -- {"email": {"marketing": true, "service": true}, "sms": {...}, ...}
  consent               jsonb NOT NULL DEFAULT '{}',
  attributes            jsonb NOT NULL DEFAULT '{}',
  -- created because an order or event named an id we had not seen
  is_stub               boolean NOT NULL DEFAULT false,
  merged_into           text,
  erased_at             timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX customers_phone ON customers (workspace_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX customers_email ON customers (workspace_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX customers_registered ON customers (workspace_id, registered_at);

CREATE TABLE products (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            text NOT NULL,
  name          text,
  category      text,
  price         numeric(14, 2) CHECK (price >= 0),
  attributes    jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);

CREATE TABLE orders (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            text NOT NULL,
  customer_id   text NOT NULL,
  ordered_at    timestamptz NOT NULL,
  amount        numeric(14, 2) NOT NULL CHECK (amount >= 0),
  discount      numeric(14, 2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
  coupon_code   text,
  status        text NOT NULL DEFAULT 'paid' CHECK (status IN ('paid', 'refunded', 'returned')),
  store         text,
  channel       text,
  attributes    jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX orders_customer_time ON orders (workspace_id, customer_id, ordered_at);
CREATE INDEX orders_time ON orders (workspace_id, ordered_at);

CREATE TABLE order_lines (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  order_id      text NOT NULL,
  line_no       integer NOT NULL,
  product_id    text,
  category      text,
  quantity      numeric(12, 3) NOT NULL DEFAULT 1 CHECK (quantity > 0),
  price         numeric(14, 2) NOT NULL CHECK (price >= 0),
  PRIMARY KEY (workspace_id, order_id, line_no)
);
CREATE INDEX order_lines_product ON order_lines (workspace_id, product_id);

CREATE TABLE events (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  -- Segment's messageId, or for imported rows a hash of the row, so that a
  -- retried batch or a re-imported file stores nothing twice.
  message_id    text NOT NULL,
  customer_id   text,
  anonymous_id  text,
  type          text NOT NULL,
  occurred_at   timestamptz NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  properties    jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (workspace_id, message_id)
);
CREATE INDEX events_customer_time ON events (workspace_id, customer_id, occurred_at);
CREATE INDEX events_type_time ON events (workspace_id, type, occurred_at);

CREATE TABLE tickets (
  workspace_id      integer NOT NULL REFERENCES workspaces(id),
  id                text NOT NULL,
  customer_id       text,
  kind              text NOT NULL DEFAULT 'complaint' CHECK (kind IN ('complaint', 'suggestion', 'inquiry')),
  category          text,
  priority          text NOT NULL DEFAULT 'general' CHECK (priority IN ('urgent', 'important', 'general', 'minor')),
  status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'resolved', 'closed', 'reopened')),
  channel           text,
  subject           text,
  body              text,
  owner             text,
  created_at        timestamptz NOT NULL,
  first_response_at timestamptz,
  resolved_at       timestamptz,
  due_at            timestamptz,
  csat              smallint CHECK (csat BETWEEN 1 AND 5),
  attributes        jsonb NOT NULL DEFAULT '{}',
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX tickets_customer_time ON tickets (workspace_id, customer_id, created_at);
CREATE INDEX tickets_status ON tickets (workspace_id, status, created_at);

CREATE TABLE survey_responses (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            text NOT NULL,
  customer_id   text,
  survey        text NOT NULL DEFAULT 'nps',
  responded_at  timestamptz NOT NULL,
  nps           smallint CHECK (nps BETWEEN 0 AND 10),
  csat          smallint CHECK (csat BETWEEN 1 AND 5),
  churn_reason  text,
  text          text,
  attributes    jsonb NOT NULL DEFAULT '{}',
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX survey_responses_customer_time ON survey_responses (workspace_id, customer_id, responded_at);

CREATE TABLE referrals (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            text NOT NULL,
  referrer_id   text NOT NULL,
  referee_id    text,
  referred_at   timestamptz NOT NULL,
  converted_at  timestamptz,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX referrals_referrer ON referrals (workspace_id, referrer_id, referred_at);

CREATE TABLE coupons (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  code          text NOT NULL,
  customer_id   text,
  campaign      text,
  value         numeric(14, 2) NOT NULL DEFAULT 0,
  min_spend     numeric(14, 2) NOT NULL DEFAULT 0,
  issued_at     timestamptz NOT NULL,
  expires_at    timestamptz,
  redeemed_at   timestamptz,
  order_id      text,
  PRIMARY KEY (workspace_id, code)
);
CREATE INDEX coupons_customer ON coupons (workspace_id, customer_id, issued_at);

-- What the demo generator knows and the business data must not show: each
-- customer's latent purchase rate, drop-out probability and true drop-out
-- date. Later models and uplift measurements are scored against it.
CREATE TABLE demo_truth (
  workspace_id        integer NOT NULL REFERENCES workspaces(id),
  customer_id         text NOT NULL,
  purchase_rate       double precision NOT NULL, -- purchases per day while alive
  dropout_probability double precision NOT NULL, -- per purchase (BG/NBD's p)
  dropped_out_at      timestamptz,               -- null: still alive at the end
  mean_spend          double precision NOT NULL,
  segment             text,
  PRIMARY KEY (workspace_id, customer_id)
);

CREATE TABLE api_keys (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            text PRIMARY KEY,
  name          text,
  role          text NOT NULL CHECK (role IN ('ingest', 'admin')),
  -- sha256 of the whole key; the key itself is shown once and never stored
  key_hash      text NOT NULL UNIQUE,
  prefix        text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text,
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

CREATE TABLE audit_log (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  actor         text NOT NULL,
  action        text NOT NULL,
  entity        text NOT NULL,
  entity_id     text,
  before        jsonb,
  after         jsonb
);
CREATE INDEX audit_log_entity ON audit_log (workspace_id, entity, entity_id, at);
CREATE INDEX audit_log_at ON audit_log (workspace_id, at);

CREATE TABLE import_runs (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entity        text NOT NULL,
  file_name     text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed', 'dry_run')),
  rows_total    integer NOT NULL DEFAULT 0,
  inserted      integer NOT NULL DEFAULT 0,
  updated       integer NOT NULL DEFAULT 0,
  unchanged     integer NOT NULL DEFAULT 0,
  rejected      integer NOT NULL DEFAULT 0,
  report        jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE pipeline_runs (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind          text NOT NULL DEFAULT 'daily',
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  status        text NOT NULL DEFAULT 'running' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  steps         jsonb NOT NULL DEFAULT '[]',
  error         text
);
CREATE INDEX pipeline_runs_started ON pipeline_runs (workspace_id, started_at DESC);
