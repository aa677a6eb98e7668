// KPIs with targets, a 7-day trend and anomaly flags (seeds' Table 6). Each
// KPI is computed from the raw data as of the end of a day, so its history can
// be filled for past days too; the pipeline stores one value per KPI per day.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Report } from '../reports/report.ts';
import type { StepContext } from '../pipeline/pipeline.ts';
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
    compute: (db, ws, at) =>
      one(
        sql<Ratio>`
        select count(*) filter (where exists (
                 select 1 from orders o where o.workspace_id = ${ws} and o.customer_id = h.customer_id and o.status = 'paid'
                   and o.ordered_at > ${at}::timestamptz - ${d(90)} and o.ordered_at <= ${at}))::float8 as numerator,
               count(*)::float8 as denominator
        from tier_history h
        where h.workspace_id = ${ws} and h.tier = 'A'
          and h.valid_from <= ${at}::timestamptz - ${d(90)}
          and (h.valid_to is null or h.valid_to > ${at}::timestamptz - ${d(90)})`.execute(db),
      ),
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

/**
 * The buyer KPIs for each of `ats` from one pass over the paid orders (a
 * hash aggregate per customer, with the figures of every day side by side) and
 * one over the last 30 days' orders and events, instead of a few passes per day.
 */
async function buyerKpis(db: Kysely<Database>, ws: number, ats: Date[], s: AnalyticsSettings): Promise<Map<string, Ratio[]>> {
  const defs = KPIS.filter((k) => k.perBuyer);
  const out = new Map<string, Ratio[]>(defs.map((k) => [k.key, []]));
  if (ats.length === 0 || defs.length === 0) return out;
  const at = (i: number) => sql`${ats[i]!}::timestamptz`;
  const latest = new Date(Math.max(...ats.map((x) => x.getTime())));
  const earliest = new Date(Math.min(...ats.map((x) => x.getTime())));
  const col = (name: string, i: number) => sql.ref(`${name}${i}`);
  // Edges as one-time subqueries: `time - interval` is only stable, so inline it would be computed per row.
  const ago = (i: number, ...n: number[]) => sql`(select ${at(i)} ${sql.join(n.map((x) => sql`- ${d(x)}`), sql` `)})`;
  const perDay = ats.map(
    (_, i) => sql`
      max(ordered_at) filter (where ordered_at <= ${at(i)}) as ${col('last_now', i)},
      max(ordered_at) filter (where ordered_at <= ${ago(i, 30)}) as ${col('last_then', i)},
      count(*) filter (where ordered_at > (select ${at(i)} - make_interval(months => 12)) and ordered_at <= ${at(i)}) as ${col('n12_', i)}`,
  );
  const recent = ats.map((_, i) => sql`bool_or(t > ${ago(i, 30)} and t <= ${at(i)}) as ${col('recent', i)}`);
  const counts = ats.flatMap((_, i) => {
    const c: BuyerDay = { at: at(i), ago: (...n) => ago(i, ...n), lastNow: col('last_now', i), lastThen: col('last_then', i), n12: col('n12_', i), recent: sql`coalesce(${col('recent', i)}, false)` };
    return defs.map((k) => {
      const e = k.perBuyer!(c, s);
      return sql`${e.numerator} as ${col(`${k.key}_n`, i)}, ${e.denominator} as ${col(`${k.key}_d`, i)}`;
    });
  });
  const r = await db.transaction().execute(async (trx) => {
    await analyticsSession(trx);
    return sql<Record<string, number>>`
      with b as (
        select customer_id, ${sql.join(perDay)}
        from orders where workspace_id = ${ws} and status = 'paid' and ordered_at <= ${latest}
        group by customer_id
      ),
      r as (
        select customer_id, ${sql.join(recent)}
        from (
          select customer_id, ordered_at as t from orders
          where workspace_id = ${ws} and ordered_at > ${earliest}::timestamptz - ${d(30)} and ordered_at <= ${latest}
          union all
          select customer_id, occurred_at from events
          where workspace_id = ${ws} and customer_id is not null and occurred_at > ${earliest}::timestamptz - ${d(30)} and occurred_at <= ${latest}
        ) x
        group by customer_id
      )
      select ${sql.join(counts)} from b left join r on r.customer_id = b.customer_id`.execute(trx);
  });
  const row = r.rows[0]!;
  for (const k of defs) {
    out.set(k.key, ats.map((_, i) => ({ numerator: Number(row[`${k.key}_n${i}`]), denominator: Number(row[`${k.key}_d${i}`]) })));
  }
  return out;
}

/** Computes every KPI for `at` and for any of the 6 days before it that has no value yet. */
export async function refreshKpis(db: Kysely<Database>, workspaceId: number, now: Date, timeZone: string, s: AnalyticsSettings): Promise<number> {
  const todo: { at: Date; day: string }[] = [];
  for (let back = 6; back >= 0; back--) {
    const at = new Date(now.getTime() - back * 86_400_000);
    const day = dayOf(at, timeZone);
    if (back > 0) {
      const have = await db.selectFrom('kpi_values').select('kpi').where('workspace_id', '=', workspaceId).where('day', '=', day).execute();
      if (have.length >= KPIS.length) continue;
    }
    todo.push({ at, day });
  }
  const batched = await buyerKpis(db, workspaceId, todo.map((x) => x.at), s);
  let written = 0;
  for (const [i, { at, day }] of todo.entries()) {
    for (const k of KPIS) {
      const r: Ratio & { value?: number } = k.compute ? await k.compute(db, workspaceId, at, s) : batched.get(k.key)![i]!;
      const value = r.value !== undefined ? r.value : r.denominator > 0 ? r.numerator / r.denominator : null;
      await db
        .insertInto('kpi_values')
        .values({ workspace_id: workspaceId, kpi: k.key, day, value, numerator: r.numerator, denominator: r.denominator, computed_at: now })
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'kpi', 'day']).doUpdateSet((eb) => ({
            value: eb.ref('excluded.value'),
            numerator: eb.ref('excluded.numerator'),
            denominator: eb.ref('excluded.denominator'),
            computed_at: eb.ref('excluded.computed_at'),
          })),
        )
        .execute();
      written++;
    }
  }
  return written;
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
  const values = await refreshKpis(ctx.db, ctx.workspaceId, ctx.now, await workspaceTimeZone(ctx.db, ctx.workspaceId), s);
  return { values };
}
