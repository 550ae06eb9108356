/**
 * Runtime compliance: every built-in plugin, run on each of its own `examples` over the sample logs
 * in examples/logs/, behaves as the runtime assumes (conformance.test.ts checks the definitions;
 * this checks the instances):
 * - processors and sinks are given deep-frozen batches: a plugin that modifies its input throws
 *   (fan-out hands the same records to several branches);
 * - only declared ports are emitted (`portsOf` for the example's config), each as an array;
 * - processors: `finish()` emits only declared ports; `close()` may be called twice;
 * - sinks: `flush()` with nothing written resolves; `close()` after `flush()` and a second
 *   `close()` are safe; nothing is written after `close()`;
 * - sources: `run()` ends on a finite input; nothing is emitted after it returned or after
 *   `close()`; `close()` may be called twice.
 * Plugins that need a service (a broker, a namenode) are skipped by name with the reason, below.
 */
import { describe, it, expect, vi, afterEach } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { isAbsolute, join, resolve } from 'node:path';
import { builtinPlugins } from '../../plugins/index.js';
import type { Outputs, PluginDef, PluginExample, ProcessorDef, Rec, SourceOutputs } from '../../src/api.js';
import { portsOf } from '../../src/plugins/def.js';
import { batchSize } from '../../src/record.js';
import { deepFreeze } from '../../src/util/freeze.js';
import { configFor, createProcessor, createSink, createSource, testContext } from '../helpers/harness.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Plugins this test cannot run without a service, by `kind/name`, with the reason. Each is reported
 * as a skipped test; their behaviour is covered by the integration suites against real services.
 */
const NEEDS_SERVICE: Record<string, string> = {
  'source/kafka': 'needs a Kafka broker (issue 14: integration suite against a real broker)',
  'sink/kafka': 'needs a Kafka broker (issue 14: integration suite against a real broker)',
  'source/hdfs': 'needs a WebHDFS namenode (issue 15: integration suite against a real HDFS)',
  'sink/hdfs': 'needs a WebHDFS namenode (issue 15: integration suite against a real HDFS)',
};

const BATCH = 64;
const LOGS = join(ROOT, 'examples/logs');

/** The sample logs as a line source hands them on: `{message, origin}` per non-empty line, per file. */
function rawRecordsByFile(): Rec[][] {
  const out: Rec[][] = [];
  for (const name of readdirSync(LOGS).sort()) {
    if (!/\.(log|jsonl|gz)$/.test(name)) continue;
    const file = join(LOGS, name);
    const bytes = readFileSync(file);
    const text = (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    const recs: Rec[] = [];
    text.split('\n').forEach((line, i) => {
      const message = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (message) recs.push({ message, origin: { file, line: i + 1 } });
    });
    out.push(recs);
  }
  return out;
}

function batchesOf(records: Rec[], size = BATCH): Rec[][] {
  const out: Rec[][] = [];
  for (let i = 0; i < records.length; i += size) out.push(records.slice(i, i + size));
  return out;
}

/** Fresh deep-frozen batches (frozen arrays of frozen records, all the way down). */
function frozen(batches: Rec[][]): Rec[][] {
  return batches.map((b) => deepFreeze(structuredClone(b)));
}

const proxyLog = builtinPlugins.find((p) => p.kind === 'transform' && p.name === 'proxy-log')!;

/** Parsed records (and the parser's invalid ones) of every sample log, as the later nodes get them. */
async function sampleRecords(): Promise<{ raw: Rec[]; parsed: Rec[]; invalid: Rec[] }> {
  const raw: Rec[] = [];
  const parsed: Rec[] = [];
  const invalid: Rec[] = [];
  for (const recs of rawRecordsByFile()) {
    raw.push(...recs);
    const p = await createProcessor(proxyLog, { format: 'auto' }, testContext('parse'));
    for (const b of batchesOf(recs)) {
      const o = await p.process(b);
      parsed.push(...(o.out ?? []));
      invalid.push(...(o.invalid ?? []));
    }
    await p.close?.();
  }
  return { raw, parsed, invalid };
}

const samples = await sampleRecords();

/** Ports of an output object that the plugin did not declare, or whose value is not an array. */
function undeclared(outputs: Outputs | SourceOutputs, declared: readonly string[]): string[] {
  const bad: string[] = [];
  for (const [port, recs] of Object.entries(outputs)) {
    if (recs === undefined) continue;
    if (!declared.includes(port)) bad.push(`${port} (not declared)`);
    else if (!Array.isArray(recs) && !(recs && typeof recs === 'object' && (recs as { kind?: unknown }).kind === 'lines')) bad.push(`${port} (not an array)`);
  }
  return bad;
}

/** A context whose relative paths are read from the repository (feeds, lists, sample logs). */
function readingContext(node: string) {
  return testContext(node, { resolvePath: (p) => (isAbsolute(p) ? p : resolve(ROOT, p)) });
}

/** Size of every file under a directory (to see that nothing is written after close). */
function sizes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out[p] = st.size;
    }
  };
  walk(dir);
  return out;
}

const settle = () => new Promise((r) => setTimeout(r, 50));

/** Input for a processor example: raw lines for the parser, parsed records for the rest. */
function processorInput(def: PluginDef): Rec[] {
  return def.name === 'proxy-log' && def.kind === 'transform' ? samples.raw : samples.parsed;
}

