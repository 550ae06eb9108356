/**
 * The `kafka` source's batches cut straight from the fetched record batches: the messages that make
 * records go into a `MessageBlock` (their bytes copied once per block, their offsets, times and
 * keys in typed arrays), which the runtime turns into records where a node reads them — in a
 * worker thread for a parallel chain — instead of a record object per message here on the main
 * thread. The checks that send a message to `invalid` run here, on the bytes (native calls, no
 * string; one for a whole batch of plain ASCII lines), and an invalid message's record is made by
 * `messageToRecord`, as on the per-message path: the records are the same either way
 * (test/plugins/kafka/blocks.test.ts).
 */
import { isAscii, isUtf8 } from 'node:buffer';
import type { MessageBlock, Rec, SourceOutputs } from '../../../src/api.js';
import { R, type RecordBatchView, type ViewSpan } from './record-batch.js';

/** One batch the source emits, and what it covers. */
export interface CutBatch {
  outputs: SourceOutputs;
  /** Offset of its first message and of its last (valid or not), decimal. */
  first: string;
  last: string;
  /** Messages it covers, their value bytes, and how many went to `invalid`. */
  messages: number;
  bytes: number;
  invalid: number;
}

export interface CutOptions {
  node: string;
  topic: string;
  partition: number;
  /** Most messages per batch. */
  batchSize: number;
  maxBytes: number;
  keepBytes: number;
  /** The record of a message that does not make one (`messageToRecord` of the per-message path). */
  invalid: (view: RecordBatchView, i: number) => Rec;
  /** The text of a message's headers, undefined when there are none to keep. */
  headers: (view: RecordBatchView, i: number) => Record<string, unknown> | undefined;
}

const NL = 0x0a;
const CR = 0x0d;
const REC = 7;
/** Buffer's `indexOf` (memchr) on a plain Uint8Array view: a typed array's own is a slower loop. */
const bytesIndexOf = Buffer.prototype.indexOf as (this: Uint8Array, value: number) => number;

/**
 * Batches of at most `batchSize` messages from the kept spans of one fetch of one partition, in
 * order. A batch never spans two buffers (two compressed record batches decompress to two).
 */
export function cutBlocks(spans: readonly ViewSpan[], o: CutOptions): CutBatch[] {
  const groups: ViewSpan[][] = [];
  let cur: ViewSpan[] | undefined;
  let n = 0;
  let buf: Buffer | undefined;
  for (const s of spans) {
    let i = s.from;
    while (i < s.to) {
      if (!cur || n === o.batchSize || buf !== s.view.buf) {
        cur = [];
        groups.push(cur);
        n = 0;
        buf = s.view.buf;
      }
      const take = Math.min(s.to - i, o.batchSize - n);
      cur.push({ view: s.view, from: i, to: i + take });
      n += take;
      i += take;
    }
  }
  return groups.map((g) => {
    let n = 0;
    for (const s of g) n += s.to - s.from;
    return cutClean(g, n, o) ?? cutChecked(g, n, o);
  });
}

/**
 * A batch whose messages are all plain text, the common case: their texts copied one after
 * another (keys after them), then one check of all the texts at once (ASCII, no NUL byte). Empty
 * and too large messages go to `invalid` as they are met. Undefined when some text is not plain
 * ASCII: `cutChecked` looks at each message then.
 */
function cutClean(segs: ViewSpan[], n: number, o: CutOptions): CutBatch | undefined {
  const buf = segs[0]!.view.buf;
  const ab = buf.buffer;
  const base = buf.byteOffset;
  const { maxBytes } = o;
  const lens = new Int32Array(n);
  let textBytes = 0;
  let keyBytes = 0;
  let bytes = 0;
  let j = 0;
  for (const { view, from, to } of segs) {
    const rec = view.rec;
    for (let r = from * REC, end = to * REC; r < end; r += REC, j++) {
      const vs = rec[r + R.VALUE]!;
      let len = rec[r + R.VALUE_LEN]!;
      if (len > 0) {
        bytes += len;
        if (buf[vs + len - 1] === NL) len--;
        if (len > 0 && buf[vs + len - 1] === CR) len--;
      }
      if (len > 0 && len <= maxBytes) {
        lens[j] = len;
        textBytes += len;
        const kl = rec[r + R.KEY_LEN]!;
        if (kl > 0) keyBytes += kl;
      } else lens[j] = -1;
    }
  }
  const copy = new Uint8Array(textBytes + keyBytes); // owns its memory: transferred to a worker as it is
  const spans = new Uint32Array(2 * n);
  const offsets = new Uint32Array(n);
  const times = new Float64Array(n);
  let keys: Uint32Array | undefined;
  let headers: Array<[number, Record<string, unknown>]> | undefined;
  let invalid: Rec[] | undefined;
  let first = Number.NaN;
  let at = 0;
  let keyAt = textBytes;
  let k = 0;
  j = 0;
  for (const { view, from, to } of segs) {
    const rec = view.rec;
    for (let i = from, r = from * REC; i < to; i++, r += REC, j++) {
      const len = lens[j]!;
      if (len < 0) {
        (invalid ??= []).push(o.invalid(view, i));
        continue;
      }
      copy.set(new Uint8Array(ab, base + rec[r + R.VALUE]!, len), at);
      spans[2 * k] = at;
      spans[2 * k + 1] = at += len;
      const offset = view.baseNum + rec[r + R.OFFSET_DELTA]!;
      if (k === 0) first = offset;
      offsets[k] = offset - first;
      times[k] = view.time(i);
      const kl = rec[r + R.KEY_LEN]!;
      if (kl > 0) {
        keys ??= new Uint32Array(2 * n);
        copy.set(new Uint8Array(ab, base + rec[r + R.KEY]!, kl), keyAt);
        keys[2 * k] = keyAt;
        keys[2 * k + 1] = keyAt += kl;
      }
      // a header count of 0 is the one byte 0 (zigzag varint)
      if (buf[rec[r + R.HEADERS]!] !== 0) {
        const h = o.headers(view, i);
        if (h) (headers ??= []).push([k, h]);
      }
      k++;
    }
  }
  const texts = keyBytes ? copy.subarray(0, textBytes) : copy;
  if (!isAscii(texts) || bytesIndexOf.call(texts, 0) !== -1) return undefined;
  const outputs: SourceOutputs = {};
  if (k > 0) {
    outputs.out = messageBlock(o, k, copy, spans, first, offsets, times, keys, headers);
  }
  if (invalid) outputs.invalid = invalid;
  return done(segs, outputs, n, bytes, invalid?.length ?? 0);
}

