// Point-in-time churn features: the catalogue (what each feature means, in
// English and zh-CN, with its unit) and the set-based SQL that computes them
// for every customer as of a cut-off. Every table is filtered to rows at or
// before the cut-off, and nothing reads a column that holds today's state
// (membership level, lifecycle stage, ticket status without a date…), so a row
// dated after the cut-off cannot change any feature (features.test.ts proves it).
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { FETCH_ROWS, forEachBatch } from '../../db/cursor.ts';
import type { Matrix } from '../ml/matrix.ts';
import type { AnalyticsSettings } from '../analytics/settings.ts';
import { scorecardSql, type ScorecardConfig } from './scorecard.ts';

export type Unit = 'days' | 'orders' | 'currency' | 'ratio' | 'share' | 'events' | 'tickets' | 'responses' | 'score' | 'stage' | 'count';

export interface FeatureDef {
  key: string;
  unit: Unit;
  en: string;
  zh: string;
  /** SQL over the aggregates of `base` (a constant of this file, never input). */
  expr: string;
}

const days = (col: string) => `extract(epoch from (t.at - ${col})) / 86400.0`;
const change = (now: string, before: string) => `case when ${before} > 0 then (${now} - ${before})::float8 / ${before} end`;
const ratio = (a: string, b: string) => `case when ${b} > 0 then ${a}::float8 / ${b} end`;

/** Lifecycle stages as of the cut-off, in order of concern (the `lifecycle_stage` feature's values). */
export const STAGES = ['new', 'growing', 'mature', 'at_risk', 'dormant', 'churned'] as const;

