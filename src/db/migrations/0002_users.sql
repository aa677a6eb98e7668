-- Users, sessions and login throttling (product shell), the per-customer order
-- summary the customer list sorts on, and the indexes customer search uses.

CREATE TABLE users (
  workspace_id          integer NOT NULL REFERENCES workspaces(id),
  id                    text PRIMARY KEY,
  email                 text NOT NULL,
  name                  text,
  role                  text NOT NULL CHECK (role IN ('admin', 'operator', 'analyst', 'agent', 'viewer')),
  -- argon2id PHC string; never the password
  password_hash         text NOT NULL,
  locale                text NOT NULL DEFAULT 'zh-CN' CHECK (locale IN ('zh-CN', 'en')),
  created_at            timestamptz NOT NULL DEFAULT now(),
  disabled_at           timestamptz,
  must_change_password  boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX users_email ON users (workspace_id, lower(email));

CREATE TABLE sessions (
  -- sha256 of the random cookie value; the value itself is never stored
  id            text PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  user_agent    text,
  ip            text
);
CREATE INDEX sessions_user ON sessions (workspace_id, user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- One row per failed login; the limiter counts rows for (email, ip) in the
-- window. In the store rather than in memory so several server processes
-- share one limit and a restart does not reset it.
CREATE TABLE login_attempts (
  workspace_id  integer NOT NULL REFERENCES workspaces(id),
  email         text NOT NULL,
  ip            text NOT NULL,
  at            timestamptz NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (workspace_id, email, ip, at);

-- Paid-order summary per customer, refreshed set-based by
-- refreshCustomerStats() after imports, ingest and demo loads. The customer
-- list sorts and filters on these columns through their indexes instead of
-- aggregating 10M orders per request.
CREATE TABLE customer_stats (
  workspace_id     integer NOT NULL REFERENCES workspaces(id),
  customer_id      text NOT NULL,
  first_order_at   timestamptz,
  last_order_at    timestamptz,
  orders           integer NOT NULL DEFAULT 0,
  spend            numeric(16, 2) NOT NULL DEFAULT 0,
  refunded_orders  integer NOT NULL DEFAULT 0,
  refreshed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX customer_stats_spend ON customer_stats (workspace_id, spend, customer_id);
CREATE INDEX customer_stats_orders ON customer_stats (workspace_id, orders, customer_id);
CREATE INDEX customer_stats_last_order ON customer_stats (workspace_id, last_order_at, customer_id);

-- Customer search (q): exact/prefix id, phone prefix, phone suffix (reverse),
-- email prefix and name prefix, all case-insensitive where it matters.
-- pg_trgm is not in PGlite's default build, so "contains" is not indexed;
-- prefix searches on these btree indexes stay fast at millions of rows.
CREATE INDEX customers_id_prefix ON customers (workspace_id, id text_pattern_ops);
CREATE INDEX customers_name_prefix ON customers (workspace_id, lower(name) text_pattern_ops) WHERE name IS NOT NULL;
CREATE INDEX customers_phone_prefix ON customers (workspace_id, phone text_pattern_ops) WHERE phone IS NOT NULL;
CREATE INDEX customers_phone_suffix ON customers (workspace_id, reverse(phone) text_pattern_ops) WHERE phone IS NOT NULL;
CREATE INDEX customers_email_prefix ON customers (workspace_id, lower(email) text_pattern_ops) WHERE email IS NOT NULL;
CREATE INDEX customers_name_sort ON customers (workspace_id, name, id);
-- No indexes on city or membership level: a handful of values each, so a filter on
-- them reads a large share of the table anyway; the sort index drives those pages.
