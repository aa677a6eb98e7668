// liuke model / clv / products / clusters on the store, run as a user would (child processes),
// on an embedded PGlite folder and on a throw-away PostgreSQL database (DATABASE_URL).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTestStore, type TestStore, testStoreKinds } from '../../db/testing.ts';

const main = new URL('../main.ts', import.meta.url).pathname;

for (const kind of testStoreKinds()) {
  describe(`liuke model and predictions on the store [${kind}]`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'liuke-churn-'));
    let pg: TestStore | null = null;
    const env: Record<string, string | undefined> = { ...process.env, LIUKE_DATA_DIR: join(dir, 'data'), DATABASE_URL: '' };
    const run = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env });
    before(async () => {
      if (kind === 'postgres') {
        // A fresh, migrated database the commands reach through DATABASE_URL; dropped afterwards.
        pg = await openTestStore('postgres');
        env.DATABASE_URL = pg.url;
      }
    });
    after(async () => {
      await pg?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('scores with the scorecard before any model, trains, lists, shows, activates and scores', () => {
      const demo = run('demo', '--customers', '700', '--seed', '4', '--industry', 'retail');
      assert.equal(demo.status, 0, demo.stderr);
      const s0 = run('model', 'score');
      assert.equal(s0.status, 0, s0.stderr);
      assert.match(s0.stdout, /no active churn model: risk tiers come from the early-warning scorecard/);
      const t = run('model', 'train', '--cutoffs', '3', '--algorithms', 'logistic,tree');
      assert.equal(t.status, 0, t.stderr);
      assert.match(t.stdout, /recency \(baseline\)/);
      assert.match(t.stdout, /scorecard \(baseline\)/);
      assert.match(t.stdout, /ROC-AUC vs truth/);
      assert.match(t.stdout, /saved as model 1 \(version 1\)/);
      assert.match(run('model', 'list').stdout, /^1\s+1\s+(logistic|tree)/m);
      const show = run('model', 'show', '1', '--lang', 'zh-CN');
      assert.match(show.stdout, /lift by decile/);
      assert.equal(run('model', 'activate', '1').status, 0);
      const s1 = run('model', 'score');
      assert.match(s1.stdout, /customers scored with model version 1/);
      assert.match(run('model', 'train', '--horizon', '3').stderr, /--horizon must be a whole number of days from 7 to 730/);
      assert.match(run('model', 'train', '--algorithms', 'svm').stderr, /--algorithms takes logistic, tree, gbdt/);
    });

    it('backtests CLV on the store and shows the pipeline’s CLV, clusters and product patterns', () => {
      const p = run('pipeline', 'run', '--full');
      assert.equal(p.status, 0, p.stderr);
      const cal = new Date(Date.now() - 180 * 86_400_000).toISOString().slice(0, 10);
      const b = run('clv', 'backtest', '--calibration-end', cal, '--format', 'json');
      assert.equal(b.status, 0, b.stderr);
      const bt = JSON.parse(b.stdout) as { groups: { customers: number }[]; totals: { actual: number; predicted: number } };
      assert.ok(bt.groups.length > 3 && bt.totals.actual > 0 && bt.totals.predicted > 0);
      const c = run('clv', 'show', 'C0000001', '--format', 'json');
      assert.equal(c.status, 0, c.stderr);
      const v = JSON.parse(c.stdout) as { clv: { p_alive: number; clv_12m: number } | null; fit: { model: string } | null };
      assert.ok(v.clv && v.clv.p_alive >= 0 && v.clv.p_alive <= 1 && v.clv.clv_12m >= 0);
      assert.equal(v.fit?.model, 'bgnbd');
      const k = run('clusters', 'show', '--format', 'json');
      assert.equal(k.status, 0, k.stderr);
      assert.ok((JSON.parse(k.stdout) as { k: number }).k >= 2);
      const a = run('products', 'affinities', '--format', 'json');
      assert.equal(a.status, 0, a.stderr);
      assert.ok(Array.isArray(JSON.parse(a.stdout)));
      assert.match(run('clv', 'show', 'NOPE').stderr, /no CLV figures for customer NOPE/);
    });
  });
}