export const FEATURES: FeatureDef[] = [
  { key: 'recency_days', unit: 'days', en: 'days since the last purchase', zh: '距上次购买天数', expr: days('last_paid') },
  { key: 'orders_30d', unit: 'orders', en: 'purchases in the last 30 days', zh: '近 30 天购买次数', expr: 'o30' },
  { key: 'orders_90d', unit: 'orders', en: 'purchases in the last 90 days', zh: '近 90 天购买次数', expr: 'o90' },
  { key: 'orders_180d', unit: 'orders', en: 'purchases in the last 180 days', zh: '近 180 天购买次数', expr: 'o180' },
  { key: 'orders_365d', unit: 'orders', en: 'purchases in the last 365 days', zh: '近 365 天购买次数', expr: 'o365' },
  { key: 'orders_prev_90d', unit: 'orders', en: 'purchases in the quarter before the last', zh: '上上季度（90–180 天前）购买次数', expr: 'oprev90' },
  { key: 'frequency_change', unit: 'ratio', en: 'change in purchase frequency vs the previous quarter', zh: '购买频次较上季度的变化', expr: change('o90', 'oprev90') },
  { key: 'frequency_vs_usual', unit: 'ratio', en: 'purchases in the last 90 days vs the customer’s usual rate', zh: '近 90 天购买次数与平时水平之比', expr: ratio('o90', 'base90') },
  { key: 'orders_30_365_ratio', unit: 'share', en: 'share of the year’s purchases made in the last 30 days', zh: '近 30 天购买占全年比例', expr: ratio('o30', 'o365') },
  { key: 'orders_90_365_ratio', unit: 'share', en: 'share of the year’s purchases made in the last 90 days', zh: '近 90 天购买占全年比例', expr: ratio('o90', 'o365') },
  { key: 'spend_90d', unit: 'currency', en: 'spend in the last 90 days', zh: '近 90 天消费金额', expr: 's90' },
  { key: 'spend_365d', unit: 'currency', en: 'spend in the last 365 days', zh: '近 365 天消费金额', expr: 's365' },
  { key: 'spend_change', unit: 'ratio', en: 'change in spend vs the previous quarter', zh: '消费金额较上季度的变化', expr: change('s90', 'sprev90') },
  { key: 'orders_total', unit: 'orders', en: 'purchases in all', zh: '累计购买次数', expr: 'n_paid' },
  { key: 'spend_total', unit: 'currency', en: 'spend in all', zh: '累计消费金额', expr: 'spend_paid' },
  { key: 'avg_order_value', unit: 'currency', en: 'average order value', zh: '客单价', expr: ratio('spend_paid', 'n_paid') },
  { key: 'usual_gap_days', unit: 'days', en: 'usual days between purchases', zh: '平均购买间隔天数', expr: `case when n_paid >= 2 then extract(epoch from (last_paid - first_paid)) / 86400.0 / (n_paid - 1) end` },
  { key: 'gap_ratio', unit: 'ratio', en: 'days since the last purchase vs the usual gap', zh: '距上次购买天数与平均间隔之比', expr: `case when n_paid >= 2 and last_paid > first_paid then (${days('last_paid')}) / (extract(epoch from (last_paid - first_paid)) / 86400.0 / (n_paid - 1)) end` },
  { key: 'tenure_days', unit: 'days', en: 'days as a customer', zh: '成为客户的天数', expr: days('least(coalesce(registered_at, first_paid), first_paid)') },
  { key: 'days_since_first_order', unit: 'days', en: 'days since the first purchase', zh: '距首次购买天数', expr: days('first_paid') },
  { key: 'events_30d', unit: 'events', en: 'activity events in the last 30 days', zh: '近 30 天行为事件数', expr: 'ev30' },
  { key: 'events_prev_30d', unit: 'events', en: 'activity events 30–60 days ago', zh: '30–60 天前行为事件数', expr: 'evprev30' },
  { key: 'activity_change', unit: 'ratio', en: 'change in activity vs the month before', zh: '活跃度较前一个月的变化', expr: change('ev30', 'evprev30') },
  { key: 'days_since_last_event', unit: 'days', en: 'days since the last activity', zh: '距上次活跃天数', expr: days('last_event') },
  { key: 'logins_30d', unit: 'events', en: 'logins in the last 30 days', zh: '近 30 天登录次数', expr: 'lg30' },
  { key: 'logins_prev_30d', unit: 'events', en: 'logins 30–60 days ago', zh: '30–60 天前登录次数', expr: 'lgprev30' },
  { key: 'days_since_last_login', unit: 'days', en: 'days since the last login', zh: '距上次登录天数', expr: days('last_login') },
  { key: 'unsubscribes_90d', unit: 'events', en: 'unsubscribes in the last 90 days', zh: '近 90 天退订次数', expr: 'unsub90' },
  { key: 'complaints_90d', unit: 'tickets', en: 'complaints in the last 90 days', zh: '近 90 天投诉数', expr: 'cp90' },
  { key: 'complaints_365d', unit: 'tickets', en: 'complaints in the last 365 days', zh: '近 365 天投诉数', expr: 'cp365' },
  { key: 'unresolved_complaints', unit: 'tickets', en: 'unresolved complaints', zh: '未解决的投诉数', expr: 'open_cp' },
  { key: 'open_tickets', unit: 'tickets', en: 'open tickets', zh: '未关闭工单数', expr: 'open_tk' },
  { key: 'overdue_tickets', unit: 'tickets', en: 'open tickets past their SLA', zh: '超过时限未处理的工单数', expr: 'overdue_tk' },
  { key: 'returns_365d', unit: 'orders', en: 'returned or refunded orders in the last 365 days', zh: '近 365 天退货退款订单数', expr: 'ret365' },
  { key: 'refund_rate_365d', unit: 'share', en: 'share of orders returned or refunded (365 days)', zh: '近 365 天退货退款率', expr: ratio('ret365', 'all365') },
  { key: 'csat_avg', unit: 'score', en: 'average satisfaction (CSAT, 1–5) over the last 365 days', zh: '近 365 天平均满意度（CSAT 1–5）', expr: 'csat' },
  { key: 'last_nps', unit: 'score', en: 'latest NPS answer (0–10)', zh: '最近一次 NPS 评分（0–10）', expr: 'last_nps' },
  { key: 'negative_texts_365d', unit: 'responses', en: 'survey answers with negative words (365 days)', zh: '近 365 天含负面词的问卷回答数', expr: 'neg365' },
  { key: 'churn_reason_365d', unit: 'responses', en: 'churn-reason survey answers (365 days)', zh: '近 365 天流失原因问卷回答数', expr: 'reason365' },
  { key: 'coupon_share_365d', unit: 'share', en: 'share of purchases with a coupon or discount (365 days)', zh: '近 365 天用券或折扣的购买占比', expr: ratio('coupon365', 'o365') },
  { key: 'discount_share_365d', unit: 'share', en: 'discounts as a share of list value (365 days)', zh: '近 365 天折扣占原价比例', expr: ratio('disc365', 'gross365') },
  { key: 'referrals_365d', unit: 'count', en: 'referrals made in the last 365 days', zh: '近 365 天推荐人数', expr: 'ref365' },
  { key: 'lifecycle_stage', unit: 'stage', en: 'lifecycle stage at the cut-off (0 new … 5 churned)', zh: '截止日的生命周期阶段（0 新客 … 5 已流失）', expr: 'stage' },
];

