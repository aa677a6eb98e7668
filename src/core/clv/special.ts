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

const EPS = 2.220446049250313e-16;
/** An evaluation whose estimated relative error is below this is used without trying the others. */
const GOOD = 1e-12;
const MAX_TERMS = 100_000;
/** Terms for the second and third ways: enough where they can help, cheap where they cannot (z → 1). */
const FALLBACK_TERMS = 5_000;

/** One way of evaluating 2F1: log |value|, its sign and an estimate of its relative error. */
interface Hyp {
  v: number;
  s: number;
  err: number;
}

/**
 * log |2F1(a, b; c; z)| for real a, b, c and z < 1; sets hypSign.
 *
 * z < 0 goes to (0, 1) by Pfaff's transformation z → z/(z−1). On [0, 1) there are three ways,
 * each with an estimate of its own rounding and truncation error:
 * - the power series in z, summed with rescaling, a rigorous tail bound and Σ|term| / |Σ term|
 *   as its cancellation estimate;
 * - Euler's transformation (1−z)^(c−a−b) 2F1(c−a, c−b; c; z), the same series with parameters
 *   whose terms fall off fast when c − a − b ≪ 0 (the BG/NBD's 2F1(r+x, b+x; a+b+x−1; z) for
 *   frequent buyers: c−a = a+b−1−r and c−b = a−1 no longer grow with x);
 * - for z > 0.5, the 1 − z connection formula (Abramowitz & Stegun 15.3.6), with a symmetric
 *   perturbation of c when c − a − b is (nearly) an integer, where it has removable poles. It is
 *   fast near z = 1 but cancels catastrophically when |c − a − b| is large.
 * The series come first (the faster-falling one first) unless z > 0.9 and |c − a − b| ≤ 5, where
 * they converge slowly and the connection formula is fast and sound; the first whose error estimate
 * is below 1e-12 is returned, else the one with the smallest estimate. The first way may sum up to
 * 100,000 terms, the others 5,000 (so that hopeless series near z = 1 cost little).
 */
export function logHyp2f1(a: number, b: number, c: number, z: number): number {
  hypSign = 1;
  if (!(z < 1) || Number.isNaN(a + b + c) || isNonPositiveInteger(c)) {
    hypSign = Number.NaN;
    return Number.NaN;
  }
  if (z === 0 || a === 0 || b === 0) return 0;
  const h = hyp(a, b, c, z);
  hypSign = h.s;
  return h.v;
}

function hyp(a: number, b: number, c: number, z: number): Hyp {
  if (z === 0 || a === 0 || b === 0) return { v: 0, s: 1, err: 0 };
  if ((isNonPositiveInteger(a) || isNonPositiveInteger(b)) && z >= -1) return series(a, b, c, z); // a polynomial
  if (z < 0) {
    // Pfaff: 2F1(a, b; c; z) = (1−z)^(−a) 2F1(a, c−b; c; z/(z−1)).
    const l1z = Math.log1p(-z);
    const h = hyp(a, c - b, c, z / (z - 1));
    return { v: h.v - a * l1z, s: h.s, err: h.err + EPS * Math.abs(a * l1z) };
  }
  const m = c - a - b;
  // The series in z, directly or after Euler's transformation: the one whose terms fall off faster first.
  const direct = (n: number) => series(a, b, c, z, n);
  const eul = (n: number) => euler(a, b, c, z, n);
  const conn = (n: number) => connection(a, b, c, z, n);
  const seriesWays = m < -1 ? [eul, direct] : [direct, eul];
  const ways: ((n: number) => Hyp)[] = z <= 0.5 ? seriesWays : z <= 0.9 || Math.abs(m) > 5 ? [...seriesWays, conn] : [conn, ...seriesWays];
  let best: Hyp | null = null;
  for (const way of ways) {
    const h = way(best ? FALLBACK_TERMS : MAX_TERMS);
    if (h.err < GOOD) return h;
    if (!best || h.err < best.err || (Number.isNaN(best.v) && !Number.isNaN(h.v))) best = h;
  }
  return best!;
}

