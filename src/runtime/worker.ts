/**
 * A worker thread running one copy of a parallel segment. The main thread has compiled the spec; a
 * worker gets the segment's nodes as compiled there (plugin, module, validated and defaulted
 * config), loads the same plugin modules, creates the nodes, and for each batch runs the chain,
 * returning the records of the ports that leave the segment and the statistics of every node. It
 * does not parse or validate the spec again (CPU spent at start-up, while the main thread loads
 * feeds on the same cores). Batches, updates and finishing go through the chain driver (chain.ts),
 * the same code that drives a main-thread processor.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BatchSummariser, Origin, PluginDef, PluginKind, ProcessorDef, ProcessorInstance, Rec, SinkDef, SinkEncoder } from '../api.js';
import { blockOrigin, type Batch } from '../record.js';
import { lineBlocks } from '../block-pool.js';
import { declaredBuiltinRegistry } from '../plugins/declared-builtins.js';
import { loadPluginModule, type Registry } from '../plugins/registry.js';
import { createLogger } from '../log/logger.js';
import { decodeBatch, encodeBatch, originKey, transferOf, type NodeDelta, type WireBatch } from './wire.js';
import { closeCopy, createCopy, encodeOutputs, joinOutputs, type Copy, type EncodedWire, type Encoders, type Leaving } from './copy.js';
import { asRunError, RunError, type RunErrorCode } from './run-error.js';
import { deepFreeze } from '../util/freeze.js';
import type { Segment } from './segments.js';
import { makeEncoder, type EncodedRoute } from './sink-encode.js';
import { encodeProjected, HANDLE_SPAN, heldKey, projector, type ProjectedRoute } from './projection.js';

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
  /** A by-key segment's copies (each given every batch; this one is `index` of them). */
  copies?: number;
  /** The run is observed: report process time per batch, labelled metrics and observations. */
  observed?: boolean;
  /** Outputs read by sinks that encode in the workers (sink-encode.ts): encoded here, at the chain's end. */
  encoded?: EncodedRoute[];
  /**
   * Outputs read only by main-thread nodes that declare the fields they read (projection.ts): sent
   * as projections, their whole records held here until the main thread releases their batch.
   */
  projected?: ProjectedRoute[];
}

export type { Leaving, EncodedWire };
/** The same, as they cross to the main thread (see wire.ts). */
export type LeavingWire = Array<[string, string, WireBatch]>;

export type ToWorker =
  /** First message: the values prepared in the main thread for the segment's nodes; create the copies. */
  | { type: 'init'; shared: Record<string, unknown> }
  /**
   * `settled`: the settled states of the segment's by-origin nodes (`Segment.byOrigin` order) for
   * the batch's source, when that source's batches may go to any copy (see `OriginStates`).
   */
  | { type: 'batch'; seq: number; batch: WireBatch; settled?: unknown[]; release?: string[]; notOwned?: true }
  /** The whole records at `indexes` of a held batch (`key`: see `heldKey`); answered at once. */
  | { type: 'fetch'; id: number; key: string; indexes: number[] }
  /** Held batches the main thread is done with (also carried by `batch`). */
  | { type: 'release'; keys: string[] }
  | { type: 'update'; node: string; value: unknown }
  | { type: 'finish' }
  | { type: 'close' };
export type FromWorker =
  /** `gated`: the copy's chain has a line gate (chain.ts). */
  | { type: 'ready'; stats: NodeDelta[]; gated: boolean }
  /** `settled`: the batch's source has settled in this copy (its states, as in `batch`); sent once per source. */
  /** `projected`: indexes into `outputs` of projections whose whole records this copy holds. */
  /** `free`: the shared memory the batch's block of lines came in, copied out (block-pool.ts). */
  | {
      type: 'result';
      seq: number;
      outputs: LeavingWire;
      stats: NodeDelta[];
      settled?: unknown[];
      encoded?: EncodedWire;
      projected?: number[];
      free?: SharedArrayBuffer;
    }
  | { type: 'fetched'; id: number; records: WireBatch }
  | { type: 'finished'; outputs: LeavingWire; stats: NodeDelta[]; encoded?: EncodedWire }
  | { type: 'closed' }
  /** `message` without the node prefix; the main thread rebuilds the RunError from code and node. */
  | { type: 'error'; message: string; stack?: string; node?: string; code?: RunErrorCode };

/**
 * An output's memory (encoded batches, records in their wire form) smaller than this is copied to
 * the main thread, not transferred: a transfer detaches the buffer in this thread, and the first
 * detach costs the thread its optimised typed-array code (block-pool.ts). An archive's encoded
 * batches, larger, still move.
 */
