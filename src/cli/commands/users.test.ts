// The users and privacy commands as a person runs them: a real process over an
// embedded store in a temporary folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, it } from 'node:test';
import { openTestStore, type TestStore, testStoreKinds } from '../../db/testing.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'liuke-users-cli-'));
// A PostgreSQL test database when there is one (each process starts in
// milliseconds); otherwise an embedded store in a temporary folder.
let pgStore: TestStore | null = null;
before(async () => {
  if (testStoreKinds().includes('postgres')) pgStore = await openTestStore('postgres');
});
after(async () => {
  await pgStore?.close();
  rmSync(dir, { recursive: true, force: true });
});

function liuke(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    env: { ...process.env, LIUKE_DATA_DIR: join(dir, 'data'), DATABASE_URL: pgStore?.url ?? '' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

it('creates an admin with a one-time password, lists and disables users, and explains mistakes', () => {
  const c = liuke('users', 'create', '--email', 'boss@example.com', '--role', 'admin');
  assert.equal(c.code, 0, c.err);
  assert.match(c.out.trim(), /^[A-Za-z0-9]{16}$/, 'stdout is just the one-time password');
  assert.match(c.err, /shown once/);
  assert.equal(liuke('users', 'create', '--email', 'v@example.com', '--role', 'viewer', '--password', 'long-enough-1').code, 0);
  const dup = liuke('users', 'create', '--email', 'BOSS@example.com', '--role', 'viewer');
  assert.equal(dup.code, 1);
  assert.match(dup.err, /already exists/);
  assert.doesNotMatch(dup.err, /at .*\.ts:\d+/, 'no stack trace');
  const badRole = liuke('users', 'create', '--email', 'x@example.com', '--role', 'boss');
  assert.match(badRole.err, /--role must be one of admin, operator, analyst, agent, viewer/);
  assert.equal(liuke('users', 'disable', 'v@example.com').code, 0);
  const list = liuke('users', 'list');
  assert.match(list.out, /boss@example\.com\tadmin\t\tmust change password/);
  assert.match(list.out, /v@example\.com\tviewer\t\tdisabled/);
  const erase = liuke('privacy', 'erase', '--customer', 'NOPE');
  assert.equal(erase.code, 1);
  assert.match(erase.err, /no customer with id NOPE/);
});
