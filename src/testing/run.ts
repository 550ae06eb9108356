/**
 * Run one pipeline test through the real runtime, in memory: the compiled spec is copied with
 *
 * - every source replaced by an in-memory source that emits the test's input for it (a block of
 *   lines, exactly as the `file` source emits them, so records carry `{message, origin: {file,
 *   line}}`), or nothing;
 * - input for a non-source node given by an extra in-memory source that the node reads in place of
 *   its `from:`;
 * - every sink replaced by an in-memory sink: it keeps what it receives when a test looks at it and
 *   discards it otherwise, so no file is written and no service (Kafka, HDFS) is needed;
 * - an extra capturing sink on every other `node.port` the test looks at.
 *
 * Transforms and analysers are the real plugins with the spec's validated config (feeds and lists
 * load from their files, as in `sluice run`). The copy runs with `runPipeline` on one thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger, Rec, SinkDef, SourceDef, PluginDef } from '../api.js';
import type { CompiledNode, CompiledSpec } from '../graph/build.js';
import { RegisteredPlugin } from '../plugins/registry.js';
import { runPipeline } from '../runtime/run.js';
import type { Batch, LineBlock } from '../record.js';
import type { Expectation, TestCase, TestInput } from './load.js';
import { matchList, type FieldDiff, type Json } from './match.js';

/** A failed expectation, ready to print. */
export interface Failure {
  ref: string;
  /** One line: what went wrong. */
  summary: string;
  /** Further lines (field diffs, records), without indentation. */
  details: Detail[];
}

export type Detail = { kind: 'record'; label: string; diffs: FieldDiff[] } | { kind: 'text'; label: string; value?: unknown };

export interface TestResult {
  test: TestCase;
  ok: boolean;
  failures: Failure[];
  /** The run itself failed (a plugin threw): the message. */
  error?: string;
  elapsedMs: number;
  /** Records captured per expectation ref (for --verbose and tests of sluice itself). */
  captured: Map<string, Json[]>;
}

const INPUT_PREFIX = '__test_input_';
const CAPTURE_PREFIX = '__test_capture_';

function lineBlock(input: TestInput): LineBlock {
  const text = (input.lines!.join('\n') + '\n').repeat(input.repeat);
  const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
  return {
    kind: 'lines',
    file: input.file,
    firstLine: input.firstLine,
    bytes,
    records: input.lines!.filter((l) => l.replace(/\r$/, '') !== '').length * input.repeat,
  };
}

/** Lines as the `kafka` source makes its records: one message each, origins topic/partition/offset. */
function kafkaRecords(input: TestInput): Rec[] {
  const { topic, partition, firstOffset } = input.kafka!;
  const out: Rec[] = [];
  let offset = firstOffset;
  for (let r = 0; r < input.repeat; r++) for (const message of input.lines!) out.push({ message, origin: { topic, partition, offset: String(offset++) } });
  return out;
}

function batchOf(input: TestInput): Batch {
  if (input.lines) return input.kafka ? kafkaRecords(input) : lineBlock(input);
  const records: Rec[] = [];
  for (let i = 0; i < input.repeat; i++) records.push(...structuredClone(input.records ?? []));
  return records;
}

function memorySource(inputs: TestInput[], ports: readonly string[]): RegisteredPlugin {
  const def: SourceDef = {
    name: 'test-input',
    kind: 'source',
    summary: 'In-memory input of a pipeline test.',
    schema: { type: 'object' },
    ports,
    create: () => ({
      async run(emit) {
        for (const input of inputs) await emit({ out: batchOf(input) });
      },
    }),
  };
  return new RegisteredPlugin(def, 'sluice test');
}

function memorySink(keep: Json[] | undefined): RegisteredPlugin {
  const def: SinkDef = {
    name: keep ? 'test-capture' : 'test-discard',
    kind: 'sink',
    summary: keep ? 'Keeps what a pipeline test looks at.' : 'Discards records in a pipeline test.',
    schema: { type: 'object' },
    create: () => ({
      target: keep ? '(test capture)' : '(discarded)',
      write(records: Rec[]) {
        // As JSON, as a sink would write it, taken now: later nodes must not be able to change it.
        if (keep) for (const r of records) keep.push(JSON.parse(JSON.stringify(r)) as Json);
      },
      async flush() {},
      async close() {},
    }),
  };
  return new RegisteredPlugin(def as PluginDef, 'sluice test');
}

