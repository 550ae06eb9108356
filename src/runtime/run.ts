/**
 * Run a compiled pipeline once: launch the worker threads of parallel segments, run the
 * `prepare`s, create every plugin instance, wire bounded queues along the edges, then run one
 * runner per node (runners/: source, processor, sink, segment) until every source is exhausted
 * and every queue drained and flushed. One AbortController per run (`RunState`): a signal
 * (SIGINT/SIGTERM) aborts it, sources stop, in-flight batches drain, sinks flush, sources commit.
 * The first failure wins: every queue is abandoned and the run ends with that error, a `RunError`
 * carrying a code from src/errors.ts and naming the node.
 */
import type { Logger, ProcessorInstance, SinkDef, SinkEncoder, SinkInstance, SourceInstance } from '../api.js';
import type { CompiledSpec } from '../graph/build.js';
import { Prepared, SharedHolder } from './prepare.js';
import type { BackoffPolicy } from '../util/retry.js';
import { asRunError } from './run-error.js';
import { runProcessor } from './runners/processor.js';
import { runSegment, segmentLabel } from './runners/segment.js';
import { runSink } from './runners/sink.js';
import { runSource } from './runners/source.js';
import { consumersOf, findSegments, type Segment } from './segments.js';
import type { RunObserver } from './observer.js';
import { RunState } from './state.js';
import { type NodeStats, type RunSummary, summarise } from './summary.js';
import { WorkerPool } from './worker-pool.js';
import { MainCopy } from './main-copy.js';
import { GrowWatch } from './grow.js';
import { chooseWorkers, mib, type ChooseOptions } from './workers.js';
import { encodedRoutes, encodes, makeEncoder, type EncodedRoute } from './sink-encode.js';
import { projectedRoutes } from './projection.js';
import { blockPoolLimit, lineBlocks, sharedBlocks } from '../block-pool.js';

export interface RunOptions {
  /** Base directory for node state (checkpoints). */
  stateDir: string;
  logger: Logger & { child?(b: object): Logger };
  /** Abort to stop the run gracefully (drain, flush, commit). */
  signal?: AbortSignal;
  once?: boolean;
  /** Log level for worker threads (they log on their own). */
  logLevel?: string;
  /** Called about twice a second with the live statistics (progress display). */
  onProgress?: (stats: Map<string, NodeStats>) => void;
  /** Backoff of a sink's retried `write`/`flush` (default: 200 ms doubling up to 30 s, no limit). */
  sinkRetry?: Partial<BackoffPolicy>;
  /** Something watching the run: metrics, the status page, `--top` (see observer.ts). */
  observer?: RunObserver;
  /** Worker threads per parallel segment, overriding `settings.workers` (`sluice run --workers N`). */
  workers?: number;
  /** The main thread as one of the copies where safe (true) or never (false); default: `workers: auto`'s rule (workers.ts). */
  mainCopy?: boolean;
  /** `'by-key'` nodes (the window) in the worker copies (true: also with a pinned count; false: never); default: `auto`'s rule (workers.ts). */
  byKey?: boolean;
  /** The `auto` rule's thresholds and core count, for tests (workers.ts `ChooseOptions`). */
  auto?: Pick<ChooseOptions, 'minBytes' | 'cores' | 'grow' | 'growAfterSeconds'>;
}

type Instance = SourceInstance | ProcessorInstance | SinkInstance;

/** Where the nodes run: segments (worker threads), their heads, the nodes inside them. */
interface Layout {
  segments: Segment[];
  segmentOfHead: Map<string, Segment>;
  insideSegment: Set<string>;
}

