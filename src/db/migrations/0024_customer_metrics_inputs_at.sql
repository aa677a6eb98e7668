-- The scoring pass's incremental run rescored every customer whose figures row had
-- changed (as_of), yet most rows a day changes only move window counts no score or
-- stage reads (events and logins in 30 days, orders in the previous 90 days, coupon
-- orders, complaints): at 1M customers 185k candidates for about 90k that can move.
-- inputs_at is the figures run that last changed one of the figures the scoring
-- reads (scoring.repository.ts, SCORED_FIGURES).
ALTER TABLE customer_metrics ADD COLUMN inputs_at timestamptz;
-- Rows from before have none: the next scoring run is a full one, and from then on a
-- row without inputs_at has not changed since that run.
DELETE FROM scoring_state;
