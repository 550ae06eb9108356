/** The main thread's side of a parallel segment: N worker threads, batches in, results in order. */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve, dirname } from 'node:path';
import { copyBlock, type Batch, type Rec } from '../record.js';
import { giveBack, lineBlocks } from '../block-pool.js';
import type { CompiledSpec } from '../graph/build.js';
import { findSegments, segmentLabel, type Segment } from './segments.js';
import type { EncodedWire, FromWorker, LeavingWire, ToWorker, WorkerInit } from './worker.js';
import type { EncodedRoute } from './sink-encode.js';
import { decodeBatch, encodeForWorker, originKey, type NodeDelta } from './wire.js';
import { RunError } from './run-error.js';
import { forgetHeld, heldKey, hold, type ProjectedRoute } from './projection.js';

/**
 * Young-generation size of a worker thread. A worker's records live for one chunk (`CHUNK`) and die
 * young, so the young generation needs room for a few chunks, not more: each worker keeps what it
 * is given committed, which counts in the run's peak RSS once per worker. (Measurements behind the
 * size: bench/RESULTS.md, "Figures behind code comments".)
 */
const WORKER_YOUNG_GENERATION_MB = 16;

/**
 * The same for a by-key segment's copies, which keep state that lives (a window's panes): with the
 * small young generation it is promoted early and the old generation's collections grow.
 */
const KEYED_YOUNG_GENERATION_MB = 64;

/** Released held batches (projection.ts) a copy is told about in one message when no batch carries them. */
const RELEASES_PER_MESSAGE = 8;

/**
 * Batches a copy may have submitted but not released when it holds whole records for the main
 * thread (projection.ts): running, waiting, or held while their projections wait for their readers.
 * Held records outlive young-generation collections in the copy; fewer held, fewer promoted.
 */
const HELD_PER_COPY = 4;

export interface SegmentResult {
  readonly outputs: Array<[string, string, Rec[]]>;
  stats: NodeDelta[];
  /** The batch's source settled in the copy that ran it: the states its other copies adopt. */
  readonly settled?: unknown[];
  /** Batches encoded for sinks in the worker (sink-encode.ts): [node, port, sink, batch]. */
  readonly encoded?: EncodedWire;
}

/** How a copy's projected outputs are held (projection.ts): their readers, and the release of a batch. */
interface Projection {
  /** Readers per `node\0port`. */
  readers: Map<string, number>;
  owner: object;
  release(w: SegmentWorker, key: string): void;
}

/** A result's outputs that are projections: their indexes, the batch, the copy holding the records. */
interface HeldOutputs {
  indexes: number[];
  seq: number;
  worker: SegmentWorker;
  projection: Projection;
}

/**
 * A worker's result, its records built from their wire form when first read: when the runner
 * dispatches them, not when the message arrives (results arrive ahead of their turn, and records
 * built early would outlive the young generation's collections while they wait).
 */
class WireResult implements SegmentResult {
  private built: Array<[string, string, Rec[]]> | undefined;
  constructor(
    private wire: LeavingWire | undefined,
    readonly stats: NodeDelta[],
    /** `node\0port` of the outputs read by another segment's workers (see `forwardedPorts`). */
    private readonly forwarded: ReadonlySet<string>,
    readonly settled?: unknown[],
    readonly encoded?: EncodedWire,
    private readonly held?: HeldOutputs,
  ) {}
  get outputs(): Array<[string, string, Rec[]]> {
    if (this.built === undefined) {
      // kept: records handed on to another segment's workers cross in the wire they came in (wire.ts)
      const keep = this.forwarded;
      this.built = (this.wire ?? []).map(([node, port, w]) => [node, port, decodeBatch(w, keep.size > 0 && keep.has(`${node}\0${port}`))]);
      this.wire = undefined;
      const h = this.held;
      if (h !== undefined) {
        // projections: each gets its handle, the whole records stay in the copy until released
        for (const i of h.indexes) {
          const [node, port, records] = this.built[i]!;
          const key = heldKey(h.seq, `${node}\0${port}`);
          const readers = h.projection.readers.get(`${node}\0${port}`) ?? 1;
          hold(
            records,
            readers,
            h.projection.owner,
            (indexes) => h.worker.fetch(key, indexes),
            () => h.projection.release(h.worker, key),
          );
        }
      }
    }
    return this.built;
  }
}

