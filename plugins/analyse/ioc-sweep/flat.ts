/**
 * The flat tables behind the indicator store: open-addressing hash tables laid out in typed arrays
 * over SharedArrayBuffers, so that a sealed store can be handed to worker threads by structured
 * clone without copying a byte (the buffers are shared, the views are rebuilt on the other side).
 *
 * - `Arena`: the code units of every stored string (domains, URL keys), one after another; 8 bits
 *   per unit while every unit fits (normalised hosts and WHATWG URL keys are ASCII), widened to 16.
 * - `StrTable`: string → metadata reference. Slots interleave `[hash, entry + 1]` so a probe that
 *   misses reads one cache line and never touches the string; entries hold (offset, length, ref).
 * - `WordTable`: (prefix of 1 or 4 32-bit words, prefix length) → metadata reference, for IPv4 and
 *   IPv6 addresses and ranges; slots are `[word..., length + 1, ref]`.
 * - `Bits`: a bitmap used as a gate in front of the tables (a miss is one bit test).
 *
 * A metadata reference `ref ≥ 0` is an index into the store's `Meta` array; `ref < 0` points into a
 * list of indexes `[count, index...]` at `lists[-ref - 1]` (an indicator given with several
 * distinct metadata, e.g. by two rows of a CSV feed).
 *
 * Tables grow by doubling while loading (new buffers, rehash) and keep a load factor ≤ 1/2.
 */

/** A typed-array constructor over a SharedArrayBuffer (zero-filled). */
export function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4));
}

function sharedU8(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(Math.max(1, n)));
}

function sharedU16(n: number): Uint16Array {
  return new Uint16Array(new SharedArrayBuffer(Math.max(1, n) * 2));
}

function grownI32(a: Int32Array, n: number): Int32Array {
  const b = sharedI32(n);
  b.set(a.length <= n ? a : a.subarray(0, n));
  return b;
}

// ----------------------------------------------------------------------------------------- hashing

/**
 * All hashes are masked with this; tests narrow it to force collisions (see `setHashBitsForTesting`).
 * Module-level, not per store, because the hash functions are free functions on the hot path and a
 * store and its queries must hash alike; only tests ever change it.
 */
let hashMask = -1;

/**
 * Make every hash keep only its low `bits` bits (32 restores full hashes). For tests only: with a
 * few bits every table is a chain of collisions, which exercises the exact-comparison paths. A
 * store must be built and queried under the same setting.
 */
export function setHashBitsForTesting(bits: number): void {
  hashMask = bits >= 32 ? -1 : (1 << bits) - 1;
}

/** The mask `setHashBitsForTesting` set (-1: full hashes); part of a feed snapshot's key. */
export function hashBits(): number {
  return hashMask;
}

/** murmur3's finaliser: every input bit affects every output bit. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) & hashMask;
}

/** FNV-1a's offset basis and prime (`hashRange`; exported for loops that hash as they scan). */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/**
 * Hash of `s[start, end)`, reading right to left (FNV-1a then `fmix`). Right to left so that one
 * pass over a host yields the hash of every label suffix on the way (`hostSuffixes`).
 */
export function hashRange(s: string, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = end - 1; i >= start; i--) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return fmix(h);
}

/** The suffixes of a host, as `hostSuffixes` computes them. Index 0 is the last label; n - 1 is the whole host. */
export class Suffixes {
  n = 0;
  /** Where each suffix starts in the host string. */
  readonly start: Int32Array;
  readonly hash: Int32Array;
  /** Room for `cap` suffixes: `hostSuffixes` needs 130; a copy needs only its own `n`. */
  constructor(cap = 130) {
    this.start = new Int32Array(cap);
    this.hash = new Int32Array(cap);
  }

  /** A copy sized to its suffixes (for keeping). */
  copy(): Suffixes {
    const c = new Suffixes(Math.max(this.n, 1));
    c.n = this.n;
    for (let i = 0; i < this.n; i++) {
      c.start[i] = this.start[i]!;
      c.hash[i] = this.hash[i]!;
    }
    return c;
  }
}

