// Synthetic data with known structure, for the tests and the benchmark.
import { type Matrix, matrix, normal, rng, sigmoid } from './matrix.ts';

/** y ~ Bernoulli(σ(intercept + Σ coef·x)), x_j ~ N(0, scale_j²). */
export function logisticData(n: number, coef: number[], intercept: number, seed = 1, scales?: number[]) {
  const rand = rng(seed);
  const x = matrix(n, coef.length);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let eta = intercept;
    for (let j = 0; j < coef.length; j++) {
      const v = normal(rand) * (scales?.[j] ?? 1);
      x.data[i * coef.length + j] = v;
      eta += coef[j]! * v;
    }
    y[i] = rand() < sigmoid(eta) ? 1 : 0;
  }
  return { x, y };
}

/** XOR-like: y = 1 when x0 and x1 share a sign (with `noise` labels flipped); other columns are noise. */
export function xorData(n: number, seed = 1, extra = 2, noise = 0.05): { x: Matrix; y: Float64Array } {
  const rand = rng(seed);
  const cols = 2 + extra;
  const x = matrix(n, cols);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cols; j++) x.data[i * cols + j] = rand() * 2 - 1;
    const a = x.data[i * cols]!;
    const b = x.data[i * cols + 1]!;
    let label = a * b > 0 ? 1 : 0;
    if (rand() < noise) label = 1 - label;
    y[i] = label;
  }
  return { x, y };
}

/** A mildly nonlinear churn-like problem with `cols` features, some of them noise, a few missing. */
export function nonlinearData(n: number, cols: number, seed = 1, missing = 0.02): { x: Matrix; y: Float64Array } {
  const rand = rng(seed);
  const x = matrix(n, cols);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) x.data[base + j] = normal(rand);
    const a = x.data[base]!;
    const b = x.data[base + 1]!;
    const c = x.data[base + 2]!;
    const d = cols > 3 ? x.data[base + 3]! : 0;
    const eta = -0.5 + 1.5 * (a > 0.5 ? 1 : -0.5) * (b > 0 ? 1 : -1) + Math.sin(2 * c) + 0.5 * d * d - 0.5;
    y[i] = rand() < sigmoid(eta) ? 1 : 0;
    for (let j = 0; j < cols; j++) if (rand() < missing) x.data[base + j] = Number.NaN;
  }
  return { x, y };
}
