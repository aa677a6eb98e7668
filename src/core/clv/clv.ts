// Customer lifetime value from the fitted models: expected purchases per month from
// BG/NBD or Pareto/NBD, times the Gamma-Gamma expected spend per purchase, times the
// margin, discounted monthly; and historical value (what a customer has spent so far).
import { type BgNbdParams, bgnbdConditionalExpected, bgnbdProbabilityAlive } from './bgnbd.ts';
import { type GammaGammaParams, gammaGammaConditionalExpectedSpend } from './gammagamma.ts';
import { type ParetoNbdParams, paretoConditionalExpected, paretoProbabilityAlive } from './paretonbd.ts';
import type { TimeUnit } from './summary.ts';
import type { RfmData } from './types.ts';

export type PurchaseModel = { model: 'bgnbd'; params: BgNbdParams } | { model: 'pareto-nbd'; params: ParetoNbdParams };

/** Time units per month: 365.25/12 days, or that over 7 weeks. */
export function unitsPerMonth(unit: TimeUnit): number {
  return unit === 'weeks' ? 365.25 / 12 / 7 : 365.25 / 12;
}

export function conditionalExpected(m: PurchaseModel, t: number, x: number, tx: number, T: number): number {
  return m.model === 'bgnbd' ? bgnbdConditionalExpected(m.params, t, x, tx, T) : paretoConditionalExpected(m.params, t, x, tx, T);
}

export function probabilityAlive(m: PurchaseModel, x: number, tx: number, T: number): number {
  return m.model === 'bgnbd' ? bgnbdProbabilityAlive(m.params, x, tx, T) : paretoProbabilityAlive(m.params, x, tx, T);
}

export interface ClvOptions {
  /** Months ahead (whole months). */
  horizonMonths: number;
  /** Discount rate per month, e.g. 0.01. */
  monthlyDiscountRate?: number;
  /** Share of spend kept as profit, e.g. 0.3; 1 by default (revenue). */
  margin?: number;
  timeUnit: TimeUnit;
}

/**
 * Σ_{k=1..H} (E[X(k months)] − E[X(k−1 months)]) / (1 + d)^k: one customer's discounted expected
 * purchases over the horizon (predictedClv before spend and margin).
 */
export function discountedPurchases(model: PurchaseModel, x: number, tx: number, T: number, opts: Omit<ClvOptions, 'margin'>): number {
  const upm = unitsPerMonth(opts.timeUnit);
  const d = opts.monthlyDiscountRate ?? 0;
  const H = Math.max(0, Math.floor(opts.horizonMonths));
  let prev = 0;
  let sum = 0;
  for (let k = 1; k <= H; k++) {
    const cum = conditionalExpected(model, k * upm, x, tx, T);
    sum += (cum - prev) / (1 + d) ** k;
    prev = cum;
  }
  return sum;
}

/**
 * Discounted CLV for each customer:
 * Σ_{k=1..H} margin · E[spend] · (E[X(k months)] − E[X(k−1 months)]) / (1 + d)^k,
 * with E[X] the model's conditional expectation and E[spend] from Gamma-Gamma.
 */
export function predictedClv(model: PurchaseModel, spend: GammaGammaParams, data: RfmData & { monetary: Float64Array }, opts: ClvOptions): Float64Array {
  const n = data.frequency.length;
  const out = new Float64Array(n);
  const margin = opts.margin ?? 1;
  for (let i = 0; i < n; i++) {
    const x = data.frequency[i]!;
    const value = margin * gammaGammaConditionalExpectedSpend(spend, x, data.monetary[i]!);
    out[i] = value * discountedPurchases(model, x, data.recency[i]!, data.T[i]!, opts);
  }
  return out;
}

/** Historical CLV: margin × what each customer has spent so far. */
export function historicalClv(totalSpend: Float64Array, margin = 1): Float64Array {
  const out = new Float64Array(totalSpend.length);
  for (let i = 0; i < out.length; i++) out[i] = margin * totalSpend[i]!;
  return out;
}
