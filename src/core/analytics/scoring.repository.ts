// The scoring pass over customer_metrics: R/F/M scores, the weighted 0–100 RFM
// score, value tier, named RFM segment and lifecycle stage. One statement also
// closes/opens tier_history rows and records lifecycle transitions, reading the
// previous values from the same snapshot, and writes only the rows that change.
//
// Nothing stored moves with the calendar (recency and the frequency baseline are
// derived when read), so from one run to the next a customer's scores or stage
// can only change if a figure they are computed from changed (customer_metrics.
// inputs_at is the figures run that last changed one), a score threshold moved
// past their value, or time carried them across a lifecycle threshold. An incremental run scores only
// those customers; scoring_state keeps what the last run used to find them.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { StepContext } from '../pipeline/pipeline.ts';
import { countRows, estimatedRows, sampledQuantiles } from '../../db/planner.ts';
import { type AnalyticsSettings, analyticsSession, analyticsShards, eachShard, loadAnalyticsSettings } from './settings.ts';

/**
 * The figures the scores and the stage are computed from. The figures pass stamps a
 * row's inputs_at when one of them changes, and an incremental run rescores only those
 * rows (and the ones a threshold or time moved past): a figure read here must be listed.
 */
export const SCORED_FIGURES = ['first_order_at', 'last_order_at', 'last_event_at', 'orders_window', 'spend_window', 'orders_90d', 'orders_base'] as const;

const DAY = 86_400_000;
/** Up to this many changed rows are written by key lookups rather than hash joins (40k of 1M measured). */
const KEYED_WRITES = 100_000;
/** `days` whole days of 86,400 s before t (recency and tenure count elapsed seconds, not calendar days). */
const before = (t: Date, days: number) => new Date(t.getTime() - days * DAY);
/**
 * "More than `days` whole days before t" ⇔ at or before this instant (recency, idle
 * time and tenure count whole days of 86,400 s). The scoring and the incremental
 * candidate test use this one definition, so they cannot disagree on a threshold.
 */
const moreThanDays = (t: Date, days: number) => before(t, Math.floor(days) + 1);

/**
 * Score thresholds of one run. R = 1 + the number of `r` timestamps a customer's
 * last purchase is after; F (M) = 1 + the number of `f` (`m`) values their
 * orders (spend) in the window pass — strictly for quintiles, or reach for
 * fixed breakpoints. Expressed on the stored figures, so a customer's score moves
 * only when their figure or a threshold moves past it.
 */
interface Cuts {
  r: string[];
  f: number[];
  m: string[];
  strict: boolean;
}

/** What the last run scored with (scoring_state). */
interface State {
  asOf: Date;
  sameSettings: boolean;
  cuts: Cuts;
}

/**
 * Quintiles as `min(5, 1 + floor(percent_rank × 5))` without a window: with n
 * buyers, a score of at least k + 1 means at least c = ceil(k(n − 1)/5) buyers
 * rank strictly before, i.e. a value past the c-th value in rank order. Ties share
 * the lower score, as with percent_rank. The c-th value is read off each figure's
 * counts per value (one scan, three hash tables of a few thousand values: recency
 * in whole days, orders and spend in the window) instead of sorting every buyer
 * three times. Recency falls as last_order_at rises, so the c-th last purchase in
 * ascending order has the c-th recency in descending order.
 */
async function quintileCuts(db: Kysely<Database>, workspaceId: number, now: Date): Promise<Cuts> {
  return cutsFrom(db, now, histogram(workspaceId, now, null));
}

/**
 * The same cuts from the histograms of block ranges (see scoreCustomers), each read
 * by `read` (in one snapshot), summed per value by the server. Values travel as text:
 * spend is numeric, and only the server orders it exactly.
 */
async function shardedQuintileCuts(
  db: Kysely<Database>,
  workspaceId: number,
  now: Date,
  ranges: RawBuilder<boolean>[],
  read: (queries: RawBuilder<HistRow>[]) => Promise<HistRow[][]>,
): Promise<Cuts> {
  const rows = (await read(ranges.map((r) => histogram(workspaceId, now, r)))).flat();
  const merged = sql<HistRow>`
    select g, case when g = 3 then v::int end as rd, case when g = 5 then v::int end as f, case when g = 6 then v::numeric end as m, sum(n) as n
    from unnest(${rows.map((r) => r.g)}::int[], ${rows.map((r) => r.v)}::text[], ${rows.map((r) => r.n)}::float8[]) as x (g, v, n)
    group by 1, 2, 3, 4`;
  return cutsFrom(db, now, merged);
}

