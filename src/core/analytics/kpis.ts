// KPIs with targets, a 7-day trend and anomaly flags (seeds' Table 6). Each
// KPI is computed from the raw data as of the end of a day, so its history can
// be filled for past days too; the pipeline stores one value per KPI per day.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { StepContext } from '../pipeline/pipeline.ts';
import type { Report } from '../reports/report.ts';
import { type AnalyticsSettings, analyticsSession, loadAnalyticsSettings, workspaceTimeZone } from './settings.ts';

interface Ratio {
  numerator: number;
  denominator: number;
}

export interface KpiDef {
  key: string;
  name: { en: string; zh: string };
  category: { en: string; zh: string };
  unit: 'percent' | 'number' | 'score';
  /** Which way is good. */
  better: 'higher' | 'lower';
  defaultTarget: number | null;
  department: { en: string; zh: string };
  /** How it is computed, in one sentence (docs and tooltips). */
  definition: string;
  /** A KPI computed on its own, one day at a time. */
  compute?(db: Kysely<Database>, workspaceId: number, at: Date, s: AnalyticsSettings): Promise<Ratio & { value?: number }>;
  /**
   * A KPI over buyers: two counts over one row per buyer (see BuyerDay). All of
   * these KPIs, for every day being computed, come from one pass over the orders.
   */
  perBuyer?(c: BuyerDay, s: AnalyticsSettings): { numerator: Sql; denominator: Sql };
  /**
   * A KPI over tier history and the buyers as of the day (`k`: customer_id and last_now,
   * the last paid order up to the day): a query giving numerator and denominator, one per day.
   */
  tierBuyers?(ws: number, at: Sql, k: Sql): Sql;
}

type Sql = RawBuilder<unknown>;

/** One buyer as of one day: the day's end, their last paid order then and 30 days before, paid orders in the 12 months to it, and whether they bought or did anything in its last 30 days. */
interface BuyerDay {
  at: Sql;
  /** The day's end less these numbers of days, one after the other (computed once, not per row). */
  ago(...days: number[]): Sql;
  lastNow: Sql;
  lastThen: Sql;
  n12: Sql;
  recent: Sql;
}

const d = (n: number) => sql`make_interval(days => ${n}::int)`;
const counted = (cond: Sql) => sql`count(*) filter (where ${cond})::float8`;

async function one<T>(q: Promise<{ rows: T[] }>): Promise<T> {
  return (await q).rows[0]!;
}

/** SLA hours by ticket priority (SPEC §5). */
const SLA = sql`case priority when 'urgent' then 24 when 'important' then 72 when 'minor' then 0.5 else 168 end`;

