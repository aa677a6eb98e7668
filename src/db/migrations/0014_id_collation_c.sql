-- The business's ids and codes compare and sort bytewise (COLLATE "C"), on every
-- table that holds or joins on them. A database created with a real locale
-- (PostgreSQL 15 treats C.UTF-8 as one) otherwise compares every id through
-- strcoll: index builds and merge joins on these columns cost about 25-30 %
-- more CPU for nothing, since ids are codes, not words (docs/decisions.md).
-- All of them change together: an index on one collation is not used for an
-- equality with another. Only the indexes on these columns are rebuilt; the
-- tables are not rewritten (same type, same bytes). On PGlite (a C database)
-- nothing orders differently.
ALTER TABLE customers
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN merged_into TYPE text COLLATE "C";
ALTER TABLE products ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE orders
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN customer_id TYPE text COLLATE "C",
  ALTER COLUMN coupon_code TYPE text COLLATE "C";
ALTER TABLE order_lines
  ALTER COLUMN order_id TYPE text COLLATE "C",
  ALTER COLUMN product_id TYPE text COLLATE "C";
-- type is a code too ('login', 'page_view', …), and events_type_time is the
-- largest index the demo and imports build
ALTER TABLE events
  ALTER COLUMN message_id TYPE text COLLATE "C",
  ALTER COLUMN customer_id TYPE text COLLATE "C",
  ALTER COLUMN anonymous_id TYPE text COLLATE "C",
  ALTER COLUMN type TYPE text COLLATE "C";
ALTER TABLE tickets
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE survey_responses
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE referrals
  ALTER COLUMN id TYPE text COLLATE "C",
  ALTER COLUMN referrer_id TYPE text COLLATE "C",
  ALTER COLUMN referee_id TYPE text COLLATE "C";
ALTER TABLE coupons
  ALTER COLUMN code TYPE text COLLATE "C",
  ALTER COLUMN customer_id TYPE text COLLATE "C",
  ALTER COLUMN order_id TYPE text COLLATE "C";
ALTER TABLE demo_truth ALTER COLUMN customer_id TYPE text COLLATE "C";

-- what the analytics, segments and models keep per customer or product
ALTER TABLE customer_stats ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE customer_metrics ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE tier_history ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE lifecycle_transitions ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE segment_members ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE segment_membership_events ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE churn_scores ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE customer_clv ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE customer_clusters ALTER COLUMN customer_id TYPE text COLLATE "C";
ALTER TABLE customer_next_products
  ALTER COLUMN customer_id TYPE text COLLATE "C",
  ALTER COLUMN product_id TYPE text COLLATE "C",
  ALTER COLUMN from_product TYPE text COLLATE "C";
ALTER TABLE product_affinities
  ALTER COLUMN from_product TYPE text COLLATE "C",
  ALTER COLUMN to_product TYPE text COLLATE "C";
ALTER TABLE product_repurchase ALTER COLUMN product_id TYPE text COLLATE "C";