export async function runPipeline(spec: CompiledSpec, opts: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  lineBlocks.reset(blockPoolLimit()); // SLUICE_BLOCK_POOL, read per run
  sharedBlocks.reset(blockPoolLimit());
  const choice = await chooseWorkers(spec, {
    ...opts.auto,
    override: opts.workers,
    mainCopy: opts.mainCopy,
    byKey: opts.byKey,
    observed: opts.observer !== undefined,
  });
  const workers = choice.count;
  /** Worker threads per segment: one copy fewer when the main thread is one of them (none: it is the only copy). */
  const threads = choice.mainCopy ? workers - 1 : workers;
  const layout = layoutOf(spec, choice.mainCopy ? Math.max(workers, 2) : workers, !!choice.byKey);
  if (layout.segments.length || spec.settings.workers !== 1 || opts.workers !== undefined) {
    opts.logger.info(
      { workers: layout.segments.length ? workers : 1, mainCopy: !!choice.mainCopy, why: choice.reason, segments: layout.segments.map(segmentLabel) },
      !layout.segments.length
        ? 'one thread (no worker threads)'
        : threads === 0
          ? 'one thread: the main thread runs the chain as one copy'
          : choice.grow
            ? `the main thread runs the chain, and starts ${threads} worker thread${threads === 1 ? '' : 's'} if the rest of the input is long enough`
            : choice.mainCopy
              ? `${threads} worker thread${threads === 1 ? '' : 's'} and the main thread per parallel chain`
              : `${workers} worker threads per parallel chain`,
    );
  }
  const obs = opts.observer;
  const state = new RunState(spec, layout.insideSegment, { stateDir: opts.stateDir, logger: opts.logger, once: !!opts.once, observer: obs });
  // Outputs read by sinks that encode (API 1.4): encoded in the workers, sent to the sinks as such.
  const encodedOnly = new Set<string>();
  const routesOf = new Map<Segment, EncodedRoute[]>();
  for (const seg of layout.segments) {
    const routes = encodedRoutes(spec, seg);
    // What an observer reads from the start (rejects' reasons, alerts' latencies) still crosses as records.
    for (const r of routes) if (obs?.wants(r.node, r.port)) r.records = true;
    state.encodeInWorkers(routes);
    routesOf.set(seg, routes);
    for (const r of routes) if (!r.records) encodedOnly.add(`${r.node}.${r.port}`);
  }
  if (obs) {
    // their records stay in the workers too: only the encoded batches cross
    const hidden = new Set<string>(encodedOnly);
    for (const seg of layout.segments)
      for (const n of seg.nodes) for (const p of spec.nodes.get(n)!.ports) if (!seg.leaving[n]!.includes(p)) hidden.add(`${n}.${p}`);
    obs.attach(state.view(hidden));
  }
  obs?.phase('preparing');
  const outer = opts.signal;
  const onOuterAbort = () => state.controller.abort();
  if (outer?.aborted) state.controller.abort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });

  // Worker threads start now: they load their plugin modules while the prepares run here. Unless
  // they start during the run, when the rest of the input is long enough (`grow`, grow.ts).
  const grow = choice.grow && new GrowWatch(choice.grow);
  const pools = new Map<string, WorkerPool>();
  for (const seg of threads === 0 ? [] : layout.segments) {
    // Outputs read only by main-thread nodes that declare what they read cross as projections (API 1.5).
    const projected = projectedRoutes(spec, seg, layout.segments, (sink) => encodes(spec, sink), obs && ((n, p) => obs.wants(n, p)));
    const o = {
      stateDir: opts.stateDir,
      logLevel: opts.logLevel ?? 'info',
      once: !!opts.once,
      observed: obs !== undefined,
      encoded: routesOf.get(seg),
      projected,
      deferred: grow !== undefined,
    };
    pools.set(
      seg.nodes[0]!,
      WorkerPool.launch(spec, seg, threads, o, (e) => state.fail(e, 'SLUICE_E_WORKER', segmentLabel(seg))),
    );
  }

  // Prepared values: built once per node, here, before any instance (see prepare.ts).
  const prepared = new Prepared(state.signal, (node, err) => state.fail(err, 'SLUICE_E_SHARED_VALUE', node));
  let created: Created;
  // Sources without a `prepare` are created while the prepares run (a source may start connecting
  // in `create`: the kafka source joins its group while the feeds load). run() still comes after.
  const early = createEarlySources(state, layout);
  try {
    await prepared.prepareAll(spec, (name, signal) => state.contextFor(spec.nodes.get(name)!, undefined, signal), opts.logger);
    const mainCopy = choice.mainCopy
      ? (seg: Segment, shared: Record<string, unknown>) =>
          createMainCopy(state, seg, shared, routesOf.get(seg) ?? [], { observed: obs !== undefined, stateDir: opts.stateDir, once: !!opts.once })
      : undefined;
    created = await createInstances(state, layout, pools, prepared, early, mainCopy);
  } catch (err) {
    await closeEarly(early, state.logger);
    for (const p of pools.values()) await p.terminate();
    await prepared.close(opts.logger, { failed: true, stopped: state.signal.aborted });
    outer?.removeEventListener('abort', onOuterAbort);
    const e = asRunError(err, 'SLUICE_E_CREATE');
    obs?.phase('failed', e);
    throw e;
  }

  suggestBatchLines(state, spec, layout, pools, created.mains);
  const progressTimer = opts.onProgress ? setInterval(() => opts.onProgress!(state.stats), 500) : undefined;
  const runners = startRunners(state, layout, pools, created, opts, workers, grow);
  obs?.phase('running'); // every instance created (feeds loaded), every source's run() called
  await Promise.all(runners);
  if (progressTimer) clearInterval(progressTimer);
  opts.onProgress?.(state.stats);
  outer?.removeEventListener('abort', onOuterAbort);

  await closeAll(created.instances, opts.logger);
  await closeAll(created.mains, opts.logger);
  for (const p of pools.values()) await p.close();
  // prepare's clean-ups, once every instance and copy is closed (and every sink's last flush done)
  await prepared.close(opts.logger, { failed: state.failure !== undefined, stopped: state.failure === undefined && state.signal.aborted });
  const targets = new Map<string, string>();
  for (const [name, inst] of created.instances) {
    const t = (inst as SinkInstance).target;
    if (spec.nodes.get(name)!.kind === 'sink' && typeof t === 'string') targets.set(name, t);
  }
  const summary = summarise(spec, state.stats, Date.now() - started, state.queues, targets);
  summary.workers = { count: layout.segments.length ? workers : 1, reason: choice.reason };
  if (layout.segments.length && choice.mainCopy) summary.workers.mainCopy = true;
  if (grow) {
    const g = grow.grown;
    summary.workers.started = g?.threads ?? 0;
    summary.workers.reason += g
      ? `; started after ${mib(g.bytes)} of ${mib(grow.rule.inputBytes)}${Number.isFinite(g.seconds) ? ` (≈ ${g.seconds.toFixed(1)} s of input left)` : ''}`
      : '; none started: the rest of the input was never that long';
  }
  const failure = state.failure;
  if (failure !== undefined) {
    (failure as Error & { summary?: RunSummary }).summary = summary;
    obs?.phase('failed', failure);
    throw failure;
  }
  summary.stoppedBySignal = state.signal.aborted;
  obs?.phase('done');
  return summary;
}

