/** What sluice reads from a plugin definition for a given config (the runtime, the graph, the CLI). */
import type { ParallelMode, PluginDef } from '../api.js';

/**
 * How a plugin may run in parallel for a given config. A `'by-key'` node (API 1.7) joins a chain
 * only where the run allows it (segments.ts `FindOptions.byKey`); elsewhere it runs as `'none'`.
 */
export function parallelOf(def: PluginDef, config: unknown): ParallelMode {
  if (def.kind !== 'transform' && def.kind !== 'analyse') return 'none';
  const p = typeof def.parallel === 'function' ? def.parallel(config) : def.parallel;
  return p ?? 'none';
}

/** The ports a plugin emits for a given config. */
export function portsOf(def: PluginDef, config: unknown): readonly string[] {
  if (def.kind === 'sink') return [];
  if (typeof def.ports === 'function') return def.ports(config);
  return def.ports ?? ['out'];
}
