import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitGbdt, gbdtMargin } from './gbdt.ts';
import { fromRows, row, takeRows } from './matrix.ts';
import { nonlinearData } from './testdata.ts';
import { fitTree, predictTree, type TreeNodes } from './tree.ts';
import { expectedValue, explainGbdt, explainTree } from './treeshap.ts';

/** E[f(x) | x_S] along the tree with cover weights (Algorithm 1 of the paper). */
function condExp(t: TreeNodes, x: ArrayLike<number>, s: Set<number>, n = 0): number {
  const f = t.feature[n]!;
  if (f < 0) return t.value[n]!;
  if (s.has(f)) {
    const v = x[f]!;
    return condExp(t, x, s, (Number.isNaN(v) ? t.missingLeft[n] : v <= t.threshold[n]!) ? t.left[n]! : t.right[n]!);
  }
  const l = t.left[n]!;
  const r = t.right[n]!;
  return (condExp(t, x, s, l) * t.count[l]! + condExp(t, x, s, r) * t.count[r]!) / t.count[n]!;
}

function bruteShapley(t: TreeNodes, x: ArrayLike<number>, d: number): number[] {
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const phi = new Array(d).fill(0);
  for (let j = 0; j < d; j++) {
    const others = [...Array(d).keys()].filter((k) => k !== j);
    for (let mask = 0; mask < 1 << others.length; mask++) {
      const s = new Set(others.filter((_, b) => mask & (1 << b)));
      const w = (fact(s.size) * fact(d - s.size - 1)) / fact(d);
      const withJ = new Set(s).add(j);
      phi[j] += w * (condExp(t, x, withJ) - condExp(t, x, s));
    }
  }
  return phi;
}

describe('TreeSHAP', () => {
  const { x, y } = nonlinearData(1500, 5, 21, 0.1);

  it('matches brute-force Shapley values on a small tree, missing values included', () => {
    const tree = fitTree(x, y, { maxDepth: 4, minSamplesLeaf: 20 });
    const e = explainTree(tree.nodes, x);
    for (let i = 0; i < 40; i++) {
      const want = bruteShapley(tree.nodes, row(x, i), 5);
      for (let j = 0; j < 5; j++) assert.ok(Math.abs(e.contributions[i * 5 + j]! - want[j]!) < 1e-9, `row ${i} feature ${j}: ${e.contributions[i * 5 + j]} vs ${want[j]}`);
    }
  });

  it('sums to prediction − expected value, for a tree and for a boosted ensemble (log-odds)', () => {
    const tree = fitTree(x, y, { maxDepth: 6 });
    const et = explainTree(tree.nodes, x);
    const pt = predictTree(tree, x);
    const m = fitGbdt(x, y, { maxIter: 40, earlyStoppingRounds: 0 });
    const some = takeRows(x, Uint32Array.from({ length: 300 }, (_, i) => i));
    const eg = explainGbdt(m, some);
    const margin = gbdtMargin(m, some);
    for (let i = 0; i < some.rows; i++) {
      let st = et.expected;
      let sg = eg.expected;
      for (let j = 0; j < 5; j++) {
        st += et.contributions[i * 5 + j]!;
        sg += eg.contributions[i * 5 + j]!;
      }
      assert.ok(Math.abs(st - pt[i]!) < 1e-9);
      assert.ok(Math.abs(sg - margin[i]!) < 1e-9);
    }
    assert.ok(Math.abs(expectedValue(tree.nodes) - y.reduce((s, v) => s + v, 0) / y.length) < 0.01);
  });

  it('gives a feature the tree does not use no credit', () => {
    const xs = fromRows([
      [0, 5],
      [1, 5],
      [0, 6],
      [1, 7],
    ]);
    const t: TreeNodes = {
      feature: [0, -1, -1],
      threshold: [0.5, 0, 0],
      binThreshold: [0, 0, 0],
      missingLeft: [true, false, false],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [0.5, 0.2, 0.8],
      count: [4, 2, 2],
      positives: [0, 0, 0],
      gain: [1, 0, 0],
    };
    const e = explainTree(t, xs);
    const want = [-0.3, 0, 0.3, 0, -0.3, 0, 0.3, 0];
    for (const [i, v] of e.contributions.entries()) assert.ok(Math.abs(v - want[i]!) < 1e-12);
  });
});
