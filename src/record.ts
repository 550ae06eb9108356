import { isAscii, isUtf8 } from 'node:buffer';
/** A record: a plain JSON object. Parsed proxy records use nested ECS names (`source.ip` is `rec.source.ip`). */
export type Rec = { [key: string]: any };

/** Records per output port, as returned by a processor or emitted by a source. */
export type Outputs = { [port: string]: Rec[] | undefined };

/** Where a unit of input came from. */
export interface Origin {
  /** File path (file and HDFS sources). */
  file?: string;
  /** 1-based line number within `file`. */
  line?: number;
  topic?: string;
  partition?: number;
  offset?: string;
}

/**
 * A record that a node could not accept. It keeps the raw input (as text, plus base64 of the exact
 * bytes when they were not valid UTF-8), where it came from, which node refused it and why.
 */
export interface InvalidRecord {
  '@timestamp': string;
  event: { kind: 'pipeline_error'; original: string; original_base64?: string };
  error: { code: string; message: string; node: string };
  origin: Origin | null;
}

export function makeInvalid(
  node: string,
  origin: Origin | null | undefined,
  code: string,
  message: string,
  original: string,
  originalBase64?: string,
): InvalidRecord {
  const event: InvalidRecord['event'] = { kind: 'pipeline_error', original };
  if (originalBase64 !== undefined) event.original_base64 = originalBase64;
  return {
    '@timestamp': new Date().toISOString(),
    event,
    error: { code, message, node },
    origin: origin ?? null,
  };
}

export function formatOrigin(o: Origin | null | undefined): string {
  if (!o) return '?';
  if (o.file !== undefined) return o.line !== undefined ? `${o.file}:${o.line}` : o.file;
  if (o.topic !== undefined) return `${o.topic}/${o.partition ?? '?'}@${o.offset ?? '?'}`;
  return '?';
}

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Read a dotted path (`source.ip`) over own properties. A key that exists literally with dots
 * (`"url.domain": …`) is read first; like every key holding `undefined` (records with a fixed layout
 * keep their unset keys, see `deletePath`), such a key holding `undefined` counts as absent, and the
 * nested value is read.
 */
export function getPath(rec: unknown, path: string): any {
  if (rec === null || typeof rec !== 'object') return undefined;
  const obj = rec as Rec;
  if (Object.hasOwn(obj, path) && obj[path] !== undefined) return obj[path];
  let cur: any = obj;
  let start = 0;
  for (;;) {
    const dot = path.indexOf('.', start);
    const key = dot === -1 ? path.slice(start) : path.slice(start, dot);
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = cur[key];
    if (dot === -1) return cur;
    start = dot + 1;
  }
}

/** Set a dotted path, creating intermediate objects. Refuses prototype keys. */
export function setPath(rec: Rec, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Rec = rec;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!;
    if (FORBIDDEN.has(k)) throw new Error(`refusing to write path '${path}'`);
    let next = Object.hasOwn(cur, k) ? cur[k] : undefined;
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      next = {};
      cur[k] = next;
    }
    cur = next;
  }
  const last = parts[parts.length - 1]!;
  if (FORBIDDEN.has(last)) throw new Error(`refusing to write path '${path}'`);
  cur[last] = value;
}

/**
 * A deep copy of a record: plain objects and arrays are copied (keys in the same order, keys holding
 * `undefined` kept), strings, numbers, booleans and null shared. Anything else (a Date, a Map, a
 * typed array a custom plugin stored) is copied by `structuredClone`. Much cheaper than
 * `structuredClone` on a whole record, which serialises it first.
 */
export function copyRecord<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyRecord(value[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Rec = {};
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const v = copyRecord((value as Rec)[k]);
    // an own "__proto__" key (JSON.parse makes them) stays a key, not a prototype
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out as T;
}

/** Delete a dotted path; returns whether something was removed. */
export function deletePath(rec: Rec, path: string): boolean {
  const parts = path.split('.');
  let cur: any = rec;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!;
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, k)) return false;
    cur = cur[k];
  }
  const last = parts[parts.length - 1]!;
  // a key holding undefined is absent already (records with a fixed layout keep their unset keys)
  if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, last) || cur[last] === undefined) return false;
  delete cur[last];
  return true;
}

