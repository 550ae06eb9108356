/**
 * One copy of a parallel segment: the segment's nodes created with a context whose counts and
 * metrics go to per-node deltas (sent back with each result), and the chain driver over them. A
 * worker thread builds one (worker.ts); so does the main thread when it runs the chain as one of
 * the copies (main-copy.ts). Both end the chain the same way: outputs of one node and port joined
 * into one batch, outputs read by sinks that encode turned into their encoded batches.
 */
import type { EncodedBatch, Logger, PluginDef, ProcessorInstance, Rec, SinkEncoder } from '../api.js';
import { makeContext } from './context.js';
import { SharedHolder } from './prepare.js';
import type { NodeDelta } from './wire.js';
import { ChainDriver, type ChainStep, type StepCounter } from './chain.js';
import { asRunError } from './run-error.js';
import type { Segment } from './segments.js';
import { blockOrigin, type Batch } from '../record.js';
import { checkEncoded, transferOfEncoded, type EncodedRoute } from './sink-encode.js';

/** Records leaving the segment: [node, port, records]. */
export type Leaving = Array<[string, string, Rec[]]>;
/** Encoded batches for sinks: [node, port, sink, batch] (the batch's `transfer` list left out). */
export type EncodedWire = Array<[string, string, string, EncodedBatch]>;

/** A node's counts since the last message that carried them back. */
class DeltaCounter implements StepCounter {
  delta: NodeDelta;
  /** Plugin metrics are dropped while set (see `StepCounter.mute`). */
  muted = false;
  constructor(readonly node: string) {
    this.delta = DeltaCounter.fresh(node);
  }
  static fresh(node: string): NodeDelta {
    return { node, in: 0, out: {}, add: {}, set: {} };
  }
  received(n: number): void {
    this.delta.in += n;
  }
  emitted(port: string, n: number): void {
    this.delta.out[port] = (this.delta.out[port] ?? 0) + n;
  }
  mute(on: boolean): void {
    this.muted = on;
  }
  take(): NodeDelta {
    const d = this.delta;
    this.delta = DeltaCounter.fresh(this.node);
    return d;
  }
}

/** The same, with what an observed run also reports (see observer.ts). */
class ObservedCounter extends DeltaCounter {
  busy(ms: number): void {
    this.delta.ms = (this.delta.ms ?? 0) + ms;
  }
}

export interface CopyOptions {
  pipeline: string;
  /** The copy's logger (a worker's own, or the run's with the copy's name bound). */
  logger: Logger & { child?(b: object): Logger };
  /** The run is observed: process time per batch, labelled metrics and observations. */
  observed: boolean;
  signal: AbortSignal;
  stateDir: string;
  once: boolean;
  /** This copy's place among a by-key segment's copies (its by-key nodes' `ctx.share`). */
  share?: { index: number; count: number };
}

/** A created copy: its instances, prepared-value holders by node, the driver, the deltas since last taken. */
export interface Copy {
  readonly instances: ProcessorInstance[];
  readonly holders: Map<string, SharedHolder>;
  readonly driver: ChainDriver<Leaving>;
  take(): NodeDelta[];
  /**
   * Whether the records `node` emits for `batch` can be made again later by `replay`: every node on
   * the path from the head to it is `parallel: 'any'`, or `'by-origin'` with the batch's source
   * settled already (its `settledState` answers). Asked before the batch runs.
   */
  replayable(batch: Batch, node: string): boolean;
  /**
   * The records `node` emitted on `port` for `batch`, made again: the nodes on the path from the
   * head to it run the batch once more, their counts and metrics muted, nothing handed on (batch
   * summaries, projection.ts: the whole records of a refused summary).
   */
  replay(batch: Batch, node: string, port: string): Promise<Rec[]>;
}

