// Table-driven: each route group refuses the roles it should, with 403 and the
// one error shape, before doing anything.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createKey } from '../../core/keys/keys.service.ts';
import { signInAs } from '../../core/users/users.testing.ts';
import type { UserRole } from '../../db/schema.ts';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer, type TestServer } from '../testing.ts';

interface Case {
  group: string;
  method: string;
  path: string;
  body?: unknown;
  refused: (UserRole | 'ingest')[];
  allowed: UserRole[];
}

const NON_ADMIN: UserRole[] = ['operator', 'analyst', 'agent', 'viewer'];
const CASES: Case[] = [
  { group: 'users', method: 'GET', path: '/api/users', refused: [...NON_ADMIN, 'ingest'], allowed: ['admin'] },
  { group: 'users', method: 'POST', path: '/api/users', body: { email: 'x@example.com', role: 'viewer' }, refused: NON_ADMIN, allowed: [] },
  { group: 'users', method: 'PATCH', path: '/api/users/usr_x', body: { name: 'x' }, refused: NON_ADMIN, allowed: [] },
  { group: 'keys', method: 'GET', path: '/api/keys', refused: [...NON_ADMIN, 'ingest'], allowed: ['admin'] },
  { group: 'keys', method: 'POST', path: '/api/keys', body: { role: 'ingest' }, refused: NON_ADMIN, allowed: [] },
  { group: 'keys', method: 'DELETE', path: '/api/keys/key_x', refused: NON_ADMIN, allowed: [] },
  { group: 'audit', method: 'GET', path: '/api/audit', refused: [...NON_ADMIN, 'ingest'], allowed: ['admin'] },
  { group: 'audit', method: 'GET', path: '/api/audit/export?format=csv', refused: NON_ADMIN, allowed: ['admin'] },
  { group: 'privacy', method: 'GET', path: '/api/privacy/customers/C1/export', refused: NON_ADMIN, allowed: [] },
  { group: 'privacy', method: 'POST', path: '/api/privacy/customers/C1/erase', refused: NON_ADMIN, allowed: [] },
  {
    group: 'settings',
    method: 'PUT',
    path: '/api/settings/workspace',
    body: { name: 'x', time_zone: 'Asia/Shanghai', currency: 'CNY', locale: 'zh-CN' },
    refused: NON_ADMIN,
    allowed: [],
  },
  { group: 'settings', method: 'GET', path: '/api/settings/workspace', refused: ['ingest'], allowed: ['admin', 'operator', 'analyst', 'agent', 'viewer'] },
  { group: 'customers', method: 'GET', path: '/api/customers', refused: ['ingest'], allowed: ['admin', 'operator', 'analyst', 'agent', 'viewer'] },
  { group: 'customers', method: 'GET', path: '/api/customers/export', refused: ['ingest'], allowed: ['agent', 'viewer'] },
  { group: 'auth', method: 'GET', path: '/api/auth/me', refused: ['ingest'], allowed: ['viewer', 'agent'] },
];

forEachStore('roles per route group', (get) => {
  let srv: TestServer;
  const creds = new Map<string, Record<string, string>>();
  before(async () => {
    srv = await startTestServer(get());
    for (const role of ['admin', 'operator', 'analyst', 'agent', 'viewer'] as const) {
      creds.set(role, { cookie: (await signInAs(get().db, srv.url, role)).cookie });
    }
    const k = await createKey(get().db, { workspaceId: 1, role: 'ingest' });
    creds.set('ingest', { authorization: `Bearer ${k.key}` });
  });
  after(() => srv.close());

  const send = (c: Case, role: string) =>
    fetch(`${srv.url}${c.path}`, {
      method: c.method,
      headers: { ...creds.get(role), ...(c.body ? { 'content-type': 'application/json' } : {}) },
      ...(c.body ? { body: JSON.stringify(c.body) } : {}),
    });

  for (const c of CASES) {
    it(`${c.group}: ${c.method} ${c.path} refuses ${c.refused.join(', ')}`, async () => {
      for (const role of c.refused) {
        const r = await send(c, role);
        assert.equal(r.status, 403, `${role} should be refused on ${c.method} ${c.path}`);
        const body = (await r.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'forbidden');
        assert.match(body.error.message, new RegExp(`role ${role} may not use`));
      }
      for (const role of c.allowed) {
        const r = await send(c, role);
        assert.equal(r.status, 200, `${role} should be allowed on ${c.method} ${c.path}`);
        await r.arrayBuffer();
      }
      const anon = await fetch(`${srv.url}${c.path}`, { method: c.method, ...(c.body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(c.body) } : {}) });
      assert.equal(anon.status, 401);
    });
  }
});
