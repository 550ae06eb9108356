/**
 * A large plain list loaded on two threads. Most of a list's load time is parsing (trim, classify,
 * parse addresses, normalise hosts and URLs, hash); the rest is inserting into the tables, which
 * only one thread can do. So the main thread reads the head of the text into the store as usual,
 * while a worker thread parses the tail into a record of the store calls it would make (`OpRecorder`:
 * numbers and canonical strings with their hashes), posted in chunks; the main thread then replays
 * the chunks in order (`replayOps`). Every call reaches the store in line order, exactly as the
 * sequential loader makes it, so the store, its counts and the tally are the same (the tests check).
 * A worker that cannot start or fails leaves the rest of the text to the main thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hashRange } from '../flat.js';
import { hexWord, type Meta } from '../store.js';
import { IndicatorParser, domainLabels, urlKeyHostHash, type IndicatorStoreBuilder } from '../store-builder.js';
import { SPLIT_MIN_CHARS, loadPlain, plainLines, reserveFor, type PlainPosition } from './plain.js';
import type { FeedInput, LoadContext } from './types.js';

/** The share of the text the worker parses: inserting everything is left to the main thread. */
const WORKER_SHARE = 0.62;
/** Characters of text per posted chunk (about 40 000 lines of a typical list). */
const CHUNK_CHARS = 1 << 20;

const OP_V4 = 1;
const OP_V6 = 2;
const OP_DOMAIN = 3;
const OP_URL = 4;
const OP_URL_PAIR = 5;
const OP_V4_PORT = 6;
const OP_V6_PORT = 7;

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

/** Make the store calls `OpRecorder` wrote down, in order, with `meta`. */
export function replayOps(b: IndicatorStoreBuilder, ops: Int32Array, strs: readonly string[], meta: Meta): void {
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
      default:
        throw new Error(`feed loader: unknown recorded operation ${ops[i]} at ${i}`);
    }
  }
}

/** What the worker posts per chunk of its text. */
export interface SplitChunk {
  ops: Int32Array;
  strs: string[];
  rows: number;
  /** Refused rows: reason, line number within the worker's text, value. */
  skips: Array<[string, number, string]>;
  /** Characters of the worker's text read, and its lines read, after this chunk. */
  end: number;
  lines: number;
  /** A data line was read by now (the first one may be a header). */
  sawData: boolean;
  done: boolean;
}

export interface SplitWorkerData {
  text: string;
  chunkChars: number;
}

/**
 * The worker's side: parse `text` in chunks of about `chunkChars` (ending at a line end) and hand
 * each chunk's record to `post`. The text starts at a line start; its line numbers count from 1.
 */
export function recordChunks(text: string, chunkChars: number, post: (c: SplitChunk) => void): void {
  const rec = new OpRecorder();
  const at: PlainPosition = { lineNo: 0, firstData: true };
  // the meta is not recorded: `replayOps` supplies the feed's own
  const meta = Object.freeze({ feed: '', exact: false }) as Meta;
  let pos = 0;
  do {
    let to = pos + chunkChars >= text.length ? text.length : text.indexOf('\n', pos + chunkChars);
    to = to < 0 ? text.length : to === text.length ? to : to + 1;
    const skips: Array<[string, number, string]> = [];
    at.rows = 0;
    plainLines(text, pos, to, rec, meta, at, (reason, lineNo, value) => skips.push([reason, lineNo, value]));
    pos = to;
    const { ops, strs } = rec.take();
    post({ ops, strs, rows: at.rows, skips, end: pos, lines: at.lineNo, sawData: !at.firstData, done: pos >= text.length });
  } while (pos < text.length);
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
  /** Share of the text given to the worker (default 0.62). */
  workerShare?: number;
  chunkChars?: number;
}

/**
 * `loadPlainSplit` for a list of at least `SPLIT_MIN_CHARS` on a machine with a second core, else
 * `loadPlain`. `SLUICE_FEED_THREADS=1` in the environment keeps every list on the main thread (for
 * comparing the two).
 */
export async function loadPlainMaybeSplit(input: FeedInput, ctx: LoadContext): Promise<void> {
  if (input.text.length >= SPLIT_MIN_CHARS && availableParallelism() > 1 && process.env.SLUICE_FEED_THREADS !== '1') await loadPlainSplit(input, ctx);
  else loadPlain(input, ctx);
}

/**
 * Load a plain list as `loadPlain` does, the tail parsed by a worker thread (see the top of the
 * file). Same store, counts and tally as `loadPlain`; falls back to the main thread for whatever
 * the worker did not deliver. Returns how many characters of the text the worker parsed.
 */
export async function loadPlainSplit(input: FeedInput, ctx: LoadContext, opts: SplitOptions = {}): Promise<number> {
  const { store, tally, base } = ctx;
  const text = input.text;
  const label = input.label;
  const first = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const nl = text.indexOf('\n', Math.floor(text.length * (1 - (opts.workerShare ?? WORKER_SHARE))));
  const script = workerScript();
  if (nl < 0 || nl + 1 >= text.length || script === null) {
    loadPlain(input, ctx);
    return 0;
  }
  const split = nl + 1;

  // The worker starts first, so that its start-up overlaps the main thread's part.
  const chunks: SplitChunk[] = [];
  let wake: (() => void) | null = null;
  let failed: Error | null = null;
  let exited = false;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const data: SplitWorkerData = { text: text.slice(split), chunkChars: opts.chunkChars ?? CHUNK_CHARS };
  const worker = new Worker(script, { workerData: data });
  worker.on('message', (c: SplitChunk) => {
    chunks.push(c);
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

  reserveFor(store, text);
  const at: PlainPosition = { lineNo: 0, firstData: true, rows: 0 };
  plainLines(text, first, split, store, base, at, (reason, lineNo, value) => tally.skip(reason, `${label}:${lineNo}`, value));
  tally.rows += at.rows!;
  const headLines = at.lineNo;
  const headHadData = !at.firstData;

  // Replay the worker's chunks in order; whatever it did not deliver is read here.
  let done = 0;
  let lines = 0;
  let sawData = false;
  try {
    for (let k = 0; ; k++) {
      while (chunks.length <= k && failed === null && !exited) await new Promise<void>((r) => (wake = r));
      const c = chunks[k];
      if (c === undefined) break;
      replayOps(store, c.ops, c.strs, base);
      tally.rows += c.rows;
      for (const [reason, lineNo, value] of c.skips) {
        // The worker took its first data line for a header; only the text's first data line can be one.
        const r = reason === 'HEADER' && headHadData ? 'NOT_AN_INDICATOR' : reason;
        tally.skip(r, `${label}:${headLines + lineNo}`, value);
      }
      chunks[k] = undefined as unknown as SplitChunk;
      done = c.end;
      lines = c.lines;
      sawData = c.sawData;
      if (c.done) break;
    }
  } finally {
    if (!exited) void worker.terminate();
  }
  if (split + done < text.length) {
    const rest: PlainPosition = { lineNo: headLines + lines, firstData: !headHadData && !sawData, rows: 0 };
    plainLines(text, split + done, text.length, store, base, rest, (reason, lineNo, value) => tally.skip(reason, `${label}:${lineNo}`, value));
    tally.rows += rest.rows!;
  }
  return done;
}
