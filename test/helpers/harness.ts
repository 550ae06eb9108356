/**
 * Drive one plugin directly, without a pipeline: validate its `with:` as the runtime does
 * (defaults applied, frozen), create it with a test context, and feed it batches.
 */
import { compileConfigSchema, describeAjvErrors } from '../../src/spec/ajv.js';
import type { PluginDef, PluginContext, PluginInstance, PrepareContext, ProcessorInstance, SinkInstance, SourceInstance, Rec, Outputs } from '../../src/api.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export function configFor<C>(def: PluginDef<C>, withConfig: unknown): C {
  const validate = compileConfigSchema(def.schema);
  const copy = structuredClone(withConfig ?? {});
  if (!validate(copy)) throw new Error(`invalid config for ${def.name}: ${describeAjvErrors(validate.errors)}`);
  const issues = def.check?.(copy as C) ?? [];
  if (issues.length) throw new Error(`invalid config for ${def.name}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
  return deepFreeze(copy) as C;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export function testContext(node = 'test', overrides: Partial<PluginContext> = {}): PluginContext & { counters: Record<string, number>; logs: unknown[] } {
  const counters: Record<string, number> = {};
  const logs: unknown[] = [];
  const log = (level: string) => (obj: unknown, msg?: string) => { logs.push({ level, obj, msg }); };
  let dir: string | undefined;
  return {
    node,
    pipeline: 'test',
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    metrics: { add: (n, v = 1) => { counters[n] = (counters[n] ?? 0) + v; }, set: (n, v) => { counters[n] = v; } },
    signal: new AbortController().signal,
    resolvePath: (p) => resolve(p),
    stateDir: () => (dir ??= mkdtempSync(join(tmpdir(), 'sluice-state-'))),
    once: true,
    counters,
    logs,
    ...overrides,
  };
}

/**
 * Create an instance as the runtime does: a plugin with `prepare` has it run first, and its value
 * becomes `ctx.shared` (the very object, as for a main-thread instance). A value it publishes is
 * handed to the instance's `update` at once (a test drives batches one at a time, so this is
 * between two of them); its clean-ups run when the instance is closed.
 */
async function create(def: PluginDef, config: unknown, ctx: PluginContext): Promise<PluginInstance> {
  if (typeof def.prepare !== 'function') return def.create(config, ctx);
  let inst: PluginInstance | undefined;
  let current: unknown;
  const closers: Array<() => void | Promise<void>> = [];
  const { shared: _ignored, ...base } = ctx;
  const pctx: PrepareContext = {
    ...base,
    publish: (value) => {
      current = value;
      void (inst as ProcessorInstance | undefined)?.update?.(value);
    },
    onClose: (fn) => void closers.push(fn),
  };
  current = await def.prepare(config, pctx);
  const ictx = { ...ctx };
  Object.defineProperty(ictx, 'shared', { get: () => current, enumerable: true });
  inst = await def.create(config, ictx);
  const close = inst.close?.bind(inst);
  (inst as { close(): Promise<void> }).close = async () => {
    await close?.();
    while (closers.length) await closers.pop()!();
  };
  return inst;
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

/** Run batches through a processor and its finish(); returns every record per port, in order. */
export async function processAll(p: ProcessorInstance, batches: Rec[][]): Promise<Record<string, Rec[]>> {
  const out: Record<string, Rec[]> = {};
  const take = (o: Outputs) => { for (const [port, recs] of Object.entries(o)) if (recs) (out[port] ??= []).push(...recs); };
  for (const b of batches) take(await p.process(b));
  if (p.finish) take(await p.finish());
  return out;
}