/** `hostSuffixes` result bits. */
export const HOST_NORMAL = 1;
/** Only digits and dots (possibly an IPv4 address). */
export const HOST_DIGITS = 2;
/** Has an underscore (not taken by the URL fast path). */
export const HOST_UNDERSCORE = 4;
/** The last label is all digits or starts with `0x` (WHATWG would read an IPv4 number). */
export const HOST_NUMERIC_TLD = 8;
/** Contains `xn--` (WHATWG would check or decode punycode). */
export const HOST_XN = 16;

/**
 * One right-to-left pass over `s[start, end)`: the hash of the whole range and of every suffix
 * that follows a dot (as `hashRange` would give for each), into `out` (suffix i has i + 1
 * dot-separated labels). Returns flags: `HOST_NORMAL` when the range is a host already in normal
 * form (labels of `[a-z0-9_-]` joined by single dots, no leading/trailing dot, ≤ 253 characters —
 * the host `parseHost` returns unchanged), plus `HOST_*` details. More than 128 suffixes:
 * returns 0 and `out.n = -1` (callers then use the general path).
 */
export function hostSuffixes(s: string, start: number, end: number, out: Suffixes): number {
  let h = FNV_OFFSET;
  let n = 0;
  let normal = end - start <= 253 && end > start;
  let digits = true;
  let underscore = false;
  let labelLen = 0;
  let firstLabel = true;
  let tldDigits = true;
  let xn = false;
  const starts = out.start;
  const hashes = out.hash;
  for (let i = end - 1; i >= start; i--) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (n >= 128) {
        out.n = -1;
        return 0;
      }
      starts[n] = i + 1;
      hashes[n] = fmix(h);
      n++;
      if (labelLen === 0) normal = false;
      if (firstLabel) {
        if (labelLen >= 2 && s.charCodeAt(i + 1) === 48 && s.charCodeAt(i + 2) === 120) tldDigits = true;
        firstLabel = false;
      }
      labelLen = 0;
    } else {
      labelLen++;
      if (c >= 48 && c <= 57) {
        /* digit */
      } else {
        digits = false;
        if (firstLabel) tldDigits = false;
        if (!((c >= 97 && c <= 122) || c === 45)) {
          if (c === 95) underscore = true;
          else normal = false;
        } else if (c === 120 && i + 3 < end && s.charCodeAt(i + 1) === 110 && s.charCodeAt(i + 2) === 45 && s.charCodeAt(i + 3) === 45) {
          xn = true;
        }
      }
    }
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  if (labelLen === 0) normal = false;
  if (firstLabel && labelLen >= 2 && s.charCodeAt(start) === 48 && s.charCodeAt(start + 1) === 120) tldDigits = true;
  starts[n] = start;
  hashes[n] = fmix(h);
  out.n = n + 1;
  if (!normal) return 0;
  return HOST_NORMAL | (digits ? HOST_DIGITS : 0) | (underscore ? HOST_UNDERSCORE : 0) | (tldDigits ? HOST_NUMERIC_TLD : 0) | (xn ? HOST_XN : 0);
}

// ------------------------------------------------------------------------------------------ arena

/** The code units of the stored strings. */
export class Arena {
  data: Uint8Array | Uint16Array;
  used = 0;

  constructor(data?: Uint8Array | Uint16Array, used = 0) {
    this.data = data ?? sharedU8(256);
    this.used = used;
  }

  get wide(): boolean {
    return this.data instanceof Uint16Array;
  }

