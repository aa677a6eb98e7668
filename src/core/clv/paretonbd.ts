// Pareto/NBD (Schmittlein, Morrison & Colombo 1987; likelihood as in Fader & Hardie's
// note "A note on deriving the Pareto/NBD model and related expressions", 2005):
// purchases at rate λ ~ Gamma(r, α) while alive; lifetime ~ Exp(μ), μ ~ Gamma(s, β).
import { fitOnLogScale, prepareRfm, rateStart } from './fit.ts';
import { hypSign, lgamma, logDiffExp, logHyp2f1 } from './special.ts';
import { type FitOptions, type FitResult, fillPochhammerLog, integerMax, type RfmData } from './types.ts';

export interface ParetoNbdParams {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

/**
 * log A₀ where A₀/(r+s+x) = ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ, written with 2F1 as in the note:
 * with (m, M) = (min, max) of (α, β) and b = r+x if α < β else s+1,
 * A₀ = F(t_x)/(M+t_x)^(r+s+x) − F(T)/(M+T)^(r+s+x), F(y) = 2F1(r+s+x, b; r+s+x+1; (M−m)/(M+y)).
 */
export function paretoLogA0(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = p;
  let lo: number;
  let hi: number;
  let bb: number;
  if (alpha < beta) {
    lo = alpha;
    hi = beta;
    bb = r + x;
  } else {
    lo = beta;
    hi = alpha;
    bb = s + 1;
  }
  const rsx = r + s + x;
  const diff = hi - lo;
  const q1 = hi + tx;
  const q2 = hi + T;
  const f1 = diff === 0 ? 0 : logHyp2f1(rsx, bb, rsx + 1, diff / q1);
  const s1 = diff === 0 ? 1 : hypSign;
  const f2 = diff === 0 ? 0 : logHyp2f1(rsx, bb, rsx + 1, diff / q2);
  const s2 = diff === 0 ? 1 : hypSign;
  if (s1 < 0 || s2 < 0) return Number.NaN;
  return logDiffExp(f1 - rsx * Math.log(q1), f2 - rsx * Math.log(q2));
}

export function paretoLogLikelihood(p: ParetoNbdParams, d: RfmData, out?: Float64Array): number {
  const { r, alpha, s, beta } = p;
  const n = d.frequency.length;
  const x = d.frequency;
  const w = d.weights;
  const maxX = integerMax(x);
  let tr: Float64Array | null = null;
  if (maxX >= 0) {
    tr = new Float64Array(maxX + 1);
    fillPochhammerLog(r, tr);
  }
  const lgr = lgamma(r);
  const base = r * Math.log(alpha) + s * Math.log(beta);
  const logS = Math.log(s);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const T = d.T[i]!;
    const A1 = (tr ? tr[xi]! : lgamma(r + xi) - lgr) + base;
    const alive = -(r + xi) * Math.log(alpha + T) - s * Math.log(beta + T);
    const logA0 = paretoLogA0(p, xi, d.recency[i]!, T);
    const dead = logS + logA0 - Math.log(r + s + xi);
    let ll: number;
    if (Number.isNaN(logA0)) ll = Number.NaN;
    else if (dead === Number.NEGATIVE_INFINITY) ll = A1 + alive;
    else ll = A1 + (alive > dead ? alive + Math.log1p(Math.exp(dead - alive)) : dead + Math.log1p(Math.exp(alive - dead)));
    if (out) out[i] = ll;
    sum += w ? w[i]! * ll : ll;
  }
  return sum;
}

export function fitParetoNbd(data: RfmData, opts: FitOptions = {}): FitResult<ParetoNbdParams> {
  const startedAt = performance.now();
  const { grouped, customers } = prepareRfm(data);
  return fitOnLogScale<ParetoNbdParams>({
    names: ['r', 'alpha', 's', 'beta'],
    start: opts.start ?? startParetoNbd(grouped),
    customers,
    logLikelihood: (p) => paretoLogLikelihood(p, grouped),
    penalizer: opts.penalizer,
    startedAt,
  });
}

/** r/α from the mean purchase rate (as for BG/NBD), s = 0.5, β = max(1, α). */
function startParetoNbd(d: RfmData): number[] {
  const { r, alpha } = rateStart(d);
  return [r, alpha, 0.5, Math.max(1, alpha)];
}

/** P(alive | x, t_x, T). */
export function paretoProbabilityAlive(p: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = p;
  const logA0 = paretoLogA0(p, x, tx, T);
  if (logA0 === Number.NEGATIVE_INFINITY) return 1;
  const v = Math.log(s / (r + s + x)) + (r + x) * Math.log(alpha + T) + s * Math.log(beta + T) + logA0;
  return 1 / (1 + Math.exp(v));
}

