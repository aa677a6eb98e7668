// Customer lifetime value on the store: the `clv` pipeline step. Builds the
// per-customer summary in SQL as of the run's `now`, fits BG/NBD (or Pareto/NBD)
// and Gamma-Gamma with src/core/clv, stores each customer's P(alive), expected
// purchases, expected spend and discounted 12-month CLV, and records the fit with
// a calibration/holdout backtest of the same model (docs/models-clv.md).
import { type Backtest, backtestPredictions } from '../clv/backtest.ts';
import { fitBgNbd } from '../clv/bgnbd.ts';
import { conditionalExpected, discountedPurchases, type PurchaseModel, probabilityAlive } from '../clv/clv.ts';
import { fitGammaGamma, gammaGammaConditionalExpectedSpend, type GammaGammaParams } from '../clv/gammagamma.ts';
import { fitParetoNbd } from '../clv/paretonbd.ts';
import { type CustomerSummary, dayToIso } from '../clv/summary.ts';
import type { FitResult } from '../clv/types.ts';
import { rocAuc } from '../ml/metrics.ts';
import type { Step } from '../pipeline/pipeline.ts';
import type { Store } from '../../db/store.ts';
import { csvText, DAY_MS, insertFit, loadSummary, replaceCustomerClv, type StoreSummary, utcDay } from './clv.repository.ts';
import { loadPredictionSettings, type PredictionSettings } from './settings.ts';

export type ClvModel = PredictionSettings['clv']['model'];

/** The models need a few repeat buyers to say anything. */
export const MIN_CUSTOMERS = 10;

function fitPurchase(model: ClvModel, s: CustomerSummary): { fit: FitResult<unknown>; fitted: PurchaseModel } {
  if (model === 'bgnbd') {
    const fit = fitBgNbd(s);
    return { fit, fitted: { model, params: fit.params } };
  }
  const fit = fitParetoNbd(s);
  return { fit, fitted: { model, params: fit.params } };
}

function hasRepeatBuyers(s: CustomerSummary): boolean {
  let repeat = 0;
  for (const x of s.frequency) if (x > 0) repeat++;
  return s.ids.length >= MIN_CUSTOMERS && repeat >= 2;
}

export interface TruthCheck {
  /** customers with a demo_truth row */
  customers: number;
  /** share truly alive at the time */
  aliveShare: number;
  /** ROC-AUC of P(alive) against truly alive; null when everyone is alive (or nobody) */
  rocAuc: number | null;
}

/** P(alive) against the demo truth: alive at `at` when the customer drops out after it (or never). */
function truthCheck(s: StoreSummary, pAlive: ArrayLike<number>, at: Date): TruthCheck | null {
  const y: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < s.ids.length; i++) {
    const dropped = s.droppedAt[i]!;
    if (Number.isNaN(dropped)) continue;
    y.push(dropped > at.getTime() ? 1 : 0);
    p.push(pAlive[i]!);
  }
  if (y.length === 0) return null;
  const pos = y.reduce((sum, v) => sum + v, 0);
  return { customers: y.length, aliveShare: pos / y.length, rocAuc: pos > 0 && pos < y.length ? rocAuc(y, p) : null };
}

export interface StoreBacktest extends Backtest {
  calibrationEnd: string;
  holdoutEnd: string;
  params: Record<string, number>;
  /** P(alive) at the calibration end against the demo generator's truth, when there is one */
  truth: TruthCheck | null;
}

/**
 * Fits the purchase model on orders up to the calibration end (a UTC day, inclusive)
 * and compares its predictions with the purchase days in (calibration end, holdout end].
 * Null when the calibration period has too few customers or no repeat buyers.
 */
