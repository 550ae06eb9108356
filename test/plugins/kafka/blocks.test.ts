/**
 * The kafka source's message blocks against its per-message path, on generated record batches
 * (kafkajs's encoder writes them; no broker — the integration suite reads real fetches). The
 * reference: kafkajs's own decoder and consumer `Batch`, then `messageToRecord` per message, cut in
 * batches of `batch_size`. The blocks: `decodeRecordBatchView`, the source's `Batch` class,
 * `cutBlocks`, then the runtime's `recordChunks` (also after crossing to another thread's form,
 * `encodeForWorker` → structured clone → `decodeBatch`). Records, invalid records and the offsets
 * each batch covers must be the same; deliberately broken blocks must be told apart.
 */
import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { cutBlocks, type CutBatch } from '../../../plugins/source/kafka/blocks.js';
import { headersText, messageToRecord } from '../../../plugins/source/kafka/index.js';
import { decodeRecordBatchView, fastBatchClass, type FastBatch } from '../../../plugins/source/kafka/record-batch.js';
import { blockOriginKey, blockRecords, copyBlock, recordChunks, type LineSkip, type MessageBlock, type Rec } from '../../../src/record.js';
import { decodeBatch, encodeForWorker } from '../../../src/runtime/wire.js';

const require = createRequire(import.meta.url);
type Enc = { buffer: Buffer };
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => { buffer: Buffer; offset: number };
const kafkajsDecode = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{ records: KafkaMessage[] }>;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<Enc> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (o: object) => Enc;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: unknown): unknown };
// kafkajs's Batch is untyped JavaScript
const KafkajsBatch = require('kafkajs/src/consumer/batch.js') as any;
const FastBatchClass = fastBatchClass(KafkajsBatch) as any;
const { Types } = require('kafkajs/src/protocol/message/compression') as { Types: { None: number; GZIP: number } };

const NODE = 'logs';
const TOPIC = 'web.proxy';
const PARTITION = 3;

interface GenRecord {
  value: Buffer | null;
  key: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
  gap: number;
  tsDelta: number;
}
interface GenFetch {
  batches: Array<{ records: GenRecord[]; gzip: boolean; firstTimestamp: string; appendTime: boolean }>;
  firstOffset: number;
  skip: number;
  batchSize: number;
}

const LINE = 'GET http://a.example/x 200 text/html';
const values = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[ -~]{1,60}$/).map((s) => Buffer.from(s)) },
  fc.stringMatching(/^[ -~]{1,30}$/).map((s) => Buffer.from(`${s}\n`)),
  fc.stringMatching(/^[ -~]{1,30}$/).map((s) => Buffer.from(`${s}\r\n`)),
  fc.constantFrom(Buffer.from('\n'), Buffer.from('\r\n'), Buffer.from('\r'), Buffer.alloc(0), null),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s) => Buffer.from(`${LINE} ${s}`)),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.constantFrom(Buffer.from([0x47, 0x45, 0x54, 0x20, 0xff, 0xfe, 0x41]), Buffer.from([0x41, 0x00, 0x42]), Buffer.from([0xc3])),
  fc.integer({ min: 65, max: 200 }).map((n) => Buffer.alloc(n, 0x61)),
);
const keys = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  fc.constant(Buffer.alloc(0)),
  fc.stringMatching(/^[0-9.]{1,15}$/).map((s) => Buffer.from(s)),
  fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => Buffer.from(a)),
);
const headers = fc.oneof(
  { weight: 5, arbitrary: fc.constant({}) },
  fc.dictionary(
    fc.constantFrom('trace', 'src', 'ü', 'x-id'),
    fc.oneof(
      fc.string({ maxLength: 6 }).map((s) => Buffer.from(s)),
      fc.array(
        fc.string({ maxLength: 4 }).map((s) => Buffer.from(s)),
        { minLength: 1, maxLength: 3 },
      ),
    ),
    { maxKeys: 3 },
  ),
);
const record: fc.Arbitrary<GenRecord> = fc.record({
  value: values,
  key: keys,
  headers,
  gap: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 5 })),
  tsDelta: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 3 }) }, fc.integer({ min: -2_000_000, max: 2_000_000 })),
});
const batchSpec = fc.record({
  records: fc.array(record, { minLength: 1, maxLength: 40 }),
  gzip: fc.boolean(),
  firstTimestamp: fc.constantFrom('1764979200000', '1', '0', '-5'),
  appendTime: fc.boolean(),
});
const fetchSpec: fc.Arbitrary<GenFetch> = fc.record({
  batches: fc.array(batchSpec, { minLength: 1, maxLength: 4 }),
  firstOffset: fc.integer({ min: 0, max: 2 ** 40 }),
  /** How far into the first batch the fetch asked from. */
  skip: fc.integer({ min: 0, max: 5 }),
  batchSize: fc.integer({ min: 1, max: 25 }),
});

