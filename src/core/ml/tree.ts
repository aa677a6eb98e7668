// Decision trees: feature binning (shared with gradient boosting), a histogram
// tree grower, and the CART classifier (gini) with its depth chosen by CV.
import { stratifiedKFold } from './cv.ts';
import type { Matrix } from './matrix.ts';
import { logLoss } from './metrics.ts';

/** The bin a missing value goes to; value bins are 0 … MISSING_BIN − 1. */
export const MISSING_BIN = 255;
const HIST_BINS = 256;

/** A tree as parallel arrays (plain JSON). Node 0 is the root; a leaf has feature −1. */
export interface TreeNodes {
  feature: number[];
  /** go left when x ≤ threshold */
  threshold: number[];
  /** the same split in bins (left when bin ≤ binThreshold); training only */
  binThreshold: number[];
  /** where a missing value goes */
  missingLeft: boolean[];
  left: number[];
  right: number[];
  /** leaf output (also kept on inner nodes, for rules and inspection) */
  value: number[];
  /** training rows that reached the node */
  count: number[];
  /** positives (CART) that reached the node */
  positives: number[];
  /** loss reduction of the node's split (0 for a leaf) */
  gain: number[];
}

export interface Binning {
  /** per feature, the increasing upper edges of its value bins: bin b holds x ≤ edges[b] (the last holds the rest) */
  edges: number[][];
}

/** Bin edges from (a sample of) each column: actual values, at most maxBins of them. */
export function fitBinning(x: Matrix, maxBins = 255, sampleSize = 200_000): Binning {
  const nb = Math.min(maxBins, MISSING_BIN);
  const n = x.rows;
  const step = n > sampleSize ? n / sampleSize : 1;
  const m = Math.min(n, sampleSize);
  const edges: number[][] = [];
  const d = x.cols;
  // the sampled rows are read a few columns at a time (one cache line per row
  // and chunk) rather than once per column, which would fetch a line per value
  const CHUNK = 8;
  const cols = Array.from({ length: Math.min(CHUNK, d) }, () => new Float64Array(m));
  const counts = new Int32Array(CHUNK);
  for (let j0 = 0; j0 < d; j0 += CHUNK) {
    const j1 = Math.min(d, j0 + CHUNK);
    counts.fill(0);
    for (let s = 0; s < m; s++) {
      const off = Math.floor(s * step) * d;
      for (let j = j0; j < j1; j++) {
        const v = x.data[off + j]!;
        if (!Number.isNaN(v)) cols[j - j0]![counts[j - j0]!++] = v;
      }
    }
    for (let j = j0; j < j1; j++) {
      const k = counts[j - j0]!;
      const vals = cols[j - j0]!.subarray(0, k).sort();
      // the distinct values, when there are few enough to be the bins themselves
      const uniq: number[] = [];
      for (let i = 0; i < k && uniq.length <= nb; i++) if (i === 0 || vals[i] !== vals[i - 1]) uniq.push(vals[i]!);
      if (uniq.length <= nb) {
        edges.push(uniq.slice(0, -1));
        continue;
      }
      // quantile edges, taken from the data so thresholds read as real values
      const e: number[] = [];
      for (let b = 1; b < nb; b++) {
        const v = vals[Math.min(k - 1, Math.floor((b * k) / nb))]!;
        if (e.length === 0 || v > e[e.length - 1]!) e.push(v);
      }
      edges.push(e);
    }
  }
  return { edges };
}

/** The bin of a value from a feature's edges padded with +∞ to 256: branch-free, always eight steps. */
function binOfPadded(e: Float64Array, v: number): number {
  if (Number.isNaN(v)) return MISSING_BIN;
  // the number of edges below v, found one bit at a time
  let lo = (e[127]! < v ? 1 : 0) << 7;
  lo += (e[lo + 63]! < v ? 1 : 0) << 6;
  lo += (e[lo + 31]! < v ? 1 : 0) << 5;
  lo += (e[lo + 15]! < v ? 1 : 0) << 4;
  lo += (e[lo + 7]! < v ? 1 : 0) << 3;
  lo += (e[lo + 3]! < v ? 1 : 0) << 2;
  lo += (e[lo + 1]! < v ? 1 : 0) << 1;
  lo += e[lo]! < v ? 1 : 0;
  return Math.min(lo, MISSING_BIN - 1);
}

