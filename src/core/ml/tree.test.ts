import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitGbdt, predictGbdt } from './gbdt.ts';
import { fitLogistic, predictLogistic } from './logistic.ts';
import { fromRows, matrix, rng } from './matrix.ts';
import { logLoss, rocAuc } from './metrics.ts';
import { nonlinearData, xorData } from './testdata.ts';
import { applyBinning, fitBinning, fitTree, MISSING_BIN, predictTree, treeDepth } from './tree.ts';

describe('binning', () => {
  it('uses data values as edges, at most 255 bins, missing in its own bin', () => {
    const x = fromRows([[1], [2], [2], [3], [Number.NaN]]);
    const b = fitBinning(x);
    assert.deepEqual(b.edges[0], [1, 2]);
    assert.deepEqual(Array.from(applyBinning(b, x)), [0, 1, 1, 2, MISSING_BIN]);
    const big = matrix(10000, 1);
    for (let i = 0; i < 10000; i++) big.data[i] = i;
    assert.ok(fitBinning(big).edges[0]!.length <= 254);
  });
});

describe('decision tree', () => {
  it('learns an XOR pattern that logistic regression cannot', () => {
    const train = xorData(3000, 1);
    const test = xorData(2000, 2);
    const tree = fitTree(train.x, train.y, { maxDepth: 4 });
    assert.ok(rocAuc(test.y, predictTree(tree, test.x)) > 0.9);
    assert.ok(rocAuc(test.y, predictLogistic(fitLogistic(train.x, train.y), test.x)) < 0.6);
    // the root splits on one of the two informative features
    assert.ok([0, 1].includes(tree.nodes.feature[0]!));
  });

  it('chooses its depth by cross-validation and respects min samples per leaf', () => {
    const { x, y } = xorData(2000, 3);
    const t = fitTree(x, y, { minSamplesLeaf: 30 });
    assert.ok(t.depthSearch && t.depthSearch.length > 1);
    assert.ok(t.maxDepth >= 2, `depth ${t.maxDepth}`);
    assert.ok(treeDepth(t.nodes) <= t.maxDepth);
    for (let n = 0; n < t.nodes.feature.length; n++) if (t.nodes.feature[n]! < 0) assert.ok(t.nodes.count[n]! >= 30);
    const again = JSON.parse(JSON.stringify(t));
    assert.deepEqual(Array.from(predictTree(again, x)), Array.from(predictTree(t, x)));
  });

  it('learns where missing values should go', () => {
    // missing x0 behaves like a high x0
    const rand = rng(5);
    const rows: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const v = rand();
      const miss = rand() < 0.3;
      rows.push([miss ? Number.NaN : v]);
      y.push(miss || v > 0.5 ? 1 : 0);
    }
    const t = fitTree(fromRows(rows), y, { maxDepth: 1 });
    const p = predictTree(t, fromRows([[Number.NaN], [0.1], [0.9]]));
    assert.ok(p[0]! > 0.9 && p[1]! < 0.1 && p[2]! > 0.9);
  });
});

describe('gradient-boosted trees', () => {
  it('learns XOR and beats logistic regression on a nonlinear problem', () => {
    const xor = xorData(4000, 4);
    const xorTest = xorData(2000, 5);
    const g = fitGbdt(xor.x, xor.y, { maxIter: 100 });
    assert.ok(rocAuc(xorTest.y, predictGbdt(g, xorTest.x)) > 0.9);

    const train = nonlinearData(8000, 8, 1);
    const test = nonlinearData(4000, 8, 2);
    const gb = fitGbdt(train.x, train.y, { seed: 3 });
    const lr = fitLogistic(train.x, train.y);
    const pg = predictGbdt(gb, test.x);
    const pl = predictLogistic(lr, test.x);
    assert.ok(rocAuc(test.y, pg) > rocAuc(test.y, pl) + 0.05, `gbdt ${rocAuc(test.y, pg)} vs logistic ${rocAuc(test.y, pl)}`);
    assert.ok(logLoss(test.y, pg) < logLoss(test.y, pl));
    // early stopping kept fewer trees than the maximum; importance favours the informative features
    assert.ok(gb.bestIteration < 300 && gb.validationLoss!.length >= gb.bestIteration);
    const top = gb.importance.map((v, j) => [v, j] as const).sort((a, b) => b[0] - a[0]).slice(0, 4).map((e) => e[1]);
    assert.deepEqual([...top].sort(), [0, 1, 2, 3]);
  });

  it('builds the same trees with a second thread for the histograms', () => {
    // 9 features: each thread has a group of four and single ones left over
    const { x, y } = nonlinearData(50_000, 9, 12);
    const one = fitGbdt(x, y, { maxIter: 5, earlyStoppingRounds: 0, threads: 1 });
    const two = fitGbdt(x, y, { maxIter: 5, earlyStoppingRounds: 0, threads: 2 });
    assert.deepEqual(two.trees, one.trees);
  });

  it('serialises to JSON and back with identical predictions; subsampling and class weights work', () => {
    const { x, y } = nonlinearData(3000, 5, 9);
    const m = fitGbdt(x, y, { maxIter: 30, subsample: 0.7, classWeight: 'balanced', earlyStoppingRounds: 0 });
    assert.equal(m.trees.length, 30);
    const back = JSON.parse(JSON.stringify(m));
    assert.deepEqual(Array.from(predictGbdt(back, x)), Array.from(predictGbdt(m, x)));
    // balanced weights raise the mean prediction toward 0.5 on imbalanced data
    let pos = 0;
    for (const v of y) pos += v;
    const mean = predictGbdt(m, x).reduce((s, v) => s + v, 0) / x.rows;
    assert.ok(Math.abs(mean - 0.5) < Math.abs(pos / x.rows - 0.5) || Math.abs(pos / x.rows - 0.5) < 0.05);
  });
});
