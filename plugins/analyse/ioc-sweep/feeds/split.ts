/**
 * A large plain list loaded on two threads. Part of a list's load time is parsing (split lines,
 * classify, parse addresses, normalise hosts and URLs, hash); the rest is inserting into the tables,
 * which only one thread can do. So the main thread reads the head of the bytes into the store as
 * usual, while a worker thread parses the tail into a record of the store calls it would make
 * (`OpRecorder`: numbers, hashes, and where in the bytes a domain or URL key is — the bytes are one
 * SharedArrayBuffer both threads read — or a canonical string for the values the byte loop leaves to
 * `add`), posted in chunks; the main thread then replays the chunks in order (`replayOps`). Every
 * call reaches the store in line order, exactly as the sequential loader makes it, so the store, its
 * counts and the tally are the same (the tests check). A worker that cannot start or fails leaves
 * the rest to the main thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hashRange } from '../flat.js';
import { hexWord, type Meta } from '../store.js';
import { IndicatorParser, domainLabels, urlKeyHostHash, type IndicatorStoreBuilder } from '../store-builder.js';
import { SPLIT_MIN_CHARS, bomLength, feedBytes, loadPlain, plainBytes, reserveFor, type PlainPosition } from './plain.js';
import type { FeedInput, LoadContext } from './types.js';

/** The share of the text the main thread reads straight into the store, while the worker starts on the rest. */
const HEAD_SHARE = 0.35;
/** Bytes per chunk of the rest (about 20 000 lines of a typical list). */
const CHUNK_CHARS = 1 << 19;

const OP_V4 = 1;
const OP_V6 = 2;
const OP_DOMAIN = 3;
const OP_URL = 4;
const OP_URL_PAIR = 5;
const OP_V4_PORT = 6;
const OP_V6_PORT = 7;
const OP_DOMAIN_AT = 8;
const OP_URL_AT = 9;

/**
 * Parses values like the builder and writes down, instead of inserting, what it would insert: an
 * Int32 stream of operations and their numbers (hashes computed here), and the canonical strings.
 * Every value it records is replayed with one meta (a plain list has only the feed's).
 */
export class OpRecorder extends IndicatorParser {
  ops = new Int32Array(1 << 16);
  n = 0;
  strs: string[] = [];

  private room(k: number): Int32Array {
    if (this.n + k > this.ops.length) {
      const b = new Int32Array(2 * this.ops.length + k);
      b.set(this.ops.subarray(0, this.n));
      this.ops = b;
    }
    return this.ops;
  }

  /** Hand over what was recorded (the buffer is trimmed to it) and start afresh. */
  take(): { ops: Int32Array; strs: string[] } {
    const out = { ops: this.ops.slice(0, this.n), strs: this.strs };
    this.n = 0;
    this.strs = [];
    return out;
  }

  addV4(n: number, len: number, _meta: Meta): void {
    const o = this.room(3);
    o[this.n++] = OP_V4;
    o[this.n++] = n | 0;
    o[this.n++] = len;
  }

  addV6(hex: string, len: number, _meta: Meta): void {
    const o = this.room(6);
    o[this.n++] = OP_V6;
    o[this.n++] = hexWord(hex, 0);
    o[this.n++] = hexWord(hex, 8);
    o[this.n++] = hexWord(hex, 16);
    o[this.n++] = hexWord(hex, 24);
    o[this.n++] = len;
  }

  addV6Words(w0: number, w1: number, w2: number, w3: number, len: number, _meta: Meta): void {
    const o = this.room(6);
    o[this.n++] = OP_V6;
    o[this.n++] = w0;
    o[this.n++] = w1;
    o[this.n++] = w2;
    o[this.n++] = w3;
    o[this.n++] = len;
  }

  addDomain(d: string, _meta: Meta): void {
    const o = this.room(3);
    o[this.n++] = OP_DOMAIN;
    o[this.n++] = hashRange(d, 0, d.length);
    o[this.n++] = domainLabels(d);
    this.strs.push(d);
  }

  addUrlKey(key: string, _meta: Meta): void {
    const o = this.room(3);
    o[this.n++] = OP_URL;
    o[this.n++] = hashRange(key, 0, key.length);
    o[this.n++] = urlKeyHostHash(key);
    this.strs.push(key);
  }

