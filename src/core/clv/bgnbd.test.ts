// BG/NBD conditional expectation for frequent buyers on long horizons, where the 2F1 used to
// lose every digit (a year ahead for 21 repeat purchase days gave −3.6·10¹⁵ purchases).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type BgNbdParams, bgnbdConditionalExpected, bgnbdLogLikelihood, bgnbdLogLikelihoodGradient } from './bgnbd.ts';
import { cdnowSummary } from './testdata.ts';

/**
 * E[X(t) | x, t_x, T] through Euler's transformation written out by hand,
 * (1−z)^(r+x) 2F1(r+x, b+x; a+b+x−1; z) = (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z),
 * with the second 2F1's series (terms of one sign after the first) summed directly.
 */
function stableExpected(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  const z = t / (alpha + T + t);
  const [A, B, C] = [a + b - 1 - r, a - 1, a + b + x - 1];
  let term = 1;
  let f = 0; // 2F1 − 1
  for (let n = 0; n < 1e6; n++) {
    term *= ((A + n) * (B + n) * z) / ((C + n) * (n + 1));
    f += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(f) || term === 0) break;
  }
  const l1z = Math.log1p(-z);
  const second = -Math.expm1((a - 1) * l1z) - Math.exp((a - 1) * l1z) * f;
  const alive = x > 0 ? 1 / (1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x)) : 1;
  return ((a + b + x - 1) / (a - 1)) * second * alive;
}

const STORE = { r: 0.8769, alpha: 18.05, a: 1.0695, b: 14.19 }; // days
const CDNOW = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 }; // weeks

it('a customer with 21 repeat purchase days gets a sane figure for the next year', () => {
  const v = bgnbdConditionalExpected(STORE, 365, 21, 217, 221);
  assert.ok(Math.abs(v - stableExpected(STORE, 365, 21, 217, 221)) < 1e-9 * v, String(v));
  assert.ok(v > 15 && v < 40, String(v)); // one purchase day every ~10 days, kept up
});

it('E[X(t) | x, t_x, T] is finite, positive, growing in t and equals the Euler-transformed form, x up to 300, t up to 5 years', () => {
  for (const [p, ts, Ts, perUnit] of [
    [CDNOW, [1, 13, 39, 52, 104, 260], [1, 5, 43, 100, 260], 7],
    [STORE, [1, 30, 90, 365, 730, 1826], [1, 30, 300, 730, 1826], 1],
    [{ r: 2.5, alpha: 0.7, a: 0.3, b: 8 }, [1, 13, 52, 260], [1, 43, 260], 7],
  ] as const) {
    for (const x of [0, 1, 2, 5, 10, 21, 50, 100, 200, 300]) {
      for (const T of Ts) {
        if (x > perUnit * T) continue;
        for (const recent of [0.2, 0.9, 1]) {
          const tx = x === 0 ? 0 : recent * T;
          let prev = 0;
          for (const t of ts) {
            const v = bgnbdConditionalExpected(p, t, x, tx, T);
            const ref = stableExpected(p, t, x, tx, T);
            const at = `x=${x} tx=${tx} T=${T} t=${t}: ${v} vs ${ref}`;
            assert.ok(Number.isFinite(v) && v > 0 && v >= prev * (1 - 1e-12), at);
            assert.ok(Math.abs(v - ref) <= 1e-9 * ref, at);
            prev = v;
          }
        }
      }
    }
  }
});

it('keeps the sign of a negative 2F1 (a + b < 1 and x = 0)', () => {
  const p = { r: 5.265, alpha: 0.6225, a: 0.2247, b: 0.7672 };
  for (const t of [1, 21.5, 100]) {
    const v = bgnbdConditionalExpected(p, t, 0, 0, 217.2);
    assert.ok(v > 0 && Math.abs(v - stableExpected(p, t, 0, 0, 217.2)) <= 1e-9 * v, `t=${t}: ${v}`);
  }
});

it('has an analytic gradient of the log-likelihood that agrees with central differences (the optimiser steps on it)', () => {
  const d = cdnowSummary();
  for (const p of [
    { r: 0.243, alpha: 4.41, a: 0.793, b: 2.43 },
    { r: 2, alpha: 30, a: 0.2, b: 8 },
    { r: 0.05, alpha: 0.5, a: 3, b: 0.6 },
  ] as BgNbdParams[]) {
    const g = new Float64Array(4);
    assert.equal(bgnbdLogLikelihoodGradient(p, d, g), true);
    (['r', 'alpha', 'a', 'b'] as const).forEach((k, i) => {
      const h = 1e-6 * p[k];
      const num = (bgnbdLogLikelihood({ ...p, [k]: p[k] + h }, d) - bgnbdLogLikelihood({ ...p, [k]: p[k] - h }, d)) / (2 * h);
      assert.ok(Math.abs(g[i]! - num) <= 1e-5 * Math.max(1, Math.abs(num)), `${k} at ${JSON.stringify(p)}: analytic ${g[i]}, numeric ${num}`);
    });
  }
  // Fractional frequencies: no closed form here, the optimiser falls back to differences.
  assert.equal(bgnbdLogLikelihoodGradient({ r: 1, alpha: 1, a: 1, b: 1 }, { frequency: Float64Array.of(1.5), recency: Float64Array.of(1), T: Float64Array.of(2) }, new Float64Array(4)), false);
});
