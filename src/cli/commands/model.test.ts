import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { rng } from '../../core/ml/matrix.ts';
import { UserError } from '../context.ts';
import { registerModel } from './model.ts';

const main = new URL('../main.ts', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [main, 'model', 'train', ...args], { encoding: 'utf8' });

function telcoCsv(n: number): string {
  const r = rng(9);
  const lines = ['customerID,gender,tenure,Contract,MonthlyCharges,TotalCharges,Churn'];
  for (let i = 0; i < n; i++) {
    const tenure = Math.floor(r() * 72);
    const monthly = r() < 0.55;
    const charges = 20 + Math.floor(r() * 100);
    const eta = -1 + (monthly ? 1.5 : -1) - tenure / 25 + (charges > 80 ? 0.7 : 0);
    lines.push(
      [`${7590 + i}-VHVEG`, r() < 0.5 ? 'Male' : 'Female', tenure, monthly ? 'Month-to-month' : 'Two year', charges, tenure === 0 ? ' ' : tenure * charges, r() < 1 / (1 + Math.exp(-eta)) ? 'Yes' : 'No'].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('liuke model train', () => {
  const dir = mkdtempSync(join(tmpdir(), 'liuke-model-'));
  const csv = join(dir, 'telco.csv');
  writeFileSync(csv, telcoCsv(400));

  it('reports CV metrics, the selected model, its drivers and tree rules; saves the model as JSON', () => {
    const save = join(dir, 'model.json');
    const r = run('--csv', csv, '--label', 'Churn', '--cv', '3', '--save', save);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /dropped "customerID": looks like an id/);
    assert.match(r.stdout, /"TotalCharges": \d+ blank values? filled with the median/);
    assert.match(r.stdout, /3-fold stratified cross-validation \(seed 1\)/);
    assert.match(r.stdout, /logistic.*\d\.\d{3} ± \d\.\d{3}/);
    assert.match(r.stdout, /selected: (logistic|tree|gbdt)/);
    assert.match(r.stdout, /If .* then Churn = Yes probability 0\.\d\d \(n = \d+\)/);
    const saved = JSON.parse(readFileSync(save, 'utf8'));
    assert.equal(saved.format, 'liuke-model');
    assert.ok(saved.prep.features.length > 0);
  });

  it('prints JSON', () => {
    const a = run('--csv', csv, '--label', 'Churn', '--cv', '3', '--models', 'logistic,tree', '--format', 'json');
    assert.equal(a.status, 0, a.stderr);
    const ra = JSON.parse(a.stdout);
    assert.deepEqual(
      ra.cv.map((c: { kind: string }) => c.kind),
      ['logistic', 'tree'],
    );
    assert.equal(ra.label.positive, 'Yes');
  });

  it('fails with a message a user can act on', async () => {
    // in-process: no child process per case
    const fail = async (...args: string[]) => {
      const program = new Command('liuke').exitOverride();
      registerModel(program);
      try {
        await program.parseAsync(['model', 'train', ...args], { from: 'user' });
      } catch (e) {
        assert.ok(e instanceof UserError, String(e));
        return e.message;
      }
      assert.fail('expected a UserError');
    };
    assert.match(await fail('--csv', csv, '--label', 'churned'), /no column "churned"; the columns are: customerID, gender, tenure/);
    const small = join(dir, 'small.csv');
    writeFileSync(small, telcoCsv(5));
    assert.match(await fail('--csv', small, '--label', 'Churn'), /at least 10/);
    assert.match(await fail('--csv', csv, '--label', 'Churn', '--models', 'svm'), /--models takes logistic, tree, gbdt/);
    assert.match(await fail('--csv', join(dir, 'nope.csv'), '--label', 'Churn'), /no such file/);
    // and from the command line: a message, exit 1, no stack trace
    const r = run('--csv', csv, '--label', 'churned');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^liuke: there is no column "churned"/);
    assert.doesNotMatch(r.stderr, /at .*\.ts/);
  });
});
