-- The KPI step counts, every day, the complaints of the last 30 days resolved within
-- their SLA and the latest NPS answer of each customer over 90 days. Through the plain
-- time indexes each of those rows cost a heap read, and tickets and survey answers lie
-- in the heap customer by customer (a demo, an import of a service desk's export), so
-- a month of complaints is spread over most of the table: at 1M customers 0.34–0.48 s
-- for the complaints (8,000 pages for 20,000 tickets) and 0.32–0.46 s for the NPS
-- answers (7,600 pages), each day. With the columns those counts need carried in the
-- index they are index-only scans: 18 and 88 ms, measured on PostgreSQL 15 at 1M
-- customers. The same columns serve the figures pass's reads of the tickets and
-- answers whose time crossed an edge (customer_id; kind for the 90-day complaints).
-- Unlike 0025's, these tables are updated (a ticket is resolved): their rows
-- are all-visible again once vacuumed, which autovacuum (or the pipeline's upkeep
-- step where it is off) does.
DROP INDEX IF EXISTS tickets_time;
CREATE INDEX tickets_time ON tickets (workspace_id, created_at) INCLUDE (customer_id, kind, priority, resolved_at);
DROP INDEX IF EXISTS survey_responses_time;
CREATE INDEX survey_responses_time ON survey_responses (workspace_id, responded_at) INCLUDE (customer_id, nps);
