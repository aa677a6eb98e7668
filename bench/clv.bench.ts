// CLV model fits: each model on the CDNOW sample (median of several warm runs, and the
// first, cold run) and BG/NBD, Pareto/NBD and Gamma-Gamma on a synthetic 1M-customer summary.
import { fitBgBb } from '../src/core/clv/bgbb.ts';
import { fitBgNbd } from '../src/core/clv/bgnbd.ts';
import { fitGammaGamma } from '../src/core/clv/gammagamma.ts';
import { fitParetoNbd } from '../src/core/clv/paretonbd.ts';
import { cdnowSpend, cdnowSummary, donations } from '../src/core/clv/testdata.ts';
import type { RfmData } from '../src/core/clv/types.ts';

function time(label: string, runs: number, fn: () => { logLikelihood: number; evaluations: number }): void {
  const ms: number[] = [];
  // CPU time too: on a shared machine the wall clock counts other processes' work.
  const cpu: number[] = [];
  let last = { logLikelihood: 0, evaluations: 0 };
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = fn();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  console.log(
    `${label.padEnd(44)} median ${median(ms).toFixed(1).padStart(8)} ms (CPU ${median(cpu).toFixed(1)})  first ${ms[0]!.toFixed(1).padStart(8)} ms (CPU ${cpu[0]!.toFixed(1)})  (${runs} runs, ${last.evaluations} evaluations, LL ${last.logLikelihood.toFixed(2)})`,
  );
}

const cd = cdnowSummary();
time('BG/NBD, CDNOW (2,357 customers)', 15, () => fitBgNbd(cd));
time('Pareto/NBD, CDNOW', 9, () => fitParetoNbd(cd));
time('Gamma-Gamma, CDNOW (946 repeat customers)', 15, () => fitGammaGamma(cdnowSpend()));
time('BG/BB, donations (11,104 donors, 22 rows)', 15, () => fitBgBb(donations()));

// Synthetic: simulate BG/NBD customers with CDNOW-like parameters, T up to 52 weeks in days/7.
function synthetic(n: number, seed: number): RfmData & { monetary: Float64Array } {
  let s = seed >>> 0;
  const u = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gamma = (k: number): number => {
    // Marsaglia–Tsang, with the k < 1 boost.
    if (k < 1) return gamma(k + 1) * u() ** (1 / k);
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        const a = u();
        const b = u();
        x = Math.sqrt(-2 * Math.log(a || 1e-300)) * Math.cos(2 * Math.PI * b);
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      if (Math.log(u() || 1e-300) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const frequency = new Float64Array(n);
  const recency = new Float64Array(n);
  const T = new Float64Array(n);
  const monetary = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const Ti = Math.floor(1 + u() * 364) / 7;
    const lambda = gamma(0.25) / 4.4;
    const ga = gamma(0.8);
    const p = ga / (ga + gamma(2.4));
    let t = 0;
    let x = 0;
    let last = 0;
    for (;;) {
      t += -Math.log(1 - u()) / Math.max(lambda, 1e-12);
      if (t > Ti) break;
      x++;
      last = t;
      if (u() < p) break;
    }
    frequency[i] = x;
    recency[i] = Math.round(last * 7) / 7;
    T[i] = Ti;
    monetary[i] = x > 0 ? (gamma(6.25 * x) / (x * gamma(3.74))) * 15.44 : 0;
  }
  return { frequency, recency, T, monetary };
}

const big = synthetic(1_000_000, 42);
time('BG/NBD, synthetic 1M customers', 3, () => fitBgNbd(big));
time('Pareto/NBD, synthetic 1M customers', 1, () => fitParetoNbd(big));
time('Gamma-Gamma, synthetic 1M customers', 1, () => fitGammaGamma(big));
