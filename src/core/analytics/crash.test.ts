// customer_metrics and its state are unlogged (migration 0033): a crash empties them.
// These tests empty them as crash recovery does (every unlogged table, at once) and check
// that the next run puts back the same figures and scores without a trace in the history
// (no second transition, "in this stage since" kept, no segment exits), that the worker
// queues that run, and that steps reading the figures refuse to run on none. On PGlite the
// crash is real: a child process runs the pipeline on a data folder and exits without
// closing it, and the folder is opened again here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate } from '../../db/migrate.ts';
import { openStore, type Store } from '../../db/store.ts';
import { forEachStore } from '../../db/testing.ts';
import { queueRunsForLostFigures } from '../pipeline/pipeline.job.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { PIPELINE_STEPS } from '../pipeline/steps.ts';
import { getStatus } from '../status/status.service.ts';
import { figuresLost } from './metrics.repository.ts';
import { business, emptyUnlogged, snapshot, T0, T1 } from './crash.testing.ts';

async function runAt(store: Store, now: Date, only?: string[]) {
  return runPipeline(store, { workspaceId: 1, now, steps: PIPELINE_STEPS, mode: 'incremental', ...(only ? { only } : {}) });
}

forEachStore('analytics after a crash empties the unlogged tables', (get) => {
  it('computes the same figures and scores again, records no second transition or segment change, and keeps "in this stage since"', async () => {
    const store = get();
    const { db } = store;
    await business(db);
    // Customers never analysed have no figures to lose: nothing is queued or refused.
    assert.equal(await figuresLost(db, 1), false);
    assert.deepEqual(await queueRunsForLostFigures(db, new Date()), []);
    for (const now of [T0, T1]) assert.equal((await runAt(store, now)).status, 'done');
    const before = await snapshot(db);
    assert.ok(before.transitions.length >= 100 && before.members.length > 0, `${before.transitions.length} transitions, ${before.members.length} memberships`);
    // some customers moved between the runs: their stage_since is T1, the others' T0
    const since = new Set(before.metrics.map((m) => JSON.parse(m).stage_since));
    assert.equal(since.size, 2, [...since].join());

    const emptied = await emptyUnlogged(db);
    for (const t of ['customer_metrics', 'customer_metrics_state', 'scoring_state']) assert.ok(emptied.includes(t), `${t} is unlogged`);
    assert.equal(await figuresLost(db, 1), true);
    // what `liuke status`, /api/status and the dashboard's notice show
    assert.equal((await getStatus(db, 1)).figuresLost, true);

    // A step that reads the figures refuses to run on none, and says what to do.
    const partial = await runAt(store, T1, ['segments']);
    assert.equal(partial.status, 'failed');
    assert.match(partial.error ?? '', /segments step reads the customer figures, and workspace 1 has none .*run the whole pipeline/);
    assert.equal((await snapshot(db)).members.length, before.members.length, 'no member left');

    // The worker queues one run to compute them again, and not a second while it waits.
    const now = new Date();
    assert.deepEqual(await queueRunsForLostFigures(db, now), [1]);
    assert.deepEqual(await queueRunsForLostFigures(db, now), []);
    const job = await db.selectFrom('jobs').select(['task', 'payload', 'status']).where('key', 'like', 'figures-lost@%').execute();
    assert.deepEqual(job, [{ task: 'pipeline', payload: { mode: 'incremental' }, status: 'queued' }]);

    // That run (here at the last run's time, to compare) finds no baselines and recomputes.
    const r = await runAt(store, T1);
    assert.equal(r.status, 'done', r.error);
    assert.equal(r.steps.find((s) => s.name === 'customer_metrics')!.result!.mode, 'full');
    assert.equal(await figuresLost(db, 1), false);
    assert.equal((await getStatus(db, 1)).figuresLost, false);
    const after = await snapshot(db);
    for (const k of ['metrics', 'tiers', 'transitions', 'members'] as const) {
      const diff = after[k].filter((x, i) => before[k][i] !== x);
      assert.equal(after[k].length, before[k].length, `${k} rows`);
      assert.deepEqual(diff, [], `${k} differ`);
    }
    assert.equal(after.memberEvents, before.memberEvents, 'no segment entry or exit recorded');
  });
});

const HERE = path.dirname(fileURLToPath(import.meta.url));

// The child: builds the business on a data folder, runs the pipeline twice, writes what
// it sees, and exits without closing the store (as a killed process would).
const CHILD = `
import { writeFileSync } from 'node:fs';
import { openStore } from ${JSON.stringify(path.join(HERE, '../../db/store.ts'))};
import { migrate } from ${JSON.stringify(path.join(HERE, '../../db/migrate.ts'))};
import { runPipeline } from ${JSON.stringify(path.join(HERE, '../pipeline/pipeline.ts'))};
import { PIPELINE_STEPS } from ${JSON.stringify(path.join(HERE, '../pipeline/steps.ts'))};
import { business, snapshot } from ${JSON.stringify(path.join(HERE, 'crash.testing.ts'))};
const [dir, out] = process.argv.slice(1);
const store = await openStore({ dataDir: dir });
await migrate(store);
await business(store.db);
for (const now of [${T0.getTime()}, ${T1.getTime()}]) {
  const r = await runPipeline(store, { workspaceId: 1, now: new Date(now), steps: PIPELINE_STEPS, mode: 'incremental' });
  if (r.status !== 'done') throw new Error(r.error);
}
writeFileSync(out, JSON.stringify(await snapshot(store.db)));
process.exit(0);
`;

it('PGlite: a process that dies without closing its data folder leaves the figures empty, and the next run brings them back', async () => {
  if (!(process.env.LIUKE_TEST_STORES ?? 'pglite').includes('pglite')) return;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'liuke-crash-'));
  try {
    const out = path.join(dir, 'before.json');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, path.join(dir, 'data'), out], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const before = JSON.parse(readFileSync(out, 'utf8')) as Awaited<ReturnType<typeof snapshot>>;
    const store = await openStore({ dataDir: path.join(dir, 'data') });
    try {
      await migrate(store);
      const { db } = store;
      // crash recovery emptied the unlogged tables; the logged history is all there
      const left = await snapshot(db);
      assert.deepEqual(left.metrics, []);
      assert.deepEqual([left.tiers, left.transitions, left.members], [before.tiers, before.transitions, before.members]);
      assert.equal(await figuresLost(db, 1), true);
      const r = await runAt(store, T1);
      assert.equal(r.status, 'done', r.error);
      assert.deepEqual(await snapshot(db), before);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