/** The spec a test runs: sources and sinks swapped for in-memory ones, captures added. */
export function testSpec(spec: CompiledSpec, test: TestCase, captured: Map<string, Json[]>): CompiledSpec {
  const nodes = new Map<string, CompiledNode>();
  const injected: string[] = [];
  const captures: string[] = [];
  const inputsAt = new Map<string, TestInput[]>();
  for (const i of test.inputs) inputsAt.set(i.at, [...(inputsAt.get(i.at) ?? []), i]);
  const keepAt = new Map<string, Json[]>(); // sink name -> its captured records
  for (const e of test.expects) {
    if (!captured.has(e.ref)) captured.set(e.ref, []);
    if (e.port === undefined) keepAt.set(e.node, captured.get(e.ref)!);
  }

  for (const [name, inputs] of inputsAt) {
    if (spec.nodes.get(name)!.kind === 'source') continue;
    const src = INPUT_PREFIX + name;
    nodes.set(src, { name: src, kind: 'source', plugin: memorySource(inputs, ['out']), config: {}, inputs: [], ports: ['out'] });
    injected.push(src);
  }
  for (const name of spec.order) {
    const node = spec.nodes.get(name)!;
    if (node.kind === 'source') {
      nodes.set(name, { ...node, plugin: memorySource(inputsAt.get(name) ?? [], node.ports), config: {} });
    } else if (node.kind === 'sink') {
      nodes.set(name, { ...node, plugin: memorySink(keepAt.get(name)), config: {} });
    } else if (inputsAt.has(name)) {
      nodes.set(name, { ...node, inputs: [{ node: INPUT_PREFIX + name, port: 'out' }] });
    } else {
      nodes.set(name, node);
    }
  }
  test.expects.forEach((e, i) => {
    if (e.port === undefined) return;
    const name = `${CAPTURE_PREFIX}${i}`;
    nodes.set(name, { name, kind: 'sink', plugin: memorySink(captured.get(e.ref)!), config: {}, inputs: [{ node: e.node, port: e.port }], ports: [] });
    captures.push(name);
  });
  return {
    ...spec,
    // One thread: results in a deterministic order, nothing to start.
    settings: { ...spec.settings, workers: 1 },
    nodes,
    order: [...injected, ...spec.order, ...captures],
    warnings: [],
  };
}

const silent: Logger & { child(): Logger } = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silent;
  },
};

export interface RunTestOptions {
  logger?: Logger & { child?(b: object): Logger };
  /** Stop a test that runs longer than this (ms). */
  timeoutMs?: number;
}

export async function runTest(spec: CompiledSpec, test: TestCase, opts: RunTestOptions = {}): Promise<TestResult> {
  const started = Date.now();
  const captured = new Map<string, Json[]>();
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const abort = new AbortController();
  let timedOut = false;
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, opts.timeoutMs)
    : undefined;
  let error: string | undefined;
  try {
    await runPipeline(testSpec(spec, test, captured), { stateDir, logger: opts.logger ?? silent, signal: abort.signal, once: true, logLevel: 'silent' });
    if (timedOut) error = `did not finish within ${opts.timeoutMs} ms (stopped)`;
  } catch (err) {
    const e = err as Error & { code?: unknown };
    // a run fails with a RunError: its stable code, as `sluice run` prints it
    error = typeof e.code === 'string' && e.code.startsWith('SLUICE_E_') ? `${e.message} [${e.code}]` : e.message;
  } finally {
    if (timer) clearTimeout(timer);
    rmSync(stateDir, { recursive: true, force: true });
  }
  const failures = error === undefined ? test.expects.flatMap((e) => check(e, captured.get(e.ref) ?? [])) : [];
  return { test, ok: error === undefined && failures.length === 0, failures, error, elapsedMs: Date.now() - started, captured };
}

/** ` (file:line)` of a record that says where it came from. */
function whereFrom(rec: Json | undefined): string {
  const o = rec !== null && typeof rec === 'object' && !Array.isArray(rec) ? rec.origin : undefined;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return '';
  if (typeof o.file === 'string') return typeof o.line === 'number' ? ` (${o.file}:${o.line})` : ` (${o.file})`;
  if (typeof o.topic === 'string') return ` (${o.topic}/${String(o.partition ?? '?')}@${String(o.offset ?? '?')})`;
  return '';
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Every way the records at one ref fail their expectation. */
export function check(e: Expectation, got: Json[]): Failure[] {
  const out: Failure[] = [];
  const fail = (summary: string, details: Detail[] = []) => out.push({ ref: e.ref, summary, details });
  const n = got.length;
  const listed = (idx: number[]): Detail[] =>
    idx
      .slice(0, 5)
      .map((j) => ({ kind: 'text', label: `got record ${j + 1}${whereFrom(got[j])}:`, value: got[j] }) as Detail)
      .concat(idx.length > 5 ? [{ kind: 'text', label: `… and ${idx.length - 5} more` }] : []);

  const countWanted = e.count ?? (e.records ? e.records.length : undefined);
  if (countWanted !== undefined && countWanted !== n) {
    // Show what came when nothing else will (no records list to compare with).
    fail(`expected ${plural(countWanted, 'record')}, got ${n}`, e.records ? [] : listed(got.map((_, j) => j)));
  }
  const compare = (list: unknown[], whole: boolean) => {
    const m = matchList(list, got, { exact: e.exact, ordered: e.ordered });
    for (const u of m.unmatched) {
      const label = `${whole ? 'records' : 'contains'}[${u.expected}]`;
      if (u.actual === -1)
        fail(`${label}: no record ${e.ordered ? 'at that position' : 'left to match'}`, [{ kind: 'text', label: 'expected:', value: list[u.expected] }]);
      else
        fail(`${label} does not match${e.ordered ? '' : ' any record'}; closest is record ${u.actual + 1} of ${n}`, [
          { kind: 'record', label: `record ${u.actual + 1}${whereFrom(got[u.actual])}`, diffs: u.diffs },
        ]);
    }
    if (whole && m.unused.length) {
      fail(`${plural(m.unused.length, 'record')} not expected`, listed(m.unused));
    }
  };
  if (e.records) compare(e.records, true);
  if (e.contains) compare(e.contains, false);
  e.conditions.forEach((c, k) => {
    const bad: number[] = [];
    for (let j = 0; j < got.length; j++) if (!c.logic.test(got[j])) bad.push(j);
    if (bad.length)
      fail(`condition ${k + 1} fails for ${plural(bad.length, 'record')} of ${n}`, [{ kind: 'text', label: 'condition:', value: c.rule }, ...listed(bad)]);
  });
  return out;
}