/** One histogram row: grouping(rd, f, m) (3: recency days, 5: orders, 6: spend), the value as text, the buyers with it. */
interface HistRow {
  g: number;
  v: string;
  n: number;
}

/**
 * Buyers per value of each figure (recency in whole days, orders and spend in the
 * window), over the workspace's rows or those in `range`: one scan, grouping sets.
 */
function histogram(workspaceId: number, now: Date, range: RawBuilder<boolean> | null): RawBuilder<HistRow> {
  // recency in whole days: the interval's seconds are exact to the microsecond in float8,
  // far finer than the distance of any microsecond timestamp from a day's boundary
  return sql<HistRow>`
    select grouping(rd, f, m) as g, coalesce(rd::text, f::text, m::text) as v, rd, f, m, count(*)::float8 as n
    from (select floor(date_part('epoch', ${now}::timestamptz - last_order_at) / 86400)::int as rd,
                 orders_window as f, spend_window as m
          from customer_metrics where workspace_id = ${workspaceId} and last_order_at is not null ${range ? sql`and ${range}` : sql``}) b
    group by grouping sets ((rd), (f), (m))`;
}

/** The cuts from a histogram (columns g, rd, f, m, n; see histogram). */
async function cutsFrom(db: Kysely<Database>, now: Date, hist: RawBuilder<unknown>): Promise<Cuts> {
  const r = await sql<{ n: string; r: number[] | null; f: number[] | null; m: string[] | null }>`
    with h as materialized (${hist}),
    p as materialized (select coalesce(sum(n), 0) as n from h where g = 3),
    c as materialized (select k, ceil(k * (p.n - 1) / 5) as c from p, generate_series(1, 4) as k where p.n >= 2),
    hr as materialized (select rd, sum(n) over (order by rd desc) as cum from h where g = 3),
    hf as materialized (select f, sum(n) over (order by f) as cum from h where g = 5),
    hm as materialized (select m, sum(n) over (order by m) as cum from h where g = 6)
    select (select n from p)::bigint as n,
           case when (select n from p) >= 2 then array(select (select rd from hr where cum >= c.c order by rd desc limit 1) from c order by k) end as r,
           case when (select n from p) >= 2 then array(select (select f from hf where cum >= c.c order by f limit 1) from c order by k) end as f,
           case when (select n from p) >= 2 then array(select (select m from hm where cum >= c.c order by m limit 1) from c order by k) end as m`.execute(db);
  const row = r.rows[0]!;
  if (Number(row.n) < 2 || !row.r || !row.f || !row.m) return { r: [], f: [], m: [], strict: true };
  // recency_days < d  ⇔  last_order_at > now − d days
  return { r: row.r.map((d) => before(now, Number(d)).toISOString()), f: row.f.map(Number), m: row.m.map(String), strict: true };
}

function breakpointCuts(s: AnalyticsSettings, now: Date): Cuts {
  const b = s.rfm.breakpoints;
  // recency_days ≤ d  ⇔  not more than d days
  return { r: b.recency.map((d) => moreThanDays(now, d).toISOString()), f: b.frequency, m: b.monetary.map(String), strict: false };
}

/**
 * An orders threshold as a whole number that gives every (whole) count the same answer:
 * `> x` is `> floor(x)`, `≥ x` is `≥ ceil(x)`. Counts are then compared as integers (a
 * numeric threshold had the store convert every row's count to numeric), clamped to
 * what a bigint parameter holds.
 */
function wholeOrders(x: number, strict: boolean): number {
  const w = strict ? Math.floor(x) : Math.ceil(x);
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, w));
}

