/**
 * What the runners of one run share: the abort controller, the first failure, live statistics,
 * the input queue of every node and the routes from each node's ports to its consumers' queues.
 */
import type { EncodedBatch, Logger, Metrics, PluginContext, Rec } from '../api.js';
import { batchSize, copyBlock, type Batch, type SourceOutputs } from '../record.js';
import type { CompiledNode, CompiledSpec } from '../graph/build.js';
import { envelopeSize, type Ack, type Envelope } from './acks.js';
import { makeContext } from './context.js';
import type { SharedHolder } from './prepare.js';
import { BoundedQueue } from './queue.js';
import { asRunError, type RunError, type RunErrorCode } from './run-error.js';
import { NodeStats } from './summary.js';
import type { NodeDelta } from './wire.js';
import type { QueueDepth, RunObserver, RunView } from './observer.js';
import type { EncodedRoute } from './sink-encode.js';

export interface StateOptions {
  stateDir: string;
  logger: Logger & { child?(b: object): Logger };
  once: boolean;
  /** Something watching the run (metrics, status page, top); see observer.ts. */
  observer?: RunObserver;
}

export class RunState {
  /** Aborted by a stop (graceful: sources return, queues drain) and by a failure. */
  readonly controller = new AbortController();
  /** Aborted by a failure only: what stops a sink's retries (a graceful stop waits for them). */
  private readonly failController = new AbortController();
  private firstFailure: RunError | undefined;
  readonly stats = new Map<string, NodeStats>();
  /** What a source's `ctx.batchLines` reads (API 1.11), by source; set before the sources run. */
  readonly batchLines = new Map<string, number>();
  /** The input queue of each node that runs in the main thread (a segment's head feeds its workers). */
  readonly queues = new Map<string, BoundedQueue<Envelope>>();
  /** node → port → the queues of its consumers outside the node's segment. */
  private readonly routes = new Map<string, Map<string, BoundedQueue<Envelope>[]>>();
  /** Something watching the run, or undefined: then no hook costs more than this test. */
  readonly observer: RunObserver | undefined;
  readonly startedAt = Date.now();

