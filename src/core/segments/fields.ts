// The whitelist: every name a rule may use, with its type and the fixed SQL it
// stands for. Identifiers in the compiled SQL come only from here; a rule's
// own text only ever reaches the database as a bound parameter.
//
// Aliases in the fragments: c = customers, m = customer_metrics (left join),
// o = orders, e = events, t = tickets.
import type { AttrType, Source } from './ast.ts';

export type FieldType = 'number' | 'string' | 'boolean' | 'date' | 'datetime';

export interface FieldDef {
  name: string;
  type: FieldType;
  /**
   * Fixed SQL expression (never built from input). `$ws` stands for the rule's
   * workspace id, bound as a parameter by the compiler.
   */
  sql: string;
  /** Allowed values for enumerations (tier, lifecycle_stage, …). */
  values?: readonly string[];
  /** birthday-like dates: "within next N days" means the yearly anniversary. */
  anniversary?: boolean;
  en: string;
  zh: string;
}

const TIERS = ['A', 'B', 'C', 'D'] as const;
export const STAGES = ['prospect', 'new', 'growing', 'mature', 'at_risk', 'dormant', 'churned'] as const;
export const RFM_SEGMENTS = [
  'champions',
  'loyal',
  'potential_loyalist',
  'new',
  'promising',
  'need_attention',
  'about_to_sleep',
  'at_risk',
  'cannot_lose_them',
  'hibernating',
  'lost',
] as const;

const count = (col: string) => `coalesce(m.${col}, 0)`;

