/**
 * Sinks that encode where their records are made (API 1.4, src/runtime/sink-encode.ts), with a
 * fake third-party sink (test/fixtures/plugins/encoding-sink.mjs): with worker threads the batches
 * a parallel chain passes to it are encoded there and only the encoded batch crosses; without, the
 * runtime encodes in the main thread; the sink writes the same either way, every record once, and
 * the run's counts are the same. A broken encoder or a sink without `writeEncoded` fails the run,
 * naming the sink.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { runPipeline } from '../../src/runtime/run.js';
import { findSegments } from '../../src/runtime/segments.js';
import { encodedRoutes } from '../../src/runtime/sink-encode.js';
import { chooseWorkers } from '../../src/runtime/workers.js';
import type { RunSummary } from '../../src/runtime/summary.js';
import { testContext } from '../helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/plugins/encoding-sink.mjs');

/** Squid lines over several files (some broken), in batches of 100. */
function setUp(mode = 'ok', extra = ''): { dir: string; spec: string } {
  const dir = tempDir('sink-encode-');
  for (let f = 0; f < 3; f++) {
    const lines: string[] = [];
    for (let i = 0; i < 700; i++) {
      if (i % 97 === 13) lines.push(`broken line ${f}.${i}`);
      else if (i % 211 === 5) lines.push(`over-long ${'x'.repeat(1100)}`);
      else
        lines.push(
          `1715680801.${String(i).padStart(3, '0')} ${i} 10.1.${f}.${i % 250} TCP_MISS/200 ${1000 + i} GET http://h${i % 37}.example.com/p/${f}/${i} - DIRECT/192.0.2.${i % 200} text/html`,
        );
    }
    writeFileSync(join(dir, `in-${f}.log`), `${lines.join('\n')}\n`);
  }
  const spec = join(dir, 'spec.yaml');
  writeFileSync(
    spec,
    `version: 1
name: sink-encode
plugins: [${FIXTURE}]
settings: { flush_interval: 50ms }
nodes:
  src: { source: file, with: { paths: ["${dir}/in-*.log"], batch_size: 100, checkpoint: true, max_line_bytes: 1024 } }
  parse: { transform: proxy-log, from: src, with: { format: squid } }
  out: { sink: fake-encoding-sink, from: parse, with: { path: "${dir}/out.jsonl", mode: ${mode} } }
  rejects: { sink: fake-encoding-sink, from: [src.invalid, parse.invalid], with: { path: "${dir}/rejects.jsonl" } }
${extra}`,
  );
  return { dir, spec };
}

async function run(spec: string, dir: string, workers: number, tag: string): Promise<RunSummary> {
  const loaded = await loadSpec(spec, { registry: builtinRegistry() });
  expect(loaded.issues.filter((i) => i.severity === 'error')).toEqual([]);
  return runPipeline(loaded.spec!, {
    stateDir: join(dir, `state-${tag}`),
    logger: testContext().logger,
    workers,
    sinkRetry: { initialDelayMs: 1, maxDelayMs: 2 },
  });
}

const sorted = (file: string) => readFileSync(file, 'utf8').trim().split('\n').sort();
const threads = (file: string) => new Set(readFileSync(`${file}.threads`, 'utf8').trim().split('\n').map(Number));
const counts = (s: RunSummary) => s.nodes.map((n) => ({ node: n.node, in: n.in, out: n.out }));

describe('sinks that encode in the worker threads (fake encoding sink)', () => {
  it('encodes in the workers with threads and in the main thread without; the same lines and counts either way', async () => {
    const one = setUp();
    const two = setUp();
    const a = await run(one.spec, one.dir, 1, 'a');
    const b = await run(two.spec, two.dir, 2, 'b');
    const outA = sorted(join(one.dir, 'out.jsonl'));
    expect(outA).toHaveLength(3 * 700 - 3 * 8 - 3 * 4);
    expect(sorted(join(two.dir, 'out.jsonl'))).toEqual(outA);
    expect(sorted(join(two.dir, 'rejects.jsonl'))).toEqual(sorted(join(one.dir, 'rejects.jsonl')));
    expect(counts(b)).toEqual(counts(a));
    expect(a.nodes.find((n) => n.node === 'out')!.in).toBe(outA.length);
    // main thread only without workers; with them, the parser's outputs were encoded in its copies
    expect(threads(join(one.dir, 'out.jsonl'))).toEqual(new Set([0]));
    const t = threads(join(two.dir, 'out.jsonl'));
    expect(t.has(0)).toBe(false);
    expect(t.size).toBeGreaterThan(0);
    // rejects from both threads: the source's over-long lines in the main thread, the parser's in the workers
    const r = threads(join(two.dir, 'rejects.jsonl'));
    expect(r.has(0)).toBe(true);
    expect([...r].some((x) => x !== 0)).toBe(true);
  });

  it('a transient writeEncoded failure is retried with the same batch: every record once, the source committed', async () => {
    const { dir, spec } = setUp('transient');
    const s = await run(spec, dir, 2, 'c');
    const out = sorted(join(dir, 'out.jsonl'));
    expect(out).toHaveLength(3 * 700 - 3 * 8 - 3 * 4);
    expect(new Set(out).size).toBe(out.length);
    expect(s.nodes.find((n) => n.node === 'out')!.metrics?.fake_batches).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'state-c'))).toBe(true);
    // a rerun from the checkpoints reads nothing again: every batch was acknowledged
    const again = await run(spec, dir, 2, 'c');
    expect(again.nodes.find((n) => n.node === 'out')!.in).toBe(0);
    expect(sorted(join(dir, 'out.jsonl'))).toEqual(out);
  });

  it('an encoder that miscounts fails the run naming the sink, in a worker and in the main thread', async () => {
    for (const workers of [2, 1]) {
      const { dir, spec } = setUp('bad-count');
      await expect(run(spec, dir, workers, 'd')).rejects.toThrow(/node 'out'.*encoder of sink 'out' returned count/);
    }
  });

  it('a sink that declares an encoder without writeEncoded fails at start', async () => {
    const { dir, spec } = setUp('no-write-encoded');
    await expect(run(spec, dir, 1, 'e')).rejects.toThrow(/declares an encoder but its instance has no writeEncoded/);
  });

  it('routes: outputs read by encoding sinks are encoded; their records still cross when another node reads them', async () => {
    const routesOf = async (extra: string) => {
      const { spec } = setUp('ok', extra);
      const loaded = await loadSpec(spec, { registry: builtinRegistry() });
      const [seg] = findSegments(loaded.spec!, 2);
      const routes = encodedRoutes(loaded.spec!, seg!).map((r) => [r.node, r.port, r.sinks.map((s) => s.sink), r.records]);
      return { routes, workers: (await chooseWorkers(loaded.spec!, { cores: 2, minBytes: 1 })).count };
    };
    // another encoding sink (the built-in file sink) beside: both encode, no record crosses, and
    // under workers: auto that chain is no reason for one thread
    const both = await routesOf('  other: { sink: file, from: parse, with: { path: "/dev/null" } }\n');
    expect(both.routes).toEqual([
      ['parse', 'out', ['out', 'other'], false],
      ['parse', 'invalid', ['rejects'], false],
    ]);
    expect(both.workers).toBe(2);
    // a sink without an encoder reads parse.out too: its records cross, and auto keeps one thread
    const mixed = await routesOf('  other: { sink: stdout, from: parse }\n');
    expect(mixed.routes).toEqual([
      ['parse', 'out', ['out'], true],
      ['parse', 'invalid', ['rejects'], false],
    ]);
    expect(mixed.workers).toBe(1);
  });
});