  /** Append `s`; returns its offset. */
  add(s: string): number {
    const n = s.length;
    if (this.used + n > this.data.length) this.resize(Math.max(this.data.length * 2, this.used + n));
    const off = this.used;
    const d = this.data;
    // one pass: copy, and note a unit that 8 bits cannot hold (then widen and copy again)
    let wide = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      wide |= c;
      d[off + i] = c;
    }
    if (wide > 255 && !(d instanceof Uint16Array)) {
      this.widen();
      const w = this.data;
      for (let i = 0; i < n; i++) w[off + i] = s.charCodeAt(i);
    }
    this.used += n;
    return off;
  }

  /** Append the units `b[start, end)` (bytes of ASCII text); returns their offset. */
  addBytes(b: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (this.used + n > this.data.length) this.resize(Math.max(this.data.length * 2, this.used + n));
    const off = this.used;
    const d = this.data;
    for (let i = 0; i < n; i++) d[off + i] = b[start + i]!;
    this.used += n;
    return off;
  }

  /** Room for `n` more units without growing. */
  reserve(n: number): void {
    if (this.used + n > this.data.length) this.resize(this.used + n);
  }

  private resize(n: number): void {
    const b = this.data instanceof Uint16Array ? sharedU16(n) : sharedU8(n);
    b.set(this.data.subarray(0, this.used));
    this.data = b;
  }

  private widen(): void {
    const b = sharedU16(this.data.length);
    b.set(this.data.subarray(0, this.used));
    this.data = b;
  }

  /** Release the slack. */
  trim(): void {
    if (this.data.length !== this.used) this.resize(this.used);
  }

  /** `s[start, start + len)` equals the stored `[off, off + len)`. */
  equals(off: number, len: number, s: string, start: number): boolean {
    const d = this.data;
    for (let i = 0; i < len; i++) if (d[off + i] !== s.charCodeAt(start + i)) return false;
    return true;
  }

  /** The stored `[off, off + len)` equals the stored `[off2, off2 + len)`. */
  equalsStored(off: number, len: number, off2: number): boolean {
    const d = this.data;
    for (let i = 0; i < len; i++) if (d[off + i] !== d[off2 + i]) return false;
    return true;
  }

  /** The bytes `b[start, start + len)` equal the stored `[off, off + len)`. */
  equalsBytes(off: number, len: number, b: Uint8Array, start: number): boolean {
    const d = this.data;
    for (let i = 0; i < len; i++) if (d[off + i] !== b[start + i]) return false;
    return true;
  }

  text(off: number, len: number): string {
    let out = '';
    const d = this.data;
    for (let i = 0; i < len; i += 4096) out += String.fromCharCode.apply(null, d.subarray(off + i, off + Math.min(len, i + 4096)) as unknown as number[]);
    return out;
  }
}

// -------------------------------------------------------------------------------------- StrTable

/** The flat form of a `StrTable` (buffers shared, not copied). */
export interface StrTableData {
  slots: SharedArrayBuffer;
  entries: SharedArrayBuffer;
  n: number;
}

export class StrTable {
  /** `[hash, entry + 1]` per slot; 0 in the second word is an empty slot. */
  slots: Int32Array;
  mask: number;
  /** `[offset, length, ref]` per entry. */
  entries: Int32Array;
  n = 0;

  constructor(
    readonly arena: Arena,
    data?: StrTableData,
  ) {
    if (data) {
      this.slots = new Int32Array(data.slots);
      this.entries = new Int32Array(data.entries);
      this.n = data.n;
    } else {
      this.slots = sharedI32(2 * 16);
      this.entries = sharedI32(3 * 8);
    }
    this.mask = (this.slots.length >>> 1) - 1;
  }

  /** The entry of `s[start, end)` (hash `h`), or -1. */
  find(s: string, start: number, end: number, h: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const len = end - start;
    let i = h & mask;
    for (;;) {
      const e = slots[2 * i + 1]!;
      if (e === 0) return -1;
      if (slots[2 * i] === h) {
        const k = 3 * (e - 1);
        const entries = this.entries;
        if (entries[k + 1] === len && this.arena.equals(entries[k]!, len, s, start)) return e - 1;
      }
      i = (i + 1) & mask;
    }
  }

  ref(entry: number): number {
    return this.entries[3 * entry + 2]!;
  }
  setRef(entry: number, ref: number): void {
    this.entries[3 * entry + 2] = ref;
  }

  /** Entries appended (`appendBytes`, `appendString`) whose slots are not placed yet: `[hash, entry]` pairs. */
  private pend: Int32Array | null = null;
  private pending = 0;