  /** `insideSegment`: segment nodes other than heads (their edges stay in the workers). */
  constructor(
    readonly spec: CompiledSpec,
    readonly insideSegment: ReadonlySet<string>,
    private readonly opts: StateOptions,
  ) {
    this.observer = opts.observer;
    for (const name of spec.order) {
      const node = spec.nodes.get(name)!;
      this.stats.set(name, new NodeStats(node));
      this.routes.set(name, new Map());
      // One input queue per non-source node; producers = number of its input edges.
      if (node.kind !== 'source' && !insideSegment.has(name)) this.queues.set(name, new BoundedQueue<Envelope>(spec.settings.queueBatches, node.inputs.length));
    }
    for (const name of spec.order) {
      if (insideSegment.has(name)) continue;
      for (const input of spec.nodes.get(name)!.inputs) {
        const ports = this.routes.get(input.node)!;
        if (!ports.has(input.port)) ports.set(input.port, []);
        ports.get(input.port)!.push(this.queues.get(name)!);
      }
    }
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get failSignal(): AbortSignal {
    return this.failController.signal;
  }

  get failed(): boolean {
    return this.firstFailure !== undefined;
  }

  get failure(): RunError | undefined {
    return this.firstFailure;
  }

  /** Hard failure: the first error wins; every queue is abandoned (a graceful stop drains them). */
  fail(err: unknown, code: RunErrorCode, node?: string): void {
    if (this.firstFailure === undefined) this.firstFailure = asRunError(err, code, node);
    this.controller.abort();
    this.failController.abort();
    for (const q of this.queues.values()) q.fail();
  }

  /** Send a node's outputs to the queues of every consumer; `ack` is held once per envelope. */
  async dispatch(name: string, outputs: SourceOutputs, ack: Ack | null, count = true): Promise<void> {
    for (const port in outputs) {
      const records = outputs[port];
      if (!records) continue;
      const w = this.dispatchPort(name, port, records, ack, count);
      if (w !== undefined) await w;
    }
  }

  /**
   * Send the records of one port (counted unless `count` is false: the caller counted them).
   * Returns a promise only when there was a queue to push to.
   */
  dispatchPort(name: string, port: string, records: Batch, ack: Ack | null, count: boolean): Promise<void> | undefined {
    const n = batchSize(records);
    if (n === 0) return undefined;
    if (count) this.stats.get(name)!.emitted(port, n);
    const obs = this.observer;
    if (obs?.wants(name, port)) obs.records(name, port, records, ack?.at);
    const targets = this.routes.get(name)!.get(port);
    if (!targets) return undefined; // a port nobody reads: counted, then dropped (validation warned)
    // Observed runs note the edge on the envelope (queue depth per edge); others make the same object as ever.
    const from = obs !== undefined ? `${name}.${port}` : undefined;
    if (targets.length === 1) {
      ack?.retain();
      return targets[0]!.push(from === undefined ? { records, ack } : { records, ack, from });
    }
    return this.fanOut(targets, records, ack, from);
  }

  private async fanOut(targets: BoundedQueue<Envelope>[], records: Batch, ack: Ack | null, from: string | undefined): Promise<void> {
    const last = targets.length - 1;
    for (let i = 0; i <= last; i++) {
      ack?.retain();
      // Fan-out shares the records; each consumer gets its own array (or its own bytes: a
      // worker pool may transfer a block's memory to a thread, a copy give it back to the pool).
      // The last consumer gets the batch itself: the others' copies are made before any consumer
      // can have taken it (a push may wait, and the consumers run meanwhile).
      const env: Envelope = { records: i === last ? records : copyBatch(records), ack };
      if (from !== undefined) env.from = from;
      await targets[i]!.push(env);
    }
  }

  /**
   * Sinks fed encoded batches by a segment's workers (sink-encode.ts): their queues leave the routes
   * of those outputs (the records no longer go to them) and are reached by `dispatchEncoded`.
   */
  encodeInWorkers(routes: readonly EncodedRoute[]): void {
    for (const r of routes) {
      const ports = this.routes.get(r.node)!;
      const queues = ports.get(r.port) ?? [];
      const moved = r.sinks.map((s) => this.queues.get(s.sink)!);
      const left = queues.filter((q) => !moved.includes(q));
      if (left.length) ports.set(r.port, left);
      else ports.delete(r.port);
      let extra = this.encodedRoutes.get(r.node);
      if (!extra) this.encodedRoutes.set(r.node, (extra = []));
      extra.push(...moved);
    }
  }

  /** Queues reached by `dispatchEncoded` from each node: they end with it too. */
  private readonly encodedRoutes = new Map<string, BoundedQueue<Envelope>[]>();

  /** A batch a worker encoded for `sink` from `node.port` (counted there): to the sink's queue. */
  dispatchEncoded(node: string, port: string, sink: string, batch: EncodedBatch, ack: Ack | null): Promise<void> | undefined {
    if (batch.count === 0) return undefined;
    const q = this.queues.get(sink)!;
    ack?.retain();
    const env: Envelope = { records: NO_RECORDS, ack, encoded: batch };
    if (this.observer !== undefined) env.from = `${node}.${port}`;
    return q.push(env);
  }

  /** The node produces nothing more: each consumer's queue loses one producer. */
  endOutputs(name: string): void {
    for (const qs of this.routes.get(name)!.values()) for (const q of qs) q.end();
    // A sink reading several ports of the node counts it once per edge, as its routes above do.
    const enc = this.encodedRoutes.get(name);
    if (enc) for (const q of enc) q.end();
  }

  /** Counts a worker thread sent back for the segment's nodes. */
  applyDeltas(deltas: readonly NodeDelta[]): void {
    const obs = this.observer;
    for (const d of deltas) {
      const st = this.stats.get(d.node)!;
      st.received(d.in);
      for (const p in d.out) st.emitted(p, d.out[p]!);
      for (const k in d.add) st.add(k, d.add[k]!);
      for (const k in d.set) st.set(k, d.set[k]!);
      if (obs === undefined) continue;
      if (d.ms !== undefined) obs.timing(d.node, 'process', d.ms / 1000);
      if (d.obs) for (const [m, v, l] of d.obs) obs.observe(d.node, m, v, l);
      if (d.lab) for (const [op, m, v, l] of d.lab) obs.labelled(d.node, op, m, v, l);
    }
  }

  /** What an observer reads of the run (observer.ts). */
  view(hidden: ReadonlySet<string>): RunView {
    return { spec: this.spec, stats: this.stats, startedAt: this.startedAt, queues: () => this.queueDepths(), hidden };
  }

  private queueDepths(): QueueDepth[] {
    const out: QueueDepth[] = [];
    for (const [node, q] of this.queues) {
      const edges = new Map<string, { from: string; port: string; batches: number; records: number }>();
      for (const input of this.spec.nodes.get(node)!.inputs)
        edges.set(`${input.node}.${input.port}`, { from: input.node, port: input.port, batches: 0, records: 0 });
      let batches = 0;
      let records = 0;
      q.forEach((env) => {
        const n = envelopeSize(env);
        batches++;
        records += n;
        const e = env.from !== undefined ? edges.get(env.from) : undefined;
        if (e) {
          e.batches++;
          e.records += n;
        }
      });
      out.push({ node, capacity: q.capacity, batches, records, edges: [...edges.values()] });
    }
    return out;
  }

  /** A main-thread plugin's context: its node's metrics, the run's signal (or `signal`), `shared`. */
  contextFor(node: CompiledNode, shared?: SharedHolder, signal: AbortSignal = this.controller.signal): PluginContext {
    const st = this.stats.get(node.name)!;
    const obs = this.observer;
    const name = node.name;
    // Unlabelled counters and gauges are the node's statistics (summary); labelled ones and
    // observations exist only for an observer (metrics), and cost nothing without one.
    const metrics: Metrics = obs
      ? {
          add: (n, v = 1, l) => (l ? obs.labelled(name, 'add', n, v, l) : st.add(n, v)),
          set: (n, v, l) => (l ? obs.labelled(name, 'set', n, v, l) : st.set(n, v)),
          observe: (n, v, l) => obs.observe(name, n, v, l),
        }
      : { add: (n, v = 1, l) => void (l || st.add(n, v)), set: (n, v, l) => void (l || st.set(n, v)), observe: () => undefined };
    return makeContext({
      pipeline: this.spec.name,
      node: node.name,
      logger: this.opts.logger,
      metrics,
      signal,
      stateDir: this.opts.stateDir,
      once: this.opts.once,
      shared,
      ...(node.kind === 'source' ? { batchLines: () => this.batchLines.get(name) } : {}),
    });
  }
}

/** The records of an envelope that carries an encoded batch (never written to). */
const NO_RECORDS: Rec[] = Object.freeze([]) as unknown as Rec[];

function copyBatch(b: Batch): Batch {
  return Array.isArray(b) ? (b as Rec[]).slice() : copyBlock(b);
}
