/**
 * A worker thread running one copy of a parallel segment. The main thread has compiled the spec; a
 * worker gets the segment's nodes as compiled there (plugin, module, validated and defaulted
 * config), loads the same plugin modules, creates the nodes, and for each batch runs the chain,
 * returning the records of the ports that leave the segment and the statistics of every node. It
 * does not parse or validate the spec again: that cost ≈ 0.4 s of CPU per worker at start-up,
 * spent while the main thread loads feeds on the same cores.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Outputs, PluginKind, ProcessorInstance, Rec } from '../api.js';
import { builtinRegistry } from '../plugins/builtins.js';
import { loadPluginModule } from '../plugins/registry.js';
import { createLogger } from '../log/logger.js';
import { makeContext } from './context.js';
import { SharedHolder } from './prepare.js';
import { decodeBatch, type NodeDelta, type WireBatch } from './wire.js';
import { chunksOf } from './chunks.js';
import { deepFreeze } from '../util/freeze.js';
import type { Segment } from './segments.js';

/** One node of the segment as the main thread compiled it. */
export interface WorkerNode {
  name: string;
  kind: PluginKind;
  plugin: string;
  /** `built-in`, or the module specifier to load (relative to the spec file). */
  from: string;
  /** Validated and defaulted `with:`. */
  config: unknown;
}

export interface WorkerInit {
  specFile: string;
  pipeline: string;
  /** The segment's nodes, in segment order. */
  nodes: WorkerNode[];
  segment: Segment;
  stateDir: string;
  logLevel: string;
  once: boolean;
  index: number;
}

export type ToWorker =
  /** First message: the values prepared in the main thread for the segment's nodes; create the copies. */
  | { type: 'init'; shared: Record<string, unknown> }
  | { type: 'batch'; seq: number; batch: WireBatch }
  | { type: 'update'; node: string; value: unknown }
  | { type: 'finish' }
  | { type: 'close' };
export type FromWorker =
  | { type: 'ready'; stats: NodeDelta[] }
  | { type: 'result'; seq: number; outputs: Array<[string, string, Rec[]]>; stats: NodeDelta[] }
  | { type: 'finished'; outputs: Array<[string, string, Rec[]]>; stats: NodeDelta[] }
  | { type: 'closed' }
  | { type: 'error'; message: string; stack?: string; node?: string };