  /** Entries appended and not placed yet. */
  get pendingCount(): number {
    return this.pending;
  }

  /**
   * Append an entry for the text whose code units are the bytes `b[start, end)` (hash `h`) with
   * `ref`; its slot is placed by `placePending` (until then `find` does not see it).
   */
  appendBytes(b: Uint8Array, start: number, end: number, h: number, ref: number): void {
    const e = this.newEntry(end - start, ref);
    this.entries[3 * e] = this.arena.addBytes(b, start, end);
    this.note(h, e);
  }

  /** `appendBytes` for the string `s`. */
  appendString(s: string, h: number, ref: number): void {
    const e = this.newEntry(s.length, ref);
    this.entries[3 * e] = this.arena.add(s);
    this.note(h, e);
  }

  private newEntry(len: number, ref: number): number {
    if (3 * (this.n + 1) > this.entries.length) this.entries = grownI32(this.entries, 6 * (this.n + 1));
    const e = this.n++;
    this.entries[3 * e + 1] = len;
    this.entries[3 * e + 2] = ref;
    return e;
  }

  private note(h: number, e: number): void {
    if (this.pending === PLACE_BATCH) throw new Error('place the pending entries first');
    const pend = (this.pend ??= new Int32Array(2 * PLACE_BATCH));
    pend[2 * this.pending] = h;
    pend[2 * this.pending + 1] = e;
    this.pending++;
  }

  /**
   * Place the pending entries in the slots, in the order of their home slots: the table is walked
   * front to back once instead of at random per entry. Equal texts share a home and meet there in
   * entry order, so of equal texts the first entry is the one placed; each later one is reported to
   * `dup(kept, dropped)` and taken out of `entries` (later entries move down, slots renumbered; its
   * text stays in the arena, unused). The slots end up holding the same entries as `find` then
   * `insert` per entry would give, possibly in other places within a run of full slots. Returns the
   * number of entries dropped. The owner places them by `PLACE_BATCH` at most (`pendingCount`).
   */
  placePending(dup: (kept: number, dropped: number) => void): number {
    const p = this.pending;
    if (p === 0) return 0;
    this.pending = 0;
    this.reserve(this.n);
    // each loop in a function of its own, this one without any: V8 compiles a hot loop on the spot
    // (on-stack replacement), and code after it that had not run yet threw that code away, batch
    // after batch (20 deopts of this function loading a 1M-indicator list)
    const pend = this.pend!;
    pendingHomes(pend, p, this.mask);
    const order = batchSlotOrder(p, 31 - Math.clz32(this.mask + 1));
    const dead: number[] = [];
    placeInOrder(pend, order, p, this.mask, this.slots, this.entries, this.arena, dup, dead);
    if (dead.length > 0) this.dropEntries(dead.sort((x, y) => x - y));
    return dead.length;
  }

  /** Take the entries `dead` (ascending; none of them in a slot) out: later entries move down, slots renumbered. */
  private dropEntries(dead: number[]): void {
    const n = this.n;
    const first = dead[0]!;
    const entries = this.entries;
    const remap = new Int32Array(n - first); // entry first + i → its new index
    let w = first;
    let d = 0;
    for (let e = first; e < n; e++) {
      if (d < dead.length && dead[d] === e) {
        d++;
        continue;
      }
      remap[e - first] = w;
      entries[3 * w] = entries[3 * e]!;
      entries[3 * w + 1] = entries[3 * e + 1]!;
      entries[3 * w + 2] = entries[3 * e + 2]!;
      w++;
    }
    this.n = w;
    if (w === first) return; // only the last entries dropped: no slot holds a moved one
    const slots = this.slots;
    for (let j = 1; j < slots.length; j += 2) {
      const v = slots[j]!;
      if (v > first) slots[j] = remap[v - 1 - first]! + 1;
    }
  }

  /** Room for `n` entries in all without growing (a load sized ahead avoids the rehashes of doubling). */
  reserve(n: number): void {
    let cap = this.mask + 1;
    while (cap < 2 * n) cap *= 2;
    if (cap > this.mask + 1) this.rehash(cap);
    if (3 * n > this.entries.length) this.entries = grownI32(this.entries, 3 * n);
  }