/** The steps from the head of `seg` to step `k`, each with the port that feeds the next one. */
function pathTo(seg: Segment, k: number): Array<{ step: number; port?: string }> {
  const path: Array<{ step: number; port?: string }> = [{ step: k }];
  for (let at = k; at > 0; ) {
    const name = seg.nodes[at]!;
    let parent = -1;
    let port: string | undefined;
    for (const [from, list] of Object.entries(seg.branches ?? {})) {
      const b = list.find(([, n]) => n === name);
      if (b) {
        parent = seg.nodes.indexOf(from);
        port = b[0];
      }
    }
    if (parent === -1) {
      parent = at - 1;
      port = seg.feeds[seg.nodes[parent]!];
    }
    path.unshift({ step: parent, port });
    at = parent;
  }
  return path;
}

/**
 * Create the segment's nodes (`defs[k]` and `configs[k]` for `seg.nodes[k]`, configs frozen) over
 * the prepared values in `shared`. On a failure, the instances created so far are closed.
 */
export async function createCopy(
  seg: Segment,
  defs: readonly PluginDef[],
  configs: readonly unknown[],
  shared: Record<string, unknown>,
  o: CopyOptions,
): Promise<Copy> {
  const counters = seg.nodes.map((n) => (o.observed ? new ObservedCounter(n) : new DeltaCounter(n)));
  const instances: ProcessorInstance[] = [];
  const holders = new Map<string, SharedHolder>();
  const steps: ChainStep[] = [];
  for (let k = 0; k < seg.nodes.length; k++) {
    const name = seg.nodes[k]!;
    const holder = Object.hasOwn(shared, name) ? new SharedHolder(shared[name]) : undefined;
    if (holder) holders.set(name, holder);
    const counter = counters[k]!;
    const ctx = makeContext({
      shared: holder,
      pipeline: o.pipeline,
      node: name,
      logger: o.logger,
      metrics: {
        add: (m, v = 1, l) => {
          if (counter.muted) return;
          const d = counter.delta;
          if (!l) d.add[m] = (d.add[m] ?? 0) + v;
          else if (o.observed) (d.lab ??= []).push(['add', m, v, l]);
        },
        set: (m, v, l) => {
          if (counter.muted) return;
          if (!l) counter.delta.set[m] = v;
          else if (o.observed) (counter.delta.lab ??= []).push(['set', m, v, l]);
        },
        observe: (m, v, l) => {
          if (counter.muted) return;
          if (o.observed) (counter.delta.obs ??= []).push([m, v, l]);
        },
      },
      signal: o.signal,
      stateDir: o.stateDir,
      once: o.once,
      ...(o.share && seg.byKey?.[name] === 'keyed' ? { share: o.share } : {}),
    });
    let inst: ProcessorInstance;
    try {
      inst = (await defs[k]!.create(configs[k], ctx)) as ProcessorInstance;
    } catch (err) {
      await closeCopy(seg, instances).catch(() => undefined);
      throw asRunError(err, 'SLUICE_E_CREATE', name);
    }
    instances.push(inst);
    const branches = seg.branches?.[name]?.map(([p, n]) => [p, seg.nodes.indexOf(n)] as const);
    const step: ChainStep = { name, inst, holder, counter, feed: seg.feeds[name], branches, leaving: seg.leaving[name]! };
    if (seg.byKey) step.notOwned = seg.byKey[name] ?? 'skip';
    steps.push(step);
  }
  const collect = (outputs: Leaving, step: number, p: string, records: Rec[]): void => {
    outputs.push([seg.nodes[step]!, p, records]);
  };
  const byOrigin = new Set(seg.byOrigin ?? []);
  // asked of every batch: each node's path found once
  const paths = new Map<string, ReturnType<typeof pathTo>>();
  const pathOf = (node: string) => {
    let p = paths.get(node);
    if (p === undefined) paths.set(node, (p = pathTo(seg, seg.nodes.indexOf(node))));
    return p;
  };
  const replayable = (batch: Batch, node: string): boolean => {
    const origin = Array.isArray(batch) ? undefined : blockOrigin(batch);
    for (const { step } of pathOf(node)) {
      if (!byOrigin.has(seg.nodes[step]!)) continue;
      // a batch of records may mix sources: only a block is known to have one
      if (origin === undefined) return false;
      if (steps[step]!.inst.settledState?.(origin) === undefined) return false;
    }
    return true;
  };
  const replay = async (batch: Batch, node: string, port: string): Promise<Rec[]> => {
    const path = pathOf(node);
    const quiet: StepCounter = { received() {}, emitted() {} };
    const again: ChainStep[] = path.map(({ step, port: feed }, j) => ({
      name: steps[step]!.name,
      inst: steps[step]!.inst,
      counter: quiet,
      ...(j + 1 < path.length ? { feed } : {}),
      leaving: j + 1 < path.length ? [] : [port],
    }));
    const made: Rec[] = [];
    const driver = new ChainDriver<null>(again, (_tag, _step, _port, records) => {
      for (let i = 0; i < records.length; i++) made.push(records[i]!);
    });
    for (const { step } of path) counters[step]!.mute(true);
    try {
      await driver.runBatch(batch, null);
    } finally {
      for (const { step } of path) counters[step]!.mute(false);
    }
    return made;
  };
  return {
    instances,
    holders,
    driver: new ChainDriver<Leaving>(steps, collect, true),
    take: () => counters.map((c) => c.take()),
    replayable,
    replay,
  };
}

