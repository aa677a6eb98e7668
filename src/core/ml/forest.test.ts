import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildForest, forestMargin } from './forest.ts';
import { fitGbdt, gbdtMargin, predictGbdt, predictGbdtParallel } from './gbdt.ts';
import { fromRows } from './matrix.ts';
import { nonlinearData } from './testdata.ts';
import { leafOf, type TreeNodes } from './tree.ts';

/** The plain walk of each tree's JSON nodes, summed in tree order. */
function reference(trees: TreeNodes[], base: number, data: Float64Array, cols: number, i: number): number {
  let s = base;
  for (const t of trees) s += t.value[leafOf(t, data, i * cols)]!;
  return s;
}

function stump(threshold: number, missingLeft: boolean): TreeNodes {
  return {
    feature: [0, -1, -1],
    threshold: [threshold, 0, 0],
    binThreshold: [0, 0, 0],
    missingLeft: [missingLeft, false, false],
    left: [1, -1, -1],
    right: [2, -1, -1],
    value: [0, 1, 10],
    count: [2, 1, 1],
    positives: [0, 0, 0],
    gain: [1, 0, 0],
  };
}

describe('flat forest scoring', () => {
  it('routes every value as the trees do: edges, infinities, −0 and missing values either way', () => {
    const thresholds = [0, -0, 1.5, -2.25, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const values = [...thresholds, Number.NaN, 1, -1, 1.5000000000000002, 1.4999999999999998];
    for (const thr of thresholds)
      for (const missingLeft of [false, true]) {
        const t = stump(thr, missingLeft);
        const x = fromRows(values.map((v) => [v]));
        const f = buildForest([t], 1, 0);
        const out = new Float64Array(x.rows);
        forestMargin(f, x.data, x.rows, out);
        for (let i = 0; i < x.rows; i++) assert.equal(out[i], t.value[leafOf(t, x.data, i)], `threshold ${thr}, missing ${missingLeft ? 'left' : 'right'}, value ${values[i]}`);
      }
  });

  it('gives a boosted model the same margins, bit for bit, as walking its trees; a one-leaf tree included', () => {
    const { x, y } = nonlinearData(3000, 6, 31, 0.1);
    const m = fitGbdt(x, y, { maxIter: 25, earlyStoppingRounds: 0 });
    m.trees.push({ ...stump(0, false), feature: [-1], value: [0.25], left: [-1], right: [-1], threshold: [0], binThreshold: [0], missingLeft: [false], count: [1], positives: [0], gain: [0] });
    const got = gbdtMargin(m, x);
    for (let i = 0; i < x.rows; i++) assert.ok(Object.is(got[i], reference(m.trees, m.baseScore, x.data, x.cols, i)), `row ${i}`);
  });

  it('scores the same on several threads as on one', async () => {
    const { x, y } = nonlinearData(60_000, 5, 32, 0.05);
    const m = fitGbdt(x, y, { maxIter: 20, earlyStoppingRounds: 0 });
    const one = predictGbdt(m, x);
    const three = await predictGbdtParallel(m, x, 3);
    assert.deepEqual(Array.from(three), Array.from(one));
  });
});
