import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { customerMetricsStep, scoringStep } from '../../core/analytics/analytics.steps.ts';
import { createDemoBusiness } from '../../core/demo/demo.service.ts';
import { runPipeline } from '../../core/pipeline/pipeline.ts';
import { clvStep } from '../../core/predictions/clv.step.ts';
import { clustersStep } from '../../core/predictions/clusters.ts';
import { nextProductsStep } from '../../core/predictions/recommend.ts';
import { signInAs } from '../../core/users/users.testing.ts';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer, type TestServer } from '../testing.ts';

// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
type Json = Record<string, any>;
const NOW = new Date('2025-06-30T12:00:00Z');

forEachStore('CLV, products and clusters API', (get) => {
  let srv: TestServer;
  let viewer: string;
  before(async () => {
    const store = get();
    srv = await startTestServer(store, { now: () => NOW });
    viewer = (await signInAs(store.db, srv.url, 'viewer')).cookie;
  });
  after(() => srv.close());
  const call = async (path: string, cookie = viewer): Promise<{ status: number; json: Json }> => {
    const res = await fetch(`${srv.url}${path}`, { headers: cookie ? { cookie } : {} });
    return { status: res.status, json: (await res.json()) as Json };
  };

  it('answers before any run: 404 for the backtest, empty clusters; sign-in required', async () => {
    assert.equal((await call('/api/clv/backtest')).status, 404);
    assert.equal((await call('/api/clusters')).json.k, 0);
    assert.equal((await call('/api/clv/summary', '')).status, 401);
  });

  it('serves what the pipeline computed to any signed-in user', async () => {
    const store = get();
    await createDemoBusiness(store, { customers: 400, seed: 2, industry: 'retail', now: NOW, actor: 'test' });
    const run = await runPipeline(store, { workspaceId: 1, now: NOW, steps: [customerMetricsStep, scoringStep, clvStep, nextProductsStep, clustersStep], mode: 'full' });
    assert.equal(run.status, 'done', run.error);
    const bt = await call('/api/clv/backtest');
    assert.equal(bt.status, 200);
    assert.equal(bt.json.fit.model, 'bgnbd');
    assert.equal(bt.json.backtest.groups.length, 8);
    const sum = await call('/api/clv/summary?top=5');
    assert.equal(sum.json.top.length, 5);
    assert.equal(sum.json.p_alive_histogram.length, 10);
    const id = sum.json.top[0].customer_id;
    const one = await call(`/api/customers/${id}/clv`);
    assert.equal(one.status, 200);
    assert.ok(one.json.clv.clv_12m > 0 && one.json.cluster.cluster >= 1);
    assert.equal((await call('/api/customers/nobody/clv')).status, 404);
    const aff = await call('/api/products/affinities?limit=5&kind=sequence');
    assert.ok(aff.json.items.length > 0 && aff.json.items.every((a: Json) => a.kind === 'sequence'));
    assert.ok(aff.json.repurchase.length > 0);
    const np = await call(`/api/customers/${id}/next-products`);
    assert.equal(np.status, 200);
    assert.ok(Array.isArray(np.json.items));
    const cl = await call('/api/clusters');
    assert.ok(cl.json.k >= 2 && cl.json.profiles.length === cl.json.k);
    assert.equal((await call(`/api/customers/${id}/cluster`)).json.cluster.cluster, one.json.cluster.cluster);
  });
});