export async function storeBacktest(
  store: Store,
  workspaceId: number,
  opts: { calibrationEnd: Date; holdoutEnd: Date; model: ClvModel; upTo?: Date },
): Promise<StoreBacktest | null> {
  const cal = utcDay(opts.calibrationEnd);
  const ho = utcDay(opts.holdoutEnd);
  if (ho <= cal) throw new Error('the holdout end must be after the calibration end');
  const upTo = opts.upTo ?? new Date((ho + 1) * DAY_MS - 1);
  const s = await loadSummary(store.db, workspaceId, { calibrationEndDay: cal, holdoutEndDay: ho, upTo });
  if (!hasRepeatBuyers(s)) return null;
  const { fitted } = fitPurchase(opts.model, s);
  const bt = backtestPredictions(s, fitted);
  const pAlive = new Float64Array(s.ids.length);
  for (let i = 0; i < pAlive.length; i++) pAlive[i] = probabilityAlive(fitted, s.frequency[i]!, s.recency[i]!, s.T[i]!);
  return {
    ...bt,
    calibrationEnd: dayToIso(cal),
    holdoutEnd: dayToIso(ho),
    params: { ...(fitted.params as unknown as Record<string, number>) },
    truth: truthCheck(s, pAlive, new Date((cal + 1) * DAY_MS)),
  };
}

export interface ClvRunResult {
  customers: number;
  model: ClvModel;
  fitId: number | null;
  params?: Record<string, number>;
  spendParams?: GammaGammaParams | null;
  totalClv12m?: number;
  backtest?: { errorPercent: number; meanAbsoluteError: number; truthRocAuc: number | null } | null;
  /** P(alive) now against the demo truth */
  truthRocAuc?: number | null;
  warnings?: string[];
}