const LIST: FieldDef[] = [
  // customers
  { name: 'id', type: 'string', sql: 'c.id', en: 'customer id', zh: '客户编号' },
  { name: 'name', type: 'string', sql: 'c.name', en: 'name', zh: '姓名' },
  { name: 'gender', type: 'string', sql: 'c.gender', values: ['female', 'male', 'other'], en: 'gender', zh: '性别' },
  { name: 'birthday', type: 'date', sql: 'c.birthday', anniversary: true, en: 'birthday', zh: '生日' },
  { name: 'region', type: 'string', sql: 'c.region', en: 'region', zh: '地区' },
  { name: 'city', type: 'string', sql: 'c.city', en: 'city', zh: '城市' },
  { name: 'registered_at', type: 'datetime', sql: 'c.registered_at', en: 'registration date', zh: '注册时间' },
  { name: 'acquisition_channel', type: 'string', sql: 'c.acquisition_channel', en: 'acquisition channel', zh: '获客渠道' },
  { name: 'membership_level', type: 'string', sql: 'c.membership_level', en: 'membership level', zh: '会员等级' },
  { name: 'membership_expires_at', type: 'datetime', sql: 'c.membership_expires_at', en: 'membership expiry', zh: '会员到期时间' },
  { name: 'owner', type: 'string', sql: 'c.owner', en: 'account owner', zh: '负责人' },
  { name: 'preferred_channel', type: 'string', sql: 'c.preferred_channel', en: 'preferred channel', zh: '偏好渠道' },
  { name: 'is_stub', type: 'boolean', sql: 'c.is_stub', en: 'created from an order or event only', zh: '仅由订单或事件创建' },
  // customer_metrics (docs/analytics.md)
  { name: 'first_order_at', type: 'datetime', sql: 'm.first_order_at', en: 'first purchase', zh: '首次购买时间' },
  { name: 'last_order_at', type: 'datetime', sql: 'm.last_order_at', en: 'last purchase', zh: '最近购买时间' },
  { name: 'orders_total', type: 'number', sql: count('orders_total'), en: 'paid orders (all time)', zh: '累计订单数' },
  { name: 'spend_total', type: 'number', sql: count('spend_total'), en: 'spend (all time)', zh: '累计消费金额' },
  { name: 'orders_window', type: 'number', sql: count('orders_window'), en: 'paid orders in the RFM window', zh: 'RFM 窗口内订单数' },
  { name: 'spend_window', type: 'number', sql: count('spend_window'), en: 'spend in the RFM window', zh: 'RFM 窗口内消费金额' },
  { name: 'orders_90d', type: 'number', sql: count('orders_90d'), en: 'paid orders in the last 90 days', zh: '近 90 天订单数' },
  { name: 'orders_prev_90d', type: 'number', sql: count('orders_prev_90d'), en: 'paid orders in the 90 days before those', zh: '前一个 90 天订单数' },
  { name: 'coupon_orders_window', type: 'number', sql: count('coupon_orders_window'), en: 'orders with a coupon in the window', zh: '窗口内用券订单数' },
  {
    name: 'coupon_share',
    type: 'number',
    sql: '(m.coupon_orders_window::numeric / nullif(m.orders_window, 0))',
    en: 'share of orders with a coupon (window)',
    zh: '用券订单占比',
  },
  { name: 'aov', type: 'number', sql: '(m.spend_window / nullif(m.orders_window, 0))', en: 'average order value (window)', zh: '客单价' },
  { name: 'refunded_orders', type: 'number', sql: count('refunded_orders'), en: 'refunded or returned orders', zh: '退款/退货订单数' },
  {
    name: 'refund_rate',
    type: 'number',
    sql: '(m.refunded_orders::numeric / nullif(m.orders_all_statuses, 0))',
    en: 'refund/return rate',
    zh: '退款退货率',
  },
  { name: 'orders_all_statuses', type: 'number', sql: count('orders_all_statuses'), en: 'orders of any status', zh: '全部订单数' },
  { name: 'last_event_at', type: 'datetime', sql: 'm.last_event_at', en: 'last activity', zh: '最近活跃时间' },
  { name: 'events_30d', type: 'number', sql: count('events_30d'), en: 'events in the last 30 days', zh: '近 30 天行为次数' },
  { name: 'events_prev_30d', type: 'number', sql: count('events_prev_30d'), en: 'events in the 30 days before those', zh: '前一个 30 天行为次数' },
  { name: 'logins_30d', type: 'number', sql: count('logins_30d'), en: 'logins in the last 30 days', zh: '近 30 天登录次数' },
  { name: 'logins_7d', type: 'number', sql: count('logins_7d'), en: 'logins in the last 7 days', zh: '近 7 天登录次数' },
  { name: 'core_uses_30d', type: 'number', sql: count('core_uses_30d'), en: 'core-feature uses in the last 30 days', zh: '近 30 天核心功能使用次数' },
  { name: 'complaints', type: 'number', sql: count('complaints_total'), en: 'complaints (all time)', zh: '累计投诉次数' },
  { name: 'complaints_total', type: 'number', sql: count('complaints_total'), en: 'complaints (all time)', zh: '累计投诉次数' },
  { name: 'complaints_90d', type: 'number', sql: count('complaints_90d'), en: 'complaints in the last 90 days', zh: '近 90 天投诉次数' },
  { name: 'open_tickets', type: 'number', sql: count('open_tickets'), en: 'open tickets', zh: '未关闭工单数' },
  { name: 'csat_avg', type: 'number', sql: 'm.csat_avg', en: 'average CSAT (1–5)', zh: '平均满意度（1–5）' },
  { name: 'last_nps', type: 'number', sql: 'm.last_nps', en: 'latest NPS answer (0–10)', zh: '最近一次 NPS（0–10）' },
  { name: 'referrals', type: 'number', sql: count('referrals'), en: 'referrals made', zh: '推荐人数' },
  // As of the last scoring run, like the scores: derived, since a stored count of days would change every row every day.
  // The run's time is read once per query ($ws, not m.workspace_id: a correlated
  // lookup ran once per customer, 3.8 s instead of 1.3 s over 1M customers).
  {
    name: 'recency_days',
    type: 'number',
    sql: 'floor(extract(epoch from ((select s.as_of from scoring_state s where s.workspace_id = $ws) - m.last_order_at)) / 86400)::int',
    en: 'days since the last purchase',
    zh: '距上次购买天数',
  },
  { name: 'r_score', type: 'number', sql: 'm.r_score', en: 'R score (1–5)', zh: 'R 评分（1–5）' },
  { name: 'f_score', type: 'number', sql: 'm.f_score', en: 'F score (1–5)', zh: 'F 评分（1–5）' },
  { name: 'm_score', type: 'number', sql: 'm.m_score', en: 'M score (1–5)', zh: 'M 评分（1–5）' },
  { name: 'rfm_score', type: 'number', sql: 'm.rfm_score', en: 'RFM score (0–100)', zh: 'RFM 综合评分（0–100）' },
  { name: 'tier', type: 'string', sql: 'm.tier', values: TIERS, en: 'value tier', zh: '价值分层' },
  { name: 'rfm_segment', type: 'string', sql: 'm.rfm_segment', values: RFM_SEGMENTS, en: 'RFM segment', zh: 'RFM 细分' },
  { name: 'lifecycle_stage', type: 'string', sql: 'm.lifecycle_stage', values: STAGES, en: 'lifecycle stage', zh: '生命周期阶段' },
  { name: 'stage_since', type: 'datetime', sql: 'm.stage_since', en: 'in the current stage since', zh: '进入当前阶段时间' },
];

export const FIELDS: ReadonlyMap<string, FieldDef> = new Map(LIST.map((f) => [f.name, f]));

/** attribute.NAME and consent.CHANNEL.PURPOSE: the names are bound as parameters, never spliced. */
export const ATTRIBUTE_PREFIX = 'attribute.';
export const CONSENT_PREFIX = 'consent.';
/** Attribute, consent and property names: a conservative pattern (letters of any script, digits, _ and -). */
export const KEY_PATTERN = /^[\p{L}_][\p{L}\p{N}_-]{0,63}$/u;
export const ATTR_TYPES: readonly AttrType[] = ['number', 'string', 'boolean'];

