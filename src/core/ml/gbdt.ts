// Histogram-based gradient-boosted trees for binary log-loss: features binned
// once (≤ 255 bins, missing values in a bin of their own whose direction each
// split learns), histogram subtraction, leaf-wise growth, L2 on leaf values,
// row subsampling, class weights and early stopping on a validation split.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { stratifiedHoldout } from './cv.ts';
import { buildForest, type Forest, forestMargin, forestMarginParallel, scoringThreads } from './forest.ts';
import { CLAIM, CONTROL_SLOTS, COUNT, DONE, GROUP, NEXT, START, STOP, TASK } from './gbdt.worker.ts';
import { type Matrix, rng, sigmoid } from './matrix.ts';
import { addHistograms, applyBinning, fitBinning, gainImportance, growTree, leafOfBinned, type ParallelHist, type TreeNodes } from './tree.ts';

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
  const binned = applyBinning(binning, x, new Uint8Array(threads >= 2 ? new SharedArrayBuffer(n * d) : new ArrayBuffer(n * d)));
  const rowsBuf = new Uint32Array(threads >= 2 ? new SharedArrayBuffer(4 * trainIdx.length) : new ArrayBuffer(4 * trainIdx.length));
  const helper = threads >= 2 ? startHelper(binned, rowsBuf, n, d) : null;

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
    helper?.stop();
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

function startHelper(binned: Uint8Array, rows: Uint32Array, n: number, d: number): { parallel: ParallelHist; stop: () => void } {
  const gh = new Float64Array(new SharedArrayBuffer(16 * rows.length));
  const out = new Float64Array(new SharedArrayBuffer(8 * d * 512));
  const groups = Math.ceil(d / GROUP);
  const owner = new Uint8Array(new SharedArrayBuffer(groups));
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS));
  const worker = new Worker(new URL('./gbdt.worker.ts', import.meta.url), {
    workerData: { kind: 'gbdt-histograms', binned: binned.buffer, rows: rows.buffer, gh: gh.buffer, out: out.buffer, owner: owner.buffer, control: control.buffer, n, d },
  });
  worker.unref();
  let task = 0;
  const parallel: ParallelHist = {
    gh,
    // a task costs a wake-up of the other thread (tens of microseconds)
    minRows: 4096,
    // Both threads take groups of features from a shared counter until none
    // is left, so a thread that is slow to wake or busy elsewhere gets fewer.
    // Each group is built whole by one thread: the sums do not depend on which.
    build(hist, start, m) {
      control[START] = start;
      control[COUNT] = m;
      owner.fill(0);
      Atomics.store(control, NEXT, 0);
      const mine = ++task;
      Atomics.store(control, CLAIM, mine);
      Atomics.store(control, TASK, mine);
      Atomics.notify(control, TASK);
      for (let g = Atomics.add(control, NEXT, 1); g < groups; g = Atomics.add(control, NEXT, 1)) addHistograms(binned, n, rows, start, m, gh, hist, g * GROUP, Math.min(d, (g + 1) * GROUP));
      // closed before the worker claimed it: it built nothing
      if (Atomics.compareExchange(control, CLAIM, mine, 0) === mine) return;
      for (let done = Atomics.load(control, DONE); done !== mine; done = Atomics.load(control, DONE)) Atomics.wait(control, DONE, done);
      for (let g = 0; g < groups; g++) if (owner[g]) hist.set(out.subarray((g * GROUP) << 9, Math.min(d, (g + 1) * GROUP) << 9), (g * GROUP) << 9);
    },
  };
  const stop = () => {
    control[STOP] = 1;
    Atomics.store(control, TASK, ++task);
    Atomics.notify(control, TASK);
    void worker.terminate();
  };
  return { parallel, stop };
}

const forests = new WeakMap<GbdtModel, Forest>();

/** The model's trees as one flat forest for scoring, built once per model. */
function forestOf(m: GbdtModel, cols: number): Forest {
  let f = forests.get(m);
  if (!f || f.cols !== cols || f.roots.length !== m.trees.length) {
    f = buildForest(m.trees, cols, m.baseScore);
    forests.set(m, f);
  }
  return f;
}

/** Log-odds for each row (see forest.ts). */
export function gbdtMargin(m: GbdtModel, x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  forestMargin(forestOf(m, x.cols), x.data, x.rows, out);
  return out;
}

export function predictGbdt(m: GbdtModel, x: Matrix): Float64Array {
  return toProbability(gbdtMargin(m, x));
}

/**
 * predictGbdt with the rows split across threads (by default every core, up
 * to 4, from 50k rows): the same probabilities, sooner for large inputs.
 */
export async function predictGbdtParallel(m: GbdtModel, x: Matrix, threads = scoringThreads(x.rows)): Promise<Float64Array> {
  return toProbability(await forestMarginParallel(forestOf(m, x.cols), x, threads));
}

function toProbability(margin: Float64Array): Float64Array {
  for (let i = 0; i < margin.length; i++) margin[i] = sigmoid(margin[i]!);
  return margin;
}