/** The results of one batch's copies in a by-key segment (every copy runs every batch), as one, in copy order. */
class JointResult implements SegmentResult {
  readonly stats: NodeDelta[];
  readonly encoded?: EncodedWire;
  constructor(private readonly parts: readonly SegmentResult[]) {
    this.stats = parts.flatMap((r) => r.stats);
    const encoded = parts.flatMap((r) => r.encoded ?? []);
    if (encoded.length) this.encoded = encoded;
  }
  get outputs(): Array<[string, string, Rec[]]> {
    return this.parts.flatMap((r) => r.outputs);
  }
}

/**
 * The outputs of `segment` (as `node\0port`) that the head of another parallel segment reads: their
 * records go on to worker threads again, so their wire is kept beside them to be sent as it came.
 * Others (a sink's, a window's input) are not kept: the wire's memory is freed with the message.
 */
export function forwardedPorts(spec: CompiledSpec, segment: Segment, n: number): Set<string> {
  const heads = new Set(findSegments(spec, n).map((s) => s.nodes[0]!));
  const out = new Set<string>();
  for (const name of heads) {
    if (segment.nodes.includes(name)) continue;
    for (const input of spec.nodes.get(name)!.inputs) if (segment.nodes.includes(input.node)) out.add(`${input.node}\0${input.port}`);
  }
  return out;
}

/** The compiled worker script (tests run the TypeScript sources; workers always run the build). */
function workerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = resolve(here, 'worker.js');
  if (existsSync(beside)) return beside;
  const built = resolve(here, '../../dist/src/runtime/worker.js');
  if (existsSync(built)) return built;
  throw new Error('worker script not found: run npm run build');
}

interface Pending {
  resolve(r: SegmentResult): void;
  reject(e: Error): void;
}

class SegmentWorker {
  readonly worker: Worker;
  outstanding = 0;
  private readonly waiting = new Map<number | string, Pending>();
  private readonly fetches = new Map<number, { resolve(r: Rec[]): void; reject(e: Error): void }>();
  private fetchSeq = 0;
  /** Held batches released on the main thread, not yet told to the copy. */
  releases: string[] = [];
  /** Batches whose whole records the copy holds for the main thread (projection.ts), not released yet. */
  held = 0;
  /** The copy's chain has a line gate (told when it is ready). */
  gated = false;
  private failed: Error | undefined;

  get broken(): boolean {
    return this.failed !== undefined;
  }

  constructor(
    init: WorkerInit,
    onFatal: (e: Error) => void,
    private readonly onResult: () => void,
    forwarded: ReadonlySet<string>,
    projection?: Projection,
  ) {
    const label = segmentLabel(init.segment);
    const young = init.copies !== undefined ? KEYED_YOUNG_GENERATION_MB : WORKER_YOUNG_GENERATION_MB;
    this.worker = new Worker(workerScript(), { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: young } });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'error') {
        // A plugin's failure names its node; anything else in the thread names the segment.
        const e = new RunError(m.code ?? 'SLUICE_E_WORKER', m.node ?? label, m.message);
        if (m.stack) e.stack = `${e.name}: ${e.message}\nIn worker thread ${init.index}: ${m.stack}`;
        this.failAll(e);
        onFatal(e);
        return;
      }
      if (m.type === 'fetched') {
        const f = this.fetches.get(m.id);
        this.fetches.delete(m.id);
        f?.resolve(decodeBatch(m.records));
        return;
      }
      if (m.type === 'ready') this.gated = m.gated;
      const key = m.type === 'result' ? m.seq : m.type;
      const p = this.waiting.get(key);
      if (!p) return;
      this.waiting.delete(key);
      if (m.type === 'result') {
        if (m.free !== undefined) giveBack(m.free);
        this.outstanding--;
        if (m.projected && projection) this.held++;
        this.onResult();
      }
      p.resolve(
        m.type === 'result' || m.type === 'finished' || m.type === 'ready'
          ? new WireResult(
              'outputs' in m ? m.outputs : undefined,
              m.stats,
              forwarded,
              m.type === 'result' ? m.settled : undefined,
              m.type === 'ready' ? undefined : m.encoded,
              m.type === 'result' && m.projected && projection ? { indexes: m.projected, seq: m.seq, worker: this, projection } : undefined,
            )
          : new WireResult(undefined, [], forwarded),
      );
    });
    this.worker.on('error', (err) => {
      const e = new RunError('SLUICE_E_WORKER', label, `worker thread ${init.index} failed: ${err.message}`, err);
      this.failAll(e);
      onFatal(e);
    });
    this.worker.on('exit', (code) => {
      if (this.waiting.size) this.failAll(new RunError('SLUICE_E_WORKER', label, `worker thread ${init.index} exited (code ${code}) with work outstanding`));
    });
  }

  private failAll(e: Error): void {
    this.failed = e;
    this.onResult(); // wake anyone waiting for room on this copy
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
    for (const f of this.fetches.values()) f.reject(e);
    this.fetches.clear();
  }

  /** The whole records at `indexes` of the batch the copy holds under `key` (posted now). */
  fetch(key: string, indexes: number[]): Promise<Rec[]> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.fetchSeq++;
    return new Promise((res, rej) => {
      this.fetches.set(id, { resolve: res, reject: rej });
      try {
        this.worker.postMessage({ type: 'fetch', id, key, indexes } satisfies ToWorker);
      } catch (err) {
        this.fetches.delete(id);
        rej(err);
      }
    });
  }

  /** Tell the copy about the batches released so far (when not carried by a batch). */
  flushReleases(): void {
    if (this.releases.length === 0 || this.failed) return;
    const keys = this.releases;
    this.releases = [];
    this.worker.postMessage({ type: 'release', keys } satisfies ToWorker);
  }

  request(key: number | string, msg: ToWorker | null, transfer: ArrayBuffer[] = []): Promise<SegmentResult> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((res, rej) => {
      this.waiting.set(key, { resolve: res, reject: rej });
      if (msg) {
        try {
          this.worker.postMessage(msg, transfer);
        } catch (err) {
          this.waiting.delete(key);
          rej(err);
          return;
        }
        if (msg.type === 'batch') this.outstanding++;
      }
    });
  }
}

