// Calibration: Platt scaling (a logistic curve over the model's log-odds) and
// isotonic regression by the pool-adjacent-violators algorithm.
import { logit, sigmoid } from './matrix.ts';

export interface PlattCalibrator {
  type: 'platt';
  a: number;
  b: number;
}

export interface IsotonicCalibrator {
  type: 'isotonic';
  /** increasing breakpoints of the score and the fitted probability at each */
  x: number[];
  y: number[];
}

export type Calibrator = PlattCalibrator | IsotonicCalibrator;

/** Fits p = σ(a·logit(score) + b) by Newton's method, with Platt's smoothed targets. */
export function fitPlatt(scores: ArrayLike<number>, y: ArrayLike<number>): PlattCalibrator {
  const n = y.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i]! > 0.5 ? 1 : 0;
  const hi = (nPos + 1) / (nPos + 2);
  const lo = 1 / (n - nPos + 2);
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = logit(scores[i]!);
  let a = 1;
  let b = 0;
  const loss = (a: number, b: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const t = y[i]! > 0.5 ? hi : lo;
      const z = a * f[i]! + b;
      // −[t·log σ(z) + (1−t)·log(1−σ(z))] = softplus(z) − t·z
      s += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t * z;
    }
    return s;
  };
  for (let it = 0; it < 100; it++) {
    let g0 = 0;
    let g1 = 0;
    let h00 = 1e-12;
    let h01 = 0;
    let h11 = 1e-12;
    for (let i = 0; i < n; i++) {
      const t = y[i]! > 0.5 ? hi : lo;
      const p = sigmoid(a * f[i]! + b);
      const r = p - t;
      const w = p * (1 - p);
      g0 += r * f[i]!;
      g1 += r;
      h00 += w * f[i]! * f[i]!;
      h01 += w * f[i]!;
      h11 += w;
    }
    const det = h00 * h11 - h01 * h01;
    if (Math.abs(det) < 1e-18) break;
    const da = (h11 * g0 - h01 * g1) / det;
    const db = (h00 * g1 - h01 * g0) / det;
    // step halving: keep every step downhill
    const before = loss(a, b);
    let t = 1;
    while (t > 1e-8 && loss(a - t * da, b - t * db) > before + 1e-12) t /= 2;
    a -= t * da;
    b -= t * db;
    if (t * (Math.abs(da) + Math.abs(db)) < 1e-10) break;
  }
  return { type: 'platt', a, b };
}

/** Isotonic (non-decreasing) regression of y on the score by pool-adjacent-violators. */
export function fitIsotonic(scores: ArrayLike<number>, y: ArrayLike<number>): IsotonicCalibrator {
  const n = y.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  // blocks: value (mean), weight, and the score range they cover
  const val: number[] = [];
  const wt: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (const i of idx) {
    const s = scores[i]!;
    const v = y[i]! > 0.5 ? 1 : 0;
    if (val.length && lo[lo.length - 1] === s) {
      // equal scores share one block
      const k = val.length - 1;
      val[k] = (val[k]! * wt[k]! + v) / (wt[k]! + 1);
      wt[k]! += 1;
    } else {
      val.push(v);
      wt.push(1);
      lo.push(s);
      hi.push(s);
    }
    while (val.length > 1 && val[val.length - 2]! > val[val.length - 1]!) {
      const k = val.length - 1;
      const w = wt[k - 1]! + wt[k]!;
      val[k - 1] = (val[k - 1]! * wt[k - 1]! + val[k]! * wt[k]!) / w;
      wt[k - 1] = w;
      hi[k - 1] = hi[k]!;
      val.pop();
      wt.pop();
      lo.pop();
      hi.pop();
    }
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < val.length; k++) {
    xs.push(lo[k]!);
    ys.push(val[k]!);
    if (hi[k]! !== lo[k]!) {
      xs.push(hi[k]!);
      ys.push(val[k]!);
    }
  }
  return { type: 'isotonic', x: xs, y: ys };
}

export function calibrate(c: Calibrator, score: number): number {
  if (c.type === 'platt') return sigmoid(c.a * logit(score) + c.b);
  const { x, y } = c;
  if (x.length === 0) return score;
  if (score <= x[0]!) return y[0]!;
  if (score >= x[x.length - 1]!) return y[y.length - 1]!;
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= score) lo = mid;
    else hi = mid;
  }
  const x0 = x[lo]!;
  const x1 = x[hi]!;
  return x1 === x0 ? y[hi]! : y[lo]! + ((y[hi]! - y[lo]!) * (score - x0)) / (x1 - x0);
}

export function calibrateAll(c: Calibrator, scores: ArrayLike<number>): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < out.length; i++) out[i] = calibrate(c, scores[i]!);
  return out;
}
