import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const main = new URL('../main.ts', import.meta.url).pathname;

describe('liuke model on the store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'liuke-churn-'));
  const env = { ...process.env, LIUKE_DATA_DIR: join(dir, 'data'), DATABASE_URL: '' };
  const run = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('scores with the scorecard before any model, trains, lists, shows, activates and scores', () => {
    assert.equal(run('demo', '--customers', '700', '--seed', '4', '--industry', 'retail').status, 0);
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
});
