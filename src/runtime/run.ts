/**
 * Run a compiled pipeline once: create every plugin, wire bounded queues along the edges, start
 * sinks and processors, then sources; finite runs end when every source is exhausted and every
 * queue drained and flushed. One AbortController per run: a signal (SIGINT/SIGTERM) aborts it,
 * sources stop, in-flight batches drain, sinks flush, sources commit. The first failure wins:
 * every queue is abandoned and the run ends with that error.
 */
import { makeContext } from './context.js';
import { findSegments, type Segment } from './segments.js';
import { Prepared, SharedHolder } from './prepare.js';
import { WorkerPool, type SegmentResult } from './worker-pool.js';
import type { NodeDelta } from './wire.js';
import type { Logger, PluginContext, ProcessorInstance, SinkInstance, SourceInstance, Outputs, Rec } from '../api.js';
import type { CompiledNode, CompiledSpec } from '../graph/build.js';
import { BoundedQueue } from './queue.js';
import { chunksOf } from './chunks.js';
import { Ack, recordsOf, type Envelope } from './acks.js';
import { batchSize, type Batch, type SourceOutputs } from '../record.js';
import { NodeStats, type RunSummary, summarise } from './summary.js';

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
}

/** Errors that are worth retrying: the service may come back. */
function isTransient(err: unknown): boolean {
  const e = err as { transient?: boolean; code?: string; retriable?: boolean };
  if (e?.transient === true || e?.retriable === true) return true;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(e?.code ?? '');
}

function isPromise<T>(x: unknown): x is Promise<T> {
  return !!x && typeof (x as Promise<T>).then === 'function';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
  });

