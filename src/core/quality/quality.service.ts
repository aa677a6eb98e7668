// The data-quality report (SPEC §1, §9): what is wrong with the data before it
// distorts RFM, CLV or the models, each finding with what to do about it.
// Definitions and thresholds are documented in docs/data-quality.md.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { type FindingCode, type FindingParams, LABELS, type Locale, renderFinding } from './quality.messages.ts';
import * as repo from './quality.repository.ts';

export type Severity = 'info' | 'warn' | 'error';
export type { DuplicateGroup, DuplicateKey, OrderRef } from './quality.repository.ts';
export type { FindingCode, Locale } from './quality.messages.ts';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** How many rows the finding concerns (customers, orders, groups, …). */
  count: number;
  params: FindingParams;
  /** The finding as a sentence, in the report's locale. */
  message: string;
}

export interface DuplicateReport {
  groups: number;
  customers: number;
  sample: repo.DuplicateGroup[];
}

export interface DataQualityReport {
  workspaceId: number;
  generatedAt: string;
  locale: Locale;
  counts: {
    /** Customers not merged into another (stubs and erased included). */
    customers: number;
    /** Customers merged into another: not counted anywhere else. */
    merged: number;
    stubs: number;
    erased: number;
    products: number;
    orders: number;
    orderLines: number;
    events: number;
    tickets: number;
    surveyResponses: number;
    referrals: number;
    coupons: number;
  };
  stubs: { count: number; percent: number | null };
  duplicates: { phone: DuplicateReport; email: DuplicateReport };
  refunds: { orders: number; refunded: number; returned: number; percent: number | null; amount: number; amountPercent: number | null };
  outliers: {
    /** 'log-iqr': Q3 × (Q3/Q1)³; 'p99.9' when Q1 = Q3; 'skipped' with too few orders. */
    method: 'log-iqr' | 'p99.9' | 'skipped';
    q1: number | null;
    q3: number | null;
    threshold: number | null;
    count: number;
    top: repo.OrderRef[];
  };
  dates: {
    customersWithoutRegisteredAt: number;
    customersWithoutBirthday: number;
    futureBirthdays: number;
    futureRegisteredAt: number;
    futureOrders: number;
    ordersBefore2000: number;
    futureEvents: number;
    futureTickets: number;
    futureSurveyResponses: number;
  };
  orderLines: {
    orphanLines: number;
    orphanOrders: number;
    orphanSample: { orderId: string; lines: number }[];
    mismatchedOrders: number;
    tolerance: { absolute: number; relative: number };
    mismatchSample: { orderId: string; amount: number; discount: number; linesTotal: number }[];
  };
  completeness: {
    /** Customers measured: not merged, not erased. */
    profiles: number;
    fields: { field: repo.CompletenessField; filled: number; percent: number | null }[];
    /** Mean of the field percentages. */
    overall: number | null;
  };
  findings: Finding[];
}

/** Thresholds, documented in docs/data-quality.md. */
export const THRESHOLDS = {
  /** Stubs above this share of customers are a warning, below it information. */
  stubWarnPercent: 10,
  /** A refund/return share of orders above this is a warning. */
  refundWarnPercent: 20,
  /** Fewer positive orders than this: no outlier judgement. */
  outlierMinOrders: 10,
  /** Fence multiplier on the log-amount interquartile range. */
  outlierIqrFactor: 3,
  /** Missing registration dates above this share are a warning. */
  missingRegisteredWarnPercent: 50,
  /** Overall completeness below this gives a finding. */
  completenessInfoPercent: 60,
  sampleGroups: 5,
  sampleOrders: 5,
};

const pct = (part: number, whole: number): number | null => (whole > 0 ? round1((100 * part) / whole) : null);
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** The outlier fence: 3 IQRs above Q3 on the log scale, i.e. Q3 × (Q3/Q1)³. */
export function outlierThreshold(q1: number | null, q3: number | null, p999: number | null, positive: number) {
  if (positive < THRESHOLDS.outlierMinOrders || q1 === null || q3 === null || q1 <= 0) {
    return { method: 'skipped' as const, threshold: null };
  }
  if (q1 === q3) return { method: 'p99.9' as const, threshold: Math.max(q3, p999 ?? q3) };
  return { method: 'log-iqr' as const, threshold: round2(q3 * (q3 / q1) ** THRESHOLDS.outlierIqrFactor) };
}

