/**
 * The built-in plugins, declared without loading their modules: the CLI's registry. A run imports
 * the modules of the plugins its spec names (a file → file sweep does not load the Kafka, HDFS,
 * window or rules plugins and what they import). `builtinRegistry()` (builtins.ts) is the eager
 * one, holding `plugins/index.ts`'s list; a test holds this table to that list.
 */
import type { PluginDef, PluginKind } from '../api.js';
import { Registry } from './registry.js';

type Module = Promise<{ default: PluginDef }>;

/** Kind, name and module of every built-in, in `plugins/index.ts`'s order. */
export const BUILTIN_MODULES: readonly (readonly [PluginKind, string, () => Module])[] = [
  ['source', 'file', () => import('../../plugins/source/file/index.js')],
  ['sink', 'file', () => import('../../plugins/sink/file/index.js')],
  ['source', 'hdfs', () => import('../../plugins/source/hdfs/index.js')],
  ['sink', 'hdfs', () => import('../../plugins/sink/hdfs/index.js')],
  ['source', 'kafka', () => import('../../plugins/source/kafka/index.js')],
  ['sink', 'kafka', () => import('../../plugins/sink/kafka/index.js')],
  ['sink', 'stdout', () => import('../../plugins/sink/stdout/index.js')],
  ['transform', 'filter', () => import('../../plugins/transform/filter/index.js')],
  ['transform', 'route', () => import('../../plugins/transform/route/index.js')],
  ['analyse', 'window', () => import('../../plugins/analyse/window/index.js')],
  ['analyse', 'rules', () => import('../../plugins/analyse/rules/index.js')],
  ['transform', 'set', () => import('../../plugins/transform/set/index.js')],
  ['transform', 'drop', () => import('../../plugins/transform/drop/index.js')],
  ['analyse', 'ioc-sweep', () => import('../../plugins/analyse/ioc-sweep/index.js')],
  ['transform', 'proxy-log', () => import('../../plugins/transform/proxy-log/index.js')],
];

/**
 * A fresh registry with every built-in declared, none loaded: `loadSpec` loads those its spec
 * names, `loadAll()` the rest (plugin docs, schema generation).
 */
export function declaredBuiltinRegistry(): Registry {
  const r = new Registry();
  for (const [kind, name, load] of BUILTIN_MODULES) r.declare(kind, name, async () => (await load()).default);
  return r;
}