/** Close a copy's instances in order; the first failure names its node. */
export async function closeCopy(seg: Segment, instances: readonly ProcessorInstance[]): Promise<void> {
  for (let k = 0; k < instances.length; k++) {
    try {
      await instances[k]!.close?.();
    } catch (err) {
      throw asRunError(err, 'SLUICE_E_RUNTIME', seg.nodes[k], 'close failed');
    }
  }
}

/** The encoders of the sinks fed by the segment's outputs, by `node\0port`. */
export type Encoders = Map<string, { route: EncodedRoute; encoders: Array<[string, SinkEncoder]> }>;

/**
 * Encode the outputs that encoding sinks read (one batch per sink), and drop from `outputs` those
 * no other node reads: their records do not leave the copy. The encoded memory is added to
 * `transfer` (a worker sends it; the main thread's copy ignores it).
 */
export function encodeOutputs(encoders: Encoders, outputs: Leaving, transfer: ArrayBuffer[]): EncodedWire | undefined {
  let out: EncodedWire | undefined;
  let w = 0;
  for (let i = 0; i < outputs.length; i++) {
    const entry = outputs[i]!;
    const [node, port, records] = entry;
    const e = records.length ? encoders.get(`${node}\u0000${port}`) : undefined;
    if (e !== undefined) {
      for (const [sink, enc] of e.encoders) {
        let b: EncodedBatch;
        try {
          b = checkEncoded(enc.encode(records), records.length, sink);
        } catch (err) {
          throw asRunError(err, 'SLUICE_E_RUNTIME', sink, 'encode failed');
        }
        transferOfEncoded(b, transfer);
        (out ??= []).push([node, port, sink, { count: b.count, value: b.value }]);
      }
      if (!e.route.records) continue;
    }
    outputs[w++] = entry;
  }
  outputs.length = w;
  return out;
}

/**
 * Join the entries of the same node and port (one per chunk) into one, in order. The first
 * entry's array is copied before others are appended to it (it may be a plugin's own array).
 */
export function joinOutputs(outputs: Leaving): void {
  if (outputs.length < 2) return;
  const at = new Map<string, number>();
  let owned: Set<number> | undefined;
  let w = 0;
  for (let r = 0; r < outputs.length; r++) {
    const entry = outputs[r]!;
    const key = `${entry[0]}\u0000${entry[1]}`;
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, w);
      outputs[w++] = entry;
      continue;
    }
    owned ??= new Set();
    let into = outputs[i]![2];
    if (!owned.has(i)) {
      into = into.slice();
      outputs[i] = [entry[0], entry[1], into];
      owned.add(i);
    }
    const recs = entry[2];
    for (let j = 0; j < recs.length; j++) into.push(recs[j]!);
  }
  outputs.length = w;
}