/** The binned matrix, column-major bytes: the bin of (i, j) is at j * rows + i. */
export function applyBinning(b: Binning, x: Matrix, out: Uint8Array = new Uint8Array(x.rows * x.cols)): Uint8Array {
  const n = x.rows;
  const d = x.cols;
  const data = x.data;
  const padded = b.edges.map((e) => {
    const p = new Float64Array(256).fill(Number.POSITIVE_INFINITY);
    p.set(e.slice(0, 255));
    return p;
  });
  // blocks of rows small enough to stay in the L2 cache while each column is
  // read from them: reading a whole column at a stride of d values would
  // fetch the full matrix from memory once per column
  const BLOCK = 512;
  for (let from = 0; from < n; from += BLOCK) {
    const to = Math.min(n, from + BLOCK);
    for (let j = 0; j < d; j++) {
      const e = padded[j]!;
      const col = j * n;
      for (let i = from; i < to; i++) out[col + i] = binOfPadded(e, data[i * d + j]!);
    }
  }
  return out;
}

export interface GrowParams {
  kind: 'gini' | 'newton';
  maxDepth: number;
  maxLeaves: number;
  minSamplesLeaf: number;
  /** newton: L2 on leaf values; gini: unused */
  l2: number;
  /** newton: multiplies leaf values */
  learningRate: number;
  /** newton: smallest hessian sum in a child */
  minChildWeight: number;
  /** gini: prior rate the leaf probability shrinks toward, and its weight */
  prior: number;
  priorWeight: number;
  minGain: number;
}

/** A second thread that builds part of each histogram (see gbdt.ts); its buffers are shared. */
export interface ParallelHist {
  /** (g, h) of the node's rows in node order, interleaved */
  gh: Float64Array;
  minRows: number;
  /** builds every feature's histogram of rows[start, start + m) into hist (zeroed), sharing the features with the other thread */
  build(hist: Float64Array, start: number, m: number): void;
}

/**
 * Adds the (g, h) pairs gh[2k], gh[2k + 1] of rows[start + k], k < m, into the
 * histograms of features [from, to). Four features per pass over the rows, so
 * the row index and its gradients are loaded once for four columns; four
 * histograms (16 KiB) still fit in the L1 cache. Every cell adds its rows in
 * the same order as one feature at a time would, so the sums are identical.
 */
export function addHistograms(binned: Uint8Array, n: number, rows: Uint32Array, start: number, m: number, gh: Float64Array, hist: Float64Array, from: number, to: number): void {
  let f = from;
  for (; f + 4 <= to; f += 4) {
    const c0 = f * n;
    const c1 = c0 + n;
    const c2 = c1 + n;
    const c3 = c2 + n;
    const o0 = f << 9;
    const o1 = o0 + 512;
    const o2 = o1 + 512;
    const o3 = o2 + 512;
    for (let k = 0; k < m; k++) {
      const r = rows[start + k]!;
      const a = gh[2 * k]!;
      const b = gh[2 * k + 1]!;
      let i = o0 + (binned[c0 + r]! << 1);
      hist[i]! += a;
      hist[i + 1]! += b;
      i = o1 + (binned[c1 + r]! << 1);
      hist[i]! += a;
      hist[i + 1]! += b;
      i = o2 + (binned[c2 + r]! << 1);
      hist[i]! += a;
      hist[i + 1]! += b;
      i = o3 + (binned[c3 + r]! << 1);
      hist[i]! += a;
      hist[i + 1]! += b;
    }
  }
  for (; f < to; f++) {
    const col = f * n;
    const off = f << 9;
    for (let k = 0; k < m; k++) {
      const i = off + (binned[col + rows[start + k]!]! << 1);
      hist[i]! += gh[2 * k]!;
      hist[i + 1]! += gh[2 * k + 1]!;
    }
  }
}