/**
 * Consecutive lines of one file, as the bytes a line source read: the runtime turns them into
 * records (`{ message, origin: { file, line } }`, see `linesToRecords`) only where a node needs them —
 * in the worker thread, for a parallel chain — instead of the source building objects that must be
 * copied across threads. A source emits it on a port in place of a record array.
 */
export interface LineBlock {
  readonly kind: 'lines';
  /** `origin.file` of every record. */
  readonly file: string;
  /** Line number (1-based) of the first line in `bytes`. */
  readonly firstLine: number;
  /**
   * Whole lines, each ended by `\n` except possibly the last one of a file. One trailing `\r` per
   * line is removed; empty lines give no record but count as lines. No line may be longer than the
   * source accepts (the source sends those to `invalid` itself). The runtime may transfer this
   * memory to another thread: the source must not touch it after emitting the block.
   */
  readonly bytes: Uint8Array;
  /** How many records the block gives (its non-empty lines). */
  readonly records: number;
  /**
   * Where each line of `bytes` ends (API 1.12, optional): one entry per line, blank lines included,
   * in order — the offset of its `\n`, or `bytes.length` for a last line without one. A source that
   * has cut the lines (`cutLines` does) hands their ends over, so that the runtime does not search
   * the bytes for them a second time; without it the runtime finds them itself. When present it
   * must be exact: the runtime reads the lines where it says.
   */
  readonly ends?: Int32Array;
}

/**
 * Consecutive messages of one Kafka partition, as the bytes the `kafka` source fetched: the runtime
 * turns them into records (`{ message, origin: { topic, partition, offset }, key?, timestamp?,
 * headers? }`, see `messageChunks`) where a node needs them, like a `LineBlock`. Only messages that
 * make records are in it (the source sends the others to `invalid` itself); their offsets may have
 * gaps. The runtime may transfer the typed arrays' memory to another thread.
 */
export interface MessageBlock {
  readonly kind: 'messages';
  readonly topic: string;
  readonly partition: number;
  /** How many records (messages) the block holds. */
  readonly records: number;
  /** The memory holding every message's text and key, at the positions below. */
  readonly bytes: Uint8Array;
  /** Per record, two entries: where its message starts and ends in `bytes` (line end excluded). */
  readonly spans: Uint32Array;
  /** Offset of the first record (a safe integer). */
  readonly firstOffset: number;
  /** Per record: its offset minus `firstOffset`. */
  readonly offsets: Uint32Array;
  /** Per record: the message time, ms since the epoch; a record gets no `timestamp` unless it is finite and > 0. */
  readonly times: Float64Array;
  /** Per record, two entries: where its key starts and ends in `bytes` (equal: no key). Absent when no record has one. */
  readonly keys?: Uint32Array;
  /** The records whose message is not ASCII (decoded as UTF-8), ascending. Absent when none. */
  readonly utf8?: number[];
  /** Headers of the records that have any, by record index, ascending. */
  readonly headers?: Array<[number, Record<string, unknown>]>;
}

/** A block of raw input a source emits in place of records. */
export type Block = LineBlock | MessageBlock;

/** Records or a block: what a source emits on a port. */
export type Batch = Rec[] | Block;

export function isLineBlock(b: unknown): b is LineBlock {
  return !!b && (b as LineBlock).kind === 'lines' && !Array.isArray(b);
}

/** What `by-origin` state of a block's records is kept by: its file, or its topic and partition. */
export function blockOrigin(b: Block): Origin {
  return b.kind === 'messages' ? { topic: b.topic, partition: b.partition } : { file: b.file };
}

/** The key of `blockOrigin` (the same as records' `origin.file` or `topic/partition`). */
export function blockOriginKey(b: Block): string {
  return b.kind === 'messages' ? `${b.topic}/${b.partition}` : b.file;
}

/** The typed arrays of a block (what can be transferred to another thread). */
export function blockArrays(b: Block): ArrayBufferView[] {
  if (b.kind === 'lines') return [b.bytes];
  const out: ArrayBufferView[] = [b.bytes, b.spans, b.offsets, b.times];
  if (b.keys) out.push(b.keys);
  return out;
}

