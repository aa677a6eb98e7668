// BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
// while alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after
// each purchase they drop out with probability p ~ Beta(a, b).
import { fitOnLogScale, prepareRfm, rateStart } from './fit.ts';
import { hyp2f1, hypSign, lbeta, lgamma, logHyp2f1 } from './special.ts';
import { type FitOptions, type FitResult, fillPochhammerLog, integerMax, type RfmData } from './types.ts';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** Per-row log-likelihood into out (or the weighted sum when out is omitted). */
export function bgnbdLogLikelihood(p: BgNbdParams, d: RfmData, out?: Float64Array): number {
  const { r, alpha, a, b } = p;
  const n = d.frequency.length;
  const x = d.frequency;
  const tx = d.recency;
  const T = d.T;
  const w = d.weights;
  const maxX = integerMax(x);
  let tr: Float64Array | null = null;
  let tb: Float64Array | null = null;
  let tab: Float64Array | null = null;
  if (maxX >= 0) {
    tr = new Float64Array(maxX + 1);
    tb = new Float64Array(maxX + 1);
    tab = new Float64Array(maxX + 1);
    fillPochhammerLog(r, tr);
    fillPochhammerLog(b, tb);
    fillPochhammerLog(a + b, tab);
  }
  const rLogAlpha = r * Math.log(alpha);
  const logA = Math.log(a);
  const lgr = tr ? 0 : lgamma(r);
  const lgb = tr ? 0 : lgamma(b);
  const lgab = tr ? 0 : lgamma(a + b);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    let A12: number;
    if (tr) {
      const k = xi;
      A12 = tr[k]! + tb![k]! - tab![k]!;
    } else {
      A12 = lgamma(r + xi) - lgr + lgamma(b + xi) - lgb - lgamma(a + b + xi) + lgab;
    }
    const rx = r + xi;
    const A3 = -rx * Math.log(alpha + T[i]!);
    let ll: number;
    if (xi > 0) {
      const A4 = logA - Math.log(b + xi - 1) - rx * Math.log(alpha + tx[i]!);
      ll = A12 + rLogAlpha + (A3 > A4 ? A3 + Math.log1p(Math.exp(A4 - A3)) : A4 + Math.log1p(Math.exp(A3 - A4)));
    } else ll = A12 + rLogAlpha + A3;
    if (out) out[i] = ll;
    sum += w ? w[i]! * ll : ll;
  }
  return sum;
}

/**
 * ∂ log-likelihood / ∂(r, α, a, b) into g, for whole-number frequencies (the digamma
 * differences are then finite sums, ψ(θ + k) − ψ(θ) = Σ_{j<k} 1/(θ + j)); false otherwise.
 */
export function bgnbdLogLikelihoodGradient(p: BgNbdParams, d: RfmData, g: Float64Array): boolean {
  const maxX = integerMax(d.frequency);
  if (maxX < 0) return false;
  const { r, alpha, a, b } = p;
  // dr[k] = ψ(r + k) − ψ(r), likewise for b and a + b.
  const dr = new Float64Array(maxX + 1);
  const db = new Float64Array(maxX + 1);
  const dab = new Float64Array(maxX + 1);
  for (let k = 1; k <= maxX; k++) {
    dr[k] = dr[k - 1]! + 1 / (r + k - 1);
    db[k] = db[k - 1]! + 1 / (b + k - 1);
    dab[k] = dab[k - 1]! + 1 / (a + b + k - 1);
  }
  const x = d.frequency;
  const tx = d.recency;
  const T = d.T;
  const w = d.weights;
  const logAlpha = Math.log(alpha);
  const logA = Math.log(a);
  let gr = 0;
  let gal = 0;
  let ga = 0;
  let gb = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const wi = w ? w[i]! : 1;
    const rx = r + xi;
    const lT = Math.log(alpha + T[i]!);
    // A3 = −(r+x)·log(α+T); with x > 0 also A4 = log a − log(b+x−1) − (r+x)·log(α+t_x); ll = A12 + r·log α + log(e^A3 + e^A4).
    let vr = dr[xi]! + logAlpha;
    let val = r / alpha;
    let va = -dab[xi]!;
    let vb = db[xi]! - dab[xi]!;
    if (xi > 0) {
      const lt = Math.log(alpha + tx[i]!);
      const A3 = -rx * lT;
      const A4 = logA - Math.log(b + xi - 1) - rx * lt;
      // weights of the two terms in the log-sum: s3 + s4 = 1
      const s4 = 1 / (1 + Math.exp(A3 - A4));
      const s3 = 1 - s4;
      vr += -s3 * lT - s4 * lt;
      val += -s3 * (rx / (alpha + T[i]!)) - s4 * (rx / (alpha + tx[i]!));
      va += s4 / a;
      vb += -s4 / (b + xi - 1);
    } else {
      vr -= lT;
      val -= rx / (alpha + T[i]!);
    }
    gr += wi * vr;
    gal += wi * val;
    ga += wi * va;
    gb += wi * vb;
  }
  g[0] = gr;
  g[1] = gal;
  g[2] = ga;
  g[3] = gb;
  return true;
}

