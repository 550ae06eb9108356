/**
 * The kafka source's record batch decoder against kafkajs's own, on batches kafkajs's encoder
 * writes (no broker: the integration suite reads real fetches through it). Both decode the same
 * bytes; the results must be equal field for field, keys and values as the same bytes.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatch, fastBatchClass } from '../../../plugins/source/kafka/record-batch.js';

const require = createRequire(import.meta.url);
type Enc = { buffer: Buffer };
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => { buffer: Buffer; offset: number };
const kafkajsDecode = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<unknown>;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<Enc> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (o: object) => Enc;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: unknown): unknown };
// kafkajs's Batch is untyped JavaScript
const KafkajsBatch = require('kafkajs/src/consumer/batch.js') as any;
const { Types } = require('kafkajs/src/protocol/message/compression') as { Types: { None: number; GZIP: number } };

interface Rec {
  offsetDelta: number;
  timestampDelta?: number | unknown;
  key?: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | Buffer[]>;
}

async function encode(
  records: Rec[],
  o: { firstOffset?: string; firstTimestamp?: string; maxTimestamp?: string; compression?: number; transactional?: boolean } = {},
) {
  const enc = await RecordBatch({
    compression: o.compression ?? Types.None,
    firstOffset: Long.fromValue(o.firstOffset ?? '0'),
    firstTimestamp: Long.fromValue(o.firstTimestamp ?? '1764979200000'),
    maxTimestamp: Long.fromValue(o.maxTimestamp ?? '1764979200999'),
    lastOffsetDelta: records.length - 1,
    transactional: o.transactional ?? false,
    records: records.map((r) => Record(r)),
  });
  return enc.buffer;
}

/** Decode `buf` (one or more batches) both ways; every batch of both, and where each decoder ended. */
async function both(buf: Buffer) {
  const out: Array<{ theirs: unknown; ours: unknown }> = [];
  const a = new Decoder(buf);
  const b = new Decoder(buf);
  while (a.offset < buf.length) {
    out.push({ theirs: await kafkajsDecode(a), ours: await decodeRecordBatch(b) });
    expect(b.offset).toBe(a.offset);
  }
  return out;
}

const lines = (n: number, from = 0): Rec[] =>
  Array.from({ length: n }, (_, i) => ({
    offsetDelta: i,
    timestampDelta: i % 3,
    value: Buffer.from(`1764979200.${from + i} 5 10.0.0.${i % 250} TCP_MISS/200 ${i} GET http://a${i}.example/ - HIER_DIRECT/1.2.3.4 text/html`),
  }));