export const KPIS: KpiDef[] = [
  {
    key: 'churn_rate',
    name: { en: 'Overall churn rate (30 days)', zh: '整体客户流失率（30 天）' },
    category: { en: 'Churn', zh: '流失率' },
    unit: 'percent',
    better: 'lower',
    defaultTarget: 0.05,
    department: { en: 'Operations', zh: '运营部' },
    definition: 'Customers who crossed the churn window (no purchase for churnDays) in the last 30 days ÷ customers who were not churned 30 days earlier.',
    perBuyer: (c, s) => ({
      numerator: counted(sql`${c.lastNow} < ${c.ago(s.lifecycle.churnDays)} and ${c.lastThen} >= ${c.ago(30, s.lifecycle.churnDays)}`),
      denominator: counted(sql`${c.lastThen} >= ${c.ago(30, s.lifecycle.churnDays)}`),
    }),
  },
  {
    key: 'tier_a_retention',
    name: { en: 'Tier A retention (3 months)', zh: 'A 类客户留存率（3 个月）' },
    category: { en: 'Tier retention', zh: '分层留存' },
    unit: 'percent',
    better: 'higher',
    defaultTarget: 0.95,
    department: { en: 'Customer success', zh: '顾问部' },
    definition: 'Customers in tier A 90 days ago (tier history) who bought in the 90 days since ÷ those customers.',
    // A paid order in the 90 days is a last paid order up to the day within them: one hash
    // join of the tier-A customers with the buyers, not a probe of the orders per customer.
    tierBuyers: (ws, at, k) => {
      const then = edges(at)(90);
      return sql`
        select count(k.customer_id)::float8 as numerator, count(*)::float8 as denominator
        from tier_history h left join ${k} on k.customer_id = h.customer_id and k.last_now > ${then}
        where h.workspace_id = ${ws} and h.tier = 'A' and h.valid_from <= ${then} and (h.valid_to is null or h.valid_to > ${then})`;
    },
  },
  {
    key: 'complaint_resolution',
    name: { en: 'Complaints resolved on time', zh: '投诉解决及时率' },
    category: { en: 'Customer experience', zh: '客户体验' },
    unit: 'percent',
    better: 'higher',
    defaultTarget: 0.9,
    department: { en: 'Customer service', zh: '客服部' },
    definition: 'Complaints of the last 30 days whose SLA deadline has passed (urgent 24 h, important 3 days, general 7 days, minor 30 min) that were resolved within it ÷ those complaints.',
    compute: (db, ws, at) =>
      one(
        sql<Ratio>`
        select count(*) filter (where resolved_at is not null and resolved_at <= created_at + make_interval(secs => ${SLA} * 3600)
                                  and resolved_at <= ${at})::float8 as numerator,
               count(*)::float8 as denominator
        from tickets
        where workspace_id = ${ws} and kind = 'complaint'
          and created_at > ${at}::timestamptz - ${d(30)} and created_at <= ${at}
          and created_at + make_interval(secs => ${SLA} * 3600) <= ${at}`.execute(db),
      ),
  },
  {
    key: 'winback_rate',
    name: { en: 'D-tier activation (win-back) rate', zh: 'D 类客户激活率' },
    category: { en: 'Strategy results', zh: '策略效果' },
    unit: 'percent',
    better: 'higher',
    defaultTarget: 0.2,
    department: { en: 'Operations', zh: '运营部' },
    definition: 'Customers lapsed 30 days ago (no purchase for dormantDays, the D-tier core) who bought in the 30 days since ÷ those customers.',
    perBuyer: (c, s) => ({
      numerator: counted(sql`${c.lastThen} < ${c.ago(30, s.lifecycle.dormantDays)} and ${c.lastNow} > ${c.ago(30)}`),
      denominator: counted(sql`${c.lastThen} < ${c.ago(30, s.lifecycle.dormantDays)}`),
    }),
  },
  {
    key: 'repurchase_rate',
    name: { en: 'Repurchase rate (12 months)', zh: '复购率（12 个月）' },
    category: { en: 'Strategy results', zh: '策略效果' },
    unit: 'percent',
    better: 'higher',
    defaultTarget: 0.3,
    department: { en: 'Marketing', zh: '市场部' },
    definition: 'Customers with two or more paid orders in the last 12 months ÷ customers with at least one.',
    perBuyer: (c) => ({ numerator: counted(sql`${c.n12} >= 2`), denominator: counted(sql`${c.n12} >= 1`) }),
  },
  {
    key: 'nps',
    name: { en: 'NPS (90 days)', zh: '净推荐值 NPS（90 天）' },
    category: { en: 'Customer experience', zh: '客户体验' },
    unit: 'score',
    better: 'higher',
    defaultTarget: 40,
    department: { en: 'Customer experience', zh: '客户体验部' },
    definition: "Share of promoters (9–10) minus share of detractors (0–6) × 100, over each customer's latest answer in the last 90 days.",
    compute: async (db, ws, at) => {
      const r = await one(
        sql<{ promoters: number; detractors: number; n: number }>`
        select count(*) filter (where nps >= 9)::float8 as promoters, count(*) filter (where nps <= 6)::float8 as detractors,
               count(*)::float8 as n
        from (select distinct on (customer_id) nps from survey_responses
              where workspace_id = ${ws} and nps is not null and responded_at > ${at}::timestamptz - ${d(90)} and responded_at <= ${at}
              order by customer_id, responded_at desc) x`.execute(db),
      );
      return { numerator: r.promoters - r.detractors, denominator: r.n, value: r.n ? ((r.promoters - r.detractors) / r.n) * 100 : undefined };
    },
  },
  {
    key: 'new_churned',
    name: { en: 'Customers newly churned that day', zh: '当日新增流失客户数' },
    category: { en: 'Churn', zh: '流失率' },
    unit: 'number',
    better: 'lower',
    defaultTarget: null,
    department: { en: 'Operations', zh: '运营部' },
    definition: 'Customers whose last paid order passed the churn window during the day.',
    perBuyer: (c, s) => ({
      numerator: counted(sql`${c.lastNow} <= ${c.ago(s.lifecycle.churnDays)} and ${c.lastNow} > ${c.ago(s.lifecycle.churnDays + 1)}`),
      denominator: sql`1::float8`,
    }),
  },
  {
    key: 'active_rate',
    name: { en: 'Active customers (30 days)', zh: '活跃客户占比（30 天）' },
    category: { en: 'Engagement', zh: '活跃度' },
    unit: 'percent',
    better: 'higher',
    defaultTarget: null,
    department: { en: 'Operations', zh: '运营部' },
    definition: 'Customers who bought or did anything in the last 30 days ÷ customers who bought in the last 12 months.',
    perBuyer: (c) => ({ numerator: counted(sql`${c.n12} >= 1 and ${c.recent}`), denominator: counted(sql`${c.n12} >= 1`) }),
  },
];