/** A copy of a block that shares no memory with it (each typed array owns its own buffer). */
export function copyBlock(b: Block): Block {
  if (b.kind === 'lines') return b.ends === undefined ? { ...b, bytes: b.bytes.slice() } : { ...b, bytes: b.bytes.slice(), ends: b.ends.slice() };
  const c: MessageBlock = { ...b, bytes: b.bytes.slice(), spans: b.spans.slice(), offsets: b.offsets.slice(), times: b.times.slice() };
  if (b.keys) (c as { keys?: Uint32Array }).keys = b.keys.slice();
  if (b.utf8) (c as { utf8?: number[] }).utf8 = b.utf8.slice();
  if (b.headers) (c as { headers?: MessageBlock['headers'] }).headers = b.headers.map(([i, h]) => [i, copyRecord(h)]);
  return c;
}

/** How many records a batch holds. */
export function batchSize(b: Batch): number {
  return Array.isArray(b) ? b.length : b.records;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * The records of a block. Lines: `{ message, origin: { file, line } }` per non-empty line, with
 * `raw_base64` holding the exact bytes of a line that is not valid UTF-8. Messages: see
 * `messageChunks`. The one place blocks become records.
 */
export function blockRecords(block: Block): Rec[] {
  for (const recs of recordChunks(block, Infinity)) return recs;
  return [];
}

/** The records of a block of lines (`blockRecords`, under the name line sources and tests know). */
export function linesToRecords(block: LineBlock): Rec[] {
  return blockRecords(block);
}

/**
 * The records of a block (as `blockRecords` makes them), at most `max` at a time, in order, each
 * chunk made when it is asked for: a node can make and process one chunk's records before the next
 * chunk's exist (see `CHUNK` in the runtime). One walk over the block, whatever `max`.
 */
export function recordChunks(block: Block, max: number, skip?: LineSkip): Generator<Rec[]> {
  return block.kind === 'messages' ? messageChunks(block, max, skip) : lineChunks(block, max, skip);
}

/**
 * Lines not to make records of (the runtime's line gate, src/runtime/line-gate.ts): asked of each
 * message of a block of messages and each line of an ASCII block of lines; a line it refuses gives
 * no record and is counted in `skipped`. Lines of blocks that are not ASCII are all made into records.
 */
export interface LineSkip {
  keep(line: string): boolean;
  /**
   * `keep` of the ASCII line `bytes[from, to)`, asked before its string is made; absent: the string
   * is made and `keep` asked.
   */
  keepBytes?: ((bytes: Uint8Array, from: number, to: number) => boolean) | undefined;
  skipped: number;
}

/**
 * The records of a block of Kafka messages, `max` at a time: `{ message, origin: { topic,
 * partition, offset }, key?, timestamp?, headers? }` — `key` when the message has a non-empty key
 * (as UTF-8 text), `timestamp` (ISO-8601 UTC) when its time is > 0, `headers` when it has any.
 */
function* messageChunks(block: MessageBlock, max: number, skip: LineSkip | undefined): Generator<Rec[]> {
  const n = block.records;
  if (n === 0) return;
  const bytes = block.bytes;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { topic, partition, spans, offsets, times, keys, utf8, headers } = block;
  const byBytes = skip?.keepBytes !== undefined;
  const first = block.firstOffset;
  let u = 0;
  let nextUtf8 = utf8?.length ? utf8[0]! : -1;
  let h = 0;
  let nextHeaders = headers?.length ? headers[0]![0] : -1;
  const size = Math.min(max, n);
  let out: Rec[] = new Array(size);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const s = spans[2 * i]!;
    const e = spans[2 * i + 1]!;
    let message: string;
    let kept: boolean;
    if (i === nextUtf8) {
      message = buf.toString('utf8', s, e);
      nextUtf8 = ++u < utf8!.length ? utf8![u]! : -1;
      kept = skip === undefined || skip.keep(message);
    } else if (byBytes) {
      kept = skip!.keepBytes!(bytes, s, e);
      message = kept ? buf.toString('latin1', s, e) : '';
    } else {
      message = buf.toString('latin1', s, e);
      kept = skip === undefined || skip.keep(message);
    }
    if (!kept) {
      skip!.skipped++;
      if (i === nextHeaders) nextHeaders = ++h < headers!.length ? headers![h]![0] : -1;
      continue;
    }
    const rec: Rec = { message, origin: { topic, partition, offset: String(first + offsets[i]!) } };
    if (keys !== undefined) {
      const ks = keys[2 * i]!;
      const ke = keys[2 * i + 1]!;
      if (ke > ks) rec.key = buf.toString('utf8', ks, ke);
    }
    const t = times[i]!;
    if (t > 0 && t !== Number.POSITIVE_INFINITY) rec.timestamp = isoTime(t);
    if (i === nextHeaders) {
      rec.headers = copyRecord(headers![h]![1]);
      nextHeaders = ++h < headers!.length ? headers![h]![0] : -1;
    }
    out[k++] = rec;
    if (k === max) {
      yield out;
      out = new Array(size);
      k = 0;
    }
  }
  if (k > 0) {
    out.length = k;
    yield out;
  }
}