function cloneError(err: unknown, nodes: string[]): Error {
  const e = err as Error;
  if (e?.name !== 'DataCloneError') return e;
  const detail = `the shared value of ${nodes.map((n) => `'${n}'`).join(', ')} cannot be sent to worker threads (${e.message}); values given by prepare or publish must be structured-cloneable`;
  return new RunError('SLUICE_E_SHARED_VALUE', nodes.length === 1 ? nodes[0] : undefined, detail, e);
}

export class WorkerPool {
  /** The copies started, in the order they were. */
  private readonly workers: SegmentWorker[] = [];
  /** By copy index (`target`'s choice): undefined until that copy is started. */
  private readonly slots: Array<SegmentWorker | undefined>;
  private seq = 0;
  /** A by-origin segment's copy for each source (file, or topic/partition) seen so far. */
  private readonly byOrigin = new Map<string, SegmentWorker>();
  /**
   * The sources of a by-origin segment whose state has settled (every by-origin node's
   * `settledState` answered in the copy that had them), with those states: their later batches go
   * to any copy, carrying the states for a copy that has not seen the source.
   */
  private readonly settled = new Map<string, unknown[]>();
  private dealt = 0;
  /** The prepared values given to the copies (kept current by `publish`), for a copy started later. */
  private shared: Record<string, unknown> | undefined;

  private constructor(
    readonly segment: Segment,
    private readonly n: number,
    private readonly initFor: (index: number) => WorkerInit,
    private readonly onFatal: (e: Error) => void,
    private readonly forwarded: ReadonlySet<string>,
    projected: readonly ProjectedRoute[] = [],
  ) {
    this.slots = new Array(n).fill(undefined);
    if (projected.length)
      this.projection = {
        readers: new Map(projected.map((r) => [`${r.node}\0${r.port}`, r.readers])),
        owner: this,
        release: (w, key) => {
          w.held--;
          // told to the copy with its next batch, or every few batches on their own
          if (w.releases.push(key) >= RELEASES_PER_MESSAGE) w.flushReleases();
          this.wakeRoom();
        },
      };
  }

  private readonly projection: Projection | undefined;

  /** Whether the copies' chain has a line gate (chain.ts): known once `init` resolved. */
  get gated(): boolean {
    return this.workers[0]?.gated ?? false;
  }

  /** Copies started so far (a by-origin segment starts the others when a source first needs them). */
  get started(): number {
    return this.workers.length;
  }

  private start(index: number): SegmentWorker {
    const w = new SegmentWorker(this.initFor(index), this.onFatal, () => this.wakeRoom(), this.forwarded, this.projection);
    this.slots[index] = w;
    this.workers.push(w);
    return w;
  }