function scoreExpr(c: Cuts): { r: RawBuilder<number>; f: RawBuilder<number>; m: RawBuilder<number> } {
  const sum = (terms: RawBuilder<unknown>[]) =>
    terms.length === 0 ? sql<number>`1` : sql<number>`(1 + ${sql.join(terms.map((x) => sql`(${x})::int`), sql` + `)})`;
  const pass = (col: string, v: number | string) => (c.strict ? sql`${sql.ref(col)} > ${v}::numeric` : sql`${sql.ref(col)} >= ${v}::numeric`);
  const passOrders = (v: number) => (c.strict ? sql`orders_window > ${wholeOrders(v, true)}::bigint` : sql`orders_window >= ${wholeOrders(v, false)}::bigint`);
  return {
    r: sum(c.r.map((t) => sql`last_order_at > ${t}::timestamptz`)),
    f: sum(c.f.map(passOrders)),
    m: sum(c.m.map((v) => pass('spend_window', v))),
  };
}

/** The classic named RFM segments by R and F score (docs/analytics.md has the grid). */
const SEGMENT = sql<string>`case
  when r = 1 and f <= 2 and m <= 2 then 'lost'
  when r <= 2 and f <= 2 then 'hibernating'
  when r <= 2 and f <= 4 then 'at_risk'
  when r <= 2 then 'cannot_lose_them'
  when r = 3 and f <= 2 then 'about_to_sleep'
  when r = 3 and f = 3 then 'need_attention'
  when r <= 4 and f >= 4 then 'loyal'
  when r = 4 and f = 1 then 'promising'
  when r = 5 and f = 1 then 'new'
  when f <= 3 then 'potential_loyalist'
  else 'champions' end`;

/**
 * The customer's own rhythm at time t: orders per 90 days over up to 12 months
 * before the last 90 days, once at least 90 days of that history exist. It
 * shrinks day by day until that history reaches 12 months, hence derived, not stored.
 */
const baselineAt = (t: Date) => sql<number>`case when first_order_at <= ${before(t, 180)}::timestamptz
  then orders_base * 90.0 / least(365.0, extract(epoch from (${before(t, 90)}::timestamptz - first_order_at)) / 86400.0) end`;

/** At risk by the frequency drop at time t. */
const droppedAt = (t: Date, s: AnalyticsSettings) => {
  const b = baselineAt(t);
  return sql<boolean>`(${b} >= 1 and orders_90d <= (1 - ${s.lifecycle.frequencyDrop}::float8) * ${b})`;
};

function settingsKey(s: AnalyticsSettings): string {
  return JSON.stringify({ rfm: s.rfm, tiers: s.tiers, lifecycle: s.lifecycle });
}

async function loadState(db: Kysely<Database>, workspaceId: number, s: AnalyticsSettings): Promise<State | null> {
  const r = await sql<{ as_of: Date; same: boolean; cuts: Cuts }>`
    select as_of, settings = ${settingsKey(s)}::jsonb as same, cuts from scoring_state where workspace_id = ${workspaceId}`.execute(db);
  const row = r.rows[0];
  return row ? { asOf: new Date(row.as_of), sameSettings: row.same, cuts: row.cuts } : null;
}

/**
 * The customers whose scores or stage can differ from what the last run stored,
 * as a filter on customer_metrics, or null when everyone must be rescored (no
 * earlier run, other settings, other kinds of thresholds, or time going back).
 * Each threshold test below is the one the scoring uses, evaluated at the last
 * run's time and at now: a customer whose figures did not change and passes every
 * threshold the same way at both times keeps the stored scores and stage.
 */
