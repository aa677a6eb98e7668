import assert from 'node:assert/strict';
import { it } from 'node:test';
import { integrate } from './paretonbd.ts';
import { hyp2f1, lgamma, logAddExp, logDiffExp, logSumExp } from './special.ts';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

it('lgamma matches factorials and the reflection formula', () => {
  assert.ok(rel(lgamma(10), Math.log(362880)) < 1e-14);
  assert.ok(rel(lgamma(0.5), 0.5 * Math.log(Math.PI)) < 1e-14);
  assert.ok(rel(lgamma(-0.5), Math.log(2 * Math.sqrt(Math.PI))) < 1e-14);
  assert.ok(rel(lgamma(171.5), 709.1431630309282) < 1e-13);
});

it('log-sum-exp and log-diff-exp do not overflow', () => {
  assert.equal(logAddExp(1000, 1000), 1000 + Math.LN2);
  assert.ok(Math.abs(logDiffExp(1000, 1000 - Math.LN2) - (1000 - Math.LN2)) < 1e-12);
  assert.equal(logDiffExp(5, 5), Number.NEGATIVE_INFINITY);
  assert.ok(Math.abs(logSumExp([-1000, -1000]) - (-1000 + Math.LN2)) < 1e-12);
});

it('2F1 matches closed forms on both sides of every transformation', () => {
  for (const z of [0.1, 0.4, 0.6, 0.9, 0.999, -0.5, -3, -100]) {
    assert.ok(rel(hyp2f1(1, 1, 2, z), -Math.log(1 - z) / z) < 1e-8, `log at ${z}`); // integer c−a−b
    assert.ok(rel(hyp2f1(0.7, 2.3, 2.3, z), (1 - z) ** -0.7) < 1e-12, `power at ${z}`);
  }
  for (const x of [0.3, 0.8, 0.95]) {
    assert.ok(rel(hyp2f1(0.5, 0.5, 1.5, x * x), Math.asin(x) / x) < 1e-12);
    assert.ok(rel(hyp2f1(0.5, 1, 1.5, x * x), Math.atanh(x) / x) < 1e-8);
  }
});

it('2F1(a, b; a+1; z), the Pareto/NBD form, matches its integral a∫u^(a−1)(1−zu)^(−b)du', () => {
  for (const [a, b, z] of [[27.2, 26.5, 0.9], [3, 1.6, 0.97], [2.5, 7.5, 0.8], [1, 1.5, 0.7], [4.8, 1.2, 0.3]] as const) {
    // v = 1 − u puts the peak at the origin, where the quadrature's panels are finest.
    const q = a * integrate((v) => (1 - v) ** (a - 1) * (1 - z + z * v) ** -b, 0, 1);
    assert.ok(rel(hyp2f1(a, b, a + 1, z), q) < 1e-7, `${a}, ${b}, ${z}`);
  }
});
