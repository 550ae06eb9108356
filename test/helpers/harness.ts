/**
 * Drive one plugin directly, without a pipeline: validate its `with:` as the runtime does
 * (defaults applied, frozen), create it with a test context, and feed it batches.
 */
import { compileConfigSchema, describeAjvErrors } from '../../src/spec/ajv.js';
import { portsOf } from '../../src/plugins/def.js';
import type { PluginDef, PluginContext, PluginInstance, ProcessorInstance, SinkInstance, SourceInstance, Rec, Outputs } from '../../src/api.js';
import { Prepared, SharedHolder } from '../../src/runtime/prepare.js';
import { RegisteredPlugin } from '../../src/plugins/registry.js';
import type { CompiledSpec } from '../../src/graph/build.js';
import { deepFreeze } from '../../src/util/freeze.js';
import { resolve } from 'node:path';
import { tempDir } from './tmp.js';

export function configFor<C>(def: PluginDef<C>, withConfig: unknown): C {
  const validate = compileConfigSchema(def.schema);
  const copy = structuredClone(withConfig ?? {});
  if (!validate(copy)) throw new Error(`invalid config for ${def.name}: ${describeAjvErrors(validate.errors)}`);
  const issues = def.check?.(copy as C) ?? [];
  if (issues.length) throw new Error(`invalid config for ${def.name}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
  return deepFreeze(copy) as C;
}

export type TestContext = PluginContext & { counters: Record<string, number>; logs: unknown[] };

export function testContext(node = 'test', overrides: Partial<PluginContext> = {}): TestContext {
  const counters: Record<string, number> = {};
  const logs: unknown[] = [];
  const log = (level: string) => (obj: unknown, msg?: string) => {
    logs.push({ level, obj, msg });
  };
  let dir: string | undefined;
  return {
    node,
    pipeline: 'test',
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    metrics: {
      add: (n, v = 1) => {
        counters[n] = (counters[n] ?? 0) + v;
      },
      set: (n, v) => {
        counters[n] = v;
      },
    },
    signal: new AbortController().signal,
    resolvePath: (p) => resolve(p),
    stateDir: () => (dir ??= tempDir('state-')),
    once: true,
    counters,
    logs,
    ...overrides,
  };
}

/** A one-node spec for the runtime's `Prepared`: the node as validation would have compiled it. */
function oneNodeSpec(def: PluginDef, config: unknown, node: string): CompiledSpec {
  return {
    file: '<test harness>',
    name: 'test',
    settings: { queueBatches: 8, flushIntervalMs: 250, retryMaxDelayMs: 5000, workers: 1 },
    nodes: new Map([
      [node, { name: node, kind: def.kind, plugin: new RegisteredPlugin(def, 'test harness'), config, inputs: [], ports: portsOf(def, config) }],
    ]),
    order: [node],
    secrets: [],
    warnings: [],
  };
}

function isPromise<T>(x: unknown): x is Promise<T> {
  return !!x && typeof (x as Promise<T>).then === 'function';
}

/**
 * Create an instance as the runtime does for a main-thread node (src/runtime/prepare.ts): a plugin
 * with `prepare` has it run first by the runtime's `Prepared`, and the instance's `ctx.shared`
 * reads a `SharedHolder` of the value. A value published later is offered to a processor's holder
 * and handed to its `update` before its next `process` or `finish` call, as the runtime does between
 * two batches; a source or sink sees it at once. `close()` closes the instance, then runs the
 * prepare clean-ups.
 */
async function create(def: PluginDef, config: unknown, ctx: PluginContext): Promise<PluginInstance> {
  if (typeof def.prepare !== 'function') return def.create(config, ctx);
  let publishError: unknown;
  const prepared = new Prepared(ctx.signal, (_node, err) => {
    publishError ??= err;
  });
  await prepared.prepareAll(oneNodeSpec(def, config, ctx.node), (_name, signal) => ({ ...ctx, signal }), ctx.logger);
  const holder = new SharedHolder(prepared.value(ctx.node));
  const isProcessor = def.kind === 'transform' || def.kind === 'analyse';
  prepared.subscribe(ctx.node, isProcessor ? (v) => holder.offer(v) : (v) => void (holder.current = v));
  const { shared: _ignored, ...base } = ctx;
  const ictx: PluginContext = Object.defineProperty({ ...base }, 'shared', { get: () => holder.current, enumerable: true });
  let inst: PluginInstance;
  try {
    inst = await def.create(config, ictx);
  } catch (err) {
    await prepared.close(ctx.logger);
    throw err;
  }
  const close = inst.close?.bind(inst);
  (inst as { close(): Promise<void> }).close = async () => {
    try {
      await close?.();
    } finally {
      await prepared.close(ctx.logger);
    }
  };
  if (!isProcessor) return inst;

  const proc = inst as ProcessorInstance;
  /** Run `call` after any value published since the last call reached `update`. */
  const between = <T>(call: () => T | Promise<T>): T | Promise<T> => {
    if (publishError !== undefined) throw publishError;
    if (holder.take() && proc.update) {
      const r = proc.update(holder.current);
      if (isPromise(r)) return r.then(call);
    }
    return call();
  };
  const process = proc.process.bind(proc);
  proc.process = (records) => between(() => process(records));
  if (proc.finish) {
    const finish = proc.finish.bind(proc);
    proc.finish = () => between(finish);
  }
  return proc;
}

export async function createProcessor(def: PluginDef, withConfig: unknown, ctx = testContext()): Promise<ProcessorInstance> {
  return (await create(def, configFor(def, withConfig), ctx)) as ProcessorInstance;
}

export async function createSink(def: PluginDef, withConfig: unknown, ctx = testContext()): Promise<SinkInstance> {
  return (await create(def, configFor(def, withConfig), ctx)) as SinkInstance;
}

export async function createSource(def: PluginDef, withConfig: unknown, ctx = testContext()): Promise<SourceInstance> {
  return (await create(def, configFor(def, withConfig), ctx)) as SourceInstance;
}

/**
 * `xs` cut into consecutive batches at the positions `cuts` (each taken modulo `xs.length + 1`,
 * duplicates merged; empty batches kept): the batch boundaries a property test varies.
 */
export function splitAt<T>(xs: T[], cuts: number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let prev = 0;
  for (const p of points) {
    out.push(xs.slice(prev, p));
    prev = p;
  }
  out.push(xs.slice(prev));
  return out;
}

/** Run batches through a processor and its finish(); returns every record per port, in order. */
export async function processAll(p: ProcessorInstance, batches: Rec[][]): Promise<Record<string, Rec[]>> {
  const out: Record<string, Rec[]> = {};
  const take = (o: Outputs) => {
    for (const [port, recs] of Object.entries(o)) if (recs) (out[port] ??= []).push(...recs);
  };
  for (const b of batches) take(await p.process(b));
  if (p.finish) take(await p.finish());
  return out;
}
