import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atThreshold, averagePrecision, brier, calibrationTable, liftTable, logLoss, rocAuc } from './metrics.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

describe('metrics', () => {
  it('ROC-AUC equals the Mann–Whitney U over all positive/negative pairs, ties counting one half', () => {
    const y = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0];
    const p = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.9, 0.1, 0.05];
    let u = 0;
    let pairs = 0;
    for (let i = 0; i < y.length; i++)
      for (let j = 0; j < y.length; j++)
        if (y[i] === 1 && y[j] === 0) {
          pairs++;
          u += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
        }
    close(rocAuc(y, p), u / pairs);
    // sklearn's classic example: roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75
    close(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
    close(rocAuc([0, 1], [0.5, 0.5]), 0.5);
    assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
  });

  it('average precision matches hand-computed values', () => {
    // sklearn: average_precision_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.8333…
    close(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 5 / 6);
    close(averagePrecision([1, 0, 1], [0.9, 0.9, 0.1]), 0.5 * 0.5 + 0.5 * (2 / 3));
    close(averagePrecision([1, 1, 0], [3, 2, 1]), 1);
  });

  it('log loss and Brier score', () => {
    close(logLoss([1, 0], [0.8, 0.4]), -(Math.log(0.8) + Math.log(0.6)) / 2);
    close(brier([1, 0, 1], [0.8, 0.4, 1]), (0.04 + 0.16 + 0) / 3);
    assert.ok(Number.isFinite(logLoss([1], [0])));
  });

  it('accuracy, precision, recall and F1 at a threshold', () => {
    const m = atThreshold([1, 1, 0, 0, 1], [0.9, 0.3, 0.6, 0.1, 0.5], 0.5);
    assert.deepEqual([m.tp, m.fp, m.tn, m.fn], [2, 1, 1, 1]);
    close(m.precision, 2 / 3);
    close(m.recall, 2 / 3);
    close(m.f1, 2 / 3);
    close(m.accuracy, 3 / 5);
  });

  it('lift and gains by decile; calibration by decile', () => {
    const y: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < 100; i++) {
      p.push(i / 100);
      y.push(i >= 80 ? 1 : 0);
    }
    const t = liftTable(y, p);
    assert.equal(t.length, 10);
    assert.equal(t[0]!.positives, 10);
    close(t[0]!.lift, 5);
    close(t[1]!.cumulativeGain, 1);
    close(t[9]!.cumulativeGain, 1);
    const c = calibrationTable(y, p);
    close(c[0]!.observedRate, 0);
    close(c[9]!.observedRate, 1);
    close(c[9]!.meanPredicted, 0.945);
  });
});
