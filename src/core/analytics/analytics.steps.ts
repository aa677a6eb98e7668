// The analytics steps of the daily pipeline.
import { sql } from 'kysely';
import type { Step, StepContext } from '../pipeline/pipeline.ts';
import { runCohortsStep } from './cohorts.ts';
import { runKpisStep } from './kpis.ts';
import { refreshCustomerFigures, requireFigures } from './metrics.repository.ts';
import { runScoringStep } from './scoring.repository.ts';
import { analyticsShards, loadAnalyticsSettings } from './settings.ts';

export const customerMetricsStep: Step = {
  name: 'customer_metrics',
  title: { en: 'Customer figures (orders, activity, service)', zh: '客户指标（订单、活跃、服务）' },
  // reads only the business data
  after: [],
  async run(ctx) {
    const s = await loadAnalyticsSettings(ctx.db, ctx.workspaceId);
    const incremental = ctx.mode === 'incremental';
    // Fresh statistics after bulk loads keep the planner off nested loops; PGlite has no autovacuum to do it.
    if (!incremental) await analyzeStale(ctx, ['customers', 'orders', 'order_lines', 'events', 'tickets', 'survey_responses']);
    const r = await refreshCustomerFigures(ctx.db, ctx.workspaceId, ctx.now, s, incremental, await analyticsShards(ctx));
    // The scoring pass reads every row of customer_metrics: plan it on fresh counts, not on an empty table's
    // or on the other workspaces' alone. The pass's own count of rows written decides, not only the
    // server's: a backend passes its counts on at most once a second, so right after the pass they can
    // lack every row it wrote, and a new workspace's rows (20,000 beside another 20,000) were then
    // planned as one, its scoring looping over them for each (77 s instead of 0.5 s).
    if (r.mode === 'full') await analyzeStale(ctx, ['customer_metrics'], r.customers + r.removed);
    return { ...r };
  },
};

/**
 * Analyzes the tables whose statistics are missing or older than a tenth of their
 * rows' changes (autovacuum's own threshold): analyzing six tables on every full run
 * cost more server time than the customer figures' own aggregation of orders.
 * `changed`: rows the caller itself changed in them, which counts when the server's own
 * count is lower (it can lag a second or more behind the writes).
 */
async function analyzeStale(ctx: StepContext, tables: string[], changed = 0): Promise<void> {
  const r = await sql<{ relname: string; stale: boolean }>`
    select c.relname, (coalesce(s.last_analyze, s.last_autoanalyze) is null
                       or greatest(s.n_mod_since_analyze, ${changed}::float8) > 0.1 * greatest(c.reltuples, 1000)
                       -- a column without statistics (e.g. its type was altered since); pg_stats, not
                       -- pg_statistic, which only a superuser may read
                       or exists (select 1 from pg_attribute a
                                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                                    and not exists (select 1 from pg_stats ps
                                                    where ps.schemaname = 'public' and ps.tablename = c.relname
                                                      and ps.attname = a.attname))) as stale
    from pg_class c left join pg_stat_user_tables s on s.relid = c.oid
    where c.relname = any(${tables}::text[]) and c.relkind = 'r' and c.relnamespace = 'public'::regnamespace`.execute(ctx.db);
  const stale = new Set(r.rows.filter((x) => x.stale !== false).map((x) => x.relname));
  const todo = tables.filter((t) => stale.has(t) || !r.rows.some((x) => x.relname === t));
  if (todo.length) await sql`analyze ${sql.join(todo.map((t) => sql.table(t)))}`.execute(ctx.db);
}

export const scoringStep: Step = {
  name: 'rfm_lifecycle',
  title: { en: 'RFM scores, value tiers and lifecycle stages', zh: 'RFM 评分、价值分层与生命周期' },
  after: ['customer_metrics'],
  async run(ctx) {
    await requireFigures(ctx.db, ctx.workspaceId, 'rfm_lifecycle');
    const r = await runScoringStep(ctx);
    // The scoring analyzes the history tables itself after writing 10,000 rows; a smaller
    // workspace's first pass left them without statistics, and the next day's keyed
    // writes then took tier_history for one row and looped over it for every changed
    // customer (0.77 s for 121 tier changes at 5,000 customers).
    // Its own count of customers rescored stands for the history rows written (at most one
    // transition and two tier rows each), as the figures step's does above.
    await analyzeStale(ctx, ['tier_history', 'lifecycle_transitions'], r.changed);
    return r;
  },
};

export const cohortsStep: Step = {
  name: 'cohorts',
  title: { en: 'Cohort retention by first-purchase month', zh: '首购月份同期群留存' },
  // orders, events and customers' first purchases only: runs beside the figures and scores
  after: [],
  run: runCohortsStep,
};

export const kpisStep: Step = {
  name: 'kpis',
  title: { en: 'KPIs with targets, trend and anomaly flags', zh: '关键指标、目标、趋势与异常' },
  // Business data, and tier history as of 90 days ago, which this run's scoring does not
  // change (it closes open rows at now and opens rows from now): runs beside the scoring.
  after: [],
  run: runKpisStep,
};