/** Fits, predicts and stores every customer's CLV as of `now`; records the fit and a backtest. */
export async function computeClv(
  store: Store,
  workspaceId: number,
  now: Date,
  settings?: PredictionSettings,
  log: (msg: string) => void = () => {},
): Promise<ClvRunResult> {
  const st = (settings ?? (await loadPredictionSettings(store.db, workspaceId))).clv;
  const endDay = utcDay(now);
  const s = await loadSummary(store.db, workspaceId, { calibrationEndDay: endDay, upTo: now });
  const n = s.ids.length;
  if (!hasRepeatBuyers(s)) {
    await store.session((ss) => replaceCustomerClv(ss, workspaceId, []));
    log(`clv: ${n} customers with purchases and too few repeat buyers: nothing fitted`);
    return { customers: 0, model: st.model, fitId: null, warnings: ['too few customers with repeat purchases to fit the models'] };
  }
  const { fit, fitted } = fitPurchase(st.model, s);
  const gg = fitGammaGamma({ frequency: s.frequency, monetary: s.monetary });
  const ggUsable = gg.customers > 0 && gg.params.q > 1;
  const warnings = [...fit.warnings, ...gg.warnings];
  log(`clv: ${st.model} fitted on ${n} customers in ${fit.fitMs.toFixed(0)} ms; Gamma-Gamma on ${gg.customers} in ${gg.fitMs.toFixed(0)} ms`);

  // CLV = margin × expected spend × discounted expected purchases over 12 months (predictedClv's sum;
  // the spend has a fallback here, so the step calls its discountedPurchases).
  const horizon = { horizonMonths: 12, monthlyDiscountRate: st.monthlyDiscountRate, timeUnit: 'days' as const };
  // Without a usable Gamma-Gamma fit, each customer's own mean spend per purchase day stands in.
  let meanSpendAll = 0;
  let daysAll = 0;
  for (let i = 0; i < n; i++) {
    meanSpendAll += s.totalSpend[i]!;
    daysAll += s.frequency[i]! + 1;
  }
  meanSpendAll = daysAll > 0 ? meanSpendAll / daysAll : 0;
  const asOf = now.toISOString();
  const pAlive = new Float64Array(n);
  let totalClv = 0;
  const num = (v: number) => (Number.isFinite(v) ? String(v) : '0');
  // Rows are predicted as COPY asks for them, a chunk at a time: 1M lines built up front
  // (each a tree of concatenated strings until joined) took hundreds of MB.
  function* lines(): Generator<string> {
    let chunk: string[] = [];
    for (let i = 0; i < n; i++) {
      const x = s.frequency[i]!;
      const tx = s.recency[i]!;
      const T = s.T[i]!;
      const pa = probabilityAlive(fitted, x, tx, T);
      pAlive[i] = pa;
      const e90 = conditionalExpected(fitted, 90, x, tx, T);
      const e365 = conditionalExpected(fitted, 365, x, tx, T);
      let spend = ggUsable ? gammaGammaConditionalExpectedSpend(gg.params, x, s.monetary[i]!) : Number.NaN;
      if (!Number.isFinite(spend)) spend = x > 0 ? s.monetary[i]! : s.totalSpend[i]! > 0 ? s.totalSpend[i]! : meanSpendAll;
      const clv = st.margin * spend * discountedPurchases(fitted, x, tx, T, horizon);
      totalClv += Number.isFinite(clv) ? clv : 0;
      chunk.push(
        `${workspaceId},${csvText(s.ids[i]!)},${asOf},${st.model},${x},${tx},${T},${num(s.monetary[i]!)},${num(pa)},${num(e90)},${num(e365)},${num(spend)},${num(clv)},${num(st.margin * s.totalSpend[i]!)}`,
      );
      if (chunk.length === CHUNK_ROWS || i === n - 1) {
        yield `${chunk.join('\n')}\n`;
        chunk = [];
      }
    }
  }
  const written = await store.session((ss) => replaceCustomerClv(ss, workspaceId, lines()));
  const truthNow = truthCheck(s, pAlive, now);

  // The backtest: the same model on all but the last holdoutWeeks, against those weeks.
  const holdoutDays = st.holdoutWeeks * 7;
  let backtest: StoreBacktest | null = null;
  try {
    backtest = await storeBacktest(store, workspaceId, {
      calibrationEnd: new Date((endDay - holdoutDays) * DAY_MS),
      holdoutEnd: new Date(endDay * DAY_MS),
      model: st.model,
      upTo: now,
    });
  } catch (e) {
    warnings.push(`backtest failed: ${(e as Error).message}`);
  }
  if (!backtest) warnings.push(`no backtest: too few repeat buyers before the last ${st.holdoutWeeks} weeks`);
  const fitId = await insertFit(store.db, workspaceId, {
    fittedAt: new Date(),
    asOf: now,
    model: st.model,
    params: { ...(fitted.params as unknown as Record<string, number>) },
    spendParams: gg.customers > 0 ? { ...gg.params, customers: gg.customers, logLikelihood: gg.logLikelihood } : null,
    logLikelihood: fit.logLikelihood,
    customers: n,
    settings: { ...st, timeUnit: 'days' },
    warnings,
    backtest: backtest ? ({ ...backtest, truthNow } as unknown as Record<string, unknown>) : truthNow ? { truthNow } : null,
  });
  return {
    customers: written,
    model: st.model,
    fitId,
    params: { ...(fitted.params as unknown as Record<string, number>) },
    spendParams: gg.customers > 0 ? gg.params : null,
    totalClv12m: Math.round(totalClv * 100) / 100,
    backtest: backtest
      ? { errorPercent: round(backtest.totals.errorPercent, 2), meanAbsoluteError: round(backtest.meanAbsoluteError, 4), truthRocAuc: backtest.truth?.rocAuc ?? null }
      : null,
    truthRocAuc: truthNow?.rocAuc ?? null,
    warnings,
  };
}

function round(v: number, d: number): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}

/** Rows per piece of COPY text. */
const CHUNK_ROWS = 5000;

export const clvStep: Step = {
  name: 'clv',
  title: { en: 'Customer lifetime value (BG/NBD or Pareto/NBD with Gamma-Gamma)', zh: '客户终身价值（BG/NBD 或 Pareto/NBD 与 Gamma-Gamma）' },
  async run(ctx) {
    const r = await computeClv(ctx.store, ctx.workspaceId, ctx.now, undefined, ctx.log);
    return { ...r };
  },
};
