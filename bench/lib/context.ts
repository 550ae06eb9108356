import { tmpdir } from 'node:os';
import type { PluginContext } from '../../src/api.js';

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