  /**
   * Start the workers: each loads the plugin modules of the segment's nodes at once (while the main
   * thread runs the `prepare`s), then waits for `init`. A segment that keeps state per source
   * (`by-origin`) sends all of one source's batches to one copy (until the source's state settles,
   * see `settled`), so it starts one copy now and each other copy when a source is first given to
   * it, or a settled source's batch finds every started copy busy: a sweep of one file whose state
   * never settles never starts a copy it cannot use (a worker's isolate and modules are ≈ 17 MiB).
   * A `deferred` pool starts none: `grow` starts them during the run (workers.ts `grow`).
   */
  static launch(
    spec: CompiledSpec,
    segment: Segment,
    n: number,
    o: { stateDir: string; logLevel: string; once: boolean; observed?: boolean; encoded?: EncodedRoute[]; projected?: ProjectedRoute[]; deferred?: boolean },
    onFatal: (e: Error) => void,
  ): WorkerPool {
    const nodes = segment.nodes.map((name) => {
      const node = spec.nodes.get(name)!;
      return { name, kind: node.kind, plugin: node.plugin.def.name, from: node.plugin.from, config: node.config };
    });
    const encoded = o.encoded ?? [];
    const projected = o.projected ?? [];
    const initFor = (index: number): WorkerInit => ({
      specFile: spec.file,
      pipeline: spec.name,
      nodes,
      segment,
      stateDir: o.stateDir,
      logLevel: o.logLevel,
      once: o.once,
      index,
      ...(segment.mode === 'by-key' ? { copies: n } : {}),
      observed: !!o.observed,
      ...(encoded.length ? { encoded } : {}),
      ...(projected.length ? { projected } : {}),
    });
    const pool = new WorkerPool(segment, n, initFor, onFatal, forwardedPorts(spec, segment, n), projected);
    const now = o.deferred ? 0 : segment.mode === 'by-origin' ? Math.min(1, n) : n;
    for (let i = 0; i < now; i++) pool.start(i);
    return pool;
  }

  /**
   * Give every copy the prepared values of the segment's nodes (SharedArrayBuffers shared, the
   * rest cloned) and let it create its instances; resolves with the statistics of the first copy
   * (create-time counters, once), none when no copy is started yet (a deferred pool).
   */
  async init(shared: Record<string, unknown>): Promise<NodeDelta[]> {
    this.shared = { ...shared };
    if (this.workers.length === 0) return [];
    const ready = this.workers.map((w) =>
      w.request('ready', { type: 'init', shared }).catch((err) => {
        throw cloneError(err, Object.keys(shared));
      }),
    );
    const all = await Promise.allSettled(ready);
    const bad = all.find((r) => r.status === 'rejected');
    if (bad) throw (bad as PromiseRejectedResult).reason;
    return (all[0] as PromiseFulfilledResult<SegmentResult>).value.stats;
  }

  /**
   * The copy a batch goes to: by source when state is kept per source and the source's state has
   * not settled, else the least busy.
   */
  private target(records: Batch): SegmentWorker {
    if (this.segment.mode === 'by-origin') {
      const key = originKey(records);
      if (this.settled.has(key)) return this.leastBusy(true);
      let w = this.byOrigin.get(key);
      if (w === undefined) {
        // sources are dealt to the copies in turn, as they first appear
        const index = this.dealt++ % this.n;
        w = this.slots[index] ?? this.startLate(index);
        this.byOrigin.set(key, w);
      }
      return w;
    }
    return this.leastBusy(false);
  }

  /**
   * The started copy with the fewest batches outstanding; with `grow` (a by-origin segment, whose
   * copies start on demand), a copy not started yet when every started one is busy.
   */
  private leastBusy(grow: boolean): SegmentWorker {
    let w = this.workers[0]!;
    for (let i = 1; i < this.workers.length; i++) if (this.workers[i]!.outstanding < w.outstanding) w = this.workers[i]!;
    if (grow && w.outstanding > 0) {
      const idle = this.slots.indexOf(undefined);
      if (idle !== -1) return this.startLate(idle);
    }
    return w;
  }

  /**
   * Start every copy not started yet (a deferred pool, see `launch`), given the current prepared
   * values; their create-time statistics are dropped (the main thread's copy counted them). How many
   * were started.
   */
  grow(): number {
    let n = 0;
    for (let i = 0; i < this.n; i++)
      if (this.slots[i] === undefined) {
        this.startLate(i);
        n++;
      }
    return n;
  }

  /** A by-origin copy first needed now, or a deferred pool's (`grow`): started and given the current prepared values. */
  private startLate(index: number): SegmentWorker {
    const w = this.start(index);
    const shared = this.shared ?? {};
    // Its failures reach onFatal through the worker's own handlers; a value that cannot be sent, here.
    w.request('ready', { type: 'init', shared }).catch((err) => {
      if ((err as Error)?.name === 'DataCloneError') this.onFatal(cloneError(err, Object.keys(shared)));
    });
    return w;
  }

