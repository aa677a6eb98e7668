import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createKey } from '../core/keys/keys.service.ts';
import { forEachStore } from '../db/testing.ts';
import { startTestServer, type TestServer } from './testing.ts';

forEachStore('server shell', (get) => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(get(), { localToken: 'local-token-for-tests-0123456789abcdef' });
  });
  after(() => srv.close());

  it('answers health and readiness without credentials', async () => {
    assert.deepEqual(await (await fetch(`${srv.url}/healthz`)).json(), { ok: true });
    const r = await fetch(`${srv.url}/readyz`);
    assert.equal(r.status, 200);
  });

  it('refuses a protected route without credentials, with the one error shape', async () => {
    const r = await fetch(`${srv.url}/api/status`);
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'unauthorized');
  });

  it('refuses an ingest key on a user route and a wrong key outright', async () => {
    const k = await createKey(get().db, { workspaceId: 1, role: 'ingest' });
    const r = await fetch(`${srv.url}/api/status`, { headers: { authorization: `Bearer ${k.key}` } });
    assert.equal(r.status, 403);
    const bad = await fetch(`${srv.url}/api/status`, { headers: { authorization: 'Bearer lk_ingest_nope' } });
    assert.equal(bad.status, 401);
  });

  it('lets the local CLI token and an admin key read status', async () => {
    const r = await fetch(`${srv.url}/api/status`, { headers: { authorization: 'Bearer local-token-for-tests-0123456789abcdef' } });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { counts: { customers: number }; figuresLost: boolean };
    assert.equal(body.counts.customers, 0);
    assert.equal(body.figuresLost, false);
    const k = await createKey(get().db, { workspaceId: 1, role: 'admin' });
    const r2 = await fetch(`${srv.url}/api/status`, { headers: { authorization: `Bearer ${k.key}` } });
    assert.equal(r2.status, 200);
  });

  it('serves an OpenAPI 3 document', async () => {
    const doc = (await (await fetch(`${srv.url}/api/docs`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.paths['/api/status']);
  });

  it('answers unknown routes with a 404 in the error shape', async () => {
    const r = await fetch(`${srv.url}/nope`);
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'not_found');
  });
});
