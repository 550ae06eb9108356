/**
 * `since_last_run`: sweep only the indicators a feed did not have at the end of the last completed
 * run. Per feed, the node's state directory holds the 64-bit hashes of the canonical keys of every
 * indicator the feed had when a run last finished its input (`<feed>.keys`, binary: no string per
 * key is built to read or compare it; a v1 text file of keys is still read). At load (and at each refresh) the full
 * store is compared with them: the indicators whose key is not there go into a small store of
 * their own, the one the sweep uses; the full key set is written beside as `<feed>.keys.pending`.
 * When the sweep reaches the end of its input without being stopped, the pending file becomes
 * `<feed>.keys.swept` (a rename: staged); when the run then ends without a failure — every sink's
 * last flush done — the staged file replaces the committed one, so the next run treats today's
 * indicators as known. A run that fails (its last flush included) or is stopped commits nothing:
 * the next run sweeps the same new indicators again.
 *
 * "New" is decided by the indicator's canonical key (normalised value, masked prefix), never by
 * its metadata: a confidence or tag change does not make an indicator new. An indicator removed
 * from the feed leaves the key set at the next commit, so if it comes back later it is new again.
 * A feed seen for the first time (no key file, a renamed feed) is new as a whole: a full sweep.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { renameSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { mix32 } from '../../../src/internal.js';
import type { IndicatorStore, Meta } from './store.js';
import { IndicatorStoreBuilder } from './store-builder.js';

/** The text key file of earlier versions (one canonical key a line): still read, never written. */
const HEADER_V1 = '# sluice ioc-sweep known indicators v1';
/** The binary key file: MAGIC, then a uint32 count, a uint32 0, then `count` (lo, hi) uint32 pairs, little-endian. */
const MAGIC = Buffer.from('SLUICEK2', 'latin1');

/** Where one feed's key files are. */
export interface KeyFiles {
  feed: string;
  committed: string;
  pending: string;
  /** The pending set once the sweep has seen all its input (committed when the run ends well). */
  swept: string;
}

export function keyFiles(stateDir: string, feed: string): KeyFiles {
  const base = join(stateDir, `${encodeURIComponent(feed)}.keys`);
  return { feed, committed: base, pending: `${base}.pending`, swept: `${base}.swept` };
}

/**
 * The 64-bit hash a key is known by: two 32-bit multiplicative lanes over the key's UTF-16 code
 * units (different multipliers and seeds), each finished with murmur3's avalanche. A new indicator
 * is taken for known (and not swept) only when its 64 bits equal those of a known key: for m new
 * and n known keys that is about m·n/2^64 (1M known, 11,000 new: below 10^-9 a run). See
 * docs/feeds.md.
 */
export function keyHash(key: string, out: Uint32Array, at: number): void {
  let a = 0x811c9dc5 ^ key.length;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  out[at] = mix32(a);
  out[at + 1] = mix32(b ^ Math.imul(key.length, 0x27d4eb2f));
}

/**
 * A set of 64-bit key hashes (the keys a feed had when the last run finished), in an open-addressed
 * table of (lo, hi) pairs: no string per key. The pair (0, 0) marks an empty slot; a key that
 * hashes to it is stored as (0, 1) (one more collision pair, same bound).
 */
export class KnownKeys {
  private readonly table: Uint32Array;
  private readonly mask: number;
  /** Distinct hashes held. */
  readonly size: number;
  private readonly tmp = new Uint32Array(2);

  /** From `pairs` (lo, hi, lo, hi...), duplicates counted once. */
  constructor(pairs: Uint32Array) {
    const n = pairs.length >>> 1;
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.table = new Uint32Array(cap * 2);
    this.mask = cap - 1;
    let size = 0;
    for (let i = 0; i < n; i++) if (this.insert(pairs[2 * i]!, pairs[2 * i + 1]!)) size++;
    this.size = size;
  }

