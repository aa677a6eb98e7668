// Per-customer explanations: the features that push a customer's churn
// probability up (or down) the most, as sentences in English and zh-CN from a
// template per feature: "purchase frequency fell 45% against the previous
// quarter" / "购买频次较上季度下降 45%".
import { FEATURE_BY_KEY, FEATURE_KEYS, STAGES } from './features.ts';

export type Lang = 'en' | 'zh-CN';

export interface Driver {
  feature: string;
  /** up: raises the churn risk; down: lowers it */
  direction: 'up' | 'down';
  /** the contribution (log-odds for logistic regression and boosting, probability for a tree) */
  size: number;
  value: number | null;
  /** other feature values the sentence uses */
  context?: Record<string, number | null>;
}

/** Features a sentence needs besides its own value. */
const CONTEXT: Record<string, string[]> = {
  recency_days: ['usual_gap_days'],
  gap_ratio: ['recency_days', 'usual_gap_days'],
  usual_gap_days: ['recency_days'],
  frequency_change: ['orders_90d', 'orders_prev_90d'],
  frequency_vs_usual: ['orders_90d'],
  activity_change: ['events_30d', 'events_prev_30d'],
  logins_30d: ['logins_prev_30d'],
};

const fin = (v: number) => Number.isFinite(v);

/**
 * Top drivers of one row: the largest contributions towards churn first, then,
 * if there is room, the largest against it. `contributions` and `row` are the
 * row's slices (model column order = FEATURE_KEYS).
 */
export function topDrivers(contributions: ArrayLike<number>, row: ArrayLike<number>, k = 3): Driver[] {
  const idx = Array.from({ length: FEATURE_KEYS.length }, (_, j) => j).filter((j) => fin(contributions[j]!) && contributions[j] !== 0);
  const up = idx.filter((j) => contributions[j]! > 0).sort((a, b) => contributions[b]! - contributions[a]!);
  const down = idx.filter((j) => contributions[j]! < 0).sort((a, b) => contributions[a]! - contributions[b]!);
  const pick = [...up.slice(0, k), ...down.slice(0, Math.max(0, k - up.length))];
  return pick.map((j) => {
    const key = FEATURE_KEYS[j]!;
    const v = row[j]!;
    const d: Driver = { feature: key, direction: contributions[j]! > 0 ? 'up' : 'down', size: Math.round(contributions[j]! * 1e4) / 1e4, value: Number.isNaN(v) ? null : round(v) };
    const ctx = CONTEXT[key];
    if (ctx) d.context = Object.fromEntries(ctx.map((c) => [c, (() => { const x = row[FEATURE_KEYS.indexOf(c)]!; return Number.isNaN(x) ? null : round(x); })()]));
    return d;
  });
}

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100;
}

const int = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(Math.round(v)));
const pct = (v: number) => `${Math.round(Math.abs(v) * 100)}%`;
const plural = (n: number, one: string, many: string) => `${n} ${Math.round(n) === 1 ? one : many}`;

