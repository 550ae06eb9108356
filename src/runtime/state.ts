/**
 * What the runners of one run share: the abort controller, the first failure, live statistics,
 * the input queue of every node and the routes from each node's ports to its consumers' queues.
 */
import type { Logger, PluginContext, Rec } from '../api.js';
import { batchSize, type Batch, type SourceOutputs } from '../record.js';
import type { CompiledNode, CompiledSpec } from '../graph/build.js';
import type { Ack, Envelope } from './acks.js';
import { makeContext } from './context.js';
import type { SharedHolder } from './prepare.js';
import { BoundedQueue } from './queue.js';
import { asRunError, type RunError, type RunErrorCode } from './run-error.js';
import { NodeStats } from './summary.js';
import type { NodeDelta } from './wire.js';

export interface StateOptions {
  stateDir: string;
  logger: Logger & { child?(b: object): Logger };
  once: boolean;
}

export class RunState {
  /** Aborted by a stop (graceful: sources return, queues drain) and by a failure. */
  readonly controller = new AbortController();
  /** Aborted by a failure only: what stops a sink's retries (a graceful stop waits for them). */
  private readonly failController = new AbortController();
  private firstFailure: RunError | undefined;
  readonly stats = new Map<string, NodeStats>();
  /** The input queue of each node that runs in the main thread (a segment's head feeds its workers). */
  readonly queues = new Map<string, BoundedQueue<Envelope>>();
  /** node → port → the queues of its consumers outside the node's segment. */
  private readonly routes = new Map<string, Map<string, BoundedQueue<Envelope>[]>>();

  /** `insideSegment`: segment nodes other than heads (their edges stay in the workers). */
  constructor(
    readonly spec: CompiledSpec,
    readonly insideSegment: ReadonlySet<string>,
    private readonly opts: StateOptions,
  ) {
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
    const targets = this.routes.get(name)!.get(port);
    if (!targets) return undefined; // a port nobody reads: counted, then dropped (validation warned)
    if (targets.length === 1) {
      ack?.retain();
      return targets[0]!.push({ records, ack });
    }
    return this.fanOut(targets, records, ack);
  }

  private async fanOut(targets: BoundedQueue<Envelope>[], records: Batch, ack: Ack | null): Promise<void> {
    for (let i = 0; i < targets.length; i++) {
      ack?.retain();
      // Fan-out shares the records; each consumer gets its own array (or its own bytes: a
      // worker pool may transfer a block's memory to a thread).
      await targets[i]!.push({ records: i === 0 ? records : copyBatch(records), ack });
    }
  }

  /** The node produces nothing more: each consumer's queue loses one producer. */
  endOutputs(name: string): void {
    for (const qs of this.routes.get(name)!.values()) for (const q of qs) q.end();
  }

  /** Counts a worker thread sent back for the segment's nodes. */
  applyDeltas(deltas: readonly NodeDelta[]): void {
    for (const d of deltas) {
      const st = this.stats.get(d.node)!;
      st.received(d.in);
      for (const p in d.out) st.emitted(p, d.out[p]!);
      for (const k in d.add) st.add(k, d.add[k]!);
      for (const k in d.set) st.set(k, d.set[k]!);
    }
  }

  /** A main-thread plugin's context: its node's metrics, the run's signal (or `signal`), `shared`. */
  contextFor(node: CompiledNode, shared?: SharedHolder, signal: AbortSignal = this.controller.signal): PluginContext {
    const st = this.stats.get(node.name)!;
    return makeContext({
      pipeline: this.spec.name,
      node: node.name,
      logger: this.opts.logger,
      metrics: { add: (n, v = 1) => st.add(n, v), set: (n, v) => st.set(n, v) },
      signal,
      stateDir: this.opts.stateDir,
      once: this.opts.once,
      shared,
    });
  }
}

function copyBatch(b: Batch): Batch {
  return Array.isArray(b) ? (b as Rec[]).slice() : { ...b, bytes: b.bytes.slice() };
}
