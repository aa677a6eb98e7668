// SQL of the store-side CLV: the per-customer summary the models are fitted on
// (set-based, from paid orders), the stored predictions and fits, and the
// figures the API serves.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { forEachBatch } from '../../db/cursor.ts';
import type { Session } from '../../db/store.ts';
import { type CustomerSummary, dayToIso } from '../clv/summary.ts';

export const DAY_MS = 86_400_000;

/** Days since 1970-01-01 (UTC) of a time. */
export function utcDay(t: Date): number {
  return Math.floor(t.getTime() / DAY_MS);
}

/** One customer's summary as the query returns it. */
interface SummaryRow {
  customer_id: string;
  /** repeat purchase days up to the calibration end */
  x: number;
  /** first → last purchase day */
  tx: number;
  /** first purchase day → calibration end day */
  t: number;
  /** spend on the repeat days */
  repeat_spend: number;
  /** all spend up to the calibration end */
  total: number;
  /** purchase days and spend in the holdout (calibration end, holdout end] */
  hx: number;
  hs: number;
  /** demo_truth's drop-out (ms since 1970): 'Infinity' when it never drops out, null without a row */
  dropped: number | string | null;
}

/** The summary the models are fitted on, with the demo generator's truth beside it. */
export interface StoreSummary extends CustomerSummary {
  /**
   * When the demo generator's ground truth has the customer drop out, in ms since 1970:
   * +Infinity when it never does, NaN when demo_truth has no row (every business but the demo).
   */
  droppedAt: Float64Array;
}

/**
 * One row per customer whose first paid order is on or before the calibration end day,
 * purchases collapsed to UTC days (as src/core/clv/summary.ts does). Orders after `upTo`
 * are never seen; merged customers are left out. Ordered by customer id (collation "C").
 * Read through a cursor into columns: at 1M customers the rows as objects were hundreds of MB.
 */
export async function loadSummary(
  db: Kysely<Database>,
  workspaceId: number,
  opts: { calibrationEndDay: number; holdoutEndDay?: number; upTo: Date; batch?: number },
): Promise<StoreSummary> {
  const cal = opts.calibrationEndDay;
  const ho = opts.holdoutEndDay ?? cal;
  // The aggregate goes to a temporary table first: there it runs with parallel workers, which a
  // cursor's plan never has (at 1M customers 18 s read whole, 22 s through the cursor alone).
  const summary = sql`
    create temporary table clv_summary on commit drop as
    with d as (
      select o.customer_id, floor(extract(epoch from o.ordered_at) / 86400)::int as day, sum(o.amount)::float8 as amt
      from orders o
      join customers c on c.workspace_id = o.workspace_id and c.id = o.customer_id
      where o.workspace_id = ${workspaceId} and o.status = 'paid' and o.ordered_at <= ${opts.upTo}
        and c.merged_into is null
      group by 1, 2
    ), w as (
      select customer_id, day, amt, min(day) over (partition by customer_id) as first_day
      from d where day <= ${ho}
    )
    select customer_id,
      (count(*) filter (where day <= ${cal}) - 1)::int as x,
      (max(day) filter (where day <= ${cal}) - min(first_day))::int as tx,
      (${cal}::int - min(first_day))::int as t,
      coalesce(sum(amt) filter (where day > first_day and day <= ${cal}), 0)::float8 as repeat_spend,
      coalesce(sum(amt) filter (where day <= ${cal}), 0)::float8 as total,
      count(*) filter (where day > ${cal})::int as hx,
      coalesce(sum(amt) filter (where day > ${cal}), 0)::float8 as hs
    from w
    group by customer_id
    having min(first_day) <= ${cal}`;
  const query = sql<SummaryRow>`
    select s.*,
      case when dt.customer_id is null then null
        else coalesce(extract(epoch from dt.dropped_out_at) * 1000, 'Infinity')::float8 end as dropped
    from clv_summary s left join demo_truth dt on dt.workspace_id = ${workspaceId} and dt.customer_id = s.customer_id
    order by s.customer_id collate "C"`;
  const ids: string[] = [];
  const cols = { x: [] as number[], tx: [] as number[], t: [] as number[], m: [] as number[], total: [] as number[], hx: [] as number[], hm: [] as number[], dropped: [] as number[] };
  await forEachBatch(
    db,
    query,
    (rows) => {
      for (const r of rows) {
        ids.push(r.customer_id);
        cols.x.push(r.x);
        cols.tx.push(r.tx);
        cols.t.push(r.t);
        cols.m.push(r.x > 0 ? r.repeat_spend / r.x : 0);
        cols.total.push(r.total);
        cols.hx.push(r.hx);
        cols.hm.push(r.hx > 0 ? r.hs / r.hx : 0);
        cols.dropped.push(r.dropped === null ? Number.NaN : Number(r.dropped));
      }
    },
    { before: [summary], ...(opts.batch === undefined ? {} : { batch: opts.batch }) },
  );
  const f = (a: number[]) => Float64Array.from(a);
  const s: StoreSummary = {
    ids,
    frequency: f(cols.x),
    recency: f(cols.tx),
    T: f(cols.t),
    monetary: f(cols.m),
    totalSpend: f(cols.total),
    timeUnit: 'days',
    calibrationEnd: dayToIso(cal),
    droppedAt: f(cols.dropped),
  };
  if (opts.holdoutEndDay !== undefined) {
    s.holdout = { observationEnd: dayToIso(ho), duration: ho - cal, frequency: f(cols.hx), monetary: f(cols.hm) };
  }
  return s;
}