  private roomWaiters: Array<() => void> = [];

  wakeRoom(): void {
    const ws = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of ws) w();
  }

  /**
   * Wait until the copy that would take this batch has fewer than `perWorker` batches outstanding:
   * a copy always has its next batch waiting, and no copy piles up work while another is idle.
   */
  async room(records: Batch, perWorker: number): Promise<void> {
    while (!this.hasRoom(records, perWorker)) await new Promise<void>((r) => this.roomWaiters.push(r));
  }

  /** Whether the copy that would take this batch has room for it now (see `room`); in a by-key segment, every copy. */
  hasRoom(records: Batch, perWorker: number): boolean {
    if (this.workers.length === 0) return false; // a deferred pool not grown yet
    if (this.segment.mode === 'by-key') return this.workers.every((w) => (w.outstanding < perWorker && w.outstanding + w.held < HELD_PER_COPY) || w.broken);
    const w = this.target(records);
    return (w.outstanding < perWorker && w.outstanding + w.held < HELD_PER_COPY) || w.broken;
  }

  /** Send a batch to a copy (see `target`); in a by-key segment, to every copy, one of them its owner. */
  submit(records: Batch): Promise<SegmentResult> {
    if (this.segment.mode === 'by-key') return this.submitToAll(records);
    const w = this.target(records);
    const seq = this.seq++;
    const key = this.segment.mode === 'by-origin' ? originKey(records) : undefined;
    const { wire, transfer } = encodeForWorker(records);
    // a block of lines went into shared memory: its own memory is free again
    if (!Array.isArray(records)) lineBlocks.release(records);
    const msg: ToWorker & { type: 'batch' } = { type: 'batch', seq, batch: wire };
    if (w.releases.length) {
      msg.release = w.releases;
      w.releases = [];
    }
    if (key === undefined) return w.request(seq, msg, transfer);
    const settled = this.settled.get(key);
    if (settled) msg.settled = settled;
    return w.request(seq, msg, transfer).then((r) => {
      // from now on the source's batches may go to any copy (those already sent stay where they are)
      if (r.settled && !this.settled.has(key)) this.settled.set(key, r.settled);
      return r;
    });
  }

  /**
   * A by-key segment's batch: each copy gets its own (a block of lines in shared memory of its own,
   * which the copy gives back; a block of messages copied, as its memory moves to the copy's
   * thread), owned by one copy in turn; the results are joined in copy order.
   */
  private submitToAll(records: Batch): Promise<SegmentResult> {
    const seq = this.seq++;
    const owner = seq % this.workers.length;
    const last = this.workers.length - 1;
    const asked = this.workers.map((w, c) => {
      const own = Array.isArray(records) || c === last || records.kind === 'lines' ? records : copyBlock(records);
      const { wire, transfer } = encodeForWorker(own);
      if (c === last && !Array.isArray(records)) lineBlocks.release(records);
      const msg: ToWorker & { type: 'batch' } = { type: 'batch', seq, batch: wire };
      if (c !== owner) msg.notOwned = true;
      if (w.releases.length) {
        msg.release = w.releases;
        w.releases = [];
      }
      return w.request(seq, msg, transfer);
    });
    return Promise.all(asked).then((parts) => new JointResult(parts));
  }

  /**
   * A new shared value for one of the segment's nodes: each copy applies it between two batches
   * (its messages are handled in order, so batches submitted from now on see it). SharedArrayBuffers
   * in the value are shared with the copies; everything else is cloned.
   */
  publish(node: string, value: unknown): void {
    if (this.shared) this.shared[node] = value;
    for (const w of this.workers) {
      try {
        w.worker.postMessage({ type: 'update', node, value } satisfies ToWorker);
      } catch (err) {
        throw cloneError(err, [node]);
      }
    }
  }

  /** End of input: every copy emits what it holds. */
  async finish(): Promise<SegmentResult[]> {
    return Promise.all(this.workers.map((w) => w.request('finished', { type: 'finish' })));
  }

  async close(): Promise<void> {
    forgetHeld(this);
    await Promise.all(
      this.workers.map(async (w) => {
        try {
          await w.request('closed', { type: 'close' });
        } catch {
          /* already failed */
        }
        await w.worker.terminate();
      }),
    );
  }

  async terminate(): Promise<void> {
    forgetHeld(this);
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