function candidates(prev: State | null, now: Date, cuts: Cuts, s: AnalyticsSettings): RawBuilder<boolean> | null {
  if (!prev?.sameSettings || prev.asOf.getTime() >= now.getTime()) return null;
  const p = prev.cuts;
  if (p.strict !== cuts.strict || p.r.length !== cuts.r.length || p.f.length !== cuts.f.length || p.m.length !== cuts.m.length) return null;
  const t = prev.asOf;
  const moved: RawBuilder<boolean>[] = [sql`inputs_at > ${t}::timestamptz`];
  // A value passes one threshold and not the other ⇔ it lies between them: written as a
  // range (`v > lo and v <= hi` for `>` or `≤` tests, `v >= lo and v < hi` for `≥`), whose
  // first comparison settles most rows, rather than as the two tests compared (both always
  // run; nearly every row fails every term, so the filter costs what its comparisons do).
  // The bounds are constants: least() and greatest() of them are folded when planned.
  const between = (col: RawBuilder<unknown>, a: unknown, b: unknown, type: 'timestamptz' | 'bigint' | 'numeric', reach = false) => {
    const x = sql`${a}::${sql.raw(type)}`;
    const y = sql`${b}::${sql.raw(type)}`;
    return reach
      ? sql<boolean>`(${col} >= least(${x}, ${y}) and ${col} < greatest(${x}, ${y}))`
      : sql<boolean>`(${col} > least(${x}, ${y}) and ${col} <= greatest(${x}, ${y}))`;
  };
  cuts.r.forEach((x, i) => {
    if (Date.parse(x) !== Date.parse(p.r[i]!)) moved.push(between(sql`last_order_at`, p.r[i], x, 'timestamptz'));
  });
  const whole = (x: number) => wholeOrders(x, cuts.strict);
  cuts.f.forEach((x, i) => {
    if (whole(x) !== whole(p.f[i]!)) moved.push(between(sql`orders_window`, whole(p.f[i]!), whole(x), 'bigint', !cuts.strict));
  });
  cuts.m.forEach((x, i) => {
    if (x !== p.m[i]) moved.push(between(sql`spend_window`, p.m[i], x, 'numeric', !cuts.strict));
  });
  const l = s.lifecycle;
  // `col ≤ moreThanDays(·)` answered differently at the last run's time and at now.
  const crossed = (col: RawBuilder<unknown>, d: number) => between(col, moreThanDays(t, d), moreThanDays(now, d), 'timestamptz');
  const lo = sql`last_order_at`;
  const fo = sql`first_order_at`;
  moved.push(crossed(lo, l.churnDays), crossed(lo, l.dormantDays), crossed(sql`greatest(last_order_at, last_event_at)`, l.inactiveDays));
  moved.push(crossed(fo, l.newDays), crossed(fo, l.growingDays));
  // The frequency-drop test: the baseline b = 90·orders_base / L days of history (L grows
  // with time up to 365) must be at least 1, and orders_90d at most (1 − drop)·b, i.e.
  // L ≤ K = min(90·orders_base, (1 − drop)·90·orders_base / orders_90d). Its answer can
  // change only when the baseline starts (180 days after the first purchase) or when L
  // passes K, at first_order_at + 90 + K days; the second is tested in float8 epochs with a
  // second's margin either side (a superset of the rows whose numeric test changes answer;
  // the exact test is the scoring's). Computing both baselines was a third of the filter.
  const k = sql`least(90.0::float8 * orders_base, case when orders_90d > 0 then ${(1 - l.frequencyDrop) * 90}::float8 * orders_base / orders_90d end)`;
  const flipAt = sql`date_part('epoch', first_order_at) + 86400.0 * (90.0 + ${k})`;
  moved.push(
    sql`(first_order_at > ${before(t, 455)}::timestamptz and first_order_at <= ${before(now, 180)}::timestamptz and orders_base > 0
         and (first_order_at > ${before(t, 180)}::timestamptz
              or (${k} < 366 and ${flipAt} > ${t.getTime() / 1000 - 1}::float8 and ${flipAt} <= ${now.getTime() / 1000 + 1}::float8)))`,
  );
  return sql<boolean>`(${sql.join(moved, sql` or `)})`;
}

/** What a run scores with, read once before any write. */
interface Plan {
  cuts: Cuts;
  prev: State | null;
  /** The candidates' filter (incremental), or null: every customer. */
  only: RawBuilder<boolean> | null;
  /** History rows stamped with this run's time exist (a run at the same time redone). */
  redo: boolean;
}

async function planScoring(
  trx: Kysely<Database>,
  workspaceId: number,
  now: Date,
  s: AnalyticsSettings,
  mode: 'full' | 'incremental',
  quintiles: () => Promise<Cuts> = () => quintileCuts(trx, workspaceId, now),
): Promise<Plan> {
  const cuts = s.rfm.method === 'quintile' ? await quintiles() : breakpointCuts(s, now);
  const prev = await loadState(trx, workspaceId, s);
  // Rows stamped with this run's time exist only when a run at the same time is redone;
  // otherwise plain inserts (an ON CONFLICT insert probes the key before inserting).
  const t = sql`${now}::timestamptz`;
  const redo =
    (
      await sql`select 1 as x where exists (select 1 from lifecycle_transitions where workspace_id = ${workspaceId} and at = ${t})
                 or exists (select 1 from tier_history where workspace_id = ${workspaceId} and valid_from = ${t})`.execute(trx)
    ).rows.length > 0;
  return { cuts, prev, only: mode === 'incremental' ? candidates(prev, now, cuts, s) : null, redo };
}