/** One driver as a sentence. */
export function sentence(d: Driver, lang: Lang): string {
  const zh = lang === 'zh-CN';
  const v = d.value;
  const c = d.context ?? {};
  const def = FEATURE_BY_KEY.get(d.feature);
  if (v === null) return zh ? `${def?.zh ?? d.feature}：无记录` : `${def?.en ?? d.feature}: no record`;
  switch (d.feature) {
    case 'recency_days':
    case 'gap_ratio':
    case 'usual_gap_days': {
      const days = d.feature === 'recency_days' ? v : c.recency_days;
      const gap = d.feature === 'usual_gap_days' ? v : c.usual_gap_days;
      if (days === null || days === undefined) break;
      if (gap !== null && gap !== undefined) return zh ? `距上次购买 ${int(days)} 天，平时每 ${int(gap)} 天一次` : `${int(days)} days since the last purchase; usually every ${int(gap)}`;
      return zh ? `距上次购买 ${int(days)} 天` : `${int(days)} days since the last purchase`;
    }
    case 'frequency_change':
      return zh ? `购买频次较上季度${v < 0 ? '下降' : '上升'} ${pct(v)}` : `purchase frequency ${v < 0 ? 'fell' : 'rose'} ${pct(v)} against the previous quarter`;
    case 'spend_change':
      return zh ? `消费金额较上季度${v < 0 ? '下降' : '上升'} ${pct(v)}` : `spend ${v < 0 ? 'fell' : 'rose'} ${pct(v)} against the previous quarter`;
    case 'activity_change':
      return zh ? `活跃度较上月${v < 0 ? '下降' : '上升'} ${pct(v)}` : `activity ${v < 0 ? 'fell' : 'rose'} ${pct(v)} against the month before`;
    case 'frequency_vs_usual':
      return zh ? `近 90 天购买量为平时的 ${pct(v)}` : `bought ${pct(v)} of the usual amount in the last 90 days`;
    case 'unresolved_complaints':
      return zh ? `${int(v)} 个未解决的投诉` : plural(v, 'unresolved complaint', 'unresolved complaints');
    case 'complaints_90d':
      return zh ? `近 90 天 ${int(v)} 次投诉` : `${plural(v, 'complaint', 'complaints')} in the last 90 days`;
    case 'complaints_365d':
      return zh ? `近一年 ${int(v)} 次投诉` : `${plural(v, 'complaint', 'complaints')} in the last year`;
    case 'open_tickets':
      return zh ? `${int(v)} 个未关闭的工单` : plural(v, 'open ticket', 'open tickets');
    case 'overdue_tickets':
      return zh ? `${int(v)} 个工单超时未处理` : `${plural(v, 'ticket', 'tickets')} past the SLA`;
    case 'returns_365d':
      return zh ? `近一年 ${int(v)} 笔退货退款` : `${plural(v, 'return or refund', 'returns or refunds')} in the last year`;
    case 'refund_rate_365d':
      return zh ? `退货退款率 ${pct(v)}` : `${pct(v)} of orders returned or refunded`;
    case 'days_since_last_event':
      return zh ? `${int(v)} 天没有任何活跃` : `no activity for ${int(v)} days`;
    case 'days_since_last_login':
      return zh ? `${int(v)} 天没有登录` : `no login for ${int(v)} days`;
    case 'logins_30d':
      return c.logins_prev_30d
        ? zh ? `近 30 天登录 ${int(v)} 次（此前 30 天 ${int(c.logins_prev_30d)} 次）` : `${plural(v, 'login', 'logins')} in the last 30 days (${int(c.logins_prev_30d)} the 30 before)`
        : zh ? `近 30 天登录 ${int(v)} 次` : `${plural(v, 'login', 'logins')} in the last 30 days`;
    case 'csat_avg':
      return zh ? `平均满意度 ${v.toFixed(1)} / 5` : `average satisfaction ${v.toFixed(1)} of 5`;
    case 'last_nps':
      return zh ? `最近 NPS 评分 ${int(v)}${v <= 6 ? '（贬损者）' : ''}` : `latest NPS ${int(v)}${v <= 6 ? ' (a detractor)' : ''}`;
    case 'negative_texts_365d':
      return zh ? `${int(v)} 条负面问卷反馈` : plural(v, 'negative survey answer', 'negative survey answers');
    case 'churn_reason_365d':
      return zh ? '填写了流失原因问卷' : 'answered the churn-reason survey';
    case 'coupon_share_365d':
      return zh ? `${pct(v)} 的购买使用了优惠券` : `${pct(v)} of purchases used a coupon`;
    case 'unsubscribes_90d':
      return zh ? `近 90 天退订 ${int(v)} 次` : `unsubscribed ${plural(v, 'time', 'times')} in the last 90 days`;
    case 'tenure_days':
      return zh ? `成为客户 ${int(v)} 天` : `a customer for ${int(v)} days`;
    case 'lifecycle_stage': {
      const stage = STAGES[Math.round(v)] ?? String(v);
      const zhStage: Record<string, string> = { new: '新客', growing: '成长期', mature: '成熟期', at_risk: '有流失风险', dormant: '沉睡', churned: '已流失' };
      return zh ? `生命周期阶段：${zhStage[stage] ?? stage}` : `lifecycle stage: ${stage.replace('_', ' ')}`;
    }
  }
  return zh ? `${def?.zh ?? d.feature}：${formatValue(d.feature, v)}` : `${def?.en ?? d.feature}: ${formatValue(d.feature, v)}`;
}

function formatValue(key: string, v: number): string {
  const unit = FEATURE_BY_KEY.get(key)?.unit;
  if (unit === 'share' || unit === 'ratio') return pct(v);
  if (unit === 'currency') return Math.round(v).toLocaleString('en');
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export function sentences(drivers: Driver[] | null | undefined, lang: Lang): string[] {
  return (drivers ?? []).map((d) => sentence(d, lang));
}