const TRANSFER_MIN_BYTES = 1 << 20;

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  const seg = init.segment;
  const logger = createLogger(init.logLevel);
  const controller = new AbortController();
  const defs = await loadDefs(init);
  const encoders = await loadEncoders(init);
  const summarisers = await loadSummarisers(init);
  const summaryNodes = [...new Set((init.projected ?? []).flatMap((r) => (r.summary ? [r.node] : [])))];
  let copy: Copy | undefined;
  let origins: OriginStates | undefined;
  const take = (): NodeDelta[] => copy!.take();
  const post = (msg: FromWorker, transfer?: ArrayBuffer[]) =>
    port.postMessage(
      msg,
      transfer?.filter((ab) => ab.byteLength >= TRANSFER_MIN_BYTES),
    );

  /** Create the copies, once the main thread has sent what its `prepare`s built. */
  const setup = async (shared: Record<string, unknown>): Promise<void> => {
    // configs are frozen in the main thread; the structured clone received here is not
    const configs = init.nodes.map((n) => deepFreeze(n.config));
    copy = await createCopy(seg, defs, configs, shared, {
      pipeline: init.pipeline,
      logger: logger.child({ worker: init.index }),
      observed: !!init.observed,
      signal: controller.signal,
      stateDir: init.stateDir,
      once: init.once,
      ...(init.copies !== undefined ? { share: { index: init.index, count: init.copies } } : {}),
    });
    if (seg.byOrigin?.length) origins = new OriginStates(seg.byOrigin.map((n) => ({ name: n, inst: copy!.instances[seg.nodes.indexOf(n)]! })));
    post({ type: 'ready', stats: take(), gated: copy.driver.gated });
  };

  const projectors = new Map<string, string[]>();
  for (const r of init.projected ?? []) projectors.set(`${r.node}\u0000${r.port}`, r.fields);
  /**
   * Whole records of projected batches, by `heldKey`, until released; for a summarised batch whose
   * records can be made again (`Copy.replayable`), the input batch instead (a block's bytes: nothing
   * for the collector to copy), replayed if they are asked for.
   */
  const held = new Map<string, Rec[] | Replay>();
  const release = (keys: readonly string[]) => {
    for (const k of keys) held.delete(k);
  };

  // One message at a time: a plugin sees one batch at a time, in order. Fetches and releases of
  // held records are answered at once (they touch nothing a batch uses), in the order they came.
  let queue = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'fetch') {
      const answer = (recs: Rec[]) => {
        const wire = encodeBatch(msg.indexes.map((i) => recs[i]!));
        post({ type: 'fetched', id: msg.id, records: wire }, transferOf(wire));
      };
      try {
        const recs = held.get(msg.key);
        if (recs === undefined)
          throw new RunError('SLUICE_E_WORKER', undefined, `records of a released batch were asked for (${msg.key.split('\u0000').join('.')})`);
        if (Array.isArray(recs)) return answer(recs);
        // made again by the chain: in turn with the batches, as plugins see one batch at a time
        const again = recs;
        queue = queue.then(async () => {
          try {
            answer(await copy!.replay(again.input, again.node, again.port));
          } catch (err) {
            postError(err);
          }
        });
        return;
      } catch (err) {
        return postError(err);
      }
    }
    if (msg.type === 'release') return release(msg.keys);
    if (msg.type === 'batch' && msg.release) release(msg.release);
    queue = queue.then(() => handle(msg));
  });
  const handle = async (msg: ToWorker): Promise<void> => {
    try {
      switch (msg.type) {
        case 'init':
          return await setup(msg.shared);
        case 'batch': {
          const outputs: Leaving = [];
          const wire = msg.batch;
          // a block's records are made chunk by chunk, just before each runs (see chunks.ts)
          let input = wire.kind === 'block' ? wire.block : decodeBatch(wire);
          // a block of lines arrives in shared memory: read from a copy in this thread's pool (block-pool.ts)
          let shared: SharedArrayBuffer | undefined;
          if (!Array.isArray(input) && input.kind === 'lines' && input.bytes.buffer instanceof SharedArrayBuffer) {
            shared = input.bytes.buffer;
            const bytes = lineBlocks.take(input.bytes.length);
            bytes.set(input.bytes);
            input = { ...input, bytes };
          }
          if (msg.settled) origins?.adopt(input, msg.settled);
          // summarised outputs whose records could be made again from the input: asked before the run
          const again = summaryNodes.length && !Array.isArray(input) ? summaryNodes.filter((n) => copy!.replayable(input, n)) : undefined;
          await copy!.driver.runBatch(input, outputs, msg.notOwned !== true);
          const settled = origins?.settled(input);
          if (init.observed) copy!.driver.reportBusy(); // this batch's times go back with its result
          joinOutputs(outputs);
          const transfer: ArrayBuffer[] = [];
          const encoded = encoders && encodeOutputs(encoders, outputs, transfer);
          const wires = new Map<number, WireBatch>();
          const projected = projectors.size ? project(outputs, msg.seq, wires, again?.length ? { input, nodes: again } : undefined) : undefined;
          const result: FromWorker = { type: 'result', seq: msg.seq, outputs: toWire(outputs, transfer, wires), stats: take() };
          if (projected) result.projected = projected;
          if (settled) result.settled = settled;
          if (encoded) result.encoded = encoded;
          // The shared memory goes back to the main thread's pool; this thread's copy to its own, unless it is held for a replay.
          if (shared !== undefined) {
            result.free = shared;
            if (!again?.length && !Array.isArray(input)) lineBlocks.release(input);
          }
          return post(result, transfer);
        }
        case 'update':
          // Applied by the driver before the next batch (or finish): messages are handled in the
          // order they were posted, so batches submitted after the publish see the new value.
          return copy?.holders.get(msg.node)?.offer(msg.value);
        case 'finish': {
          const outputs: Leaving = [];
          // a by-key segment's copies all saw every batch: what their muted nodes hold is the first copy's to send
          await copy!.driver.finish(outputs, init.copies === undefined || init.index === 0);
          joinOutputs(outputs);
          const transfer: ArrayBuffer[] = [];
          const encoded = encoders && encodeOutputs(encoders, outputs, transfer);
          const done: FromWorker = { type: 'finished', outputs: toWire(outputs, transfer), stats: take() };
          if (encoded) done.encoded = encoded;
          return post(done, transfer);
        }
        case 'close':
          controller.abort();
          if (copy) await closeCopy(seg, copy.instances);
          post({ type: 'closed' });
          return port.close();
      }
    } catch (err) {
      postError(err);
    }
  };

  /**
   * Encode the outputs sent as projections (into `wires`, by index), holding their records until
   * released; the indexes of those outputs, or undefined when none.
   */
  function project(outputs: Leaving, seq: number, wires: Map<number, WireBatch>, again?: { input: Batch; nodes: string[] }): number[] | undefined {
    let out: number[] | undefined;
    for (let i = 0; i < outputs.length; i++) {
      const [node, p, records] = outputs[i]!;
      const route = `${node}\u0000${p}`;
      const fields = projectors.get(route);
      if (fields === undefined || records.length === 0 || records.length > HANDLE_SPAN) continue;
      (out ??= []).push(i);
      const summariser = summarisers?.get(route);
      if (summariser !== undefined) {
        let value: unknown;
        try {
          value = summariser.summarise(records);
        } catch (err) {
          throw asRunError(err, 'SLUICE_E_RUNTIME', summariser.node, 'summarise failed');
        }
        if (value !== undefined) {
          wires.set(i, { kind: 'summary', n: records.length, value });
          held.set(heldKey(seq, route), again?.nodes.includes(node) ? { input: again.input, node, port: p } : records);
          continue;
        }
      }
      held.set(heldKey(seq, route), records);
      const wire = encodeProjected(records, fields);
      if (wire !== undefined) wires.set(i, wire);
      else {
        const proj = projector(fields);
        outputs[i] = [node, p, records.map((r) => proj(r))];
      }
    }
    return out;
  }
}