export async function runPipeline(spec: CompiledSpec, opts: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const controller = new AbortController();
  const outer = opts.signal;
  const onOuterAbort = () => controller.abort();
  if (outer) {
    if (outer.aborted) controller.abort();
    else outer.addEventListener('abort', onOuterAbort, { once: true });
  }
  // Hard failure: abandon queues (distinct from a graceful stop, which drains them).
  let failure: unknown;
  const queues = new Map<string, BoundedQueue<Envelope>>();
  const fail = (err: unknown) => {
    if (failure === undefined) failure = err;
    controller.abort();
    for (const q of queues.values()) q.fail();
  };

  const stats = new Map<string, NodeStats>();
  for (const name of spec.order) stats.set(name, new NodeStats(spec.nodes.get(name)!));

  // Parallel segments: their nodes run in worker threads; only the head has an input queue here.
  const segments = findSegments(spec);
  const insideSegment = new Set<string>(); // segment nodes other than heads
  const segmentOfHead = new Map<string, Segment>();
  for (const seg of segments) {
    segmentOfHead.set(seg.nodes[0]!, seg);
    for (const n of seg.nodes.slice(1)) insideSegment.add(n);
  }

  // One input queue per non-source node; producers = number of its input edges.
  for (const name of spec.order) {
    const node = spec.nodes.get(name)!;
    if (node.kind !== 'source' && !insideSegment.has(name)) queues.set(name, new BoundedQueue<Envelope>(spec.settings.queueBatches, node.inputs.length));
  }
  // Outgoing routes: node -> port -> consumer queues (edges inside a segment stay in its workers).
  const routes = new Map<string, Map<string, BoundedQueue<Envelope>[]>>();
  for (const name of spec.order) routes.set(name, new Map());
  for (const name of spec.order) {
    if (insideSegment.has(name)) continue;
    for (const input of spec.nodes.get(name)!.inputs) {
      const portMap = routes.get(input.node)!;
      if (!portMap.has(input.port)) portMap.set(input.port, []);
      portMap.get(input.port)!.push(queues.get(name)!);
    }
  }

  const contextFor = (node: CompiledNode, shared?: SharedHolder, signal: AbortSignal = controller.signal): PluginContext => {
    const st = stats.get(node.name)!;
    return makeContext({
      pipeline: spec.name,
      node: node.name,
      logger: opts.logger,
      metrics: { add: (n, v = 1) => st.add(n, v), set: (n, v) => st.set(n, v) },
      signal,
      stateDir: opts.stateDir,
      once: !!opts.once,
      shared,
    });
  };

  // Worker threads start now: they compile the spec while the prepares run here.
  const pools = new Map<string, WorkerPool>();
  for (const seg of segments) {
    const pool = WorkerPool.launch(spec, seg, spec.settings.workers, { stateDir: opts.stateDir, logLevel: opts.logLevel ?? 'info', once: !!opts.once }, (e) => fail(withNode(e, seg.nodes.join('→'))));
    pools.set(seg.nodes[0]!, pool);
  }

  // Prepared values: built once per node, here, before any instance (see prepare.ts).
  const prepared = new Prepared(controller.signal, (node, err) => fail(withNode(err, node)));
  try {
    await prepared.prepareAll(spec, (name, signal) => contextFor(spec.nodes.get(name)!, undefined, signal), opts.logger);
  } catch (err) {
    for (const p of pools.values()) await p.terminate();
    outer?.removeEventListener('abort', onOuterAbort);
    throw err;
  }

  /** Send a node's outputs to the queues of every consumer, counting them; `ack` is held once per envelope. */
  const dispatch = async (name: string, outputs: SourceOutputs, ack: Ack | null, count = true): Promise<void> => {
    const st = stats.get(name)!;
    const portMap = routes.get(name)!;
    for (const port in outputs) {
      const recs = outputs[port];
      if (!recs) continue;
      const n = batchSize(recs);
      if (n === 0) continue;
      if (count) st.emitted(port, n);
      const targets = portMap.get(port);
      if (!targets) continue; // a port nobody reads: counted, then dropped (validation warned)
      for (let i = 0; i < targets.length; i++) {
        ack?.retain();
        // Fan-out shares the records; each consumer gets its own array (or its own bytes: a
        // worker pool may transfer a block's memory to a thread).
        await targets[i]!.push({ records: i === 0 ? recs : copyBatch(recs), ack });
      }
    }
  };

  // Create every plugin instance (feeds load, files open) before any data moves.
  const instances = new Map<string, SourceInstance | ProcessorInstance | SinkInstance>();
  const initialised = new Set<string>(); // heads of segments whose copies were created
  const holders = new Map<string, SharedHolder>();
  const applyDeltas = (deltas: NodeDelta[]) => {
    for (const d of deltas) {
      const st = stats.get(d.node)!;
      st.received(d.in);
      for (const p in d.out) st.emitted(p, d.out[p]!);
      for (const k in d.add) st.add(k, d.add[k]!);
      for (const k in d.set) st.set(k, d.set[k]!);
    }
  };
  try {
    for (const name of spec.order) {
      const node = spec.nodes.get(name)!;
      const seg = segmentOfHead.get(name);
      if (seg) {
        const pool = pools.get(name)!;
        const sent = prepared.valuesOf(seg.nodes);
        applyDeltas(await pool.init(sent));
        initialised.add(name);
        for (const n of Object.keys(sent)) {
          prepared.subscribe(n, (v) => pool.publish(n, v));
          // Published while the workers were starting: they were given the older value.
          if (prepared.value(n) !== sent[n]) pool.publish(n, prepared.value(n));
        }
        continue;
      }
      if (insideSegment.has(name)) continue;
      let holder: SharedHolder | undefined;
      if (prepared.has(name)) {
        const h = (holder = new SharedHolder(prepared.value(name)));
        holders.set(name, h);
        // Processors take a new value between batches; sources and sinks read ctx.shared when they need it.
        const between = node.kind === 'transform' || node.kind === 'analyse';
        prepared.subscribe(name, between ? (v) => h.offer(v) : (v) => void (h.current = v));
      }
      instances.set(name, await node.plugin.def.create(node.config, contextFor(node, holder)));
    }
  } catch (err) {
    await closeAll(instances, opts.logger);
    for (const p of pools.values()) await p.terminate();
    await prepared.close(opts.logger);
    outer?.removeEventListener('abort', onOuterAbort);
    throw withNode(err, [...spec.order].find((n) => !instances.has(n) && !insideSegment.has(n) && !initialised.has(n)));
  }

  const tasks: Promise<void>[] = [];
  const progressTimer = opts.onProgress ? setInterval(() => opts.onProgress!(stats), 500) : undefined;

  for (const name of spec.order) {
    if (insideSegment.has(name)) continue;
    const node = spec.nodes.get(name)!;
    const inst = instances.get(name)!;
    const st = stats.get(name)!;
    const closeDownstream = () => {
      for (const qs of routes.get(name)!.values()) for (const q of qs) q.end();
    };

    const pool = pools.get(name);
    if (pool) {
      const seg = segmentOfHead.get(name)!;
      const q = queues.get(name)!;
      // Up to two batches per copy in flight (one running, one waiting); results are dispatched in
      // submission order, with room for a few more so that a slow batch on one copy does not
      // leave the other copies idle.
      const inFlight = new BoundedQueue<{ env: Envelope; result: Promise<SegmentResult> }>(spec.settings.workers * 4);
      const deliver = async (r: SegmentResult, ack: Ack | null) => {
        applyDeltas(r.stats);
        for (const [n, port, recs] of r.outputs) await dispatch(n, { [port]: recs }, ack, false);
      };
      const feeder = (async () => {
        try {
          for (;;) {
            const batch = await q.pull(1);
            if (batch === null) break;
            const env = batch[0]!;
            await pool.room(env.records, 2);
            if (failure !== undefined) break;
            const result = pool.submit(env.records);
            result.catch(() => undefined); // reported through fail()
            await inFlight.push({ env, result });
          }
        } finally {
          inFlight.end();
        }
      })();
      tasks.push(
        (async () => {
          try {
            for (;;) {
              const next = await inFlight.pull(1);
              if (next === null) break;
              const { env, result } = next[0]!;
              await deliver(await result, env.ack);
              env.ack?.release();
            }
            await feeder;
            if (failure === undefined) for (const r of await pool.finish()) await deliver(r, null);
          } catch (err) {
            fail(withNode(err, seg.nodes.join('→')));
          } finally {
            for (const n of seg.nodes) for (const qs of routes.get(n)!.values()) for (const q2 of qs) q2.end();
          }
        })(),
      );
      continue;
    }

    if (node.kind === 'source') {
      const src = inst as SourceInstance;
      tasks.push(
        (async () => {
          try {
            await src.run(async (outputs, onDurable) => {
              if (failure !== undefined) return;
              const ack = new Ack(onDurable);
              await dispatch(name, outputs, ack);
              ack.release();
            });
          } catch (err) {
            fail(withNode(err, name));
          } finally {
            closeDownstream();
          }
        })(),
      );
    } else if (node.kind === 'sink') {
      const sink = inst as SinkInstance;
      const q = queues.get(name)!;
      const interval = spec.settings.flushIntervalMs;
      tasks.push(
        (async () => {
          let pending: Ack[] = [];
          let lastFlush = Date.now();
          const flush = async () => {
            await retrying(() => sink.flush(), name, 'flush');
            lastFlush = Date.now();
            const done = pending;
            pending = [];
            for (const a of done) a.release();
          };
          const retrying = async (op: () => Promise<void> | void, nodeName: string, what: string) => {
            for (let attempt = 0; ; attempt++) {
              try {
                const r = op();
                if (isPromise(r)) await r;
                return;
              } catch (err) {
                if (!isTransient(err) || failure !== undefined) throw err;
                const wait = Math.min(30_000, 200 * 2 ** Math.min(attempt, 8));
                opts.logger.warn({ node: nodeName, err: String(err), attempt, retryInMs: wait }, `${what} failed; retrying`);
                st.add('retries', 1);
                await sleep(wait);
              }
            }
          };
          try {
            for (;;) {
              const wait = Math.max(1, interval - (Date.now() - lastFlush));
              const batch = await q.pull(64, pending.length ? wait : undefined);
              if (batch === null) break;
              for (const env of batch) {
                st.received(batchSize(env.records));
                await retrying(() => sink.write(recordsOf(env)), name, 'write');
                if (env.ack) pending.push(env.ack);
              }
              if (pending.length && Date.now() - lastFlush >= interval) await flush();
            }
            if (failure === undefined) await flush();
          } catch (err) {
            fail(withNode(err, name));
          }
        })(),
      );
    } else {
      const proc = inst as ProcessorInstance;
      const q = queues.get(name)!;
      const holder = holders.get(name);
      /** A value published since the last batch: hand it over now, between two batches. */
      const applyUpdate = async () => {
        if (holder && holder.take() && proc.update) {
          const r = proc.update(holder.current);
          if (isPromise(r)) await r;
        }
      };
      tasks.push(
        (async () => {
          try {
            for (;;) {
              const batch = await q.pull(1);
              if (batch === null) break;
              const env = batch[0]!;
              if (holder?.pending) await applyUpdate();
              let n = 0;
              for (const recs of chunksOf(env.records)) {
                n += recs.length;
                const r = proc.process(recs);
                const out = isPromise<Outputs>(r) ? await r : r;
                await dispatch(name, out, env.ack);
              }
              st.received(n);
              env.ack?.release();
            }
            if (failure === undefined && proc.finish) {
              if (holder?.pending) await applyUpdate();
              const r = proc.finish();
              const out = isPromise<Outputs>(r) ? await r : r;
              await dispatch(name, out, null);
            }
          } catch (err) {
            fail(withNode(err, name));
          } finally {
            closeDownstream();
          }
        })(),
      );
    }
  }

  await Promise.all(tasks);
  if (progressTimer) clearInterval(progressTimer);
  opts.onProgress?.(stats);
  outer?.removeEventListener('abort', onOuterAbort);
  await closeAll(instances, opts.logger);
  for (const p of pools.values()) await p.close();
  await prepared.close(opts.logger); // prepare's clean-ups, once every instance and copy is closed
  const targets = new Map<string, string>();
  for (const [name, inst] of instances) {
    const t = (inst as SinkInstance).target;
    if (spec.nodes.get(name)!.kind === 'sink' && typeof t === 'string') targets.set(name, t);
  }
  const summary = summarise(spec, stats, Date.now() - started, queues, targets);
  if (failure !== undefined) {
    const err = failure instanceof Error ? failure : new Error(String(failure));
    (err as Error & { summary?: RunSummary }).summary = summary;
    throw err;
  }
  summary.stoppedBySignal = controller.signal.aborted;
  return summary;
}

function copyBatch(b: Batch): Batch {
  return Array.isArray(b) ? b.slice() : { ...b, bytes: b.bytes.slice() };
}

function withNode(err: unknown, node: string | undefined): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  if (node && !(e as Error & { node?: string }).node) {
    (e as Error & { node?: string }).node = node;
    e.message = `node '${node}': ${e.message}`;
  }
  return e;
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

export type { Rec };
