/**
 * Faster decoding of kafkajs 2.2.x fetches for the `kafka` source: a record batch decoder (message
 * format v2) and a consumer `Batch` class, put in place of kafkajs's own
 * (`kafkajs/src/protocol/recordBatch/v0/decoder.js`, `kafkajs/src/consumer/batch.js`) by
 * `installFastFetch`.
 *
 * kafkajs decodes each record of a fetch through a new `Decoder` over its bytes and computes its
 * offset and timestamp as `Long`s (BigInt) from the batch's base values given as strings, then
 * parses every offset into a `Long` once more to keep the messages at or after the fetched offset:
 * three string → BigInt parses, two BigInt → string conversions and several objects per message,
 * the largest part of what the source cost the main thread. Here a record batch is walked once,
 * each record's parts noted in a typed array (`RecordBatchView`): no object per record. The
 * `kafka` source cuts its message blocks from those views (blocks.ts); a message object, the same
 * as kafkajs's decoder gives field for field (keys and values as views of the fetched bytes,
 * headers folded the same way, offsets and timestamps added as plain numbers while they are safe
 * integers), is made only where something reads one. test/plugins/kafka/record-batch.test.ts
 * compares them with kafkajs's on encoded batches.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** What this module needs of kafkajs's `Decoder` (the fetch response being read). */
interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
}

interface Codec {
  decompress(b: Buffer): Promise<Buffer>;
}

interface KafkajsInternals {
  lookupCodecByAttributes: (attributes: number) => Codec | null;
  PartialMessageError: new (message: string) => Error;
}

const LOG_APPEND_TIME = 1;
const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const SAFE = Number.MAX_SAFE_INTEGER;

let internals: KafkajsInternals | undefined;
function kafkajs(): KafkajsInternals {
  if (!internals) {
    const compression = require('kafkajs/src/protocol/message/compression') as { lookupCodecByAttributes: KafkajsInternals['lookupCodecByAttributes'] };
    const errors = require('kafkajs/src/errors') as { KafkaJSPartialMessageError: KafkajsInternals['PartialMessageError'] };
    internals = { lookupCodecByAttributes: compression.lookupCodecByAttributes, PartialMessageError: errors.KafkaJSPartialMessageError };
  }
  return internals;
}

/** A varint read at `at`; `pos` holds where it ends (one module-level cursor: no objects). */
let pos = 0;

/** Zigzag-encoded 32-bit varint (the protocol's `varint`), as kafkajs reads it. */
function varint(b: Buffer, at: number): number {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = b[at++]!;
    if (byte === undefined) throw new RangeError('record batch: varint past the end of the buffer');
    result += (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  pos = at;
  return (result >>> 1) ^ -(result & 1);
}

/** Zigzag-encoded 64-bit varint (`varlong`): a number while it is a safe integer, else a bigint. */
function varlong(b: Buffer, at: number): number | bigint {
  const start = at;
  let result = 0;
  let mul = 1;
  let byte: number;
  let n = 0;
  do {
    byte = b[at++]!;
    if (byte === undefined) throw new RangeError('record batch: varlong past the end of the buffer');
    if (++n > 10) throw new RangeError('record batch: varlong longer than 10 bytes');
    result += (byte & 0x7f) * mul;
    mul *= 128;
  } while (byte >= 0x80);
  pos = at;
  if (n <= 7) return result % 2 === 1 ? -(result + 1) / 2 : result / 2; // < 2^49: exact
  let v = 0n;
  let shift = 0n;
  for (let i = start; i < at; i++, shift += 7n) v |= BigInt(b[i]! & 0x7f) << shift;
  v = BigInt.asUintN(64, v);
  return BigInt.asIntN(64, (v >> 1n) ^ -(v & 1n));
}

/** `base + delta` as kafkajs prints it: a decimal string. */
function plus(base: bigint, baseNum: number, delta: number | bigint): string {
  if (typeof delta === 'number' && Number.isSafeInteger(baseNum)) {
    const sum = baseNum + delta;
    if (sum <= SAFE && sum >= -SAFE) return String(sum);
  }
  return String(BigInt.asIntN(64, base + BigInt(delta)));
}

type Headers = Record<string, Buffer | null | Array<Buffer | null>>;

interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte: number;
}