export async function computeDataQuality(
  db: Kysely<Database>,
  workspaceId: number,
  now: Date,
  opts: { locale?: Locale } = {},
): Promise<DataQualityReport> {
  const locale = opts.locale ?? 'en';
  // One repeatable-read snapshot, so every count describes the same moment
  // even while imports run; more sort/hash memory for the line and percentile passes.
  const gather = async (tx: Kysely<Database>) => {
    if (tx.isTransaction) await sql`set local work_mem = '64MB'`.execute(tx);
    const c = await repo.customerStats(tx, workspaceId, now);
    const o = await repo.orderStats(tx, workspaceId, now);
    const a = await repo.activityStats(tx, workspaceId, now);
    const l = await repo.lineStats(tx, workspaceId, THRESHOLDS.sampleOrders);
    const dupPhone = await repo.duplicateSummary(tx, workspaceId, 'phone');
    const dupEmail = await repo.duplicateSummary(tx, workspaceId, 'email');
    const fence = outlierThreshold(o.q1, o.q3, o.p999, o.positive);
    const above = fence.threshold === null ? { count: 0, top: [] } : await repo.ordersAbove(tx, workspaceId, fence.threshold, THRESHOLDS.sampleOrders);
    const phoneSample = dupPhone.groups ? await repo.duplicateGroups(tx, workspaceId, 'phone', THRESHOLDS.sampleGroups) : [];
    const emailSample = dupEmail.groups ? await repo.duplicateGroups(tx, workspaceId, 'email', THRESHOLDS.sampleGroups) : [];
    return { c, o, a, l, dupPhone, dupEmail, fence, above, phoneSample, emailSample };
  };
  const { c, o, a, l, dupPhone, dupEmail, fence, above, phoneSample, emailSample } = db.isTransaction
    ? await gather(db)
    : await db.transaction().setIsolationLevel('repeatable read').execute(gather);
  const { orphanSample, mismatchSample } = l;

  const fields = repo.COMPLETENESS_FIELDS.map((field) => {
    const filled = c.filled[field];
    return { field, filled, percent: c.profiles ? (100 * filled) / c.profiles : null };
  });
  const overall = c.profiles ? round1(fields.reduce((s, f) => s + (f.percent ?? 0), 0) / fields.length) : null;

  const refundOrders = o.refunded + o.returned;
  const report: DataQualityReport = {
    workspaceId,
    generatedAt: now.toISOString(),
    locale,
    counts: {
      customers: c.customers,
      merged: c.merged,
      stubs: c.stubs,
      erased: c.erased,
      products: a.products,
      orders: o.orders,
      orderLines: a.orderLines,
      events: a.events,
      tickets: a.tickets,
      surveyResponses: a.surveyResponses,
      referrals: a.referrals,
      coupons: a.coupons,
    },
    stubs: { count: c.stubs, percent: pct(c.stubs, c.customers) },
    duplicates: {
      phone: { ...dupPhone, sample: phoneSample },
      email: { ...dupEmail, sample: emailSample },
    },
    refunds: {
      orders: refundOrders,
      refunded: o.refunded,
      returned: o.returned,
      percent: pct(refundOrders, o.orders),
      amount: round2(o.refundAmount),
      amountPercent: pct(o.refundAmount, o.amount),
    },
    outliers: { method: fence.method, q1: o.q1, q3: o.q3, threshold: fence.threshold, count: above.count, top: above.top },
    dates: {
      customersWithoutRegisteredAt: c.noRegisteredAt,
      customersWithoutBirthday: c.noBirthday,
      futureBirthdays: c.futureBirthday,
      futureRegisteredAt: c.futureRegisteredAt,
      futureOrders: o.future,
      ordersBefore2000: o.before2000,
      futureEvents: a.futureEvents,
      futureTickets: a.futureTickets,
      futureSurveyResponses: a.futureSurveyResponses,
    },
    orderLines: {
      orphanLines: l.orphanLines,
      orphanOrders: l.orphanOrderIds,
      orphanSample,
      mismatchedOrders: l.mismatchedOrders,
      tolerance: { absolute: repo.LINE_TOLERANCE_ABS, relative: repo.LINE_TOLERANCE_REL },
      mismatchSample,
    },
    completeness: {
      profiles: c.profiles,
      fields: fields.map((f) => ({ ...f, percent: f.percent === null ? null : round1(f.percent) })),
      overall,
    },
    findings: [],
  };
  report.findings = findingsOf(report).map((f) => ({ ...f, message: renderFinding(f.code, f.params, locale) }));
  return report;
}

