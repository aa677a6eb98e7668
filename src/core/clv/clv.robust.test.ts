// Sparse and degenerate inputs: the fits return finite parameters (with warnings when the
// data cannot identify them) and finite predictions, never NaN.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backtestPredictions } from './backtest.ts';
import { bgnbdConditionalExpected, bgnbdExpected, bgnbdProbabilityAlive, fitBgNbd } from './bgnbd.ts';
import { historicalClv, predictedClv } from './clv.ts';
import { fitGammaGamma } from './gammagamma.ts';
import { fitParetoNbd, paretoConditionalExpected, paretoProbabilityAlive } from './paretonbd.ts';
import { summarize } from './summary.ts';
import type { RfmData } from './types.ts';

const rfm = (rows: [number, number, number][]): RfmData => ({
  frequency: Float64Array.from(rows.map((r) => r[0])),
  recency: Float64Array.from(rows.map((r) => r[1])),
  T: Float64Array.from(rows.map((r) => r[2])),
});

function finiteParams(p: object, what: string): void {
  for (const [k, v] of Object.entries(p)) assert.ok(Number.isFinite(v) && v > 0, `${what}: ${k} = ${v}`);
}

const cases: [string, RfmData][] = [
  ['everyone bought once (all-zero frequency)', rfm(Array.from({ length: 200 }, (_, i) => [0, 0, 10 + (i % 30)]))],
  ['a single customer with repeat purchases', rfm([[3, 20, 30]])],
  ['a single one-off customer', rfm([[0, 0, 30]])],
  ['huge T', rfm([[0, 0, 1e6], [2, 5e5, 1e6], [1, 10, 1e6], [0, 0, 9e5]])],
  ['one repeat buyer among many one-off customers', rfm([...Array.from({ length: 500 }, (): [number, number, number] => [0, 0, 52]), [1, 3, 52]])],
  ['a heavy buyer who bought on the last day', rfm([[300, 52, 52], [0, 0, 52], [1, 2, 52]])],
];

describe('fits on sparse data', () => {
  for (const [name, data] of cases) {
    it(`BG/NBD and Pareto/NBD stay finite: ${name}`, () => {
      const b = fitBgNbd(data);
      finiteParams(b.params, 'BG/NBD');
      assert.ok(Number.isFinite(b.logLikelihood));
      const p = fitParetoNbd(data);
      finiteParams(p.params, 'Pareto/NBD');
      assert.ok(Number.isFinite(p.logLikelihood));
      for (let i = 0; i < data.frequency.length; i++) {
        const x = data.frequency[i]!;
        const tx = data.recency[i]!;
        const T = data.T[i]!;
        for (const v of [
          bgnbdConditionalExpected(b.params, 52, x, tx, T),
          bgnbdProbabilityAlive(b.params, x, tx, T),
          paretoConditionalExpected(p.params, 52, x, tx, T),
          paretoProbabilityAlive(p.params, x, tx, T),
        ]) {
          assert.ok(Number.isFinite(v) && v >= 0, `prediction ${v} for (${x}, ${tx}, ${T})`);
        }
      }
      assert.ok(Number.isFinite(bgnbdExpected(b.params, 52)));
    });
  }
  it('warns when the likelihood cannot identify the parameters', () => {
    const b = fitBgNbd(cases[0]![1]);
    assert.ok(b.warnings.length > 0, 'a warning for all-zero frequency');
    assert.ok(b.warnings.some((w) => /flat|edge|not identified/.test(w)));
  });
  it('Gamma-Gamma with no repeat customers or a single one', () => {
    const none = fitGammaGamma({ frequency: new Float64Array([0, 0]), monetary: new Float64Array([0, 0]) });
    assert.equal(none.customers, 0);
    assert.ok(none.warnings.length > 0);
    const one = fitGammaGamma({ frequency: new Float64Array([2]), monetary: new Float64Array([30]) });
    finiteParams(one.params, 'Gamma-Gamma');
  });
  it('rejects impossible rows with the row number', () => {
    assert.throws(() => fitBgNbd(rfm([[1, 5, 3]])), /row 0/);
    assert.throws(() => fitBgNbd(rfm([])), /no customers/);
  });
});

describe('summary, backtest and CLV on a small hand-made example', () => {
  const tx = [
    { c: 'a', d: '2024-01-01', v: 10 },
    { c: 'a', d: '2024-01-01', v: 5 },
    { c: 'a', d: '2024-01-15', v: 20 },
    { c: 'a', d: '2024-02-12', v: 40 },
    { c: 'a', d: '2024-03-05', v: 7 },
    { c: 'b', d: '2024-01-29', v: 8 },
    { c: 'c', d: '2024-03-01', v: 9 },
  ];
  const s = summarize(tx, { calibrationEnd: '2024-02-26', observationEnd: '2024-03-25', timeUnit: 'weeks', customerIdField: 'c', dateField: 'd', amountField: 'v' });
  it('counts repeat purchase days, recency, T, monetary and the holdout', () => {
    assert.deepEqual(s.ids, ['a', 'b']);
    assert.deepEqual([...s.frequency], [2, 0]);
    assert.deepEqual([...s.recency], [6, 0]);
    assert.deepEqual([...s.T], [8, 4]);
    assert.deepEqual([...s.monetary], [30, 0]);
    assert.deepEqual([...s.totalSpend], [75, 8]);
    assert.equal(s.holdout?.duration, 4);
    assert.deepEqual([...s.holdout!.frequency], [1, 0]);
  });
  it('backtests and values customers without NaN', () => {
    const fit = fitBgNbd(s);
    const bt = backtestPredictions(s, { model: 'bgnbd', params: fit.params });
    assert.equal(bt.groups.length, 8);
    assert.equal(bt.totals.actual, 1);
    assert.ok(Number.isFinite(bt.meanAbsoluteError));
    const clv = predictedClv({ model: 'bgnbd', params: fit.params }, { p: 6, q: 4, gamma: 15 }, s, { horizonMonths: 12, monthlyDiscountRate: 0.01, margin: 0.3, timeUnit: 'weeks' });
    for (const v of clv) assert.ok(Number.isFinite(v) && v >= 0);
    assert.deepEqual([...historicalClv(s.totalSpend, 0.5)], [37.5, 4]);
  });
  it('reports unreadable dates and amounts with the transaction number', () => {
    assert.throws(() => summarize([{ c: 'a', d: '2024-02-30', v: 1 }], { calibrationEnd: '2024-03-01', customerIdField: 'c', dateField: 'd' }), /transaction 1: d/);
    assert.throws(() => summarize([{ c: 'a', d: '2024-02-01', v: 'x' }], { calibrationEnd: '2024-03-01', customerIdField: 'c', dateField: 'd', amountField: 'v' }), /transaction 1: v "x" is not a number/);
  });
});
