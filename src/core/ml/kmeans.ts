// k-means over standardised features: k-means++ seeding from a seeded PRNG,
// several restarts, k chosen by the silhouette on a sample, and cluster
// profiles in words ("spend 2.1× the average, recency 0.4×").
import { type Matrix, rng } from './matrix.ts';

export interface KMeansOptions {
  /** a fixed k; when absent, chosen by silhouette among kRange */
  k?: number;
  kRange?: [number, number];
  restarts?: number;
  maxIter?: number;
  seed?: number;
  /** rows used for the silhouette (default 2,000) */
  silhouetteSample?: number;
}

export interface KMeansModel {
  type: 'kmeans';
  names: string[];
  k: number;
  /** on the standardised scale, k × cols row-major */
  centroids: number[];
  means: number[];
  stds: number[];
  inertia: number;
  sizes: number[];
  /** silhouette per k tried, when k was chosen */
  silhouettes?: { k: number; silhouette: number }[];
}

function standardise(x: Matrix): { z: Float64Array; means: number[]; stds: number[] } {
  const { rows: n, cols: d } = x;
  const means = new Array(d).fill(0);
  const stds = new Array(d).fill(0);
  const cnt = new Array(d).fill(0);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const v = x.data[i * d + j]!;
      if (!Number.isNaN(v)) {
        means[j] += v;
        cnt[j]++;
      }
    }
  for (let j = 0; j < d; j++) means[j] = cnt[j] ? means[j] / cnt[j] : 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const v = x.data[i * d + j]!;
      if (!Number.isNaN(v)) stds[j] += (v - means[j]) ** 2;
    }
  for (let j = 0; j < d; j++) stds[j] = Math.sqrt(stds[j] / Math.max(1, cnt[j] - 1)) || 1;
  const z = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const v = x.data[i * d + j]!;
      z[i * d + j] = Number.isNaN(v) ? 0 : (v - means[j]) / stds[j];
    }
  return { z, means, stds };
}

function dist2(a: Float64Array, ai: number, b: ArrayLike<number>, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = a[ai + j]! - b[bi + j]!;
    s += t * t;
  }
  return s;
}

function runOnce(z: Float64Array, n: number, d: number, k: number, rand: () => number, maxIter: number) {
  const c = new Float64Array(k * d);
  // k-means++: each next centre drawn with probability ∝ squared distance
  const first = Math.floor(rand() * n);
  c.set(z.subarray(first * d, first * d + d), 0);
  const best = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let m = 1; m < k; m++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      best[i] = Math.min(best[i]!, dist2(z, i * d, c, (m - 1) * d, d));
      total += best[i]!;
    }
    let r = rand() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= best[i]!;
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    c.set(z.subarray(pick * d, pick * d + d), m * d);
  }
  const assign = new Int32Array(n).fill(-1);
  let inertia = 0;
  for (let it = 0; it < maxIter; it++) {
    let changed = 0;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let bj = 0;
      let bd = Number.POSITIVE_INFINITY;
      for (let m = 0; m < k; m++) {
        const dd = dist2(z, i * d, c, m * d, d);
        if (dd < bd) {
          bd = dd;
          bj = m;
        }
      }
      if (assign[i] !== bj) changed++;
      assign[i] = bj;
      inertia += bd;
    }
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const m = assign[i]!;
      counts[m]!++;
      for (let j = 0; j < d; j++) sums[m * d + j]! += z[i * d + j]!;
    }
    for (let m = 0; m < k; m++) {
      if (counts[m] === 0) {
        // an empty cluster takes a random row
        const i = Math.floor(rand() * n);
        c.set(z.subarray(i * d, i * d + d), m * d);
      } else for (let j = 0; j < d; j++) c[m * d + j] = sums[m * d + j]! / counts[m]!;
    }
    if (changed === 0) break;
  }
  return { c, assign, inertia };
}

/** Mean silhouette over the given rows (distances to every row of each cluster among them). */
export function silhouette(z: Float64Array, d: number, assign: Int32Array, k: number, idx: ArrayLike<number>): number {
  let total = 0;
  const sum = new Float64Array(k);
  const cnt = new Float64Array(k);
  for (let a = 0; a < idx.length; a++) {
    sum.fill(0);
    cnt.fill(0);
    const i = idx[a]!;
    for (let b = 0; b < idx.length; b++) {
      if (a === b) continue;
      const j = idx[b]!;
      sum[assign[j]!]! += Math.sqrt(dist2(z, i * d, z, j * d, d));
      cnt[assign[j]!]!++;
    }
    const own = assign[i]!;
    if (cnt[own] === 0) continue; // a singleton scores 0
    const ai = sum[own]! / cnt[own]!;
    let bi = Number.POSITIVE_INFINITY;
    for (let m = 0; m < k; m++) if (m !== own && cnt[m]! > 0) bi = Math.min(bi, sum[m]! / cnt[m]!);
    if (Number.isFinite(bi)) total += (bi - ai) / Math.max(ai, bi);
  }
  return total / idx.length;
}

