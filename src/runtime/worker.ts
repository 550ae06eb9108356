/**
 * A worker thread running one copy of a parallel segment. It compiles the same spec as the main
 * thread (same text, same variables, same plugin modules), creates the segment's nodes, and for
 * each batch runs the chain, returning the records of the ports that leave the segment and the
 * statistics of every node.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Outputs, ProcessorInstance, Rec } from '../api.js';
import { builtinRegistry } from '../plugins/builtins.js';
import { loadSpec } from '../spec/validate.js';
import { createLogger } from '../cli/logger.js';
import { makeContext } from './context.js';
import { SharedHolder } from './prepare.js';
import { decodeBatch, type NodeDelta, type WireBatch } from './wire.js';
import { CHUNK } from './chunks.js';
import type { Segment } from './segments.js';

export interface WorkerInit {
  specFile: string;
  text: string;
  vars: Record<string, string | undefined>;
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
  const { spec, issues } = await loadSpec(init.specFile, { text: init.text, vars: init.vars, registry: builtinRegistry() });
  if (!spec) throw new Error(`worker could not compile the spec: ${issues.map((i) => i.message).join('; ')}`);

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
    for (const name of seg.nodes) {
      const node = spec.nodes.get(name)!;
      const holder = Object.prototype.hasOwnProperty.call(shared, name) ? new SharedHolder(shared[name]) : undefined;
      if (holder) holders.set(name, holder);
      const ctx = makeContext({
        shared: holder,
        pipeline: spec.name,
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
        instances.push((await node.plugin.def.create(node.config, ctx)) as ProcessorInstance);
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
        const records = decodeBatch(msg.batch);
        const outputs: Array<[string, string, Rec[]]> = [];
        if (records.length <= CHUNK) await runFrom(0, records, outputs, false);
        else {
          for (let i = 0; i < records.length; i += CHUNK) await runFrom(0, records.slice(i, i + CHUNK), outputs, false);
          joinOutputs(outputs);
        }
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