type Draft = Omit<Finding, 'message'>;

/** The findings a report implies, most severe first. Pure: tests and docs rely on it. */
export function findingsOf(r: DataQualityReport): Draft[] {
  const out: Draft[] = [];
  const add = (code: FindingCode, severity: Severity, count: number, params: FindingParams = {}) =>
    out.push({ code, severity, count, params: { count, ...params } });
  const T = THRESHOLDS;
  const profiles = r.completeness.profiles;

  if (r.counts.customers === 0 && r.counts.orders === 0) add('no_data', 'info', 0);
  if (r.stubs.count > 0) {
    add('stub_customers', (r.stubs.percent ?? 0) >= T.stubWarnPercent ? 'warn' : 'info', r.stubs.count, { percent: r.stubs.percent ?? 0 });
  }
  for (const by of ['phone', 'email'] as const) {
    const d = r.duplicates[by];
    if (d.groups > 0) add(by === 'phone' ? 'duplicate_phone' : 'duplicate_email', 'warn', d.groups, { groups: d.groups, customers: d.customers });
  }
  if (r.refunds.orders > 0) {
    add('refunds', (r.refunds.percent ?? 0) > T.refundWarnPercent ? 'warn' : 'info', r.refunds.orders, {
      orders: r.refunds.orders,
      percent: r.refunds.percent ?? 0,
      amountPercent: r.refunds.amountPercent ?? 0,
      warnPercent: T.refundWarnPercent,
    });
  }
  if (r.outliers.count > 0) {
    add('outlier_orders', 'warn', r.outliers.count, { threshold: r.outliers.threshold ?? 0, max: r.outliers.top[0]?.amount ?? 0 });
  }
  const d = r.dates;
  if (d.futureOrders > 0) add('future_orders', 'error', d.futureOrders);
  if (d.ordersBefore2000 > 0) add('orders_before_2000', 'error', d.ordersBefore2000);
  if (r.orderLines.orphanLines > 0) {
    add('orphan_order_lines', 'error', r.orderLines.orphanLines, {
      lines: r.orderLines.orphanLines,
      orders: r.orderLines.orphanOrders,
      example: r.orderLines.orphanSample.map((s) => s.orderId).slice(0, 3).join(', '),
    });
  }
  if (r.orderLines.mismatchedOrders > 0) {
    add('order_amount_mismatch', 'warn', r.orderLines.mismatchedOrders, {
      tolerancePercent: r.orderLines.tolerance.relative * 100,
      toleranceAbs: r.orderLines.tolerance.absolute,
      example: r.orderLines.mismatchSample
        .slice(0, 2)
        .map((s) => `${s.orderId}: ${s.amount} vs ${s.linesTotal}`)
        .join('; '),
    });
  }
  if (d.futureEvents > 0) add('future_events', 'warn', d.futureEvents);
  if (d.futureTickets > 0) add('future_tickets', 'warn', d.futureTickets);
  if (d.futureSurveyResponses > 0) add('future_survey_responses', 'warn', d.futureSurveyResponses);
  if (d.futureBirthdays > 0) add('future_birthdays', 'warn', d.futureBirthdays);
  if (d.futureRegisteredAt > 0) add('future_registered_at', 'warn', d.futureRegisteredAt);
  if (d.customersWithoutRegisteredAt > 0) {
    const p = pct(d.customersWithoutRegisteredAt, profiles) ?? 0;
    add('missing_registered_at', p >= T.missingRegisteredWarnPercent ? 'warn' : 'info', d.customersWithoutRegisteredAt, { percent: p });
  }
  if (d.customersWithoutBirthday > 0) {
    add('missing_birthday', 'info', d.customersWithoutBirthday, { percent: pct(d.customersWithoutBirthday, profiles) ?? 0 });
  }
  const overall = r.completeness.overall;
  if (overall !== null && overall < T.completenessInfoPercent) {
    const emptiest = [...r.completeness.fields]
      .sort((x, y) => (x.percent ?? 0) - (y.percent ?? 0))
      .slice(0, 3)
      .map((f) => `${f.field} (${f.percent}%)`)
      .join(', ');
    add('low_completeness', 'info', profiles, { percent: overall, fields: emptiest });
  }
  const rank: Record<Severity, number> = { error: 0, warn: 1, info: 2 };
  return out.sort((x, y) => rank[x.severity] - rank[y.severity]);
}

