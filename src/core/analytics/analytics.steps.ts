// The analytics steps of the daily pipeline.
import { sql } from 'kysely';
import { plannedRows } from '../../db/planner.ts';
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
    // A daily (incremental) run looks only for tables whose statistics undercount the
    // workspace's rows, at a few milliseconds' cost: a workspace analysed when it was small
    // and loaded since, whose new customers the pass is about to recompute.
    const business = ['customers', 'orders', 'order_lines', 'events', 'tickets', 'survey_responses'];
    if (!incremental) await analyzeStale(ctx, business);
    else await analyzeTables(ctx, await underestimatedTables(ctx, business));
    const r = await refreshCustomerFigures(ctx.db, ctx.workspaceId, ctx.now, s, incremental, await analyticsShards(ctx));
    // The scoring pass reads every row of customer_metrics: plan it on fresh counts, not on an empty table's
    // or on the other workspaces' alone. The pass's own count of rows written decides, not only the
    // server's: a backend passes its counts on at most once a second, so right after the pass they can
    // lack every row it wrote, and a new workspace's rows (20,000 beside another 20,000) were then
    // planned as one, its scoring looping over them for each (77 s, in a job that otherwise takes 8 s).
    if (r.mode === 'full') await analyzeStale(ctx, ['customer_metrics'], r.customers + r.removed);
    // an incremental pass inserts the rows of new customers: as many as a load brought
    else await analyzeTables(ctx, await underestimatedTables(ctx, ['customer_metrics']));
    return { ...r };
  },
};

/**
 * Analyzes the tables whose statistics are missing or older than a tenth of their
 * rows' changes (autovacuum's own threshold): analyzing six tables on every full run
 * cost more server time than the customer figures' own aggregation of orders.
 * `changed`: rows the caller itself changed in them, which counts when the server's own
 * count is lower (it can lag a second or more behind the writes). Also those whose
 * statistics put far fewer of the workspace's rows than it has (workspaceUnderestimated):
 * a tenth of the whole table misses a new workspace beside a larger one.
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
  const rest = tables.filter((t) => !stale.has(t) && r.rows.some((x) => x.relname === t));
  const under = new Set(await underestimatedTables(ctx, rest));
  await analyzeTables(ctx, tables.filter((t) => !rest.includes(t) || under.has(t)));
}

async function analyzeTables(ctx: StepContext, tables: string[]): Promise<void> {
  if (tables.length) await sql`analyze ${sql.join(tables.map((t) => sql.table(t)))}`.execute(ctx.db);
}

async function underestimatedTables(ctx: StepContext, tables: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of tables) if (await workspaceUnderestimated(ctx, t)) out.push(t);
  return out;
}

/**
 * Whether the planner puts far fewer of the workspace's rows in `table` than it holds:
 * at least 1,000 more than twice its estimate. Every table here holds all workspaces'
 * rows; a workspace loaded beside a larger one changes under a tenth of the table, and
 * the statistics (of the other workspace's rows) then count its rows as one or two. Its
 * first pass joined them by loops over each other: 51.7 s for 8,000 customers beside
 * 100,000, against 0.8 s, and growing with the square. Checked by counting at most that
 * many of its rows (through the workspace's index prefix), so only when the estimate is
 * under 100,000: an estimate that large is no such mistake, and counting would cost.
 */
async function workspaceUnderestimated(ctx: StepContext, table: string): Promise<boolean> {
  const planned = await plannedRows(ctx.db, sql`select 1 from ${sql.table(table)} where workspace_id = ${ctx.workspaceId}::int`);
  if (!(planned < 100_000)) return false;
  const enough = Math.ceil(2 * planned) + 1_000;
  const r = await sql<{ n: number }>`
    select count(*)::int as n from (select 1 from ${sql.table(table)} where workspace_id = ${ctx.workspaceId}::int limit ${enough}) x`.execute(ctx.db);
  return Number(r.rows[0]!.n) >= enough;
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
