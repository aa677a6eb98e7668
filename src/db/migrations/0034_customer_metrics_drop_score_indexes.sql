-- customer_metrics loses its indexes on tier, lifecycle stage and RFM segment (0004,
-- partial since 0018). No reader needs them: the reports group the whole table, the
-- segment and tag passes and the rule previews read every customer of the workspace, and
-- no list filters on them (at 1M customers none of the three was used once in a
-- pipeline benchmark's load, full pass and days).
--
-- They cost every daily run. The scoring pass writes these three columns for each
-- customer whose scores or stage move (about 57,000 a day at 1M customers), and an
-- indexed column makes the update non-HOT: a new entry in each of the table's four
-- indexes, where an update of unindexed columns alone stays on its page with none.
-- Measured on a 1M database (bench/RESULTS.md, twentieth session): the same update of
-- 57,000 customers' tier, segment and stage took 1.10–1.43 s with the indexes and
-- 0.60–0.70 s without.
DROP INDEX customer_metrics_tier;
DROP INDEX customer_metrics_stage;
DROP INDEX customer_metrics_segment;
