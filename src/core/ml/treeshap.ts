// Exact TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2): Shapley values of
// each feature for one row in polynomial time, E[f(x) | x_S] taken along the
// tree with the training cover of each branch ("path-dependent" expectation).
import type { GbdtModel } from './gbdt.ts';
import type { Matrix } from './matrix.ts';
import type { TreeNodes } from './tree.ts';

// The unique path of each recursion level lives in one flat buffer: a child's
// path is a copy of its parent's, stored right after it (as in the reference code).
export interface Path {
  feature: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  weight: Float64Array;
}

function newPath(size: number): Path {
  return { feature: new Int32Array(size), zero: new Float64Array(size), one: new Float64Array(size), weight: new Float64Array(size) };
}

function extend(m: Path, b: number, depth: number, zero: number, one: number, feature: number): void {
  m.feature[b + depth] = feature;
  m.zero[b + depth] = zero;
  m.one[b + depth] = one;
  m.weight[b + depth] = depth === 0 ? 1 : 0;
  const w = m.weight;
  for (let i = depth - 1; i >= 0; i--) {
    w[b + i + 1]! += (one * w[b + i]! * (i + 1)) / (depth + 1);
    w[b + i] = (zero * w[b + i]! * (depth - i)) / (depth + 1);
  }
}

function unwind(m: Path, b: number, depth: number, index: number): void {
  const one = m.one[b + index]!;
  const zero = m.zero[b + index]!;
  const w = m.weight;
  let next = w[b + depth]!;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = w[b + i]!;
      w[b + i] = (next * (depth + 1)) / ((i + 1) * one);
      next = tmp - (w[b + i]! * zero * (depth - i)) / (depth + 1);
    } else {
      w[b + i] = (w[b + i]! * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    m.feature[b + i] = m.feature[b + i + 1]!;
    m.zero[b + i] = m.zero[b + i + 1]!;
    m.one[b + i] = m.one[b + i + 1]!;
  }
}