/**
 * Lines per block for a source whose spec leaves its batch size unset (`ctx.batchLines`, API 1.11):
 * `GATED_BATCH_LINES` when every node reading its lines heads a chain whose copies (worker threads, or
 * the main thread's one copy) gate lines (chain.ts): such a chain makes records of a few lines of a
 * block only, so a block's cost is mostly the runtime's own per block (its messages between threads,
 * the chain's set-up), which larger blocks spread over more lines. Elsewhere the sources keep their default: a chain whose
 * records leave it (a window on the main thread) holds a whole block's records at once.
 */
function suggestBatchLines(state: RunState, spec: CompiledSpec, layout: Layout, pools: Map<string, WorkerPool>, mains: Map<string, MainCopy>): void {
  const consumers = consumersOf(spec);
  for (const name of spec.order) {
    if (spec.nodes.get(name)!.kind !== 'source') continue;
    const r = (consumers.get(name) ?? []).filter((c) => c.port === 'out').map((c) => c.node);
    // the main thread's copy, where there is one, runs the workers' chain (and tells before any worker starts: grow.ts)
    if (r.length && r.every((n) => layout.segmentOfHead.has(n) && (mains.get(n) ?? pools.get(n))?.gated === true))
      state.batchLines.set(name, GATED_BATCH_LINES);
  }
}

