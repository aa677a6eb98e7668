// Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma
// model of monetary value"): a customer's transaction values are Gamma(p, ν), with
// ν ~ Gamma(q, γ) across customers; fitted on customers with repeat purchases, using
// their number of repeat purchases x and the mean value z̄ of those purchases.
// Assumes spend is independent of the purchase process (check with a correlation).
import { fitOnLogScale } from './fit.ts';
import { lgamma } from './special.ts';
import type { FitOptions, FitResult } from './types.ts';

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

export interface SpendData {
  /** Repeat purchases x (rows with x = 0 are ignored). */
  frequency: Float64Array;
  /** Mean value of those purchases z̄. */
  monetary: Float64Array;
}

export type GammaGammaFit = FitResult<GammaGammaParams>;

/**
 * Σ log f(z̄ | x) over customers with x > 0 and z̄ > 0, where
 * f(z̄|x) = Γ(px+q)/(Γ(px)Γ(q)) · γ^q z̄^(px−1) x^(px) / (γ + x z̄)^(px+q).
 */
export function gammaGammaLogLikelihood(params: GammaGammaParams, d: SpendData): number {
  const { p, q, gamma } = params;
  const lgq = lgamma(q);
  const qlg = q * Math.log(gamma);
  let sum = 0;
  for (let i = 0; i < d.frequency.length; i++) {
    const x = d.frequency[i]!;
    const m = d.monetary[i]!;
    if (!(x > 0) || !(m > 0)) continue;
    const px = p * x;
    sum += lgamma(px + q) - lgamma(px) - lgq + qlg + (px - 1) * Math.log(m) + px * Math.log(x) - (px + q) * Math.log(x * m + gamma);
  }
  return sum;
}

export function fitGammaGamma(d: SpendData, opts: FitOptions = {}): GammaGammaFit {
  const startedAt = performance.now();
  if (d.frequency.length !== d.monetary.length) throw new Error('frequency and monetary must have the same length');
  // Only customers with repeat purchases and positive spend inform the model.
  const xs: number[] = [];
  const ms: number[] = [];
  for (let i = 0; i < d.frequency.length; i++) {
    const x = d.frequency[i]!;
    const m = d.monetary[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(m)) throw new Error(`row ${i}: frequency and monetary must be numbers`);
    if (x > 0 && m > 0) {
      xs.push(x);
      ms.push(m);
    }
  }
  const data: SpendData = { frequency: Float64Array.from(xs), monetary: Float64Array.from(ms) };
  const customers = xs.length;
  if (customers === 0) {
    return { params: { p: 1, q: 2, gamma: 1 }, logLikelihood: 0, customers, converged: false, iterations: 0, evaluations: 0, fitMs: performance.now() - startedAt, warnings: ['no customer has repeat purchases with a positive spend: the Gamma-Gamma model cannot be fitted'] };
  }
  let mean = 0;
  for (const m of ms) mean += m / customers;
  return fitOnLogScale<GammaGammaParams>({
    names: ['p', 'q', 'gamma'],
    // Start: p = 1, q = 3 and γ so that the population mean γp/(q−1) equals the observed mean.
    start: opts.start ?? [1, 3, Math.max(1e-6, 2 * mean)],
    customers,
    logLikelihood: (pr) => gammaGammaLogLikelihood(pr, data),
    penalizer: opts.penalizer,
    startedAt,
    check: (params) =>
      params.q <= 1 ? [`q = ${params.q.toPrecision(3)} ≤ 1: the population mean spend is infinite; expected spends fall back to each customer's own mean`] : [],
  });
}

/**
 * E[Z | x, z̄]: a weighted mean of the population mean γp/(q−1) and the customer's own z̄,
 * with weight px/(px+q−1) on z̄. For x = 0 it is the population mean.
 */
export function gammaGammaConditionalExpectedSpend(params: GammaGammaParams, x: number, m: number): number {
  const { p, q, gamma } = params;
  if (q <= 1) return x > 0 ? m : Number.NaN;
  const populationMean = (gamma * p) / (q - 1);
  if (!(x > 0)) return populationMean;
  const w = (p * x) / (p * x + q - 1);
  return (1 - w) * populationMean + w * m;
}

export function gammaGammaConditionalExpectedSpendAll(params: GammaGammaParams, d: SpendData): Float64Array {
  const out = new Float64Array(d.frequency.length);
  for (let i = 0; i < out.length; i++) out[i] = gammaGammaConditionalExpectedSpend(params, d.frequency[i]!, d.monetary[i]!);
  return out;
}
