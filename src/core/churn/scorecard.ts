// The early-warning scorecard: transparent points over 20+ indicators, each a
// condition on the point-in-time features with a configurable threshold.
// Score = min(100, Σ points of the indicators that fire); level high / medium /
// low by thresholds. Computed in SQL beside the features (features.ts), so it
// needs no training history. Config: workspaces.settings.scorecard_config.

export interface IndicatorDef {
  key: string;
  en: string;
  zh: string;
  /** default points and threshold */
  points: number;
  threshold: number;
  /** the condition in SQL over the feature columns (f.*), with {t} for the threshold */
  when: string;
  /** the feature shown as the indicator's value */
  value: string;
}

export const INDICATORS: IndicatorDef[] = [
  { key: 'recent_complaint', en: 'complained in the last 90 days', zh: '近 90 天有投诉', points: 12, threshold: 1, when: 'complaints_90d >= {t}', value: 'complaints_90d' },
  { key: 'repeated_complaints', en: 'complained repeatedly in the last 90 days', zh: '近 90 天多次投诉', points: 8, threshold: 2, when: 'complaints_90d >= {t}', value: 'complaints_90d' },
  { key: 'unresolved_complaint', en: 'has an unresolved complaint', zh: '有未解决的投诉', points: 10, threshold: 1, when: 'unresolved_complaints >= {t}', value: 'unresolved_complaints' },
  { key: 'ticket_past_sla', en: 'open ticket past its SLA', zh: '工单超时未处理', points: 10, threshold: 1, when: 'overdue_tickets >= {t}', value: 'overdue_tickets' },
  { key: 'returns', en: 'returned or refunded orders in the last year', zh: '近一年有退货退款', points: 6, threshold: 2, when: 'returns_365d >= {t}', value: 'returns_365d' },
  { key: 'refund_rate', en: 'high refund rate', zh: '退款率高', points: 8, threshold: 0.2, when: 'refund_rate_365d >= {t}', value: 'refund_rate_365d' },
  { key: 'gap_stretching', en: 'visit interval stretching (× usual gap)', zh: '购买间隔拉长（为平时的倍数）', points: 12, threshold: 1.5, when: 'gap_ratio >= {t}', value: 'gap_ratio' },
  { key: 'gap_far_beyond', en: 'far beyond the usual gap (× usual gap)', zh: '远超平时购买间隔', points: 10, threshold: 3, when: 'gap_ratio >= {t}', value: 'gap_ratio' },
  { key: 'no_purchase', en: 'no purchase for more than N days', zh: '超过 N 天未购买', points: 12, threshold: 60, when: 'recency_days > {t}', value: 'recency_days' },
  { key: 'long_silence', en: 'no purchase for a long time (days)', zh: '长期未购买（天）', points: 10, threshold: 120, when: 'recency_days > {t}', value: 'recency_days' },
  { key: 'frequency_drop', en: 'purchase frequency dropped vs the previous quarter', zh: '购买频次较上季度下降', points: 10, threshold: 0.3, when: 'frequency_change <= -{t}', value: 'frequency_change' },
  { key: 'below_usual_rate', en: 'buying below the usual rate', zh: '购买频率低于平时', points: 6, threshold: 0.5, when: 'frequency_vs_usual <= {t}', value: 'frequency_vs_usual' },
  { key: 'spend_drop', en: 'spend dropped vs the previous quarter', zh: '消费金额较上季度下降', points: 6, threshold: 0.5, when: 'spend_change <= -{t}', value: 'spend_change' },
  { key: 'activity_down', en: 'activity down vs the month before', zh: '活跃度较上月下降', points: 8, threshold: 0.5, when: 'activity_change <= -{t}', value: 'activity_change' },
  { key: 'inactive', en: 'no activity for more than N days', zh: '超过 N 天无活跃', points: 8, threshold: 30, when: 'days_since_last_event > {t}', value: 'days_since_last_event' },
  { key: 'logins_stopped', en: 'stopped logging in', zh: '不再登录', points: 8, threshold: 1, when: 'logins_30d = 0 and logins_prev_30d >= {t}', value: 'logins_prev_30d' },
  { key: 'negative_survey_text', en: 'negative words in a survey answer', zh: '问卷回答含负面词', points: 10, threshold: 1, when: 'negative_texts_365d >= {t}', value: 'negative_texts_365d' },
  { key: 'churn_reason_given', en: 'answered the churn-reason survey', zh: '填写了流失原因问卷', points: 20, threshold: 1, when: 'churn_reason_365d >= {t}', value: 'churn_reason_365d' },
  { key: 'low_csat', en: 'low satisfaction (CSAT ≤ threshold)', zh: '满意度低（CSAT ≤ 阈值）', points: 10, threshold: 2.5, when: 'csat_avg <= {t}', value: 'csat_avg' },
  { key: 'nps_detractor', en: 'NPS detractor (≤ threshold)', zh: 'NPS 贬损者（≤ 阈值）', points: 10, threshold: 6, when: 'last_nps <= {t}', value: 'last_nps' },
  { key: 'membership_lapsing', en: 'membership lapses within N days', zh: '会员将在 N 天内到期', points: 8, threshold: 30, when: 'membership_days_left between 0 and {t}', value: 'membership_days_left' },
  { key: 'coupon_only', en: 'buys almost only with coupons (share)', zh: '几乎只用券购买（占比）', points: 5, threshold: 0.8, when: 'coupon_share_365d >= {t} and orders_365d >= 2', value: 'coupon_share_365d' },
  { key: 'unsubscribed', en: 'unsubscribed from messages', zh: '退订了消息', points: 10, threshold: 1, when: 'unsubscribes_90d >= {t}', value: 'unsubscribes_90d' },
  { key: 'one_and_done', en: 'a single purchase, long ago (days)', zh: '仅购买一次且已很久（天）', points: 6, threshold: 60, when: 'orders_total = 1 and recency_days > {t}', value: 'recency_days' },
];