function unwoundSum(m: Path, b: number, depth: number, index: number): number {
  const one = m.one[b + index]!;
  const zero = m.zero[b + index]!;
  const w = m.weight;
  let next = w[b + depth]!;
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (next * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      next = w[b + i]! - tmp * zero * ((depth - i) / (depth + 1));
    } else if (zero !== 0) {
      total += w[b + i]! / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

/** The tree's mean output over its training rows (cover-weighted leaves). */
export function expectedValue(t: TreeNodes): number {
  let s = 0;
  for (let n = 0; n < t.feature.length; n++) if (t.feature[n]! < 0) s += t.value[n]! * t.count[n]!;
  return s / t.count[0]!;
}

/** A tree as typed arrays for TreeSHAP, made once per tree. */
interface ShapTree {
  feature: Int32Array;
  threshold: Float64Array;
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  cover: Float64Array;
  depth: number;
}

const shapTrees = new WeakMap<TreeNodes, ShapTree>();

function shapTree(t: TreeNodes): ShapTree {
  let s = shapTrees.get(t);
  if (!s) {
    const walk = (n: number): number => (t.feature[n]! < 0 ? 0 : 1 + Math.max(walk(t.left[n]!), walk(t.right[n]!)));
    s = {
      feature: Int32Array.from(t.feature),
      threshold: Float64Array.from(t.threshold),
      missingLeft: Uint8Array.from(t.missingLeft, (v) => (v ? 1 : 0)),
      left: Int32Array.from(t.left),
      right: Int32Array.from(t.right),
      value: Float64Array.from(t.value),
      cover: Float64Array.from(t.count),
      depth: walk(0),
    };
    shapTrees.set(t, s);
  }
  return s;
}

/**
 * Adds the SHAP values of one tree for the row at x[offset …] into phi.
 * They sum to the tree's output for the row minus expectedValue(t).
 * `buffer`: a path buffer to reuse (newPathBuffer), so many rows and trees
 * allocate nothing.
 */
export function treeShap(t: TreeNodes, x: ArrayLike<number>, offset: number, phi: Float64Array, buffer?: Path): void {
  const s = shapTree(t);
  const size = pathSize(s.depth);
  const m = buffer && buffer.weight.length >= size ? buffer : newPath(size);
  recurse(s, x, offset, phi, m, 0, 0, 0, 1, 1, -1);
}

/** A path buffer big enough for trees up to `depth` deep. */
export function newPathBuffer(depth: number): Path {
  return newPath(pathSize(depth));
}

function recurse(s: ShapTree, x: ArrayLike<number>, offset: number, phi: Float64Array, m: Path, node: number, pb: number, depth: number, zero: number, one: number, feature: number): void {
  // this level's path starts after the parent's (depth entries long)
  const b = depth === 0 ? 0 : pb + depth;
  if (depth > 0) {
    const { feature: mf, zero: mz, one: mo, weight: mw } = m;
    for (let i = 0; i < depth; i++) {
      mf[b + i] = mf[pb + i]!;
      mz[b + i] = mz[pb + i]!;
      mo[b + i] = mo[pb + i]!;
      mw[b + i] = mw[pb + i]!;
    }
  }
  extend(m, b, depth, zero, one, feature);
  const f = s.feature[node]!;
  if (f < 0) {
    const v = s.value[node]!;
    for (let i = 1; i <= depth; i++) {
      const w = unwoundSum(m, b, depth, i);
      phi[m.feature[b + i]!]! += w * (m.one[b + i]! - m.zero[b + i]!) * v;
    }
    return;
  }
  const xv = x[offset + f]!;
  const l = s.left[node]!;
  const r = s.right[node]!;
  const hot = (Number.isNaN(xv) ? s.missingLeft[node] === 1 : xv <= s.threshold[node]!) ? l : r;
  const cold = hot === l ? r : l;
  const cover = s.cover[node]!;
  let inZero = 1;
  let inOne = 1;
  let d = depth;
  let k = 0;
  for (; k <= d; k++) if (m.feature[b + k] === f) break;
  if (k !== d + 1) {
    inZero = m.zero[b + k]!;
    inOne = m.one[b + k]!;
    unwind(m, b, d, k);
    d--;
  }
  recurse(s, x, offset, phi, m, hot, b, d + 1, (s.cover[hot]! / cover) * inZero, inOne, f);
  recurse(s, x, offset, phi, m, cold, b, d + 1, (s.cover[cold]! / cover) * inZero, 0, f);
}

function pathSize(depth: number): number {
  return ((depth + 2) * (depth + 3)) / 2 + 2;
}

export interface Explanation {
  /** the mean output over the training rows (log-odds for boosting, probability for a tree) */
  expected: number;
  /** rows × cols, row-major: each feature's contribution for each row */
  contributions: Float64Array;
}

/** SHAP values of a single tree (in its output space) for every row. */
export function explainTree(t: TreeNodes, x: Matrix): Explanation {
  const c = new Float64Array(x.rows * x.cols);
  const buffer = newPathBuffer(shapTree(t).depth);
  for (let i = 0; i < x.rows; i++) treeShap(t, x.data, i * x.cols, c.subarray(i * x.cols, (i + 1) * x.cols), buffer);
  return { expected: expectedValue(t), contributions: c };
}

/** SHAP values of a boosted ensemble in log-odds: the sum over its trees. */
export function explainGbdt(m: GbdtModel, x: Matrix): Explanation {
  const c = new Float64Array(x.rows * x.cols);
  let expected = m.baseScore;
  let depth = 0;
  for (const t of m.trees) {
    expected += expectedValue(t);
    depth = Math.max(depth, shapTree(t).depth);
  }
  const buffer = newPathBuffer(depth);
  for (let i = 0; i < x.rows; i++) {
    const phi = c.subarray(i * x.cols, (i + 1) * x.cols);
    for (const t of m.trees) treeShap(t, x.data, i * x.cols, phi, buffer);
  }
  return { expected, contributions: c };
}

/** Mean |contribution| per feature: a global importance from the explanations. */
export function meanAbs(e: Explanation, cols: number): Float64Array {
  const out = new Float64Array(cols);
  const rows = e.contributions.length / cols;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j]! += Math.abs(e.contributions[i * cols + j]!) / rows;
  return out;
}
