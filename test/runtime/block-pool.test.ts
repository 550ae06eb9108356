/**
 * Line blocks from a pool (src/block-pool.ts): a buffer is handed to one block at a time and comes
 * back only when given; `cutLines` with a pool of one or two buffers and a consumer that reads each
 * block late gives exactly the blocks of `cutLines` without a pool (random lines and block sizes);
 * a block crosses to a worker in shared memory from a pool of its own, given back when the worker
 * is done with it; and pipelines with a slow worker copy, the main thread
 * as a copy, one thread, by-key copies and a failing worker give the outputs of a run without a pool.
 */
import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BlockPool, blockPoolLimit, giveBack, lineBlocks, ownedByBlock, sharedBlocks } from '../../src/block-pool.js';
import type { CutLines } from '../../src/line-reader.js';
import { linesToRecords, type LineBlock, type Rec } from '../../src/record.js';
import { encodeForWorker } from '../../src/runtime/wire.js';
import type { RunError } from '../../src/runtime/run-error.js';
import type { RunSummary } from '../../src/runtime/summary.js';
import { tempDir } from '../helpers/tmp.js';
import { cutInTwo } from '../helpers/cut-in-two.js';
import { nodeOf, runTestSpec } from '../helpers/run-spec.js';
import { squidLog } from '../helpers/squid-log.js';
import { linesWithoutTime } from '../helpers/jsonl.js';
import { writeSweepSpec } from '../helpers/sweep-spec.js';

const TALLY = resolve(import.meta.dirname, '../fixtures/plugins/key-tally.mjs');
const HOSTS = ['www.example.com', 'bad.example.net', 'cdn.example.org', '198.51.100.7', 'evil.example.io', 'files.example.com'];

afterEach(() => {
  delete process.env.SLUICE_BLOCK_POOL;
  lineBlocks.reset(blockPoolLimit());
  sharedBlocks.reset(blockPoolLimit());
  lineBlocks.detachOnRelease = false;
});

/**
 * The main thread's pool detaches what it is given back, in this file's runs: a block read after
 * its release then reads nothing and the outputs differ from those without a pool (a run detaches
 * nothing: block-pool.ts).
 */
function checkReleases(): void {
  lineBlocks.detachOnRelease = true;
}

/**
 * Hand a block to "a worker thread" and back, as the runtime does: its bytes copied into shared
 * memory and its own memory given back (WorkerPool.submit), the worker reading a copy of its own
 * and sending the shared memory back (postMessage shares it: a new object over the same memory).
 */
function viaWorker(block: LineBlock): { records: Rec[]; free: ArrayBufferLike } {
  const { wire, transfer } = encodeForWorker(block);
  lineBlocks.release(block);
  const there = structuredClone(wire, { transfer }) as { block: LineBlock };
  const copy = new Uint8Array(there.block.bytes.length);
  copy.set(there.block.bytes);
  const records = linesToRecords({ ...there.block, bytes: copy });
  return { records, free: structuredClone(there.block.bytes.buffer) };
}