/** Encode the batches one after another (offsets continuing), as a fetch response's record set. */
async function encode(f: GenFetch): Promise<Buffer> {
  let offset = f.firstOffset;
  const parts: Buffer[] = [];
  for (const b of f.batches) {
    let delta = 0;
    const recs = b.records.map((r, i) => {
      if (i > 0) delta += 1 + r.gap;
      return Record({ offsetDelta: delta, timestampDelta: Long.fromValue(r.tsDelta), key: r.key, value: r.value, headers: r.headers });
    });
    const enc = await RecordBatch({
      compression: b.gzip ? Types.GZIP : Types.None,
      firstOffset: Long.fromValue(String(offset)),
      firstTimestamp: Long.fromValue(b.firstTimestamp),
      maxTimestamp: Long.fromValue('1764979299999'),
      lastOffsetDelta: delta,
      transactional: false,
      records: recs,
    });
    const buf = enc.buffer;
    if (b.appendTime) buf.writeInt16BE(buf.readInt16BE(21) | 0x08, 21); // LOG_APPEND_TIME (CRC not checked)
    parts.push(buf);
    offset += delta + 1;
  }
  return Buffer.concat(parts);
}

const MAX = 64;
const KEEP = 16;

/** Invalid records carry the time they were made: not compared. */
const stable = (r: Rec): Rec => (r['@timestamp'] === undefined ? r : { ...r, '@timestamp': 'T' });

interface Cut {
  out: Rec[][];
  invalid: Rec[][];
  first: string[];
  last: string[];
}

/** The per-message path: kafkajs's decoder and Batch, `messageToRecord`, batches of `batchSize`. */
async function reference(buf: Buffer, fetched: string, batchSize: number): Promise<Cut> {
  const d = new Decoder(buf);
  const messages: KafkaMessage[] = [];
  while (d.offset < buf.length) messages.push(...(await kafkajsDecode(d)).records);
  const batch = new KafkajsBatch(TOPIC, fetched, { partition: PARTITION, highWatermark: '9999999999999', messages });
  const msgs: KafkaMessage[] = batch.messages;
  const cut: Cut = { out: [], invalid: [], first: [], last: [] };
  for (let s = 0; s < msgs.length; s += batchSize) {
    const out: Rec[] = [];
    const invalid: Rec[] = [];
    for (const m of msgs.slice(s, s + batchSize)) {
      const r = messageToRecord(NODE, TOPIC, PARTITION, m, MAX, KEEP);
      (r.invalid ? invalid : out).push(stable(r.rec));
    }
    cut.out.push(out);
    cut.invalid.push(invalid);
    cut.first.push(msgs[s]!.offset);
    cut.last.push(msgs[Math.min(msgs.length, s + batchSize) - 1]!.offset);
  }
  return cut;
}

/** The block path, up to the blocks. */
async function blocks(buf: Buffer, fetched: string, batchSize: number): Promise<CutBatch[]> {
  const d = new Decoder(buf);
  const views: unknown[] = [];
  while (d.offset < buf.length) views.push(...(await decodeRecordBatchView(d)).records);
  const batch = new FastBatchClass(TOPIC, fetched, { partition: PARTITION, highWatermark: '9999999999999', messages: views });
  const spans = (batch as FastBatch).spans;
  expect(spans).not.toBeNull();
  return cutBlocks(spans!, {
    node: NODE,
    topic: TOPIC,
    partition: PARTITION,
    batchSize,
    maxBytes: MAX,
    keepBytes: KEEP,
    invalid: (view, i) => messageToRecord(NODE, TOPIC, PARTITION, view.message(i) as unknown as KafkaMessage, MAX, KEEP).rec,
    headers: (view, i) => headersText(view.headers(i)),
  });
}

/** The records of a block as a worker makes them: encoded for the thread, cloned (bytes transferred), decoded. */
function viaWorker(b: MessageBlock): Rec[] {
  const { wire, transfer } = encodeForWorker(b);
  return decodeBatch(structuredClone(wire, { transfer }));
}

