import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabelError, parseCsv, parseNumber, readLabel } from './dataset.ts';
import { applyPrep, fitPrep } from './prep.ts';

describe('dataset and preparation', () => {
  const csv = [
    'customerID,plan,tenure,TotalCharges,country,rowno,Churn',
    ...Array.from({ length: 40 }, (_, i) => `C-${i},${['basic', 'pro', 'max'][i % 3]},${i % 20},${i % 7 === 0 ? ' ' : (i * 10.5).toFixed(2)},CN,${i + 1},${i % 4 === 0 ? 'Yes' : 'No'}`),
  ].join('\n');
  const t = parseCsv(csv);

  it('drops id-like and constant columns, imputes blanks with a missing indicator, one-hot encodes categories, and says so', () => {
    const p = fitPrep(t, { exclude: ['Churn'] });
    const text = p.decisions.join('\n');
    assert.match(text, /dropped "customerID": looks like an id/);
    assert.match(text, /dropped "country": constant/);
    assert.match(text, /dropped "rowno": looks like a row number/);
    assert.match(text, /"TotalCharges": 6 blank values filled with the median/);
    assert.deepEqual(
      p.features.map((f) => f.name),
      ['plan = basic', 'plan = max', 'plan = pro', 'tenure', 'TotalCharges', 'TotalCharges is missing'],
    );
    const raw = applyPrep(p, t);
    const imputed = applyPrep(p, t, { impute: true });
    assert.ok(Number.isNaN(raw.data[4]!));
    assert.equal(imputed.data[4], p.columns.find((c) => c.name === 'TotalCharges')!.median);
    assert.equal(imputed.data[5], 1);
    assert.deepEqual(Array.from(imputed.data.subarray(6, 12)), [0, 0, 1, 1, 10.5, 0]);
  });

  it('reads date columns as days, shown as dates in the rules', () => {
    const rows = Array.from({ length: 30 }, (_, i) => [`2024-01-${String(1 + (i % 28)).padStart(2, '0')}`]);
    const p = fitPrep({ columns: ['signup'], rows });
    assert.equal(p.features[0]!.date, true);
    const x = applyPrep(p, { columns: ['signup'], rows: [['2024-01-02'], ['2024/1/3']] });
    assert.deepEqual(Array.from(x.data), [19724, 19725]);
    assert.match(p.decisions.join(), /read as dates/);
  });

  it('knows id names from ordinary words ending in "id"', () => {
    const rows = Array.from({ length: 30 }, (_, i) => [String(i * 7), String(i * 3), String(i * 5), String(i * 11)]);
    const p = fitPrep({ columns: ['amount_paid', 'customer_id', 'userId', 'valid'], rows });
    assert.deepEqual(
      p.columns.filter((c) => c.kind === 'dropped').map((c) => c.name),
      ['customer_id', 'userId'],
    );
  });

  it('pools rare levels into "other" under a cap', () => {
    const rows = Array.from({ length: 200 }, (_, i) => [i < 100 ? 'a' : i < 150 ? 'b' : i < 180 ? 'c' : `rare${i}`]);
    const p = fitPrep({ columns: ['city'], rows }, { maxLevels: 3 });
    assert.deepEqual(
      p.features.map((f) => f.name),
      ['city = a', 'city = b', 'city = other'],
    );
    const x = applyPrep(p, { columns: ['city'], rows: [['c'], ['a'], ['never seen']] });
    assert.deepEqual(Array.from(x.data), [0, 0, 1, 1, 0, 0, 0, 0, 1]);
  });

  it('reads numbers with separators, currency signs and percentages', () => {
    assert.deepEqual(['1,234.5', '¥1,200', '-$3', '12%', '1e3', 'abc', '1.2.3'].map(parseNumber), [1234.5, 1200, -3, 12, 1000, Number.NaN, Number.NaN]);
  });

  it('reads labels: Yes/No, 0/1, a chosen positive, and refuses what it cannot read', () => {
    assert.equal(readLabel(['No', 'Yes', 'No']).positive, 'Yes');
    assert.deepEqual(Array.from(readLabel(['0', '1', '', '1']).y), [0, 1, 1]);
    assert.equal(readLabel(['stay', 'stay', 'gone']).positive, 'gone');
    assert.equal(readLabel(['a', 'b', 'c'], 'c').positive, 'c');
    assert.throws(() => readLabel(['a', 'a']), LabelError);
    assert.throws(() => readLabel(['a', 'b', 'c']), /--positive/);
  });
});