interface Candidate {
  node: number;
  start: number;
  end: number;
  depth: number;
  hist: Float64Array;
  gain: number;
  feature: number;
  bin: number;
  missingLeft: boolean;
}

/**
 * Grows one tree over the given rows of a column-major binned matrix of n rows, best split first.
 * Per row: g and h are the gradient and hessian (newton), or weighted label and
 * weight (gini). Histograms hold (g, h, count) per feature and bin; a child's
 * histogram is built for the smaller child only, the other is parent − smaller.
 */
export function growTree(
  binned: Uint8Array,
  n: number,
  d: number,
  rows: Uint32Array,
  g: Float64Array,
  h: Float64Array,
  edges: number[][],
  p: GrowParams,
  onLeaf?: (node: number, start: number, end: number) => void,
  parallel?: ParallelHist,
): TreeNodes {
  const t: TreeNodes = {
    feature: [],
    threshold: [],
    binThreshold: [],
    missingLeft: [],
    left: [],
    right: [],
    value: [],
    count: [],
    positives: [],
    gain: [],
  };
  // (g, h) per feature and bin; counts are estimated from h as LightGBM does
  // (exact when every row weighs the same in gini, close enough for newton)
  const histSize = d * HIST_BINS * 2;
  const scratch = new Uint32Array(rows.length);
  const nbins = edges.map((e) => Math.min(e.length + 1, MISSING_BIN));

  const gh = parallel ? parallel.gh : new Float64Array(2 * rows.length);
  // gradients gathered in node order once, then a few features at a time so
  // their bins stay in the L1 cache
  const pool: Float64Array[] = [];
  const release = (h: Float64Array) => {
    if (pool.length < 64) pool.push(h);
  };
  const build = (start: number, end: number): Float64Array => {
    const reused = pool.pop();
    const hist = reused ? reused.fill(0) : new Float64Array(histSize);
    const m = end - start;
    for (let k = 0; k < m; k++) {
      const r = rows[start + k]!;
      gh[2 * k] = g[r]!;
      gh[2 * k + 1] = h[r]!;
    }
    if (parallel && m >= parallel.minRows) parallel.build(hist, start, m);
    else addHistograms(binned, n, rows, start, m, gh, hist, 0, d);
    return hist;
  };

  const score = (G: number, H: number): number => {
    if (p.kind === 'newton') return (G * G) / (H + p.l2);
    // gini: minus the weighted impurity H·2q(1−q), with q = G/H
    return H > 0 ? -2 * G * (1 - G / H) : 0;
  };
  const leafValue = (G: number, H: number): number =>
    p.kind === 'newton' ? (-G / (H + p.l2)) * p.learningRate : (G + p.prior * p.priorWeight) / (H + p.priorWeight);

  const addNode = (G: number, H: number, C: number): number => {
    const id = t.feature.length;
    t.feature.push(-1);
    t.threshold.push(0);
    t.binThreshold.push(0);
    t.missingLeft.push(false);
    t.left.push(-1);
    t.right.push(-1);
    t.value.push(leafValue(G, H));
    t.count.push(C);
    t.positives.push(p.kind === 'gini' ? G : 0);
    t.gain.push(0);
    return id;
  };

  const newton = p.kind === 'newton';
  const lambda = p.l2;
  const findSplit = (c: Candidate): void => {
    c.gain = p.minGain;
    c.feature = -1;
    const hist = c.hist;
    // totals from feature 0 (every row is in exactly one of its bins)
    let G = 0;
    let H = 0;
    for (let b = 0; b < HIST_BINS; b++) {
      G += hist[b * 2]!;
      H += hist[b * 2 + 1]!;
    }
    const C = c.end - c.start;
    const perH = H > 0 ? C / H : 0;
    if (c.depth >= p.maxDepth || C < 2 * p.minSamplesLeaf) return;
    const parent = score(G, H);
    const minLeaf = p.minSamplesLeaf;
    const minH = newton ? p.minChildWeight : 0;
    let bestGain = c.gain;
    for (let f = 0; f < d; f++) {
      const off = f << 8;
      const mi = (off | MISSING_BIN) * 2;
      const Gm = hist[mi]!;
      const Hm = hist[mi + 1]!;
      const Cm = Hm > 0 ? Math.max(1, Math.round(Hm * perH)) : 0;
      let GL = 0;
      let HL = 0;
      const nb = nbins[f]!;
      for (let b = 0; b < nb - 1; b++) {
        const i = (off | b) * 2;
        const hb = hist[i + 1]!;
        if (hb === 0) continue;
        GL += hist[i]!;
        HL += hb;
        const CL = Math.round(HL * perH);
        if (CL < minLeaf && CL + Cm < minLeaf) continue;
        const CR = C - CL - Cm;
        if (CR < minLeaf && CR + Cm < minLeaf) break;
        const GR = G - GL - Gm;
        const HR = H - HL - Hm;
        // missing to the right
        if (CL >= minLeaf && CR + Cm >= minLeaf && HL >= minH && HR + Hm >= minH) {
          const gr = GR + Gm;
          const hr = HR + Hm;
          const gain = newton ? (GL * GL) / (HL + lambda) + (gr * gr) / (hr + lambda) - parent : score(GL, HL) + score(gr, hr) - parent;
          if (gain > bestGain) {
            bestGain = gain;
            c.feature = f;
            c.bin = b;
            // with no missing values seen, they follow the larger side
            c.missingLeft = Cm === 0 ? CL >= CR : false;
          }
        }
        if (Cm > 0 && CL + Cm >= minLeaf && CR >= minLeaf && HL + Hm >= minH && HR >= minH) {
          const gl = GL + Gm;
          const hl = HL + Hm;
          const gain = newton ? (gl * gl) / (hl + lambda) + (GR * GR) / (HR + lambda) - parent : score(gl, hl) + score(GR, HR) - parent;
          if (gain > bestGain) {
            bestGain = gain;
            c.feature = f;
            c.bin = b;
            c.missingLeft = true;
          }
        }
      }
    }
    c.gain = bestGain;
  };

  const ranges: { node: number; start: number; end: number }[] = [];
  const rootHist = build(0, rows.length);
  const totals = (hist: Float64Array, count: number) => {
    let G = 0;
    let H = 0;
    for (let b = 0; b < HIST_BINS; b++) {
      G += hist[b * 2]!;
      H += hist[b * 2 + 1]!;
    }
    return [G, H, count] as const;
  };
  const [G0, H0, C0] = totals(rootHist, rows.length);
  const root: Candidate = { node: addNode(G0, H0, C0), start: 0, end: rows.length, depth: 0, hist: rootHist, gain: 0, feature: -1, bin: 0, missingLeft: false };
  findSplit(root);
  ranges.push({ node: root.node, start: 0, end: rows.length });
  const open: Candidate[] = root.feature >= 0 ? [root] : [];
  let leaves = 1;
  while (open.length && leaves < p.maxLeaves) {
    let bi = 0;
    for (let i = 1; i < open.length; i++) if (open[i]!.gain > open[bi]!.gain) bi = i;
    const c = open[bi]!;
    open.splice(bi, 1);
    const f = c.feature;
    // stable partition of rows[start, end): left first
    let l = c.start;
    let s = 0;
    for (let k = c.start; k < c.end; k++) {
      const r = rows[k]!;
      const bin = binned[f * n + r]!;
      const goLeft = bin === MISSING_BIN ? c.missingLeft : bin <= c.bin;
      if (goLeft) rows[l++] = r;
      else scratch[s++] = r;
    }
    rows.set(scratch.subarray(0, s), l);
    const nLeft = l - c.start;
    const small = nLeft <= c.end - l ? { start: c.start, end: l } : { start: l, end: c.end };
    const smallHist = build(small.start, small.end);
    const bigHist = c.hist;
    for (let i = 0; i < histSize; i++) bigHist[i]! -= smallHist[i]!;
    const leftHist = small.start === c.start ? smallHist : bigHist;
    const rightHist = small.start === c.start ? bigHist : smallHist;
    const [GL, HL, CL] = totals(leftHist, l - c.start);
    const [GR, HR, CR] = totals(rightHist, c.end - l);
    const li = addNode(GL, HL, CL);
    const ri = addNode(GR, HR, CR);
    t.feature[c.node] = f;
    t.binThreshold[c.node] = c.bin;
    const e = edges[f]!;
    t.threshold[c.node] = c.bin < e.length ? e[c.bin]! : Number.POSITIVE_INFINITY;
    t.missingLeft[c.node] = c.missingLeft;
    t.left[c.node] = li;
    t.right[c.node] = ri;
    t.gain[c.node] = p.kind === 'newton' ? c.gain / 2 : c.gain;
    leaves++;
    const lc: Candidate = { node: li, start: c.start, end: l, depth: c.depth + 1, hist: leftHist, gain: 0, feature: -1, bin: 0, missingLeft: false };
    const rc: Candidate = { node: ri, start: l, end: c.end, depth: c.depth + 1, hist: rightHist, gain: 0, feature: -1, bin: 0, missingLeft: false };
    ranges.push({ node: li, start: c.start, end: l }, { node: ri, start: l, end: c.end });
    findSplit(lc);
    findSplit(rc);
    if (lc.feature >= 0) open.push(lc);
    else release(lc.hist);
    if (rc.feature >= 0) open.push(rc);
    else release(rc.hist);
  }
  // every leaf with the rows (positions in `rows`) that reached it
  if (onLeaf) for (const r of ranges) if (t.feature[r.node]! < 0) onLeaf(r.node, r.start, r.end);
  return t;
}

