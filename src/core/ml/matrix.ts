// Dense matrices for the models: row-major Float64Array, NaN marks a missing value.
// Everything in src/core/ml works on these, never on objects per row.

export interface Matrix {
  rows: number;
  cols: number;
  /** row-major: the value at (i, j) is data[i * cols + j] */
  data: Float64Array;
  /** one name per column */
  names: string[];
}

export function matrix(rows: number, cols: number, names?: string[]): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols), names: names ?? Array.from({ length: cols }, (_, j) => `x${j}`) };
}

/** Builds a matrix from an array of rows (tests and small data). */
export function fromRows(rows: ArrayLike<number>[], names?: string[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const m = matrix(rows.length, cols, names);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let j = 0; j < cols; j++) m.data[i * cols + j] = r[j]!;
  }
  return m;
}

export function get(m: Matrix, i: number, j: number): number {
  return m.data[i * m.cols + j]!;
}

export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

export function column(m: Matrix, j: number): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0, k = j; i < m.rows; i++, k += m.cols) out[i] = m.data[k]!;
  return out;
}

/** The rows at the given indices, in that order. */
export function takeRows(m: Matrix, idx: ArrayLike<number>): Matrix {
  const out = matrix(idx.length, m.cols, m.names);
  for (let r = 0; r < idx.length; r++) {
    const s = idx[r]! * m.cols;
    out.data.set(m.data.subarray(s, s + m.cols), r * m.cols);
  }
  return out;
}

export function takeValues(v: ArrayLike<number>, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(idx.length);
  for (let r = 0; r < idx.length; r++) out[r] = v[idx[r]!]!;
  return out;
}

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same models. */
export function rng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from a uniform source (Box–Muller). */
export function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function shuffle<T extends { length: number; [i: number]: number }>(a: T, rand: () => number): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function logit(p: number): number {
  const q = Math.min(1 - 1e-15, Math.max(1e-15, p));
  return Math.log(q / (1 - q));
}

export function mean(v: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isNaN(x)) {
      s += x;
      n++;
    }
  }
  return n ? s / n : Number.NaN;
}

/** Median of the non-missing values (NaN when there are none). */
export function median(v: ArrayLike<number>): number {
  const a = Float64Array.from(v).filter((x) => !Number.isNaN(x)).sort();
  if (a.length === 0) return Number.NaN;
  const h = a.length >> 1;
  return a.length % 2 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
}

export function std(v: ArrayLike<number>): number {
  const m = mean(v);
  let s = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isNaN(x)) {
      s += (x - m) ** 2;
      n++;
    }
  }
  return n > 1 ? Math.sqrt(s / (n - 1)) : 0;
}
