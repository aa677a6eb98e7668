-- customers_phone (workspace_id, phone) and customers_email (workspace_id, lower(email))
-- sit beside customers_phone_prefix and customers_email_prefix (0002), the same columns
-- with text_pattern_ops. A text_pattern_ops btree also answers `=` and `= any(...)`
-- (equality is in its operator family), so every lookup the plain ones served (the
-- duplicate-identity report's members, equality on a phone or an e-mail) walks the
-- prefix index instead; nothing sorts by phone or e-mail. Each was an index entry more
-- for every customer row written: a figures refresh changes customers.stats_*, which the
-- list's indexes cover, so it is never a HOT update and writes into every index of the
-- table. At 1M customers, refreshing 14k customers' figures (a day's orders) wrote 820 MB
-- of WAL, most of it first-touch page images of index pages; without these two, the same
-- update took 2.8-3.4 s instead of 3.4-4.2 s (interleaved runs, PostgreSQL 15).
DROP INDEX IF EXISTS customers_phone;
DROP INDEX IF EXISTS customers_email;
