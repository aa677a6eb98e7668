// KPIs with targets, a 7-day trend and anomaly flags (seeds' Table 6). Each
// KPI is computed from the raw data as of the end of a day, so its history can
// be filled for past days too; the pipeline stores one value per KPI per day.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Report } from '../reports/report.ts';
import type { AnalyticsSettings } from './settings.ts';

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
  compute(db: Kysely<Database>, workspaceId: number, at: Date, s: AnalyticsSettings): Promise<Ratio & { value?: number }>;
}

const d = (n: number) => sql`make_interval(days => ${n}::int)`;

/** Each buyer's last paid order as of `at` (last_now) and as of 30 days earlier (last_then). */
const lastPurchases = (ws: number, at: Date) => sql`(
  select customer_id, max(ordered_at) as last_now,
         max(ordered_at) filter (where ordered_at <= ${at}::timestamptz - ${d(30)}) as last_then
  from orders where workspace_id = ${ws} and status = 'paid' and ordered_at <= ${at}
  group by customer_id)`;

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
    compute: (db, ws, at, s) =>
      one(
        sql<Ratio>`
        select count(*) filter (where last_now < ${at}::timestamptz - ${d(s.lifecycle.churnDays)})::float8 as numerator,
               count(*)::float8 as denominator
        from ${lastPurchases(ws, at)} x
        where last_then >= ${at}::timestamptz - ${d(30)} - ${d(s.lifecycle.churnDays)}`.execute(db),
      ),
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
    compute: (db, ws, at, s) =>
      one(
        sql<Ratio>`
        select count(*) filter (where last_now > ${at}::timestamptz - ${d(30)})::float8 as numerator,
               count(*)::float8 as denominator
        from ${lastPurchases(ws, at)} x
        where last_then < ${at}::timestamptz - ${d(30)} - ${d(s.lifecycle.dormantDays)}`.execute(db),
      ),
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
    compute: (db, ws, at) =>
      one(
        sql<Ratio>`
        select count(*) filter (where n >= 2)::float8 as numerator, count(*)::float8 as denominator
        from (select customer_id, count(*) as n from orders
              where workspace_id = ${ws} and status = 'paid' and ordered_at > ${at}::timestamptz - make_interval(months => 12) and ordered_at <= ${at}
              group by customer_id) x`.execute(db),
      ),
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
    compute: async (db, ws, at, s) => {
      const r = await one(
        sql<{ n: number }>`
        select count(*)::float8 as n from (
          select customer_id, max(ordered_at) as last from orders
          where workspace_id = ${ws} and status = 'paid' and ordered_at <= ${at} group by customer_id) x
        where last <= ${at}::timestamptz - ${d(s.lifecycle.churnDays)} and last > ${at}::timestamptz - ${d(s.lifecycle.churnDays + 1)}`.execute(db),
      );
      return { numerator: r.n, denominator: 1, value: r.n };
    },
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
    compute: (db, ws, at) =>
      one(
        sql<Ratio>`
        with buyers as (
          select distinct customer_id from orders where workspace_id = ${ws} and status = 'paid'
            and ordered_at > ${at}::timestamptz - make_interval(months => 12) and ordered_at <= ${at}),
        recent as (
          select customer_id from orders where workspace_id = ${ws} and ordered_at > ${at}::timestamptz - ${d(30)} and ordered_at <= ${at}
          union
          select customer_id from events where workspace_id = ${ws} and occurred_at > ${at}::timestamptz - ${d(30)} and occurred_at <= ${at})
        select count(*) filter (where r.customer_id is not null)::float8 as numerator, count(*)::float8 as denominator
        from buyers b left join recent r on r.customer_id = b.customer_id`.execute(db),
      ),
  },
];

/** End of the calendar day containing `at`, in the workspace's time zone, capped at `at`. */
export function dayOf(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** Computes every KPI for `at` and for any of the 6 days before it that has no value yet. */
export async function refreshKpis(db: Kysely<Database>, workspaceId: number, now: Date, timeZone: string, s: AnalyticsSettings): Promise<number> {
  let written = 0;
  for (let back = 6; back >= 0; back--) {
    const at = new Date(now.getTime() - back * 86_400_000);
    const day = dayOf(at, timeZone);
    if (back > 0) {
      const have = await db.selectFrom('kpi_values').select('kpi').where('workspace_id', '=', workspaceId).where('day', '=', day).execute();
      if (have.length >= KPIS.length) continue;
    }
    for (const k of KPIS) {
      const r = await k.compute(db, workspaceId, at, s);
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
