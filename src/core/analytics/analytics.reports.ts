// Reports over the scored customers: the tier table (seeds' Table 1), the RFM
// grid, named segments, the lifecycle funnel and its transitions.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Report } from '../reports/report.ts';

/** Days since the last purchase as of the last scoring run (m = customer_metrics, s = scoring_state). */
const RECENCY_DAYS = sql`floor(extract(epoch from (s.as_of - m.last_order_at)) / 86400)::int`;

const TIER_TRAITS: Record<string, { en: string; zh: string }> = {
  A: { en: 'Core, high value: recent, frequent, high spend', zh: '核心高价值：近期活跃、购买频繁、消费高' },
  B: { en: 'Growth potential: good value, room to grow', zh: '成长潜力：价值较高，仍有提升空间' },
  C: { en: 'Ordinary: average activity and spend', zh: '普通客户：活跃与消费一般' },
  D: { en: 'Churn risk / warning: long silent or low value', zh: '流失风险/预警：长期沉默或价值低' },
};

export async function tierReport(db: Kysely<Database>, workspaceId: number): Promise<Report> {
  const r = await sql<{ tier: string | null; customers: number; avg_score: number; avg_recency: number; avg_orders: number; avg_spend: number; spend: number }>`
    select tier, count(*)::int as customers, round(avg(rfm_score), 1)::float8 as avg_score,
           round(avg(${RECENCY_DAYS}), 1)::float8 as avg_recency, round(avg(orders_window), 2)::float8 as avg_orders,
           round(avg(spend_window), 2)::float8 as avg_spend, coalesce(sum(spend_window), 0)::float8 as spend
    from customer_metrics m left join scoring_state s on s.workspace_id = m.workspace_id
    where m.workspace_id = ${workspaceId}
    group by tier order by tier nulls last`.execute(db);
  const total = r.rows.reduce((a, x) => a + x.customers, 0);
  const spend = r.rows.reduce((a, x) => a + x.spend, 0);
  return {
    name: 'tiers',
    title: { en: 'Value tiers', zh: '客户价值分层' },
    columns: [
      { key: 'tier', en: 'Tier', zh: '层级' },
      { key: 'customers', en: 'Customers', zh: '客户数', type: 'number' },
      { key: 'share', en: 'Share', zh: '占比', type: 'percent' },
      { key: 'spend_share', en: 'Share of spend', zh: '消费占比', type: 'percent' },
      { key: 'avg_score', en: 'Avg RFM score', zh: '平均 RFM 分', type: 'number' },
      { key: 'avg_recency', en: 'Avg days since purchase', zh: '平均未购天数', type: 'number' },
      { key: 'avg_orders', en: 'Avg orders (window)', zh: '平均订单数（窗口内）', type: 'number' },
      { key: 'avg_spend', en: 'Avg spend (window)', zh: '平均消费（窗口内）', type: 'money' },
      { key: 'traits', en: 'Traits', zh: '特征' },
      { key: 'traits_zh', en: 'Traits (zh)', zh: '特征（中文）' },
    ],
    rows: r.rows.map((x) => ({
      tier: x.tier ?? 'none',
      customers: x.customers,
      share: total ? x.customers / total : 0,
      spend_share: spend ? x.spend / spend : 0,
      avg_score: x.avg_score,
      avg_recency: x.avg_recency,
      avg_orders: x.avg_orders,
      avg_spend: x.avg_spend,
      traits: x.tier ? TIER_TRAITS[x.tier]!.en : 'No purchase yet',
      traits_zh: x.tier ? TIER_TRAITS[x.tier]!.zh : '尚未购买',
    })),
  };
}

export async function rfmGridReport(db: Kysely<Database>, workspaceId: number): Promise<Report> {
  const r = await sql<{ r_score: number; f_score: number; customers: number; avg_monetary: number }>`
    select r_score, f_score, count(*)::int as customers, round(avg(spend_window), 2)::float8 as avg_monetary
    from customer_metrics where workspace_id = ${workspaceId} and r_score is not null
    group by r_score, f_score order by r_score desc, f_score desc`.execute(db);
  return {
    name: 'rfm',
    title: { en: 'RFM grid (recency × frequency)', zh: 'RFM 矩阵（最近购买 × 频次）' },
    columns: [
      { key: 'r_score', en: 'R', zh: 'R', type: 'number' },
      { key: 'f_score', en: 'F', zh: 'F', type: 'number' },
      { key: 'customers', en: 'Customers', zh: '客户数', type: 'number' },
      { key: 'avg_monetary', en: 'Avg spend (window)', zh: '平均消费（窗口内）', type: 'money' },
    ],
    rows: r.rows,
  };
}

