/**
 * What a run shows to something watching it (`--metrics`, `--ui`, `--top`): an observer passed as
 * `RunOptions.observer`. Without one the runtime does nothing it would not do anyway: each hook is
 * behind one `observer !== undefined` test per batch, and the counts an observer reads are the
 * live `NodeStats` the run keeps for its summary — there is no second counting path.
 *
 * What the observer gets:
 * - `attach(view)`: the run's live statistics and queues, once, before the `prepare`s run.
 * - `phase(p)`: `preparing` → `running` (instances created, feeds loaded, sources started) →
 *   `done` | `failed`.
 * - `timing(node, what, seconds)`: per batch, the time a processor spent in `process` (summed
 *   over the batch's chunks; in a worker thread too), a sink's `write`, a sink's `flush`.
 * - `records(node, port, batch, ingestMs)`: batches leaving `node.port`, only for the ports
 *   `wants(node, port)` accepted (it is asked per batch: keep it a lookup). `ingestMs` is when
 *   the source batch these records derive from was emitted (`Date.now()`), when known.
 *   Batches that stay inside a parallel segment's worker threads are not seen here.
 * - `observe(node, name, value, labels)`: a plugin's `ctx.metrics.observe` (histograms), and
 *   `labelled(...)`: a plugin's labelled `add`/`set`.
 */
import type { MetricLabels } from '../api.js';
import type { CompiledSpec } from '../graph/build.js';
import type { Batch } from '../record.js';
import type { NodeStats } from './summary.js';

export type RunPhase = 'preparing' | 'running' | 'done' | 'failed';
export type TimingKind = 'process' | 'write' | 'flush';

/** Batches (and records) waiting in one node's input queue, by the edge they came along. */
export interface QueueDepth {
  node: string;
  capacity: number;
  batches: number;
  records: number;
  edges: { from: string; port: string; batches: number; records: number }[];
}

export interface RunView {
  readonly spec: CompiledSpec;
  /** Live, per node: read them, never write them. */
  readonly stats: ReadonlyMap<string, NodeStats>;
  /** `Date.now()` when the run started. */
  readonly startedAt: number;
  /** The input queues now (walks at most `queueBatches` envelopes per queue). */
  queues(): QueueDepth[];
  /** `node.port`s whose records stay inside a parallel segment's worker threads: never seen by `records`. */
  readonly hidden: ReadonlySet<string>;
}

export interface RunObserver {
  attach(view: RunView): void;
  phase(phase: RunPhase, error?: Error): void;
  timing(node: string, what: TimingKind, seconds: number): void;
  wants(node: string, port: string): boolean;
  records(node: string, port: string, records: Batch, ingestMs: number | undefined): void;
  observe(node: string, name: string, value: number, labels: MetricLabels | undefined): void;
  labelled(node: string, op: 'add' | 'set', name: string, value: number, labels: MetricLabels): void;
}
