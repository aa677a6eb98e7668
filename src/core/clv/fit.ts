// The fit every CLV model shares: minimise the mean negative log-likelihood (plus an
// optional L2 penalty) over the parameters on the log scale, then report the fit.
import { minimize } from './optimize.ts';
import { checkRfm, type FitResult, groupRfm, type RfmData } from './types.ts';

export interface LogScaleFit<P> {
  /** Parameter names, in the order of start (and of the optimiser's coordinates). */
  names: readonly (keyof P & string)[];
  /** Starting point on the natural scale. */
  start: readonly number[];
  /** Customers fitted on (sum of weights); the objective is the log-likelihood per customer. */
  customers: number;
  logLikelihood: (params: P) => number;
  /** L2 penalty on the parameters (natural scale); 0 by default. */
  penalizer?: number;
  /** performance.now() when the fit began (so fitMs includes the model's own checks). */
  startedAt: number;
  /** Further warnings about the fitted parameters, after the optimiser's. */
  check?: (params: P) => string[];
  /** ∂ log-likelihood / ∂ parameter (natural scale, in the order of names) into g; false when not available. */
  gradient?: (params: P, g: Float64Array) => boolean;
}

export function fitOnLogScale<P extends Record<keyof P, number>>(spec: LogScaleFit<P>): FitResult<P> {
  const { names, customers, logLikelihood } = spec;
  const penal = spec.penalizer ?? 0;
  const toParams = (th: Float64Array): P => {
    const p = {} as Record<string, number>;
    for (let i = 0; i < names.length; i++) p[names[i]!] = Math.exp(th[i]!);
    return p as P;
  };
  const objective = (th: Float64Array): number => {
    const p = toParams(th);
    let pen = 0;
    if (penal > 0) {
      let squares = 0;
      for (const k of names) squares += p[k] * p[k];
      pen = penal * squares;
    }
    return -logLikelihood(p) / customers + pen;
  };
  const dll = new Float64Array(names.length);
  // Chain rule onto the log scale: ∂/∂θ = p · ∂/∂p, for −LL/customers + penalty · Σ p².
  const gradient = spec.gradient
    ? (th: Float64Array, g: Float64Array): boolean => {
        const p = toParams(th);
        if (!spec.gradient!(p, dll)) return false;
        for (let i = 0; i < names.length; i++) {
          const v = p[names[i]!];
          g[i] = v * (-dll[i]! / customers + 2 * penal * v);
        }
        return true;
      }
    : undefined;
  const res = minimize(objective, spec.start.map(Math.log), { names: [...names], gradient });
  const params = toParams(res.x);
  return {
    params,
    logLikelihood: logLikelihood(params),
    customers,
    converged: res.converged,
    iterations: res.iterations,
    evaluations: res.evaluations,
    fitMs: performance.now() - spec.startedAt,
    warnings: [...res.warnings, ...(spec.check?.(params) ?? [])],
  };
}

/** Checks the summary and groups identical rows; customers is the sum of the weights. */
export function prepareRfm(data: RfmData): { grouped: RfmData; customers: number } {
  checkRfm(data);
  const grouped = groupRfm(data);
  let customers = 0;
  for (const v of grouped.weights!) customers += v;
  return { grouped, customers };
}

/** A moment-style start for the purchase rate λ ~ Gamma(r, α): r = 0.5 and α = r / (mean purchase rate). */
export function rateStart(d: RfmData): { r: number; alpha: number } {
  let sx = 0;
  let sT = 0;
  const w = d.weights!;
  for (let i = 0; i < d.frequency.length; i++) {
    sx += w[i]! * d.frequency[i]!;
    sT += w[i]! * d.T[i]!;
  }
  const rate = sT > 0 ? sx / sT : 0;
  const r = 0.5;
  const alpha = rate > 0 ? Math.min(1e6, Math.max(1e-3, r / rate)) : 1;
  return { r, alpha };
}