/** The block a cut emits on `out`: its parts, the optional ones only when present. */
function messageBlock(
  o: CutOptions,
  records: number,
  bytes: Uint8Array,
  spans: MessageBlock['spans'],
  firstOffset: number,
  offsets: MessageBlock['offsets'],
  times: MessageBlock['times'],
  keys: MessageBlock['keys'],
  headers: MessageBlock['headers'],
  utf8?: MessageBlock['utf8'],
): MessageBlock {
  const block: { -readonly [K in keyof MessageBlock]: MessageBlock[K] } = {
    kind: 'messages',
    topic: o.topic,
    partition: o.partition,
    records,
    bytes,
    spans,
    firstOffset,
    offsets,
    times,
  };
  if (keys) block.keys = keys;
  if (utf8) block.utf8 = utf8;
  if (headers) block.headers = headers;
  return block;
}

function done(segs: ViewSpan[], outputs: SourceOutputs, n: number, bytes: number, invalid: number): CutBatch {
  const s0 = segs[0]!;
  const sl = segs[segs.length - 1]!;
  return { outputs, first: s0.view.offset(s0.from), last: sl.view.offset(sl.to - 1), messages: n, bytes, invalid };
}

/** A batch, each message checked on its own (NUL bytes, UTF-8) before it is copied. */
function cutChecked(segs: ViewSpan[], n: number, o: CutOptions): CutBatch {
  const buf = segs[0]!.view.buf;
  const { maxBytes } = o;
  const spans = new Uint32Array(2 * n);
  const offsets = new Uint32Array(n);
  const times = new Float64Array(n);
  let keys: Uint32Array | undefined;
  let utf8: number[] | undefined;
  let headers: Array<[number, Record<string, unknown>]> | undefined;
  let invalid: Rec[] | undefined;
  let first = Number.NaN;
  let lo = -1;
  let hi = 0;
  let k = 0;
  let bytes = 0;
  const ab = buf.buffer;
  const base = buf.byteOffset;
  for (const { view, from, to } of segs) {
    const rec = view.rec;
    for (let i = from, r = from * REC; i < to; i++, r += REC) {
      const vs = rec[r + R.VALUE]!;
      const vl = rec[r + R.VALUE_LEN]!;
      let len = vl;
      if (len > 0) {
        bytes += len;
        if (buf[vs + len - 1] === NL) len--;
        if (len > 0 && buf[vs + len - 1] === CR) len--;
      }
      let ok = len > 0 && len <= maxBytes;
      let ascii = true;
      if (ok) {
        const v = new Uint8Array(ab, base + vs, len);
        if (bytesIndexOf.call(v, 0) !== -1) ok = false;
        else if (!isAscii(v)) {
          ascii = false;
          ok = isUtf8(v);
        }
      }
      if (!ok) {
        (invalid ??= []).push(o.invalid(view, i));
        continue;
      }
      const kl = rec[r + R.KEY_LEN]!;
      const ks = rec[r + R.KEY]!;
      if (lo < 0) {
        lo = kl > 0 ? ks : vs;
        first = view.baseNum + rec[r + R.OFFSET_DELTA]!;
      }
      spans[2 * k] = vs - lo;
      spans[2 * k + 1] = vs + len - lo;
      hi = vs + len;
      offsets[k] = view.baseNum + rec[r + R.OFFSET_DELTA]! - first;
      times[k] = view.time(i);
      if (kl > 0) {
        keys ??= new Uint32Array(2 * n);
        keys[2 * k] = ks - lo;
        keys[2 * k + 1] = ks + kl - lo;
      }
      if (!ascii) (utf8 ??= []).push(k);
      // a header count of 0 is the one byte 0 (zigzag varint)
      if (buf[rec[r + R.HEADERS]!] !== 0) {
        const h = o.headers(view, i);
        if (h) (headers ??= []).push([k, h]);
      }
      k++;
    }
  }
  const outputs: SourceOutputs = {};
  if (k > 0) {
    const copy = new Uint8Array(hi - lo); // owns its memory: transferred to a worker as it is
    copy.set(buf.subarray(lo, hi));
    outputs.out = messageBlock(o, k, copy, spans, first, offsets, times, keys, headers, utf8);
  }
  if (invalid) outputs.invalid = invalid;
  return done(segs, outputs, n, bytes, invalid?.length ?? 0);
}
