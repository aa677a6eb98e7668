import assert from 'node:assert/strict';
import { it } from 'node:test';
import { integrate } from './paretonbd.ts';
import { hyp2f1, hypSign, lgamma, logAddExp, logDiffExp, logHyp2f1, logSumExp } from './special.ts';

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

/**
 * log 2F1(A, B; C; z) from Euler's integral Γ(C)/(Γ(B)Γ(C−B)) ∫₀¹ u^(B−1)(1−u)^(C−B−1)(1−zu)^(−A) du
 * (C > B > 0), by tanh-sinh quadrature in logs: a different method from any of logHyp2f1's.
 */
function logEulerIntegral(A: number, B: number, C: number, z: number): number {
  const h = 1 / 128;
  const softplus = (v: number): number => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
  const terms: number[] = [];
  for (let tau = -6; tau <= 6; tau += h) {
    const s = Math.PI * Math.sinh(tau);
    const lu = -softplus(-s); // log u, u = 1/(1+e^(−s))
    const l1u = -softplus(s); // log(1 − u), exact near u = 1
    terms.push(B * lu + (C - B) * l1u - A * Math.log1p(-z * Math.exp(lu)) + Math.log(Math.PI * Math.cosh(tau) * h));
  }
  return lgamma(C) - lgamma(B) - lgamma(C - B) + logSumExp(terms);
}

it('2F1(r+x, b+x; a+b+x−1; t/(α+T+t)) of the BG/NBD matches Euler’s integral up to x = 300 and 5 years ahead', () => {
  // The region that gave garbage before (z > 0.5, c − a − b = a−1−r−x ≪ 0): CDNOW's fit in weeks, a store's in days.
  const sets = [
    { p: { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 }, ts: [13, 39, 52, 104, 260], Ts: [0, 5, 43, 100, 260], perUnit: 7 },
    { p: { r: 0.8769, alpha: 18.05, a: 1.0695, b: 14.19 }, ts: [30, 90, 365, 730, 1826], Ts: [0, 30, 300, 730, 1826], perUnit: 1 },
  ];
  let checked = 0;
  for (const { p, ts, Ts, perUnit } of sets) {
    for (const x of [0, 1, 2, 5, 10, 21, 50, 100, 200, 300]) {
      for (const T of Ts) {
        if (x > perUnit * T) continue; // at most one purchase day per day
        for (const t of ts) {
          const [A, B, C, z] = [p.r + x, p.b + x, p.a + p.b + x - 1, t / (p.alpha + T + t)];
          const v = logHyp2f1(A, B, C, z);
          assert.equal(hypSign, 1);
          // the integral needs C > B: b + x when a > 1, else r + x (C − (r+x) = a+b−1−r > 0 in both sets)
          const ref = p.a > 1 ? logEulerIntegral(A, B, C, z) : logEulerIntegral(B, A, C, z);
          assert.ok(Number.isFinite(v) && Math.abs(v - ref) < 1e-10 * Math.max(1, Math.abs(ref)), `x=${x} T=${T} t=${t}: ${v} vs ${ref}`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 150);
});

it('2F1 with large |c − a − b| near z = 1, against Euler’s integral', () => {
  for (const [A, B, C, z] of [[300.2426, 302.4259, 302.2188, 0.85], [21.8769, 35.19, 35.2595, 0.99], [2, 40, 3.5, 0.95], [1.5, 30, 40, 0.999], [0.7, 2.5, 50, 0.9999]] as const) {
    const v = logHyp2f1(A, B, C, z);
    const ref = C > B ? logEulerIntegral(A, B, C, z) : logEulerIntegral(B, A, C, z);
    assert.ok(Math.abs(v - ref) < 1e-10 * Math.max(1, Math.abs(ref)), `${[A, B, C, z]}: ${v} vs ${ref}`);
  }
});