/** A kafkajs message (what its decoder gives per record). */
export interface FetchedMessage {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

/** Fields per record in `RecordBatchView.rec`. */
const REC = 7;
/** Offsets into a record's fields. */
export const R = { VALUE: 0, VALUE_LEN: 1, KEY: 2, KEY_LEN: 3, HEADERS: 4, OFFSET_DELTA: 5, ATTRIBUTES: 6 } as const;

/**
 * One decoded record batch without an object per record: where each record's key, value and
 * headers are in `buf` (lengths -1 for null), its offset and timestamp deltas. The `kafka` source
 * cuts message blocks straight from it; `message(i)` builds what kafkajs's decoder gives for a
 * record, for everything else that reads messages.
 */
export class RecordBatchView {
  /** Marks views among kafkajs's messages. */
  readonly isRecordBatchView = true;
  readonly baseNum: number;
  private readonly tsNum: number;
  private readonly appendTime: string | undefined;

  constructor(
    readonly buf: Buffer,
    readonly count: number,
    /** `REC` fields per record, see `R`. */
    readonly rec: Int32Array,
    /** Timestamp delta per record (NaN: beyond 2^53, in `bigTs`). */
    private readonly tsDelta: Float64Array,
    private readonly bigTs: Map<number, bigint> | undefined,
    readonly base: bigint,
    private readonly firstTs: bigint,
    readonly batchContext: BatchContext,
  ) {
    this.baseNum = Number(base);
    this.tsNum = Number(firstTs);
    this.appendTime = batchContext.timestampType === LOG_APPEND_TIME ? batchContext.maxTimestamp : undefined;
  }

  /** Whether every record's offset is a safe integer (`baseNum + delta`). */
  get safeOffsets(): boolean {
    return Number.isSafeInteger(this.baseNum) && this.baseNum + this.batchContext.lastOffsetDelta <= SAFE && this.baseNum >= 0;
  }

  offsetDelta(i: number): number {
    return this.rec[i * REC + R.OFFSET_DELTA]!;
  }

  offset(i: number): string {
    return plus(this.base, this.baseNum, this.offsetDelta(i));
  }

  timestamp(i: number): string {
    if (this.appendTime !== undefined) return this.appendTime;
    const d = this.tsDelta[i]!;
    return plus(this.firstTs, this.tsNum, Number.isNaN(d) ? this.bigTs!.get(i)! : d);
  }

  /** `Number(timestamp(i))`, without the string while it is a safe integer. */
  time(i: number): number {
    const d = this.tsDelta[i]!;
    if (this.appendTime === undefined && !Number.isNaN(d) && Number.isSafeInteger(this.tsNum)) {
      const sum = this.tsNum + d;
      if (sum <= SAFE && sum >= -SAFE) return sum;
    }
    return Number(this.timestamp(i));
  }

  headers(i: number): Headers {
    const o = i * REC;
    return readHeaders(this.buf, this.rec[o + R.HEADERS]!);
  }

  /** Record `i` as kafkajs's decoder gives it. */
  message(i: number): FetchedMessage {
    const r = this.rec;
    const o = i * REC;
    const b = this.buf;
    const vl = r[o + R.VALUE_LEN]!;
    const kl = r[o + R.KEY_LEN]!;
    return {
      magicByte: this.batchContext.magicByte,
      attributes: r[o + R.ATTRIBUTES]!,
      timestamp: this.timestamp(i),
      offset: this.offset(i),
      key: kl >= 0 ? b.subarray(r[o + R.KEY]!, r[o + R.KEY]! + kl) : null,
      value: vl >= 0 ? b.subarray(r[o + R.VALUE]!, r[o + R.VALUE]! + vl) : null,
      headers: this.headers(i),
      isControlRecord: this.batchContext.isControlBatch,
      batchContext: this.batchContext,
    };
  }

