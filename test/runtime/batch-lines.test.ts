/**
 * A line source's block size when the spec leaves `batch_size` unset (`ctx.batchLines`, API 1.11):
 * 8,000 lines where every node reading its lines heads a chain of worker copies that gate lines
 * (src/runtime/run.ts `suggestBatchLines`), the source's 2,000 elsewhere, and always what the spec
 * says when it says it. The file source reports the size it used (`batch_lines`); the run's output
 * does not depend on it.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchLinesOf, DEFAULT_BATCH_LINES } from '../../src/line-reader.js';
import { GATED_BATCH_LINES } from '../../src/runtime/run.js';
import { tempDir } from '../helpers/tmp.js';
import { nodeOf, runTestSpec } from '../helpers/run-spec.js';
import { linesWithoutTime } from '../helpers/jsonl.js';
import { squidLog } from '../helpers/squid-log.js';
import { writeSweepSpec } from '../helpers/sweep-spec.js';

/** One host in four is in the feed. */
const HOSTS = ['www.example.com', 'bad.example.net', 'cdn.example.org', 'files.example.com'];

/**
 * A sweep spec over a 20,000-line log (`format: auto`); `batchSize` its source's `batch_size`, `extra`
 * more nodes; in `into` (its log and feed already there) or a new directory.
 */
function setup(batchSize?: number, extra = '', into?: string): { dir: string; file: string } {
  const dir = into ?? tempDir('batch-lines-');
  if (!into) {
    writeFileSync(join(dir, 'a.log'), squidLog(20_000, HOSTS, 97));
    writeFileSync(join(dir, 'bad.txt'), 'bad.example.net\n');
  }
  const file = writeSweepSpec(dir, {
    name: 'batch-lines',
    logs: [join(dir, 'a.log')],
    format: 'auto',
    extra,
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(into ? { fileName: 'pinned.yaml' } : {}),
  });
  return { dir, file };
}

describe('lines per block when the spec leaves batch_size unset', () => {
  it('the spec wins, then the runtime, then the default', () => {
    expect(batchLinesOf(500, 8000)).toBe(500);
    expect(batchLinesOf(undefined, 8000)).toBe(8000);
    expect(batchLinesOf(undefined, undefined)).toBe(DEFAULT_BATCH_LINES);
  });

  it('is larger on one thread too, where the main thread runs the gated chain as its one copy', async () => {
    const { dir, file } = setup();
    const one = await runTestSpec(file, join(dir, 'one'), { workers: 1 });
    expect(one.workers).toMatchObject({ count: 1, mainCopy: true });
    expect(nodeOf(one, 'logs').metrics.batch_lines).toBe(GATED_BATCH_LINES);
    expect(nodeOf(one, 'parse').metrics.gated).toBeGreaterThan(10_000);
  });

  it('is larger where the worker copies gate lines, and the run is the same', async () => {
    const { dir, file } = setup();
    const big = await runTestSpec(file, join(dir, 'big'), { workers: 2 });
    expect(nodeOf(big, 'logs').metrics.batch_lines).toBe(GATED_BATCH_LINES);
    expect(nodeOf(big, 'parse').metrics.gated).toBeGreaterThan(10_000);
    // the same spec with the old default written out: same alerts, rejects and counts
    const pinned = setup(DEFAULT_BATCH_LINES, '', dir);
    const small = await runTestSpec(pinned.file, join(dir, 'small'), { workers: 2 });
    expect(nodeOf(small, 'logs').metrics.batch_lines).toBe(DEFAULT_BATCH_LINES);
    const alerts = readFileSync(join(dir, 'small', 'alerts.jsonl'), 'utf8');
    expect(alerts.split('\n').filter(Boolean).length).toBeGreaterThan(4000);
    expect(readFileSync(join(dir, 'big', 'alerts.jsonl'), 'utf8')).toBe(alerts);
    expect(linesWithoutTime(join(dir, 'big', 'rejects.jsonl'))).toEqual(linesWithoutTime(join(dir, 'small', 'rejects.jsonl')));
    for (const name of ['logs', 'parse', 'sweep']) expect(nodeOf(big, name).out, name).toEqual(nodeOf(small, name).out);
  });

  it("keeps the source's default where no chain gates its lines", async () => {
    const cases: Array<[string, { dir: string; file: string }, number, boolean?]> = [
      // one thread, each node on its own: no copy of the chain
      ['one thread, nodes on their own', setup(), 1, false],
      // the parsed records are read by a sink too: no gate
      ['parsed records read', setup(undefined, '  parsed: { sink: file, from: parse, with: { path: "${OUT}/parsed.jsonl" } }\n'), 2],
    ];
    for (const [what, { dir, file }, workers, mainCopy] of cases) {
      const sum = await runTestSpec(file, join(dir, 'out'), { workers, ...(mainCopy === false ? { mainCopy } : {}) });
      expect(nodeOf(sum, 'logs').metrics.batch_lines, what).toBe(DEFAULT_BATCH_LINES);
      expect(nodeOf(sum, 'parse').metrics.gated, what).toBeUndefined();
    }
  });
});