/** End of the calendar day containing `at`, in the workspace's time zone, capped at `at`. */
export function dayOf(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** What an incremental run starts from: the last successful run's start and reference time. */
export interface KpisSince {
  since: Date;
  previousAsOf: Date;
}

type Trx = Kysely<Database>;

/** The numerator and denominator of every buyer KPI, as select-list items suffixed with `i`. */
function buyerCounts(defs: KpiDef[], c: BuyerDay, s: AnalyticsSettings, i: number): Sql[] {
  return defs.map((k) => {
    const e = k.perBuyer!(c, s);
    return sql`${e.numerator} as ${sql.ref(`${k.key}_n${i}`)}, ${e.denominator} as ${sql.ref(`${k.key}_d${i}`)}`;
  });
}

/** The edges of day `at` as one-time subqueries: `time - interval` is only stable, so inline it would be computed per row. */
function edges(at: Sql): (...n: number[]) => Sql {
  return (...n: number[]) => sql`(select ${at} ${sql.join(n.map((x) => sql`- ${d(x)}`), sql` `)})`;
}

/**
 * Temp table kb: one row per customer with a paid order up to the latest of
 * `ats`, with their figures as of each day side by side (last paid order then
 * and 30 days before, paid orders in the 12 months to it, last order or event
 * in the 30 days to it) — one pass over the paid orders and one over the last
 * 30 days' orders and events, instead of a few passes per day.
 */
async function buyerFigures(trx: Trx, ws: number, ats: Date[]): Promise<void> {
  const at = (i: number) => sql`${ats[i]!}::timestamptz`;
  const latest = new Date(Math.max(...ats.map((x) => x.getTime())));
  const earliest = new Date(Math.min(...ats.map((x) => x.getTime())));
  const col = (name: string, i: number) => sql.ref(`${name}${i}`);
  const perDay = ats.map((_, i) => {
    const ago = edges(at(i));
    return sql`
      max(ordered_at) filter (where ordered_at <= ${at(i)}) as ${col('last_now', i)},
      max(ordered_at) filter (where ordered_at <= ${ago(30)}) as ${col('last_then', i)},
      count(*) filter (where ordered_at > (select ${at(i)} - make_interval(months => 12)) and ordered_at <= ${at(i)})::int as ${col('n12_', i)}`;
  });
  const active = ats.map((_, i) => sql`max(t) filter (where t > ${edges(at(i))(30)} and t <= ${at(i)}) as ${col('active', i)}`);
  await sql`
    create temp table kb on commit drop as
    with b as (
      select customer_id, ${sql.join(perDay)}
      from orders where workspace_id = ${ws} and status = 'paid' and ordered_at <= ${latest}
      group by customer_id
    ),
    r as (
      select customer_id, ${sql.join(active)}
      from (
        select customer_id, ordered_at as t from orders
        where workspace_id = ${ws} and ordered_at > ${earliest}::timestamptz - ${d(30)} and ordered_at <= ${latest}
        union all
        select customer_id, occurred_at from events
        where workspace_id = ${ws} and customer_id is not null and occurred_at > ${earliest}::timestamptz - ${d(30)} and occurred_at <= ${latest}
      ) x
      group by customer_id
    )
    select b.*, ${sql.join(ats.map((_, i) => sql`r.${col('active', i)}`))}
    from b left join r on r.customer_id = b.customer_id`.execute(trx);
}

/**
 * Brings kpi_buyers (each buyer's figures as of `now`) up to date from the
 * previous run's. Rows added since — new orders and events, and older ones
 * whose time passed the previous reference time — only move figures one way
 * (a later last order, one more order in 12 months, a later activity), and so
 * do the edges passing (an order now more than 30 days or 12 months old): those
 * are applied as changes, from a few index ranges. The customers of an order
 * changed since (a refund, a merge) or of a changed customer row, and new
 * buyers, are recomputed from their orders and events.
 */
async function updateBuyers(trx: Trx, ws: number, now: Date, inc: KpisSince, cols: Sql[]): Promise<{ customers: number; counts: Record<string, number> }> {
  const t = sql`${now}::timestamptz`;
  const p = sql`${inc.previousAsOf}::timestamptz`;
  const since = sql`${inc.since}::timestamptz`;
  const m12 = sql`make_interval(months => 12)`;
  const ago30 = sql`(select ${t} - ${d(30)})`;
  const ago12m = sql`(select ${t} - ${m12})`;
  await sql`
    create temp table kt on commit drop as
    select customer_id as id from orders where workspace_id = ${ws} and updated_at > ${since} and created_at <= ${since}
    union
    select id from customers where workspace_id = ${ws} and updated_at > ${since}`.execute(trx);
  // One index range per source, glued by union all: an OR of them would scan the tables.
  await sql`
    create temp table kd on commit drop as
    select id, max(at) filter (where buys) as paid_at, max(at) filter (where paid and at <= ${ago30}) as then,
           sum(dn)::int as dn, max(at) filter (where active and at > ${ago30}) as active, bool_or(buys) as buys
    from (
      -- orders added since, other than those of the next range
      select customer_id as id, ordered_at as at, status = 'paid' as paid, status = 'paid' as buys,
             case when status = 'paid' and ordered_at > ${ago12m} then 1 else 0 end as dn, true as active
      from orders where workspace_id = ${ws} and updated_at > ${since} and created_at > ${since}
        and ordered_at <= ${t} and not (ordered_at > ${p})
      union all
      -- orders whose time passed the previous reference time
      select customer_id, ordered_at, status = 'paid', status = 'paid', case when status = 'paid' then 1 else 0 end, true
      from orders where workspace_id = ${ws} and ordered_at > ${p} and ordered_at <= ${t}
      union all
      -- paid orders now more than 30 days old
      select customer_id, ordered_at, true, false, 0, false
      from orders where workspace_id = ${ws} and status = 'paid' and ordered_at > ${p} - ${d(30)} and ordered_at <= ${t} - ${d(30)}
      union all
      -- paid orders now more than 12 months old, that the previous run counted
      select customer_id, ordered_at, false, false, -1, false
      from orders where workspace_id = ${ws} and status = 'paid' and ordered_at > ${p} - ${m12} and ordered_at <= ${t} - ${m12} and created_at <= ${since}
      union all
      select customer_id, occurred_at, false, false, 0, true
      from events where workspace_id = ${ws} and customer_id is not null and received_at > ${since} and occurred_at <= ${t}
      union all
      select customer_id, occurred_at, false, false, 0, true
      from events where workspace_id = ${ws} and customer_id is not null and occurred_at > ${p} and occurred_at <= ${t}
    ) x
    group by id`.execute(trx);
  // The rows of `ids` recomputed from their orders and events (null figures: no paid order),
  // with the figures a full pass stores (kpiOrderFigures, kpiEventFigures).
  const recomputed = (ids: Sql) => sql`
    select k.id, o.kpi_last_paid as last_paid, o.kpi_then as then, o.kpi_n12 as n12, greatest(o.kpi_active_o, e.kpi_active_e) as active
    from (${ids}) k
      -- per customer (lateral index ranges): a join with the few customers would be
      -- planned as a scan of every order
      cross join lateral (
        select ${kpiOrderFigures(t)}
        from orders where workspace_id = ${ws} and customer_id = k.id and ordered_at <= ${t}) o
      cross join lateral (
        select ${kpiEventFigures(t)} from events
        where workspace_id = ${ws} and customer_id = k.id and occurred_at > ${ago30} and occurred_at <= ${t}) e`;
  await sql`create temp table kr on commit drop as ${recomputed(sql`select distinct id from kt`)}`.execute(trx);
  // kn: every change to apply — kd's one-way moves (merged into the stored row), kr's
  // rows (replacing it; a null last_paid: no paid order any more, the row goes).
  await sql`
    create temp table kn on commit drop as
    select kd.id, false as replace, kd.paid_at, kd.then, kd.dn, kd.active, kd.buys from kd where not exists (select 1 from kr where kr.id = kd.id)
    union all
    select kr.id, true, kr.last_paid, kr.then, kr.n12, kr.active, false from kr`.execute(trx);
  // Its key's statistics: without them the planner takes kn's ids for 200 values shared by
  // hundreds of rows each, a poor hash, and hashes the whole of kpi_buyers instead of the
  // day's few changes (1M rows, 70 MB) for the pass below: 0.85 s against 0.57 s at 1M buyers.
  await sql`analyze kn (id)`.execute(trx);
  // The single pass over kpi_buyers (the table has no index): the buyer KPIs are counted on
  // the figures as they will be, and the rows to write are noted by their place (ctid), so
  // that the writes after it visit only those rows instead of hash-joining the whole table
  // again. A full join also finds the changes without a row: kr's new buyers (counted here)
  // and kd's customers with a paid order added (new buyers unless they had a row: recomputed
  // below). Without statistics, right after a full pass, the planner sorted all of
  // kpi_buyers for a merge join: hash joins only.
  // A change applied to a stored row (k) — the one rule for the count and for the write below.
  const applied = (kCol: string, nCol: string, op: 'greatest' | 'plus') => {
    const k = sql.ref(`k.${kCol}`);
    const n = sql.ref(`n.${nCol}`);
    return sql`case when n.replace then ${n} else ${op === 'plus' ? sql`${k} + ${n}` : sql`greatest(${k}, ${n})`} end`;
  };
  const merged = (col: string, kCol: string, nCol: string, op: 'greatest' | 'plus') =>
    sql`case when n.id is null then ${sql.ref(`k.${kCol}`)} when k.tid is null and not n.replace then null
             else ${applied(kCol, nCol, op)} end as ${sql.ref(col)}`;
  await sql`set local enable_mergejoin = off`.execute(trx);
  await sql`
    create temp table kc on commit drop as
    select ${sql.join(cols)},
           array_agg(tid) filter (where tid is not null and nid is not null and last_paid_at is not null
                                  and (last_paid_at, last_paid_30d_ago, paid_12m, last_active_at) is distinct from (o_paid, o_then, o_n12, o_active))
             as writes,
           array_agg(tid) filter (where tid is not null and nid is not null and last_paid_at is null) as gone,
           array_agg(nid) filter (where tid is null and replace and last_paid_at is not null) as added,
           array_agg(nid) filter (where tid is null and not replace and buys) as maybe
    from (
      select k.tid, n.id as nid, n.replace, n.buys,
             ${merged('last_paid_at', 'last_paid_at', 'paid_at', 'greatest')}, ${merged('last_paid_30d_ago', 'last_paid_30d_ago', 'then', 'greatest')},
             ${merged('paid_12m', 'paid_12m', 'dn', 'plus')}, ${merged('last_active_at', 'last_active_at', 'active', 'greatest')},
             k.last_paid_at as o_paid, k.last_paid_30d_ago as o_then, k.paid_12m as o_n12, k.last_active_at as o_active
      from (select ctid as tid, customer_id, last_paid_at, last_paid_30d_ago, paid_12m, last_active_at from kpi_buyers where workspace_id = ${ws}) k
        full join kn n on n.id = k.customer_id
      -- offset 0 keeps b a subquery: each merged figure is computed once per row instead of
      -- being pasted into every count that reads it (0.54 s against 0.61 s at 1M buyers)
      offset 0
    ) b`.execute(trx);
  await sql`set local enable_mergejoin = on`.execute(trx);
  const kc = (
    await sql<Record<string, number> & { writes: number; gone: number; added: number; maybe: number }>`
      select *, coalesce(cardinality(writes), 0) as writes, coalesce(cardinality(gone), 0) as gone,
             coalesce(cardinality(added), 0) as added, coalesce(cardinality(maybe), 0) as maybe
      from kc`.execute(trx)
  ).rows[0]!;
  // The writes, by place (TID scans).
  if (Number(kc.gone) > 0) await sql`delete from kpi_buyers where ctid = any((select gone from kc)::tid[])`.execute(trx);
  if (Number(kc.writes) > 0) {
    await sql`
      update kpi_buyers k set
        last_paid_at = ${applied('last_paid_at', 'paid_at', 'greatest')},
        last_paid_30d_ago = ${applied('last_paid_30d_ago', 'then', 'greatest')},
        paid_12m = ${applied('paid_12m', 'dn', 'plus')},
        last_active_at = ${applied('last_active_at', 'active', 'greatest')}
      from kn n where k.ctid = any((select writes from kc)::tid[]) and n.id = k.customer_id`.execute(trx);
  }
  let inserted = 0;
  if (Number(kc.added) > 0) {
    const r = await sql`
      insert into kpi_buyers (workspace_id, customer_id, last_paid_at, last_paid_30d_ago, paid_12m, last_active_at)
      select ${ws}::int, kr.id, kr.last_paid, kr.then, kr.n12, kr.active from kr where kr.id = any((select added from kc)::text[])`.execute(trx);
    inserted += Number(r.numAffectedRows ?? 0);
  }
  const counts: Record<string, number> = {};
  for (const key of Object.keys(kc)) if (!['writes', 'gone', 'added', 'maybe'].includes(key)) counts[key] = Number(kc[key]);
  if (Number(kc.maybe) > 0) {
    // New buyers among the customers with a paid order added: their rows, and their counts
    // added to the pass's. Every buyer KPI expression is a count plus a constant (a fixed
    // denominator): the constant, the value over no rows, is taken out once.
    const r = await sql<Record<string, number> & { added: boolean }>`
      with ins as (
        insert into kpi_buyers (workspace_id, customer_id, last_paid_at, last_paid_30d_ago, paid_12m, last_active_at)
        select ${ws}::int, x.id, x.last_paid, x.then, x.n12, x.active from (${recomputed(sql`select unnest(maybe) as id from kc`)}) x where x.last_paid is not null
        returning last_paid_at, last_paid_30d_ago, paid_12m, last_active_at)
      select true as added, ${sql.join(cols)} from ins
      union all
      select false, ${sql.join(cols)} from (select null::timestamptz as last_paid_at, null::timestamptz as last_paid_30d_ago, null::int as paid_12m,
                                                   null::timestamptz as last_active_at) b where false`.execute(trx);
    const added = r.rows.find((x) => x.added);
    const none = r.rows.find((x) => !x.added);
    for (const key of Object.keys(counts)) counts[key] = counts[key]! + Number(added![key]) - Number(none![key]);
    inserted += Number(added!.buyers);
  }
  const n = await sql<{ n: number }>`select count(*)::int as n from kr`.execute(trx);
  await sql`drop table kt, kd, kr, kn, kc`.execute(trx);
  return { customers: n.rows[0]!.n + inserted, counts };
}

/** Days of the active KPI's window, and of the churn KPI's look-back: kpi_buyers' `last_active_at` and `last_paid_30d_ago`. */
export const KPI_ACTIVE_DAYS = 30;

/**
 * The kpi_buyers figures as aggregates over one customer's orders up to `t` (any status;
 * the caller's range must include every paid order up to `t` and every order of the
 * last 30 days): kpi_last_paid, kpi_then, kpi_n12, kpi_active_o.
 */
export function kpiOrderFigures(t: Sql): Sql {
  const ago = edges(t);
  return sql`max(ordered_at) filter (where status = 'paid') as kpi_last_paid,
             max(ordered_at) filter (where status = 'paid' and ordered_at <= ${ago(KPI_ACTIVE_DAYS)}) as kpi_then,
             count(*) filter (where status = 'paid' and ordered_at > (select ${t} - make_interval(months => 12)))::int as kpi_n12,
             max(ordered_at) filter (where ordered_at > ${ago(KPI_ACTIVE_DAYS)}) as kpi_active_o`;
}

/** The kpi_buyers figure over one customer's events up to `t` (the range must include the last 30 days): kpi_active_e. */
export function kpiEventFigures(t: Sql): Sql {
  return sql`max(occurred_at) filter (where occurred_at > ${edges(t)(KPI_ACTIVE_DAYS)}) as kpi_active_e`;
}

/**
 * Replaces the workspace's kpi_buyers with the buyers of `source` (customer_id and the
 * columns of kpiOrderFigures and kpiEventFigures, as of `now`) and records `now` in
 * kpi_state, with the pipeline run whose cohorts pass wrote them (null: the KPI step).
 */
export async function storeBuyers(trx: Trx, ws: number, now: Date, source: Sql, runId: number | null): Promise<number> {
  // kpi_buyers is the KPI step's: one writer per workspace at a time.
  await sql`select pg_advisory_xact_lock(hashtext(${'liuke.kpis'}), ${ws})`.execute(trx);
  // A truncate when the rows are all this workspace's: no dead rows left behind.
  const others = await sql`select 1 from kpi_buyers where workspace_id <> ${ws} limit 1`.execute(trx);
  await (others.rows.length ? sql`delete from kpi_buyers where workspace_id = ${ws}` : sql`truncate kpi_buyers`).execute(trx);
  const r = await sql`
    insert into kpi_buyers (workspace_id, customer_id, last_paid_at, last_paid_30d_ago, paid_12m, last_active_at)
    select ${ws}::int, customer_id, kpi_last_paid, kpi_then, kpi_n12, greatest(kpi_active_o, kpi_active_e)
    from (${source}) b where kpi_last_paid is not null`.execute(trx);
  await sql`
    insert into kpi_state (workspace_id, as_of, run_id) values (${ws}, ${now}, ${runId})
    on conflict (workspace_id) do update set as_of = excluded.as_of, run_id = excluded.run_id`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Computes every KPI for `now` and for any of the 6 days before it that has no
 * value yet. The buyer KPIs of today count over kpi_buyers, which a full run
 * rebuilds from one pass over the orders and an incremental one (`incremental`,
 * when the stored figures are those of its previous run) updates for the few
 * customers whose figures can have moved; past days, when any is missing, come
 * from one pass over the orders with each day's figures side by side. With `runId`,
 * a full run takes kpi_buyers as they are when that pipeline run's cohorts pass
 * rebuilt them as of `now` (refreshCohorts, `buyersForRun`).
 */
export async function refreshKpis(
  db: Kysely<Database>,
  workspaceId: number,
  now: Date,
  timeZone: string,
  s: AnalyticsSettings,
  incremental?: KpisSince,
  runId?: number,
): Promise<{ values: number; mode: 'full' | 'incremental'; customers: number }> {
  const ws = workspaceId;
  const back = [6, 5, 4, 3, 2, 1].map((n) => {
    const at = new Date(now.getTime() - n * 86_400_000);
    return { at, day: dayOf(at, timeZone) };
  });
  const have = await db
    .selectFrom('kpi_values')
    // as text: the day keys compare as 'YYYY-MM-DD' whatever the driver makes of a date
    .select([sql<string>`day::text`.as('day'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('workspace_id', '=', ws)
    .where('day', 'in', back.map((x) => x.day))
    .groupBy('day')
    .execute();
  const stored = new Map(have.map((r) => [String(r.day), Number(r.n)]));
  const past = back.filter((x) => (stored.get(x.day) ?? 0) < KPIS.length);
  const today = { at: now, day: dayOf(now, timeZone) };
  const defs = KPIS.filter((k) => k.perBuyer);
  const batched = new Map<string, Ratio[]>();
  const { mode, customers } = await db.transaction().execute(async (trx) => {
    await analyticsSession(trx);
    // One pass per workspace at a time: two would each rebuild or update the per-buyer rows.
    await sql`select pg_advisory_xact_lock(hashtext(${'liuke.kpis'}), ${ws})`.execute(trx);
    const state =
      incremental || runId !== undefined
        ? (await sql<{ as_of: Date; run_id: number | null }>`select as_of, run_id from kpi_state where workspace_id = ${ws} for update`.execute(trx)).rows[0]
        : undefined;
    const ms = (x: Date | undefined) => (x ? new Date(x).getTime() : Number.NaN);
    const usable = Boolean(state && incremental && ms(state.as_of) === incremental.previousAsOf.getTime() && incremental.previousAsOf <= now);
    // Rebuilt as of now by this run's cohorts pass: nothing to redo.
    const fresh = !usable && runId !== undefined && state?.run_id != null && Number(state.run_id) === runId && ms(state.as_of) === now.getTime();
    // kb holds the past days' figures and, on a full run, today's (its last column set).
    const ats = [...past.map((x) => x.at), ...(usable || fresh ? [] : [now])];
    let customers = 0;
    const at = sql`${now}::timestamptz`;
    const c: BuyerDay = {
      at,
      ago: edges(at),
      lastNow: sql.ref('last_paid_at'),
      lastThen: sql.ref('last_paid_30d_ago'),
      n12: sql.ref('paid_12m'),
      recent: sql`coalesce(last_active_at > ${edges(at)(30)}, false)`,
    };
    const todayCols = [...buyerCounts(defs, c, s, past.length), sql`count(last_paid_at)::int as buyers`];
    // An incremental pass counts today's buyer KPIs in its pass over kpi_buyers.
    let todayCounts: Record<string, number> | undefined;
    if (ats.length > 0) await buyerFigures(trx, ws, ats);
    if (usable) {
      ({ customers, counts: todayCounts } = await updateBuyers(trx, ws, now, incremental!, todayCols));
      await sql`update kpi_state set as_of = ${now}, run_id = null where workspace_id = ${ws}`.execute(trx);
    } else if (!fresh) {
      const i = ats.length - 1;
      const source = sql`select customer_id, ${sql.ref(`last_now${i}`)} as kpi_last_paid, ${sql.ref(`last_then${i}`)} as kpi_then,
                                ${sql.ref(`n12_${i}`)} as kpi_n12, ${sql.ref(`active${i}`)} as kpi_active_o, null::timestamptz as kpi_active_e
                         from kb`;
      customers = await storeBuyers(trx, ws, now, source, null);
    }
    const counts: Record<string, number>[] = [];
    if (past.length > 0) {
      const cols = past.flatMap((_, i) => {
        const at = sql`${past[i]!.at}::timestamptz`;
        const c: BuyerDay = {
          at,
          ago: edges(at),
          lastNow: sql.ref(`last_now${i}`),
          lastThen: sql.ref(`last_then${i}`),
          n12: sql.ref(`n12_${i}`),
          recent: sql`coalesce(${sql.ref(`active${i}`)} > ${edges(at)(30)}, false)`,
        };
        // A customer whose first paid order came after this day has no figures for it (nulls): counted nowhere.
        return buyerCounts(defs, c, s, i);
      });
      const r = await sql<Record<string, number>>`select ${sql.join(cols)} from kb`.execute(trx);
      for (let i = 0; i < past.length; i++) counts.push(r.rows[0]!);
    }
    const r = todayCounts ?? (await sql<Record<string, number>>`select ${sql.join(todayCols)} from kpi_buyers where workspace_id = ${ws}`.execute(trx)).rows[0]!;
    counts.push(r);
    if (fresh) customers = Number(r.buyers);
    const all = [...past, today];
    for (const k of defs) {
      batched.set(k.key, all.map((_, i) => ({ numerator: Number(counts[i]![`${k.key}_n${i}`]), denominator: Number(counts[i]![`${k.key}_d${i}`]) })));
    }
    for (const k of KPIS.filter((x) => x.tierBuyers)) {
      const days = all.map((x, i) =>
        k.tierBuyers!(
          ws,
          sql`${x.at}::timestamptz`,
          i < past.length
            ? sql`(select customer_id, ${sql.ref(`last_now${i}`)} as last_now from kb) k`
            : sql`(select customer_id, last_paid_at as last_now from kpi_buyers where workspace_id = ${ws}) k`,
        ),
      );
      const ratios = [];
      for (const q of days) {
        const r = (await sql<Ratio>`${q}`.execute(trx)).rows[0]!;
        ratios.push({ numerator: Number(r.numerator), denominator: Number(r.denominator) });
      }
      batched.set(k.key, ratios);
    }
    await sql`drop table if exists kb`.execute(trx);
    return { mode: usable ? ('incremental' as const) : ('full' as const), customers };
  });
  const all = [...past, today];
  const rows = [];
  for (const [i, { at, day }] of all.entries()) {
    for (const k of KPIS) {
      const r: Ratio & { value?: number } = k.compute ? await k.compute(db, ws, at, s) : batched.get(k.key)![i]!;
      const value = r.value !== undefined ? r.value : r.denominator > 0 ? r.numerator / r.denominator : null;
      rows.push({ workspace_id: ws, kpi: k.key, day, value, numerator: r.numerator, denominator: r.denominator, computed_at: now });
    }
  }
  await db
    .insertInto('kpi_values')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'kpi', 'day']).doUpdateSet((eb) => ({
        value: eb.ref('excluded.value'),
        numerator: eb.ref('excluded.numerator'),
        denominator: eb.ref('excluded.denominator'),
        computed_at: eb.ref('excluded.computed_at'),
      })),
    )
    .execute();
  return { values: rows.length, mode, customers };
}

export interface KpiStatus {
  key: string;
  value: number | null;
  target: number | null;
  trend: { day: string; value: number | null }[];
  change7d: number | null;
  flags: ('off_target' | 'unusual_change')[];
}

/** Threshold: past the target on the bad side. Unusual change: today is > 3σ from the previous days, or moved > 25% when they were flat. */
export function flagsFor(def: Pick<KpiDef, 'better'>, value: number | null, target: number | null, previous: number[]): KpiStatus['flags'] {
  const flags: KpiStatus['flags'] = [];
  if (value === null) return flags;
  if (target !== null && (def.better === 'higher' ? value < target : value > target)) flags.push('off_target');
  if (previous.length >= 3) {
    const mean = previous.reduce((a, b) => a + b, 0) / previous.length;
    const sd = Math.sqrt(previous.reduce((a, b) => a + (b - mean) ** 2, 0) / (previous.length - 1));
    const unusual = sd > 1e-9 ? Math.abs(value - mean) > 3 * sd : Math.abs(value - mean) > Math.max(0.25 * Math.abs(mean), 1e-9);
    if (unusual) flags.push('unusual_change');
  }
  return flags;
}

export async function kpiReport(db: Kysely<Database>, workspaceId: number, s: AnalyticsSettings): Promise<Report> {
  const rows = await db
    .selectFrom('kpi_values')
    .select(['kpi', 'day', 'value'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('day', 'desc')
    .limit(KPIS.length * 8)
    .execute();
  const out = KPIS.map((k) => {
    const series = rows.filter((r) => r.kpi === k.key).slice(0, 8).reverse();
    const last = series.at(-1) ?? null;
    const value = last?.value ?? null;
    const target = s.kpiTargets[k.key] ?? k.defaultTarget;
    const prev = series.slice(0, -1).map((x) => x.value).filter((v): v is number => v !== null);
    const first = series.length > 1 ? series[Math.max(0, series.length - 8)]!.value : null;
    const flags = flagsFor(k, value, target, prev);
    return {
      key: k.key,
      category: k.category.en,
      category_zh: k.category.zh,
      kpi: k.name.en,
      kpi_zh: k.name.zh,
      unit: k.unit,
      better: k.better,
      value,
      target,
      change_7d: value !== null && first !== null && first !== undefined ? value - first : null,
      trend: series.map((x) => ({ day: x.day, value: x.value })),
      anomaly: flags.length > 0,
      flags: flags.join(' '),
      department: k.department.en,
      department_zh: k.department.zh,
      day: last?.day ?? null,
    };
  });
  return {
    name: 'kpis',
    title: { en: 'KPI board', zh: '客户留存数据看板' },
    columns: [
      { key: 'category', en: 'Category', zh: '指标类别' },
      { key: 'kpi', en: 'KPI', zh: '核心指标' },
      { key: 'value', en: 'Current', zh: '当前值', type: 'number' },
      { key: 'target', en: 'Target', zh: '目标值', type: 'number' },
      { key: 'change_7d', en: '7-day change', zh: '趋势（近7天）', type: 'number' },
      { key: 'flags', en: 'Anomaly', zh: '异常标记' },
      { key: 'department', en: 'Responsible department', zh: '责任部门' },
    ],
    rows: out,
  };
}

/** The pipeline's KPI step. */
export async function runKpisStep(ctx: StepContext): Promise<Record<string, unknown>> {
  const s = await loadAnalyticsSettings(ctx.db, ctx.workspaceId);
  const incremental = ctx.mode === 'incremental' && ctx.since && ctx.previousAsOf ? { since: ctx.since, previousAsOf: ctx.previousAsOf } : undefined;
  return refreshKpis(ctx.db, ctx.workspaceId, ctx.now, await workspaceTimeZone(ctx.db, ctx.workspaceId), s, incremental, ctx.runId);
}