  /** Add `s` (not present; hash `h`) with `ref`. */
  insert(s: string, h: number, ref: number): void {
    if ((this.n + 1) * 2 > this.mask + 1) this.rehash(2 * (this.mask + 1));
    if (3 * (this.n + 1) > this.entries.length) this.entries = grownI32(this.entries, 6 * (this.n + 1));
    const e = this.n++;
    this.entries[3 * e] = this.arena.add(s);
    this.entries[3 * e + 1] = s.length;
    this.entries[3 * e + 2] = ref;
    this.place(h, e + 1);
  }

  /**
   * The entry of the text whose code units are the bytes `b[start, end)` (hash `h`), or, when it is
   * not there, -1 after adding it with `ref`: `find` then `insert` in one probe (the table ends up
   * exactly as after the two).
   */
  findOrAddBytes(b: Uint8Array, start: number, end: number, h: number, ref: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const len = end - start;
    let i = h & mask;
    for (;;) {
      const e = slots[2 * i + 1]!;
      if (e === 0) break;
      if (slots[2 * i] === h) {
        const k = 3 * (e - 1);
        if (this.entries[k + 1] === len && this.arena.equalsBytes(this.entries[k]!, len, b, start)) return e - 1;
      }
      i = (i + 1) & mask;
    }
    if (3 * (this.n + 1) > this.entries.length) this.entries = grownI32(this.entries, 6 * (this.n + 1));
    const e = this.n++;
    this.entries[3 * e] = this.arena.addBytes(b, start, end);
    this.entries[3 * e + 1] = len;
    this.entries[3 * e + 2] = ref;
    if (this.n * 2 > mask + 1) {
      this.rehash(2 * (mask + 1));
      this.place(h, e + 1);
    } else {
      slots[2 * i] = h;
      slots[2 * i + 1] = e + 1;
    }
    return -1;
  }

  private place(h: number, e1: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
    slots[2 * i] = h;
    slots[2 * i + 1] = e1;
  }

  private rehash(cap: number): void {
    const old = this.slots;
    this.slots = sharedI32(2 * cap);
    this.mask = cap - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]!);
  }

  trim(): void {
    if (this.pending > 0) throw new Error('place the pending entries first');
    this.pend = null;
    if (this.entries.length !== 3 * this.n) this.entries = grownI32(this.entries, 3 * this.n);
  }

  text(entry: number): string {
    return this.arena.text(this.entries[3 * entry]!, this.entries[3 * entry + 1]!);
  }

  data(): StrTableData {
    return { slots: this.slots.buffer as SharedArrayBuffer, entries: this.entries.buffer as SharedArrayBuffer, n: this.n };
  }

  get bytes(): number {
    return this.slots.byteLength + this.entries.byteLength;
  }
}

// ------------------------------------------------------------------------------------- WordTable

export interface WordTableData {
  slots: SharedArrayBuffer;
  n: number;
}

/** Hash of a prefix key: its words and its length. */
export function wordHash(w0: number, w1: number, w2: number, w3: number, len: number): number {
  let h = Math.imul(w0 ^ Math.imul(len, 0x9e3779b1), 0xcc9e2d51);
  h = Math.imul((h << 13) | (h >>> 19), 5) ^ w1;
  h = Math.imul(h ^ (h >>> 15), 0x1b873593) ^ w2;
  h = Math.imul(h ^ (h >>> 13), 0x85ebca6b) ^ w3;
  return fmix(h);
}

/** (key words, prefix length) → ref. `words` is 1 (IPv4) or 4 (IPv6); a slot is `[word..., len + 1, ref]`. */
export class WordTable {
  slots: Int32Array;
  mask: number;
  n = 0;
  readonly stride: number;

  constructor(
    readonly words: 1 | 4,
    data?: WordTableData,
  ) {
    this.stride = words + 2;
    this.slots = data ? new Int32Array(data.slots) : sharedI32(this.stride * 16);
    this.n = data?.n ?? 0;
    this.mask = this.slots.length / this.stride - 1;
  }

