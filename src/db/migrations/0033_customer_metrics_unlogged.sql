-- customer_metrics holds figures derived from orders, events, tickets, surveys and
-- referrals, and the scores derived from those figures; every full pipeline run
-- rebuilds it. Its daily writes touch most of its pages (at 1M customers a day moves
-- the window counts of about 140,000 customers, spread over the whole table), and in a
-- logged table the first change of each page after a checkpoint writes the whole page to
-- the WAL: 70,000 such updates wrote 183 MB of WAL and took 1.30 s after a checkpoint,
-- 0.76 s again without the page images; in an unlogged copy of the table 0.64 s.
--
-- Unlogged, as the cohort and KPI state already are (0017): a crash (of the server, or of
-- the process holding an embedded store) empties these three tables, and only then; a
-- clean shutdown keeps them. The empty state row makes the next figures and scoring
-- passes full ones, the scoring takes each customer's stage, its start and the tier back
-- from the logged history (lifecycle_transitions, tier_history) so that no transition is
-- recorded twice, and the worker starts that run as soon as it sees a workspace with
-- customers and no figures (docs/analytics.md, "After a crash"). Unlogged tables are not
-- copied to streaming replicas and not kept by base backups: a promoted standby or a
-- restored base backup recomputes them the same way (docs/architecture.md).
ALTER TABLE customer_metrics SET UNLOGGED;
ALTER TABLE customer_metrics_state SET UNLOGGED;
ALTER TABLE scoring_state SET UNLOGGED;