export const SEGMENT_NAMES: Record<string, { en: string; zh: string }> = {
  champions: { en: 'Champions', zh: '冠军客户' },
  loyal: { en: 'Loyal', zh: '忠诚客户' },
  potential_loyalist: { en: 'Potential loyalist', zh: '潜在忠诚客户' },
  new: { en: 'New', zh: '新客户' },
  promising: { en: 'Promising', zh: '有潜力客户' },
  need_attention: { en: 'Need attention', zh: '需要关注' },
  about_to_sleep: { en: 'About to sleep', zh: '即将沉睡' },
  at_risk: { en: 'At risk', zh: '有流失风险' },
  cannot_lose_them: { en: 'Cannot lose them', zh: '不能失去' },
  hibernating: { en: 'Hibernating', zh: '休眠客户' },
  lost: { en: 'Lost', zh: '已流失' },
};

export async function segmentReport(db: Kysely<Database>, workspaceId: number): Promise<Report> {
  const r = await sql<{ rfm_segment: string; customers: number; avg_spend: number; avg_recency: number }>`
    select rfm_segment, count(*)::int as customers, round(avg(spend_window), 2)::float8 as avg_spend,
           round(avg(${RECENCY_DAYS}), 1)::float8 as avg_recency
    from customer_metrics m left join scoring_state s on s.workspace_id = m.workspace_id
    where m.workspace_id = ${workspaceId} and rfm_segment is not null
    group by rfm_segment order by customers desc`.execute(db);
  const total = r.rows.reduce((a, x) => a + x.customers, 0);
  return {
    name: 'segments',
    title: { en: 'Named RFM segments', zh: 'RFM 客户分群' },
    columns: [
      { key: 'segment', en: 'Segment', zh: '分群' },
      { key: 'name', en: 'Name', zh: '名称' },
      { key: 'customers', en: 'Customers', zh: '客户数', type: 'number' },
      { key: 'share', en: 'Share', zh: '占比', type: 'percent' },
      { key: 'avg_spend', en: 'Avg spend (window)', zh: '平均消费（窗口内）', type: 'money' },
      { key: 'avg_recency', en: 'Avg days since purchase', zh: '平均未购天数', type: 'number' },
    ],
    rows: r.rows.map((x) => ({
      segment: x.rfm_segment,
      name: SEGMENT_NAMES[x.rfm_segment]?.en ?? x.rfm_segment,
      customers: x.customers,
      share: total ? x.customers / total : 0,
      avg_spend: x.avg_spend,
      avg_recency: x.avg_recency,
    })),
  };
}

export const STAGES = ['prospect', 'new', 'growing', 'mature', 'at_risk', 'dormant', 'churned'] as const;
export const STAGE_NAMES: Record<string, { en: string; zh: string }> = {
  prospect: { en: 'Prospect (no purchase)', zh: '潜在客户（未购买）' },
  new: { en: 'New', zh: '新客期' },
  growing: { en: 'Growing', zh: '成长期' },
  mature: { en: 'Mature', zh: '成熟期' },
  at_risk: { en: 'At risk', zh: '风险期' },
  dormant: { en: 'Dormant', zh: '沉睡期' },
  churned: { en: 'Churned', zh: '流失' },
};

export async function lifecycleReport(db: Kysely<Database>, workspaceId: number, now: Date): Promise<Report> {
  const r = await sql<{ stage: string; customers: number; entered_30d: number }>`
    select m.lifecycle_stage as stage, count(*)::int as customers,
           count(*) filter (where m.stage_since > ${now}::timestamptz - make_interval(days => 30))::int as entered_30d
    from customer_metrics m where m.workspace_id = ${workspaceId} and m.lifecycle_stage is not null
    group by m.lifecycle_stage`.execute(db);
  const by = new Map(r.rows.map((x) => [x.stage, x]));
  const total = r.rows.reduce((a, x) => a + x.customers, 0);
  return {
    name: 'lifecycle',
    title: { en: 'Lifecycle stages', zh: '生命周期阶段' },
    columns: [
      { key: 'stage', en: 'Stage', zh: '阶段' },
      { key: 'name', en: 'Name', zh: '名称' },
      { key: 'customers', en: 'Customers', zh: '客户数', type: 'number' },
      { key: 'share', en: 'Share', zh: '占比', type: 'percent' },
      { key: 'entered_30d', en: 'Entered in the last 30 days', zh: '近 30 天进入', type: 'number' },
    ],
    rows: STAGES.map((s) => ({
      stage: s,
      name: STAGE_NAMES[s]!.en,
      customers: by.get(s)?.customers ?? 0,
      share: total ? (by.get(s)?.customers ?? 0) / total : 0,
      entered_30d: by.get(s)?.entered_30d ?? 0,
    })),
  };
}