export const FEATURE_KEYS = FEATURES.map((f) => f.key);
export const FEATURE_BY_KEY = new Map(FEATURES.map((f) => [f.key, f]));

/** Words that mark a survey answer as negative (zh-CN and English), matched case-insensitively. */
export const NEGATIVE_WORDS = [
  '失望', '不会再', '太贵', '太慢', '很差', '越来越差', '没解决', '没人处理', '糟糕', '垃圾', '不满', '投诉', '退款', '骗',
  'disappoint', 'not come back', 'never again', 'too expensive', 'terrible', 'never solved', 'worse', 'worst', 'ignored',
  'too slow', 'awful', 'poor', 'angry', 'refund', 'cheaper elsewhere', 'others are cheaper',
];
const NEGATIVE_RE = NEGATIVE_WORDS.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');

export interface FeatureQuery {
  workspaceId: number;
  cutoff: Date;
  analytics: AnalyticsSettings;
  /** only these customers */
  ids?: string[];
  /** add the label: no purchase (basis activity: and no event) in (cut-off, cut-off + horizon] */
  label?: { horizonDays: number; basis: 'purchase' | 'activity' };
  /** add the demo generator's truth: dropped out at or before cut-off + horizon (null without a demo_truth row) */
  truth?: { horizonDays: number };
  /** add the scorecard (points and the indicators that fired) */
  scorecard?: ScorecardConfig;
  /** the cut-off is now: today's membership expiry may be read (scorecard only, never a model feature) */
  current?: boolean;
  /** rows fetched from the cursor at a time (default FETCH_ROWS; tests use a few) */
  fetchRows?: number;
}

export interface FeatureRow {
  customer_id: string;
  [k: string]: unknown;
}