/** Records per batch of the block path, in `max`-sized chunks (the runtime's), joined. */
function records(c: CutBatch[], max: number, worker = false): Cut {
  const cut: Cut = { out: [], invalid: [], first: [], last: [] };
  for (const b of c) {
    const block = b.outputs.out as MessageBlock | undefined;
    let out: Rec[] = [];
    if (block) {
      expect(block.kind).toBe('messages');
      if (worker) out = viaWorker(block);
      else for (const chunk of recordChunks(block, max)) out.push(...chunk);
      expect(out).toHaveLength(block.records);
    }
    cut.out.push(out);
    cut.invalid.push(((b.outputs.invalid as Rec[] | undefined) ?? []).map(stable));
    cut.first.push(b.first);
    cut.last.push(b.last);
  }
  return cut;
}

/** The reference cut at the same places as the blocks (a block never spans two compressed batches). */
function regroup(ref: Cut, at: CutBatch[]): Cut {
  const out = ref.out.flat();
  const invalid = ref.invalid.flat();
  const cut: Cut = { out: [], invalid: [], first: [], last: [] };
  let o = 0;
  let v = 0;
  for (const b of at) {
    const nOut = (b.outputs.out as MessageBlock | undefined)?.records ?? 0;
    const nInvalid = b.invalid;
    cut.out.push(out.slice(o, (o += nOut)));
    cut.invalid.push(invalid.slice(v, (v += nInvalid)));
    cut.first.push(b.first);
    cut.last.push(b.last);
  }
  expect(o).toBe(out.length);
  expect(v).toBe(invalid.length);
  return cut;
}

function fetchedOffset(f: GenFetch): string {
  return String(f.firstOffset + f.skip);
}

