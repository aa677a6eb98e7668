// Churn on PostgreSQL over a demo business (100k customers by default):
// training-set build time (point-in-time features at one and at every cut-off),
// training, and scoring throughput — the model part alone (target ≥ 200k
// customers/s), explanations, and the whole churn_scoring step.
//
//   npm run bench -- churn
//   CHURN_BENCH_CUSTOMERS=20000 CHURN_BENCH_CUTOFFS=6 npm run bench -- churn
import { sql } from 'kysely';
import { loadFeatures } from '../src/core/churn/features.ts';
import { activeModel, type StoredModel } from '../src/core/churn/registry.repository.ts';
import { scoreAll, scoreWithModel } from '../src/core/churn/scoring.ts';
import { loadChurnContext } from '../src/core/churn/settings.ts';
import { cutoffDates, trainChurn } from '../src/core/churn/training.ts';
import { createDemoBusiness } from '../src/core/demo/demo.service.ts';
import { fitModel, type ModelKind, predict } from '../src/core/ml/select.ts';
import { imputed, mediansOf } from '../src/core/churn/training.ts';
import { openTestStore } from '../src/db/testing.ts';

const N = Number(process.env.CHURN_BENCH_CUSTOMERS ?? 100_000);
const CUTOFFS = Number(process.env.CHURN_BENCH_CUTOFFS ?? 12);
const NOW = new Date('2025-06-30T12:00:00Z');
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const secs = (t0: number) => (performance.now() - t0) / 1000;

const store = await openTestStore('postgres');
try {
  let t0 = performance.now();
  await createDemoBusiness(store, { customers: N, seed: 1, industry: 'retail', now: NOW, actor: 'bench' });
  console.log(`demo: ${fmt(N)} retail customers loaded in ${secs(t0).toFixed(1)} s`);
  const { db } = store;
  // As autovacuum would leave a store: statistics and hint bits set (the first scan after a bulk
  // load otherwise rewrites every page, which is the load's cost, not the features').
  t0 = performance.now();
  await sql`vacuum (analyze) orders, events, tickets, survey_responses, referrals, customers, demo_truth`.execute(db);
  console.log(`vacuum analyze after the load: ${secs(t0).toFixed(1)} s`);
  const ctx = await loadChurnContext(db, 1);

  t0 = performance.now();
  const one = await loadFeatures(db, { workspaceId: 1, cutoff: NOW, analytics: ctx.analytics, scorecard: ctx.scorecard, current: true });
  const tOne = secs(t0);
  console.log(`features as of one date (with scorecard): ${fmt(one.ids.length)} customers × ${one.x.cols} features in ${tOne.toFixed(2)} s (${fmt(one.ids.length / tOne)} customers/s)`);

  t0 = performance.now();
  let rows = 0;
  for (const cutoff of cutoffDates(NOW, 90, CUTOFFS, 30)) {
    const f = await loadFeatures(db, { workspaceId: 1, cutoff, analytics: ctx.analytics, label: { horizonDays: 90, basis: 'purchase' }, truth: { horizonDays: 90 }, scorecard: ctx.scorecard });
    rows += f.ids.length;
  }
  const tSet = secs(t0);
  console.log(`training set, ${CUTOFFS} cut-offs with labels and truth: ${fmt(rows)} rows in ${tSet.toFixed(1)} s (${fmt(rows / tSet)} rows/s)`);

  t0 = performance.now();
  const r = await trainChurn(db, { workspaceId: 1, now: NOW, actor: 'bench', cutoffs: CUTOFFS });
  console.log(`training (features again + logistic, tree, gbdt + calibration + save): ${secs(t0).toFixed(1)} s; selected ${r.algorithm}`);
  for (const c of [...r.candidates, ...r.baselines]) console.log(`  ${c.name.padEnd(10)} ROC-AUC ${c.rocAuc.toFixed(3)}  PR-AUC ${c.prAuc.toFixed(3)}  vs truth ${c.truthRocAuc?.toFixed(3)}`);

  // Model part of scoring: probability for every customer (no explanations), per algorithm.
  const x = one.x;
  const med = mediansOf(x);
  const sample = Math.min(20_000, x.rows);
  const idx = Uint32Array.from({ length: sample }, (_, i) => Math.floor((i * x.rows) / sample));
  const { takeRows } = await import('../src/core/ml/matrix.ts');
  const xs = takeRows(x, idx);
  const ys = Float64Array.from(idx, (i) => (x.data[i * x.cols]! > 90 ? 1 : 0));
  for (const kind of ['logistic', 'tree', 'gbdt'] as ModelKind[]) {
    const m = fitModel(kind, { raw: xs, imputed: imputed(xs, med) }, ys, { seed: 1 });
    const stored: StoredModel = { format: 'liuke-churn-model', version: 1, algorithm: kind, model: m, calibrator: { type: 'platt', a: 1, b: 0 }, medians: med };
    scoreWithModel(stored, x, 0);
    t0 = performance.now();
    const reps = 3;
    for (let k = 0; k < reps; k++) scoreWithModel(stored, x, 0);
    const t = secs(t0) / reps;
    const trees = m.type === 'gbdt' ? `, ${m.trees.length} trees` : '';
    console.log(`model part, ${kind}${trees}: ${fmt(x.rows)} customers in ${(t * 1000).toFixed(0)} ms = ${fmt(x.rows / t)} customers/s (predict + calibrate)`);
    void predict;
  }
  const active = await activeModel(db, 1);
  const stored = active!.model as StoredModel;
  {
    const reps = 3;
    const c0 = process.cpuUsage();
    t0 = performance.now();
    for (let k = 0; k < reps; k++) scoreWithModel(stored, x, 0);
    const wall = secs(t0) / reps;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6 / reps;
    const trees = stored.model.type === 'gbdt' ? `, ${stored.model.trees.length} trees` : '';
    console.log(`model part, the trained active model (${stored.algorithm}${trees}): ${fmt(x.rows / wall)} customers/s wall, ${fmt(x.rows / cpu)} per CPU-second`);
  }
  t0 = performance.now();
  scoreWithModel(stored, x, 2000);
  console.log(`explanations (${stored.algorithm}, ${stored.algorithm === 'logistic' ? 'coefficient × deviation' : 'exact TreeSHAP'}): 2,000 customers in ${secs(t0).toFixed(2)} s incl. scoring`);
  t0 = performance.now();
  const s = await scoreAll(db, 1, NOW);
  console.log(`churn_scoring step (features, model, ${fmt(s.explained)} explanations, scorecard, write): ${secs(t0).toFixed(1)} s — features ${s.seconds.features.toFixed(1)} s, model ${s.seconds.model.toFixed(1)} s, write ${s.seconds.write.toFixed(1)} s`);
} finally {
  await store.close();
}