  /** The slot index of the key, or -1. Unused words are 0. */
  find(w0: number, w1: number, w2: number, w3: number, len: number): number {
    const slots = this.slots;
    const stride = this.stride;
    const mask = this.mask;
    const tag = len + 1;
    let i = wordHash(w0, w1, w2, w3, len) & mask;
    for (;;) {
      const k = i * stride;
      const t = slots[k + stride - 2]!;
      if (t === 0) return -1;
      if (t === tag && slots[k] === w0 && (stride === 3 || (slots[k + 1] === w1 && slots[k + 2] === w2 && slots[k + 3] === w3))) return k;
      i = (i + 1) & mask;
    }
  }

  ref(slot: number): number {
    return this.slots[slot + this.stride - 1]!;
  }
  setRef(slot: number, ref: number): void {
    this.slots[slot + this.stride - 1] = ref;
  }

  /** Room for `n` keys in all without growing. */
  reserve(n: number): void {
    let cap = this.mask + 1;
    while (cap < 2 * n) cap *= 2;
    if (cap > this.mask + 1) this.rehash(cap);
  }

  insert(w0: number, w1: number, w2: number, w3: number, len: number, ref: number): void {
    if ((this.n + 1) * 2 > this.mask + 1) this.rehash(2 * (this.mask + 1));
    this.n++;
    this.place(w0, w1, w2, w3, len, ref);
  }

  /**
   * The slot of the key, or, when it is not there, -1 after adding it with `ref`: `find` then
   * `insert` in one probe (the table ends up exactly as after the two).
   */
  findOrAdd(w0: number, w1: number, w2: number, w3: number, len: number, ref: number): number {
    const slots = this.slots;
    const stride = this.stride;
    const mask = this.mask;
    const tag = len + 1;
    let i = wordHash(w0, w1, w2, w3, len) & mask;
    let k: number;
    for (;;) {
      k = i * stride;
      const t = slots[k + stride - 2]!;
      if (t === 0) break;
      if (t === tag && slots[k] === w0 && (stride === 3 || (slots[k + 1] === w1 && slots[k + 2] === w2 && slots[k + 3] === w3))) return k;
      i = (i + 1) & mask;
    }
    if ((this.n + 1) * 2 > mask + 1) {
      this.rehash(2 * (mask + 1));
      this.n++;
      this.place(w0, w1, w2, w3, len, ref);
      return -1;
    }
    this.n++;
    slots[k] = w0;
    if (stride === 6) {
      slots[k + 1] = w1;
      slots[k + 2] = w2;
      slots[k + 3] = w3;
    }
    slots[k + stride - 2] = tag;
    slots[k + stride - 1] = ref;
    return -1;
  }

  /** The slot a one-word key's probe starts at. */
  home1(w0: number, len: number): number {
    return wordHash(w0, 0, 0, 0, len) & this.mask;
  }

  /** The slot a key's probe starts at. */
  home(w0: number, w1: number, w2: number, w3: number, len: number): number {
    return wordHash(w0, w1, w2, w3, len) & this.mask;
  }

  /** log2 of the slot count. */
  get slotBits(): number {
    return 31 - Math.clz32(this.mask + 1);
  }

  /** `findOrAdd` in a table of one word per key (IPv4): the same probe, slots and growth. */
  findOrAdd1(w0: number, len: number, ref: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const tag = len + 1;
    let i = wordHash(w0, 0, 0, 0, len) & mask;
    for (;;) {
      const k = 3 * i;
      const t = slots[k + 1]!;
      if (t === 0) {
        if ((this.n + 1) * 2 > mask + 1) {
          this.rehash(2 * (mask + 1));
          this.n++;
          this.place(w0, 0, 0, 0, len, ref);
          return -1;
        }
        this.n++;
        slots[k] = w0;
        slots[k + 1] = tag;
        slots[k + 2] = ref;
        return -1;
      }
      if (t === tag && slots[k] === w0) return k;
      i = (i + 1) & mask;
    }
  }