/** `suggestBatchLines`' block size: ≈ a 1 MiB read of proxy log lines in one block. */
export const GATED_BATCH_LINES = 8000;

function layoutOf(spec: CompiledSpec, workers: number, byKey: boolean): Layout {
  const segments = findSegments(spec, workers, { byKey });
  const segmentOfHead = new Map<string, Segment>();
  const insideSegment = new Set<string>();
  for (const seg of segments) {
    segmentOfHead.set(seg.nodes[0]!, seg);
    for (const n of seg.nodes.slice(1)) insideSegment.add(n);
  }
  return { segments, segmentOfHead, insideSegment };
}

interface Created {
  /** The main-thread instances, by node. */
  instances: Map<string, Instance>;
  /** What a main-thread processor's `ctx.shared` reads, for nodes with a prepared value. */
  holders: Map<string, SharedHolder>;
  /** The main-thread encoders of the sinks that have one (API 1.4). */
  encoders: Map<string, SinkEncoder>;
  /** The main thread's copies of parallel segments (main-copy.ts), by head. */
  mains: Map<string, MainCopy>;
}

/**
 * Create every plugin instance (feeds load, files open) before any data moves: main-thread nodes
 * here, segment copies in their workers (`init` hands them the prepared values). On a failure the
 * instances created so far are closed and the error names the node.
 */
async function createInstances(
  state: RunState,
  layout: Layout,
  pools: Map<string, WorkerPool>,
  prepared: Prepared,
  early: Map<string, Promise<Instance>>,
  mainCopy?: (seg: Segment, shared: Record<string, unknown>) => Promise<MainCopy>,
): Promise<Created> {
  const { spec } = state;
  const mains = new Map<string, MainCopy>();
  const instances = new Map<string, Instance>();
  const holders = new Map<string, SharedHolder>();
  const encoders = new Map<string, SinkEncoder>();
  let current: string | undefined;
  try {
    for (const name of spec.order) {
      if (layout.insideSegment.has(name)) continue;
      current = name;
      const node = spec.nodes.get(name)!;
      const seg = layout.segmentOfHead.get(name);
      if (seg) {
        const pool = pools.get(name);
        const sent = prepared.valuesOf(seg.nodes);
        if (pool) state.applyDeltas(await pool.init(sent));
        // The main thread's copy, over the prepared values themselves (not clones).
        const main = mainCopy && (await mainCopy(seg, sent));
        if (main) mains.set(name, main);
        // the only copy, or the first (workers started later): its create-time statistics are the run's (a worker's otherwise)
        if (main && (!pool || pool.started === 0)) state.applyDeltas(main.created);
        for (const n of Object.keys(sent)) {
          prepared.subscribe(n, (v) => {
            pool?.publish(n, v);
            main?.offer(n, v);
          });
          // Published while the workers were starting: they were given the older value.
          if (prepared.value(n) !== sent[n]) {
            pool?.publish(n, prepared.value(n));
            main?.offer(n, prepared.value(n));
          }
        }
        continue;
      }
      const made = early.get(name);
      if (made !== undefined) {
        early.delete(name); // closed from `instances` from now on
        instances.set(name, await made);
        continue;
      }
      let holder: SharedHolder | undefined;
      if (prepared.has(name)) {
        const h = (holder = new SharedHolder(prepared.value(name)));
        holders.set(name, h);
        // Processors take a new value between batches; sources and sinks read ctx.shared when they need it.
        const between = node.kind === 'transform' || node.kind === 'analyse';
        prepared.subscribe(name, between ? (v) => h.offer(v) : (v) => void (h.current = v));
      }
      const inst = await node.plugin.def.create(node.config, state.contextFor(node, holder));
      instances.set(name, inst);
      if (encodes(spec, name)) {
        if (typeof (inst as SinkInstance).writeEncoded !== 'function')
          throw new Error(`sink plugin '${node.plugin.def.name}' declares an encoder but its instance has no writeEncoded`);
        encoders.set(name, makeEncoder(node.plugin.def as SinkDef, node.config));
      }
    }
  } catch (err) {
    await closeAll(instances, state.logger);
    await closeAll(mains, state.logger);
    throw asRunError(err, 'SLUICE_E_CREATE', current);
  }
  return { instances, holders, encoders, mains };
}

