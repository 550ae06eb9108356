/**
 * mulberry32: a tiny, fast, seeded 32-bit PRNG. Deterministic across platforms and Node versions
 * (it uses only 32-bit integer arithmetic), which is all the benchmark data generator needs.
 */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derive an independent stream from a seed and a label, so that adding a stream never shifts another. */
export function subSeed(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h;
}

/** Integer in [0, n). */
export function int(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Integer in [lo, hi]. */
export function between(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

/** A picker over weighted items: cumulative weights, binary search. */
export function weighted<T>(items: readonly (readonly [T, number])[]): (rng: Rng) => T {
  const values = items.map((i) => i[0]);
  const cum: number[] = [];
  let total = 0;
  for (const [, w] of items) {
    total += w;
    cum.push(total);
  }
  return (rng) => {
    const x = rng() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return values[lo]!;
  };
}

/** Zipf-like index in [0, n): a few items very popular, a long tail (web traffic looks like this). */
export function zipfIndex(rng: Rng, n: number, skew = 1.2): number {
  // Inverse-CDF of a continuous power law on [1, n+1), good enough for traffic shaping.
  const u = rng();
  const x = (((n + 1) ** (1 - skew) - 1) * u + 1) ** (1 / (1 - skew));
  const i = Math.floor(x) - 1;
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}