  messages(): FetchedMessage[] {
    const out: FetchedMessage[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.message(i);
    return out;
  }
}

export function isRecordBatchView(m: unknown): m is RecordBatchView {
  return (m as RecordBatchView | null)?.isRecordBatchView === true;
}

/** The headers at `at` (their count, then each key and value), folded as kafkajs folds them. */
function readHeaders(b: Buffer, at: number): Headers {
  const nHeaders = varint(b, at);
  at = pos;
  const headers: Headers = {};
  for (let h = 0; h < nHeaders; h++) {
    const kLen = varint(b, at);
    at = pos;
    const hk = kLen < 0 ? 'null' : b.toString('utf8', at, at + kLen);
    if (kLen > 0) at += kLen;
    const vLen = varint(b, at);
    at = pos;
    let hv: Buffer | null = null;
    if (vLen >= 0) {
      hv = b.subarray(at, at + vLen);
      at += vLen;
    }
    const prev = headers[hk];
    headers[hk] = prev === undefined ? hv : Array.isArray(prev) ? [...prev, hv] : [prev, hv];
  }
  return headers;
}

/** Move past the headers at `at`; returns how many there are (`pos`: where they end). */
function skipHeaders(b: Buffer, at: number): number {
  const nHeaders = varint(b, at);
  at = pos;
  for (let h = 0; h < nHeaders; h++) {
    const kLen = varint(b, at);
    at = pos;
    if (kLen > 0) at += kLen;
    const vLen = varint(b, at);
    at = pos;
    if (vLen > 0) at += vLen;
  }
  pos = at;
  return nHeaders;
}

/**
 * Decode one record batch from a fetch response at the decoder's position, and move past it.
 * Same contract as kafkajs's record batch decoder (`decodeMessages` calls it in a loop and stops
 * at its `KafkaJSPartialMessageError`), except that `records` holds one `RecordBatchView` for the
 * whole batch (none when it is empty) instead of a message object per record: what the consumer
 * `Batch` of `fastBatchClass` takes.
 */
export async function decodeRecordBatchView(fetchDecoder: KafkajsDecoder) {
  const buf = fetchDecoder.buffer;
  let at = fetchDecoder.offset;
  const base = buf.readBigInt64BE(at);
  const length = buf.readInt32BE(at + 8);
  at += 12;
  fetchDecoder.offset = at + length;
  const end = at + length;
  if (buf.length - at < length) {
    throw new (kafkajs().PartialMessageError)(`Tried to decode a partial record batch: remainingBytes(${buf.length - at}) < recordBatchLength(${length})`);
  }
  const partitionLeaderEpoch = buf.readInt32BE(at);
  const magicByte = buf.readInt8(at + 4);
  // at + 5: CRC, not checked (kafkajs does not either)
  const attributes = buf.readInt16BE(at + 9);
  const lastOffsetDelta = buf.readInt32BE(at + 11);
  const firstTs = buf.readBigInt64BE(at + 15);
  const maxTs = buf.readBigInt64BE(at + 23);
  const producerId = buf.readBigInt64BE(at + 31);
  const producerEpoch = buf.readInt16BE(at + 39);
  const firstSequence = buf.readInt32BE(at + 41);
  at += 45;

  const recordContext = {
    firstOffset: String(base),
    firstTimestamp: String(firstTs),
    partitionLeaderEpoch,
    inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
    isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
    lastOffsetDelta,
    producerId: String(producerId),
    producerEpoch,
    firstSequence,
    maxTimestamp: String(maxTs),
    timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : 0,
  };
  const batchContext: BatchContext = { ...recordContext, magicByte };

  const count = buf.readInt32BE(at);
  at += 4;
  const codec = kafkajs().lookupCodecByAttributes(attributes);
  let records: RecordBatchView[] = [];
  if (!codec) {
    if (count > 0) records = [decodeRecords(buf, at, end, count, base, firstTs, batchContext)];
  } else if (count > 0) {
    const plain = await codec.decompress(buf.subarray(at, end));
    records = [decodeRecords(plain, 0, plain.length, count, base, firstTs, batchContext)];
  }
  return { ...recordContext, records };
}

/**
 * The same as `decodeRecordBatchView`, with a kafkajs message object per record (what kafkajs's
 * decoder gives, field for field).
 */
export async function decodeRecordBatch(fetchDecoder: KafkajsDecoder) {
  const r = await decodeRecordBatchView(fetchDecoder);
  return { ...r, records: r.records.length ? r.records[0]!.messages() : [] };
}

function decodeRecords(b: Buffer, at: number, end: number, count: number, base: bigint, firstTs: bigint, batchContext: BatchContext): RecordBatchView {
  const rec = new Int32Array(count * REC);
  const tsDelta = new Float64Array(count);
  let bigTs: Map<number, bigint> | undefined;
  for (let i = 0, o = 0; i < count; i++, o += REC) {
    const size = varint(b, at);
    at = pos;
    const next = at + size;
    if (size < 0 || next > end) throw new RangeError(`record batch: record ${i} of ${count} runs past the end of its batch`);
    rec[o + R.ATTRIBUTES] = (b[at++]! << 24) >> 24;
    const ts = varlong(b, at);
    if (typeof ts === 'number') tsDelta[i] = ts;
    else {
      tsDelta[i] = Number.NaN;
      (bigTs ??= new Map()).set(i, ts);
    }
    rec[o + R.OFFSET_DELTA] = varint(b, pos);
    const keyLen = varint(b, pos);
    at = pos;
    rec[o + R.KEY] = at;
    rec[o + R.KEY_LEN] = keyLen;
    if (keyLen > 0) at += keyLen;
    const valueLen = varint(b, at);
    at = pos;
    rec[o + R.VALUE] = at;
    rec[o + R.VALUE_LEN] = valueLen;
    if (valueLen > 0) at += valueLen;
    rec[o + R.HEADERS] = at;
    skipHeaders(b, at);
    at = next;
  }
  return new RecordBatchView(b, count, rec, tsDelta, bigTs, base, firstTs, batchContext);
}

/** Messages kafkajs's `Batch` reads: the field its filters use. */
interface FilteredMessage {
  offset: string;
  isControlRecord: boolean;
}
interface PartitionData {
  messages: Array<FilteredMessage | RecordBatchView>;
  abortedTransactions?: unknown[];
}
type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: PartitionData,
) => {
  rawMessages: FilteredMessage[];
  messagesWithinOffset: FilteredMessage[];
  messages: FilteredMessage[];
};

/** Records `from`..`to` (exclusive) of a record batch: what a fetch gives the `kafka` source. */
export interface ViewSpan {
  view: RecordBatchView;
  from: number;
  to: number;
}

/** The consumer batch of `fastBatchClass`: kafkajs's, with the kept records as spans of record batches. */
export interface FastBatch {
  /** The kept messages (those of `messages`) as spans; null when they are message objects only. */
  readonly spans: ViewSpan[] | null;
}

/**
 * A list of messages made when read: one message object per index asked for (kafkajs's runner
 * reads a batch's length and its last message; a reader of every message gets them all).
 */
function lazyMessages(spans: ViewSpan[], n: number): FilteredMessage[] {
  const made: FilteredMessage[] = [];
  const at = (i: number): FilteredMessage => {
    let k = i;
    for (const s of spans) {
      const len = s.to - s.from;
      if (k < len) return s.view.message(s.from + k);
      k -= len;
    }
    throw new RangeError(`message ${i} of ${n}`);
  };
  const target: FilteredMessage[] = [];
  target.length = n;
  const index = (p: string | symbol): number => {
    if (typeof p !== 'string') return -1;
    const i = Number(p);
    return Number.isInteger(i) && i >= 0 && String(i) === p ? i : -1;
  };
  return new Proxy(target, {
    get(t, p, r) {
      const i = index(p);
      if (i < 0) return Reflect.get(t, p, r);
      if (i >= n) return undefined;
      made[i] ??= at(i);
      return made[i];
    },
    has(t, p) {
      const i = index(p);
      return i < 0 ? Reflect.has(t, p) : i < n;
    },
    getOwnPropertyDescriptor(t, p) {
      const i = index(p);
      if (i < 0) return Reflect.getOwnPropertyDescriptor(t, p);
      if (i >= n) return undefined;
      made[i] ??= at(i);
      return { value: made[i], writable: true, enumerable: true, configurable: true };
    },
    ownKeys(t) {
      const keys: Array<string | symbol> = [];
      for (let i = 0; i < n; i++) keys.push(String(i));
      return keys.concat(Reflect.ownKeys(t));
    },
  });
}

/**
 * kafkajs's consumer `Batch` over what `decodeRecordBatchView` decodes: the messages at or after
 * the fetched offset kept as spans of record batches (`spans`), control batches dropped, and its
 * message lists (`rawMessages`, `messagesWithinOffset`, `messages`) made only as far as they are
 * read. Offsets are compared as numbers while they are safe integers. Where the broker reports
 * aborted transactions, or an offset is beyond 2^53, the messages are made and kafkajs's own
 * filters run, as for messages another decoder made (`spans` is then null). Everything else is
 * kafkajs's: its constructor runs on no messages, its methods read the fields set here.
 */
export function fastBatchClass(Base: BatchClass): BatchClass {
  const filterAborted = require('kafkajs/src/consumer/filterAbortedMessages') as (a: {
    messages: FilteredMessage[];
    abortedTransactions?: unknown[];
  }) => FilteredMessage[];
  return class Batch extends Base implements FastBatch {
    spans: ViewSpan[] | null = null;

    constructor(topic: string, fetchedOffset: string, partitionData: PartitionData) {
      super(topic, fetchedOffset, { ...partitionData, messages: [] });
      const raw = partitionData.messages;
      const from = Number(fetchedOffset);
      const views = raw.length > 0 && raw.every(isRecordBatchView) ? (raw as RecordBatchView[]) : null;
      const aborted = !!partitionData.abortedTransactions?.length;
      if (views && Number.isSafeInteger(from) && views.every((v) => v.safeOffsets && !(aborted && v.batchContext.inTransaction))) {
        const within: ViewSpan[] = [];
        const kept: ViewSpan[] = [];
        let nRaw = 0;
        let nWithin = 0;
        let nKept = 0;
        for (const view of views) {
          nRaw += view.count;
          let i = 0;
          while (i < view.count && view.baseNum + view.offsetDelta(i) < from) i++;
          if (i === view.count) continue;
          const s = { view, from: i, to: view.count };
          within.push(s);
          nWithin += s.to - s.from;
          if (!view.batchContext.isControlBatch) {
            kept.push(s);
            nKept += s.to - s.from;
          }
        }
        this.rawMessages = lazyMessages(
          views.map((view) => ({ view, from: 0, to: view.count })),
          nRaw,
        );
        this.messagesWithinOffset = lazyMessages(within, nWithin);
        this.messages = lazyMessages(kept, nKept);
        this.spans = kept;
        return;
      }
      const msgs = raw.flatMap((m) => (isRecordBatchView(m) ? m.messages() : [m]));
      this.rawMessages = msgs;
      if (Number.isSafeInteger(from)) this.messagesWithinOffset = msgs.filter((m) => Number(m.offset) >= from);
      else {
        const big = BigInt(fetchedOffset);
        this.messagesWithinOffset = msgs.filter((m) => BigInt(m.offset) >= big);
      }
      this.messages = filterAborted({ messages: this.messagesWithinOffset, abortedTransactions: partitionData.abortedTransactions }).filter(
        (m) => !m.isControlRecord,
      );
    }
  };
}

/** kafkajs modules replaced, and the module that reads each (once that one is loaded, too late). */
const DECODER = { target: 'kafkajs/src/protocol/recordBatch/v0/decoder.js', user: 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js' };
const BATCH = { target: 'kafkajs/src/consumer/batch.js', user: 'kafkajs/src/consumer/consumerGroup.js' };
const installed = new Set<string>();

function replace(m: { target: string; user: string }, make: (original: unknown) => unknown): boolean {
  const target = require.resolve(m.target);
  if (installed.has(target)) return true;
  if (require.cache[require.resolve(m.user)]) return false; // too late: it holds kafkajs's own
  const original: unknown = require(target);
  require.cache[target]!.exports = make(original);
  installed.add(target);
  return true;
}

/**
 * Make kafkajs's consumers decode fetches with `decodeRecordBatchView` and `fastBatchClass`: the
 * exports of its modules replaced before the modules that read them are loaded — the batch class
 * before kafkajs itself is first imported, the decoder before its first fetch. Only for the
 * kafkajs line this was written against (2.2.x). Says which are in place; kafkajs's own are used
 * for the others (same results, more CPU).
 */
export function installFastFetch(): { decoder: boolean; batch: boolean } {
  try {
    const version = (require('kafkajs/package.json') as { version: string }).version;
    if (!/^2\.2\./.test(version)) return { decoder: false, batch: false };
    const batch = replace(BATCH, (b) => fastBatchClass(b as BatchClass));
    // the decoder's views only with the Batch class that takes them
    return { batch, decoder: batch && replace(DECODER, () => decodeRecordBatchView) };
  } catch {
    return { decoder: false, batch: false };
  }
}