/** The statement: one row per customer who had bought at or before the cut-off. */
export function featureSql(q: FeatureQuery): RawBuilder<FeatureRow> {
  const ws = q.workspaceId;
  const only = (col: string) => (q.ids ? sql`and ${sql.ref(col)} = any(${q.ids}::text[])` : sql``);
  // Window edges as constants (not t.at − interval per row and aggregate): much faster scans.
  const at = sql`${q.cutoff}::timestamptz`;
  const ago = (n: number) => sql`${new Date(q.cutoff.getTime() - n * 86_400_000)}::timestamptz`;
  const ahead = (n: number) => sql`${new Date(q.cutoff.getTime() + n * 86_400_000)}::timestamptz`;
  const l = q.analytics.lifecycle;
  const stage = `case
      when ${days('last_paid')} > ${Number(l.churnDays)} then 5
      when ${days('last_paid')} > ${Number(l.dormantDays)} then 4
      when (${days('last_paid')} > ${Number(l.inactiveDays)} and coalesce(${days('last_event')}, 1e9) > ${Number(l.inactiveDays)})
        or (base90 >= 1 and o90 <= ${1 - Number(l.frequencyDrop)} * base90) then 3
      when ${days('first_paid')} <= ${Number(l.newDays)} then 0
      when ${days('first_paid')} <= ${Number(l.growingDays)} then 1
      else 2 end`;
  const exprs = FEATURES.map((f) => `(${f.key === 'lifecycle_stage' ? stage : f.expr})::float8 as ${f.key}`).join(',\n      ');
  const h = q.label?.horizonDays ?? 0;
  // Label and truth as per-customer sets joined once (hash joins), not as a subquery per row.
  const labelCte = q.label
    ? sql`, fut as materialized (
        select distinct customer_id from (
          select customer_id from orders
          where workspace_id = ${ws} and status = 'paid' and ordered_at > ${at} and ordered_at <= ${ahead(h)} ${only('customer_id')}
          ${
            q.label.basis === 'activity'
              ? sql`union all select customer_id from events
                  where workspace_id = ${ws} and customer_id is not null and occurred_at > ${at} and occurred_at <= ${ahead(h)} ${only('customer_id')}`
              : sql``
          }) x)`
    : sql``;
  const labelCols = q.label ? sql`, (f.id not in (select customer_id from fut))::int as label` : sql``;
  const truthCols = q.truth
    ? sql`, (case when dt.customer_id is null then null
              when dt.dropped_out_at is not null and dt.dropped_out_at <= ${ahead(q.truth.horizonDays)} then 1 else 0 end) as truth`
    : sql``;
  const truthJoin = q.truth ? sql`left join demo_truth dt on dt.workspace_id = ${ws} and dt.customer_id = f.id` : sql``;
  const sc = q.scorecard ? scorecardSql(q.scorecard) : null;
  const scoreCols = sc ? sql`, ${sql.raw(sc.points)} as sc_points, ${sql.raw(sc.hits)} as sc_hits` : sql``;
  return sql<FeatureRow>`
    with t as (select ${q.cutoff}::timestamptz as at),
    o as materialized (
      select customer_id,
        min(ordered_at) filter (where status = 'paid') as first_paid,
        max(ordered_at) filter (where status = 'paid') as last_paid,
        count(*) filter (where status = 'paid') as n_paid,
        coalesce(sum(amount) filter (where status = 'paid'), 0) as spend_paid,
        count(*) filter (where status = 'paid' and ordered_at > ${ago(30)}) as o30,
        count(*) filter (where status = 'paid' and ordered_at > ${ago(90)}) as o90,
        count(*) filter (where status = 'paid' and ordered_at > ${ago(180)}) as o180,
        count(*) filter (where status = 'paid' and ordered_at > ${ago(365)}) as o365,
        count(*) filter (where status = 'paid' and ordered_at > ${ago(180)} and ordered_at <= ${ago(90)}) as oprev90,
        count(*) filter (where status = 'paid' and ordered_at > ${ago(455)} and ordered_at <= ${ago(90)}) as obase,
        coalesce(sum(amount) filter (where status = 'paid' and ordered_at > ${ago(90)}), 0) as s90,
        coalesce(sum(amount) filter (where status = 'paid' and ordered_at > ${ago(180)} and ordered_at <= ${ago(90)}), 0) as sprev90,
        coalesce(sum(amount) filter (where status = 'paid' and ordered_at > ${ago(365)}), 0) as s365,
        count(*) filter (where status = 'paid' and ordered_at > ${ago(365)} and (coupon_code is not null or discount > 0)) as coupon365,
        coalesce(sum(discount) filter (where status = 'paid' and ordered_at > ${ago(365)}), 0) as disc365,
        coalesce(sum(amount + discount) filter (where status = 'paid' and ordered_at > ${ago(365)}), 0) as gross365,
        count(*) filter (where status in ('refunded', 'returned') and ordered_at > ${ago(365)}) as ret365,
        count(*) filter (where ordered_at > ${ago(365)}) as all365
      from orders
      where workspace_id = ${ws} and ordered_at <= ${at} ${only('customer_id')}
      group by customer_id
      having count(*) filter (where status = 'paid') > 0
    ),
    e as materialized (
      select customer_id,
        max(occurred_at) as last_event,
        max(occurred_at) filter (where type = 'login') as last_login,
        count(*) filter (where occurred_at > ${ago(30)}) as ev30,
        count(*) filter (where occurred_at > ${ago(60)} and occurred_at <= ${ago(30)}) as evprev30,
        count(*) filter (where type = 'login' and occurred_at > ${ago(30)}) as lg30,
        count(*) filter (where type = 'login' and occurred_at > ${ago(60)} and occurred_at <= ${ago(30)}) as lgprev30,
        count(*) filter (where type like '%unsubscribe%' and occurred_at > ${ago(90)}) as unsub90
      from events
      where workspace_id = ${ws} and customer_id is not null and occurred_at <= ${at}
        ${only('customer_id')}
      group by customer_id
    ),
    tk as materialized (
      select customer_id,
        count(*) filter (where kind = 'complaint' and created_at > ${ago(90)}) as cp90,
        count(*) filter (where kind = 'complaint' and created_at > ${ago(365)}) as cp365,
        count(*) filter (where is_open and kind = 'complaint') as open_cp,
        count(*) filter (where is_open) as open_tk,
        count(*) filter (where is_open and due_at < ${at}) as overdue_tk
      from (
        select customer_id, kind, created_at, due_at,
          -- open at the cut-off: not resolved by then (a ticket without a resolution date counts by its status)
          (case when resolved_at is not null then resolved_at > ${at}
                else status in ('open', 'pending', 'reopened') end) as is_open
        from tickets
        where workspace_id = ${ws} and customer_id is not null and created_at <= ${at} ${only('customer_id')}
      ) x
      group by customer_id
    ),
    sv as materialized (
      select customer_id,
        avg(csat) filter (where csat is not null and responded_at > ${ago(365)}) as csat,
        (array_agg(nps order by responded_at desc) filter (where nps is not null))[1] as last_nps,
        count(*) filter (where responded_at > ${ago(365)} and text ~* ${NEGATIVE_RE}) as neg365,
        count(*) filter (where responded_at > ${ago(365)} and churn_reason is not null) as reason365
      from survey_responses
      where workspace_id = ${ws} and customer_id is not null and responded_at <= ${at} ${only('customer_id')}
      group by customer_id
    ),
    rf as materialized (
      select referrer_id as customer_id, count(*) filter (where referred_at > ${ago(365)}) as ref365
      from referrals
      where workspace_id = ${ws} and referred_at <= ${at} ${only('referrer_id')}
      group by referrer_id
    ),
    b as (
      select c.id, c.registered_at, c.membership_expires_at,
        o.first_paid, o.last_paid, o.n_paid, o.spend_paid, o.o30, o.o90, o.o180, o.o365, o.oprev90,
        o.obase::float8 / 4 as base90, o.s90, o.sprev90, o.s365, o.coupon365, o.disc365, o.gross365, o.ret365, o.all365,
        e.last_event, e.last_login, coalesce(e.ev30, 0) as ev30, coalesce(e.evprev30, 0) as evprev30,
        coalesce(e.lg30, 0) as lg30, coalesce(e.lgprev30, 0) as lgprev30, coalesce(e.unsub90, 0) as unsub90,
        coalesce(tk.cp90, 0) as cp90, coalesce(tk.cp365, 0) as cp365, coalesce(tk.open_cp, 0) as open_cp,
        coalesce(tk.open_tk, 0) as open_tk, coalesce(tk.overdue_tk, 0) as overdue_tk,
        sv.csat, sv.last_nps, coalesce(sv.neg365, 0) as neg365, coalesce(sv.reason365, 0) as reason365,
        coalesce(rf.ref365, 0) as ref365
      from customers c
        join o on o.customer_id = c.id
        left join e on e.customer_id = c.id
        left join tk on tk.customer_id = c.id
        left join sv on sv.customer_id = c.id
        left join rf on rf.customer_id = c.id
      where c.workspace_id = ${ws} and c.merged_into is null ${only('c.id')}
    ),
    f as (
      select b.id,
      ${sql.raw(exprs)},
      ${q.current ? sql`extract(epoch from (b.membership_expires_at - t.at)) / 86400.0` : sql`null::float8`} as membership_days_left
      from b, t
    )
    ${labelCte}
    select f.*, f.id as customer_id
      ${scoreCols}
      ${labelCols}
      ${truthCols}
    from f ${truthJoin} cross join t
    order by f.id`;
}