/** Euler: 2F1(a, b; c; z) = (1−z)^(c−a−b) 2F1(c−a, c−b; c; z), the latter by its series. */
function euler(a: number, b: number, c: number, z: number, maxTerms: number): Hyp {
  const ca = c - a;
  const cb = c - b;
  const p = (c - a - b) * Math.log1p(-z);
  if (ca === 0 || cb === 0) return { v: p, s: 1, err: EPS * (1 + Math.abs(p)) };
  const h = series(ca, cb, c, z, maxTerms);
  return { v: h.v + p, s: h.s, err: h.err + EPS * Math.abs(p) };
}

/** The 1 − z connection formula for 0.5 < z < 1, averaging c ± 1e-5 where c − a − b is within 1e-5 of an integer. */
function connection(a: number, b: number, c: number, z: number, maxTerms: number): Hyp {
  const m = c - a - b;
  if (Math.abs(m - Math.round(m)) >= 1e-5) return oneMinusZ(a, b, c, z, maxTerms);
  // Near-integer c − a − b: average the two sides (error O(δ²), cancellation O(ε/δ)).
  const d = 1e-5;
  const h1 = oneMinusZ(a, b, c + d, z, maxTerms);
  const h2 = oneMinusZ(a, b, c - d, z, maxTerms);
  const h = combine(h1, h2);
  return { v: h.v + Math.log(0.5), s: h.s, err: h.err + 1e-10 };
}

/** s1 e^{v1} + s2 e^{v2}, with the error of each part carried through the sum. */
function combine(h1: Hyp, h2: Hyp): Hyp {
  if (h1.v === Number.NEGATIVE_INFINITY) return h2;
  if (h2.v === Number.NEGATIVE_INFINITY) return h1;
  const mx = Math.max(h1.v, h2.v);
  const e1 = Math.exp(h1.v - mx);
  const e2 = Math.exp(h2.v - mx);
  const sum = h1.s * e1 + h2.s * e2;
  const abs = Math.abs(sum);
  return {
    v: mx + Math.log(abs),
    s: sum < 0 ? -1 : 1,
    err: abs > 0 ? (e1 * h1.err + e2 * h2.err + EPS * (e1 + e2)) / abs : Number.POSITIVE_INFINITY,
  };
}

/** log Γ with its sign, for the connection formula's prefactors. */
function lgammaSigned(x: number): { v: number; s: number } {
  const v = lgamma(x);
  return { v, s: gammaSign };
}

/** A&S 15.3.6 for 0.5 < z < 1 and non-integer m = c − a − b. */
function oneMinusZ(a: number, b: number, c: number, z: number, maxTerms: number): Hyp {
  const m = c - a - b;
  const w = 1 - z;
  const lw = Math.log(w);
  const none: Hyp = { v: Number.NEGATIVE_INFINITY, s: 1, err: 0 };
  const gc = lgammaSigned(c);
  // term 1: Γ(c)Γ(m)/(Γ(c−a)Γ(c−b)) · 2F1(a, b; 1−m; w)
  let t1 = none;
  if (!isNonPositiveInteger(c - a) && !isNonPositiveInteger(c - b)) {
    const gm = lgammaSigned(m);
    const gca = lgammaSigned(c - a);
    const gcb = lgammaSigned(c - b);
    const f = series(a, b, 1 - m, w, maxTerms);
    const pre = gc.v + gm.v - gca.v - gcb.v;
    const preErr = EPS * (Math.abs(gc.v) + Math.abs(gm.v) + Math.abs(gca.v) + Math.abs(gcb.v) + 1);
    t1 = { v: pre + f.v, s: gc.s * gm.s * gca.s * gcb.s * f.s, err: f.err + preErr };
  }
  // term 2: w^m Γ(c)Γ(−m)/(Γ(a)Γ(b)) · 2F1(c−a, c−b; 1+m; w)
  let t2 = none;
  if (!isNonPositiveInteger(a) && !isNonPositiveInteger(b)) {
    const gmm = lgammaSigned(-m);
    const ga = lgammaSigned(a);
    const gb = lgammaSigned(b);
    const f = series(c - a, c - b, 1 + m, w, maxTerms);
    const pre = m * lw + gc.v + gmm.v - ga.v - gb.v;
    const preErr = EPS * (Math.abs(m * lw) + Math.abs(gc.v) + Math.abs(gmm.v) + Math.abs(ga.v) + Math.abs(gb.v) + 1);
    t2 = { v: pre + f.v, s: gc.s * gmm.s * ga.s * gb.s * f.s, err: f.err + preErr };
  }
  return combine(t1, t2);
}