/** The leaf a raw row reaches. */
export function leafOf(t: TreeNodes, x: Float64Array | number[], offset = 0): number {
  let n = 0;
  while (t.feature[n]! >= 0) {
    const v = x[offset + t.feature[n]!]!;
    n = (Number.isNaN(v) ? t.missingLeft[n] : v <= t.threshold[n]!) ? t.left[n]! : t.right[n]!;
  }
  return n;
}

/** The leaf row i of a column-major binned matrix of `rows` rows reaches (training). */
export function leafOfBinned(t: TreeNodes, binned: Uint8Array, rows: number, i: number): number {
  let n = 0;
  while (t.feature[n]! >= 0) {
    const b = binned[t.feature[n]! * rows + i]!;
    n = (b === MISSING_BIN ? t.missingLeft[n] : b <= t.binThreshold[n]!) ? t.left[n]! : t.right[n]!;
  }
  return n;
}

export function predictNodes(t: TreeNodes, x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) out[i] = t.value[leafOf(t, x.data, i * x.cols)]!;
  return out;
}

export function treeDepth(t: TreeNodes, n = 0): number {
  return t.feature[n]! < 0 ? 0 : 1 + Math.max(treeDepth(t, t.left[n]!), treeDepth(t, t.right[n]!));
}

// ---------------------------------------------------------------------------
// CART classifier

