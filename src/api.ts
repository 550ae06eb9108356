/**
 * The public plugin API of sluice: what a plugin, built-in or third-party, may rely on. It is the
 * `sluice` package's only entry point. Built-in plugins under `plugins/` import this module and
 * `src/internal.ts` (shared helpers with no stability promise) and nothing else of sluice; a test
 * enforces it. Versioned apart from the package (`API_VERSION`; see docs/plugin-api.md).
 */
export type { Rec, Origin, InvalidRecord, Outputs, LineBlock, MessageBlock, SourceOutputs } from './record.js';
export { getPath, setPath, deletePath, copyRecord, makeInvalid, formatOrigin } from './record.js';
export type { ConfigIssue } from './errors.js';
export { parseDuration } from './util/duration.js';
export { parseIPv4, ipv4ToString, parseIPv6, ipv6ToString } from './net/ip.js';
export { compileLogic, validateLogic } from './logic/index.js';
export type { LineSpans } from './line-spans.js';
export { lineSpans, spanHash, spanHashFinish, spanIs, spanText, textHash, SPAN_HASH_OFFSET, SPAN_HASH_PRIME } from './line-spans.js';
export type { CompiledLogic, LogicIssue } from './logic/index.js';

import type { Rec, Origin, Outputs, SourceOutputs } from './record.js';
import type { ConfigIssue } from './errors.js';
import type { LineSpans } from './line-spans.js';

/**
 * The version of this contract, not of the package. A change that can break a plugin written
 * against it (a removed or renamed export, a narrower type, a changed call order) bumps the major
 * number; additions bump the minor. docs/plugin-api.md lists what each version changed.
 */
export const API_VERSION = '1.12';

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

/**
 * Labels of a labelled metric, e.g. `{ feed: 'feodo' }` or `{ topic: 'proxy', partition: '3' }`.
 * Keep their values few (feeds, partitions, rule names): never a record's value such as an address.
 */
export type MetricLabels = Readonly<Record<string, string | number>>;

/**
 * Named counters, gauges and observations of one node. Unlabelled counters and gauges appear in
 * the run summary (printed, and written by `--summary-json`); every one of them is also served on
 * `sluice run --metrics` (see docs/operating.md for the names: a few well-known ones get metrics of
 * their own, e.g. `consumer_lag` → `sluice_kafka_consumer_lag`, the rest are
 * `sluice_node_metric{node,name}`).
 */
export interface Metrics {
  /** Add `n` (default 1) to a counter; with `labels`, to that labelled series of it (API 1.1). */
  add(name: string, n?: number, labels?: MetricLabels): void;
  /** Set a gauge to `value`; with `labels`, that labelled series of it (API 1.1). */
  set(name: string, value: number, labels?: MetricLabels): void;
  /**
   * Record one observation of a distribution (a latency in seconds, a size in bytes) for a
   * histogram. Free when nothing observes the run (no `--metrics`/`--ui`): the value is dropped.
   * Name it with its unit (`flush_seconds`, `fetch_bytes`). Optional for callers that build their
   * own `Metrics` (API 1.1): call it as `ctx.metrics.observe?.(...)` only if you must support 1.0.
   */
  observe?(name: string, value: number, labels?: MetricLabels): void;
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
  /**
   * What the plugin's `prepare` returned (or last published) for this node; undefined when the
   * plugin has no `prepare`. A main-thread instance sees the very object `prepare` built; a copy in
   * a worker thread sees a structured clone of it, in which `SharedArrayBuffer`s are shared, not
   * copied. Reading it always gives the latest value delivered to this instance (see `update`).
   */
  readonly shared?: unknown;
  /**
   * The share of the keys this instance owns, when it is one of several copies of a `'by-key'`
   * processor (API 1.7; see `ParallelMode`): copy `index` of `count` (0 ≤ index < count). Each copy
   * is given every record of the stream, in order and in the same batches, and emits only what
   * belongs to its share; together the copies emit what one instance given the whole stream emits,
   * each output once. Undefined (or `count` 1): the instance has the whole stream, as before 1.7.
   */
  readonly share?: KeyShare;
  /**
   * A source's batch size when its spec leaves it unset (API 1.11): the lines per block the runtime
   * would have a line source cut. Larger where every node that reads the source heads a chain of
   * copies (worker threads, or the main thread's one copy) that skip most lines unparsed (a line
   * gate: fewer, larger blocks, each costing the runtime its own work once); undefined: the source's
   * own default. Known when `run` is called (read it there, not in
   * `create`); undefined for nodes that are not sources.
   */
  readonly batchLines?: number;
}

