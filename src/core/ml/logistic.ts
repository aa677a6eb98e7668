// L2-regularised logistic regression, fitted by Newton's method (IRLS) on
// standardised inputs; coefficients are also reported on the original scale.
import type { Matrix } from './matrix.ts';
import { sigmoid } from './matrix.ts';

export interface LogisticOptions {
  /** L2 penalty on the standardised coefficients (the intercept is not penalised). Default 1. */
  l2?: number;
  maxIter?: number;
  /** per-row weights (e.g. class weights) */
  weights?: ArrayLike<number>;
}

export interface LogisticModel {
  type: 'logistic';
  names: string[];
  /** on the standardised scale */
  coefStd: number[];
  interceptStd: number;
  /** on the original scale: logit = intercept + Σ coef·x */
  coef: number[];
  intercept: number;
  means: number[];
  stds: number[];
  l2: number;
  iterations: number;
}

/** Solves A x = b for a symmetric positive-definite A (d × d, row-major) by Cholesky. */
function choleskySolve(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) l[i * d + i] = Math.sqrt(Math.max(s, 1e-12));
      else l[i * d + j] = s / l[j * d + j]!;
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * d + k]! * y[k]!;
    y[i] = s / l[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < d; k++) s -= l[k * d + i]! * x[k]!;
    x[i] = s / l[i * d + i]!;
  }
  return x;
}

export function fitLogistic(x: Matrix, y: ArrayLike<number>, opts: LogisticOptions = {}): LogisticModel {
  const n = x.rows;
  const p = x.cols;
  const l2 = opts.l2 ?? 1;
  const w = opts.weights;
  const means = new Float64Array(p);
  const stds = new Float64Array(p);
  const counts = new Float64Array(p);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < p; j++) {
      const v = x.data[i * p + j]!;
      if (!Number.isNaN(v)) {
        means[j]! += v;
        counts[j]!++;
      }
    }
  for (let j = 0; j < p; j++) means[j] = counts[j] ? means[j]! / counts[j]! : 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < p; j++) {
      const v = x.data[i * p + j]!;
      if (!Number.isNaN(v)) stds[j]! += (v - means[j]!) ** 2;
    }
  for (let j = 0; j < p; j++) {
    const s = Math.sqrt(stds[j]! / Math.max(1, counts[j]! - 1));
    stds[j] = s > 1e-12 ? s : 1;
  }
  // z = standardised row with a leading 1 for the intercept; missing → 0 (the mean)
  const d = p + 1;
  const beta = new Float64Array(d);
  const z = new Float64Array(d);
  const loadRow = (i: number) => {
    z[0] = 1;
    for (let j = 0; j < p; j++) {
      const v = x.data[i * p + j]!;
      z[j + 1] = Number.isNaN(v) ? 0 : (v - means[j]!) / stds[j]!;
    }
  };
  const objective = (b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      loadRow(i);
      let eta = 0;
      for (let k = 0; k < d; k++) eta += b[k]! * z[k]!;
      const wi = w ? w[i]! : 1;
      // log(1 + e^eta) − y·eta, computed stably
      const sp = eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
      s += wi * (sp - (y[i]! > 0.5 ? eta : 0));
    }
    for (let k = 1; k < d; k++) s += 0.5 * l2 * b[k]! ** 2;
    return s;
  };
  const maxIter = opts.maxIter ?? 50;
  let iter = 0;
  let current = objective(beta);
  const hess = new Float64Array(d * d);
  const grad = new Float64Array(d);
  for (; iter < maxIter; iter++) {
    hess.fill(0);
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      loadRow(i);
      let eta = 0;
      for (let k = 0; k < d; k++) eta += beta[k]! * z[k]!;
      const mu = sigmoid(eta);
      const wi = w ? w[i]! : 1;
      const r = wi * (mu - (y[i]! > 0.5 ? 1 : 0));
      const h = wi * Math.max(mu * (1 - mu), 1e-10);
      for (let a = 0; a < d; a++) {
        const za = z[a]!;
        grad[a]! += r * za;
        const hz = h * za;
        const base = a * d;
        for (let b = 0; b <= a; b++) hess[base + b]! += hz * z[b]!;
      }
    }
    for (let a = 1; a < d; a++) {
      grad[a]! += l2 * beta[a]!;
      hess[a * d + a]! += l2;
    }
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) hess[b * d + a] = hess[a * d + b]!;
    const step = choleskySolve(hess, grad, d);
    // step halving keeps every iteration downhill
    let t = 1;
    let next = beta;
    let value = current;
    for (let half = 0; half < 30; half++) {
      const cand = new Float64Array(d);
      for (let k = 0; k < d; k++) cand[k] = beta[k]! - t * step[k]!;
      value = objective(cand);
      if (value <= current + 1e-12 * Math.abs(current)) {
        next = cand;
        break;
      }
      t /= 2;
    }
    const decrease = current - value;
    beta.set(next);
    current = value;
    let gmax = 0;
    for (let k = 0; k < d; k++) gmax = Math.max(gmax, Math.abs(grad[k]!));
    if (next === beta || decrease <= 1e-10 * Math.max(1, Math.abs(current)) || gmax < 1e-8) {
      iter++;
      break;
    }
  }
  const coefStd = Array.from(beta.subarray(1));
  const coef = coefStd.map((b, j) => b / stds[j]!);
  let intercept = beta[0]!;
  for (let j = 0; j < p; j++) intercept -= coef[j]! * means[j]!;
  return {
    type: 'logistic',
    names: [...x.names],
    coefStd,
    interceptStd: beta[0]!,
    coef,
    intercept,
    means: Array.from(means),
    stds: Array.from(stds),
    l2,
    iterations: iter,
  };
}

/** Log-odds for every row (a missing value counts as the training mean). */
export function logisticMargin(m: LogisticModel, x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  const p = x.cols;
  for (let i = 0; i < x.rows; i++) {
    let eta = m.interceptStd;
    for (let j = 0; j < p; j++) {
      const v = x.data[i * p + j]!;
      if (!Number.isNaN(v)) eta += m.coef[j]! * (v - m.means[j]!);
    }
    out[i] = eta;
  }
  return out;
}

export function predictLogistic(m: LogisticModel, x: Matrix): Float64Array {
  const out = logisticMargin(m, x);
  for (let i = 0; i < out.length; i++) out[i] = sigmoid(out[i]!);
  return out;
}

/**
 * Per-row contributions in log-odds: coef × (x − mean). They sum to the row's
 * log-odds minus the expected value (the log-odds at the mean row).
 */
export function explainLogistic(m: LogisticModel, x: Matrix): { expected: number; contributions: Float64Array } {
  const p = x.cols;
  const c = new Float64Array(x.rows * p);
  for (let i = 0; i < x.rows; i++)
    for (let j = 0; j < p; j++) {
      const v = x.data[i * p + j]!;
      c[i * p + j] = Number.isNaN(v) ? 0 : m.coef[j]! * (v - m.means[j]!);
    }
  return { expected: m.interceptStd, contributions: c };
}
