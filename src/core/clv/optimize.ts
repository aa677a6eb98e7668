// Unconstrained minimisation for the CLV likelihoods. The models optimise their
// parameters on the log scale, so every point is valid; the objective may still
// return NaN or ±Infinity at extreme points, which count as +Infinity here.
//
// Strategy: BFGS with the model's analytic gradient where it has one (else, or where
// that is not finite, central differences) and a backtracking (Armijo)
// line search; when it stalls, a Nelder–Mead restart from the best point, then
// BFGS again. The best point seen is always what comes back: never NaN, with
// warnings when the optimum is at a bound or the likelihood is flat in some direction.

export interface MinimizeOptions {
  /** Box on every coordinate (on the log scale: e^±30 by default). Outside it the objective is +Infinity. */
  lower?: number;
  upper?: number;
  /** Converged when the largest gradient component is below gradTol · max(1, |f|). */
  gradTol?: number;
  maxIterations?: number;
  /** Nelder–Mead + BFGS restarts after the first BFGS run when it did not converge. */
  restarts?: number;
  /** Names for the warnings. */
  names?: string[];
  /**
   * The objective's gradient at x into g, when the model has it in closed form: one pass over
   * the data instead of 2n for central differences. Return false (or leave a NaN) to fall back.
   */
  gradient?: (x: Float64Array, g: Float64Array) => boolean;
}

export interface MinimizeResult {
  x: Float64Array;
  fx: number;
  converged: boolean;
  iterations: number;
  evaluations: number;
  gradientNorm: number;
  warnings: string[];
}

