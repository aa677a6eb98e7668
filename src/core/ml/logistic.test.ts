import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calibrate, calibrateAll, fitIsotonic, fitPlatt } from './calibration.ts';
import { explainLogistic, fitLogistic, logisticMargin, predictLogistic } from './logistic.ts';
import { brier, rocAuc } from './metrics.ts';
import { logisticData, xorData } from './testdata.ts';

describe('logistic regression', () => {
  it('recovers the true coefficients on the original scale', () => {
    const truth = [1.2, -0.8, 0.05, 0];
    const { x, y } = logisticData(20000, truth, -0.5, 7, [1, 2, 10, 1]);
    const m = fitLogistic(x, y, { l2: 1e-3 });
    for (let j = 0; j < truth.length; j++) assert.ok(Math.abs(m.coef[j]! - truth[j]!) < 0.06 * (j === 2 ? 0.2 : 1), `coef ${j}: ${m.coef[j]}`);
    assert.ok(Math.abs(m.intercept + 0.5) < 0.06, `intercept ${m.intercept}`);
    // the same model, predictions match the original-scale formula
    const p = predictLogistic(m, x);
    const eta = m.intercept + m.coef.reduce((s, c, j) => s + c * x.data[j]!, 0);
    assert.ok(Math.abs(p[0]! - 1 / (1 + Math.exp(-eta))) < 1e-9);
    assert.ok(JSON.parse(JSON.stringify(m)).coef.length === 4);
  });

  it('explanations sum to the log-odds minus the expected value', () => {
    const { x, y } = logisticData(500, [1, -1, 0.5], 0.2, 3);
    const m = fitLogistic(x, y);
    const margin = logisticMargin(m, x);
    const { expected, contributions } = explainLogistic(m, x);
    for (let i = 0; i < 20; i++) {
      let s = expected;
      for (let j = 0; j < 3; j++) s += contributions[i * 3 + j]!;
      assert.ok(Math.abs(s - margin[i]!) < 1e-9);
    }
  });

  it('cannot learn an XOR pattern', () => {
    const { x, y } = xorData(4000, 2);
    const m = fitLogistic(x, y);
    assert.ok(rocAuc(y, predictLogistic(m, x)) < 0.6);
  });
});

describe('calibration', () => {
  it('isotonic regression is the pool-adjacent-violators fit', () => {
    const c = fitIsotonic([1, 2, 3, 4, 5, 6], [0, 1, 0, 1, 1, 0]);
    // PAV: [0] [1,0]→0.5 [1] [1,0]→0.5 then pooling [1, .5] → [0.5,0.5,...]: result 0, .5,.5, 2/3,2/3,2/3
    const fitted = [1, 2, 3, 4, 5, 6].map((s) => calibrate(c, s));
    const want = [0, 0.5, 0.5, 2 / 3, 2 / 3, 2 / 3];
    for (const [i, v] of fitted.entries()) assert.ok(Math.abs(v - want[i]!) < 1e-12, `${i}: ${v}`);
    for (let i = 1; i < fitted.length; i++) assert.ok(fitted[i]! >= fitted[i - 1]!);
  });

  it('Platt scaling repairs over-confident scores', () => {
    const { x, y } = logisticData(5000, [1, 1], 0, 11);
    const m = fitLogistic(x, y);
    const p = predictLogistic(m, x);
    // over-confident: push log-odds three times further out
    const bad = p.map((q) => 1 / (1 + Math.exp(-3 * Math.log(q / (1 - q)))));
    const platt = fitPlatt(bad, y);
    assert.ok(Math.abs(platt.a - 1 / 3) < 0.05, `a = ${platt.a}`);
    assert.ok(brier(y, calibrateAll(platt, bad)) < brier(y, bad));
    assert.ok(brier(y, calibrateAll(fitIsotonic(bad, y), bad)) < brier(y, bad));
  });
});