describe('kafka source: record batch decoder (against kafkajs, no broker)', () => {
  it('plain lines: the same records as kafkajs', async () => {
    const [r] = await both(await encode(lines(500), { firstOffset: '1200' }));
    expect(r!.ours).toEqual(r!.theirs);
    const recs = (r!.ours as { records: Array<{ offset: string; timestamp: string; value: Buffer }> }).records;
    expect(recs).toHaveLength(500);
    expect(recs[499]!.offset).toBe('1699');
    expect(recs[2]!.timestamp).toBe('1764979200002');
  });

  it('keys, null and empty values, headers (repeated keys folded into arrays)', async () => {
    const recs: Rec[] = [
      { offsetDelta: 0, key: Buffer.from('10.0.0.1'), value: Buffer.from('x') },
      { offsetDelta: 1, key: null, value: null },
      { offsetDelta: 2, key: Buffer.alloc(0), value: Buffer.alloc(0) },
      {
        offsetDelta: 3,
        value: Buffer.from('h'),
        headers: { a: Buffer.from('1'), b: [Buffer.from('2'), Buffer.from('3'), Buffer.from('4')], ü: Buffer.from('é') },
      },
      { offsetDelta: 4, value: Buffer.from([0, 0xff, 0xfe, 0x0a]) },
    ];
    const [r] = await both(await encode(recs, { firstOffset: '7' }));
    expect(r!.ours).toEqual(r!.theirs);
  });

  it('offsets and timestamps beyond 2^53, and negative timestamp deltas', async () => {
    const big = (2n ** 62n + 5n).toString();
    const recs = lines(4).map((r, i) => ({ ...r, timestampDelta: Long.fromValue(i === 2 ? -1000 : i === 3 ? 2 ** 60 : i) }));
    const [r] = await both(await encode(recs, { firstOffset: big, firstTimestamp: String(2 ** 53 - 2) }));
    expect(r!.ours).toEqual(r!.theirs);
    expect((r!.ours as { records: Array<{ offset: string }> }).records[3]!.offset).toBe((2n ** 62n + 8n).toString());
  });

  it('gzip-compressed batches, a transactional one, several batches in one buffer', async () => {
    const buf = Buffer.concat([
      await encode(lines(300), { compression: Types.GZIP, firstOffset: '0' }),
      await encode(lines(20, 300), { firstOffset: '300', transactional: true }),
      await encode(lines(50, 320), { compression: Types.GZIP, firstOffset: '320' }),
    ]);
    const rs = await both(buf);
    expect(rs).toHaveLength(3);
    for (const r of rs) expect(r.ours).toEqual(r.theirs);
  });

  it('a batch cut short (the tail of a fetch) fails the same way: KafkaJSPartialMessageError', async () => {
    const buf = await encode(lines(100));
    const cut = buf.subarray(0, buf.length - 40);
    const a = new Decoder(cut);
    const b = new Decoder(cut);
    const theirs = await kafkajsDecode(a).catch((e: Error) => e);
    const ours = await decodeRecordBatch(b).catch((e: Error) => e);
    expect((theirs as Error).name).toBe('KafkaJSPartialMessageError');
    expect((ours as Error).name).toBe('KafkaJSPartialMessageError');
    expect((ours as Error).message).toBe((theirs as Error).message);
  });

  it('LOG_APPEND_TIME batches give every record the batch max timestamp', async () => {
    const buf = await encode(lines(3), { maxTimestamp: '1764979299999' });
    // attributes: set the timestamp-type bit (0x08) in the batch header (offset 8+4+4+1+4 = 21); the
    // CRC is not checked by either decoder
    buf.writeInt16BE(buf.readInt16BE(21) | 0x08, 21);
    const [r] = await both(buf);
    expect(r!.ours).toEqual(r!.theirs);
    expect((r!.ours as { records: Array<{ timestamp: string }> }).records[1]!.timestamp).toBe('1764979299999');
  });

  it('Batch (the messages kept of a fetch): the same as kafkajs, aborted transactions and control records included', async () => {
    const FastBatch = fastBatchClass(KafkajsBatch);
    const control = await encode(lines(2, 200), { firstOffset: '150' });
    control.writeInt16BE(control.readInt16BE(21) | 0x20, 21); // a control batch
    const cases: Array<{ buf: Buffer; fetched: string[] }> = [
      {
        buf: Buffer.concat([await encode(lines(50), { firstOffset: '100', transactional: true }), control]),
        fetched: ['10', '100', '120', '149', '150', '151', '152'],
      },
      { buf: await encode(lines(5), { firstOffset: (2n ** 60n).toString() }), fetched: [(2n ** 60n + 2n).toString(), '0'] },
    ];
    let kept = 0;
    for (const c of cases) {
      const messages = (await both(c.buf)).flatMap((r) => (r.ours as { records: Array<{ offset: string; isControlRecord: boolean }> }).records);
      for (const fetched of c.fetched) {
        for (const abortedTransactions of [[], [{ firstOffset: '130', producerId: '-1' }]]) {
          const pd = { partition: 2, highWatermark: '300', messages, abortedTransactions };
          const a = new KafkajsBatch('t', fetched, pd);
          const b = new FastBatch('t', fetched, pd) as typeof a;
          for (const k of ['topic', 'partition', 'highWatermark', 'fetchedOffset', 'rawMessages', 'messagesWithinOffset', 'messages'])
            expect(b[k], k).toEqual(a[k]);
          for (const fn of [
            'isEmpty',
            'isEmptyIncludingFiltered',
            'isEmptyDueToFiltering',
            'isEmptyControlRecord',
            'isEmptyDueToLogCompactedMessages',
            'firstOffset',
            'lastOffset',
            'offsetLag',
            'offsetLagLow',
          ])
            expect(b[fn](), fn).toEqual(a[fn]());
          kept += b.messages.length;
        }
      }
    }
    expect(kept).toBeGreaterThan(0);
  });
});