/**
 * The per-source state of a by-origin segment's nodes in this copy, as far as the pool must know it:
 * after a batch, whether its source has settled in every by-origin node (`settledState`), reported
 * once; before a batch dealt here after it settled elsewhere, the states to adopt (`adoptState`),
 * once. A node without `settledState` never settles: its sources stay with one copy.
 */
class OriginStates {
  /** Sources whose settled state this copy reported or adopted. */
  private readonly known = new Set<string>();
  constructor(private readonly nodes: Array<{ name: string; inst: ProcessorInstance }>) {}

  private static origin(batch: Batch): Origin | null {
    if (!Array.isArray(batch)) return blockOrigin(batch);
    return batch[0]?.origin ?? null;
  }

  adopt(batch: Batch, states: unknown[]): void {
    const key = originKey(batch);
    if (this.known.has(key)) return;
    const origin = OriginStates.origin(batch);
    for (let i = 0; i < this.nodes.length; i++) {
      const { name, inst } = this.nodes[i]!;
      try {
        inst.adoptState?.(origin, states[i]);
      } catch (err) {
        throw asRunError(err, 'SLUICE_E_RUNTIME', name, 'adoptState failed');
      }
    }
    this.known.add(key);
  }

  settled(batch: Batch): unknown[] | undefined {
    const key = originKey(batch);
    if (this.known.has(key)) return undefined;
    const origin = OriginStates.origin(batch);
    const states: unknown[] = [];
    for (const { name, inst } of this.nodes) {
      if (inst.settledState === undefined || inst.adoptState === undefined) return undefined;
      let s: unknown;
      try {
        s = inst.settledState(origin);
      } catch (err) {
        throw asRunError(err, 'SLUICE_E_RUNTIME', name, 'settledState failed');
      }
      if (s === undefined) return undefined;
      states.push(s);
    }
    this.known.add(key);
    return states;
  }
}

