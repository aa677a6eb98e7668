-- customer_stats (0002) was the customer list's order summary until 0010 copied its four
-- figures onto the customer row (customers.stats_*), where the list has read them since.
-- Nothing read the table after that, yet every writer of orders kept it up to date beside
-- the copies: each changed customer was written twice, and a first import of 1M orders
-- with 200k new customers spent 0.71 s inserting their rows. Its one other column,
-- refunded_orders, is in customer_metrics (the analytics' figures) and the 360 view counts
-- it live. The figures on the customer row are the only copy now.
DROP TABLE IF EXISTS customer_stats;
