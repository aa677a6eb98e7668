-- The customer list's city-and-level indexes (0010) serve a filter on city (and level)
-- sorted by a figure. A customer without a city never matches such a filter (city =
-- x is never true for NULL), so their entries were never read, yet every write of
-- their figures (each order import, each figures pass that changes them) added one
-- to each of the three, and a bulk load rebuilt them: stub customers made by an
-- orders file have no city, and at 200k stubs the three builds took 1.4 s of a 1M-order
-- import. Left out, they cost nothing. A filter `city = $1` implies city IS NOT NULL
-- (the operator is strict), so the planner still uses these for it.
DROP INDEX customers_list_city_level_spend;
DROP INDEX customers_list_city_level_orders;
DROP INDEX customers_list_city_level_last_order;
CREATE INDEX customers_list_city_level_spend ON customers (workspace_id, city, membership_level, stats_spend, id) WHERE city IS NOT NULL;
CREATE INDEX customers_list_city_level_orders ON customers (workspace_id, city, membership_level, stats_orders, id) WHERE city IS NOT NULL;
CREATE INDEX customers_list_city_level_last_order ON customers (workspace_id, city, membership_level, stats_last_order_at, id) WHERE city IS NOT NULL;
