// Metrics for binary classifiers: y holds 0/1, p the predicted probability of 1.

/** Row order by descending score (stable). */
function orderDesc(p: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(p.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => p[b]! - p[a]! || a - b);
}

function countPositives(y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! > 0.5 ? 1 : 0;
  return s;
}

/**
 * ROC-AUC as the Mann–Whitney U statistic with average ranks, so tied scores
 * count one half. NaN when only one class is present.
 */
export function rocAuc(y: ArrayLike<number>, p: ArrayLike<number>): number {
  const n = y.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => p[a]! - p[b]!);
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && p[idx[j + 1]!] === p[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (y[idx[k]!]! > 0.5) rankSumPos += avgRank;
    i = j + 1;
  }
  const nPos = countPositives(y);
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * PR-AUC as average precision: Σ (Rₖ − Rₖ₋₁)·Pₖ over the distinct thresholds,
 * tied scores taken together (the step-wise definition, no interpolation).
 */
export function averagePrecision(y: ArrayLike<number>, p: ArrayLike<number>): number {
  const nPos = countPositives(y);
  if (nPos === 0) return Number.NaN;
  const idx = orderDesc(p);
  let tp = 0;
  let seen = 0;
  let ap = 0;
  let prevRecall = 0;
  let i = 0;
  while (i < idx.length) {
    const s = p[idx[i]!]!;
    while (i < idx.length && p[idx[i]!] === s) {
      tp += y[idx[i]!]! > 0.5 ? 1 : 0;
      seen++;
      i++;
    }
    const recall = tp / nPos;
    ap += (recall - prevRecall) * (tp / seen);
    prevRecall = recall;
  }
  return ap;
}

/** Mean negative log-likelihood, probabilities clipped to [1e-15, 1 − 1e-15]. */
export function logLoss(y: ArrayLike<number>, p: ArrayLike<number>, weights?: ArrayLike<number>): number {
  let s = 0;
  let w = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, p[i]!));
    const wi = weights ? weights[i]! : 1;
    s -= wi * (y[i]! > 0.5 ? Math.log(q) : Math.log(1 - q));
    w += wi;
  }
  return s / w;
}

/** Mean squared difference between probability and outcome. */
export function brier(y: ArrayLike<number>, p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i]! - (y[i]! > 0.5 ? 1 : 0)) ** 2;
  return s / y.length;
}

export interface ThresholdMetrics {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Confusion counts and the usual ratios when p ≥ threshold predicts 1. */
export function atThreshold(y: ArrayLike<number>, p: ArrayLike<number>, threshold = 0.5): ThresholdMetrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < y.length; i++) {
    const pos = y[i]! > 0.5;
    if (p[i]! >= threshold) pos ? tp++ : fp++;
    else pos ? fn++ : tn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return {
    threshold,
    tp,
    fp,
    tn,
    fn,
    accuracy: (tp + tn) / y.length,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
  };
}

export interface DecileRow {
  /** 1 = the highest-scored tenth */
  decile: number;
  rows: number;
  positives: number;
  /** share of positives in this decile */
  rate: number;
  /** rate ÷ overall rate */
  lift: number;
  /** share of all positives captured by deciles 1..this one */
  cumulativeGain: number;
  cumulativeLift: number;
  meanPredicted: number;
}

/** Rows sorted by score, cut into `groups` near-equal groups (deciles by default). */
export function liftTable(y: ArrayLike<number>, p: ArrayLike<number>, groups = 10): DecileRow[] {
  const n = y.length;
  const idx = orderDesc(p);
  const nPos = countPositives(y);
  const base = nPos / n;
  const out: DecileRow[] = [];
  let cumPos = 0;
  let cumRows = 0;
  for (let g = 0; g < groups; g++) {
    const from = Math.floor((g * n) / groups);
    const to = Math.floor(((g + 1) * n) / groups);
    if (to <= from) continue;
    let pos = 0;
    let sp = 0;
    for (let k = from; k < to; k++) {
      pos += y[idx[k]!]! > 0.5 ? 1 : 0;
      sp += p[idx[k]!]!;
    }
    cumPos += pos;
    cumRows += to - from;
    const rate = pos / (to - from);
    out.push({
      decile: g + 1,
      rows: to - from,
      positives: pos,
      rate,
      lift: base ? rate / base : Number.NaN,
      cumulativeGain: nPos ? cumPos / nPos : Number.NaN,
      cumulativeLift: base ? cumPos / cumRows / base : Number.NaN,
      meanPredicted: sp / (to - from),
    });
  }
  return out;
}

export interface CalibrationRow {
  bin: number;
  rows: number;
  meanPredicted: number;
  observedRate: number;
}

/** Calibration by decile of predicted probability (lowest first): predicted vs observed. */
export function calibrationTable(y: ArrayLike<number>, p: ArrayLike<number>, groups = 10): CalibrationRow[] {
  return liftTable(y, p, groups)
    .reverse()
    .map((r, i) => ({ bin: i + 1, rows: r.rows, meanPredicted: r.meanPredicted, observedRate: r.rate }));
}

export interface BinaryMetrics {
  rocAuc: number;
  prAuc: number;
  logLoss: number;
  brier: number;
}

export function binaryMetrics(y: ArrayLike<number>, p: ArrayLike<number>): BinaryMetrics {
  return { rocAuc: rocAuc(y, p), prAuc: averagePrecision(y, p), logLoss: logLoss(y, p), brier: brier(y, p) };
}
