/**
 * A small, fast, seeded pseudo-random number generator (sfc32, 128-bit state) and the helpers the
 * traffic generator needs: integers, picks, weighted picks (alias tables), normal, exponential,
 * log-uniform and Poisson draws. Everything is deterministic for a given seed.
 */

/** Murmur3's 32-bit finaliser: a bijection on 32-bit integers that mixes every bit. */
export function fmix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a list of numbers (each taken as up to 53 bits) into one unsigned 32-bit integer. */
export function hashNumbers(...values: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const value of values) {
    const lo = value >>> 0;
    const hi = Math.floor(value / 4294967296) >>> 0;
    h = fmix32(h ^ Math.imul(lo, 0xcc9e2d51));
    h = fmix32((h + Math.imul(hi ^ 0x1b873593, 0x27d4eb2f)) | 0);
  }
  return h >>> 0;
}

/** Hashes a string (FNV-1a, then mixed) into one unsigned 32-bit integer. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** A seeded sfc32 generator. Not cryptographic: for simulation only. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal = Number.NaN;

  /** `seed` is any number (hashed); `stream` selects an independent sequence for the same seed. */
  constructor(seed: number, stream = 0) {
    let s = hashNumbers(seed, stream);
    const split = (): number => {
      s = (s + 0x9e3779b9) | 0;
      return fmix32(s);
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split() | 1;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A fresh generator whose sequence depends on this one's seed and `label`, not on its position. */
  static derive(seed: number, ...labels: readonly (number | string)[]): Random {
    const parts = labels.map((label) => (typeof label === 'string' ? hashString(label) : label));
    return new Random(hashNumbers(seed, ...parts));
  }

  /** The next unsigned 32-bit integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A float in [min, max). */
  uniform(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Random.pick: empty array');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A standard normal draw scaled to `mean` and `sd` (Box–Muller, the spare value kept). */
  normal(mean = 0, sd = 1): number {
    let z = this.spareNormal;
    if (Number.isNaN(z)) {
      let u = this.next();
      while (u === 0) u = this.next();
      const v = this.next();
      const r = Math.sqrt(-2 * Math.log(u));
      z = r * Math.cos(2 * Math.PI * v);
      this.spareNormal = r * Math.sin(2 * Math.PI * v);
    } else {
      this.spareNormal = Number.NaN;
    }
    return mean + sd * z;
  }

  /** An exponential draw with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** A draw whose logarithm is uniform between log(min) and log(max). */
  logUniform(min: number, max: number): number {
    return min * Math.exp(this.next() * Math.log(max / min));
  }

  /** A Poisson draw (exact for small means, normal approximation above 30). */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < 30) {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k++;
        p *= this.next();
      }
      return k;
    }
    return Math.max(0, Math.round(this.normal(mean, Math.sqrt(mean))));
  }

  /** Shuffles an array in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

/**
 * Weighted choice in O(1) per draw (Vose's alias method), one random number per draw.
 * Weights need not be normalised; zero weights are never drawn.
 */
export class WeightedPicker<T> {
  readonly items: readonly T[];
  private readonly probability: Float64Array;
  private readonly alias: Int32Array;

  constructor(items: readonly T[], weights: readonly number[]) {
    const n = items.length;
    if (n === 0 || weights.length !== n) throw new RangeError('WeightedPicker: items and weights must match');
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isFinite(w))
        throw new RangeError('WeightedPicker: weights must be finite and >= 0');
      total += w;
    }
    if (!(total > 0)) throw new RangeError('WeightedPicker: the weights add up to 0');
    this.items = items;
    this.probability = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = weights.map((w) => (w * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const s = small.pop() as number;
      const l = large.pop() as number;
      this.probability[s] = scaled[s] as number;
      this.alias[s] = l;
      const rest = (scaled[l] as number) + (scaled[s] as number) - 1;
      scaled[l] = rest;
      (rest < 1 ? small : large).push(l);
    }
    for (const i of large) this.probability[i] = 1;
    for (const i of small) this.probability[i] = 1;
  }

  /** The index of a weighted draw. */
  index(rng: Random): number {
    const x = rng.next() * this.probability.length;
    const i = Math.floor(x);
    return x - i < (this.probability[i] as number) ? i : (this.alias[i] as number);
  }

  /** A weighted draw. */
  pick(rng: Random): T {
    return this.items[this.index(rng)] as T;
  }
}
