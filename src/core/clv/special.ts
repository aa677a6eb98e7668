// Special functions for the CLV models, in log space where it matters: log-gamma,
// log-beta, log-sum-exp, and the Gauss hypergeometric function 2F1 (needed by the
// Pareto/NBD likelihood and the BG/NBD expectations) with the standard
// transformations so the series always converges fast.

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Sign of Γ(x) from the last call to lgamma (1 or −1; NaN at a pole). */
export let gammaSign = 1;

/** log |Γ(x)| for real x (Lanczos, ~1e-15 relative); sets gammaSign. +Infinity at the poles 0, −1, −2, … */
export function lgamma(x: number): number {
  gammaSign = 1;
  if (x < 0.5) {
    if (x === Math.floor(x)) {
      gammaSign = Number.NaN;
      return Number.POSITIVE_INFINITY;
    }
    // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
    const s = Math.sin(Math.PI * x);
    const v = Math.log(Math.PI / Math.abs(s)) - lgammaPositive(1 - x);
    gammaSign = s < 0 ? -1 : 1;
    return v;
  }
  return lgammaPositive(x);
}

function lgammaPositive(x: number): number {
  if (x > 1e7) {
    // Stirling with two correction terms; the Lanczos sum loses nothing here but is slower.
    return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + 1 / (12 * x) - 1 / (360 * x * x * x);
  }
  const y = x - 1;
  let a = LANCZOS[0]!;
  const t = y + LANCZOS_G + 0.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (y + i);
  return HALF_LOG_2PI + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log B(a, b) for a, b > 0. */
export function lbeta(a: number, b: number): number {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/** log(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** log(e^a − e^b) for a ≥ b; −Infinity when equal, NaN when a < b. */
export function logDiffExp(a: number, b: number): number {
  if (b === Number.NEGATIVE_INFINITY) return a;
  if (a < b) return Number.NaN;
  if (a === b) return Number.NEGATIVE_INFINITY;
  const d = b - a;
  return a + (d > -Math.LN2 ? Math.log(-Math.expm1(d)) : Math.log1p(-Math.exp(d)));
}

/** log Σ e^{v_i}. */
export function logSumExp(v: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < v.length; i++) if (v[i]! > m) m = v[i]!;
  if (m === Number.NEGATIVE_INFINITY || m === Number.POSITIVE_INFINITY) return m;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i]! - m);
  return m + Math.log(s);
}

/** Sign of 2F1 from the last call to logHyp2f1. */
export let hypSign = 1;

const isNonPositiveInteger = (v: number): boolean => v <= 0 && v === Math.floor(v);

/**
 * log |2F1(a, b; c; z)| for real a, b, c and z < 1; sets hypSign. Uses the power series for
 * |z| ≤ 0.5 (and for terminating series), Pfaff's transformation z → z/(z−1) for z < 0, and the
 * 1 − z transformation (Abramowitz & Stegun 15.3.6) for 0.5 < z < 1, with a symmetric perturbation
 * of c when c − a − b is (nearly) an integer, where that formula has removable poles.
 */
export function logHyp2f1(a: number, b: number, c: number, z: number): number {
  hypSign = 1;
  if (!(z < 1) || Number.isNaN(a + b + c) || isNonPositiveInteger(c)) {
    hypSign = Number.NaN;
    return Number.NaN;
  }
  if (z === 0 || a === 0 || b === 0) return 0;
  if (isNonPositiveInteger(a) || isNonPositiveInteger(b)) {
    if (z >= -1) return logSeries(a, b, c, z);
  }
  if (z < 0) {
    // Pfaff: 2F1(a,b;c;z) = (1−z)^(−a) 2F1(a, c−b; c; z/(z−1)); pick the form with the smaller prefactor work.
    const w = z / (z - 1);
    const l1z = Math.log1p(-z);
    const v = logHyp2f1(a, c - b, c, w);
    return v - a * l1z;
  }
  if (z <= 0.5) return logSeries(a, b, c, z);
  const m = c - a - b;
  const mr = Math.round(m);
  if (Math.abs(m - mr) < 1e-5) {
    // Near-integer c − a − b: average the two sides (error O(δ²), cancellation O(ε/δ)).
    const d = 1e-5;
    const v1 = hyp2f1OneMinusZ(a, b, c + d, z);
    const sg1 = oneMinusSign;
    const v2 = hyp2f1OneMinusZ(a, b, c - d, z);
    return combineSigned(v1, sg1, v2, oneMinusSign, 0.5);
  }
  const v = hyp2f1OneMinusZ(a, b, c, z);
  hypSign = oneMinusSign;
  return v;
}