export interface TreeOptions {
  /** fixed depth; when absent the depth is chosen by inner CV among depthCandidates */
  maxDepth?: number;
  depthCandidates?: number[];
  minSamplesLeaf?: number;
  maxLeaves?: number;
  maxBins?: number;
  /** per-row weights */
  weights?: ArrayLike<number>;
  seed?: number;
}

export interface TreeModel {
  type: 'tree';
  names: string[];
  nodes: TreeNodes;
  maxDepth: number;
  /** the inner-CV log loss per candidate depth, when the depth was chosen */
  depthSearch?: { depth: number; logLoss: number }[];
}

function fitTreeFixed(x: Matrix, y: ArrayLike<number>, depth: number, opts: TreeOptions): TreeModel {
  const binning = fitBinning(x, opts.maxBins ?? 255);
  const binned = applyBinning(binning, x);
  const n = x.rows;
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  let sg = 0;
  let sh = 0;
  for (let i = 0; i < n; i++) {
    const w = opts.weights ? opts.weights[i]! : 1;
    g[i] = y[i]! > 0.5 ? w : 0;
    h[i] = w;
    sg += g[i]!;
    sh += w;
  }
  const rows = new Uint32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  const minLeaf = opts.minSamplesLeaf ?? Math.max(5, Math.round(n * 0.005));
  const nodes = growTree(binned, n, x.cols, rows, g, h, binning.edges, {
    kind: 'gini',
    maxDepth: depth,
    maxLeaves: opts.maxLeaves ?? 1 << 20,
    minSamplesLeaf: minLeaf,
    l2: 0,
    learningRate: 1,
    minChildWeight: 0,
    prior: sh ? sg / sh : 0.5,
    priorWeight: 2,
    minGain: 1e-9,
  });
  return { type: 'tree', names: [...x.names], nodes, maxDepth: depth };
}

