/**
 * The main thread as one of a parallel chain's copies (main-copy.ts, runners/segment.ts): file →
 * {thread-pass → proxy-log → ioc-sweep} → file sinks, with one worker thread and the main thread,
 * gives the same alerts and rejects, in the same order, as one thread; the main thread's batches
 * count where a copy's do; what the main copy holds is flushed at the end; a failure in a
 * main-thread batch fails the run as a worker copy's failure does; and `auto` chooses it for file input (not a stream; SLUICE_MAIN_COPY=0 turns it off) only where the
 * main thread has nothing else to run.
 * `thread-pass` (test/fixtures/plugins/thread-pass.mjs) holds each batch a while in the worker, so
 * the worker is busy and the main thread takes batches whatever the machine's speed.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { chooseWorkers, GROW_AFTER_SECONDS } from '../../src/runtime/workers.js';
import { renderSummary } from '../../src/cli/summary-table.js';
import type { RunError } from '../../src/runtime/run-error.js';
import { tempDir } from '../helpers/tmp.js';
import { runTestSpec } from '../helpers/run-spec.js';
import { squidLog as squidLogOf } from '../helpers/squid-log.js';
import { linesWithoutTime } from '../helpers/jsonl.js';
import { writeSweepSpec } from '../helpers/sweep-spec.js';

const HOSTS = ['www.example.com', 'bad.example.net', 'cdn.example.org', '198.51.100.7', 'evil.example.io', 'files.example.com'];

/** `n` squid lines, every 97th broken (a reject), hosts from HOSTS (some in the feed). */
const squidLog = (n: number): string => squidLogOf(n, HOSTS, 97);

function setup(n: number, pass = '{ worker_ms: 15 }', extra = ''): { dir: string; file: string } {
  const dir = tempDir('main-copy-');
  writeFileSync(join(dir, 'a.log'), squidLog(n));
  writeFileSync(join(dir, 'bad.txt'), 'bad.example.net\n198.51.100.7\nevil.example.io\n');
  const file = writeSweepSpec(dir, { name: 'main-copy', logs: [join(dir, 'a.log')], batchSize: 100, pass, extra });
  return { dir, file };
}

const run = runTestSpec;

const read = (f: string) => readFileSync(f, 'utf8');
/** Rejects carry the time they were made (`@timestamp`): compared without it. */
const rejects = linesWithoutTime;

