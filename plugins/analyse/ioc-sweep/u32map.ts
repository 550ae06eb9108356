/**
 * A hash map from unsigned 32-bit integers to values: open addressing with linear probing over a
 * Uint32Array. IPv4 keys above 2^30 are not V8 small integers, so a `Map<number, …>` boxes each one
 * (slow inserts, ~3× the memory); this keeps a million IPv4 indicators in a few flat arrays.
 */
export class U32Map<V> {
  private keys: Uint32Array;
  private vals: (V | undefined)[];
  private mask: number;
  size = 0;

  constructor(capacity = 16) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.keys = new Uint32Array(cap);
    this.vals = new Array(cap).fill(undefined);
    this.mask = cap - 1;
  }

  private static hash(k: number): number {
    // murmur3 finaliser: spreads sequential addresses across the table
    let h = k ^ (k >>> 16);
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  get(k: number): V | undefined {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = U32Map.hash(k) & mask;
    for (;;) {
      const v = vals[i];
      if (v === undefined) return undefined;
      if (keys[i] === k) return v;
      i = (i + 1) & mask;
    }
  }

  set(k: number, v: V): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = U32Map.hash(k) & mask;
    for (;;) {
      if (vals[i] === undefined) {
        keys[i] = k;
        vals[i] = v;
        this.size++;
        return;
      }
      if (keys[i] === k) {
        vals[i] = v;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = oldKeys.length * 2;
    this.keys = new Uint32Array(cap);
    this.vals = new Array(cap).fill(undefined);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldVals[i] !== undefined) this.set(oldKeys[i]!, oldVals[i]!);
  }
}