  /** The slot holding the hash (lo, hi), or the empty slot where it would go. */
  private slot(lo: number, hi: number): number {
    const t = this.table;
    let s = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const l = t[2 * s]!;
      const h = t[2 * s + 1]!;
      if ((l === lo && h === hi) || (l === 0 && h === 0)) return s;
      s = (s + 1) & this.mask;
    }
  }

  private insert(lo: number, hi: number): boolean {
    if (lo === 0 && hi === 0) hi = 1;
    const s = this.slot(lo, hi);
    const t = this.table;
    if (t[2 * s] === lo && t[2 * s + 1] === hi) return false;
    t[2 * s] = lo;
    t[2 * s + 1] = hi;
    return true;
  }

  /** Whether the hash (lo, hi) is in the set. */
  hasHash(lo: number, hi: number): boolean {
    if (lo === 0 && hi === 0) hi = 1;
    const s = this.slot(lo, hi);
    return this.table[2 * s] === lo && this.table[2 * s + 1] === hi;
  }

  has(key: string): boolean {
    keyHash(key, this.tmp, 0);
    return this.hasHash(this.tmp[0]!, this.tmp[1]!);
  }

  /** From canonical keys (the v1 text file, tests). */
  static ofKeys(keys: Iterable<string>): KnownKeys {
    const list = [...keys];
    const pairs = new Uint32Array(list.length * 2);
    for (let i = 0; i < list.length; i++) keyHash(list[i]!, pairs, 2 * i);
    return new KnownKeys(pairs);
  }
}

/** The keys committed by the last completed run, or null when there is none (first run). */
export async function readKnown(files: KeyFiles): Promise<KnownKeys | null> {
  let buf: Buffer;
  try {
    buf = await readFile(files.committed);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (buf.length >= 16 && buf.subarray(0, 8).equals(MAGIC)) {
    const count = buf.readUInt32LE(8);
    if (buf.length !== 16 + count * 8) throw new Error(`${files.committed}: truncated ioc-sweep key file (${count} keys announced, ${buf.length} bytes)`);
    // A copy: the view must start on a 4-byte boundary (and the file buffer may be pooled).
    const pairs = new Uint32Array(count * 2);
    Buffer.from(pairs.buffer).set(buf.subarray(16));
    if (endianness() !== 'LE') throw new Error(`${files.committed}: binary key files are read on little-endian hosts only`);
    return new KnownKeys(pairs);
  }
  const text = buf.toString('utf8');
  const lines = text.split('\n');
  if (lines[0] !== HEADER_V1) throw new Error(`${files.committed} is not an ioc-sweep key file`);
  return KnownKeys.ofKeys(lines.slice(1).filter((l) => l.length > 0));
}

/** The hashes of every key of a store, as (lo, hi) pairs: what a run commits. */
export type KeyHashes = Uint32Array;

export interface Split {
  /** The indicators not in `known` (all of them when `known` is null), in a store of their own. */
  fresh: IndicatorStore;
  /** The hash of every key of the full store (what the run commits). */
  keys: KeyHashes;
  /** Indicators of the full store already known. */
  known: number;
  /** Keys known before that the feed no longer has. */
  removed: number;
}

/** Split a full store into the indicators new since `known` and the rest. */
export function splitNew(full: IndicatorStore, known: KnownKeys | ReadonlySet<string> | null): Split {
  const hashes = new Uint32Array(full.size * 2);
  let n = 0;
  if (known === null) {
    full.forEachIndicator((k) => {
      keyHash(k, hashes, 2 * n++);
    });
    return { fresh: full, keys: hashes.subarray(0, 2 * n), known: 0, removed: 0 };
  }
  const table = known instanceof KnownKeys ? known : KnownKeys.ofKeys(known);
  const b = new IndicatorStoreBuilder(full.feed);
  let seen = 0;
  full.forEachIndicator((k, metas: readonly Meta[]) => {
    const at = 2 * n++;
    keyHash(k, hashes, at);
    if (table.hasHash(hashes[at]!, hashes[at + 1]!)) {
      seen++;
      return;
    }
    for (const m of metas) b.addKey(k, m);
  });
  return { fresh: b.seal(), keys: hashes.subarray(0, 2 * n), known: seen, removed: Math.max(0, table.size - seen) };
}

/** Write the key hashes as this run's pending commit (written whole, then renamed into place). */
export async function writePending(files: KeyFiles, keys: KeyHashes, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${files.pending}.tmp`;
  const head = Buffer.alloc(16);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(keys.length >>> 1, 8);
  await writeFile(tmp, Buffer.concat([head, Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength)]));
  await rename(tmp, files.pending);
}

function move(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** The sweep saw all its input: stage the pending key set. False when there was nothing pending (already staged). */
export function stage(files: KeyFiles): boolean {
  return move(files.pending, files.swept);
}

/** The run ended well: make the staged key set the committed one. False when nothing was staged. */
export function commit(files: KeyFiles): boolean {
  return move(files.swept, files.committed);
}

/** Drop an uncommitted pending or staged set (the run did not finish its input, or failed). */
export async function discard(files: KeyFiles): Promise<void> {
  await rm(files.pending, { force: true });
  await rm(files.swept, { force: true });
}