export const INDICATOR_BY_KEY = new Map(INDICATORS.map((d) => [d.key, d]));

export interface IndicatorConfig {
  key: string;
  points: number;
  threshold: number;
  enabled: boolean;
}

export interface ScorecardConfig {
  indicators: IndicatorConfig[];
  /** level high at ≥ high points, medium at ≥ medium */
  levels: { high: number; medium: number };
}

export const DEFAULT_SCORECARD: ScorecardConfig = {
  indicators: INDICATORS.map((d) => ({ key: d.key, points: d.points, threshold: d.threshold, enabled: true })),
  levels: { high: 60, medium: 30 },
};

export class InvalidScorecardError extends Error {
  /** what is at fault: 'levels', or the indicator's key */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

/** Stored config over the defaults: indicators by key (unknown keys refused), levels merged. */
export function resolveScorecard(stored: Partial<ScorecardConfig> | undefined): ScorecardConfig {
  const over = new Map((stored?.indicators ?? []).map((i) => [i.key, i]));
  for (const k of over.keys()) {
    if (!INDICATOR_BY_KEY.has(k)) throw new InvalidScorecardError(`scorecard indicator "${k}" does not exist; the indicators are: ${INDICATORS.map((d) => d.key).join(', ')}`, k);
  }
  const indicators = DEFAULT_SCORECARD.indicators.map((d) => ({ ...d, ...(over.get(d.key) ?? {}) }));
  for (const i of indicators) {
    if (!Number.isFinite(i.points) || i.points < 0 || i.points > 100) throw new InvalidScorecardError(`scorecard indicator ${i.key}: points must be from 0 to 100`, i.key);
    if (!Number.isFinite(i.threshold)) throw new InvalidScorecardError(`scorecard indicator ${i.key}: threshold must be a number`, i.key);
  }
  const levels = { ...DEFAULT_SCORECARD.levels, ...(stored?.levels ?? {}) };
  if (!(levels.high > levels.medium && levels.medium > 0 && levels.high <= 100)) throw new InvalidScorecardError('scorecard levels must satisfy 0 < medium < high ≤ 100', 'levels');
  return { indicators, levels };
}

/** SQL expressions (over f.*) for the points (0–100) and the keys of the indicators that fired. */
export function scorecardSql(c: ScorecardConfig): { points: string; hits: string } {
  const on = c.indicators.filter((i) => i.enabled && i.points > 0);
  if (on.length === 0) return { points: '0', hits: "'{}'::text[]" };
  const cond = (i: IndicatorConfig) => {
    const def = INDICATOR_BY_KEY.get(i.key)!;
    // numbers only (validated), the key from the catalogue: nothing from input reaches the SQL as text.
    // In parentheses, so a negative threshold after a minus ("-{t}") is not read as a "--" comment.
    return `coalesce((${def.when.replaceAll('{t}', `(${String(Number(i.threshold))})`)}), false)`;
  };
  const points = `least(100, ${on.map((i) => `(case when ${cond(i)} then ${Math.round(i.points)} else 0 end)`).join(' + ')})::int`;
  const hits = `array_remove(array[${on.map((i) => `case when ${cond(i)} then '${i.key}' end`).join(', ')}]::text[], null)`;
  return { points, hits };
}

export type Level = 'high' | 'medium' | 'low';

export function scorecardLevel(c: ScorecardConfig, points: number): Level {
  return points >= c.levels.high ? 'high' : points >= c.levels.medium ? 'medium' : 'low';
}

/** The breakdown a person reads: each fired indicator with its points and words. */
export function breakdown(c: ScorecardConfig, hits: string[], values: (feature: string) => number | null, lang: 'en' | 'zh-CN') {
  const byKey = new Map(c.indicators.map((i) => [i.key, i]));
  return hits.map((k) => {
    const def = INDICATOR_BY_KEY.get(k)!;
    const cfg = byKey.get(k)!;
    return { indicator: k, points: cfg.points, threshold: cfg.threshold, value: values(def.value), text: lang === 'zh-CN' ? def.zh : def.en };
  });
}
