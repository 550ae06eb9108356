/**
 * `workers: auto` starting its worker threads during the run (grow.ts, workers.ts `grow`): the
 * decision from fake timings (no run: `GrowWatch` fed made-up batches and milliseconds), and the
 * sweep run with the rule — a worker started part way gives the alerts and rejects of one thread,
 * in order, with batches run in both threads; a rest too short starts none and the summary says so.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchBytes, GrowWatch } from '../../src/runtime/grow.js';
import type { LineBlock } from '../../src/record.js';
import { renderSummary } from '../../src/cli/summary-table.js';
import { tempDir } from '../helpers/tmp.js';
import { nodeOf, runTestSpec } from '../helpers/run-spec.js';
import { squidLog } from '../helpers/squid-log.js';
import { linesWithoutTime } from '../helpers/jsonl.js';
import { writeSweepSpec } from '../helpers/sweep-spec.js';

const block = (n: number): LineBlock => ({ kind: 'lines', file: 'x.log', firstLine: 1, bytes: new Uint8Array(n), records: 1 });
const MB = 1_000_000;

describe('GrowWatch (fake timings)', () => {
  it('decides nothing while the code warms up, then at the fastest batch since', () => {
    const w = new GrowWatch({ inputBytes: 1000 * MB, afterSeconds: 1 });
    // three warm-up batches, however slow, and three measured: no rate yet
    for (let i = 0; i < 6; i++) {
      w.dealtBatch(block(MB));
      w.ranOnMain(MB, i < 3 ? 200 : 8);
      expect(w.due()).toBeUndefined();
    }
    // the fourth measured batch: the fastest (1 MB in 4 ms: 250 MB/s) sets the rate
    w.dealtBatch(block(MB));
    w.ranOnMain(MB, 4);
    expect(w.bytesDealt).toBe(7 * MB);
    expect(w.due()).toBeCloseTo((993 * MB) / (250 * MB), 6);
  });

  it('keeps the fastest rate when later batches are slower (a collection, a busy host)', () => {
    const w = new GrowWatch({ inputBytes: 100 * MB, afterSeconds: 1 });
    for (let i = 0; i < 7; i++) {
      w.dealtBatch(block(MB));
      w.ranOnMain(MB, 4);
    }
    // four slow batches in a row: the rest (89 MB) at the fastest rate still takes 0.36 s, not 3.6 s
    for (let i = 0; i < 4; i++) {
      w.dealtBatch(block(MB));
      w.ranOnMain(MB, 40);
      expect(w.due()).toBeUndefined();
    }
    expect(w.bytesDealt).toBe(11 * MB);
  });

  it('says nothing while the rest would take less than the rule, nor once the input is all dealt', () => {
    const w = new GrowWatch({ inputBytes: 100 * MB, afterSeconds: 1 });
    for (let i = 0; i < 7; i++) {
      w.dealtBatch(block(MB));
      w.ranOnMain(MB, 4);
    }
    expect(w.due()).toBeUndefined(); // 93 MB at 250 MB/s: 0.37 s
    const slow = new GrowWatch({ inputBytes: 100 * MB, afterSeconds: 1 });
    for (let i = 0; i < 7; i++) {
      slow.dealtBatch(block(MB));
      slow.ranOnMain(MB, 40);
    }
    expect(slow.due()).toBeCloseTo(93 / 25, 6); // 25 MB/s: 3.7 s
    const done = new GrowWatch({ inputBytes: 7 * MB, afterSeconds: 0 });
    for (let i = 0; i < 7; i++) {
      done.dealtBatch(block(MB));
      done.ranOnMain(MB, 40);
    }
    expect(done.due()).toBeUndefined();
  });

  it('a batch whose bytes it cannot tell: start at once', () => {
    const w = new GrowWatch({ inputBytes: 100 * MB, afterSeconds: 1 });
    w.dealtBatch([{ message: 'a line' }]);
    expect(w.due()).toBeUndefined();
    w.dealtBatch([{ http: { method: 'GET' } }]);
    expect(w.due()).toBe(Number.POSITIVE_INFINITY);
  });

  it('batchBytes: a block of lines, line records with their newlines, nothing else', () => {
    expect(batchBytes(block(1234))).toBe(1234);
    expect(batchBytes([{ message: 'ab' }, { message: 'cde' }])).toBe(7);
    expect(batchBytes([{ message: 'ab' }, { event: 1 }])).toBeUndefined();
  });
});

const HOSTS = ['www.example.com', 'bad.example.net', 'cdn.example.org', '198.51.100.7', 'evil.example.io', 'files.example.com'];

function setup(n: number): { dir: string; file: string } {
  const dir = tempDir('grow-');
  writeFileSync(join(dir, 'a.log'), squidLog(n, HOSTS, 97));
  writeFileSync(join(dir, 'bad.txt'), 'bad.example.net\n198.51.100.7\nevil.example.io\n');
  // thread-pass counts the records each thread ran
  const file = writeSweepSpec(dir, { name: 'grow', logs: [join(dir, 'a.log')], batchSize: 100, pass: '{ worker_ms: 2 }' });
  return { dir, file };
}

const read = (f: string) => readFileSync(f, 'utf8');

describe('auto starting its worker thread during the run', () => {
  it('starts it once the rest is long enough: the outputs of one thread, batches run in both threads', async () => {
    const n = 6000;
    const { dir, file } = setup(n);
    const one = await runTestSpec(file, join(dir, 'one'), { workers: 1 });
    const grown = await runTestSpec(file, join(dir, 'grown'), { auto: { cores: 2, minBytes: 1, growAfterSeconds: 0 } });
    expect(grown.workers).toMatchObject({ count: 2, mainCopy: true, started: 1 });
    expect(grown.workers!.reason).toMatch(/; started after [0-9.]+ MiB of [0-9.]+ MiB/);
    expect(renderSummary(grown)).toContain('1 worker thread and the main thread per parallel chain');
    const alerts = read(join(dir, 'one', 'alerts.jsonl'));
    expect(alerts.split('\n').length).toBeGreaterThan(500);
    expect(read(join(dir, 'grown', 'alerts.jsonl'))).toBe(alerts);
    expect(linesWithoutTime(join(dir, 'grown', 'rejects.jsonl'))).toEqual(linesWithoutTime(join(dir, 'one', 'rejects.jsonl')));
    const m = nodeOf(grown, 'pass').metrics!;
    // the first seven batches (warm-up and rate) ran on the main thread, later ones in both
    expect(m.main_thread).toBeGreaterThanOrEqual(700);
    expect(m.worker_thread).toBeGreaterThan(0);
    expect(m.main_thread! + m.worker_thread!).toBe(n);
    for (const name of ['logs', 'parse', 'sweep', 'alerts', 'rejects']) {
      expect(nodeOf(grown, name).in, name).toBe(nodeOf(one, name).in);
      expect(nodeOf(grown, name).out, name).toEqual(nodeOf(one, name).out);
    }
  });

  it('starts none when the rest is short: one thread, and the summary says why', async () => {
    const n = 3000;
    const { dir, file } = setup(n);
    const one = await runTestSpec(file, join(dir, 'one'), { workers: 1 });
    const kept = await runTestSpec(file, join(dir, 'kept'), { auto: { cores: 2, minBytes: 1, growAfterSeconds: 3600 } });
    expect(kept.workers).toMatchObject({ count: 2, mainCopy: true, started: 0 });
    expect(kept.workers!.reason).toContain('; none started: the rest of the input was never that long');
    expect(renderSummary(kept)).toMatch(/^one thread: auto: /m);
    expect(nodeOf(kept, 'pass').metrics).toEqual({ main_thread: n });
    expect(read(join(dir, 'kept', 'alerts.jsonl'))).toBe(read(join(dir, 'one', 'alerts.jsonl')));
    expect(linesWithoutTime(join(dir, 'kept', 'rejects.jsonl'))).toEqual(linesWithoutTime(join(dir, 'one', 'rejects.jsonl')));
    // the sweep's create-time statistics counted once, from the main thread's copy
    expect(nodeOf(kept, 'sweep').metrics).toEqual(nodeOf(one, 'sweep').metrics);
  });
});
