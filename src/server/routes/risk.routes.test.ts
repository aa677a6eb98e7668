import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { scoreAll } from '../../core/churn/scoring.ts';
import { trainChurn } from '../../core/churn/training.ts';
import { createDemoBusiness } from '../../core/demo/demo.service.ts';
import { signInAs } from '../../core/users/users.testing.ts';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer, type TestServer } from '../testing.ts';

const NOW = new Date('2025-06-30T12:00:00Z');

forEachStore('churn risk and model routes', (get) => {
  let srv: TestServer;
  const cookie = new Map<string, string>();
  let modelId = 0;
  before(async () => {
    const store = get();
    await createDemoBusiness(store, { customers: 600, seed: 8, industry: 'retail', now: NOW, actor: 'test' });
    const t = await trainChurn(store.db, { workspaceId: 1, now: NOW, actor: 'test', cutoffs: 3, algorithms: ['logistic', 'tree'], activate: false });
    modelId = t.modelId;
    await store.db.updateTable('customers').set({ owner: 'csm-li' }).where('id', 'in', ['C0000001', 'C0000002', 'C0000003']).execute();
    srv = await startTestServer(store, { now: () => NOW });
    for (const role of ['admin', 'analyst', 'agent', 'viewer', 'operator'] as const) cookie.set(role, (await signInAs(store.db, srv.url, role)).cookie);
  });
  after(() => srv.close());

  const call = (path: string, role: string, init: RequestInit = {}) => fetch(`${srv.url}${path}`, { ...init, headers: { cookie: cookie.get(role)!, ...(init.body ? { 'content-type': 'application/json' } : {}) } });

  it('lists models for everyone; shows metrics, lift, calibration, importance and rules; only analyst/admin activate and train', async () => {
    const list = (await (await call('/api/models', 'viewer')).json()) as { models: { id: number; active: boolean; selected: { rocAuc: number } }[] };
    assert.equal(list.models.length, 1);
    assert.equal(list.models[0]!.active, false);
    const one = (await (await call(`/api/models/${modelId}?lang=en`, 'agent')).json()) as { metrics: { lift: unknown[]; calibration: unknown[]; importance: object; baselines: unknown[] }; rules: { text: string }[] | null; features: unknown[] };
    assert.equal(one.metrics.lift.length, 10);
    assert.equal(one.metrics.calibration.length, 10);
    assert.equal(one.metrics.baselines.length, 2);
    assert.ok(one.features.length >= 30);
    assert.ok(one.rules === null || one.rules[0]!.text.startsWith('If'));
    assert.equal((await call(`/api/models/${modelId}/activate`, 'operator', { method: 'POST' })).status, 403);
    assert.equal((await call('/api/models/train', 'viewer', { method: 'POST', body: '{}' })).status, 403);
    assert.equal((await call(`/api/models/${modelId}/activate`, 'analyst', { method: 'POST' })).status, 200);
    const audit = await get().db.selectFrom('audit_log').select(['action', 'actor']).where('entity', '=', 'model').where('action', '=', 'activate').execute();
    assert.ok(audit.some((a) => a.actor.startsWith('user:analyst')));
    const job = await call('/api/models/train', 'admin', { method: 'POST', body: JSON.stringify({ cutoffs: 3, algorithms: ['logistic'] }) });
    assert.equal(job.status, 202);
    const jobs = await get().db.selectFrom('jobs').select('task').execute();
    assert.ok(jobs.some((j) => j.task === 'model.train'));
    assert.equal((await call('/api/models/99999', 'viewer')).status, 404);
  });

  it('serves the Risk list with drivers in the caller language, filters, masked contact data, export and one customer', async () => {
    await get().db.updateTable('workspaces').set({ settings: JSON.stringify({ churn: { explainTop: 10 } }) }).where('id', '=', 1).execute();
    await scoreAll(get().db, 1, NOW);
    const r = (await (await call('/api/risk?lang=zh-CN&page_size=5', 'agent')).json()) as { total: number; items: { customer_id: string; probability: number; tier: string; phone: string; drivers: string[] }[] };
    assert.ok(r.total > 300);
    assert.equal(r.items.length, 5);
    assert.ok(r.items[0]!.probability >= r.items[4]!.probability);
    assert.match(r.items[0]!.drivers[0] ?? '', /[\u4e00-\u9fff]/);
    assert.match(r.items[0]!.phone, /\*/);
    const en = (await (await call('/api/risk?lang=en&tier=high&page_size=3', 'admin')).json()) as { items: { tier: string; phone: string; drivers: string[] }[] };
    assert.ok(en.items.every((x) => x.tier === 'high'));
    assert.doesNotMatch(en.items[0]!.phone, /\*/);
    assert.doesNotMatch(en.items[0]!.drivers.join(' '), /[\u4e00-\u9fff]/);
    const owned = (await (await call('/api/risk?owner=csm-li&min_probability=0', 'viewer')).json()) as { total: number };
    assert.ok(owned.total <= 3);
    const csv = await call('/api/risk/export?format=csv&tier=high', 'viewer');
    assert.equal(csv.status, 200);
    const text = await csv.text();
    assert.match(text.split('\n')[0]!, /customer_id,name,phone,email,owner,probability,tier/);
    // the lowest-risk customer has no stored drivers: they are computed on demand
    const low = (await (await call(`/api/risk?sort=probability&page_size=1&page=${r.total}&lang=en`, 'viewer')).json()) as { items: { customer_id: string; drivers: string[] }[] };
    assert.ok(low.items[0]!.drivers.length > 0, 'drivers computed for a page beyond explainTop');
    const one = (await (await call(`/api/customers/${low.items[0]!.customer_id}/risk?lang=en`, 'viewer')).json()) as { scored: boolean; tier: string; tier_source: string; drivers: { text: string; direction: string }[]; scorecard: { points: number } };
    assert.equal(one.scored, true);
    assert.equal(one.tier_source, 'model');
    assert.ok(one.drivers.length > 0 && one.drivers[0]!.text.length > 0);
    assert.equal((await call('/api/customers/NOPE/risk', 'viewer')).status, 404);
  });
});