  addUrlPair(http: string, https: string, _meta: Meta): void {
    const o = this.room(5);
    o[this.n++] = OP_URL_PAIR;
    o[this.n++] = hashRange(http, 0, http.length);
    o[this.n++] = urlKeyHostHash(http);
    o[this.n++] = hashRange(https, 0, https.length);
    o[this.n++] = urlKeyHostHash(https);
    this.strs.push(http, https);
  }

  addDomainBytes(_b: Uint8Array, s: number, e: number, h: number, labels: number, _meta: Meta): void {
    const o = this.room(5);
    o[this.n++] = OP_DOMAIN_AT;
    o[this.n++] = s;
    o[this.n++] = e;
    o[this.n++] = h;
    o[this.n++] = labels;
  }

  addUrlKeyBytes(_b: Uint8Array, s: number, e: number, h: number, hostHash: number, _meta: Meta): void {
    const o = this.room(5);
    o[this.n++] = OP_URL_AT;
    o[this.n++] = s;
    o[this.n++] = e;
    o[this.n++] = h;
    o[this.n++] = hostHash;
  }

  addV4Port(n: number, port: number, _meta: Meta): void {
    const o = this.room(3);
    o[this.n++] = OP_V4_PORT;
    o[this.n++] = n | 0;
    o[this.n++] = port;
  }

  addV6Port(w0: number, w1: number, w2: number, w3: number, port: number, _meta: Meta): void {
    const o = this.room(6);
    o[this.n++] = OP_V6_PORT;
    o[this.n++] = w0;
    o[this.n++] = w1;
    o[this.n++] = w2;
    o[this.n++] = w3;
    o[this.n++] = port;
  }
}

/** Make the store calls `OpRecorder` wrote down, in order, with `meta`; `bytes` are the ones the recorder read. */
export function replayOps(b: IndicatorStoreBuilder, ops: Int32Array, strs: readonly string[], meta: Meta, bytes: Uint8Array): void {
  let s = 0;
  for (let i = 0; i < ops.length; ) {
    switch (ops[i]) {
      case OP_V4:
        b.addV4(ops[i + 1]! >>> 0, ops[i + 2]!, meta);
        i += 3;
        break;
      case OP_V6:
        b.addV6Words(ops[i + 1]!, ops[i + 2]!, ops[i + 3]!, ops[i + 4]!, ops[i + 5]!, meta);
        i += 6;
        break;
      case OP_DOMAIN:
        b.addDomainHashed(strs[s++]!, ops[i + 1]!, ops[i + 2]!, meta);
        i += 3;
        break;
      case OP_URL:
        b.addUrlKeyHashed(strs[s++]!, ops[i + 1]!, ops[i + 2]!, meta);
        i += 3;
        break;
      case OP_URL_PAIR:
        b.addUrlPairHashed(strs[s]!, ops[i + 1]!, ops[i + 2]!, strs[s + 1]!, ops[i + 3]!, ops[i + 4]!, meta);
        s += 2;
        i += 5;
        break;
      case OP_V4_PORT:
        b.addV4Port(ops[i + 1]! >>> 0, ops[i + 2]!, meta);
        i += 3;
        break;
      case OP_V6_PORT:
        b.addV6Port(ops[i + 1]!, ops[i + 2]!, ops[i + 3]!, ops[i + 4]!, ops[i + 5]!, meta);
        i += 6;
        break;
      case OP_DOMAIN_AT:
        b.addDomainBytes(bytes, ops[i + 1]!, ops[i + 2]!, ops[i + 3]!, ops[i + 4]!, meta);
        i += 5;
        break;
      case OP_URL_AT:
        b.addUrlKeyBytes(bytes, ops[i + 1]!, ops[i + 2]!, ops[i + 3]!, ops[i + 4]!, meta);
        i += 5;
        break;
      default:
        throw new Error(`feed loader: unknown recorded operation ${ops[i]} at ${i}`);
    }
  }
}

/** The record of one chunk of the tail: what the worker posts, or what the main thread keeps of a chunk it took. */
export interface SplitChunk {
  /** Its index among the tail's chunks. */
  index: number;
  ops: Int32Array;
  strs: string[];
  rows: number;
  /** Refused rows: reason, line number within the chunk (from 1), value. */
  skips: Array<[string, number, string]>;
  /** Lines in the chunk. */
  lines: number;
  /** The chunk has a data line (its first one was checked as a possible header). */
  sawData: boolean;
}

