// BG/BB (Fader, Hardie & Shang 2010, "Customer-base analysis in a discrete-time
// noncontractual setting"): n discrete opportunities; while alive a customer transacts at
// each with probability p ~ Beta(α, β) and drops out after each with θ ~ Beta(γ, δ).
import { fitOnLogScale } from './fit.ts';
import { lbeta, lgamma } from './special.ts';
import type { FitOptions, FitResult } from './types.ts';

export interface BgBbParams {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

export interface BgBbData {
  /** Transactions x in n opportunities. */
  frequency: Float64Array;
  /** Opportunity of the last transaction t_x (0 when x = 0). */
  recency: Float64Array;
  /** Opportunities n. */
  periods: Float64Array;
  /** Customers per row. */
  weights?: Float64Array;
}

/** log L(α, β, γ, δ | x, t_x, n) for one customer. */
export function bgbbLogLikelihoodOne(pr: BgBbParams, x: number, tx: number, n: number): number {
  const { alpha, beta, gamma, delta } = pr;
  const lab = lbeta(alpha, beta);
  const lgd = lbeta(gamma, delta);
  let acc = lbeta(alpha + x, beta + n - x) - lab + lbeta(gamma, delta + n) - lgd;
  // Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ), accumulated in logs.
  for (let i = 0; i <= n - tx - 1; i++) {
    const v = lbeta(alpha + x, beta + tx - x + i) - lab + lbeta(gamma + 1, delta + tx + i) - lgd;
    acc = acc > v ? acc + Math.log1p(Math.exp(v - acc)) : v + Math.log1p(Math.exp(acc - v));
  }
  return acc;
}

export function bgbbLogLikelihood(pr: BgBbParams, d: BgBbData): number {
  let sum = 0;
  for (let i = 0; i < d.frequency.length; i++) {
    const w = d.weights ? d.weights[i]! : 1;
    sum += w * bgbbLogLikelihoodOne(pr, d.frequency[i]!, d.recency[i]!, d.periods[i]!);
  }
  return sum;
}

export type BgBbFit = FitResult<BgBbParams>;

export function fitBgBb(d: BgBbData, opts: Pick<FitOptions, 'start'> = {}): BgBbFit {
  const startedAt = performance.now();
  const n = d.frequency.length;
  if (n === 0) throw new Error('no customers to fit on');
  let customers = 0;
  for (let i = 0; i < n; i++) {
    const x = d.frequency[i]!;
    const tx = d.recency[i]!;
    const p = d.periods[i]!;
    if (!(x >= 0 && x <= tx && tx <= p) || x !== Math.floor(x) || tx !== Math.floor(tx) || p !== Math.floor(p)) {
      throw new Error(`row ${i}: need whole numbers 0 ≤ frequency ≤ recency ≤ periods (got ${x}, ${tx}, ${p})`);
    }
    customers += d.weights ? d.weights[i]! : 1;
  }
  return fitOnLogScale<BgBbParams>({
    names: ['alpha', 'beta', 'gamma', 'delta'],
    start: opts.start ?? [1, 1, 1, 1],
    customers,
    logLikelihood: (p) => bgbbLogLikelihood(p, d),
    startedAt,
  });
}

/** P(alive at n+1 | x, t_x, n). */
export function bgbbProbabilityAlive(pr: BgBbParams, x: number, tx: number, n: number): number {
  const { alpha, beta, gamma, delta } = pr;
  const num = lbeta(alpha + x, beta + n - x) - lbeta(alpha, beta) + lbeta(gamma, delta + n + 1) - lbeta(gamma, delta);
  return Math.exp(num - bgbbLogLikelihoodOne(pr, x, tx, n));
}

/** Expected transactions in the next m opportunities, E[X(n, n+m) | x, t_x, n]. */
export function bgbbConditionalExpected(pr: BgBbParams, m: number, x: number, tx: number, n: number): number {
  const { alpha, beta, gamma, delta } = pr;
  const l = bgbbLogLikelihoodOne(pr, x, tx, n);
  const p2 = lbeta(alpha + x + 1, beta + n - x) - lbeta(alpha, beta);
  const p3 = (delta / (gamma - 1)) * Math.exp(lgamma(gamma + delta) - lgamma(1 + delta));
  const p4 = Math.exp(lgamma(1 + delta + n) - lgamma(gamma + delta + n));
  const p5 = Math.exp(lgamma(1 + delta + n + m) - lgamma(gamma + delta + n + m));
  return Math.exp(p2 - l) * p3 * (p4 - p5);
}