const isPromise = <T>(x: unknown): x is Promise<T> => !!x && typeof (x as Promise<T>).then === 'function';

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  const seg = init.segment;
  const logger = createLogger(init.logLevel);
  const controller = new AbortController();
  const registry = builtinRegistry();
  for (const from of new Set(init.nodes.map((n) => n.from))) if (from !== 'built-in') await loadPluginModule(registry, from, init.specFile);
  const defs = init.nodes.map((n) => {
    const p = registry.get(n.kind, n.plugin);
    if (!p) throw new Error(`worker: no ${n.kind} plugin '${n.plugin}' after loading ${n.from}`);
    return p.def;
  });

  const deltas = new Map<string, NodeDelta>();
  const fresh = (node: string): NodeDelta => ({ node, in: 0, out: {}, add: {}, set: {} });
  for (const n of seg.nodes) deltas.set(n, fresh(n));
  const take = (): NodeDelta[] => {
    const out = [...deltas.values()];
    for (const n of seg.nodes) deltas.set(n, fresh(n));
    return out;
  };

  const instances: ProcessorInstance[] = [];
  const holders = new Map<string, SharedHolder>();
  /** Create the copies, once the main thread has sent what its `prepare`s built. */
  const setup = async (shared: Record<string, unknown>): Promise<void> => {
    for (let k = 0; k < init.nodes.length; k++) {
      const node = init.nodes[k]!;
      const name = node.name;
      const holder = Object.prototype.hasOwnProperty.call(shared, name) ? new SharedHolder(shared[name]) : undefined;
      if (holder) holders.set(name, holder);
      const ctx = makeContext({
        shared: holder,
        pipeline: init.pipeline,
        node: name,
        logger: logger.child({ worker: init.index }),
        metrics: {
          add: (k, v = 1) => { const d = deltas.get(name)!; d.add[k] = (d.add[k] ?? 0) + v; },
          set: (k, v) => { deltas.get(name)!.set[k] = v; },
        },
        signal: controller.signal,
        stateDir: init.stateDir,
        once: init.once,
      });
      try {
        // configs are frozen in the main thread; the structured clone received here is not
        instances.push((await defs[k]!.create(deepFreeze(node.config), ctx)) as ProcessorInstance);
      } catch (err) {
        const e = err as Error;
        port.postMessage({ type: 'error', message: `node '${name}': ${e.message}`, stack: e.stack, node: name } satisfies FromWorker);
        return;
      }
    }
    port.postMessage({ type: 'ready', stats: take() } satisfies FromWorker);
  };

  /** Feed `records` to node i and everything after it; collect what leaves the segment. */
  const runFrom = async (i: number, first: Outputs | Rec[], out: Array<[string, string, Rec[]]>, finishing: boolean): Promise<void> => {
    let input: Rec[] | undefined = Array.isArray(first) ? first : undefined;
    let produced: Outputs | undefined = Array.isArray(first) ? undefined : first;
    for (let k = i; k < seg.nodes.length; k++) {
      const name = seg.nodes[k]!;
      const d = deltas.get(name)!;
      if (input && input.length) {
        d.in += input.length;
        const r = instances[k]!.process(input);
        produced = isPromise<Outputs>(r) ? await r : r;
      }
      if (finishing && instances[k]!.finish) {
        // At the end, a node's own held records follow what its last batch produced.
        const r = instances[k]!.finish!();
        const held = isPromise<Outputs>(r) ? await r : r;
        produced = mergeOutputs(produced ?? {}, held);
      }
      const feed = seg.feeds[name];
      input = undefined;
      for (const p in produced ?? {}) {
        const recs = produced![p];
        if (!recs || recs.length === 0) continue;
        d.out[p] = (d.out[p] ?? 0) + recs.length;
        if (seg.leaving[name]!.includes(p)) out.push([name, p, recs]);
        if (p === feed) input = recs;
      }
      produced = undefined;
      if (!input && !finishing) return;
      if (!input) input = [];
    }
  };

  // One message at a time: a plugin sees one batch at a time, in order.
  let queue = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    queue = queue.then(() => handle(msg));
  });
  const handle = async (msg: ToWorker): Promise<void> => {
    try {
      if (msg.type === 'init') {
        await setup(msg.shared);
      } else if (msg.type === 'batch') {
        const outputs: Array<[string, string, Rec[]]> = [];
        const wire = msg.batch;
        // a block's records are made chunk by chunk, just before each runs (see chunks.ts)
        let chunks = 0;
        for (const recs of chunksOf(wire.kind === 'block' ? wire.block : decodeBatch(wire))) {
          await runFrom(0, recs, outputs, false);
          chunks++;
        }
        if (chunks > 1) joinOutputs(outputs);
        port.postMessage({ type: 'result', seq: msg.seq, outputs, stats: take() } satisfies FromWorker);
      } else if (msg.type === 'update') {
        // Between two batches: messages are handled one at a time, in the order they were posted.
        const holder = holders.get(msg.node);
        if (!holder) return;
        holder.current = msg.value;
        const inst = instances[seg.nodes.indexOf(msg.node)]!;
        try {
          if (inst.update) await inst.update(msg.value);
        } catch (err) {
          const e = err as Error;
          port.postMessage({ type: 'error', message: `node '${msg.node}': update failed: ${e.message}`, stack: e.stack, node: msg.node } satisfies FromWorker);
        }
      } else if (msg.type === 'finish') {
        const outputs: Array<[string, string, Rec[]]> = [];
        await runFrom(0, {}, outputs, true);
        port.postMessage({ type: 'finished', outputs, stats: take() } satisfies FromWorker);
      } else if (msg.type === 'close') {
        controller.abort();
        for (const inst of instances) await inst.close?.();
        port.postMessage({ type: 'closed' } satisfies FromWorker);
        port.close();
      }
    } catch (err) {
      const e = err as Error & { node?: string };
      port.postMessage({ type: 'error', message: e.message, stack: e.stack } satisfies FromWorker);
    }
  };
}

/** Join the entries of the same node and port (one per chunk) into one, in order. */
function joinOutputs(outputs: Array<[string, string, Rec[]]>): void {
  const at = new Map<string, Rec[]>();
  let w = 0;
  for (let r = 0; r < outputs.length; r++) {
    const [node, port, recs] = outputs[r]!;
    const key = `${node}\u0000${port}`;
    const into = at.get(key);
    if (into !== undefined) {
      for (let i = 0; i < recs.length; i++) into.push(recs[i]!);
      continue;
    }
    const own = recs.slice();
    at.set(key, own);
    outputs[w++] = [node, port, own];
  }
  outputs.length = w;
}

function mergeOutputs(a: Outputs, b: Outputs): Outputs {
  const out: Outputs = { ...a };
  for (const p in b) {
    const recs = b[p];
    if (!recs?.length) continue;
    out[p] = out[p]?.length ? [...out[p]!, ...recs] : recs;
  }
  return out;
}

main().catch((err) => {
  parentPort!.postMessage({ type: 'error', message: (err as Error).message, stack: (err as Error).stack } satisfies FromWorker);
});