export interface SplitWorkerData {
  /** The list's bytes, over a SharedArrayBuffer (both threads read them; recorded offsets point into them). */
  bytes: Uint8Array;
  /** Chunk `i` is `bytes[bounds[i], bounds[i + 1])`; each starts at a line start. */
  bounds: Int32Array;
  /** `[next chunk from the front, next from the back]`, packed in one word (see `claim`). */
  claims: Int32Array;
}

/**
 * Claim the next chunk from the front (the worker) or the back (the main thread, once it would
 * otherwise wait): `-1` when every chunk is taken. The two ends are packed in one Int32 (front in
 * the low 16 bits, back + 1 in the high) so that one compare-exchange takes a chunk for one side.
 */
export function claim(claims: Int32Array, fromBack: boolean): number {
  for (;;) {
    const w = Atomics.load(claims, 0);
    const front = w & 0xffff;
    const end = w >>> 16; // one past the last unclaimed chunk
    if (front >= end) return -1;
    const next = fromBack ? front | ((end - 1) << 16) : (front + 1) | (end << 16);
    if (Atomics.compareExchange(claims, 0, w, next) === w) return fromBack ? end - 1 : front;
  }
}

/** Parse chunk `index` of `bytes` into its record. */
export function recordChunk(bytes: Buffer, bounds: Int32Array, index: number, rec: OpRecorder): SplitChunk {
  // the meta is not recorded: `replayOps` supplies the feed's own
  const at: PlainPosition = { lineNo: 0, firstData: true, rows: 0 };
  const skips: Array<[string, number, string]> = [];
  plainBytes(bytes, bounds[index]!, bounds[index + 1]!, rec, RECORDED_META, at, (reason, lineNo, value) => skips.push([reason, lineNo, value]));
  const { ops, strs } = rec.take();
  return { index, ops, strs, rows: at.rows!, skips, lines: at.lineNo, sawData: !at.firstData };
}

const RECORDED_META = Object.freeze({ feed: '', exact: false }) as Meta;

/** The worker's side: take chunks from the front until none is left, posting each one's record. */
export function recordChunks(d: SplitWorkerData, post: (c: SplitChunk) => void): void {
  const rec = new OpRecorder();
  const bytes = Buffer.from(d.bytes.buffer, d.bytes.byteOffset, d.bytes.length);
  for (let i = claim(d.claims, false); i >= 0; i = claim(d.claims, false)) post(recordChunk(bytes, d.bounds, i, rec));
}

/** The compiled worker script (tests run the TypeScript sources; threads always run the build). */
function workerScript(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = resolve(here, 'split-worker.js');
  if (existsSync(beside)) return beside;
  const built = resolve(here, '../../../../dist/plugins/analyse/ioc-sweep/feeds/split-worker.js');
  return existsSync(built) ? built : null;
}

export interface SplitOptions {
  /** Share of the bytes read by the main thread straight into the store before it turns to the tail (default 0.35). */
  headShare?: number;
  chunkChars?: number;
  /** Tests: the main thread takes no chunk of the tail itself. */
  noStealing?: boolean;
}

/**
 * `loadPlainSplit` for a list of at least `SPLIT_MIN_CHARS` on a machine with a second core, else
 * `loadPlain`. The loader calls it only when `splitWanted()`.
 */
export async function loadPlainMaybeSplit(input: FeedInput, ctx: LoadContext): Promise<void> {
  if ((input.bytes?.length ?? input.text.length) >= SPLIT_MIN_CHARS && availableParallelism() > 1) await loadPlainSplit(input, ctx);
  else loadPlain(input, ctx);
}

/** Line-aligned chunk bounds of `bytes[from, end)`. */
function chunkBounds(bytes: Buffer, from: number, chunkChars: number): Int32Array {
  const b: number[] = [from];
  let pos = from;
  while (pos < bytes.length) {
    const nl = pos + chunkChars >= bytes.length ? -1 : bytes.indexOf(10, pos + chunkChars);
    pos = nl < 0 ? bytes.length : nl + 1;
    b.push(pos);
  }
  return Int32Array.from(b);
}

