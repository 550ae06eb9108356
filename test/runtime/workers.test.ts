/**
 * How many worker threads a run uses (src/runtime/workers.ts): a pinned `settings.workers`,
 * `--workers N` over it, and the `auto` default's size rule — the sources' known input (file sizes,
 * gzip by its trailer) against a threshold, a stream or a source of unknown size always using every
 * core. The CLI's summary says how many and why.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { chooseWorkers, AUTO_MIN_BYTES } from '../../src/runtime/workers.js';
import fileSource from '../../plugins/source/file/index.js';
import kafkaSource from '../../plugins/source/kafka/index.js';
import { runCli, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const DEFAULT = resolve(ROOT, 'pipelines/proxy-ioc-sweep.yaml');

async function compile(
  dir: string,
  settings: string,
  source = 'file',
  withs = `{ paths: ["${dir}/a.log"] }`,
  out = 'src.invalid, parse.invalid',
  sink = `file, from: [${out}], with: { path: "${dir}/out.jsonl" }`,
) {
  writeFileSync(
    join(dir, 'spec.yaml'),
    `version: 1
name: w
${settings}
nodes:
  src: { source: ${source}, with: ${withs} }
  parse: { transform: proxy-log, from: src, with: { format: squid } }
  out: { sink: ${sink} }
`,
  );
  const { spec, issues } = await loadSpec(join(dir, 'spec.yaml'), { registry: builtinRegistry() });
  expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
  return spec!;
}

describe('worker threads: settings.workers, --workers, the auto rule', () => {
  it("a spec without settings.workers is 'auto'; a number pins it; --workers overrides both", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.log'), 'x\n');
    const auto = await compile(dir, '');
    expect(auto.settings.workers).toBe('auto');
    expect(await chooseWorkers(auto, { cores: 2 })).toMatchObject({ count: 1 });
    expect(await chooseWorkers(auto, { cores: 2, minBytes: 1 })).toMatchObject({ count: 2 });
    expect(await chooseWorkers(auto, { cores: 1, minBytes: 1 })).toMatchObject({
      count: 1,
      reason: 'auto: one CPU core; the main thread runs the chain as one copy',
    });
    expect(await chooseWorkers(auto, { cores: 2, override: 3 })).toEqual({ count: 3, reason: '--workers 3' });
    const pinned = await compile(dir, 'settings: { workers: 1 }');
    expect(await chooseWorkers(pinned, { cores: 2, minBytes: 1 })).toEqual({
      count: 1,
      mainCopy: true,
      reason: 'settings.workers: 1; the main thread runs the chain as one copy',
    });
    // each node on its own: asked (RunOptions.mainCopy), or the run is observed
    expect(await chooseWorkers(pinned, { cores: 2, mainCopy: false })).toEqual({ count: 1, reason: 'settings.workers: 1' });
    expect(await chooseWorkers(pinned, { cores: 2, observed: true })).toEqual({ count: 1, reason: 'settings.workers: 1' });
    expect(await chooseWorkers(pinned, { cores: 2, override: 2 })).toEqual({ count: 2, reason: '--workers 2' });
    const two = await compile(dir, 'settings: { workers: 2 }');
    expect(await chooseWorkers(two, { cores: 8 })).toEqual({ count: 2, reason: 'settings.workers: 2' });
  });

  it('auto: the sources’ input size against the threshold; gzip counted by its uncompressed size', async () => {
    const dir = tempDir();
    const text = 'a line of a proxy log\n'.repeat(5000); // 110,000 bytes, gzip ≈ 1 KB
    writeFileSync(join(dir, 'a.log'), text);
    writeFileSync(join(dir, 'b.log.gz'), gzipSync(text));
    expect(await fileSource.inputBytes!({ paths: [join(dir, 'a.log')], gzip: 'auto' } as never)).toBe(text.length);
    expect(await fileSource.inputBytes!({ paths: [join(dir, '*.log*')], gzip: 'auto' } as never)).toBe(2 * text.length);
    expect(await fileSource.inputBytes!({ paths: [join(dir, 'none-*.log')], gzip: 'auto' } as never)).toBe(0);
    const spec = await compile(dir, '', 'file', `{ paths: ["${dir}/*.log*"] }`);
    expect(await chooseWorkers(spec, { cores: 2, minBytes: 2 * text.length })).toMatchObject({ count: 2, reason: expect.stringContaining('at least') });
    expect(await chooseWorkers(spec, { cores: 2, minBytes: 2 * text.length + 1 })).toMatchObject({ count: 1, reason: expect.stringContaining('below') });
    expect(AUTO_MIN_BYTES).toBeGreaterThan(readFileSync(resolve(ROOT, 'examples/logs/squid-access.log')).length);
  });

  it('auto: one thread when every record of a chain leaves it (parse → a sink of records), whatever the input', async () => {
    const dir = tempDir();
    // stdout: a sink without an encoder (API 1.4), so the records themselves cross
    const passing = await compile(dir, '', 'file', `{ paths: ["${dir}/a.log"] }`, '', 'stdout, from: [parse, src.invalid, parse.invalid]');
    expect(await chooseWorkers(passing, { cores: 2, minBytes: 0 })).toEqual({
      count: 1,
      mainCopy: true,
      reason:
        "auto: every record of 'parse' leaves its parallel chain; moving them back from worker threads costs more than the threads save; the main thread runs the chain as one copy",
    });
    const stream = await compile(dir, '', 'kafka', '{ brokers: ["127.0.0.1:1"], topics: [t], group_id: g }', '', 'stdout, from: [parse, src.invalid]');
    // a stream: each node on its own (a copy is not ticked)
    expect(await chooseWorkers(stream, { cores: 2 })).toEqual({ count: 1, reason: expect.stringContaining("'parse' leaves") });
    // read only by sinks that encode in the workers (the file sink): bytes cross, not records; the size rule decides
    const encoded = await compile(dir, '', 'file', `{ paths: ["${dir}/a.log"] }`, 'parse, src.invalid, parse.invalid');
    expect(await chooseWorkers(encoded, { cores: 2, minBytes: 0 })).toMatchObject({ count: 2 });
    expect(await chooseWorkers(encoded, { cores: 2 })).toMatchObject({ count: 1, reason: expect.stringContaining('below') });
    // only what a chain keeps back (rejects here) leaving it: the size rule decides
    const keeping = await compile(dir, '', 'file', `{ paths: ["${dir}/a.log"] }`);
    expect(await chooseWorkers(keeping, { cores: 2, minBytes: 0 })).toMatchObject({ count: 2 });
    // pinned or on the command line, the user's number stands
    expect(await chooseWorkers(passing, { cores: 2, override: 2 })).toEqual({ count: 2, reason: '--workers 2' });
    // rules reading the parsed records join the parse's chain: only their alerts leave it
    writeFileSync(
      join(dir, 'rules.yaml'),
      `version: 1
nodes:
  src: { source: file, with: { paths: ["${dir}/a.log"] } }
  parse: { transform: proxy-log, from: src, with: { format: squid } }
  detect: { analyse: rules, from: parse, with: { rules: [{ name: r, when: { "==": [{ var: url.domain }, x] } }] } }
  out: { sink: file, from: [detect.alerts, parse.invalid], with: { path: "${dir}/out.jsonl" } }
`,
    );
    const rules = (await loadSpec(join(dir, 'rules.yaml'), { registry: builtinRegistry() })).spec!;
    expect(await chooseWorkers(rules, { cores: 2, minBytes: 0 })).toMatchObject({ count: 2 });
    // the shipped pipelines whose parsed records feed a window: from files, the window summarising
    // them in the copies (API 1.8), on three cores or more; on two, one thread (the main thread's
    // merging and three isolates' GC made two threads slower than one); asked for (SLUICE_BY_KEY=1,
    // RunOptions.byKey), the file pipeline's window joins the copies (a by-key chain); from Kafka one
    // thread (its main thread decodes the fetches and would merge the summaries: no faster than one)
    const shipped = async (p: string) => (await loadSpec(resolve(ROOT, 'pipelines', p), { registry: builtinRegistry() })).spec!;
    expect(await chooseWorkers(await shipped('proxy-ioc-sweep.yaml'), { cores: 4, minBytes: 0 })).toMatchObject({
      count: 4,
      reason: expect.stringContaining('of input, at least'),
    });
    expect(await chooseWorkers(await shipped('proxy-ioc-sweep.yaml'), { cores: 2, minBytes: 0 })).toMatchObject({
      count: 1,
      reason:
        "auto: 'volume' would merge the chain's batch summaries on the main thread beside reading and dealing the input; on 2 cores two threads were slower than one",
    });
    expect(await chooseWorkers(await shipped('proxy-ioc-sweep.yaml'), { cores: 2 })).toMatchObject({ count: 1 }); // the bundled sample
    expect(await chooseWorkers(await shipped('proxy-ioc-sweep.yaml'), { cores: 2, minBytes: 0, byKey: true })).toMatchObject({
      count: 2,
      byKey: true,
      reason: expect.stringContaining("'volume' in the worker copies, each with a share of the keys"),
    });
    expect(await chooseWorkers(await shipped('proxy-ioc-sweep.kafka.yaml'), { cores: 2 })).toEqual({
      count: 1,
      reason:
        "auto: 'proxy' is a stream whose records 'volume' would merge as summaries on the main thread beside the stream's decoding; two threads were no faster than one",
    });
    // summaries off: the parsed records would cross, and one thread is cheaper
    process.env.SLUICE_SUMMARIES = '0';
    try {
      expect(await chooseWorkers(await shipped('proxy-ioc-sweep.kafka.yaml'), { cores: 2 })).toMatchObject({
        count: 1,
        reason: expect.stringContaining("'parse' leaves"),
      });
    } finally {
      delete process.env.SLUICE_SUMMARIES;
    }
    // the archive's parsed records go only to the hdfs sink, which encodes in the workers
    const { spec: archive } = await loadSpec(resolve(ROOT, 'pipelines', 'proxy-archive.hdfs.yaml'), { registry: builtinRegistry() });
    expect(await chooseWorkers(archive!, { cores: 2, minBytes: 0 })).toMatchObject({ count: 2 });
  });

  it('auto: a stream (kafka) or a chain-less spec', async () => {
    const dir = tempDir();
    expect(await kafkaSource.inputBytes!({} as never)).toBe(Number.POSITIVE_INFINITY);
    const stream = await compile(dir, '', 'kafka', '{ brokers: ["127.0.0.1:1"], topics: [t], group_id: g }');
    expect(await chooseWorkers(stream, { cores: 2 })).toEqual({ count: 2, reason: "auto: 'src' is a stream" });
    writeFileSync(
      join(dir, 'spec2.yaml'),
      `version: 1
nodes:
  src: { source: file, with: { paths: ["${dir}/a.log"] } }
  out: { sink: file, from: [src, src.invalid], with: { path: "${dir}/out.jsonl" } }
`,
    );
    const { spec } = await loadSpec(join(dir, 'spec2.yaml'), { registry: builtinRegistry() });
    expect(await chooseWorkers(spec!, { cores: 2, minBytes: 0 })).toEqual({ count: 1, reason: 'auto: no chain of parallel-safe nodes' });
  });

  it('the default pipeline: one thread on the bundled sample, the same output with --workers 2, and the summary says why', async () => {
    const dir = tempDir();
    const one = await runCli(['run', DEFAULT, '--var', `OUT=${dir}/one`, '--log-level', 'warn', '--no-progress']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/one thread: auto: 0\.\d MiB of input, below the 16 MiB/);
    const two = await runCli(['run', DEFAULT, '--var', `OUT=${dir}/two`, '--log-level', 'warn', '--no-progress', '--workers', '2']);
    expect(two.code).toBe(0);
    expect(two.stdout).toContain('2 worker threads per parallel chain: --workers 2');
    // rejects carry the time they were made (@timestamp): compare the rest
    const sorted = (f: string) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.stringify({ ...JSON.parse(l), '@timestamp': undefined }))
        .sort();
    for (const f of ['alerts.jsonl', 'rejects.jsonl', 'windows.jsonl']) expect(sorted(join(dir, 'two', f))).toEqual(sorted(join(dir, 'one', f)));
    const bad = await runCli(['run', DEFAULT, '--workers', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("an integer from 1 to 64, or 'auto'");
  });
});
