/**
 * The public plugin API of sluice. Built-in plugins under `plugins/` import only from this module
 * (a test enforces it), exactly as a third-party plugin imports from the `sluice` package.
 */
export type { Rec, Origin, InvalidRecord, Outputs } from './record.js';
export { getPath, setPath, deletePath, makeInvalid, formatOrigin } from './record.js';
export { parseDuration } from './util/duration.js';
export { parseIPv4, ipv4ToString, parseIPv6, ipv6ToString, groupsToString, zeroRun, mappedV4, v6PrefixKey, v4PrefixKey } from './net/ip.js';
export { compileLogic, validateLogic, addLogicOperation } from './logic/index.js';
export type { CompiledLogic, LogicIssue } from './logic/index.js';

import type { Rec, Outputs } from './record.js';

export type PluginKind = 'source' | 'transform' | 'analyse' | 'sink';
export const PLUGIN_KINDS: readonly PluginKind[] = ['source', 'transform', 'analyse', 'sink'];

/** A JSON Schema (draft 2020-12 subset understood by ajv). Every property should carry a description. */
export type JsonSchema = { [key: string]: unknown };

export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** Named counters and gauges of one node; they appear in the run summary and `--metrics` output. */
export interface Metrics {
  /** Add `n` (default 1) to a counter. */
  add(name: string, n?: number): void;
  /** Set a gauge to `value`. */
  set(name: string, value: number): void;
}

export interface PluginContext {
  /** The node's name in the spec. */
  readonly node: string;
  /** The pipeline's name. */
  readonly pipeline: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Aborted when the run stops (signal, error, or end of a finite run). */
  readonly signal: AbortSignal;
  /** Resolve a data path named in config: relative paths are taken from the working directory. */
  resolvePath(p: string): string;
  /** A directory this node may keep durable state in (checkpoints); created on first use. */
  stateDir(): string;
  /** True when the run was asked to drain streams that are caught up and stop (`--once`). */
  readonly once: boolean;
}

/** Called by a source for each batch it emitted, once every sink that batch reached made it durable. */
export type OnDurable = () => void;

export interface SourceInstance {
  /**
   * Produce batches until the input is exhausted (finite sources) or `ctx.signal` aborts.
   * `emit` resolves when the downstream queues have room: awaiting it is the backpressure.
   */
  run(emit: (batch: Outputs, onDurable?: OnDurable) => Promise<void>): Promise<void>;
  close?(): Promise<void>;
}

export interface ProcessorInstance {
  /** Process one batch; return the records for each output port. Called for one batch at a time. */
  process(records: Rec[]): Outputs | Promise<Outputs>;
  /** End of input (finite run or shutdown): emit whatever is still held, such as open windows. */
  finish?(): Outputs | Promise<Outputs>;
  close?(): Promise<void>;
}

export interface SinkInstance {
  /** Where the records go (a file path, a topic), shown in the run summary. */
  readonly target?: string;
  /** Accept a batch (may buffer). */
  write(records: Rec[]): void | Promise<void>;
  /** Make everything written so far durable (fsync, close and rename, broker ack). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export type PluginInstance = SourceInstance | ProcessorInstance | SinkInstance;

/** A problem a plugin finds in its own (schema-valid) config; `path` is a JSON pointer inside `with:`. */
export interface ConfigIssue {
  path: string;
  message: string;
  code?: string;
  hint?: string;
}

export interface PluginExample {
  title: string;
  with: unknown;
}

export interface PluginDef<C = any> {
  name: string;
  kind: PluginKind;
  /** One line: what it does. */
  summary: string;
  /** Longer reference text (markdown). */
  description?: string;
  /** JSON Schema of `with:`; defaults in it are applied before `create`. */
  schema: JsonSchema;
  /** Output ports. Default `['out']` for sources, transforms and analysers; sinks have none. */
  ports?: readonly string[] | ((config: C) => readonly string[]);
  /** Examples of `with:`; they are validated by the conformance test and printed by `sluice plugins NAME`. */
  examples?: readonly PluginExample[];
  /**
   * Whether copies of this processor may run in worker threads, each seeing part of the batches:
   * `'any'` when each batch can be processed on its own, `'by-origin'` when state is kept per source
   * (all batches of one file or partition then go to the same copy), `'none'` (the default) when the
   * node needs to see every record (windows, suppression). May depend on the config.
   */
  parallel?: ParallelMode | ((config: C) => ParallelMode);
  /** Checks beyond the schema (compile rules, parse durations); run at validation time. */
  check?(config: C): ConfigIssue[];
  /** Build the instance. `config` is validated, defaulted and frozen. */
  create(config: C, ctx: PluginContext): PluginInstance | Promise<PluginInstance>;
}

/** Declare a plugin. Identity at runtime; it exists so that TypeScript checks the definition. */
export function definePlugin<C = any>(def: PluginDef<C>): PluginDef<C> {
  return def;
}

export type ParallelMode = 'none' | 'any' | 'by-origin';

/** How a plugin may run in parallel for a given config. */
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
