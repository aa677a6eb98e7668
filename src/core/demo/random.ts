// A seeded pseudo-random generator of our own (sfc32, seeded through
// splitmix32) and the samplers the demo story needs: exponential, normal,
// gamma, beta, poisson. Never Math.random: the same seed gives the same
// business on every machine.
//
// Each customer gets its own generator seeded from (seed, customer index),
// so a customer's history does not depend on batch size or order.

/** splitmix32 step: a well-mixed 32-bit hash of a 32-bit state. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal = Number.NaN;

  /** seed and stream (e.g. customer index) select an independent sequence. */
  constructor(seed: number, stream = 0) {
    const s = mix32(seed ^ 0x5bd1e995);
    const t = mix32(s ^ Math.imul(stream + 1, 0x27d4eb2d));
    this.a = mix32(s + 1);
    this.b = mix32(t + 2);
    this.c = mix32(s ^ t);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** sfc32: next unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** uniform in [0, 1) */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** uniform in [lo, hi) */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** true with probability p */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** exponential with the given mean */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** standard normal (Marsaglia polar, one spare kept) */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const v = this.spareNormal;
      this.spareNormal = Number.NaN;
      return v;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * m;
    return u * m;
  }

  /** gamma with shape k and scale θ (mean kθ); Marsaglia–Tsang. */
  gamma(shape: number, scale: number): number {
    if (shape < 1) {
      // boost: G(k) = G(k+1) · U^(1/k)
      const g = this.gamma(shape + 1, 1);
      return g * (1 - this.next()) ** (1 / shape) * scale;
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x = 0;
      let v = 0;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /** beta(a, b), mean a/(a+b) */
  beta(a: number, b: number): number {
    const x = this.gamma(a, 1);
    const y = this.gamma(b, 1);
    return x / (x + y);
  }

  /** poisson with the given mean: inversion for small means, normal approximation above 40 */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const l = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > l) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** index into cumulative weights (ascending, last = total) */
  weighted(cumulative: readonly number[]): number {
    const x = this.next() * cumulative[cumulative.length - 1]!;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** cumulative sums of weights, for Rng.weighted */
export function cumulative(weights: readonly number[]): number[] {
  const out: number[] = [];
  let s = 0;
  for (const w of weights) {
    s += w;
    out.push(s);
  }
  return out;
}

/** A weighted choice list: values and their cumulative weights. */
export interface Choice<T> {
  values: readonly T[];
  cum: readonly number[];
}

export function choice<T>(pairs: readonly (readonly [T, number])[]): Choice<T> {
  return { values: pairs.map((p) => p[0]), cum: cumulative(pairs.map((p) => p[1])) };
}

export function draw<T>(rng: Rng, c: Choice<T>): T {
  return c.values[rng.weighted(c.cum)]!;
}