/** A run that writes this many rows or more leaves the history tables' statistics stale. */
const ANALYZE_AFTER = 10_000;

/**
 * Scores the workspace's customers at `now`. `incremental` scores only the
 * customers whose results can have changed since the last run (the same rows a
 * full recompute would write); either way only changed rows are written.
 *
 * `shards` > 1 splits the writes by the rows' place in customer_metrics (block
 * ranges, TID range scans) into that many transactions. They run at once when
 * `parallel` (a PostgreSQL server: one pool connection each), else one after
 * another. Each shard writes absolute values for its own customers, so a shard
 * finding rows another one already rewrote sees nothing to change. But a run
 * whose shards did not all commit must not become the next incremental run's
 * baseline (the committed half would be scored against cuts the state does not
 * name): scoring_state is removed before the first shard and written after the
 * last, so a failure or a crash in between makes the next run a full one.
 */
export async function scoreCustomers(
  db: Kysely<Database>,
  workspaceId: number,
  now: Date,
  s: AnalyticsSettings,
  mode: 'full' | 'incremental' = 'full',
  opts: { shards?: number; parallel?: boolean } = {},
): Promise<{ mode: 'full' | 'incremental'; changed: number; shards?: number }> {
  const shards = Math.max(1, Math.floor(opts.shards ?? 1));
  await restoreFromHistory(db, workspaceId);
  if (shards === 1) {
    return db.transaction().execute(async (trx) => {
      await analyticsSession(trx);
      const plan = await planScoring(trx, workspaceId, now, s, mode);
      const written = await writeScores(trx, workspaceId, now, s, plan, null);
      if (!plan.only && written >= ANALYZE_AFTER) await sql`analyze tier_history, lifecycle_transitions`.execute(trx);
      await saveState(trx, workspaceId, now, s, plan.cuts);
      return { mode: plan.only ? 'incremental' : 'full', changed: written };
    });
  }
  // Repeatable read: the other connections read the quintile histograms in this snapshot.
  const { plan, ranges } = await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      await analyticsSession(trx);
      const edges = await shardEdges(trx, workspaceId, shards);
      // Shard k takes the blocks [edges[k-1], edges[k]); the first from 0, the last to the end (any added since too).
      const ranges = Array.from({ length: shards }, (_, k) => {
        const lo = k > 0 ? sql`ctid >= ${`(${edges[k - 1]},0)`}::tid` : null;
        const hi = k < shards - 1 ? sql`ctid < ${`(${edges[k]},0)`}::tid` : null;
        return sql<boolean>`${sql.join([lo, hi].filter((x) => x !== null), sql` and `)}`;
      });
      const read = async (queries: RawBuilder<HistRow>[]): Promise<HistRow[][]> => {
        // TID range scans, one per connection (a parallel plan would scan every block).
        await sql`set local max_parallel_workers_per_gather = 0`.execute(trx);
        const id = opts.parallel ? (await sql<{ id: string }>`select pg_export_snapshot() as id`.execute(trx)).rows[0]!.id : null;
        if (id !== null && !/^[0-9A-Fa-f-]+$/.test(id)) throw new Error(`unexpected snapshot id ${id}`);
        // The first range in this transaction, the others (at once) in transactions of its snapshot.
        const out = await eachShard(queries, id !== null, async (q, k) => {
          if (k === 0 || id === null) return (await q.execute(trx)).rows;
          return db
            .transaction()
            .setIsolationLevel('repeatable read')
            .execute(async (t) => {
              await sql.raw(`set transaction snapshot '${id}'`).execute(t);
              await sql`set local max_parallel_workers_per_gather = 0`.execute(t);
              return (await q.execute(t)).rows;
            });
        });
        await sql`reset max_parallel_workers_per_gather`.execute(trx);
        return out;
      };
      const plan = await planScoring(trx, workspaceId, now, s, mode, () => shardedQuintileCuts(trx, workspaceId, now, ranges, read));
      await sql`delete from scoring_state where workspace_id = ${workspaceId}`.execute(trx);
      return { plan, ranges };
    });
  const shard = (range: RawBuilder<boolean>) =>
    db.transaction().execute(async (trx) => {
      await analyticsSession(trx);
      // A TID range scan of the shard's blocks, not a parallel scan of every block with the range as a filter.
      await sql`set local max_parallel_workers_per_gather = 0`.execute(trx);
      return writeScores(trx, workspaceId, now, s, plan, range);
    });
  const written = (await eachShard(ranges, opts.parallel === true, shard)).reduce((a, b) => a + b, 0);
  await db.transaction().execute(async (trx) => {
    if (!plan.only && written >= ANALYZE_AFTER) await sql`analyze tier_history, lifecycle_transitions`.execute(trx);
    await saveState(trx, workspaceId, now, s, plan.cuts);
  });
  return { mode: plan.only ? 'incremental' : 'full', changed: written, shards };
}

