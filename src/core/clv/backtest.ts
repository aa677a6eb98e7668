// Holdout backtest: fit on the calibration period, predict each customer's purchases
// in the holdout, and compare with what they did, by calibration frequency (0..7+).
// Returns plain data a UI can chart.
import { fitBgNbd } from './bgnbd.ts';
import { type PurchaseModel, conditionalExpected } from './clv.ts';
import { fitParetoNbd } from './paretonbd.ts';
import type { CustomerSummary } from './summary.ts';
import type { FitResult } from './types.ts';

export interface BacktestGroup {
  /** '0' … '6', '7+': repeat purchases in calibration. */
  frequency: string;
  customers: number;
  actualMean: number;
  predictedMean: number;
  actualTotal: number;
  predictedTotal: number;
}

export interface Backtest {
  model: PurchaseModel['model'];
  /** Holdout length in the summary's time unit. */
  duration: number;
  timeUnit: string;
  groups: BacktestGroup[];
  totals: { customers: number; actual: number; predicted: number; errorPercent: number };
  /** Mean over customers of |predicted − actual| holdout purchases. */
  meanAbsoluteError: number;
}

export function backtestPredictions(summary: CustomerSummary, model: PurchaseModel): Backtest {
  const ho = summary.holdout;
  if (!ho) throw new Error('the summary has no holdout period: give an observation end after the calibration end');
  const G = 8;
  const customers = new Float64Array(G);
  const act = new Float64Array(G);
  const pred = new Float64Array(G);
  let absErr = 0;
  const n = summary.frequency.length;
  for (let i = 0; i < n; i++) {
    const x = summary.frequency[i]!;
    const p = conditionalExpected(model, ho.duration, x, summary.recency[i]!, summary.T[i]!);
    const a = ho.frequency[i]!;
    const g = Math.min(G - 1, Math.floor(x));
    customers[g] = customers[g]! + 1;
    act[g] = act[g]! + a;
    pred[g] = pred[g]! + p;
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

/** Fits the model on the calibration columns of the summary and backtests it on the holdout. */
export function fitAndBacktest(summary: CustomerSummary, model: PurchaseModel['model']): { fit: FitResult<unknown>; backtest: Backtest } {
  if (model === 'bgnbd') {
    const fit = fitBgNbd(summary);
    return { fit, backtest: backtestPredictions(summary, { model, params: fit.params }) };
  }
  const fit = fitParetoNbd(summary);
  return { fit, backtest: backtestPredictions(summary, { model, params: fit.params }) };
}