describe('BlockPool', () => {
  it('hands a buffer to one block at a time; kept buffers are bounded (property)', () => {
    const op = fc.oneof(fc.record({ take: fc.integer({ min: 1, max: 300_000 }) }), fc.record({ back: fc.nat(), worker: fc.boolean() }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.boolean(), fc.array(op, { maxLength: 60 }), (limit, detach, ops) => {
        const pool = new BlockPool(limit, detach);
        const live: LineBlock[] = [];
        for (const o of ops) {
          if ('take' in o) {
            const bytes = pool.take(o.take);
            expect(bytes.length).toBe(o.take);
            expect(bytes.byteOffset).toBe(0);
            // never memory a live block still views
            for (const b of live) expect(b.bytes.buffer).not.toBe(bytes.buffer);
            if (limit === 0) expect(bytes.buffer.byteLength).toBe(o.take);
            else expect(ownedByBlock(bytes.buffer)).toBe(true);
            live.push({ kind: 'lines', file: 'x', firstLine: 1, bytes, records: 1 });
          } else if (live.length) {
            const [b] = live.splice(o.back % live.length, 1);
            if (o.worker) pool.give(structuredClone(b!.bytes.buffer as ArrayBuffer, { transfer: [b!.bytes.buffer as ArrayBuffer] }));
            else {
              const owned = ownedByBlock(b!.bytes.buffer);
              const length = b!.bytes.length;
              pool.release(b!);
              // given back from the main thread: with `detachOnRelease` the block's view is detached and reads nothing
              expect(b!.bytes.length).toBe(owned && detach ? 0 : length);
            }
          }
          expect(pool.size).toBeLessThanOrEqual(limit);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reuses a buffer given back, large enough for blocks somewhat larger; drops the oldest when none fits', () => {
    const pool = new BlockPool(2);
    const a = pool.take(100_000);
    const ab = a.buffer;
    expect(ab.byteLength).toBeGreaterThanOrEqual(110_000);
    pool.release({ kind: 'lines', file: 'x', firstLine: 1, bytes: a, records: 1 });
    expect(a.length).toBe(100_000); // not detached: see block-pool.ts
    const b = pool.take(105_000);
    expect(b.length).toBe(105_000);
    expect(b.buffer).toBe(ab); // the same memory, a new view
    expect(pool.counts).toEqual({ reused: 1, allocated: 1, returned: 1 });
    pool.give(structuredClone(b.buffer as ArrayBuffer, { transfer: [b.buffer as ArrayBuffer] }));
    expect(pool.size).toBe(1);
    pool.take(1_000_000); // none fits: a new buffer, the small one dropped
    expect(pool.size).toBe(0);
    expect(pool.counts.allocated).toBe(2);
  });

  it('leaves alone what it did not give: a block of memory of its own, a detached one, a shared one', () => {
    const pool = new BlockPool(4);
    const own = new Uint8Array(10);
    pool.release({ kind: 'lines', file: 'x', firstLine: 1, bytes: own, records: 1 });
    expect(own.length).toBe(10);
    const sent = pool.take(10);
    structuredClone(sent.buffer, { transfer: [sent.buffer as ArrayBuffer] }); // sent to a thread
    pool.release({ kind: 'lines', file: 'x', firstLine: 1, bytes: sent, records: 1 });
    pool.give(new SharedArrayBuffer(16) as unknown as ArrayBuffer);
    expect(pool.size).toBe(0);
  });
});

describe('a pooled block crossing to a worker', () => {
  it('goes in shared memory from its own pool, which has it back when the worker sends it; the block is left as it is', () => {
    const bytes = lineBlocks.take(5);
    bytes.set(Buffer.from('a\nbc\n'));
    const block: LineBlock = { kind: 'lines', file: 'x', firstLine: 1, bytes, records: 2 };
    sharedBlocks.reset(2);
    const { wire, transfer } = encodeForWorker(block);
    expect(transfer).toEqual([]);
    const sent = (wire as { block: LineBlock }).block.bytes;
    expect(sent.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(sharedBlocks.counts).toEqual({ reused: 0, allocated: 1, returned: 0 });
    expect(bytes.length).toBe(5); // not detached: the caller gives it back
    const there = structuredClone(wire) as { block: LineBlock };
    expect(linesToRecords(there.block).map((r) => r.message)).toEqual(['a', 'bc']);
    // the worker sends the shared memory back: a new object over the same memory, for the shared pool
    giveBack(structuredClone(there.block.bytes.buffer));
    expect(sharedBlocks.size).toBe(1);
    const again = encodeForWorker(block);
    expect(sharedBlocks.counts.reused).toBe(1);
    expect(Buffer.from((again.wire as { block: LineBlock }).block.bytes).toString()).toBe('a\nbc\n');
    // an ArrayBuffer given back goes to the line pool, not the shared one
    giveBack(new ArrayBuffer(16));
    expect(sharedBlocks.size).toBe(0);
  });
});

/** Random log text: ASCII and UTF-8 lines, CRs, blank lines, now and then a line over `max`. */
const char = fc.constantFrom('a', 'Z', '0', ' ', '/', '.', '"', 'é', '→', '\r');
const line = fc.oneof(
  { weight: 20, arbitrary: fc.array(char, { maxLength: 40 }).map((cs) => cs.join('')) },
  { weight: 1, arbitrary: fc.integer({ min: 41, max: 90 }).map((n) => 'x'.repeat(n)) },
);

/**
 * The blocks `cutLines` makes of `text` (cut at `split` into two chunks, the line across the cut
 * carried over as the file source does), read by a consumer `lag` blocks behind, each read through
 * a worker or the main thread (`viaWorker`), then given back.
 */
async function cutAndRead(text: Buffer, split: number, batchSize: number, lag: number, worker: (i: number) => boolean): Promise<Rec[][]> {
  const read: Rec[][] = [];
  const waiting: LineBlock[] = [];
  let n = 0;
  const consume = (b: LineBlock) => {
    if (worker(n++)) {
      const { records, free } = viaWorker(b);
      read.push(records);
      giveBack(free);
    } else {
      read.push(linesToRecords(b));
      lineBlocks.release(b);
    }
  };
  const o: CutLines = {
    file: 'x.log',
    batchSize,
    maxLineBytes: 40,
    line: 0,
    emit: async (block: LineBlock | null) => {
      if (block) waiting.push(block);
      while (waiting.length > lag) consume(waiting.shift()!);
      return true;
    },
    tooLong: () => undefined,
    blank: () => undefined,
  };
  await cutInTwo(text, split, o);
  while (waiting.length) consume(waiting.shift()!);
  return read;
}

describe('cutLines with the pool', () => {
  it('gives the blocks of cutLines without a pool, read late through a pool of one or two (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 120 }),
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 2 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        async (lines, finalNl, at, batchSize, lag, limit, threads) => {
          const text = Buffer.from(lines.join('\n') + (finalNl ? '\n' : ''), 'utf8');
          const split = at % (text.length + 1);
          const where = (i: number) => threads[i % threads.length]!;
          checkReleases();
          lineBlocks.reset(0);
          const want = await cutAndRead(text, split, batchSize, 0, where);
          lineBlocks.reset(limit);
          const got = await cutAndRead(text, split, batchSize, lag, where);
          expect(got).toEqual(want);
          // a consumer this far behind and a pool this small: memory came back and was used again
          if (want.length > lag + limit + 1) expect(lineBlocks.counts.reused).toBeGreaterThan(0);
          expect(lineBlocks.size).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 400 },
    );
  });
});

/** file → thread-pass → proxy-log → {ioc-sweep, key-tally?} → file sinks. */
function setup(pass: string, tally = false): { dir: string; file: string } {
  const dir = tempDir('block-pool-');
  writeFileSync(join(dir, 'a.log'), squidLog(6000, HOSTS, 97));
  writeFileSync(join(dir, 'b.log'), squidLog(2500, HOSTS, 89));
  writeFileSync(join(dir, 'bad.txt'), 'bad.example.net\n198.51.100.7\nevil.example.io\n');
  const extra = tally
    ? `  tally: { analyse: key-tally, from: parse, with: { key: url.full } }
  tallies: { sink: file, from: tally.tallies, with: { path: "\${OUT}/tallies.jsonl" } }
`
    : '';
  const file = writeSweepSpec(dir, { name: 'block-pool', logs: [join(dir, 'a.log'), join(dir, 'b.log')], batchSize: 300, pass, plugins: [TALLY], extra });
  return { dir, file };
}

async function runWithPool(pool: string, file: string, out: string, o: Parameters<typeof runTestSpec>[2]): Promise<RunSummary> {
  process.env.SLUICE_BLOCK_POOL = pool;
  try {
    return await runTestSpec(file, out, o);
  } finally {
    delete process.env.SLUICE_BLOCK_POOL;
  }
}

function sameOutputs(dir: string, a: string, b: string, sa: RunSummary, sb: RunSummary, files: string[]): void {
  for (const f of files) {
    const want = linesWithoutTime(join(dir, a, `${f}.jsonl`)).sort();
    expect(want.length, f).toBeGreaterThan(f === 'tallies' ? 5 : 50);
    expect(linesWithoutTime(join(dir, b, `${f}.jsonl`)).sort(), f).toEqual(want);
  }
  for (const name of ['logs', 'pass', 'parse', 'sweep']) {
    expect(nodeOf(sb, name).in, name).toBe(nodeOf(sa, name).in);
    expect(nodeOf(sb, name).out, name).toEqual(nodeOf(sa, name).out);
  }
}

describe('pipelines with pooled line blocks', () => {
  beforeEach(checkReleases);

  it('a slow worker copy and the main thread as a copy, pools of 1, 2 and the default: the outputs of no pool', async () => {
    // the worker holds each batch 4 ms: the main thread takes batches too, and blocks wait in queues
    const { dir, file } = setup('{ worker_ms: 4 }');
    const ref = await runWithPool('0', file, join(dir, 'ref'), { workers: 2, mainCopy: true });
    expect(lineBlocks.counts.reused).toBe(0);
    for (const pool of ['1', '2', '']) {
      const got = await runWithPool(pool, file, join(dir, `p${pool}`), { workers: 2, mainCopy: true });
      sameOutputs(dir, 'ref', `p${pool}`, ref, got, ['alerts', 'rejects']);
      const pass = nodeOf(got, 'pass').metrics!;
      expect(pass.main_thread, 'main-thread batches').toBeGreaterThan(0);
      expect(pass.worker_thread, 'worker batches').toBeGreaterThan(0);
      expect(lineBlocks.counts.reused, `pool ${pool}`).toBeGreaterThan(0);
    }
  });

  it('one thread, two worker copies, and by-key copies: the outputs of no pool', async () => {
    const { dir, file } = setup('{ worker_ms: 1 }', true);
    const files = ['alerts', 'rejects', 'tallies'];
    const ref = await runWithPool('0', file, join(dir, 'ref'), { workers: 1 });
    const one = await runWithPool('1', file, join(dir, 'one'), { workers: 1 });
    sameOutputs(dir, 'ref', 'one', ref, one, files);
    expect(lineBlocks.counts.reused).toBeGreaterThan(0);
    const two = await runWithPool('2', file, join(dir, 'two'), { workers: 2, mainCopy: false, byKey: false });
    sameOutputs(dir, 'ref', 'two', ref, two, files);
    expect(lineBlocks.counts.reused).toBeGreaterThan(0);
    const keyed = await runWithPool('2', file, join(dir, 'keyed'), { workers: 2, byKey: true });
    expect(keyed.workers?.reason).toContain("'tally' in the worker copies");
    sameOutputs(dir, 'ref', 'keyed', ref, keyed, files);
    expect(lineBlocks.counts.reused).toBeGreaterThan(0);
  });

  it('a worker that fails with blocks outstanding fails the run; the next run in the process is whole', async () => {
    const { dir, file } = setup('{ fail_worker_at: 4 }');
    await expect(runWithPool('1', file, join(dir, 'bad'), { workers: 2, mainCopy: false })).rejects.toMatchObject({
      node: 'pass',
    } satisfies Partial<RunError>);
    const good = setup('{}');
    const ref = await runWithPool('0', good.file, join(good.dir, 'ref'), { workers: 1 });
    const got = await runWithPool('1', good.file, join(good.dir, 'got'), { workers: 2, mainCopy: false });
    sameOutputs(good.dir, 'ref', 'got', ref, got, ['alerts', 'rejects']);
  });
});