export function minimize(objective: (x: Float64Array) => number, x0: ArrayLike<number>, opts: MinimizeOptions = {}): MinimizeResult {
  const n = x0.length;
  const lower = opts.lower ?? -30;
  const upper = opts.upper ?? 30;
  const gradTol = opts.gradTol ?? 1e-7;
  const maxIter = opts.maxIterations ?? 500;
  const restarts = opts.restarts ?? 3;
  const names = opts.names ?? Array.from({ length: n }, (_, i) => `x${i}`);
  let evaluations = 0;
  let iterations = 0;
  const best = { x: Float64Array.from(x0), f: Number.POSITIVE_INFINITY };

  const f = (x: Float64Array): number => {
    evaluations++;
    for (let i = 0; i < n; i++) if (!(x[i]! >= lower && x[i]! <= upper)) return Number.POSITIVE_INFINITY;
    const v = objective(x);
    const out = Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
    if (out < best.f) {
      best.f = out;
      best.x.set(x);
    }
    return out;
  };

  const analytic = opts.gradient;
  const grad = (x: Float64Array, fx: number, g: Float64Array): void => {
    if (analytic?.(x, g)) {
      let finite = true;
      for (let i = 0; i < n; i++) if (!Number.isFinite(g[i]!)) finite = false;
      if (finite) return;
    }
    const xt = Float64Array.from(x);
    for (let i = 0; i < n; i++) {
      const h = 1e-5 * Math.max(1, Math.abs(x[i]!));
      xt[i] = x[i]! + h;
      const fp = f(xt);
      xt[i] = x[i]! - h;
      const fm = f(xt);
      xt[i] = x[i]!;
      if (Number.isFinite(fp) && Number.isFinite(fm)) g[i] = (fp - fm) / (2 * h);
      else if (Number.isFinite(fp)) g[i] = (fp - fx) / h;
      else if (Number.isFinite(fm)) g[i] = (fx - fm) / h;
      else g[i] = 0;
    }
  };

  const gnorm = (g: Float64Array): number => {
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(g[i]!));
    return m;
  };

  /** BFGS from x; returns whether the gradient test passed. */
  const bfgs = (start: Float64Array): boolean => {
    const x = Float64Array.from(start);
    let fx = f(x);
    if (!Number.isFinite(fx)) return false;
    const g = new Float64Array(n);
    grad(x, fx, g);
    // Inverse Hessian approximation, row-major.
    const H = new Float64Array(n * n);
    for (let i = 0; i < n; i++) H[i * n + i] = 1;
    const d = new Float64Array(n);
    const xn = new Float64Array(n);
    const gn = new Float64Array(n);
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    const Hy = new Float64Array(n);
    let stall = 0;
    for (let it = 0; it < maxIter; it++) {
      iterations++;
      if (gnorm(g) < gradTol * Math.max(1, Math.abs(fx))) return true;
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v -= H[i * n + j]! * g[j]!;
        d[i] = v;
      }
      let slope = 0;
      for (let i = 0; i < n; i++) slope += d[i]! * g[i]!;
      if (!(slope < 0)) {
        // Not a descent direction: reset to steepest descent.
        H.fill(0);
        for (let i = 0; i < n; i++) {
          H[i * n + i] = 1;
          d[i] = -g[i]!;
        }
        slope = 0;
        for (let i = 0; i < n; i++) slope += d[i]! * g[i]!;
      }
      // Cap the step at 5 log units per coordinate.
      let dmax = 0;
      for (let i = 0; i < n; i++) dmax = Math.max(dmax, Math.abs(d[i]!));
      let step = dmax > 5 ? 5 / dmax : 1;
      let fn = Number.POSITIVE_INFINITY;
      let ok = false;
      for (let ls = 0; ls < 60; ls++) {
        for (let i = 0; i < n; i++) xn[i] = x[i]! + step * d[i]!;
        fn = f(xn);
        if (fn <= fx + 1e-4 * step * slope) {
          ok = true;
          break;
        }
        step *= ls < 2 ? 0.5 : 0.25;
      }
      if (!ok) return false;
      grad(xn, fn, gn);
      let sy = 0;
      for (let i = 0; i < n; i++) {
        s[i] = xn[i]! - x[i]!;
        y[i] = gn[i]! - g[i]!;
        sy += s[i]! * y[i]!;
      }
      const improvement = fx - fn;
      x.set(xn);
      g.set(gn);
      fx = fn;
      if (improvement < 1e-12 * Math.max(1, Math.abs(fx))) {
        if (++stall >= 3) return gnorm(g) < 1e-3 * Math.max(1, Math.abs(fx));
      } else stall = 0;
      if (sy > 1e-12) {
        // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
        const rho = 1 / sy;
        let yHy = 0;
        for (let i = 0; i < n; i++) {
          let v = 0;
          for (let j = 0; j < n; j++) v += H[i * n + j]! * y[j]!;
          Hy[i] = v;
          yHy += y[i]! * v;
        }
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            H[i * n + j] = H[i * n + j]! - rho * (Hy[i]! * s[j]! + s[i]! * Hy[j]!) + (rho * rho * yHy + rho) * s[i]! * s[j]!;
          }
        }
      }
    }
    return false;
  };

  const nelderMead = (start: Float64Array, scale: number, maxEval: number): void => {
    const pts: Float64Array[] = [Float64Array.from(start)];
    for (let i = 0; i < n; i++) {
      const p = Float64Array.from(start);
      p[i] = p[i]! + scale;
      pts.push(p);
    }
    const fs = pts.map((p) => f(p));
    const centroid = new Float64Array(n);
    const trial = (t: number, worst: Float64Array): Float64Array => {
      const p = new Float64Array(n);
      for (let i = 0; i < n; i++) p[i] = centroid[i]! + t * (worst[i]! - centroid[i]!);
      return p;
    };
    const stopAt = evaluations + maxEval;
    while (evaluations < stopAt) {
      iterations++;
      const order = fs.map((_, i) => i).sort((i, j) => fs[i]! - fs[j]!);
      const sp = order.map((i) => pts[i]!);
      const sf = order.map((i) => fs[i]!);
      pts.splice(0, pts.length, ...sp);
      fs.splice(0, fs.length, ...sf);
      const spread = Math.abs(fs[n]! - fs[0]!);
      let size = 0;
      for (let k = 1; k <= n; k++) for (let i = 0; i < n; i++) size = Math.max(size, Math.abs(pts[k]![i]! - pts[0]![i]!));
      if ((Number.isFinite(spread) && spread < 1e-10 * Math.max(1, Math.abs(fs[0]!))) || size < 1e-9) break;
      centroid.fill(0);
      for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) centroid[i] = centroid[i]! + pts[k]![i]! / n;
      const worst = pts[n]!;
      const xr = trial(-1, worst);
      const fr = f(xr);
      if (fr < fs[0]!) {
        const xe = trial(-2, worst);
        const fe = f(xe);
        if (fe < fr) {
          pts[n] = xe;
          fs[n] = fe;
        } else {
          pts[n] = xr;
          fs[n] = fr;
        }
      } else if (fr < fs[n - 1]!) {
        pts[n] = xr;
        fs[n] = fr;
      } else {
        const xc = fr < fs[n]! ? trial(-0.5, worst) : trial(0.5, worst);
        const fc = f(xc);
        if (fc < Math.min(fr, fs[n]!)) {
          pts[n] = xc;
          fs[n] = fc;
        } else {
          for (let k = 1; k <= n; k++) {
            for (let i = 0; i < n; i++) pts[k]![i] = pts[0]![i]! + 0.5 * (pts[k]![i]! - pts[0]![i]!);
            fs[k] = f(pts[k]!);
          }
        }
      }
    }
  };

  const warnings: string[] = [];
  f(best.x);
  if (!Number.isFinite(best.f)) {
    // The start is unusable: look around it with a wide simplex first.
    nelderMead(best.x, 2, 400 * n);
  }
  let converged = bfgs(Float64Array.from(best.x));
  for (let r = 0; r < restarts && !converged; r++) {
    nelderMead(Float64Array.from(best.x), r === 0 ? 0.5 : 1.5, 300 * n);
    converged = bfgs(Float64Array.from(best.x));
  }
  // A final check at the best point.
  const g = new Float64Array(n);
  if (Number.isFinite(best.f)) grad(Float64Array.from(best.x), best.f, g);
  const gradientNorm = gnorm(g);
  if (!Number.isFinite(best.f)) warnings.push('the objective is not finite anywhere the optimiser looked');
  else if (!converged) warnings.push(`the optimiser stopped before the gradient test passed (largest gradient ${gradientNorm.toPrecision(3)})`);
  for (let i = 0; i < n; i++) {
    if (best.x[i]! <= lower + 1 || best.x[i]! >= upper - 1) {
      warnings.push(`${names[i]} went to the edge of its range (log ${best.x[i]!.toFixed(1)}): the likelihood is flat there and the estimate is not identified by these data`);
    }
  }
  if (Number.isFinite(best.f)) {
    // Flat directions: a log-unit move that changes the objective by almost nothing.
    const xt = Float64Array.from(best.x);
    const fx = best.f;
    for (let i = 0; i < n; i++) {
      if (best.x[i]! <= lower + 1 || best.x[i]! >= upper - 1) continue;
      xt[i] = best.x[i]! + 1;
      const fp = objective(xt);
      xt[i] = best.x[i]! - 1;
      const fm = objective(xt);
      xt[i] = best.x[i]!;
      const change = Math.min(Number.isFinite(fp) ? fp - fx : Number.POSITIVE_INFINITY, Number.isFinite(fm) ? fm - fx : Number.POSITIVE_INFINITY);
      if (change < 1e-6 * Math.max(1, Math.abs(fx))) warnings.push(`the likelihood is flat in ${names[i]}: the estimate is not identified by these data`);
    }
  }
  return { x: best.x, fx: best.f, converged, iterations, evaluations, gradientNorm, warnings };
}
