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
 * the largest part of what the source cost the main thread. Here the records are read in place
 * and offsets and timestamps added as plain numbers while they are safe integers (BigInt only
 * beyond 2^53). What comes out is what kafkajs's decoder and `Batch` give, field for field (the
 * same batch and record objects, keys and values as views of the fetched bytes, headers folded
 * the same way); test/plugins/kafka/record-batch.test.ts compares the two on encoded batches.
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

/**
 * Decode one record batch from a fetch response at the decoder's position, and move past it.
 * Same contract as kafkajs's record batch decoder (`decodeMessages` calls it in a loop and stops
 * at its `KafkaJSPartialMessageError`).
 */
export async function decodeRecordBatch(fetchDecoder: KafkajsDecoder) {
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
  const batchContext = { ...recordContext, magicByte };

  const count = buf.readInt32BE(at);
  at += 4;
  const codec = kafkajs().lookupCodecByAttributes(attributes);
  let records: ReturnType<typeof decodeRecords>;
  if (!codec) {
    records = count === -1 ? [] : decodeRecords(buf, at, end, count, base, firstTs, batchContext);
  } else if (count <= 0) {
    records = [];
  } else {
    const plain = await codec.decompress(buf.subarray(at, end));
    records = decodeRecords(plain, 0, plain.length, count, base, firstTs, batchContext);
  }
  return { ...recordContext, records };
}

function decodeRecords(
  b: Buffer,
  at: number,
  end: number,
  count: number,
  base: bigint,
  firstTs: bigint,
  batchContext: { magicByte: number; isControlBatch: boolean; timestampType: number; maxTimestamp: string },
) {
  const baseNum = Number(base);
  const tsNum = Number(firstTs);
  const { magicByte, isControlBatch } = batchContext;
  const appendTime = batchContext.timestampType === LOG_APPEND_TIME ? batchContext.maxTimestamp : undefined;
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const size = varint(b, at);
    at = pos;
    const next = at + size;
    if (size < 0 || next > end) throw new RangeError(`record batch: record ${i} of ${count} runs past the end of its batch`);
    const attributes = (b[at++]! << 24) >> 24;
    const tsDelta = varlong(b, at);
    const offsetDelta = varint(b, pos);
    const keyLen = varint(b, pos);
    at = pos;
    let key: Buffer | null = null;
    if (keyLen >= 0) {
      key = b.subarray(at, at + keyLen);
      at += keyLen;
    }
    const valueLen = varint(b, at);
    at = pos;
    let value: Buffer | null = null;
    if (valueLen >= 0) {
      value = b.subarray(at, at + valueLen);
      at += valueLen;
    }
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
    out[i] = {
      magicByte,
      attributes,
      timestamp: appendTime ?? plus(firstTs, tsNum, tsDelta),
      offset: plus(base, baseNum, offsetDelta),
      key,
      value,
      headers,
      isControlRecord: isControlBatch,
      batchContext,
    };
    at = next;
  }
  return out;
}

interface FetchedMessage {
  offset: string;
  isControlRecord: boolean;
}
interface PartitionData {
  messages: FetchedMessage[];
  abortedTransactions?: unknown[];
}
type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: PartitionData,
) => {
  rawMessages: FetchedMessage[];
  messagesWithinOffset: FetchedMessage[];
  messages: FetchedMessage[];
};

/**
 * kafkajs's consumer `Batch` with its message filter done on numbers: kafkajs keeps the messages
 * at or after the fetched offset by parsing every message's offset into a `Long` (a BigInt);
 * here `Number` does while the fetched offset is a safe integer (a larger message offset still
 * compares greater once rounded). Everything else is kafkajs's: its constructor runs on no
 * messages, its methods read the fields set here, aborted transactions and control records are
 * dropped by its own functions, as before.
 */
export function fastBatchClass(Base: BatchClass): BatchClass {
  const filterAborted = require('kafkajs/src/consumer/filterAbortedMessages') as (a: {
    messages: FetchedMessage[];
    abortedTransactions?: unknown[];
  }) => FetchedMessage[];
  return class Batch extends Base {
    constructor(topic: string, fetchedOffset: string, partitionData: PartitionData) {
      super(topic, fetchedOffset, { ...partitionData, messages: [] });
      const raw = partitionData.messages;
      this.rawMessages = raw;
      const from = Number(fetchedOffset);
      if (Number.isSafeInteger(from)) this.messagesWithinOffset = raw.filter((m) => Number(m.offset) >= from);
      else {
        const big = BigInt(fetchedOffset);
        this.messagesWithinOffset = raw.filter((m) => BigInt(m.offset) >= big);
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
 * Make kafkajs's consumers decode fetches with `decodeRecordBatch` and `fastBatchClass`: the
 * exports of its modules replaced before the modules that read them are loaded — the batch class
 * before kafkajs itself is first imported, the decoder before its first fetch. Only for the
 * kafkajs line this was written against (2.2.x). Says which are in place; kafkajs's own are used
 * for the others (same results, more CPU).
 */
export function installFastFetch(): { decoder: boolean; batch: boolean } {
  try {
    const version = (require('kafkajs/package.json') as { version: string }).version;
    if (!/^2\.2\./.test(version)) return { decoder: false, batch: false };
    return { batch: replace(BATCH, (b) => fastBatchClass(b as BatchClass)), decoder: replace(DECODER, () => decodeRecordBatch) };
  } catch {
    return { decoder: false, batch: false };
  }
}
