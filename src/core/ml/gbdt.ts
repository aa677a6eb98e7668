// Histogram-based gradient-boosted trees for binary log-loss: features binned
// once (≤ 255 bins, missing values in a bin of their own whose direction each
// split learns), histogram subtraction, leaf-wise growth, L2 on leaf values,
// row subsampling, class weights and early stopping on a validation split.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { stratifiedHoldout } from './cv.ts';
import { type Matrix, rng, sigmoid } from './matrix.ts';
import { applyBinning, fitBinning, gainImportance, growTree, leafOfBinned, type ParallelHist, type TreeNodes } from './tree.ts';

export interface GbdtOptions {
  /** most boosting rounds (default 300) */
  maxIter?: number;
  learningRate?: number;
  maxLeaves?: number;
  maxDepth?: number;
  minSamplesLeaf?: number;
  /** L2 penalty on leaf values */
  l2?: number;
  /** share of rows each tree sees (default 1) */
  subsample?: number;
  maxBins?: number;
  /** 'balanced' weighs each class by n / (2·count); or explicit weights per class */
  classWeight?: 'balanced' | { positive: number; negative: number };
  /** stop when the validation loss has not improved for this many rounds (default 20); 0 turns it off */
  earlyStoppingRounds?: number;
  /** share of rows held out for early stopping (default 0.1) */
  validationFraction?: number;
  seed?: number;
  /** threads for the histograms: 1 or 2 (default 2 when the machine has 2 cores and there are ≥ 100k rows) */
  threads?: number;
  /** called after each round (progress bars) */
  onIteration?: (iter: number, maxIter: number) => void;
}

export interface GbdtModel {
  type: 'gbdt';
  names: string[];
  /** initial log-odds */
  baseScore: number;
  trees: TreeNodes[];
  learningRate: number;
  /** validation log loss per round, when early stopping was on */
  validationLoss?: number[];
  bestIteration: number;
  /** split gain per feature, summing to 1 */
  importance: number[];
}

export function fitGbdt(x: Matrix, y: ArrayLike<number>, opts: GbdtOptions = {}): GbdtModel {
  const n = x.rows;
  const d = x.cols;
  const maxIter = opts.maxIter ?? 300;
  const lr = opts.learningRate ?? 0.1;
  const seed = opts.seed ?? 1;
  const rand = rng(seed);
  const esRounds = opts.earlyStoppingRounds ?? 20;
  const useValidation = esRounds > 0 && n >= 200;
  const split = useValidation ? stratifiedHoldout(y, opts.validationFraction ?? 0.1, seed + 17) : null;
  const trainIdx = split ? split.train : Uint32Array.from({ length: n }, (_, i) => i);
  const validIdx = split ? split.test : new Uint32Array(0);

  const binning = fitBinning(x, opts.maxBins ?? 255);
  const threads = opts.threads ?? (n >= 100_000 && availableParallelism() >= 2 ? 2 : 1);
  let binned: Uint8Array<ArrayBufferLike> = applyBinning(binning, x);
  let rowsBuf: Uint32Array<ArrayBufferLike> = new Uint32Array(trainIdx.length);
  let helper: { parallel: ParallelHist; worker: Worker } | null = null;
  if (threads >= 2) {
    const shared = new Uint8Array(new SharedArrayBuffer(binned.length));
    shared.set(binned);
    binned = shared;
    rowsBuf = new Uint32Array(new SharedArrayBuffer(4 * trainIdx.length));
    helper = startHelper(binned, rowsBuf, n);
  }

  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i]! > 0.5 ? 1 : 0;
  let wPos = 1;
  let wNeg = 1;
  if (opts.classWeight === 'balanced') {
    wPos = n / (2 * Math.max(1, nPos));
    wNeg = n / (2 * Math.max(1, n - nPos));
  } else if (opts.classWeight) {
    wPos = opts.classWeight.positive;
    wNeg = opts.classWeight.negative;
  }
  const weight = (i: number) => (y[i]! > 0.5 ? wPos : wNeg);
  let sw = 0;
  let swy = 0;
  for (const i of trainIdx) {
    sw += weight(i);
    swy += y[i]! > 0.5 ? weight(i) : 0;
  }
  const rate = Math.min(1 - 1e-6, Math.max(1e-6, swy / sw));
  const baseScore = Math.log(rate / (1 - rate));

  const raw = new Float64Array(n).fill(baseScore);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const subsample = opts.subsample ?? 1;
  const trees: TreeNodes[] = [];
  const validationLoss: number[] = [];
  let best = Number.POSITIVE_INFINITY;
  let bestIter = 0;
  const params = {
    kind: 'newton' as const,
    maxDepth: opts.maxDepth ?? 12,
    maxLeaves: opts.maxLeaves ?? 31,
    minSamplesLeaf: opts.minSamplesLeaf ?? 20,
    l2: opts.l2 ?? 1,
    learningRate: lr,
    minChildWeight: 1e-3,
    prior: 0,
    priorWeight: 0,
    minGain: 1e-7,
  };
  try {
    for (let it = 0; it < maxIter; it++) {
      let m = 0;
      for (const i of trainIdx) {
        if (subsample < 1 && rand() >= subsample) continue;
        const p = sigmoid(raw[i]!);
        const w = weight(i);
        g[i] = w * (p - (y[i]! > 0.5 ? 1 : 0));
        h[i] = w * Math.max(p * (1 - p), 1e-16);
        rowsBuf[m++] = i;
      }
      const sampled = rowsBuf.subarray(0, m);
      const leaves: number[] = [];
      const tree = growTree(binned, n, d, sampled, g, h, binning.edges, params, (node, start, end) => leaves.push(node, start, end), helper?.parallel);
      for (let q = 0; q < leaves.length; q += 3) {
        const v = tree.value[leaves[q]!]!;
        for (let k = leaves[q + 1]!; k < leaves[q + 2]!; k++) raw[sampled[k]!]! += v;
      }
      trees.push(tree);
      if (tree.feature.length === 1) {
        // nothing left to learn
        opts.onIteration?.(it + 1, maxIter);
        if (!useValidation) bestIter = trees.length;
        break;
      }
      // rows the tree did not see: the left-out sample and the validation rows
      if (m < trainIdx.length) {
        const seen = new Uint8Array(n);
        for (const i of sampled) seen[i] = 1;
        for (const i of trainIdx) if (!seen[i]) raw[i]! += tree.value[leafOfBinned(tree, binned, n, i)]!;
      }
      for (const i of validIdx) raw[i]! += tree.value[leafOfBinned(tree, binned, n, i)]!;
      if (useValidation) {
        let loss = 0;
        for (const i of validIdx) {
          const p = Math.min(1 - 1e-15, Math.max(1e-15, sigmoid(raw[i]!)));
          loss -= weight(i) * (y[i]! > 0.5 ? Math.log(p) : Math.log(1 - p));
        }
        validationLoss.push(loss / validIdx.length);
        if (bestIter === 0 || loss < best - 1e-9 * Math.abs(best)) {
          best = loss;
          bestIter = trees.length;
        } else if (trees.length - bestIter >= esRounds) {
          opts.onIteration?.(maxIter, maxIter);
          break;
        }
      } else bestIter = trees.length;
      opts.onIteration?.(it + 1, maxIter);
    }
  } finally {
    void helper?.worker.terminate();
  }
  const kept = trees.slice(0, Math.max(1, bestIter));
  return {
    type: 'gbdt',
    names: [...x.names],
    baseScore,
    trees: kept,
    learningRate: lr,
    validationLoss: useValidation ? validationLoss : undefined,
    bestIteration: kept.length,
    importance: Array.from(gainImportance(kept, d)),
  };
}