/**
 * A crash empties customer_metrics and scoring_state (both unlogged, migration 0033); the
 * figures pass then inserts every customer's row anew, unscored. Before scoring those
 * rows, each customer's stage, the time they entered it and their tier are taken back
 * from the logged history (the latest transition, the open tier_history row), so that
 * the full scoring that follows records only real moves: without this, every customer
 * would get a second transition into the stage they were already in, and "in this stage
 * since" would restart at the run. Only when there is no scoring state (a first run, or
 * after a crash or a failed run), and only for rows never scored (null stage) of a
 * workspace with history: a first run probes the history once and finds none.
 */
async function restoreFromHistory(db: Kysely<Database>, workspaceId: number): Promise<number> {
  const r = await sql`
    select 1 as x where not exists (select 1 from scoring_state where workspace_id = ${workspaceId})
      and exists (select 1 from lifecycle_transitions where workspace_id = ${workspaceId})`.execute(db);
  if (r.rows.length === 0) return 0;
  // Per customer through the history tables' keys (latest transition, open tier row).
  const u = await sql`
    update customer_metrics cm set lifecycle_stage = x.to_stage, stage_since = x.at, tier = x.tier
    from (
      select c.customer_id, t.to_stage, t.at, h.tier
      from customer_metrics c
        cross join lateral (
          select to_stage, at from lifecycle_transitions t
          where t.workspace_id = ${workspaceId} and t.customer_id = c.customer_id
          order by at desc limit 1) t
        left join lateral (
          select tier from tier_history h
          where h.workspace_id = ${workspaceId} and h.customer_id = c.customer_id and h.valid_to is null
          limit 1) h on true
      where c.workspace_id = ${workspaceId} and c.lifecycle_stage is null
    ) x
    where cm.workspace_id = ${workspaceId} and cm.customer_id = x.customer_id`.execute(db);
  return Number(u.numAffectedRows ?? 0);
}

/**
 * The n − 1 block numbers that split the workspace's rows of customer_metrics into
 * n parts of about as many rows, from a sample of about 1,000 blocks (all of a
 * small table's): rows are not spread evenly over the blocks (updates that did not
 * fit their page moved to the end, a first pass filled pages to the fill factor),
 * and equal block ranges held 390k and 620k of 1M rows.
 */
async function shardEdges(trx: Kysely<Database>, workspaceId: number, n: number): Promise<number[]> {
  const fractions = Array.from({ length: n - 1 }, (_, k) => (k + 1) / n);
  // none sampled (a workspace of a few rows in a large table): every row in the last shard
  return (await sampledQuantiles<number>(trx, workspaceId, sql`(ctid::text::point)[0]`, fractions))?.map(Number) ?? fractions.map(() => 0);
}

/**
 * Writes the scores, stage, tier history and lifecycle transitions of the rows of
 * customer_metrics (all of the workspace's, or those in `range`) whose results
 * differ from what is stored. Returns the customer_metrics rows written.
 */
