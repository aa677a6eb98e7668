import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createKey } from '../../core/keys/keys.service.ts';
import { addCustomers, addOrders, fullCustomer, NOW } from '../../core/quality/testing.ts';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer, type TestServer } from '../testing.ts';

forEachStore('data-quality routes', (get) => {
  let srv: TestServer;
  let admin: string;
  let ingest: string;
  before(async () => {
    srv = await startTestServer(get(), { now: () => NOW });
    admin = (await createKey(get().db, { workspaceId: 1, role: 'admin' })).key;
    ingest = (await createKey(get().db, { workspaceId: 1, role: 'ingest' })).key;
    await addCustomers(get().db, 1, [
      fullCustomer('a', { email: 'same@example.com' }),
      fullCustomer('b', { email: 'SAME@example.com', name: null }),
    ]);
    await addOrders(get().db, 1, [{ id: 'ob', customer_id: 'b' }]);
  });
  after(() => srv.close());

  const call = (path: string, key: string, init: RequestInit = {}) =>
    fetch(`${srv.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });

  it('serves the report to an admin, in Chinese on request, and refuses an ingest key', async () => {
    const r = await call('/api/data-quality', admin);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { duplicates: { email: { groups: number } }; findings: { code: string; message: string }[] };
    assert.equal(body.duplicates.email.groups, 1);
    assert.ok(body.findings.some((f) => f.code === 'duplicate_email'));
    const zh = (await (await call('/api/data-quality?locale=zh-CN', admin)).json()) as { findings: { message: string }[] };
    assert.match(zh.findings[0]?.message ?? '', /[\u4e00-\u9fff]/);
    assert.equal((await call('/api/data-quality', ingest)).status, 403);
  });

  it('merges customers with the caller in the audit log, and answers bad merges in the error shape', async () => {
    const self = await call('/api/customers/merge', admin, { method: 'POST', body: JSON.stringify({ into: 'a', from: ['a'] }) });
    assert.equal(self.status, 400);
    assert.equal(((await self.json()) as { error: { code: string } }).error.code, 'self');
    const unknown = await call('/api/customers/merge', admin, { method: 'POST', body: JSON.stringify({ into: 'zz', from: ['a'] }) });
    assert.equal(unknown.status, 404);
    assert.equal((await call('/api/customers/merge', ingest, { method: 'POST', body: JSON.stringify({ into: 'a', from: ['b'] }) })).status, 403);

    const ok = await call('/api/customers/merge', admin, { method: 'POST', body: JSON.stringify({ into: 'a', from: ['b'] }) });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { moved: { orders: number } }).moved.orders, 1);
    const audit = await get().db.selectFrom('audit_log').selectAll().where('action', '=', 'merge').executeTakeFirstOrThrow();
    assert.match(audit.actor, /^key:key_/);
    assert.equal(audit.entity_id, 'a');

    const again = await call('/api/customers/merge', admin, { method: 'POST', body: JSON.stringify({ into: 'b', from: ['a'] }) });
    assert.equal(again.status, 409);
    const report = (await (await call('/api/data-quality', admin)).json()) as { counts: { customers: number; merged: number } };
    assert.deepEqual([report.counts.customers, report.counts.merged], [1, 1]);
  });
});