export interface FeatureSet {
  cutoff: Date;
  ids: string[];
  x: Matrix;
  label?: Float64Array;
  /** NaN where demo_truth has no row */
  truth?: Float64Array;
  scorecard?: { points: Int32Array; hits: string[][] };
  membershipDaysLeft: Float64Array;
}

const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));

export async function loadFeatures(db: Kysely<Database>, q: FeatureQuery): Promise<FeatureSet> {
  const p = FEATURES.length;
  // Growable columns, filled batch by batch from a cursor: only one batch of rows is ever objects.
  const batch = Math.max(1, Math.floor(q.fetchRows ?? FETCH_ROWS));
  // Sized once for every customer of the workspace (at most one row each) and returned as views:
  // growing by doubling and trimming with a copy held 2.6 copies of the matrix at once (790 MB of
  // buffers for 937k customers). With fetchRows set (tests) they start at one batch and grow.
  const bound = q.ids
    ? q.ids.length
    : Number(
        (await sql<{ n: number }>`select count(*)::int as n from customers where workspace_id = ${q.workspaceId} and merged_into is null`.execute(db))
          .rows[0]?.n ?? 0,
      );
  let cap = Math.max(1, q.fetchRows ? batch : bound);
  let n = 0;
  let data = new Float64Array(cap * p);
  let label = q.label ? new Float64Array(cap) : undefined;
  let truth = q.truth ? new Float64Array(cap) : undefined;
  let points = q.scorecard ? new Int32Array(cap) : undefined;
  let ms = new Float64Array(cap);
  const ids: string[] = [];
  const hits: string[][] | undefined = q.scorecard ? [] : undefined;
  const grow = <T extends Float64Array | Int32Array>(a: T, size: number): T => {
    const b = new (a.constructor as new (n: number) => T)(size);
    b.set(a);
    return b;
  };
  // The per-customer aggregates join on customer id; right after a bulk load the planner has no
  // statistics, guesses one row per CTE and picks nested loops (quadratic). Hash joins always suit here.
  const settings = { enable_nestloop: 'off', jit: 'off' };
  await forEachBatch<FeatureRow>(
    db,
    featureSql(q),
    (rows) => {
      if (n + rows.length > cap) {
        while (n + rows.length > cap) cap *= 2;
        data = grow(data, cap * p);
        ms = grow(ms, cap);
        if (label) label = grow(label, cap);
        if (truth) truth = grow(truth, cap);
        if (points) points = grow(points, cap);
      }
      for (const row of rows) {
        ids.push(row.customer_id);
        for (let j = 0; j < p; j++) data[n * p + j] = num(row[FEATURE_KEYS[j]!]);
        if (label) label[n] = num(row.label);
        if (truth) truth[n] = num(row.truth);
        if (points) points[n] = Number(row.sc_points ?? 0);
        if (hits) hits.push((row.sc_hits as string[] | null) ?? []);
        ms[n] = num(row.membership_days_left);
        n++;
      }
    },
    { batch, settings },
  );
  data = data.subarray(0, n * p);
  ms = ms.subarray(0, n);
  if (label) label = label.subarray(0, n);
  if (truth) truth = truth.subarray(0, n);
  if (points) points = points.subarray(0, n);
  return {
    cutoff: q.cutoff,
    ids,
    x: { rows: n, cols: p, data, names: [...FEATURE_KEYS] },
    ...(label ? { label } : {}),
    ...(truth ? { truth } : {}),
    ...(points && hits ? { scorecard: { points, hits } } : {}),
    membershipDaysLeft: ms,
  };
}