describe('the main thread as one of the copies', () => {
  it('same alerts and rejects, in order, as one thread; batches counted in both threads', async () => {
    const n = 6000;
    const { dir, file } = setup(n);
    // one thread, each node on its own (no copy of the chain): the reference
    const one = await run(file, join(dir, 'one'), { workers: 1, mainCopy: false });
    const hybrid = await run(file, join(dir, 'hyb'), { workers: 2, mainCopy: true });
    // one thread whose only copy of the chain the main thread is (workers.ts `oneThread`)
    const only = await run(file, join(dir, 'only'), { workers: 1 });
    expect(hybrid.workers).toMatchObject({ count: 2, mainCopy: true });
    expect(one.workers).toEqual({ count: 1, reason: '--workers 1' });
    expect(only.workers).toMatchObject({ count: 1, mainCopy: true });
    expect(renderSummary(only)).toContain('one thread: --workers 1; the main thread runs the chain as one copy');
    expect(read(join(dir, 'only', 'alerts.jsonl'))).toBe(read(join(dir, 'one', 'alerts.jsonl')));
    expect(rejects(join(dir, 'only', 'rejects.jsonl'))).toEqual(rejects(join(dir, 'one', 'rejects.jsonl')));
    for (const name of ['logs', 'pass', 'parse', 'sweep', 'alerts', 'rejects']) {
      const a = only.nodes.find((x) => x.node === name)!;
      const b = one.nodes.find((x) => x.node === name)!;
      expect([a.in, a.out, a.metrics], name).toEqual([b.in, b.out, b.metrics]);
    }
    expect(renderSummary(hybrid)).toContain('1 worker thread and the main thread per parallel chain: --workers 2; the main thread is one of the 2 copies');
    const alerts = read(join(dir, 'one', 'alerts.jsonl'));
    expect(alerts.split('\n').filter(Boolean).length).toBeGreaterThan(1000);
    expect(read(join(dir, 'hyb', 'alerts.jsonl'))).toBe(alerts);
    expect(rejects(join(dir, 'hyb', 'rejects.jsonl'))).toEqual(rejects(join(dir, 'one', 'rejects.jsonl')));
    const node = (s: typeof one, name: string) => s.nodes.find((x) => x.node === name)!;
    // every record counted once, whichever thread ran its batch
    for (const name of ['pass', 'parse', 'sweep']) {
      expect(node(hybrid, name).in).toBe(node(one, name).in);
      expect(node(hybrid, name).out).toEqual(node(one, name).out);
    }
    expect(node(one, 'pass').metrics).toEqual({ main_thread: n });
    const m = node(hybrid, 'pass').metrics;
    expect(m.main_thread).toBeGreaterThan(0);
    expect(m.worker_thread).toBeGreaterThan(0);
    expect(m.main_thread! + m.worker_thread!).toBe(n);
    expect(node(hybrid, 'sweep').metrics.alerts).toBe(node(one, 'sweep').metrics.alerts);
  });

  it('what the main-thread copy holds is flushed at the end, as a worker copy’s is', async () => {
    const n = 3000;
    const { dir, file } = setup(n, '{ worker_ms: 15, hold: true }');
    await run(file, join(dir, 'one'), { workers: 1, mainCopy: false });
    const hybrid = await run(file, join(dir, 'hyb'), { workers: 2, mainCopy: true });
    const m = hybrid.nodes.find((x) => x.node === 'pass')!.metrics;
    expect(m.main_thread_held).toBeGreaterThan(0);
    expect(m.worker_thread_held).toBeGreaterThan(0);
    expect(m.main_thread_held! + m.worker_thread_held!).toBe(n);
    // each copy's held records come out at its finish: the same records, not in one order
    const sorted = (f: string) => read(f).split('\n').filter(Boolean).sort();
    expect(sorted(join(dir, 'hyb', 'alerts.jsonl'))).toEqual(sorted(join(dir, 'one', 'alerts.jsonl')));
    expect(sorted(join(dir, 'one', 'alerts.jsonl')).length).toBeGreaterThan(500);
    expect(rejects(join(dir, 'hyb', 'rejects.jsonl')).sort()).toEqual(rejects(join(dir, 'one', 'rejects.jsonl')).sort());
  });

  it('a failure in a main-thread batch fails the run as a worker copy’s failure does', async () => {
    const { dir, file } = setup(4000, '{ worker_ms: 15, fail_main_at: 3 }');
    const err = (await run(file, join(dir, 'main'), { workers: 2, mainCopy: true }).catch((e: unknown) => e)) as RunError;
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('SLUICE_E_RUNTIME');
    expect(err.node).toBe('pass');
    expect(err.message).toContain('failed on main-thread batch 3');
    const w = setup(4000, '{ worker_ms: 15, fail_worker_at: 3 }');
    const werr = (await run(w.file, join(w.dir, 'worker'), { workers: 2, mainCopy: true }).catch((e: unknown) => e)) as RunError;
    expect(werr).toBeInstanceOf(Error);
    expect([werr.code, werr.node]).toEqual([err.code, err.node]);
    expect(werr.message).toContain('failed on worker batch 3');
    // the run ended there: not every line reached the sinks
    const summary = (err as RunError & { summary?: { nodes: Array<{ node: string; in: number }> } }).summary;
    expect(summary!.nodes.find((x) => x.node === 'pass')!.in).toBeLessThan(4000);
  });

  it('auto makes the main thread a copy for file input, not with SLUICE_MAIN_COPY=0, and only where it has nothing else to run', async () => {
    const plain = setup(10);
    const { spec } = await loadSpec(plain.file, { registry: builtinRegistry(), vars: { OUT: plain.dir } });
    const before = process.env.SLUICE_MAIN_COPY;
    delete process.env.SLUICE_MAIN_COPY;
    try {
      // a file source (its size is known): one worker thread beside the main thread, started during the run (grow.ts)
      expect(await chooseWorkers(spec!, { cores: 2, minBytes: 1 })).toEqual({
        count: 2,
        mainCopy: true,
        grow: { inputBytes: statSync(join(plain.dir, 'a.log')).size, afterSeconds: GROW_AFTER_SECONDS },
        reason: `auto: 0.0 MiB of input, at least 0.0 MiB; the main thread is one of the 2 copies, and starts the 1 worker thread once the rest of the input would keep it busy more than ${GROW_AFTER_SECONDS} s alone`,
      });
      // started before the run
      expect(await chooseWorkers(spec!, { cores: 2, minBytes: 1, grow: false })).toEqual({
        count: 2,
        mainCopy: true,
        reason: 'auto: 0.0 MiB of input, at least 0.0 MiB; the main thread is one of the 2 copies, beside 1 worker thread',
      });
      expect(await chooseWorkers(spec!, { cores: 4, minBytes: 1 })).toMatchObject({ count: 4, mainCopy: true });
      // --workers N: as many worker threads
      expect(await chooseWorkers(spec!, { cores: 2, override: 2 })).toEqual({ count: 2, reason: '--workers 2' });
      // turned off: two worker copies
      process.env.SLUICE_MAIN_COPY = '0';
      expect(await chooseWorkers(spec!, { cores: 2, minBytes: 1 })).toEqual({ count: 2, reason: 'auto: 0.0 MiB of input, at least 0.0 MiB' });
    } finally {
      if (before === undefined) delete process.env.SLUICE_MAIN_COPY;
      else process.env.SLUICE_MAIN_COPY = before;
    }
    // asked for (RunOptions.mainCopy)
    expect(await chooseWorkers(spec!, { cores: 2, override: 2, mainCopy: true })).toMatchObject({ count: 2, mainCopy: true });
    expect((await chooseWorkers(spec!, { cores: 2, minBytes: 1, mainCopy: false })).mainCopy).toBeUndefined();
    // small input: one thread, whose one copy of the chain the main thread is
    expect(await chooseWorkers(spec!, { cores: 2 })).toMatchObject({ count: 1, mainCopy: true });
    expect((await chooseWorkers(spec!, { cores: 2, mainCopy: false })).mainCopy).toBeUndefined();
    // a processor on the main thread (a window): the main thread is not idle, today's copies
    const windowed = setup(
      10,
      '{}',
      '  volume: { analyse: window, from: sweep.alerts, with: { key: [source.ip], size: 1m, aggregate: { n: count } } }\n  vol: { sink: file, from: volume.windows, with: { path: "${OUT}/w.jsonl" } }\n',
    );
    const w = await loadSpec(windowed.file, { registry: builtinRegistry(), vars: { OUT: windowed.dir } });
    expect(w.issues.filter((i) => i.severity === 'error')).toEqual([]);
    // (three cores: on two, a window merging summaries keeps auto on one thread, workers.ts MERGE_MIN_CORES)
    const choice = await chooseWorkers(w.spec!, { cores: 3, minBytes: 1, mainCopy: true });
    expect(choice.mainCopy).toBeUndefined();
    expect(choice.reason).toContain("no main-thread copy: 'volume' runs on the main thread");
    // the window in the copies (a by-key chain): every copy runs every batch, none is the main thread
    const keyed = await chooseWorkers(w.spec!, { cores: 2, minBytes: 1, mainCopy: true, byKey: true });
    expect(keyed).toMatchObject({ count: 2, byKey: true });
    expect(keyed.mainCopy).toBeUndefined();
    expect(keyed.reason).toContain('heads a by-key chain (every copy runs every batch)');
  });
});