/** `bytes` over a SharedArrayBuffer (a copy when they are not), so that a worker reads the same memory. */
function sharedBytes(bytes: Buffer): Buffer {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const out = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(out);
  return out;
}

/**
 * Load a plain list as `loadPlain` does, on two threads (see the top of the file). The main thread
 * reads the head straight into the store while the worker takes chunks of the tail from the front;
 * the main thread then replays the chunks in order, and when the next one is not ready it takes
 * (records) a chunk from the back itself, so neither thread waits while the other has work. Same
 * store, counts and tally as `loadPlain`; whatever the worker did not deliver (it failed, or could
 * not start) is read on the main thread. Returns the number of chunks the worker parsed.
 */
export async function loadPlainSplit(input: FeedInput, ctx: LoadContext, opts: SplitOptions = {}): Promise<number> {
  const { store, tally, base } = ctx;
  const bytes = sharedBytes(feedBytes(input));
  const label = input.label;
  const first = bomLength(bytes);
  const nl = bytes.indexOf(10, Math.floor(bytes.length * (opts.headShare ?? HEAD_SHARE)));
  const script = workerScript();
  if (nl < 0 || nl + 1 >= bytes.length || script === null) {
    loadPlain(input, ctx);
    return 0;
  }
  const split = nl + 1;
  const bounds = chunkBounds(bytes, split, opts.chunkChars ?? CHUNK_CHARS);
  const n = bounds.length - 1;
  if (n > 0xfffe) throw new Error('feed loader: too many chunks'); // CHUNK_CHARS keeps it far below
  const claims = new Int32Array(new SharedArrayBuffer(4));
  claims[0] = n << 16;

  // The worker starts first, so that its start-up overlaps the main thread's part.
  const chunks: Array<SplitChunk | undefined> = new Array(n);
  let wake: (() => void) | null = null;
  let failed: Error | null = null;
  let exited = false;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const data: SplitWorkerData = { bytes, bounds, claims };
  let worker: Worker;
  try {
    worker = new Worker(script, { workerData: data });
  } catch {
    // no thread to be had (resource limits): one thread it is
    loadPlain(input, ctx);
    return 0;
  }
  worker.on('message', (c: SplitChunk) => {
    chunks[c.index] = c;
    notify();
  });
  worker.on('error', (e) => {
    failed = e;
    notify();
  });
  worker.on('exit', () => {
    exited = true;
    notify();
  });

  reserveFor(store, bytes);
  const at: PlainPosition = { lineNo: 0, firstData: true, rows: 0 };
  plainBytes(bytes, first, split, store, base, at, (reason, lineNo, value) => tally.skip(reason, `${label}:${lineNo}`, value));
  tally.rows += at.rows!;
  let lines = at.lineNo;
  let sawData = !at.firstData;

  // Replay the chunks in order; when the next one is not there, record one from the back here.
  const rec = new OpRecorder();
  const mine = new Uint8Array(n);
  let byWorker = 0;
  try {
    for (let k = 0; k < n; k++) {
      let c = chunks[k];
      while (c === undefined) {
        const j = opts.noStealing ? -1 : claim(claims, true);
        if (j >= 0) {
          chunks[j] = recordChunk(bytes, bounds, j, rec);
          mine[j] = 1;
        } else if (failed !== null || exited) {
          // the worker is gone: whatever it claimed and did not deliver is read here
          chunks[k] = recordChunk(bytes, bounds, k, rec);
          mine[k] = 1;
        } else await new Promise<void>((r) => (wake = r));
        c = chunks[k];
      }
      if (!mine[k]) byWorker++;
      chunks[k] = undefined;
      replayOps(store, c.ops, c.strs, base, bytes);
      tally.rows += c.rows;
      for (const [reason, lineNo, value] of c.skips) {
        // A chunk checks its own first data line as a header; only the text's first data line can be one.
        const r = reason === 'HEADER' && sawData ? 'NOT_AN_INDICATOR' : reason;
        tally.skip(r, `${label}:${lines + lineNo}`, value);
      }
      lines += c.lines;
      sawData ||= c.sawData;
    }
  } finally {
    if (!exited) void worker.terminate();
  }
  return byWorker;
}