export function fitKMeans(x: Matrix, opts: KMeansOptions = {}): KMeansModel & { assignments: Int32Array } {
  const { rows: n, cols: d } = x;
  const { z, means, stds } = standardise(x);
  const rand = rng(opts.seed ?? 1);
  const restarts = opts.restarts ?? 5;
  const maxIter = opts.maxIter ?? 100;
  const fitK = (k: number) => {
    let best: ReturnType<typeof runOnce> | null = null;
    for (let r = 0; r < restarts; r++) {
      const run = runOnce(z, n, d, k, rand, maxIter);
      if (!best || run.inertia < best.inertia) best = run;
    }
    return best!;
  };
  let k = opts.k;
  let silhouettes: { k: number; silhouette: number }[] | undefined;
  let chosen: ReturnType<typeof runOnce> | undefined;
  if (k === undefined) {
    const [lo, hi] = opts.kRange ?? [2, 8];
    const m = Math.min(n, opts.silhouetteSample ?? 2000);
    const idx = Uint32Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
    silhouettes = [];
    let bestS = Number.NEGATIVE_INFINITY;
    for (let kk = lo; kk <= Math.min(hi, n - 1); kk++) {
      const run = fitK(kk);
      const s = silhouette(z, d, run.assign, kk, idx);
      silhouettes.push({ k: kk, silhouette: s });
      if (s > bestS) {
        bestS = s;
        k = kk;
        chosen = run;
      }
    }
  }
  const run = chosen ?? fitK(k!);
  const sizes = new Array(k!).fill(0);
  for (const a of run.assign) sizes[a]++;
  return { type: 'kmeans', names: [...x.names], k: k!, centroids: Array.from(run.c), means, stds, inertia: run.inertia, sizes, silhouettes, assignments: run.assign };
}

/** The nearest cluster of each row. */
export function assignKMeans(m: KMeansModel, x: Matrix): Int32Array {
  const d = x.cols;
  const out = new Int32Array(x.rows);
  const z = new Float64Array(d);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < d; j++) {
      const v = x.data[i * d + j]!;
      z[j] = Number.isNaN(v) ? 0 : (v - m.means[j]!) / m.stds[j]!;
    }
    let bd = Number.POSITIVE_INFINITY;
    for (let c = 0; c < m.k; c++) {
      const dd = dist2(z, 0, m.centroids, c * d, d);
      if (dd < bd) {
        bd = dd;
        out[i] = c;
      }
    }
  }
  return out;
}

export interface ClusterProfile {
  cluster: number;
  size: number;
  share: number;
  /** per feature: the cluster mean, the overall mean, and the difference in standard deviations */
  features: { feature: string; mean: number; overall: number; z: number }[];
  /** the features that set the cluster apart, in words */
  summary: string;
}

/** Each cluster's feature means against the overall means, the most distinctive first. */
export function clusterProfiles(m: KMeansModel, lang: 'en' | 'zh-CN' = 'en', top = 3): ClusterProfile[] {
  const d = m.names.length;
  const total = m.sizes.reduce((s, v) => s + v, 0);
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2));
  return m.sizes.map((size, c) => {
    const features = m.names
      .map((feature, j) => {
        const z = m.centroids[c * d + j]!;
        return { feature, mean: m.means[j]! + z * m.stds[j]!, overall: m.means[j]!, z };
      })
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z));
    const words = features.slice(0, top).map((f) => {
      const dir = f.z > 0 ? (lang === 'zh-CN' ? '高于' : 'above') : lang === 'zh-CN' ? '低于' : 'below';
      return lang === 'zh-CN'
        ? `${f.feature} ${fmt(f.mean)}（整体 ${fmt(f.overall)}，${dir}平均 ${Math.abs(f.z).toFixed(1)} 个标准差）`
        : `${f.feature} ${fmt(f.mean)} vs ${fmt(f.overall)} overall (${Math.abs(f.z).toFixed(1)} sd ${dir})`;
    });
    const share = total ? size / total : 0;
    const summary =
      lang === 'zh-CN'
        ? `第 ${c + 1} 群（${size} 人，${(share * 100).toFixed(0)}%）：${words.join('；')}`
        : `Cluster ${c + 1} (${size}, ${(share * 100).toFixed(0)}%): ${words.join('; ')}`;
    return { cluster: c, size, share, features, summary };
  });
}
