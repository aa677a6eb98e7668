import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createUser } from '../../core/users/users.service.ts';
import { signInAs } from '../../core/users/users.testing.ts';
import { forEachStore } from '../../db/testing.ts';
import { startTestServer, type TestServer } from '../testing.ts';

// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
type Json = Record<string, any>;

forEachStore('auth, users, keys, settings, audit API', (get) => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(get());
  });
  after(() => srv.close());

  const call = async (method: string, path: string, cookie?: string, body?: unknown) => {
    const res = await fetch(`${srv.url}${path}`, {
      method,
      headers: { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let json: Json = {};
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, text, headers: res.headers };
  };

  it('signs in with an HttpOnly SameSite=Lax cookie, answers me, and signs out', async () => {
    await createUser(get().db, { workspaceId: 1, email: 'Li.Na@example.com', role: 'analyst', password: 'secret-pass-1', actor: 'test', now: new Date() });
    const bad = await call('POST', '/api/auth/login', undefined, { email: 'li.na@example.com', password: 'wrong-password' });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error.code, 'invalid_credentials');
    const res = await fetch(`${srv.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'li.na@example.com', password: 'secret-pass-1' }),
    });
    assert.equal(res.status, 200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^liuke_session=/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    const body = (await res.json()) as Json;
    assert.equal(body.user.role, 'analyst');
    assert.equal(body.user.password_hash, undefined);
    const cookie = setCookie.split(';')[0]!;
    const me = await call('GET', '/api/auth/me', cookie);
    assert.equal(me.status, 200);
    assert.equal(me.json.user.email, 'Li.Na@example.com');
    assert.equal(me.json.workspace.time_zone, 'Asia/Shanghai');
    const stored = await get().db.selectFrom('sessions').select('id').execute();
    assert.ok(!stored.some((s) => cookie.includes(s.id)), 'the cookie value is not stored');
    assert.equal((await call('POST', '/api/auth/logout', cookie)).status, 200);
    assert.equal((await call('GET', '/api/auth/me', cookie)).status, 401);
  });

  it('refuses the sixth attempt within 15 minutes with 429 and a clear message', async () => {
    await createUser(get().db, { workspaceId: 1, email: 'wang@example.com', role: 'viewer', password: 'right-password', actor: 'test', now: new Date() });
    for (let i = 0; i < 5; i++) {
      assert.equal((await call('POST', '/api/auth/login', undefined, { email: 'wang@example.com', password: `nope-${i}` })).status, 401);
    }
    const r = await call('POST', '/api/auth/login', undefined, { email: 'wang@example.com', password: 'right-password' });
    assert.equal(r.status, 429);
    assert.equal(r.json.error.code, 'rate_limited');
    assert.match(r.json.error.message, /too many failed sign-ins/);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
  });

  it('makes a user with a one-time password change it before anything else', async () => {
    const admin = await signInAs(get().db, srv.url, 'admin');
    const created = await call('POST', '/api/users', admin.cookie, { email: 'new@example.com', role: 'operator' });
    assert.equal(created.status, 201);
    const otp = created.json.one_time_password as string;
    assert.equal(otp.length, 16);
    assert.equal(created.json.user.must_change_password, true);
    const login = await fetch(`${srv.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'new@example.com', password: otp }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const blocked = await call('GET', '/api/settings/workspace', cookie);
    assert.equal(blocked.status, 403);
    assert.equal(blocked.json.error.code, 'password_change_required');
    assert.equal((await call('POST', '/api/auth/password', cookie, { current: 'wrong', next: 'a-new-password' })).status, 400);
    assert.equal((await call('POST', '/api/auth/password', cookie, { current: otp, next: 'a-new-password' })).status, 200);
    assert.equal((await call('GET', '/api/settings/workspace', cookie)).status, 200);
  });

  it('lets an admin change and disable users, never the last admin, and audits it', async () => {
    const admin = await signInAs(get().db, srv.url, 'admin');
    const victim = await signInAs(get().db, srv.url, 'agent');
    const r = await call('PATCH', `/api/users/${victim.id}`, admin.cookie, { role: 'viewer', locale: 'en' });
    assert.equal(r.status, 200);
    assert.equal(r.json.user.role, 'viewer');
    assert.equal((await call('PATCH', `/api/users/${victim.id}`, admin.cookie, { disabled: true })).status, 200);
    assert.equal((await call('GET', '/api/auth/me', victim.cookie)).status, 401, 'a disabled user is signed out');
    assert.equal((await call('PATCH', '/api/users/usr_nope', admin.cookie, { name: 'x' })).status, 404);
    assert.equal((await call('PATCH', `/api/users/${admin.id}`, admin.cookie, { disabled: true })).status, 400);
    const list = await call('GET', '/api/users', admin.cookie);
    assert.ok(list.json.items.length >= 2);
    assert.ok(!list.text.includes('argon2'), 'no password hashes leave the server');
    const audit = await call('GET', `/api/audit?entity=user&entity_id=${victim.id}`, admin.cookie);
    assert.deepEqual(
      audit.json.items.map((i: Json) => i.action),
      ['disable', 'update', 'create'],
    );
    assert.equal(audit.json.items[1].before.role, 'agent');
    assert.equal(audit.json.items[1].after.role, 'viewer');
  });

  it('refuses to demote the last active admin', async () => {
    await get().db.updateTable('users').set({ disabled_at: new Date() }).where('role', '=', 'admin').execute();
    const admin = await signInAs(get().db, srv.url, 'admin');
    const r = await call('PATCH', `/api/users/${admin.id}`, admin.cookie, { role: 'viewer' });
    assert.equal(r.status, 409);
    assert.match(r.json.error.message, /last active admin/);
  });

  it('creates keys shown once, lists them without the secret, revokes them, all audited', async () => {
    const admin = await signInAs(get().db, srv.url, 'admin');
    const c = await call('POST', '/api/keys', admin.cookie, { role: 'ingest', name: 'website' });
    assert.equal(c.status, 201);
    assert.match(c.json.key, /^lk_ingest_/);
    const list = await call('GET', '/api/keys', admin.cookie);
    assert.ok(!list.text.includes(c.json.key));
    assert.equal((await call('DELETE', `/api/keys/${c.json.id}`, admin.cookie)).status, 200);
    assert.equal((await call('DELETE', `/api/keys/${c.json.id}`, admin.cookie)).status, 404);
    const audit = await call('GET', `/api/audit?entity=api_key&entity_id=${c.json.id}`, admin.cookie);
    assert.deepEqual(audit.json.items.map((i: Json) => i.action), ['revoke', 'create']);
  });

  it('validates and audits workspace settings', async () => {
    const admin = await signInAs(get().db, srv.url, 'admin');
    const bad = await call('PUT', '/api/settings/workspace', admin.cookie, { name: 'Shop', time_zone: 'Mars/Olympus', currency: 'CNY', locale: 'en' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.field, 'time_zone');
    const ok = await call('PUT', '/api/settings/workspace', admin.cookie, { name: '小店', time_zone: 'Europe/Berlin', currency: 'EUR', locale: 'en' });
    assert.equal(ok.status, 200);
    assert.equal((await call('GET', '/api/settings/workspace', admin.cookie)).json.time_zone, 'Europe/Berlin');
    const audit = await call('GET', '/api/audit?entity=settings', admin.cookie);
    assert.equal(audit.json.items[0].before.time_zone, 'Asia/Shanghai');
    assert.equal(audit.json.items[0].after.name, '小店');
  });

  it('exports the audit log as CSV and XLSX for admins', async () => {
    const admin = await signInAs(get().db, srv.url, 'admin');
    const csv = await call('GET', '/api/audit/export?format=csv&entity=user', admin.cookie);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition') ?? '', /audit-log\.csv/);
    assert.match(csv.text, /id,at,actor,action,entity,entity_id,before,after/);
    assert.match(csv.text, /,create,user,/);
    const x = await fetch(`${srv.url}/api/audit/export?format=xlsx`, { headers: { cookie: admin.cookie } });
    assert.equal(x.status, 200);
    const bytes = Buffer.from(await x.arrayBuffer());
    assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  });

  it('serves the Swagger UI beside the JSON document', async () => {
    const r = await fetch(`${srv.url}/api/docs/ui/`);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /swagger/i);
    const doc = (await (await fetch(`${srv.url}/api/docs`)).json()) as Json;
    assert.ok(doc.paths['/api/auth/login']);
  });
});