export const CLV_COLUMNS = [
  'workspace_id', 'customer_id', 'as_of', 'model', 'frequency', 'recency_days', 'age_days', 'monetary', 'p_alive',
  'exp_purchases_90d', 'exp_purchases_365d', 'exp_avg_spend', 'clv_12m', 'historical_clv',
] as const;

/** RFC 4180 quoted text: never NULL, quotes doubled. */
export function csvText(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** Replaces the workspace's customer_clv rows with CSV lines (CLV_COLUMNS order), in one transaction. */
export async function replaceCustomerClv(s: Session, workspaceId: number, lines: Iterable<string>): Promise<number> {
  await sql`begin`.execute(s.db);
  await s.db.deleteFrom('customer_clv').where('workspace_id', '=', workspaceId).execute();
  const n = await s.copyCsv('customer_clv', CLV_COLUMNS, lines);
  await sql`commit`.execute(s.db);
  return n;
}

export interface FitRecord {
  fittedAt: Date;
  asOf: Date;
  model: string;
  params: Record<string, unknown>;
  spendParams: Record<string, unknown> | null;
  logLikelihood: number;
  customers: number;
  settings: Record<string, unknown>;
  warnings: string[];
  backtest: Record<string, unknown> | null;
}

export async function insertFit(db: Kysely<Database>, workspaceId: number, f: FitRecord): Promise<number> {
  const r = await db
    .insertInto('clv_fits')
    .values({
      workspace_id: workspaceId,
      fitted_at: f.fittedAt,
      as_of: f.asOf,
      model: f.model,
      params: JSON.stringify(f.params),
      spend_params: f.spendParams ? JSON.stringify(f.spendParams) : null,
      log_likelihood: Number.isFinite(f.logLikelihood) ? f.logLikelihood : 0,
      customers: f.customers,
      settings: JSON.stringify(f.settings),
      warnings: JSON.stringify(f.warnings),
      backtest: f.backtest ? JSON.stringify(f.backtest) : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

export function latestFit(db: Kysely<Database>, workspaceId: number) {
  return db
    .selectFrom('clv_fits')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('fitted_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export function customerClv(db: Kysely<Database>, workspaceId: number, customerId: string) {
  return db.selectFrom('customer_clv').selectAll().where('workspace_id', '=', workspaceId).where('customer_id', '=', customerId).executeTakeFirst();
}

export interface ClvOverview {
  customers: number;
  total_clv_12m: number;
  mean_clv_12m: number;
  total_historical_clv: number;
  mean_p_alive: number;
  expected_purchases_365d: number;
  percentiles: { p: number; clv_12m: number }[];
  /** the last bin (to = null) also holds everything above the 99th percentile */
  clv_histogram: { from: number; to: number | null; customers: number }[];
  p_alive_histogram: { from: number; to: number; customers: number }[];
  top: { customer_id: string; name: string | null; clv_12m: number; p_alive: number; historical_clv: number; exp_purchases_365d: number }[];
}

/** Distribution of CLV (percentiles and a 20-bin histogram up to the 99th percentile), P(alive) in tenths, top customers. */
export async function clvOverview(db: Kysely<Database>, workspaceId: number, top = 10): Promise<ClvOverview> {
  const totals = await sql<{
    customers: number;
    total: number | null;
    mean: number | null;
    hist: number | null;
    p_alive: number | null;
    e365: number | null;
    pct: number[] | null;
  }>`
    select count(*)::int as customers, sum(clv_12m) as total, avg(clv_12m) as mean, sum(historical_clv) as hist,
      avg(p_alive) as p_alive, sum(exp_purchases_365d) as e365,
      percentile_cont(array[0.1, 0.25, 0.5, 0.75, 0.9, 0.99]::float8[]) within group (order by clv_12m) as pct
    from customer_clv where workspace_id = ${workspaceId}`.execute(db);
  const t = totals.rows[0]!;
  const ps = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99];
  const pct = (t.pct ?? []).map(Number);
  const hi = pct[5] && pct[5] > 0 ? pct[5] : 1;
  const bins = 20;
  const clvHist = await sql<{ b: number; n: number }>`
    select least(width_bucket(clv_12m, 0, ${hi}::float8, ${bins}), ${bins})::int as b, count(*)::int as n
    from customer_clv where workspace_id = ${workspaceId} group by 1 order by 1`.execute(db);
  const aliveHist = await sql<{ b: number; n: number }>`
    select least(floor(p_alive * 10), 9)::int as b, count(*)::int as n
    from customer_clv where workspace_id = ${workspaceId} group by 1 order by 1`.execute(db);
  const topRows = await sql<ClvOverview['top'][number]>`
    select v.customer_id, c.name, v.clv_12m, v.p_alive, v.historical_clv, v.exp_purchases_365d
    from customer_clv v left join customers c on c.workspace_id = v.workspace_id and c.id = v.customer_id
    where v.workspace_id = ${workspaceId}
    order by v.clv_12m desc, v.customer_id collate "C" limit ${top}`.execute(db);
  const clvCounts = new Map(clvHist.rows.map((r) => [Math.max(1, r.b), r.n]));
  const width = hi / bins;
  return {
    customers: t.customers,
    total_clv_12m: Number(t.total ?? 0),
    mean_clv_12m: Number(t.mean ?? 0),
    total_historical_clv: Number(t.hist ?? 0),
    mean_p_alive: Number(t.p_alive ?? 0),
    expected_purchases_365d: Number(t.e365 ?? 0),
    percentiles: pct.map((v, i) => ({ p: ps[i]!, clv_12m: v })),
    clv_histogram: Array.from({ length: bins }, (_, i) => ({ from: i * width, to: i === bins - 1 ? null : (i + 1) * width, customers: clvCounts.get(i + 1) ?? 0 })),
    p_alive_histogram: Array.from({ length: 10 }, (_, i) => ({ from: i / 10, to: (i + 1) / 10, customers: aliveHist.rows.find((r) => r.b === i)?.n ?? 0 })),
    top: topRows.rows,
  };
}
