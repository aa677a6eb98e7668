// liuke clv fit, run as a user would: a child process on the CDNOW files and on broken files.
import { sharedDataDir } from '../../shared/testdata.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const MAIN = new URL('../main.ts', import.meta.url).pathname;
const DATA = `${sharedDataDir()}/cdnow`;
const dir = mkdtempSync(join(tmpdir(), 'liuke-clv-'));

function liuke(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('liuke clv fit', () => {
  it('fits BG/NBD on the CDNOW summary and prints the published estimates', () => {
    const r = liuke('clv', 'fit', '--summary', `${DATA}/cdnow_customers_summary.csv`, '--model', 'bgnbd');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /2,357 customers/);
    assert.match(r.out, /^r\s+0\.24259/m);
    assert.match(r.out, /^log-likelihood\s+-9582\.43/m);
  });
  it('reads the x/t_x/T/zbar spellings and prints JSON', () => {
    const r = liuke('clv', 'fit', '--summary', `${DATA}/cdnow_customers_summary_with_transactions.csv`, '--model', 'gamma-gamma', '--format', 'json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.fits[0].customers, 946);
    assert.ok(Math.abs(j.fits[0].logLikelihood + 4055.92) < 0.01);
    const p = liuke('clv', 'fit', '--summary', `${DATA}/cdnow_customers_summary_with_transactions.csv`, '--model', 'pareto-nbd', '--format', 'json');
    assert.equal(p.code, 0, p.err);
    assert.ok(Math.abs(JSON.parse(p.out).fits[0].logLikelihood + 9594.98) < 0.01);
  });
  it('fits from raw transactions and backtests on a holdout', () => {
    const r = liuke('clv', 'fit', '--transactions', `${DATA}/cdnow_sample_daily.csv`, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30',
      '--customer-col', 'Id', '--date-col', 'Date', '--amount-col', 'Price', '--format', 'json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.fits[0].model, 'bgnbd');
    assert.ok(Math.abs(j.fits[0].params.r - 0.2426) < 0.0005);
    assert.equal(j.fits[1].model, 'gamma-gamma');
    assert.equal(j.backtest.groups.length, 8);
    assert.equal(j.backtest.totals.customers, 2357);
    assert.ok(j.clv.total > 0);
    const t = liuke('clv', 'fit', '--transactions', `${DATA}/cdnow_sample_daily.csv`, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30',
      '--customer-col', 'Id', '--date-col', 'Date');
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /holdout backtest \(bgnbd, 39 weeks\)/);
    assert.match(t.out, /^7\+\s+64\s+6\.35938/m);
  });
  it('explains bad files with the column or row at fault', () => {
    const missing = liuke('clv', 'fit', '--summary', file('a.csv', 'id,frequency,T\n1,2,30\n'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /has no recency column/);
    assert.doesNotMatch(missing.err, /at .*\.ts/);
    const bad = liuke('clv', 'fit', '--summary', file('b.csv', 'x,t_x,T\n1,2,30\n2,abc,30\n'));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /row 3: t_x "abc" is not a non-negative number/);
    const order = liuke('clv', 'fit', '--summary', file('c.csv', 'x,t_x,T\n1,40,30\n'));
    assert.match(order.err, /row 2: recency 40 is after T 30/);
    const nofile = liuke('clv', 'fit', '--summary', join(dir, 'nope.csv'));
    assert.match(nofile.err, /cannot read .*nope\.csv: no such file/);
    const date = liuke('clv', 'fit', '--transactions', file('d.csv', 'customer_id,date\n1,2024-01-01\n1,yesterday\n'), '--calibration-end', '2024-02-01');
    assert.match(date.err, /row 3: date "yesterday" is not a date/);
    const model = liuke('clv', 'fit', '--summary', `${DATA}/cdnow_customers_summary.csv`, '--model', 'xgb');
    assert.match(model.err, /--model must be one of bgnbd, pareto-nbd, gamma-gamma/);
  });
});
