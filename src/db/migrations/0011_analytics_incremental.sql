-- The incremental analytics run finds the customers whose rows crossed a window
-- edge since the last run with one index range per table and edge (see
-- touchedCustomers in src/core/analytics/metrics.repository.ts); orders and events
-- already have (workspace_id, time) indexes, these are the other three tables'.
CREATE INDEX tickets_time ON tickets (workspace_id, created_at);
CREATE INDEX survey_responses_time ON survey_responses (workspace_id, responded_at);
CREATE INDEX referrals_time ON referrals (workspace_id, referred_at);