let oneMinusSign = 1;

/** log |(s1 e^{v1} + s2 e^{v2}) · k|, setting hypSign. */
function combineSigned(v1: number, s1: number, v2: number, s2: number, k: number): number {
  const m = Math.max(v1, v2);
  const sum = s1 * Math.exp(v1 - m) + s2 * Math.exp(v2 - m);
  hypSign = sum < 0 ? -1 : 1;
  return m + Math.log(Math.abs(sum) * k);
}

/** A&S 15.3.6 for 0.5 < z < 1, non-integer m = c − a − b; the result's sign goes to oneMinusSign. */
function hyp2f1OneMinusZ(a: number, b: number, c: number, z: number): number {
  const m = c - a - b;
  const w = 1 - z;
  const lw = Math.log(w);
  // term 1: Γ(c)Γ(m)/(Γ(c−a)Γ(c−b)) · 2F1(a, b; 1−m; w)
  let t1 = Number.NEGATIVE_INFINITY;
  let sg1 = 1;
  if (!isNonPositiveInteger(c - a) && !isNonPositiveInteger(c - b)) {
    const lc = lgamma(c);
    let s = gammaSign;
    const lm = lgamma(m);
    s *= gammaSign;
    const lca = lgamma(c - a);
    s *= gammaSign;
    const lcb = lgamma(c - b);
    s *= gammaSign;
    const f = logSeries(a, b, 1 - m, w);
    s *= hypSign;
    t1 = lc + lm - lca - lcb + f;
    sg1 = s;
  }
  // term 2: w^m Γ(c)Γ(−m)/(Γ(a)Γ(b)) · 2F1(c−a, c−b; 1+m; w)
  let t2 = Number.NEGATIVE_INFINITY;
  let sg2 = 1;
  if (!isNonPositiveInteger(a) && !isNonPositiveInteger(b)) {
    const lc = lgamma(c);
    let s = gammaSign;
    const lmm = lgamma(-m);
    s *= gammaSign;
    const la = lgamma(a);
    s *= gammaSign;
    const lb = lgamma(b);
    s *= gammaSign;
    const f = logSeries(c - a, c - b, 1 + m, w);
    s *= hypSign;
    t2 = m * lw + lc + lmm - la - lb + f;
    sg2 = s;
  }
  let out: number;
  let sign: number;
  if (t1 === Number.NEGATIVE_INFINITY) {
    out = t2;
    sign = sg2;
  } else if (t2 === Number.NEGATIVE_INFINITY) {
    out = t1;
    sign = sg1;
  } else {
    out = combineSigned(t1, sg1, t2, sg2, 1);
    sign = hypSign;
  }
  oneMinusSign = sign;
  return out;
}

/** log |Σ_k (a)_k (b)_k / ((c)_k k!) z^k| by direct summation with rescaling; sets hypSign. */
function logSeries(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  let logScale = 0;
  for (let k = 0; k < 100000; k++) {
    const ak = a + k;
    const bk = b + k;
    if (ak === 0 || bk === 0) break; // terminating series
    term *= ((ak * bk) / ((c + k) * (k + 1))) * z;
    sum += term;
    const at = Math.abs(term);
    if (at <= 1e-17 * Math.abs(sum) && k > 2) break;
    if (Math.abs(sum) > 1e250) {
      sum *= 1e-250;
      term *= 1e-250;
      logScale += 250 * Math.LN10;
    }
  }
  hypSign = sum < 0 ? -1 : 1;
  return Math.log(Math.abs(sum)) + logScale;
}

/** 2F1(a, b; c; z) for z < 1. */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  const v = logHyp2f1(a, b, c, z);
  return hypSign * Math.exp(v);
}