async function checkProcessor(def: PluginDef, ex: PluginExample): Promise<void> {
  const declared = portsOf(def, configFor(def, ex.with));
  const p = await createProcessor(def, ex.with, readingContext(def.name));
  const emitted: Record<string, number> = {};
  const count = (o: Outputs) => {
    for (const [port, recs] of Object.entries(o)) if (Array.isArray(recs)) emitted[port] = (emitted[port] ?? 0) + recs.length;
  };
  try {
    for (const batch of frozen(batchesOf(processorInput(def)))) {
      const o = await p.process(batch);
      expect(undeclared(o, declared), 'ports of process()').toEqual([]);
      count(o);
    }
    if (p.finish) {
      const o = await p.finish();
      expect(undeclared(o, declared), 'ports of finish()').toEqual([]);
      count(o);
    }
  } finally {
    await p.close?.();
  }
  await p.close?.(); // a second close is safe
  expect(
    Object.values(emitted).reduce((a, b) => a + b, 0),
    'the example emits something over the samples',
  ).toBeGreaterThan(0);
}

async function checkSink(def: PluginDef, ex: PluginExample): Promise<void> {
  const out = tempDir('compliance-sink-');
  const ctx = testContext(def.name, { resolvePath: (p) => (isAbsolute(p) ? p : resolve(out, p)) });
  const written: string[] = [];
  // The stdout sink writes to the test's stdout: keep it quiet, and see what it wrote when.
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stdout.write);
  try {
    const s = await createSink(def, ex.with, ctx);
    await s.flush(); // nothing written yet
    const batches = frozen(batchesOf([...samples.parsed.slice(0, 200), ...samples.invalid]));
    for (const [i, b] of batches.entries()) {
      await s.write(b);
      if (i % 2 === 1) await s.flush();
    }
    await s.flush();
    await s.close(); // close after flush
    await s.close(); // and a second close
    const files = sizes(out);
    const writes = written.length;
    await settle();
    expect(sizes(out), 'files unchanged after close').toEqual(files);
    expect(written.length, 'nothing printed after close').toBe(writes);
  } finally {
    spy.mockRestore();
  }
}

async function checkSource(def: PluginDef, ex: PluginExample): Promise<void> {
  const declared = portsOf(def, configFor(def, ex.with));
  const src = await createSource(def, ex.with, readingContext(def.name));
  const bad: string[] = [];
  let emits = 0;
  let records = 0;
  let running = true;
  const emit = async (batch: SourceOutputs, onDurable?: () => void) => {
    if (!running) bad.push('emit after run() returned');
    emits++;
    bad.push(...undeclared(batch, declared));
    for (const recs of Object.values(batch)) if (recs) records += batchSize(recs);
    if (onDurable) queueMicrotask(onDurable); // every sink made it durable at once
  };
  try {
    await src.run(emit);
    running = false;
  } finally {
    await src.close?.();
  }
  await src.close?.(); // a second close is safe
  const after = emits;
  await settle();
  expect(emits, 'nothing emitted after close').toBe(after);
  expect(bad).toEqual([]);
  if (ex.with && JSON.stringify(ex.with).includes('examples/')) expect(records, 'the example reads the samples').toBeGreaterThan(0);
}

describe.each(builtinPlugins.map((p) => [`${p.kind} ${p.name}`, p] as const))('plugin %s at run time', (_label, def) => {
  const reason = NEEDS_SERVICE[`${def.kind}/${def.name}`];
  if (reason) {
    it.skip(`skipped: ${reason}`, () => {});
    return;
  }
  const examples = def.examples ?? [];
  it.each(examples.map((ex) => [ex.title, ex] as const))('example "%s"', async (_title, ex) => {
    if (def.kind === 'source') await checkSource(def, ex);
    else if (def.kind === 'sink') await checkSink(def, ex);
    else await checkProcessor(def, ex);
  });
});

describe('the compliance checks themselves', () => {
  afterEach(() => vi.restoreAllMocks());

  const mutating = (name: string, create: ProcessorDef['create']): PluginDef => ({
    name,
    kind: 'transform',
    summary: 'test double',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    examples: [{ title: 'default', with: {} }],
    create,
  });

  it('fail a processor that modifies a record it was given', async () => {
    const def = mutating('tagger', () => ({
      process: (recs: Rec[]) => {
        for (const r of recs) r.tags = ['seen'];
        return { out: recs };
      },
    }));
    await expect(checkProcessor(def, def.examples![0]!)).rejects.toThrow(TypeError);
  });

  it('fail a processor that modifies the batch array it was given', async () => {
    const def = mutating('appender', () => ({
      process: (recs: Rec[]) => {
        recs.push({ extra: true });
        return { out: recs };
      },
    }));
    await expect(checkProcessor(def, def.examples![0]!)).rejects.toThrow(TypeError);
  });

  it('fail a processor that emits on a port it did not declare', async () => {
    const def = mutating('leaky', () => ({ process: (recs: Rec[]) => ({ out: recs, debug: recs.slice(0, 1) }) }));
    await expect(checkProcessor(def, def.examples![0]!)).rejects.toThrow(/debug \(not declared\)/);
  });

  it('fail a sink that writes after close', async () => {
    const def: PluginDef = {
      ...mutating('late', () => ({ process: () => ({}) })),
      kind: 'sink',
      create: () => {
        let buf = '';
        return {
          write: (recs: Rec[]) => void (buf += recs.length),
          flush: async () => {},
          close: async () => void setTimeout(() => process.stdout.write(buf), 10),
        };
      },
    };
    await expect(checkSink(def, def.examples![0]!)).rejects.toThrow(/nothing printed after close/);
  });

  it('fail a source that keeps emitting after run() returned', async () => {
    const def: PluginDef = {
      ...mutating('ticker', () => ({ process: () => ({}) })),
      kind: 'source',
      ports: ['out'],
      create: () => ({
        run: async (emit) => {
          setTimeout(() => void emit({ out: [{ n: 1 }] }), 5);
        },
      }),
    };
    await expect(checkSource(def, def.examples![0]!)).rejects.toThrow(/emit after run\(\) returned|nothing emitted after close/);
  });
});