/** E[X(t) | x, t_x, T] = P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)]. */
export function paretoConditionalExpected(p: ParetoNbdParams, t: number, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = p;
  if (t <= 0) return 0;
  const l = Math.log((beta + T) / (beta + T + t));
  // [1 − e^{(s−1) l}] / (s − 1), which tends to −l as s → 1.
  const k = Math.abs(s - 1) < 1e-10 ? -l : -Math.expm1((s - 1) * l) / (s - 1);
  return paretoProbabilityAlive(p, x, tx, T) * (((r + x) * (beta + T)) / (alpha + T)) * k;
}

/** Unconditional E[X(t)] = rβ/(α(s−1)) · [1 − (β/(β+t))^(s−1)]. */
export function paretoExpected(p: ParetoNbdParams, t: number): number {
  const { r, alpha, s, beta } = p;
  const l = Math.log(beta / (beta + t));
  const k = Math.abs(s - 1) < 1e-10 ? -l : -Math.expm1((s - 1) * l) / (s - 1);
  return ((r * beta) / alpha) * k;
}

/**
 * P(X(t) = n) for a new customer: alive through t (an NBD count times (β/(β+t))^s), plus dying at
 * τ < t after n purchases, ∫₀ᵗ NBD(n; r, α, τ) · sβ^s/(β+τ)^(s+1) dτ, integrated numerically
 * (Gauss–Legendre on a log-spaced grid, accurate to ~1e-10 relative).
 */
export function paretoProbabilityOfPurchases(p: ParetoNbdParams, t: number, n: number): number {
  const { r, alpha, s, beta } = p;
  const lc = lgamma(r + n) - lgamma(r) - lgamma(n + 1);
  const logNbd = (tau: number): number =>
    lc + r * Math.log(alpha / (alpha + tau)) + (n > 0 ? n * Math.log(tau / (alpha + tau)) : 0);
  const alive = Math.exp(logNbd(t) + s * Math.log(beta / (beta + t)));
  if (t <= 0) return n === 0 ? 1 : 0;
  const dens = (tau: number): number => Math.exp(logNbd(tau) + Math.log(s) + s * Math.log(beta) - (s + 1) * Math.log(beta + tau));
  return alive + integrate(dens, 0, t);
}

const GL_X = [-0.9739065285171717, -0.8650633666889845, -0.6794095682990244, -0.4333953941292472, -0.1488743389816312, 0.1488743389816312, 0.4333953941292472, 0.6794095682990244, 0.8650633666889845, 0.9739065285171717];
const GL_W = [0.0666713443086881, 0.1494513491505806, 0.219086362515982, 0.2692667193099963, 0.2955242247147529, 0.2955242247147529, 0.2692667193099963, 0.219086362515982, 0.1494513491505806, 0.0666713443086881];

/** ∫_lo^hi f by 10-point Gauss–Legendre on panels that grow geometrically from lo (the integrands peak near 0). */
export function integrate(f: (u: number) => number, lo: number, hi: number): number {
  if (!(hi > lo)) return 0;
  const panels = 60;
  const first = (hi - lo) * 1e-9;
  const ratio = ((hi - lo) / first) ** (1 / panels);
  let total = 0;
  let a = lo;
  let b = lo + first;
  // The first tiny panel [lo, lo+first], then geometric ones.
  for (let k = 0; k <= panels; k++) {
    const mid = 0.5 * (a + b);
    const half = 0.5 * (b - a);
    let sumP = 0;
    for (let i = 0; i < 10; i++) sumP += GL_W[i]! * f(mid + half * GL_X[i]!);
    total += sumP * half;
    a = b;
    b = Math.min(hi, lo + first * ratio ** (k + 1));
  }
  return total;
}

export function paretoConditionalExpectedAll(p: ParetoNbdParams, t: number, d: RfmData): Float64Array {
  const out = new Float64Array(d.frequency.length);
  for (let i = 0; i < out.length; i++) out[i] = paretoConditionalExpected(p, t, d.frequency[i]!, d.recency[i]!, d.T[i]!);
  return out;
}

export function paretoProbabilityAliveAll(p: ParetoNbdParams, d: RfmData): Float64Array {
  const out = new Float64Array(d.frequency.length);
  for (let i = 0; i < out.length; i++) out[i] = paretoProbabilityAlive(p, d.frequency[i]!, d.recency[i]!, d.T[i]!);
  return out;
}