/** Which share of the keys a copy of a `'by-key'` processor owns (API 1.7): `PluginContext.share`. */
export interface KeyShare {
  /** This copy's number, 0 ≤ index < count. */
  readonly index: number;
  /** How many copies share the stream (at least 1). */
  readonly count: number;
}

/**
 * The context of `prepare`: like an instance's, plus the means to update the shared value and to
 * release what `prepare` set up. Logs and metrics are the node's.
 */
export interface PrepareContext extends Omit<PluginContext, 'shared' | 'share'> {
  /**
   * Deliver a new shared value to every instance of this node, main-thread and worker copies
   * alike. Each instance receives it through `update(value)` between two batches, never during
   * one; batches that start after the value arrived see it. Values must be structured-cloneable
   * when the node may run in worker threads. Ignored once the run has ended.
   */
  publish(value: unknown): void;
  /**
   * Register a clean-up (stop a timer, a cron task, close a connection). Clean-ups run once the
   * run has ended — normally, on a signal, or after a failure — after every instance was closed,
   * last registered first; the run waits for them. `signal` is aborted at the same moment.
   */
  onClose(fn: (end: RunEnd) => void | Promise<void>): void;
}

/**
 * How the run ended, as prepare clean-ups see it: `failed` when a node failed (a sink's last flush
 * included), `stopped` when a signal stopped it before its input ended. A clean-up that makes a
 * run's work count (commits a state) should do so only when neither is set.
 */
export interface RunEnd {
  failed: boolean;
  stopped: boolean;
}

/** Called by a source for each batch it emitted, once every sink that batch reached made it durable. */
export type OnDurable = () => void;

export interface SourceInstance {
  /**
   * Produce batches until the input is exhausted (finite sources) or `ctx.signal` aborts.
   * `emit` resolves when the downstream queues have room: awaiting it is the backpressure.
   * A line source may emit a `LineBlock` on a port instead of records: the runtime builds the
   * records only where a node reads them (in worker threads for a parallel chain).
   */
  run(emit: (batch: SourceOutputs, onDurable?: OnDurable) => Promise<void>): Promise<void>;
  close?(): Promise<void>;
}