let lastSecond = Number.NaN;
let secondPrefix = '';
let lastMs = Number.NaN;
let lastIso = '';
const YEAR_10000 = 253402300800000;

/**
 * `new Date(ms).toISOString()`, cached: it costs ≈ 2 µs a call, as much as the rest of a message's
 * record, and consecutive messages mostly share their millisecond, always their second.
 */
export function isoTime(ms: number): string {
  if (ms === lastMs) return lastIso;
  if (!Number.isInteger(ms) || ms >= YEAR_10000) return new Date(ms).toISOString();
  const sec = Math.floor(ms / 1000);
  if (sec !== lastSecond) {
    lastSecond = sec;
    secondPrefix = new Date(sec * 1000).toISOString().slice(0, 20); // "YYYY-MM-DDTHH:MM:SS."
  }
  const frac = ms - sec * 1000;
  lastMs = ms;
  lastIso = `${secondPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
  return lastIso;
}

function* lineChunks(block: LineBlock, max: number, skip: LineSkip | undefined): Generator<Rec[]> {
  const bytes = block.bytes;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) return;
  let end = buf.length;
  if (buf[end - 1] === LF) end--;
  const size = Math.min(max, block.records);
  let out: Rec[] = new Array(size);
  let n = 0;
  const file = block.file;
  let line = block.firstLine;
  let start = 0;
  const byBytes = skip?.keepBytes !== undefined;
  const ends = block.ends; // the source's line ends, when it handed them over
  let k = 0;
  if (isAscii(buf)) {
    // Nearly every proxy log: each line becomes a string of its own, copied from the bytes, instead
    // of a slice of one decoded text. A slice keeps the whole block's text alive as long as any value
    // cut from it lives (a host name in a matcher's memo, an alert), and the block's text is a large object that
    // only a full GC frees; the parsers' character loops also run faster over flat strings.
    for (;;) {
      let nl = ends !== undefined ? (k < ends.length ? ends[k++]! : -1) : buf.indexOf(LF, start);
      const last = nl === -1 || nl >= end;
      if (last) nl = end;
      let stop = nl;
      if (stop > start && buf[stop - 1] === CR) stop--;
      if (stop > start) {
        if (byBytes && !skip!.keepBytes!(bytes, start, stop)) skip!.skipped++;
        else {
          const message = buf.toString('latin1', start, stop);
          if (!byBytes && skip !== undefined && !skip.keep(message)) skip.skipped++;
          else out[n++] = { message, origin: { file, line } };
        }
        if (n === max) {
          yield out;
          out = new Array(size);
          n = 0;
        }
      }
      if (last) break;
      start = nl + 1;
      line++;
    }
  } else {
    const text = buf.toString('utf8', 0, end);
    const suspicious = text.includes('\uFFFD');
    let bytePos = 0;
    for (;;) {
      let nl = text.indexOf('\n', start);
      const last = nl === -1;
      if (last) nl = text.length;
      let stop = nl;
      if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
      if (stop > start) {
        const rec: Rec = { message: text.slice(start, stop), origin: { file, line } };
        if (suspicious) {
          let bEnd = buf.indexOf(LF, bytePos);
          if (bEnd === -1 || bEnd > end) bEnd = end;
          let raw = buf.subarray(bytePos, bEnd);
          if (raw.length && raw[raw.length - 1] === CR) raw = raw.subarray(0, raw.length - 1);
          if (rec.message.includes('\uFFFD') && !isUtf8(raw)) rec.raw_base64 = raw.toString('base64');
        }
        out[n++] = rec;
        if (n === max) {
          yield out;
          out = new Array(size);
          n = 0;
        }
      }
      if (suspicious) {
        const b = buf.indexOf(LF, bytePos);
        bytePos = b === -1 ? end : b + 1;
      }
      if (last) break;
      start = nl + 1;
      line++;
    }
  }
  if (n > 0) {
    out.length = n;
    yield out;
  }
}

/** What a source emits: records, or a block of lines, per output port. */
export type SourceOutputs = { [port: string]: Batch | undefined };