async function writeScores(
  trx: Kysely<Database>,
  workspaceId: number,
  now: Date,
  s: AnalyticsSettings,
  plan: Plan,
  range: RawBuilder<boolean> | null,
): Promise<number> {
  const { cuts, prev, only, redo } = plan;
  const t = sql`${now}::timestamptz`;
  const over = (days: number) => moreThanDays(now, days);
  const w = s.rfm.weights;
  const wsum = w.r + w.f + w.m;
  const l = s.lifecycle;
  const { r, f, m } = scoreExpr(cuts);
  const filters = [only, range].filter((x) => x !== null);
  const scored = sql`
    base as (
      select customer_id, first_order_at, last_order_at, last_event_at, orders_90d, orders_base,
             case when last_order_at is not null then ${r} end as r,
             case when last_order_at is not null then ${f} end as f,
             case when last_order_at is not null then ${m} end as m,
             -- the stored values, to write only what moves
             r_score as old_r, f_score as old_f, m_score as old_m,
             rfm_score as old_rfm_score, tier as old_tier, rfm_segment as old_segment, lifecycle_stage as old_stage
      from customer_metrics where workspace_id = ${workspaceId} ${sql.join(filters.map((x) => sql`and ${x}`), sql` `)}
      -- offset 0 keeps each step a subquery: its columns are computed once per row
      -- instead of the planner pasting the expressions into every later use
      -- (the segment and tier cases use r, f, m and the score a dozen times).
      offset 0
    ),
    rated as (
      select *,
             round(((${w.r}::numeric * r + ${w.f}::numeric * f + ${w.m}::numeric * m) / ${wsum}::numeric - 1) / 4 * 100, 2) as rfm_score,
             case when r is not null then ${SEGMENT} end as rfm_segment
      from base
      offset 0
    ),
    next as (
      select customer_id, r, f, m, rfm_score, rfm_segment, old_stage,
        case when rfm_score is null then null
             when rfm_score >= ${s.tiers.a}::numeric then 'A'
             when rfm_score >= ${s.tiers.b}::numeric then 'B'
             when rfm_score > ${s.tiers.c}::numeric then 'C'
             else 'D' end as tier,
        -- "more than d days" (whole days of 86,400 s) ⇔ at or before d + 1 days ago, so the
        -- stage is timestamp comparisons; the baseline's numeric arithmetic runs only for
        -- the customers whose stage gets that far
        case when first_order_at is null then 'prospect'
             when last_order_at <= ${over(l.churnDays)}::timestamptz then 'churned'
             when last_order_at <= ${over(l.dormantDays)}::timestamptz then 'dormant'
             when greatest(last_order_at, last_event_at) <= ${over(l.inactiveDays)}::timestamptz then 'at_risk'
             when ${droppedAt(now, s)} then 'at_risk'
             when first_order_at > ${over(l.newDays)}::timestamptz then 'new'
             when first_order_at > ${over(l.growingDays)}::timestamptz then 'growing'
             else 'mature' end as stage,
        old_r, old_f, old_m, old_rfm_score, old_tier, old_segment
      from rated
      offset 0
    )`;
  // Only rows whose scores or stage move are written.
  const changedRows = sql`
    select * from next
    where (old_r, old_f, old_m, old_rfm_score, old_tier, old_segment, old_stage)
      is distinct from (r, f, m, rfm_score, tier, rfm_segment, stage)`;
  let changed: RawBuilder<unknown>;
  // An incremental run, or a full one after a run with the same settings, usually changes
  // a few percent of the customers: those rows are kept first, then written by key.
  // Planned on the candidate filter's estimate, the writes hashed whole tables
  // (customer_metrics, the open tier_history rows); even on a count of the kept rows
  // the planner hashed both for 40k of 1M (about half the step at 1M customers), as
  // its page costs assume reads from disk while these tables' pages are cached.
  // A first pass (everyone changes) writes straight from the scoring, hashed.
  if (only || prev?.sameSettings) {
    // In key order: the writes below look each row up by key, one after another, and
    // neighbouring keys share index and table pages (the parallel scan returns them mixed).
    await sql`create temp table scoring_changed on commit drop as with ${scored} ${changedRows} order by customer_id`.execute(trx);
    // Only for a small share of the table: when most rows change (a backfill's monthly
    // runs, a small workspace), nested loops without hashes cost ten times more than the
    // hashed writes (2,000 customers on PGlite: 0.06 s became 0.6–1.2 s per run).
    const n = await countRows(trx, 'scoring_changed');
    const rows = await estimatedRows(trx, 'customer_metrics');
    if (n <= KEYED_WRITES && n * 10 <= rows) {
      await sql`set local enable_hashjoin = off`.execute(trx);
      await sql`set local enable_mergejoin = off`.execute(trx);
    }
    changed = sql`changed as materialized (select * from scoring_changed)`;
  } else {
    changed = sql`${scored}, changed as materialized (${changedRows})`;
  }
  const res = await sql`
    with ${changed},
    transitions as (
      insert into lifecycle_transitions (workspace_id, customer_id, at, from_stage, to_stage)
      select ${workspaceId}::int, n.customer_id, ${t}, n.old_stage, n.stage
      from changed n
      where n.old_stage is distinct from n.stage
      -- in key order, each index insert lands beside the last one (the same few pages stay
      -- cached) instead of at a random leaf: on a first pass, a million of them into each table
      order by n.customer_id
      ${redo ? sql`on conflict (workspace_id, customer_id, at) do update set to_stage = excluded.to_stage` : sql``}
    ),
    -- The open tier_history row holds the tier customer_metrics stores (this statement
    -- writes both), so only customers whose tier moved need a look at their history.
    closed as (
      update tier_history h set valid_to = ${t}
      from changed n
      where n.old_tier is distinct from n.tier
        and h.workspace_id = ${workspaceId} and h.customer_id = n.customer_id and h.valid_to is null
        and h.tier is distinct from n.tier and h.valid_from < ${t}
    ),
    opened as (
      insert into tier_history (workspace_id, customer_id, valid_from, valid_to, tier, rfm_score)
      select ${workspaceId}::int, n.customer_id, ${t}, null, n.tier, n.rfm_score
      from changed n
      where n.tier is not null and n.old_tier is distinct from n.tier and not exists (
        select 1 from tier_history h
        where h.workspace_id = ${workspaceId} and h.customer_id = n.customer_id and h.valid_to is null and h.tier = n.tier)
      order by n.customer_id
      ${redo ? sql`on conflict (workspace_id, customer_id, valid_from) do update set tier = excluded.tier, rfm_score = excluded.rfm_score` : sql``}
    )
    update customer_metrics cm set
      r_score = n.r, f_score = n.f, m_score = n.m, rfm_score = n.rfm_score,
      tier = n.tier, rfm_segment = n.rfm_segment, lifecycle_stage = n.stage,
      stage_since = case when cm.lifecycle_stage is distinct from n.stage then ${t} else coalesce(cm.stage_since, ${t}) end
    from changed n
    where cm.workspace_id = ${workspaceId} and cm.customer_id = n.customer_id`.execute(trx);
  return Number(res.numAffectedRows ?? 0);
}