export interface ProcessorInstance {
  /** Process one batch; return the records for each output port. Called for one batch at a time. */
  process(records: Rec[]): Outputs | Promise<Outputs>;
  /** End of input (finite run or shutdown): emit whatever is still held, such as open windows. */
  finish?(): Outputs | Promise<Outputs>;
  /**
   * A new shared value published by the node's `prepare` (`ctx.publish`). Called between batches,
   * never during one (nor during `finish`); the next `process` call must use it.
   */
  update?(shared: unknown): void | Promise<void>;
  /**
   * Wall-clock time passing while the node's input is quiet (API 1.1). A main-thread processor
   * runner calls it when no batch arrived for `tickIntervalMs`, then again after each further
   * interval of quiet; never during `process`, `update` or `finish`, and not after `finish`.
   * `nowMs` is `Date.now()`. What it returns is dispatched like `process` outputs but carries no
   * batch acknowledgement (like `finish`): the records it derives from were acknowledged when
   * their batches were processed. Copies in worker threads are not ticked. For processors whose
   * output depends on time passing, such as windows that must close on a quiet stream.
   */
  tick?(nowMs: number): Outputs | Promise<Outputs>;
  /** How long the input must be quiet before `tick` is called, in ms (default 1000). */
  readonly tickIntervalMs?: number;
  /**
   * A `by-origin` processor's state for the source of `origin`, once it has settled (API 1.3): it
   * will not change for the rest of that source, and given to another copy through `adoptState` it
   * makes that copy process the source's later batches exactly as this one would. Undefined while
   * the state may still change (or, for a plugin without it, always). Asked in worker-thread copies
   * after a batch of the source, until it answers; the value must be structured-cloneable and
   * small (it travels with every later batch of the source). Once every `by-origin` node of a
   * parallel chain answered for a source, the runtime deals its later batches to any copy, as for
   * an `'any'` chain (results are still dispatched in batch order). `origin` is any record's origin
   * of the source: key the state by its file, or topic and partition, as the plugin keeps it.
   */
  settledState?(origin: Origin | null): unknown;
  /**
   * Take on the settled state another copy reported for the source of `origin` (API 1.3): called
   * before `process` is given a batch of that source, once per source and copy, when the copy is
   * given that source's batches after its state settled elsewhere. The copy may never have seen
   * the source's earlier batches; after this call it must process the batch as the copy that did.
   */
  adoptState?(origin: Origin | null, state: unknown): void;
  /**
   * A record gate (API 1.6), for a processor that, for most records, emits nothing but the record
   * itself on `out` — a matcher whose alerts are rare. Asked once, after `create`; undefined: no
   * gate. When the node's `out` is read by no node and it reads a transform that offers a
   * `lineProbe` for the gate's `paths` (see `LineProbe`), the runtime asks `mayEmit` of a probe of
   * each line instead of making the line's record and calling `process` with it; see
   * docs/plugin-api.md, "Records that are never made".
   */
  recordGate?(): RecordGate | undefined;
  /**
   * A line probe (API 1.6), for a transform that makes records from the lines of a line source
   * (`{ message, origin }` records): the fields `paths` of a line's record, made without the record,
   * for the lines where that is cheap. Undefined when it cannot make some path of `paths`.
   * `hashPaths` (API 1.9): the paths of `paths` whose values a gate reading spans wants hashed
   * (`RecordGate.hashPaths`); a probe offers `spans` only if it fills `hash` for all of them.
   */
  lineProbe?(paths: readonly string[], hashPaths?: readonly string[]): LineProbe | undefined;
  /**
   * Take the summary of a batch of `count` records that the node's `batchSummary` (API 1.8, see
   * `SummaryDef`) made in the worker copy that made the records, in place of `process` for that
   * batch; batches come in order, summarised or not. Return what `process` would have returned for
   * the batch, but nothing on the `passes` ports (the runtime counts the batch there) and no input
   * record on any port; or undefined when the summary cannot stand for the records as things are
   * now (for a window: a record of the batch would be late): the runtime then gives `process` the
   * batch's whole records, and the node must not have changed anything.
   */
  merge?(summary: unknown, count: number): Outputs | undefined;
  close?(): Promise<void>;
}

/**
 * Batch summaries (API 1.8), for a main-thread processor fed by a parallel chain whose records it
 * reduces (a window: counts per key and pane): each worker copy summarises the batches it made,
 * and the main thread merges the summaries (`ProcessorInstance.merge`) instead of processing the
 * records. Used only when the processor also declares `reads`, is the only reader of that output,
 * and no node reads its `passes` ports; see docs/plugin-api.md, "Batch summaries".
 */
export interface SummaryDef<C = any> {
  /** Ports on which `process` emits every input record (the window's `out`). */
  passes: readonly string[];
  /** A summariser, made once in each worker copy from the validated, defaulted and frozen config. */
  create(config: C): BatchSummariser;
}

/** What `SummaryDef.create` makes. */
export interface BatchSummariser {
  /**
   * The summary of one batch's records, in their order: structured-cloneable (it crosses to the
   * main thread), and small next to the records (typed arrays travel cheapest). Undefined when the
   * batch is better processed whole (say, it holds records the node would reject).
   */
  summarise(records: readonly Rec[]): unknown;
}

/** What a processor's `recordGate` gives: see `ProcessorInstance.recordGate`. */
export interface RecordGate {
  /** The dotted paths `mayEmit` reads. */
  readonly paths: readonly string[];
  /**
   * Told a record that holds the values of `paths` of some record R (and possibly nothing else):
   * false only when `process` given R would emit nothing for it but R itself on `out`, and would
   * change no state that a later record, `tick` or `finish` can see. The runtime then skips R: it
   * is counted as received and emitted on `out`, and never made. Called between `process` calls,
   * in the same thread, with the state of the last `update`.
   */
  mayEmit(probe: Rec): boolean;
  /**
   * `mayEmit` told the values as spans of their line's bytes (API 1.10; see `LineSpans`): the k-th
   * span is the value at `paths[k]` of the record R, or -1 where R has none; `bytes` holds the line
   * (ASCII) among others, the spans count from its start. Same contract as `mayEmit`; used instead
   * of it when the transform's probe offers `spans`. Optional.
   */
  mayEmitSpans?(bytes: Uint8Array, spans: LineSpans): boolean;
  /**
   * The paths (of `paths`) whose spans `mayEmitSpans` wants hashed (`spanHash`, in `LineSpans.hash`):
   * the probe computes the hash while it scans the value, once. Optional (none).
   */
  readonly hashPaths?: readonly string[];
  /** Told how many records were skipped since the last call (for metrics); optional. */
  skipped?(n: number): void;
}