  private place(w0: number, w1: number, w2: number, w3: number, len: number, ref: number): void {
    const slots = this.slots;
    const stride = this.stride;
    const mask = this.mask;
    let i = wordHash(w0, w1, w2, w3, len) & mask;
    while (slots[i * stride + stride - 2] !== 0) i = (i + 1) & mask;
    const k = i * stride;
    slots[k] = w0;
    if (stride === 6) {
      slots[k + 1] = w1;
      slots[k + 2] = w2;
      slots[k + 3] = w3;
    }
    slots[k + stride - 2] = len + 1;
    slots[k + stride - 1] = ref;
  }

  private rehash(cap: number): void {
    const old = this.slots;
    const stride = this.stride;
    this.slots = sharedI32(stride * cap);
    this.mask = cap - 1;
    for (let k = 0; k < old.length; k += stride) {
      const t = old[k + stride - 2]!;
      if (t === 0) continue;
      if (stride === 3) this.place(old[k]!, 0, 0, 0, t - 1, old[k + 2]!);
      else this.place(old[k]!, old[k + 1]!, old[k + 2]!, old[k + 3]!, t - 1, old[k + 5]!);
    }
  }

  /** Every occupied slot (for building gates). */
  forEach(fn: (slot: number, len: number) => void): void {
    const slots = this.slots;
    const stride = this.stride;
    for (let k = 0; k < slots.length; k += stride) {
      const t = slots[k + stride - 2]!;
      if (t !== 0) fn(k, t - 1);
    }
  }

  data(): WordTableData {
    return { slots: this.slots.buffer as SharedArrayBuffer, n: this.n };
  }

  get bytes(): number {
    return this.slots.byteLength;
  }
}

// ---------------------------------------------------------------------------------- slot order

/** Pending inserts placed at a time (`StrTable.placePending`, the builder's IPv4 and IPv6 batches): 64–384 KB of scratch each. */
export const PLACE_BATCH = 1 << 14;

/** Scratch of the batch being placed (one batch at a time in a thread): home slots, and their order. */
let batchHomes: Int32Array | null = null;
let batchOrder: Int32Array | null = null;

/** The home slots of a string table's `p` pending entries (`[hash, entry]` pairs) into `batchHomeSlots()`. */
function pendingHomes(pend: Int32Array, p: number, mask: number): void {
  const homes = batchHomeSlots();
  for (let i = 0; i < p; i++) homes[i] = pend[2 * i]! & mask;
}

/**
 * `StrTable.placePending`'s placing: each pending entry, in `order`, into the first free slot from its
 * home, unless an equal text is met there first (then `dup` is told and the entry pushed on `dead`).
 */
function placeInOrder(
  pend: Int32Array,
  order: Int32Array,
  p: number,
  mask: number,
  slots: Int32Array,
  entries: Int32Array,
  arena: Arena,
  dup: (kept: number, dropped: number) => void,
  dead: number[],
): void {
  for (let k = 0; k < p; k++) {
    const i = order[k]!;
    const h = pend[2 * i]!;
    const e = pend[2 * i + 1]!;
    const len = entries[3 * e + 1]!;
    let j = h & mask;
    for (;;) {
      const v = slots[2 * j + 1]!;
      if (v === 0) {
        slots[2 * j] = h;
        slots[2 * j + 1] = e + 1;
        break;
      }
      if (slots[2 * j] === h) {
        const kk = 3 * (v - 1);
        if (entries[kk + 1] === len && arena.equalsStored(entries[kk]!, len, entries[3 * e]!)) {
          dup(v - 1, e);
          dead.push(e);
          break;
        }
      }
      j = (j + 1) & mask;
    }
  }
}

/** The home-slot scratch for a batch (`PLACE_BATCH` at most), to fill before `batchSlotOrder`. */
export function batchHomeSlots(): Int32Array {
  return (batchHomes ??= new Int32Array(PLACE_BATCH));
}