/**
 * Σ_k (a)_k (b)_k / ((c)_k k!) z^k for |z| < 1 (or terminating), with rescaling against overflow.
 * Stops when a rigorous bound on the tail is below 1e-17 of the sum: once a+k, b+k and c+k are
 * all positive, each later term ratio is at most |z| · max(1, (a+k)/(c+k)) · max(1, (b+k)/(k+1))
 * (or the same with a and b swapped), and at least the same with min; it gives up early when
 * even that lower bound cannot bring the terms down within maxTerms.
 * The error estimate is ε (4 + √n) Σ|term| / |Σ term|; +∞ when the series has not converged.
 */
function series(a: number, b: number, c: number, z: number, maxTerms = MAX_TERMS): Hyp {
  let term = 1;
  let lead = 1; // the k = 0 term, kept apart so that log1p keeps the digits of a small tail
  let tail = 0;
  let abs = 1;
  let logScale = 0;
  let converged = false;
  let n = 0;
  const az = Math.abs(z);
  // The terms fall off like k^(a+b−c−1) |z|^k: with a+b−c−1 > −1 and |z|^maxTerms > e^−40 the tail
  // bound cannot be met in time, so do not try (this is what keeps fallbacks near z = 1 cheap).
  if ((1 - az) * maxTerms < 40 && a + b - c - 1 > -1 && !isNonPositiveInteger(a) && !isNonPositiveInteger(b)) {
    return { v: Number.NaN, s: 1, err: Number.POSITIVE_INFINITY };
  }
  for (let k = 0; k < maxTerms; k++) {
    const ak = a + k;
    const bk = b + k;
    if (ak === 0 || bk === 0) {
      converged = true; // terminating series
      break;
    }
    term *= ((ak * bk) / ((c + k) * (k + 1))) * z;
    tail += term;
    abs += Math.abs(term);
    n = k + 1;
    if (term === 0) {
      converged = true;
      break;
    }
    const a1 = ak + 1;
    const b1 = bk + 1;
    const c1 = c + k + 1;
    if (a1 > 0 && b1 > 0 && c1 > 0) {
      // The next ratio is az · (a+k+1)(b+k+1)/((c+k+1)(k+2)); pair the factors either way:
      // each (p+j)/(q+j) moves monotonically towards 1, so its current value bounds it on one side.
      const f1 = a1 / c1;
      const f2 = b1 / (k + 2);
      const g1 = a1 / (k + 2);
      const g2 = b1 / c1;
      const rho = az * Math.min(Math.max(1, f1) * Math.max(1, f2), Math.max(1, g1) * Math.max(1, g2));
      const at = Math.abs(term);
      if (rho < 1 && (at * rho) / (1 - rho) <= 1e-17 * Math.abs(lead + tail)) {
        converged = true;
        break;
      }
      // Hopeless within maxTerms? Later ratios are at least az · min(1, f1) · min(1, f2), the sum's
      // size stays below |sum| + the tail bound, and stopping needs a term ≤ 1e-17 |sum| (1 − az)/az.
      if (rho < 1 && (k & 63) === 0) {
        const low = az * Math.max(Math.min(1, f1) * Math.min(1, f2), Math.min(1, g1) * Math.min(1, g2));
        const sUp = Math.abs(lead + tail) + (at * rho) / (1 - rho);
        if (Math.log(at) + (maxTerms - k - 1) * Math.log(low) > Math.log((1e-17 * sUp * (1 - az)) / az)) break;
      }
    }
    if (abs > 1e250) {
      lead *= 1e-250;
      tail *= 1e-250;
      term *= 1e-250;
      abs *= 1e-250;
      logScale += 250 * Math.LN10;
    }
  }
  const sum = lead + tail;
  const s = sum < 0 ? -1 : 1;
  const v = (logScale === 0 && tail > -1 ? Math.log1p(tail) : Math.log(Math.abs(sum))) + logScale;
  const err = converged ? (sum === 0 ? Number.POSITIVE_INFINITY : (EPS * (4 + Math.sqrt(n)) * abs) / Math.abs(sum)) : Number.POSITIVE_INFINITY;
  return { v, s, err };
}

/** 2F1(a, b; c; z) for z < 1. */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  const v = logHyp2f1(a, b, c, z);
  return hypSign * Math.exp(v);
}