/** What a transform's `lineProbe` gives: see `ProcessorInstance.lineProbe`. */
export interface LineProbe {
  /**
   * For the line `line` of the source `origin` (its `file`, or `topic` and `partition`; no line
   * number or offset): when `process` given `{ message: line, origin }` would emit exactly one
   * record on `out` and nothing else, and change no state a later line can see, an object holding
   * that record's values at the probe's `paths` (nested as in the record); otherwise undefined
   * (the line is then made into a record and processed). Undefined is always allowed.
   */
  probe(line: string, origin: Origin): Rec | undefined;
  /**
   * `probe` of the ASCII line or message `bytes[from, to)` as places in its bytes (API
   * 1.10; see `LineSpans`), for a gate that offers `mayEmitSpans`: true when `probe` of the line's
   * text would have returned an object, with `out` filled for every path — the k-th path's value is
   * the text of `bytes[out.start[k], out.end[k])` (equal to the record's value at that path), or -1
   * where the record has none — and `out.hash[k]` set for each of the `hashPaths` `lineProbe` was
   * given whose span is not -1; false otherwise (the line is made into a record and processed),
   * always allowed, and required where some value is not a piece of the line (a value the parser
   * rewrites). No string need be made for a line the gate then skips. Optional: offer it only for
   * paths whose values are strings.
   */
  spans?(bytes: Uint8Array, from: number, to: number, origin: Origin, out: LineSpans): boolean;
  /** Told how many probed lines were skipped since the last call: count them as processed (metrics, totals); optional. */
  skipped?(n: number): void;
}

