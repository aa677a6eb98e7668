// Machine learning: training time and peak memory of each model at 10k, 100k
// and 1M rows × 40 synthetic features, and scoring throughput. Each (model,
// size) runs in its own process so its peak RSS is its own.
// npm run bench -- ml            (all sizes)
// node bench/ml.bench.ts 100000  (one size)
import { spawnSync } from 'node:child_process';
import { fitGbdt, predictGbdt } from '../src/core/ml/gbdt.ts';
import { fitKMeans } from '../src/core/ml/kmeans.ts';
import { fitLogistic, predictLogistic } from '../src/core/ml/logistic.ts';
import { rocAuc } from '../src/core/ml/metrics.ts';
import { nonlinearData } from '../src/core/ml/testdata.ts';
import { fitTree, predictTree } from '../src/core/ml/tree.ts';

const COLS = 40;
const MODELS = ['logistic', 'tree', 'gbdt', 'kmeans'] as const;
type Kind = (typeof MODELS)[number];

function child(kind: Kind, n: number): void {
  const { x, y } = nonlinearData(n, COLS, 1);
  const test = nonlinearData(100_000, COLS, 2);
  const before = process.resourceUsage().maxRSS / 1024;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let score: (() => Float64Array) | null = null;
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
  process.stdout.write(`${JSON.stringify({ kind, n, seconds, cpuSeconds, peakMiB, dataMiB: before, rowsPerSecond, rowsPerCpuSecond, auc, note })}\n`);
}

const [kindArg, nArg] = process.argv.slice(2);
if (kindArg && MODELS.includes(kindArg as Kind)) {
  child(kindArg as Kind, Number(nArg));
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
      const scoring = o.rowsPerSecond ? `${Math.round(o.rowsPerSecond / 1000).toLocaleString('en')}k / ${Math.round(o.rowsPerCpuSecond / 1000).toLocaleString('en')}k rows/s` : '–';
      console.log(
        `| ${n.toLocaleString('en')} | ${kind} | ${o.seconds.toFixed(1)} s / ${o.cpuSeconds.toFixed(1)} s | ${Math.round(o.peakMiB)} MiB (${Math.round(o.dataMiB)}) | ${scoring} | ${o.auc == null ? '–' : o.auc.toFixed(3)} | ${o.note} |`,
      );
    }
}