/** Load the plugin modules the segment's nodes come from, and find each node's plugin. */
/**
 * The worker's plugins: built-ins declared, and only the modules of those the segment's nodes and
 * encoding sinks name are imported (a worker of a file → file sweep does not load Kafka or HDFS).
 */
let workerRegistry: Registry | undefined;
const loadedFroms = new Set<string>();

async function pluginDef(kind: PluginKind, name: string, from: string, specFile: string): Promise<PluginDef> {
  workerRegistry ??= declaredBuiltinRegistry();
  if (from !== 'built-in' && !loadedFroms.has(from)) {
    loadedFroms.add(from);
    await loadPluginModule(workerRegistry, from, specFile);
  }
  const p = await workerRegistry.load(kind, name);
  if (!p) throw new Error(`worker: no ${kind} plugin '${name}' after loading ${from}`);
  return p.def;
}

async function loadDefs(init: WorkerInit): Promise<PluginDef[]> {
  const defs: PluginDef[] = [];
  for (const n of init.nodes) defs.push(await pluginDef(n.kind, n.plugin, n.from, init.specFile));
  return defs;
}

async function loadEncoders(init: WorkerInit): Promise<Encoders | undefined> {
  if (!init.encoded?.length) return undefined;
  const out: Encoders = new Map();
  for (const route of init.encoded) {
    const encoders: Array<[string, SinkEncoder]> = [];
    for (const s of route.sinks) {
      const def = await pluginDef('sink', s.plugin, s.from, init.specFile);
      try {
        encoders.push([s.sink, makeEncoder(def as SinkDef, deepFreeze(s.config))]);
      } catch (err) {
        throw asRunError(err, 'SLUICE_E_CREATE', s.sink);
      }
    }
    out.set(`${route.node}\u0000${route.port}`, { route, encoders });
  }
  return out;
}

/** A held summarised batch whose records are made again from its input when asked for (`Copy.replay`). */
interface Replay {
  input: Batch;
  node: string;
  port: string;
}

/** The summarisers of the outputs whose reader summarises them (projection.ts, `SummaryRoute`), by `node\0port`. */
async function loadSummarisers(init: WorkerInit): Promise<Map<string, BatchSummariser & { node: string }> | undefined> {
  const routes = (init.projected ?? []).filter((r) => r.summary !== undefined);
  if (!routes.length) return undefined;
  const out = new Map<string, BatchSummariser & { node: string }>();
  for (const r of routes) {
    const s = r.summary!;
    const def = (await pluginDef(s.kind, s.plugin, s.from, init.specFile)) as ProcessorDef;
    try {
      const made = def.batchSummary!.create(deepFreeze(s.config));
      out.set(`${r.node}\u0000${r.port}`, { node: s.reader, summarise: (records) => made.summarise(records) });
    } catch (err) {
      throw asRunError(err, 'SLUICE_E_CREATE', s.reader, 'batchSummary.create failed');
    }
  }
  return out;
}

/** Report a failure to the main thread: a plugin's names its node, anything else is the worker's. */
function postError(err: unknown): void {
  const e = err instanceof RunError ? err : asRunError(err, 'SLUICE_E_WORKER');
  const cause = e.cause as Error | undefined;
  parentPort!.postMessage({ type: 'error', message: e.detail, stack: cause?.stack ?? e.stack, node: e.node, code: e.code } satisfies FromWorker);
}

/** The records leaving the segment in their wire form (see wire.ts), the memory to transfer added to `transfer`. */
function toWire(outputs: Leaving, transfer: ArrayBuffer[], made?: ReadonlyMap<number, WireBatch>): LeavingWire {
  const out: LeavingWire = new Array(outputs.length);
  for (let i = 0; i < outputs.length; i++) {
    const [node, port, records] = outputs[i]!;
    const wire = made?.get(i) ?? encodeBatch(records);
    for (const b of transferOf(wire)) transfer.push(b);
    out[i] = [node, port, wire];
  }
  return out;
}

main().catch(postError);