/** A CART tree; its depth is chosen by 3-fold CV log loss unless given. */
export function fitTree(x: Matrix, y: ArrayLike<number>, opts: TreeOptions = {}): TreeModel {
  if (opts.maxDepth !== undefined) return fitTreeFixed(x, y, opts.maxDepth, opts);
  const depths = opts.depthCandidates ?? [2, 3, 4, 5, 6, 8];
  const folds = stratifiedKFold(y, 3, opts.seed ?? 1);
  const search: { depth: number; logLoss: number }[] = [];
  for (const depth of depths) {
    let total = 0;
    for (const f of folds) {
      const m = fitTreeFixed(takeRowsLocal(x, f.train), pick(y, f.train), depth, { ...opts, weights: opts.weights ? pick(opts.weights, f.train) : undefined });
      total += logLoss(pick(y, f.test), predictNodes(m.nodes, takeRowsLocal(x, f.test))) * f.test.length;
    }
    search.push({ depth, logLoss: total / x.rows });
  }
  // the shallowest depth within 0.5% of the best: simpler rules for the same accuracy
  const best = Math.min(...search.map((s) => s.logLoss));
  const chosen = search.find((s) => s.logLoss <= best * 1.005)!.depth;
  return { ...fitTreeFixed(x, y, chosen, opts), depthSearch: search };
}

function pick(v: ArrayLike<number>, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = v[idx[i]!]!;
  return out;
}

function takeRowsLocal(m: Matrix, idx: ArrayLike<number>): Matrix {
  const out = { rows: idx.length, cols: m.cols, data: new Float64Array(idx.length * m.cols), names: m.names };
  for (let r = 0; r < idx.length; r++) out.data.set(m.data.subarray(idx[r]! * m.cols, (idx[r]! + 1) * m.cols), r * m.cols);
  return out;
}

export function predictTree(m: TreeModel, x: Matrix): Float64Array {
  return predictNodes(m.nodes, x);
}

/** Split gain per feature, normalised to sum to 1. */
export function gainImportance(trees: TreeNodes[], d: number): Float64Array {
  const imp = new Float64Array(d);
  for (const t of trees) for (let n = 0; n < t.feature.length; n++) if (t.feature[n]! >= 0) imp[t.feature[n]!]! += t.gain[n]!;
  let s = 0;
  for (const v of imp) s += v;
  if (s > 0) for (let j = 0; j < d; j++) imp[j] = imp[j]! / s;
  return imp;
}