async function saveState(trx: Kysely<Database>, workspaceId: number, now: Date, s: AnalyticsSettings, cuts: Cuts): Promise<void> {
  await sql`
    insert into scoring_state (workspace_id, as_of, settings, cuts)
    values (${workspaceId}, ${now}, ${settingsKey(s)}::jsonb, ${JSON.stringify(cuts)}::jsonb)
    on conflict (workspace_id) do update set as_of = excluded.as_of, settings = excluded.settings, cuts = excluded.cuts`.execute(trx);
}

/** A customer's tier on a past date (from tier_history). */
export async function tierOn(db: Kysely<Database>, workspaceId: number, customerId: string, at: Date): Promise<string | null> {
  const r = await db
    .selectFrom('tier_history')
    .select('tier')
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .where('valid_from', '<=', at)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
    .executeTakeFirst();
  return r?.tier ?? null;
}

/** The pipeline's RFM and lifecycle step. */
export async function runScoringStep(ctx: StepContext): Promise<{ mode: 'full' | 'incremental'; changed: number; shards?: number }> {
  const s = await loadAnalyticsSettings(ctx.db, ctx.workspaceId);
  // Two shards at once on a server (PGlite has one connection): the writes are one
  // backend's work, and the day's scoring at 1M customers was mostly writes.
  return scoreCustomers(ctx.db, ctx.workspaceId, ctx.now, s, ctx.mode, await analyticsShards(ctx));
}
