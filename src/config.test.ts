import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

it('reads defaults for the session settings', () => {
  const c = loadConfig({});
  assert.equal(c.LIUKE_SESSION_TTL_HOURS, 168);
  assert.equal(c.LIUKE_COOKIE_SECURE, 'auto');
  assert.equal(loadConfig({ LIUKE_SESSION_TTL_HOURS: '12' }).LIUKE_SESSION_TTL_HOURS, 12);
});

it('fails on a bad variable with a message naming it', () => {
  assert.throws(() => loadConfig({ LIUKE_SESSION_TTL_HOURS: 'soon' }), (e: Error) => e instanceof ConfigError && /LIUKE_SESSION_TTL_HOURS/.test(e.message));
  assert.throws(() => loadConfig({ LIUKE_COOKIE_SECURE: 'yes' }), (e: Error) => e instanceof ConfigError && /LIUKE_COOKIE_SECURE/.test(e.message));
  assert.throws(() => loadConfig({ LIUKE_PORT: '99999' }), /LIUKE_PORT/);
  assert.throws(() => loadConfig({ LIUKE_ANALYTICS_SHARDS: '0' }), /LIUKE_ANALYTICS_SHARDS/);
  assert.throws(() => loadConfig({ LIUKE_ANALYTICS_SHARDS: 'two' }), /LIUKE_ANALYTICS_SHARDS/);
  assert.equal(loadConfig({ LIUKE_ANALYTICS_SHARDS: '4' }).LIUKE_ANALYTICS_SHARDS, 4);
});