/** Re-renders the findings' sentences in another locale. */
export function localiseReport(r: DataQualityReport, locale: Locale): DataQualityReport {
  return { ...r, locale, findings: r.findings.map((f) => ({ ...f, message: renderFinding(f.code, f.params, locale) })) };
}

/** The report for a terminal: sections, a completeness table, then the findings. */
export function formatDataQuality(report: DataQualityReport, locale: Locale = report.locale ?? 'en'): string {
  const L = LABELS[locale] ?? LABELS.en;
  const num = (v: number | null) => (v === null ? '–' : v.toLocaleString(locale === 'zh-CN' ? 'zh-CN' : 'en', { maximumFractionDigits: 2 }));
  const per = (v: number | null) => (v === null ? '–' : `${num(v)}%`);
  const lines: string[] = [];
  const h = (s: string) => lines.push('', s, '-'.repeat(Math.max(8, [...s].length * (locale === 'zh-CN' ? 2 : 1))));
  const kv = (k: string, v: string) => lines.push(`  ${k.padEnd(30)} ${v}`);

  lines.push(`${L.title} — workspace ${report.workspaceId}, ${report.generatedAt}`);
  h(L.counts!);
  for (const [k, v] of Object.entries(report.counts)) kv(k, num(v));

  h(L.duplicates!);
  for (const by of ['phone', 'email'] as const) {
    const d = report.duplicates[by];
    kv(by, `${num(d.groups)} ${L.groups}, ${num(d.customers)} ${L.customers}`);
    for (const g of d.sample) lines.push(`    ${g.key}: ${g.customers.map((m) => m.id).join(', ')}`);
  }

  h(L.refunds!);
  kv('orders', `${num(report.refunds.orders)} (${per(report.refunds.percent)})`);
  kv('amount', `${num(report.refunds.amount)} (${per(report.refunds.amountPercent)})`);

  h(L.outliers!);
  const o = report.outliers;
  if (o.method === 'skipped') kv(L.threshold!, L.skipped!);
  else {
    kv(L.threshold!, `${num(o.threshold)} (${o.method}; Q1 ${num(o.q1)}, Q3 ${num(o.q3)})`);
    kv('orders', num(o.count));
    for (const t of o.top) lines.push(`    ${t.id}  ${num(t.amount)}  ${t.customerId}  ${t.orderedAt.slice(0, 10)}`);
  }

  h(L.dates!);
  for (const [k, v] of Object.entries(report.dates)) kv(k, num(v));

  h(L.lines!);
  kv('orphanLines', `${num(report.orderLines.orphanLines)} (${num(report.orderLines.orphanOrders)} orders)`);
  kv('mismatchedOrders', num(report.orderLines.mismatchedOrders));

  h(L.completeness!);
  for (const f of report.completeness.fields) {
    const bar = f.percent === null ? '' : '█'.repeat(Math.round(f.percent / 5)).padEnd(20, '·');
    lines.push(`  ${f.field.padEnd(22)} ${per(f.percent).padStart(7)}  ${bar}`);
  }
  lines.push(`  ${L.overall!.padEnd(22)} ${per(report.completeness.overall).padStart(7)}`);

  h(L.findings!);
  if (report.findings.length === 0) lines.push(`  ${L.none}`);
  for (const f of report.findings) {
    lines.push(`  [${f.severity.toUpperCase()}] ${renderFinding(f.code, f.params, locale)}`);
  }
  return `${lines.join('\n')}\n`;
}
