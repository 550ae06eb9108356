import { tmpdir } from 'node:os';
import type { PluginContext, PluginDef, PluginInstance, ProcessorInstance, RunEnd } from '../../src/api.js';
import iocSweep from '../../plugins/analyse/ioc-sweep/index.js';

/** A plugin context for in-process micro-benchmarks: silent logger and metrics, nothing measured but the plugin. */
export function quietContext(node: string): PluginContext {
  return {
    node,
    pipeline: 'bench',
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    metrics: { add() {}, set() {} },
    signal: new AbortController().signal,
    resolvePath: (p) => p,
    stateDir: () => tmpdir(),
    once: true,
  };
}

/**
 * An instance built as the runtime builds a main-thread one: `prepare` first (when the plugin has
 * it), its value as `ctx.shared`. Publishing and clean-ups are not needed by the benchmarks: a
 * published value is ignored, and clean-ups run on `close()`.
 */
export async function benchInstance(def: PluginDef, config: unknown, ctx: PluginContext): Promise<PluginInstance> {
  if (typeof def.prepare !== 'function') return def.create(config, ctx);
  const closers: Array<(end: RunEnd) => void | Promise<void>> = [];
  const shared = await def.prepare(config, { ...ctx, publish() {}, onClose: (fn) => void closers.push(fn) });
  const inst = await def.create(config, { ...ctx, shared });
  const close = inst.close?.bind(inst);
  inst.close = async () => {
    await close?.();
    while (closers.length) await closers.pop()!({ failed: false, stopped: false });
  };
  return inst;
}

/**
 * The ioc-sweep of the in-process benchmarks: the default sweep's fields against one plain-list
 * feed (`feed`), built as the runtime builds it (`benchInstance`).
 */
export async function benchSweep(feed: string): Promise<ProcessorInstance> {
  const config = {
    feeds: [{ name: 'bench', path: feed, format: 'list', exact: false, timeout: '30s', optional: false }],
    allowlist: [],
    rule_name: 'ioc-sweep',
    fields: { ip: ['destination.ip'], host: ['url.domain', 'destination.domain'], url: ['url.original', 'url.full'] },
  };
  return (await benchInstance(iocSweep, config, quietContext('sweep'))) as ProcessorInstance;
}