describe('kafka source: message blocks against the per-message path (generated batches, no broker)', () => {
  it('the same records, invalid records and batch offsets, in chunks and across threads', async () => {
    await fc.assert(
      fc.asyncProperty(fetchSpec, fc.integer({ min: 1, max: 300 }), async (f, max) => {
        const buf = await encode(f);
        const fetched = fetchedOffset(f);
        const ref = await reference(buf, fetched, f.batchSize);
        const cut = await blocks(buf, fetched, f.batchSize);
        const mine = records(cut, max);
        // Uncompressed batches share one buffer: blocks are cut exactly where the reference cuts.
        if (f.batches.every((b) => !b.gzip)) expect(mine).toEqual(ref);
        expect(mine).toEqual(regroup(ref, cut));
        expect(records(cut, max, true)).toEqual(mine);
        // Every message is covered once, valid or not.
        expect(cut.reduce((n, c) => n + c.messages, 0)).toBe(ref.out.flat().length + ref.invalid.flat().length);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['asked as text', false],
    ['asked of the bytes where the message is ASCII (the others as text)', true],
  ])('with a line skip (the runtime line gate; a fake refusing by length) %s: the other records unchanged, the refused counted', async (_label, byBytes) => {
    await fc.assert(
      fc.asyncProperty(fetchSpec, fc.integer({ min: 1, max: 300 }), async (f, max) => {
        const cut = await blocks(await encode(f), fetchedOffset(f), f.batchSize);
        for (const b of cut) {
          const block = b.outputs.out as MessageBlock | undefined;
          if (!block) continue;
          const all = blockRecords(block);
          const refused = (m: string) => m.length % 3 === 0;
          const asked: string[] = [];
          const keep = (m: string) => {
            asked.push(m);
            return !refused(m);
          };
          const skip: LineSkip = { skipped: 0, keep };
          if (byBytes)
            skip.keepBytes = (bytes: Uint8Array, from: number, to: number) => {
              const m = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
              expect(isAscii(Buffer.from(m, 'latin1'))).toBe(true);
              return keep(m);
            };
          const kept: Rec[] = [];
          for (const chunk of recordChunks(block, max, skip)) {
            expect(chunk.length).toBeLessThanOrEqual(max);
            kept.push(...chunk);
          }
          // each message asked once, in order, as the text its record holds; keys, times, headers
          // and offsets stay with their own messages
          expect(asked).toEqual(all.map((r) => r.message as string));
          expect(kept).toEqual(all.filter((r) => !refused(r.message as string)));
          expect(skip.skipped).toBe(all.length - kept.length);
        }
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['a UTF-8 line (each message checked)', 'user=José'],
    ['plain ASCII lines (one check for the batch)', 'user=Jose'],
  ])('tells deliberately broken blocks apart (the comparison can fail): %s', async (_label, second) => {
    // Messages that each break shows on: a CR-LF line, a key, a time, a header (and UTF-8).
    const f: GenFetch = {
      batches: [
        {
          records: [
            { value: Buffer.from('a b c\r\n'), key: null, headers: {}, gap: 0, tsDelta: 0 },
            { value: Buffer.from(second), key: Buffer.from('10.0.0.1'), headers: { h: Buffer.from('v') }, gap: 0, tsDelta: 1 },
            { value: Buffer.from('plain'), key: null, headers: {}, gap: 2, tsDelta: 2 },
          ],
          gzip: false,
          firstTimestamp: '1764979200000',
          appendTime: false,
        },
      ],
      firstOffset: 100,
      skip: 0,
      batchSize: 10,
    };
    const buf = await encode(f);
    const ref = await reference(buf, '100', 10);
    const good = await blocks(buf, '100', 10);
    expect(records(good, 256)).toEqual(ref);
    const breaks: Array<[string, (b: { -readonly [K in keyof MessageBlock]: MessageBlock[K] }) => void]> = [
      ['line end kept', (b) => void (b.spans[1]! += 1)],
      ['offset off by one', (b) => void (b.offsets[2]! -= 1)],
      ['UTF-8 read as Latin-1', (b) => void delete b.utf8],
      ['key dropped', (b) => void delete b.keys],
      ['time shifted', (b) => void (b.times[0]! += 1)],
      ['headers dropped', (b) => void delete b.headers],
    ];
    const utf8 = second !== 'user=Jose';
    expect((good[0]!.outputs.out as MessageBlock).utf8 !== undefined).toBe(utf8);
    for (const [what, brk] of breaks) {
      if (what === 'UTF-8 read as Latin-1' && !utf8) continue;
      const cut = await blocks(buf, '100', 10);
      brk(cut[0]!.outputs.out as { -readonly [K in keyof MessageBlock]: MessageBlock[K] });
      expect(records(cut, 256), what).not.toEqual(ref);
    }
  });

  it('a copy of a block (a fan-out) shares no memory with it: the original can be transferred away', async () => {
    const f: GenFetch = {
      batches: [
        {
          records: [
            { value: Buffer.from('a b c'), key: Buffer.from('k'), headers: { h: Buffer.from('v') }, gap: 0, tsDelta: 0 },
            { value: Buffer.from('user=José'), key: null, headers: {}, gap: 0, tsDelta: 1 },
          ],
          gzip: false,
          firstTimestamp: '1764979200000',
          appendTime: false,
        },
      ],
      firstOffset: 7,
      skip: 0,
      batchSize: 10,
    };
    const [c] = await blocks(await encode(f), '7', 10);
    const block = c!.outputs.out as MessageBlock;
    const want = blockRecords(block);
    const copy = copyBlock(block) as MessageBlock;
    const { wire, transfer } = encodeForWorker(block);
    expect(transfer.length).toBeGreaterThanOrEqual(4);
    expect(decodeBatch(structuredClone(wire, { transfer }))).toEqual(want);
    expect(block.bytes.byteLength).toBe(0); // transferred: detached here
    expect(blockRecords(copy)).toEqual(want);
    expect(blockOriginKey(copy)).toBe(`${TOPIC}/${PARTITION}`);
  });

  it('the consumer Batch over views answers as kafkajs’s does over messages', async () => {
    await fc.assert(
      fc.asyncProperty(fetchSpec, async (f) => {
        const buf = await encode(f);
        const fetched = fetchedOffset(f);
        const d1 = new Decoder(buf);
        const d2 = new Decoder(buf);
        const messages: KafkaMessage[] = [];
        const views: unknown[] = [];
        while (d1.offset < buf.length) messages.push(...(await kafkajsDecode(d1)).records);
        while (d2.offset < buf.length) views.push(...(await decodeRecordBatchView(d2)).records);
        const pd = { partition: PARTITION, highWatermark: '99999999999999' };
        const a = new KafkajsBatch(TOPIC, fetched, { ...pd, messages });
        const b = new FastBatchClass(TOPIC, fetched, { ...pd, messages: views });
        for (const fn of ['isEmpty', 'isEmptyIncludingFiltered', 'isEmptyDueToFiltering', 'firstOffset', 'lastOffset', 'offsetLag', 'offsetLagLow'])
          expect(b[fn](), fn).toEqual(a[fn]());
        expect(b.messages.length).toBe(a.messages.length);
        expect(b.messages[b.messages.length - 1]).toEqual(a.messages[a.messages.length - 1]);
        expect([...b.messages]).toEqual(a.messages);
        expect(b.rawMessages.length).toBe(a.rawMessages.length);
      }),
      { numRuns: 100 },
    );
  });
});
