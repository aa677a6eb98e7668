import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { webRoutesFor } from './web.routes.ts';

const page = { accept: 'text/html,application/xhtml+xml' };

describe('web app routes', () => {
  let dir: string;
  let app: FastifyInstance;
  let bare: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'liuke-web-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'favicon.svg'), '<svg/>');
    app = Fastify();
    await app.register(webRoutesFor(dir));
    bare = Fastify();
    await bare.register(webRoutesFor(path.join(dir, 'missing')));
  });
  after(async () => {
    await app.close();
    await bare.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the app shell for a deep link a browser asks for', async () => {
    const r = await app.inject({ url: '/customers/c1?x=1', headers: page });
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /id="root"/);
    assert.equal(r.headers['cache-control'], 'no-cache');
  });

  it('serves built files, hashed assets cached for good', async () => {
    const r = await app.inject({ url: '/assets/app-abc123.js' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['cache-control']), /immutable/);
    assert.equal((await app.inject({ url: '/favicon.svg' })).statusCode, 200);
  });

  it('never answers an API path with the app', async () => {
    for (const url of ['/api/nope', '/v1/nope', '/api']) {
      const r = await app.inject({ url, headers: page });
      assert.equal(r.statusCode, 404, url);
      assert.equal(r.json().error.code, 'not_found');
    }
  });

  it('answers a non-browser request for an unknown path with the API 404', async () => {
    const r = await app.inject({ url: '/nope' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().error.code, 'not_found');
  });

  it('does not serve files outside the build', async () => {
    const r = await app.inject({ url: '/..%2f..%2fetc%2fpasswd', headers: page });
    assert.doesNotMatch(r.body, /root:/);
  });

  it('explains how to build when web/dist is missing', async () => {
    const r = await bare.inject({ url: '/', headers: page });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm run build/);
  });
});