export function fitBgNbd(data: RfmData, opts: FitOptions = {}): FitResult<BgNbdParams> {
  const startedAt = performance.now();
  const { grouped, customers } = prepareRfm(data);
  return fitOnLogScale<BgNbdParams>({
    names: ['r', 'alpha', 'a', 'b'],
    start: opts.start ?? startBgNbd(grouped),
    customers,
    logLikelihood: (p) => bgnbdLogLikelihood(p, grouped),
    gradient: (p, g) => bgnbdLogLikelihoodGradient(p, grouped, g),
    penalizer: opts.penalizer,
    startedAt,
  });
}

/** A moment-style start: r/α from the mean purchase rate, a = 1, b = 3. */
function startBgNbd(d: RfmData): number[] {
  const { r, alpha } = rateStart(d);
  return [r, alpha, 1, 3];
}

/** E[X(t) | x, t_x, T]: expected purchases in the next t periods for a customer with this history. */
export function bgnbdConditionalExpected(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  if (t <= 0) return 0;
  const z = t / (alpha + T + t);
  // 2F1(r+x, b+x; a+b+x−1; z) · ((α+T)/(α+T+t))^(r+x), in logs.
  const logHyp = logHyp2f1(r + x, b + x, a + b + x - 1, z);
  const logPow = (r + x) * Math.log1p(-z);
  // The 2F1 is negative when a + b + x − 1 < 0 (x = 0 and a + b < 1).
  const second = hypSign < 0 ? 1 + Math.exp(logHyp + logPow) : -Math.expm1(logHyp + logPow);
  if (Math.abs(a - 1) < 1e-7) {
    // a = 1 is a removable singularity of the closed form: average either side.
    return 0.5 * (bgnbdConditionalExpected({ ...p, a: 1 + 1e-6 }, t, x, tx, T) + bgnbdConditionalExpected({ ...p, a: 1 - 1e-6 }, t, x, tx, T));
  }
  const num = ((a + b + x - 1) / (a - 1)) * second;
  const den = x > 0 ? 1 + (a / (b + x - 1)) * Math.exp((r + x) * (Math.log(alpha + T) - Math.log(alpha + tx))) : 1;
  return num / den;
}

/** P(alive | x, t_x, T). */
export function bgnbdProbabilityAlive(p: BgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  if (x === 0) return 1;
  const logOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return 1 / (1 + Math.exp(logOdds));
}

/** Unconditional E[X(t)] for a new customer. */
export function bgnbdExpected(p: BgNbdParams, t: number): number {
  const { r, alpha, a, b } = p;
  if (t <= 0) return 0;
  if (Math.abs(a - 1) < 1e-7) {
    // a = 1 is a removable singularity of the closed form: average either side.
    return 0.5 * (bgnbdExpected({ ...p, a: 1 + 1e-6 }, t) + bgnbdExpected({ ...p, a: 1 - 1e-6 }, t));
  }
  const hyp = hyp2f1(r, b, a + b - 1, t / (alpha + t));
  return ((a + b - 1) / (a - 1)) * (1 - Math.exp(r * Math.log(alpha / (alpha + t))) * hyp);
}

/** P(X(t) = n) for a new customer. */
export function bgnbdProbabilityOfPurchases(p: BgNbdParams, t: number, n: number): number {
  const { r, alpha, a, b } = p;
  const la = Math.log(alpha / (alpha + t));
  const lt = Math.log(t / (alpha + t));
  const lbab = lbeta(a, b);
  const first = Math.exp(lbeta(a, b + n) - lbab + lgamma(r + n) - lgamma(r) - lgamma(n + 1) + r * la + (n > 0 ? n * lt : 0));
  if (n === 0) return first;
  let finite = 0;
  for (let j = 0; j < n; j++) finite += Math.exp(lgamma(r + j) - lgamma(r) - lgamma(j + 1) + (j > 0 ? j * lt : 0));
  const second = Math.exp(lbeta(a + 1, b + n - 1) - lbab) * (1 - Math.exp(r * la) * finite);
  return first + second;
}

/** Vectorised helpers over a summary. */
export function bgnbdConditionalExpectedAll(p: BgNbdParams, t: number, d: RfmData): Float64Array {
  const out = new Float64Array(d.frequency.length);
  for (let i = 0; i < out.length; i++) out[i] = bgnbdConditionalExpected(p, t, d.frequency[i]!, d.recency[i]!, d.T[i]!);
  return out;
}

export function bgnbdProbabilityAliveAll(p: BgNbdParams, d: RfmData): Float64Array {
  const out = new Float64Array(d.frequency.length);
  for (let i = 0; i < out.length; i++) out[i] = bgnbdProbabilityAlive(p, d.frequency[i]!, d.recency[i]!, d.T[i]!);
  return out;
}
