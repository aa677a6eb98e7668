// Machine learning: training time and peak memory of each model at 10k, 100k
// and 1M rows × 40 synthetic features, and scoring throughput (boosting on one
// thread and on all cores; and a 300-tree model like the churn model in
// production). Each (model, size) runs in its own process so its peak RSS is its own.
// npm run bench -- ml            (all sizes)
// node bench/ml.bench.ts 100000  (one size)
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fitGbdt, type GbdtModel, predictGbdt, predictGbdtParallel } from '../src/core/ml/gbdt.ts';
import { fitKMeans } from '../src/core/ml/kmeans.ts';
import { fitLogistic, predictLogistic } from '../src/core/ml/logistic.ts';
import type { Matrix } from '../src/core/ml/matrix.ts';
import { rocAuc } from '../src/core/ml/metrics.ts';
import { nonlinearData } from '../src/core/ml/testdata.ts';
import { fitTree, predictTree } from '../src/core/ml/tree.ts';

const COLS = 40;
const MODELS = ['logistic', 'tree', 'gbdt', 'kmeans'] as const;
type Kind = (typeof MODELS)[number];

/** Rows per second on one thread and on all cores (best of 3 each), CPU-seconds for one thread. */
async function gbdtScoring(m: GbdtModel, x: Matrix) {
  predictGbdt(m, x); // warm-up
  let one = 0;
  let cpu = 0;
  let all = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    predictGbdt(m, x);
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    one = Math.max(one, x.rows / s);
    cpu = Math.max(cpu, x.rows / ((c.user + c.system) / 1e6));
    const t1 = performance.now();
    await predictGbdtParallel(m, x);
    all = Math.max(all, x.rows / ((performance.now() - t1) / 1000));
  }
  return { one, cpu, all };
}

/** A 300-tree, 31-leaf model (trained without early stopping on 100k rows): scoring 100k rows. */
async function scoring300(): Promise<void> {
  const { x, y } = nonlinearData(100_000, COLS, 1);
  const test = nonlinearData(100_000, COLS, 2);
  const m = fitGbdt(x, y, { maxIter: 300, earlyStoppingRounds: 0 });
  const r = await gbdtScoring(m, test.x);
  process.stdout.write(`${JSON.stringify({ trees: m.trees.length, ...r, threads: availableParallelism() })}\n`);
}

async function child(kind: Kind, n: number): Promise<void> {
  const { x, y } = nonlinearData(n, COLS, 1);
  const test = nonlinearData(100_000, COLS, 2);
  const before = process.resourceUsage().maxRSS / 1024;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let score: (() => Float64Array) | null = null;
  let gbdt: GbdtModel | null = null;
  let note = '';
  if (kind === 'logistic') {
    const m = fitLogistic(x, y);
    score = () => predictLogistic(m, test.x);
    note = `${m.iterations} Newton steps`;
  } else if (kind === 'tree') {
    const m = fitTree(x, y, { maxDepth: 8 });
    score = () => predictTree(m, test.x);
    note = 'depth 8 (no depth search)';
  } else if (kind === 'gbdt') {
    const m = fitGbdt(x, y);
    gbdt = m;
    score = () => predictGbdt(m, test.x);
    note = `${m.trees.length} trees kept (early stopping), 31 leaves`;
  } else {
    const m = fitKMeans(x, { k: 5, restarts: 2, maxIter: 30 });
    note = `k = 5, 2 restarts, ≤ 30 iterations, inertia ${m.inertia.toExponential(2)}`;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  let rowsPerSecond = 0;
  let rowsPerCpuSecond = 0;
  let auc = Number.NaN;
  if (score) {
    score(); // warm-up
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const p = score();
    rowsPerSecond = test.x.rows / ((performance.now() - t1) / 1000);
    rowsPerCpuSecond = test.x.rows / (process.cpuUsage(c1).user / 1e6);
    auc = rocAuc(test.y, p);
  }
  let parallel = 0;
  if (gbdt) {
    const r = await gbdtScoring(gbdt, test.x);
    rowsPerSecond = r.one;
    rowsPerCpuSecond = r.cpu;
    parallel = r.all;
  }
  process.stdout.write(`${JSON.stringify({ kind, n, seconds, cpuSeconds, peakMiB, dataMiB: before, rowsPerSecond, rowsPerCpuSecond, parallel, auc, note })}\n`);
}

const [kindArg, nArg] = process.argv.slice(2);
if (kindArg === 'scoring300') {
  await scoring300();
} else if (kindArg && MODELS.includes(kindArg as Kind)) {
  await child(kindArg as Kind, Number(nArg));
} else {
  const sizes = kindArg ? [Number(kindArg)] : [10_000, 100_000, 1_000_000];
  console.log('| rows × 40 | model | training (wall / CPU) | peak RSS (data alone) | scoring (wall / CPU) | test ROC-AUC | note |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const n of sizes)
    for (const kind of MODELS) {
      const r = spawnSync(process.execPath, ['--max-old-space-size=8192', new URL(import.meta.url).pathname, kind, String(n)], { encoding: 'utf8' });
      if (r.status !== 0) {
        console.log(`| ${n.toLocaleString('en')} | ${kind} | failed: ${r.stderr.trim().split('\n').pop()} |`);
        continue;
      }
      const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
      const k = (v: number) => `${Math.round(v / 1000).toLocaleString('en')}k`;
      const scoring = o.rowsPerSecond ? `${k(o.rowsPerSecond)} / ${k(o.rowsPerCpuSecond)} rows/s${o.parallel ? ` (all cores: ${k(o.parallel)} rows/s)` : ''}` : '–';
      console.log(
        `| ${n.toLocaleString('en')} | ${kind} | ${o.seconds.toFixed(1)} s / ${o.cpuSeconds.toFixed(1)} s | ${Math.round(o.peakMiB)} MiB (${Math.round(o.dataMiB)}) | ${scoring} | ${o.auc == null ? '–' : o.auc.toFixed(3)} | ${o.note} |`,
      );
    }
  const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, 'scoring300'], { encoding: 'utf8' });
  if (r.status === 0) {
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const k = (v: number) => `${Math.round(v / 1000).toLocaleString('en')}k`;
    console.log(`\nScoring 100k rows with a ${o.trees}-tree, 31-leaf model: ${k(o.one)} rows/s on one thread (${k(o.cpu)} per CPU-second), ${k(o.all)} rows/s on ${Math.min(4, o.threads)} threads.`);
  } else console.log(`\nScoring a 300-tree model failed: ${r.stderr.trim().split('\n').pop()}`);
}
