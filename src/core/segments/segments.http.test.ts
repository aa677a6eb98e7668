// The segments API end to end on a real server (local admin token).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer } from '../../server/testing.ts';
import { evaluateAll } from './segments.service.ts';
import { NOW, Seeder } from './testing.ts';

forEachStore('segments API', (get) => {
  it('validates with positions, previews, saves, lists members, exports, history and customer tags', async () => {
    const store = get();
    const s = new Seeder(store.db, 1);
    await s.customer('h1');
    await s.order('h1', new Date('2025-06-10T10:00:00Z'), 12_000);
    const srv = await startTestServer(store, { localToken: 'tok', now: () => NOW });
    const h = { authorization: 'Bearer tok', 'content-type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${srv.url}${path}`, body ? { method, headers: h, body: JSON.stringify(body) } : { method, headers: { authorization: h.authorization } });
      const text = await r.text();
      return { status: r.status, text, json: text.startsWith('{') ? JSON.parse(text) : null };
    };
    try {
      const bad = await call('POST', '/api/segments/validate', { rule: 'tier = "D" and\n tierr = "C"' });
      assert.deepEqual(bad.json.errors[0], { message: 'unknown field "tierr" — did you mean "tier"?', path: '$.and[1].left.field', line: 2, column: 2, offset: 16, length: 5 });
      const created = await call('POST', '/api/segments', { name: 'Big this month', rule: 'orders.sum(amount, this month) > 10000', kind: 'tag' });
      assert.equal(created.status, 201, created.text);
      const invalid = await call('POST', '/api/segments', { name: 'x', rule: { left: { field: 'tierr' }, op: '=', value: 'D' } });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.json.error.code, 'invalid_rule');
      const preview = await call('POST', '/api/segments/preview', { rule: created.json.rule });
      assert.equal(preview.json.count, 1);
      await evaluateAll(store.db, 1, NOW);
      const id = created.json.id;
      const members = await call('GET', `/api/segments/${id}/members?page=1`);
      assert.deepEqual(members.json.items.map((m: { id: string }) => m.id), ['h1']);
      const csv = await call('GET', `/api/segments/${id}/members/export?format=csv`);
      assert.match(csv.text, /id,name,tier,lifecycle_stage,spend_total,orders_total,since\r?\nh1,/);
      const hist = await call('GET', `/api/segments/${id}/history`);
      assert.deepEqual(hist.json.items.map((x: { change: string }) => x.change), ['entered']);
      const tags = await call('GET', '/api/customers/h1/tags');
      assert.ok(tags.json.items.some((t: { id: string }) => t.id === id));
      assert.equal((await call('DELETE', '/api/segments/price_sensitive')).status, 409);
      assert.equal((await call('PUT', `/api/segments/${id}`, { enabled: false })).json.enabled, false);
      assert.equal((await call('DELETE', `/api/segments/${id}`)).status, 204);
      assert.equal((await call('GET', `/api/segments/${id}`)).status, 404);
    } finally {
      await srv.close();
    }
  });
});
