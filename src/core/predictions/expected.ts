// Expected purchases for the store-side CLV. For BG/NBD, E[X(t) | x, t_x, T] is
// evaluated through Euler's transformation of its 2F1,
//   2F1(r+x, b+x; a+b+x−1; z) (1−z)^(r+x) = (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z),
// which is the same quantity (src/core/clv/bgnbd.ts, FHL 2005 eq. 10) but keeps every
// 2F1 parameter but one independent of x: src/core/clv's logHyp2f1 loses all precision
// on the direct form for customers with many repeat purchases when z > 0.5 (a year
// ahead for a customer with 20 repeat days gave −10²¹: its 1 − z connection formula
// cancels catastrophically when |c − a − b| is large). After the transformation every
// term of the power series has the same sign, so the series is summed directly; it
// converges for z < 1 (ratio → z). Pareto/NBD goes through src/core/clv unchanged.
import { bgnbdProbabilityAlive } from '../clv/bgnbd.ts';
import { conditionalExpected, type PurchaseModel, unitsPerMonth } from '../clv/clv.ts';
import type { Backtest, BacktestGroup } from '../clv/backtest.ts';
import type { CustomerSummary, TimeUnit } from '../clv/summary.ts';

export function expectedPurchases(m: PurchaseModel, t: number, x: number, tx: number, T: number): number {
  if (m.model !== 'bgnbd') return conditionalExpected(m, t, x, tx, T);
  const { r, alpha, a, b } = m.params;
  if (t <= 0) return 0;
  if (Math.abs(a - 1) < 1e-7) {
    const lo = { model: 'bgnbd' as const, params: { ...m.params, a: 1 - 1e-6 } };
    const hi = { model: 'bgnbd' as const, params: { ...m.params, a: 1 + 1e-6 } };
    return 0.5 * (expectedPurchases(lo, t, x, tx, T) + expectedPurchases(hi, t, x, tx, T));
  }
  const z = t / (alpha + T + t);
  // 1 − (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z), with 2F1 − 1 summed on its own for precision near 0
  const f = seriesMinusOne(a + b - 1 - r, a - 1, a + b + x - 1, z);
  const pow = Math.exp((a - 1) * Math.log1p(-z));
  const second = -Math.expm1((a - 1) * Math.log1p(-z)) - pow * f;
  const num = ((a + b + x - 1) / (a - 1)) * second;
  // 1 / (1 + [x > 0] a/(b+x−1) ((α+T)/(α+t_x))^(r+x)) is P(alive)
  return num * bgnbdProbabilityAlive(m.params, x, tx, T);
}

/**
 * Σ_{k=1..H} (E[X(k months)] − E[X(k−1 months)]) / (1+d)^k: the discounted expected purchases
 * of src/core/clv's predictedClv, before spend and margin.
 */
export function discountedPurchases(m: PurchaseModel, x: number, tx: number, T: number, opts: { horizonMonths: number; monthlyDiscountRate: number; timeUnit: TimeUnit }): number {
  const upm = unitsPerMonth(opts.timeUnit);
  let prev = 0;
  let sum = 0;
  for (let k = 1; k <= opts.horizonMonths; k++) {
    const cum = expectedPurchases(m, k * upm, x, tx, T);
    sum += (cum - prev) / (1 + opts.monthlyDiscountRate) ** k;
    prev = cum;
  }
  return sum;
}

/**
 * 2F1(a, b; c; z) − 1 by its power series, for 0 ≤ z < 1 and c > 0 where no term changes
 * sign after the first (true here: a, c > 0 and b > −1). Stops when a term is below 1e-16 of the sum.
 */
export function seriesMinusOne(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 0;
  for (let n = 0; n < 200_000; n++) {
    term *= ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
    sum += term;
    if (Math.abs(term) <= 1e-16 * Math.abs(sum) || term === 0) break;
  }
  return sum;
}

/**
 * src/core/clv's backtestPredictions with expectedPurchases for the predictions: holdout
 * purchases predicted vs actual by calibration frequency (0..6, 7+), totals and MAE.
 */
export function backtest(summary: CustomerSummary, model: PurchaseModel): Backtest {
  const ho = summary.holdout;
  if (!ho) throw new Error('the summary has no holdout period');
  const G = 8;
  const customers = new Float64Array(G);
  const act = new Float64Array(G);
  const pred = new Float64Array(G);
  let absErr = 0;
  const n = summary.frequency.length;
  for (let i = 0; i < n; i++) {
    const x = summary.frequency[i]!;
    const p = expectedPurchases(model, ho.duration, x, summary.recency[i]!, summary.T[i]!);
    const a = ho.frequency[i]!;
    const g = Math.min(G - 1, Math.floor(x));
    customers[g]! += 1;
    act[g]! += a;
    pred[g]! += p;
    absErr += Math.abs(p - a);
  }
  const groups: BacktestGroup[] = [];
  let ta = 0;
  let tp = 0;
  for (let g = 0; g < G; g++) {
    const c = customers[g]!;
    ta += act[g]!;
    tp += pred[g]!;
    groups.push({
      frequency: g === G - 1 ? `${G - 1}+` : String(g),
      customers: c,
      actualMean: c ? act[g]! / c : 0,
      predictedMean: c ? pred[g]! / c : 0,
      actualTotal: act[g]!,
      predictedTotal: pred[g]!,
    });
  }
  return {
    model: model.model,
    duration: ho.duration,
    timeUnit: summary.timeUnit,
    groups,
    totals: { customers: n, actual: ta, predicted: tp, errorPercent: ta > 0 ? (100 * (tp - ta)) / ta : 0 },
    meanAbsoluteError: n ? absErr / n : 0,
  };
}