export async function transitionsReport(db: Kysely<Database>, workspaceId: number, now: Date, days = 30): Promise<Report> {
  const r = await sql<{ from_stage: string | null; to_stage: string; customers: number }>`
    select from_stage, to_stage, count(*)::int as customers
    from lifecycle_transitions
    where workspace_id = ${workspaceId} and at > ${now}::timestamptz - make_interval(days => ${days}::int) and at <= ${now}
      and from_stage is not null
    group by from_stage, to_stage order by customers desc`.execute(db);
  return {
    name: 'transitions',
    title: { en: `Lifecycle transitions in the last ${days} days`, zh: `近 ${days} 天生命周期流转` },
    columns: [
      { key: 'from_stage', en: 'From', zh: '从' },
      { key: 'to_stage', en: 'To', zh: '到' },
      { key: 'customers', en: 'Customers', zh: '客户数', type: 'number' },
    ],
    rows: r.rows,
  };
}

/** The SPEC §2 indicators over all customers who ever bought, from the latest pipeline run. */
export async function indicatorsReport(db: Kysely<Database>, workspaceId: number): Promise<Report> {
  const r = await sql<Record<string, number | null>>`
    select count(*)::float8 as buyers,
      avg(case when logins_7d >= 1 or core_uses_30d >= 3 then 1.0 else 0.0 end)::float8 as active_rate,
      avg(orders_window)::float8 as purchase_frequency,
      (sum(orders_90d)::float8 / nullif(sum(orders_prev_90d), 0)) - 1 as frequency_trend,
      (sum(spend_total) / nullif(sum(orders_total), 0))::float8 as aov,
      avg(spend_total)::float8 as historical_value,
      avg(case when orders_total >= 2 then 1.0 else 0.0 end)::float8 as repurchase_rate,
      avg(complaints_total)::float8 as complaints_per_customer,
      avg(case when complaints_total > 0 then 1.0 else 0.0 end)::float8 as complaint_rate,
      (sum(refunded_orders)::float8 / nullif(sum(orders_all_statuses), 0)) as refund_rate,
      avg(csat_avg)::float8 as csat,
      ((count(*) filter (where last_nps >= 9) - count(*) filter (where last_nps <= 6))::float8
        / nullif(count(last_nps), 0) * 100) as nps,
      avg(referrals)::float8 as referrals_per_customer,
      avg(events_30d)::float8 as usage_depth
    from customer_metrics where workspace_id = ${workspaceId} and orders_total > 0`.execute(db);
  const x = r.rows[0] ?? {};
  const defs: [string, string, string, 'number' | 'percent' | 'money'][] = [
    ['buyers', 'Customers who ever bought', '累计购买客户数', 'number'],
    ['active_rate', 'Active (≥ 1 login a week or ≥ 3 core uses a month)', '活跃率（每周≥1次登录或每月≥3次核心功能使用）', 'percent'],
    ['purchase_frequency', 'Purchase frequency (orders in the RFM window)', '购买频次（RFM 窗口内订单数）', 'number'],
    ['frequency_trend', 'Frequency trend (last 90 days vs the 90 before)', '频次趋势（近90天对比前90天）', 'percent'],
    ['aov', 'Average order value', '客单价', 'money'],
    ['historical_value', 'Historical value per customer', '客户历史价值', 'money'],
    ['repurchase_rate', 'Repurchase rate (2+ orders ever)', '复购率（累计2单及以上）', 'percent'],
    ['complaints_per_customer', 'Complaints per customer', '人均投诉次数', 'number'],
    ['complaint_rate', 'Customers who complained', '投诉客户占比', 'percent'],
    ['refund_rate', 'Return / refund rate (orders)', '退货/退款率（订单）', 'percent'],
    ['csat', 'Satisfaction (CSAT 1–5)', '满意度（CSAT 1–5）', 'number'],
    ['nps', 'NPS (latest answer per customer)', 'NPS（每位客户最近一次）', 'number'],
    ['referrals_per_customer', 'Referrals per customer', '人均推荐数', 'number'],
    ['usage_depth', 'Service usage depth (events in 30 days)', '服务使用深度（近30天事件数）', 'number'],
  ];
  return {
    name: 'indicators',
    title: { en: 'Customer indicators (all buyers)', zh: '客户指标（全部购买客户）' },
    columns: [
      { key: 'indicator', en: 'Indicator', zh: '指标' },
      { key: 'indicator_zh', en: 'Indicator (zh)', zh: '指标（中文）' },
      { key: 'value', en: 'Value', zh: '数值', type: 'number' },
      { key: 'unit', en: 'Unit', zh: '单位' },
    ],
    rows: defs.map(([key, en, zh, unit]) => ({ key, indicator: en, indicator_zh: zh, value: x[key] ?? null, unit })),
  };
}
