import assert from 'node:assert/strict';
import { it } from 'node:test';
import { customerMetricsStep, scoringStep } from '../analytics/analytics.steps.ts';
import { createDemoBusiness } from '../demo/demo.service.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { forEachStore } from '../../db/testing.ts';
import { type ClusterProfileOut, clustersStep, customerCluster, latestClusters } from './clusters.ts';

const NOW = new Date('2025-06-30T12:00:00Z');

forEachStore('behavioural clusters', (get) => {
  it('clusters every buyer, k by silhouette, with profiles in English and Chinese', async () => {
    const store = get();
    await createDemoBusiness(store, { customers: 500, seed: 9, industry: 'retail', now: NOW, actor: 'test' });
    const run = await runPipeline(store, { workspaceId: 1, now: NOW, steps: [customerMetricsStep, scoringStep, clustersStep], mode: 'full' });
    assert.equal(run.status, 'done', run.error);
    const latest = await latestClusters(store.db, 1);
    assert.ok(latest && latest.k >= 2 && latest.k <= 8);
    assert.ok(latest.silhouette! > 0 && latest.silhouette! <= 1);
    const buyers = await store.db.selectFrom('customer_metrics').select((eb) => eb.fn.countAll<number>().as('n')).where('orders_total', '>', 0).executeTakeFirstOrThrow();
    const members = await store.db.selectFrom('customer_clusters').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(members.n), Number(buyers.n));
    const profiles = latest.profiles as ClusterProfileOut[];
    assert.equal(profiles.length, latest.k);
    assert.equal(profiles.reduce((s, p) => s + p.size, 0), Number(buyers.n));
    // largest first, readable labels in both languages
    for (let i = 1; i < profiles.length; i++) assert.ok(profiles[i - 1]!.size >= profiles[i]!.size);
    for (const p of profiles) {
      assert.match(p.description.en, /^[A-Z].+: .*(average|overall|days)/);
      assert.match(p.description.zh, /[\u4e00-\u9fff]/);
    }
    const one = await store.db.selectFrom('customer_clusters').select('customer_id').limit(1).executeTakeFirstOrThrow();
    const c = await customerCluster(store.db, 1, one.customer_id);
    assert.ok(c?.label?.en);
  });

  it('runs weekly: a daily run within 7 days skips, a full run clusters again', async () => {
    const store = get();
    const inc = await runPipeline(store, { workspaceId: 1, now: new Date(NOW.getTime() + 86_400_000), steps: [clustersStep], mode: 'incremental' });
    // a partial run is never incremental in the pipeline: call the step as the daily run would
    assert.equal(inc.status, 'done');
    const res = await clustersStep.run({
      store, db: store.db, workspaceId: 1, now: new Date(NOW.getTime() + 2 * 86_400_000), since: NOW, previousAsOf: NOW, mode: 'incremental',
      progress: async () => {}, log: () => {},
    });
    assert.match(String(res?.skipped), /days ago/);
    const later = await clustersStep.run({
      store, db: store.db, workspaceId: 1, now: new Date(NOW.getTime() + 9 * 86_400_000), since: NOW, previousAsOf: NOW, mode: 'incremental',
      progress: async () => {}, log: () => {},
    });
    assert.ok(!later?.skipped && Number(later?.k) >= 2);
  });
});
