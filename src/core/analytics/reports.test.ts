import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createKey } from '../keys/keys.service.ts';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer, type TestServer } from '../../server/testing.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { PIPELINE_STEPS } from '../pipeline/steps.ts';
import { runReport } from '../reports/registry.ts';
import { formatReport } from '../../cli/commands/report.ts';
import { addCustomer, addOrders, daysBefore } from './testing.ts';

const NOW = new Date('2026-06-30T02:00:00Z');

forEachStore('analytics reports', (get) => {
  let srv: TestServer;
  before(async () => {
    const { db } = get();
    await db.updateTable('workspaces').set({ settings: JSON.stringify({ analytics: { rfm: { method: 'breakpoints' } } }) }).execute();
    for (let i = 0; i < 6; i++) {
      await addCustomer(db, `a${i}`);
      await addOrders(db, `a${i}`, Array.from({ length: 12 }, (_, k) => ({ at: daysBefore(NOW, 3 + k * 25), amount: 2500 })));
    }
    for (let i = 0; i < 4; i++) {
      await addCustomer(db, `d${i}`);
      await addOrders(db, `d${i}`, [{ at: daysBefore(NOW, 300), amount: 80 }]);
    }
    await addCustomer(db, 'p0');
    assert.equal((await runPipeline(get(), { workspaceId: 1, now: NOW, steps: PIPELINE_STEPS })).status, 'done');
    srv = await startTestServer(get(), { now: () => NOW });
  });
  after(() => srv?.close());

  it('counts tiers with shares that add up, and a "no purchase" row', async () => {
    const r = await runReport('tiers', { db: get().db, workspaceId: 1, now: NOW, params: {} });
    const by = Object.fromEntries(r.rows.map((x) => [x.tier, x]));
    assert.equal(by.A!.customers, 6);
    assert.equal(by.D!.customers, 4);
    assert.equal(by.none!.customers, 1);
    const share = r.rows.reduce((a, x) => a + (x.share as number), 0);
    assert.ok(Math.abs(share - 1) < 1e-9);
    assert.match(formatReport(r, 'table', 'zh-CN'), /客户价值分层[\s\S]*层级/);
  });

  it('summarises the indicators over all buyers', async () => {
    const r = await runReport('indicators', { db: get().db, workspaceId: 1, now: NOW, params: {} });
    const v = Object.fromEntries(r.rows.map((x) => [x.key, x.value]));
    assert.equal(v.buyers, 10);
    assert.equal(v.aov, (6 * 12 * 2500 + 4 * 80) / (6 * 12 + 4));
    assert.equal(v.repurchase_rate, 0.6);
    assert.equal(v.refund_rate, 0);
  });

  it('shows the lifecycle funnel in stage order', async () => {
    const r = await runReport('lifecycle', { db: get().db, workspaceId: 1, now: NOW, params: {} });
    assert.deepEqual(r.rows.map((x) => x.stage), ['prospect', 'new', 'growing', 'mature', 'at_risk', 'dormant', 'churned']);
    assert.equal(r.rows.find((x) => x.stage === 'churned')!.customers, 4);
    assert.equal(r.rows.find((x) => x.stage === 'mature')!.customers, 6);
  });

  it('serves reports as JSON and as CSV and XLSX downloads, and 404s an unknown one', async () => {
    const k = await createKey(get().db, { workspaceId: 1, role: 'admin' });
    const h = { authorization: `Bearer ${k.key}` };
    const json = (await (await fetch(`${srv.url}/api/reports/segments`, { headers: h })).json()) as { rows: { segment: string }[] };
    assert.ok(json.rows.some((r) => r.segment === 'champions' || r.segment === 'loyal'));
    const csv = await fetch(`${srv.url}/api/reports/tiers?format=csv&lang=zh-CN`, { headers: h });
    assert.equal(csv.status, 200);
    assert.match(await csv.text(), /层级,客户数/);
    const xlsx = await fetch(`${srv.url}/api/reports/rfm?format=xlsx`, { headers: h });
    assert.equal(xlsx.status, 200);
    assert.equal(Buffer.from(await xlsx.arrayBuffer()).subarray(0, 2).toString(), 'PK');
    const missing = await fetch(`${srv.url}/api/reports/nope`, { headers: h });
    assert.equal(missing.status, 404);
  });
});
