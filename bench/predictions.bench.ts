// The prediction steps (clv, next_products, clusters) on a demo business on
// PostgreSQL: time of each step and peak RSS of the process (after the demo load
// and the customer figures the clusters need).
//   npm run bench -- predictions                 # 100k customers
//   LIUKE_BENCH_CUSTOMERS=20000 npm run bench -- predictions
// A throw-away database on the local server, dropped afterwards.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { customerMetricsStep, scoringStep } from '../src/core/analytics/analytics.steps.ts';
import { createDemoBusiness } from '../src/core/demo/demo.service.ts';
import { runPipeline } from '../src/core/pipeline/pipeline.ts';
import { clvStep } from '../src/core/predictions/clv.step.ts';
import { clustersStep } from '../src/core/predictions/clusters.ts';
import { nextProductsStep } from '../src/core/predictions/recommend.ts';
import { migrate } from '../src/db/migrate.ts';
import { openStore } from '../src/db/store.ts';

const ADMIN_URL = process.env.LIUKE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const N = Number(process.env.LIUKE_BENCH_CUSTOMERS ?? 100_000);
const NOW = new Date('2025-06-30T12:00:00Z');
const name = `liuke_bench_pred_${process.pid}_${randomBytes(3).toString('hex')}`;
const rssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function admin(q: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

await admin(`create database ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const store = await openStore({ databaseUrl: url.toString(), poolSize: 4 });
try {
  await migrate(store);
  let t = performance.now();
  await createDemoBusiness(store, { customers: N, seed: 1, industry: 'retail', now: NOW, actor: 'bench' });
  const loadS = (performance.now() - t) / 1000;
  t = performance.now();
  await runPipeline(store, { workspaceId: 1, now: NOW, steps: [customerMetricsStep, scoringStep], mode: 'full' });
  const metricsS = (performance.now() - t) / 1000;
  await sql`analyze`.execute(store.db);
  const rssBefore = rssMb();
  const run = await runPipeline(store, { workspaceId: 1, now: NOW, steps: [clvStep, nextProductsStep, clustersStep], mode: 'full', log: (m) => process.stderr.write(`${m}\n`) });
  if (run.status !== 'done') throw new Error(run.error);
  console.log(`## Predictions: ${N.toLocaleString('en')} customers, PostgreSQL; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`(demo load ${loadS.toFixed(1)} s, customer figures ${metricsS.toFixed(1)} s; peak RSS before the steps ${rssBefore} MB)`);
  console.log('| step | seconds | result |');
  console.log('| --- | ---: | --- |');
  for (const s of run.steps) {
    const r = s.result ?? {};
    const brief = s.name === 'clv'
      ? `${r.customers} customers, backtest ${JSON.stringify(r.backtest)}, ROC-AUC now ${(r.truthRocAuc as number)?.toFixed(3)}`
      : s.name === 'clusters' ? `k = ${r.k}, silhouette ${(r.silhouette as number)?.toFixed(3)}, ${r.customers} customers`
      : `${r.sequences} sequences, ${r.coPurchases} co-purchases, ${r.repurchaseProducts} repurchase products, ${r.recommendations} recommendations`;
    console.log(`| ${s.name} | ${((s.durationMs ?? 0) / 1000).toFixed(1)} | ${brief} |`);
  }
  console.log(`peak RSS of the bench process: ${rssMb()} MB`);
} finally {
  await store.close();
  await admin(`drop database if exists ${name} with (force)`);
}
