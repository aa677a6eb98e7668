// Scoring a boosted ensemble fast: every tree of the model in one set of typed
// arrays, one comparison per node, rows in blocks that stay in cache while all
// trees visit them, and for large inputs the rows split across threads
// (forest.worker.ts). The sums are the same, in the same order, as a walk of
// each tree's JSON nodes: scores are bit-for-bit identical.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Matrix } from './matrix.ts';
import type { TreeNodes } from './tree.ts';

/**
 * The trees as flat arrays. A node tests `value <= thr[node]` on column
 * `col[node]` of a row block that holds each row's values and then their
 * negations (col ≥ cols reads −x[col − cols]); true goes to kids[2·node], false
 * (and a missing value, which fails every comparison) to kids[2·node + 1].
 * A child < 0 is the leaf ~child. A node that sends missing values left tests
 * −x < −threshold instead (written as −x ≤ the next double below −threshold),
 * with its children swapped, so one comparison routes every value.
 */
export interface Forest {
  cols: number;
  baseScore: number;
  /** per tree, its root (a leaf when < 0) */
  roots: Int32Array;
  col: Int32Array;
  thr: Float64Array;
  kids: Int32Array;
  leafValue: Float64Array;
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

/** The largest double below x (x finite, or +∞). */
function nextDown(x: number): number {
  if (x === Number.POSITIVE_INFINITY) return Number.MAX_VALUE;
  if (x === 0) return -Number.MIN_VALUE;
  f64[0] = x;
  i64[0] = x > 0 ? i64[0]! - 1n : i64[0]! + 1n;
  return f64[0]!;
}

export function buildForest(trees: TreeNodes[], cols: number, baseScore: number): Forest {
  let inner = 0;
  let leaves = 0;
  for (const t of trees)
    for (const f of t.feature)
      if (f >= 0) inner++;
      else leaves++;
  const roots = new Int32Array(trees.length);
  const col = new Int32Array(inner);
  const thr = new Float64Array(inner);
  const kids = new Int32Array(2 * inner);
  const leafValue = new Float64Array(leaves);
  let ni = 0;
  let li = 0;
  trees.forEach((t, ti) => {
    // a tree's nodes renumbered: inner nodes from ni, leaves from li
    const id = new Int32Array(t.feature.length);
    for (let n = 0; n < t.feature.length; n++) {
      if (t.feature[n]! >= 0) id[n] = ni++;
      else {
        leafValue[li] = t.value[n]!;
        id[n] = ~li++;
      }
    }
    roots[ti] = id[0]!;
    for (let n = 0; n < t.feature.length; n++) {
      const f = t.feature[n]!;
      if (f < 0) continue;
      const k = id[n]!;
      const left = id[t.left[n]!]!;
      const right = id[t.right[n]!]!;
      const threshold = t.threshold[n]!;
      if (!t.missingLeft[n]) {
        col[k] = f;
        thr[k] = threshold;
        kids[2 * k] = left;
        kids[2 * k + 1] = right;
      } else if (threshold === Number.POSITIVE_INFINITY) {
        // every value and a missing one go left
        col[k] = f;
        thr[k] = threshold;
        kids[2 * k] = left;
        kids[2 * k + 1] = left;
      } else {
        // x > threshold ⇔ −x < −threshold ⇔ −x ≤ nextDown(−threshold)
        col[k] = cols + f;
        thr[k] = nextDown(-threshold);
        kids[2 * k] = right;
        kids[2 * k + 1] = left;
      }
    }
  });
  return { cols, baseScore, roots, col, thr, kids, leafValue };
}

const BLOCK = 128;

/** Adds baseScore and every tree's leaf value for rows [0, rows) of row-major data into out. */
export function forestMargin(forest: Forest, data: Float64Array, rows: number, out: Float64Array): void {
  const { cols: d, roots, col, thr, kids, leafValue } = forest;
  const w = 2 * d;
  const blk = new Float64Array(BLOCK * w);
  for (let from = 0; from < rows; from += BLOCK) {
    const m = Math.min(rows, from + BLOCK) - from;
    for (let i = 0; i < m; i++) {
      const src = (from + i) * d;
      const dst = i * w;
      for (let j = 0; j < d; j++) {
        const v = data[src + j]!;
        blk[dst + j] = v;
        blk[dst + d + j] = -v;
      }
      out[from + i] = forest.baseScore;
    }
    for (let t = 0; t < roots.length; t++) {
      const root = roots[t]!;
      if (root < 0) {
        const v = leafValue[~root]!;
        for (let i = 0; i < m; i++) out[from + i]! += v;
        continue;
      }
      for (let i = 0; i < m; i++) {
        const off = i * w;
        let nd = root;
        do nd = kids[2 * nd + (blk[off + col[nd]!]! <= thr[nd]! ? 0 : 1)]!;
        while (nd >= 0);
        out[from + i]! += leafValue[~nd]!;
      }
    }
  }
}

/** Threads worth using for `rows` rows: below 50k rows starting a thread costs more than it saves. */
export function scoringThreads(rows: number): number {
  return rows >= 50_000 ? Math.min(4, availableParallelism()) : 1;
}

/**
 * forestMargin over all rows of x, the rows split evenly between this thread
 * and `threads − 1` worker threads (each gets a copy of its slice).
 */
export async function forestMarginParallel(forest: Forest, x: Matrix, threads = scoringThreads(x.rows)): Promise<Float64Array> {
  const n = x.rows;
  const d = x.cols;
  const out = new Float64Array(n);
  const per = Math.ceil(n / Math.max(1, threads));
  const jobs: Promise<void>[] = [];
  for (let from = per; from < n; from += per) {
    const to = Math.min(n, from + per);
    const data = x.data.slice(from * d, to * d);
    const slice = () =>
      new Promise<Float64Array>((resolve, reject) => {
        const w = new Worker(new URL('./forest.worker.ts', import.meta.url), { workerData: { forest, data, rows: to - from }, transferList: [data.buffer] });
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`scoring thread stopped (exit code ${code})`)));
      });
    jobs.push(
      slice().then(
        (part) => out.set(part, from),
        // no thread to be had (resource limits): this slice on this thread
        () => {
          const part = new Float64Array(to - from);
          forestMargin(forest, x.data.subarray(from * d, to * d), to - from, part);
          out.set(part, from);
        },
      ),
    );
  }
  // the workers start on their own threads while this one scores the first slice
  forestMargin(forest, x.data, Math.min(n, per), out);
  await Promise.all(jobs);
  return out;
}
