// Shared shapes for the CLV models: the per-customer RFM summary they are fitted on
// and what a fit returns.

/** One row per customer (or per group of identical customers, with weights). Times in one unit (e.g. weeks). */
export interface RfmData {
  /** Repeat purchases in the calibration period (x). */
  frequency: Float64Array;
  /** Time of the last purchase since the first (t_x); 0 when frequency is 0. */
  recency: Float64Array;
  /** Time since the first purchase to the end of calibration (T). */
  T: Float64Array;
  /** How many customers each row stands for (1 when absent). */
  weights?: Float64Array;
}

export interface FitOptions {
  /** Starting point (natural scale); the models have sensible defaults. */
  start?: number[];
  /** L2 penalty on the parameters (as in lifetimes' penalizer_coef); 0 by default. */
  penalizer?: number;
}

export interface FitResult<P> {
  params: P;
  /** Log-likelihood at params (without the penalty), summed over customers. */
  logLikelihood: number;
  /** Customers fitted on (sum of weights). */
  customers: number;
  converged: boolean;
  iterations: number;
  evaluations: number;
  fitMs: number;
  warnings: string[];
}

export function weightsOf(d: RfmData): Float64Array {
  return d.weights ?? new Float64Array(d.frequency.length).fill(1);
}

/** Checks lengths and values; throws a plain Error with the first offending row (0-based). */
export function checkRfm(d: RfmData): void {
  const n = d.frequency.length;
  if (d.recency.length !== n || d.T.length !== n || (d.weights && d.weights.length !== n)) {
    throw new Error('frequency, recency, T (and weights) must have the same length');
  }
  if (n === 0) throw new Error('no customers to fit on');
  for (let i = 0; i < n; i++) {
    const x = d.frequency[i]!;
    const tx = d.recency[i]!;
    const T = d.T[i]!;
    if (!(x >= 0) || !(tx >= 0) || !(T >= 0) || !(tx <= T + 1e-9)) {
      throw new Error(`row ${i}: need frequency ≥ 0, 0 ≤ recency ≤ T (got frequency ${x}, recency ${tx}, T ${T})`);
    }
    if (x > 0 && !(T > 0)) throw new Error(`row ${i}: T must be positive for a customer with repeat purchases`);
  }
}

/**
 * Collapses identical (x, t_x, T) rows into one with a weight: the likelihood then costs
 * one evaluation per distinct row. Returns the data unchanged when few rows repeat.
 */
export function groupRfm(d: RfmData): RfmData {
  const n = d.frequency.length;
  const w = weightsOf(d);
  // Keyed by the numbers themselves (x, then t_x, then T): no number-to-text conversions,
  // which were most of a cold fit's set-up.
  const index = new Map<number, Map<number, Map<number, number>>>();
  const fx: number[] = [];
  const ft: number[] = [];
  const fT: number[] = [];
  const fw: number[] = [];
  for (let i = 0; i < n; i++) {
    let byRecency = index.get(d.frequency[i]!);
    if (!byRecency) {
      byRecency = new Map();
      index.set(d.frequency[i]!, byRecency);
    }
    let byT = byRecency.get(d.recency[i]!);
    if (!byT) {
      byT = new Map();
      byRecency.set(d.recency[i]!, byT);
    }
    const j = byT.get(d.T[i]!);
    if (j === undefined) {
      byT.set(d.T[i]!, fx.length);
      fx.push(d.frequency[i]!);
      ft.push(d.recency[i]!);
      fT.push(d.T[i]!);
      fw.push(w[i]!);
    } else fw[j] = fw[j]! + w[i]!;
  }
  if (fx.length > 0.8 * n) return { ...d, weights: w };
  return { frequency: Float64Array.from(fx), recency: Float64Array.from(ft), T: Float64Array.from(fT), weights: Float64Array.from(fw) };
}

/** Integer frequencies small enough for per-fit lookup tables of Σ log(θ + j). */
export function integerMax(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v !== Math.floor(v)) return -1;
    if (v > m) m = v;
  }
  return m <= 100000 ? m : -1;
}

/** table[k] = log Γ(θ + k) − log Γ(θ) = Σ_{j<k} log(θ + j), for k = 0..maxK. */
export function fillPochhammerLog(theta: number, table: Float64Array): void {
  let acc = 0;
  table[0] = 0;
  for (let k = 1; k < table.length; k++) {
    acc += Math.log(theta + k - 1);
    table[k] = acc;
  }
}