export interface SinkInstance {
  /** Where the records go (a file path, a topic), shown in the run summary. */
  readonly target?: string;
  /**
   * Accept a batch (may buffer). A sink whose definition has an `encoder` and whose instance has
   * `writeEncoded` is given its batches through `writeEncoded` instead: the runtime does not call
   * `write` (a direct caller may; make it `writeEncoded(encode(records))`).
   */
  write(records: Rec[]): void | Promise<void>;
  /**
   * Accept a batch its definition's `encoder` made (API 1.4; see `SinkEncoder`), in a worker thread
   * or in the main thread: the sink must not care which. Same contract as `write`: batches in
   * order, may buffer, a transient error is retried with the same batch (so take all of it or
   * nothing), made durable by the next `flush`.
   */
  writeEncoded?(batch: EncodedBatch): void | Promise<void>;
  /** Make everything written so far durable (fsync, close and rename, broker ack). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export type PluginInstance = SourceInstance | ProcessorInstance | SinkInstance;

export interface PluginExample {
  title: string;
  with: unknown;
}

/** What every plugin definition has, whatever its kind. */
interface PluginDefBase<C> {
  name: string;
  /** One line: what it does. */
  summary: string;
  /** Longer reference text (markdown). */
  description?: string;
  /** JSON Schema of `with:`; defaults in it are applied before `create`. */
  schema: JsonSchema;
  /** Examples of `with:`; they are validated by the conformance test and printed by `sluice plugins NAME`. */
  examples?: readonly PluginExample[];
  /**
   * The reason codes (UPPER_SNAKE) this plugin gives the records it sends to its `invalid` port
   * (`makeInvalid(node, origin, CODE, ...)`), each with what it means. `sluice plugins NAME` lists
   * them; the conformance test holds the built-ins' declarations to their code and docs.
   */
  reasons?: Readonly<Record<string, string>>;
  /** The codes (UPPER_SNAKE) of the problems `check` reports (`ConfigIssue.code`), each with what it means. */
  configCodes?: Readonly<Record<string, string>>;
  /** Checks beyond the schema (compile rules, parse durations); run at validation time. */
  check?(config: C): ConfigIssue[];
  /**
   * Build once, in the main thread, what every instance of the node shares (an indicator store, a
   * compiled table), before any instance is created — also when the node runs in the main thread
   * only. The result is each instance's `ctx.shared` (the same object in the main thread, a
   * structured clone in a worker copy: put bulk data in `SharedArrayBuffer`s so that copies share
   * it instead of copying it). `ctx.publish` replaces it later (a refresh); `ctx.onClose` registers
   * the release of timers or tasks it started. An error fails the run, naming the node.
   */
  prepare?(config: C, ctx: PrepareContext): unknown | Promise<unknown>;
}

/** Output ports, as a list or as a function of the config. Default `['out']`. */
export type Ports<C> = readonly string[] | ((config: C) => readonly string[]);

export interface SourceDef<C = any> extends PluginDefBase<C> {
  kind: 'source';
  ports?: Ports<C>;
  /**
   * How many bytes a run of this source will read, as far as it can tell before the run starts
   * (the sizes of the files it names; gzip: their uncompressed size), `Infinity` for an unbounded
   * stream (a topic), `undefined` when it cannot tell. Called once per run, in the main thread,
   * before any instance exists; it must be cheap (a stat, not a read). With `settings.workers:
   * auto` (the default) the runtime starts worker threads only when the input is large enough to
   * repay their start-up; a source without it counts as large.
   */
  inputBytes?(config: C): number | undefined | Promise<number | undefined>;
  /** Build the instance. `config` is validated, defaulted and frozen. */
  create(config: C, ctx: PluginContext): SourceInstance | Promise<SourceInstance>;
}

/** A transform or an analyser: records in, records out on its ports. */
export interface ProcessorDef<C = any> extends PluginDefBase<C> {
  kind: 'transform' | 'analyse';
  ports?: Ports<C>;
  /**
   * Whether copies of this processor may run in worker threads, each seeing part of the batches:
   * `'any'` when each batch can be processed on its own, `'by-origin'` when state is kept per source
   * (all batches of one file or partition then go to the same copy, until the state settles: see
   * `ProcessorInstance.settledState`), `'by-key'` when state is kept per key and every copy can be
   * given the whole stream (API 1.7: see `ParallelMode`), `'none'` (the default) when the node needs
   * to see every record (suppression). May depend on the config.
   */
  parallel?: ParallelMode | ((config: C) => ParallelMode);
  /**
   * The fields of its input records this processor reads (API 1.5; see `ReadFields`), as a function
   * of the validated, defaulted and frozen config; undefined when it reads them all. Optional.
   */
  reads?(config: C): ReadFields | undefined;
  /**
   * Batch summaries made in worker copies and merged on the main thread (API 1.8; see
   * `SummaryDef`); the instance must then have `merge`. Optional.
   */
  batchSummary?: SummaryDef<C>;
  /** Build the instance. `config` is validated, defaulted and frozen. */
  create(config: C, ctx: PluginContext): ProcessorInstance | Promise<ProcessorInstance>;
}

export interface SinkDef<C = any> extends PluginDefBase<C> {
  kind: 'sink';
  /** Build the instance. `config` is validated, defaulted and frozen. */
  create(config: C, ctx: PluginContext): SinkInstance | Promise<SinkInstance>;
  /**
   * The sink's encoding of records (API 1.4; see `SinkEncoder`): made once per thread that
   * encodes for this node, from the validated, defaulted and frozen config alone. Optional.
   */
  encoder?(config: C): SinkEncoder;
}

/** A plugin: one object whose `kind` decides what `create` must return. */
export type PluginDef<C = any> = SourceDef<C> | ProcessorDef<C> | SinkDef<C>;

/**
 * Declare a plugin. Identity at runtime; it exists so that TypeScript checks the definition against
 * its kind (a sink's `create` must return a `SinkInstance`, and so on).
 */
export function definePlugin<C = any>(def: SourceDef<C>): SourceDef<C>;
export function definePlugin<C = any>(def: ProcessorDef<C>): ProcessorDef<C>;
export function definePlugin<C = any>(def: SinkDef<C>): SinkDef<C>;
export function definePlugin(def: PluginDef): PluginDef {
  return def;
}

/**
 * How copies of a processor may share its work (`ProcessorDef.parallel`):
 * - `'none'`: one instance sees every record.
 * - `'any'`: copies may each take any batch.
 * - `'by-origin'`: copies each take all batches of the sources they are given (state per source).
 * - `'by-key'` (API 1.7): copies may each be given **every** record of the stream, in order and in
 *   the same batches, each told its share (`PluginContext.share`); together they emit what one
 *   instance emits, each output record once. For state kept per key (windows): every copy reads
 *   what orders the stream (event times, watermarks) from every record, keeps state and emits
 *   outputs only for its own keys, and emits each input record it passes on (`out`, `late`) only
 *   in the one copy that owns it. The runtime runs by-key copies in worker threads where `workers:
 *   auto` sees file input (a by-key segment: docs/ARCHITECTURE.md); elsewhere a `'by-key'`
 *   processor runs as one instance on the main thread, as with `'none'`.
 */
export type ParallelMode = 'none' | 'any' | 'by-origin' | 'by-key';

// ---------------------------------------------------------------------------------------------
// Sink encoders (API 1.4): a sink's per-record work done where its records are produced.
// ---------------------------------------------------------------------------------------------

/**
 * What a sink does to each record before it buffers, compresses and writes (serialise to JSON or
 * CSV, pick the partition directory, cut index keys), as a function of its config alone. When the
 * records a sink reads are produced in worker threads (the outputs of a parallel chain), the
 * runtime encodes them there, at the end of the chain, and only the encoded batch crosses to the
 * main thread, where the sink's `writeEncoded` batches, compresses, writes and acknowledges. The
 * records of main-thread nodes are encoded by the runtime in the main thread, so `writeEncoded`
 * sees every batch and the sink has one path whatever the threads.
 *
 * An encoder must be parallel-safe: what `encode` returns for a batch depends on the config and
 * the batch only, never on the batches before it or on which copy encoded it (one copy per worker
 * thread and one in the main thread, each fed a different share of the batches). Caches that do
 * not change results (memos of a serialised value) are fine. It must not touch the outside world
 * (files, sockets, metrics): report counts in the encoded value and let `writeEncoded` add them.
 * An exception fails the run, naming the sink.
 */
export interface SinkEncoder<E = unknown> {
  /** Encode a batch (in record order; the runtime never gives an empty one). */
  encode(records: Rec[]): EncodedBatch<E>;
}

/** An encoded batch: what crosses from a worker thread to the sink's `writeEncoded`. */
export interface EncodedBatch<E = unknown> {
  /** How many records it encodes (the sink's received count in the run summary). */
  readonly count: number;
  /** The encoding: anything structured-cloneable, typically bytes and typed arrays of per-record data. */
  readonly value: E;
  /**
   * The ArrayBuffers inside `value` to move to the main thread rather than copy (the sink's bytes):
   * unusable in the encoding thread afterwards, so each must be this batch's own, never a pool or a
   * cache the encoder keeps. Ignored when the batch is encoded in the main thread.
   */
  readonly transfer?: readonly ArrayBuffer[];
}

// ---------------------------------------------------------------------------------------------
// Read fields (API 1.5): a processor that reads only some fields of its input records.
// ---------------------------------------------------------------------------------------------

/**
 * What a processor reads of its input records (`ProcessorDef.reads`). When its input comes from a
 * parallel chain (worker threads) and every main-thread node reading that output declares this,
 * the runtime sends it a **projection** of each record: an object holding only the `fields` (and
 * `origin`), which is far cheaper to move between threads than the whole record. The whole records
 * stay in the worker until the processor is done with their batch.
 *
 * - `fields`: dotted paths (`'source.ip'`, `'@timestamp'`), each meaning the value at that path and
 *   everything under it. A projection has every listed path (a missing one holds `undefined`), and
 *   reads through a path give what they would give on the whole record. `origin` is always kept.
 *   A field read but not listed reads as missing: list every field that the config makes the
 *   plugin read (keys, aggregates, time fields, samples...).
 * - `whole`: the ports on which the processor emits input records themselves — the record, or a
 *   shallow copy of it with top-level fields added or replaced (`{ ...rec, extra }`). The runtime
 *   replaces each such record by the whole record, with the fields the processor added or replaced
 *   on top, before it reaches the port's readers (order kept on each port). Such records must be
 *   emitted from `process` for the batch that held them (not kept for a later batch, `tick` or
 *   `finish`). Records on other ports must not be input records or contain them.
 */
export interface ReadFields {
  fields: readonly string[];
  whole?: readonly string[];
}
