/** What sluice reads from a plugin definition for a given config (the runtime, the graph, the CLI). */
import type { ParallelMode, PluginDef } from '../api.js';

/**
 * How the runtime runs a plugin for a given config. `'by-key'` (API 1.7) is run as `'none'` (one
 * instance, on the main thread) until the runtime gives copies the whole stream.
 */
export function parallelOf(def: PluginDef, config: unknown): ParallelMode {
  if (def.kind !== 'transform' && def.kind !== 'analyse') return 'none';
  const p = typeof def.parallel === 'function' ? def.parallel(config) : def.parallel;
  return p === undefined || p === 'by-key' ? 'none' : p;
}

/** The ports a plugin emits for a given config. */
export function portsOf(def: PluginDef, config: unknown): readonly string[] {
  if (def.kind === 'sink') return [];
  if (typeof def.ports === 'function') return def.ports(config);
  return def.ports ?? ['out'];
}