/** Per-source aggregate whitelist: the table, its time column, measures and row filters. */
export interface FilterDef {
  name: string;
  type: FieldType;
  values?: readonly string[];
  /** Fixed SQL; for "property.*" filters the key is bound separately. */
  sql: string;
  en: string;
  zh: string;
}

export interface SourceDef {
  name: Source;
  table: string;
  alias: string;
  time: string;
  customer: string;
  measures: Record<string, { sql: string; en: string; zh: string }>;
  filters: Map<string, FilterDef>;
  /** events: property.NAME filters and measures */
  properties: boolean;
  en: string;
  zh: string;
}

const f = (x: FilterDef): [string, FilterDef] => [x.name, x];
const weekend = (col: string): FilterDef => ({
  name: 'weekend',
  type: 'boolean',
  // the time column: compile.ts tests its day of week (6/7) in the workspace's time zone
  sql: col,
  en: 'on a weekend',
  zh: '周末',
});

export const SOURCE_DEFS: Record<Source, SourceDef> = {
  orders: {
    name: 'orders',
    table: 'orders',
    alias: 'o',
    time: 'o.ordered_at',
    customer: 'o.customer_id',
    measures: {
      amount: { sql: 'o.amount', en: 'amount', zh: '金额' },
      discount: { sql: 'o.discount', en: 'discount', zh: '优惠金额' },
    },
    filters: new Map([
      f({ name: 'status', type: 'string', values: ['paid', 'refunded', 'returned'], sql: 'o.status', en: 'status', zh: '状态' }),
      f({ name: 'amount', type: 'number', sql: 'o.amount', en: 'amount', zh: '金额' }),
      f({ name: 'discount', type: 'number', sql: 'o.discount', en: 'discount', zh: '优惠金额' }),
      f({ name: 'coupon', type: 'boolean', sql: '(o.coupon_code is not null or o.discount > 0)', en: 'with a coupon or discount', zh: '用券或有优惠' }),
      f({ name: 'coupon_code', type: 'string', sql: 'o.coupon_code', en: 'coupon code', zh: '券码' }),
      f({ name: 'channel', type: 'string', sql: 'o.channel', en: 'channel', zh: '渠道' }),
      f({ name: 'store', type: 'string', sql: 'o.store', en: 'store', zh: '门店' }),
      // category/product_id: some line of the order has it (compile.ts builds the exists)
      f({ name: 'category', type: 'string', sql: 'l.category', en: 'product category', zh: '商品类目' }),
      f({ name: 'product_id', type: 'string', sql: 'l.product_id', en: 'product', zh: '商品' }),
      f(weekend('o.ordered_at')),
    ]),
    properties: false,
    en: 'orders',
    zh: '订单',
  },
  events: {
    name: 'events',
    table: 'events',
    alias: 'e',
    time: 'e.occurred_at',
    customer: 'e.customer_id',
    measures: {},
    filters: new Map([f({ name: 'type', type: 'string', sql: 'e.type', en: 'type', zh: '类型' }), f(weekend('e.occurred_at'))]),
    properties: true,
    en: 'events',
    zh: '行为事件',
  },
  tickets: {
    name: 'tickets',
    table: 'tickets',
    alias: 't',
    time: 't.created_at',
    customer: 't.customer_id',
    measures: { csat: { sql: 't.csat', en: 'CSAT', zh: '满意度' } },
    filters: new Map([
      f({ name: 'kind', type: 'string', values: ['complaint', 'suggestion', 'inquiry'], sql: 't.kind', en: 'kind', zh: '类型' }),
      f({ name: 'category', type: 'string', sql: 't.category', en: 'category', zh: '类别' }),
      f({ name: 'status', type: 'string', values: ['open', 'pending', 'resolved', 'closed', 'reopened'], sql: 't.status', en: 'status', zh: '状态' }),
      f({ name: 'priority', type: 'string', values: ['urgent', 'important', 'general', 'minor'], sql: 't.priority', en: 'priority', zh: '优先级' }),
      f({ name: 'channel', type: 'string', sql: 't.channel', en: 'channel', zh: '渠道' }),
    ]),
    properties: false,
    en: 'tickets',
    zh: '工单',
  },
};

export const PROPERTY_PREFIX = 'property.';

/** Every name a customer-level field may take, for "did you mean". */
export function fieldNames(): string[] {
  return [...FIELDS.keys()];
}

/** Levenshtein distance, for suggestions. */
export function distance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > 3) return 99;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n]!;
}

/** The closest name within a small edit distance, or null. */
export function suggest(name: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  // at most one edit per three characters (one for short names), and never a whole rewrite
  let bestD = Math.min(Math.max(1, Math.floor(name.length / 3)), name.length - 1) + 1;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