function startHelper(binned: Uint8Array, rows: Uint32Array, n: number): { parallel: ParallelHist; worker: Worker } {
  const og = new Float64Array(new SharedArrayBuffer(8 * rows.length));
  const oh = new Float64Array(new SharedArrayBuffer(8 * rows.length));
  const control = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('./gbdt.worker.ts', import.meta.url), {
    workerData: { binned: binned.buffer, rows: rows.buffer, og: og.buffer, oh: oh.buffer, control: control.buffer, n },
  });
  worker.unref();
  const parallel: ParallelHist = {
    og,
    oh,
    minRows: 20_000,
    newHist: (size) => new Float64Array(new SharedArrayBuffer(8 * size)),
    start(hist, start, m, from, to) {
      Atomics.store(control, 0, 0);
      worker.postMessage({ hist: hist.buffer, start, m, from, to });
      return () => {
        Atomics.wait(control, 0, 0);
      };
    },
  };
  return { parallel, worker };
}

interface Compiled {
  feature: Int32Array;
  threshold: Float64Array;
  /** the child a missing value goes to */
  missing: Int32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

const compiledCache = new WeakMap<TreeNodes, Compiled>();

/** Typed-array copies of a tree for scoring, made once per tree. */
function compile(t: TreeNodes): Compiled {
  let c = compiledCache.get(t);
  if (!c) {
    c = {
      feature: Int32Array.from(t.feature),
      threshold: Float64Array.from(t.threshold),
      missing: Int32Array.from(t.feature, (_, n) => (t.missingLeft[n] ? t.left[n]! : t.right[n]!)),
      left: Int32Array.from(t.left),
      right: Int32Array.from(t.right),
      value: Float64Array.from(t.value),
    };
    compiledCache.set(t, c);
  }
  return c;
}

/** Log-odds for each row. Rows go in blocks that stay in cache while every tree visits them. */
export function gbdtMargin(m: GbdtModel, x: Matrix): Float64Array {
  const out = new Float64Array(x.rows).fill(m.baseScore);
  const d = x.cols;
  const data = x.data;
  const trees = m.trees.map(compile);
  const BLOCK = 256;
  for (let from = 0; from < x.rows; from += BLOCK) {
    const to = Math.min(x.rows, from + BLOCK);
    for (const { feature, threshold, missing, left, right, value } of trees) {
      for (let i = from; i < to; i++) {
        const off = i * d;
        let nd = 0;
        let f = feature[0]!;
        while (f >= 0) {
          const v = data[off + f]!;
          nd = v <= threshold[nd]! ? left[nd]! : v > threshold[nd]! ? right[nd]! : missing[nd]!;
          f = feature[nd]!;
        }
        out[i]! += value[nd]!;
      }
    }
  }
  return out;
}

export function predictGbdt(m: GbdtModel, x: Matrix): Float64Array {
  const out = gbdtMargin(m, x);
  for (let i = 0; i < out.length; i++) out[i] = sigmoid(out[i]!);
  return out;
}

