-- Customer list at 1M customers: the paid-order figures the list sorts and
-- filters on are copied onto the customer row, so a filter (city, level,
-- owner, registered_at, …) and a sort by spend, orders or last order are
-- answered from one table through one index instead of walking
-- customer_stats' index and looking up every customer to test the filter.
--
-- refreshCustomerStats() is the only writer of these columns (it writes
-- customer_stats and these in the same call); nothing that writes customer
-- attributes (imports, ingest identify, merge, erase, demo) has to know
-- about them. NULL means "no stats row yet" — such customers are left out
-- of figure sorts, as before.
ALTER TABLE customers
  ADD COLUMN stats_first_order_at timestamptz,
  ADD COLUMN stats_last_order_at  timestamptz,
  ADD COLUMN stats_orders         integer,
  ADD COLUMN stats_spend          numeric(16, 2);

UPDATE customers c
SET stats_first_order_at = s.first_order_at,
    stats_last_order_at = s.last_order_at,
    stats_orders = s.orders,
    stats_spend = s.spend
FROM customer_stats s
WHERE s.workspace_id = c.workspace_id AND s.customer_id = c.id;

-- One index per figure sort (walked in either direction), and the same with
-- city and membership level in front: a selective city + level filter would
-- otherwise walk the figure index past thousands of other customers.
CREATE INDEX customers_list_spend ON customers (workspace_id, stats_spend, id);
CREATE INDEX customers_list_orders ON customers (workspace_id, stats_orders, id);
CREATE INDEX customers_list_last_order ON customers (workspace_id, stats_last_order_at, id);
CREATE INDEX customers_list_city_level_spend ON customers (workspace_id, city, membership_level, stats_spend, id);
CREATE INDEX customers_list_city_level_orders ON customers (workspace_id, city, membership_level, stats_orders, id);
CREATE INDEX customers_list_city_level_last_order ON customers (workspace_id, city, membership_level, stats_last_order_at, id);
-- registered_at sorts break ties on id.
CREATE INDEX customers_list_registered ON customers (workspace_id, registered_at, id);
DROP INDEX customers_registered;

-- The list no longer reads customer_stats' figure indexes.
DROP INDEX customer_stats_spend;
DROP INDEX customer_stats_orders;
DROP INDEX customer_stats_last_order;