/** `slotOrder` of the first `n` of `batchHomeSlots()`, into scratch of its own. */
export function batchSlotOrder(n: number, bits: number): Int32Array {
  return slotOrder(batchHomes!, n, bits, (batchOrder ??= new Int32Array(PLACE_BATCH)));
}

/** Buckets of `slotOrder`: 2^11. */
const ORDER_BITS = 11;
/** Below this many keys `slotOrder` keeps index order (the walk saves nothing; the count pass would cost). */
export const ORDER_MIN = 256;
const orderCount = new Int32Array(1 << ORDER_BITS);

/**
 * The indexes `0 … n-1` ordered by the top bits of their home slots `homes[i]` (each in
 * `[0, 2^bits)`), equal buckets in index order (one counting-sort pass into `out`). Inserting keys in
 * this order walks a table front to back instead of jumping over all of it (a cache and TLB miss per
 * key): a bucket spans at most 1/2048 of the slots. Fewer than `ORDER_MIN` keys stay in index order.
 */
export function slotOrder(homes: Int32Array, n: number, bits: number, out: Int32Array): Int32Array {
  if (n < ORDER_MIN) {
    for (let i = 0; i < n; i++) out[i] = i;
    return out;
  }
  const shift = bits > ORDER_BITS ? bits - ORDER_BITS : 0;
  // one function per pass: a function holding all three was compiled on its first loop (on-stack
  // replacement) and thrown away on reaching the next, call after call
  countBuckets(homes, n, shift);
  bucketStarts();
  placeByBucket(homes, n, shift, out);
  return out;
}

function countBuckets(homes: Int32Array, n: number, shift: number): void {
  const count = orderCount;
  count.fill(0);
  for (let i = 0; i < n; i++) count[homes[i]! >>> shift]!++;
}

function bucketStarts(): void {
  const count = orderCount;
  let sum = 0;
  for (let d = 0; d < count.length; d++) {
    const c = count[d]!;
    count[d] = sum;
    sum += c;
  }
}

function placeByBucket(homes: Int32Array, n: number, shift: number, out: Int32Array): void {
  const count = orderCount;
  for (let i = 0; i < n; i++) out[count[homes[i]! >>> shift]!++] = i;
}

// ------------------------------------------------------------------------------------------- bits

/** A bitmap of 2^bits bits. */
export class Bits {
  readonly words: Int32Array;
  /** 32 - bits: a 32-bit value's top `bits` bits are `v >>> shift`. */
  readonly shift: number;

  constructor(
    readonly bits: number,
    buf?: SharedArrayBuffer,
  ) {
    this.words = buf ? new Int32Array(buf) : sharedI32(Math.max(1, 2 ** bits / 32));
    this.shift = 32 - bits;
  }

  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }
  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  get bytes(): number {
    return this.words.byteLength;
  }
}

/** Bits for a gate over `n` keys: about 32 bits per key (≈ 3% false positives), 2^8 … 2^24 bits. */
export function gateBits(n: number): number {
  let b = 8;
  while (b < 24 && 2 ** b < n * 32) b++;
  return b;
}

// ------------------------------------------------------------------------------------------ lists

/** Growable list storage of metadata references: `[count, index...]` runs. */
export class RefLists {
  data: Int32Array;
  used: number;

  constructor(buf?: SharedArrayBuffer, used = 0) {
    this.data = buf ? new Int32Array(buf) : sharedI32(16);
    this.used = used;
  }

  /** A new list `[...old items, idx]`; returns its ref (negative). */
  push(items: ArrayLike<number>, from: number, count: number, idx: number): number {
    const need = this.used + count + 2;
    if (need > this.data.length) this.data = grownI32(this.data, Math.max(2 * this.data.length, need));
    const at = this.used;
    const d = this.data;
    d[at] = count + 1;
    for (let i = 0; i < count; i++) d[at + 1 + i] = items[from + i]!;
    d[at + 1 + count] = idx;
    this.used = need;
    return -(at + 1);
  }

  trim(): void {
    if (this.data.length !== this.used) this.data = grownI32(this.data, this.used);
  }
}