/** The main thread's copy of a segment (its create-time statistics in `created`: see createInstances). */
async function createMainCopy(
  state: RunState,
  seg: Segment,
  shared: Record<string, unknown>,
  encoded: EncodedRoute[],
  o: { observed: boolean; stateDir: string; once: boolean },
): Promise<MainCopy> {
  const { spec } = state;
  const logger = state.logger as Logger & { child?(b: object): Logger };
  const main = await MainCopy.create(spec, seg, shared, encoded, {
    ...o,
    pipeline: spec.name,
    logger: logger.child ? logger.child({ worker: 'main' }) : logger,
    signal: state.signal,
  });
  return main;
}

/** Main-thread sources without a `prepare`, created now (createInstances takes them in order). */
function createEarlySources(state: RunState, layout: Layout): Map<string, Promise<Instance>> {
  const early = new Map<string, Promise<Instance>>();
  for (const name of state.spec.order) {
    const node = state.spec.nodes.get(name)!;
    if (node.kind !== 'source' || layout.insideSegment.has(name) || layout.segmentOfHead.has(name) || typeof node.plugin.def.prepare === 'function') continue;
    const made = (async () => node.plugin.def.create(node.config, state.contextFor(node, undefined)))() as Promise<Instance>;
    made.catch(() => undefined); // reported when createInstances awaits it
    early.set(name, made);
  }
  return early;
}

/** After a failed start: close the early sources createInstances did not take over. */
async function closeEarly(early: Map<string, Promise<Instance>>, logger: Logger): Promise<void> {
  const made = new Map<string, Instance>();
  for (const [name, p] of early) {
    try {
      made.set(name, await p);
    } catch {
      // its failure is the run's error, or the run failed before it mattered
    }
  }
  early.clear();
  await closeAll(made, logger);
}

/** One runner per main-thread node or segment; each resolves when its node is done (or the run failed). */
function startRunners(
  state: RunState,
  layout: Layout,
  pools: Map<string, WorkerPool>,
  created: Created,
  opts: RunOptions,
  workers: number,
  grow?: GrowWatch,
): Promise<void>[] {
  const tasks: Promise<void>[] = [];
  for (const name of state.spec.order) {
    if (layout.insideSegment.has(name)) continue;
    const seg = layout.segmentOfHead.get(name);
    if (seg) {
      tasks.push(runSegment(state, seg, pools.get(name), workers, created.mains.get(name), grow));
      continue;
    }
    const inst = created.instances.get(name)!;
    const kind = state.spec.nodes.get(name)!.kind;
    if (kind === 'source') tasks.push(runSource(state, name, inst as SourceInstance));
    else if (kind === 'sink') tasks.push(runSink(state, name, inst as SinkInstance, opts.sinkRetry, created.encoders.get(name)));
    else tasks.push(runProcessor(state, name, inst as ProcessorInstance, created.holders.get(name)));
  }
  return tasks;
}

async function closeAll(instances: Map<string, { close?(): Promise<void> }>, logger: Logger): Promise<void> {
  for (const [name, inst] of instances) {
    try {
      await inst.close?.();
    } catch (err) {
      logger.error({ node: name, err: String(err) }, 'close failed');
    }
  }
}
