/**
 * A parallel segment seen from the main thread: a feeder takes batches from the head's input
 * queue and submits them to the worker pool; the runner awaits the results in submission order
 * and dispatches what leaves the segment with each batch's ack; at end of input, the copies
 * finish and their held records are dispatched too.
 *
 * With a main-thread copy (main-copy.ts), a batch that no worker has room for runs here, now, and
 * its result joins the same window: outputs, acks and order are as if a worker had run it. Without
 * a pool (one thread: workers.ts `oneThread`), the main copy runs every batch.
 */
import type { Ack, Envelope } from '../acks.js';
import type { GrowWatch } from '../grow.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { MainCopy } from '../main-copy.js';
import { BoundedQueue } from '../queue.js';
import { segmentLabel, type Segment } from '../segments.js';
import type { RunState } from '../state.js';
import type { SegmentResult, WorkerPool } from '../worker-pool.js';

/** Batches one copy may hold: one running, one waiting. */
const PER_COPY = 2;
/** The in-order window, per copy: room for a few more so a slow batch does not idle the others. */
const WINDOW_PER_COPY = 4;

export { segmentLabel };

/**
 * `grow`: the pool's copies are not started yet (workers.ts `grow`); they are once the rest of the
 * input would keep the main thread's copy busy long enough at the rate it runs the batches.
 */
export async function runSegment(
  state: RunState,
  seg: Segment,
  pool: WorkerPool | undefined,
  copies: number,
  main?: MainCopy,
  grow?: GrowWatch,
): Promise<void> {
  const queue = state.queues.get(seg.nodes[0]!)!;
  const deliver = async (r: SegmentResult, ack: Ack | null): Promise<void> => {
    state.applyDeltas(r.stats);
    for (const [node, port, records] of r.outputs) await state.dispatchPort(node, port, records, ack, false);
    if (r.encoded) for (const [node, port, sink, batch] of r.encoded) await state.dispatchEncoded(node, port, sink, batch, ack);
  };
  if (pool === undefined) {
    if (main === undefined) throw new Error(`segment ${segmentLabel(seg)} has no copy to run it`);
    return runOnMain(state, seg, main, deliver);
  }
  const inFlight = new BoundedQueue<{ env: Envelope; result: Promise<SegmentResult> }>(copies * WINDOW_PER_COPY);
  let watch = main !== undefined ? grow : undefined;
  const feeder = (async () => {
    try {
      for (;;) {
        const batch = await queue.pull(1);
        if (batch === null) break;
        const env = batch[0]!;
        const bytes = watch?.dealtBatch(env.records) ?? 0;
        if (main !== undefined && !state.failed && !pool.hasRoom(env.records, PER_COPY)) {
          // while the workers may still start, the batch's own time (not its wait for the window) is measured
          const w = watch;
          const t0 = w !== undefined ? performance.now() : 0;
          const result = w === undefined ? main.run(env.records) : main.run(env.records).finally(() => w.ranOnMain(bytes, performance.now() - t0));
          result.catch(() => undefined); // reported by the runner, as a worker's failure
          await inFlight.push({ env, result });
          try {
            await result;
          } catch {
            break;
          }
          if (w !== undefined && startWorkersIfDue(state, seg, pool, w)) watch = undefined;
          // a turn of the event loop: the workers' results that came meanwhile free their room
          await nextTurn();
          continue;
        }
        await pool.room(env.records, PER_COPY);
        if (state.failed) break;
        const result = pool.submit(env.records);
        result.catch(() => undefined); // reported through fail()
        await inFlight.push({ env, result });
      }
    } finally {
      inFlight.end();
    }
  })();
  try {
    for (;;) {
      const next = await inFlight.pull(1);
      if (next === null) break;
      const { env, result } = next[0]!;
      await deliver(await result, env.ack);
      env.ack?.release();
    }
    await feeder;
    if (!state.failed) {
      for (const r of await pool.finish()) await deliver(r, null);
      if (main !== undefined) await deliver(await main.finish(), null);
    }
  } catch (err) {
    state.fail(err, 'SLUICE_E_WORKER', segmentLabel(seg));
  } finally {
    for (const n of seg.nodes) state.endOutputs(n);
  }
}

/**
 * Start the pool's copies when `watch` says the rest of the input is long enough (grow.ts); true
 * when it did, logged.
 */
function startWorkersIfDue(state: RunState, seg: Segment, pool: WorkerPool, watch: GrowWatch): boolean {
  const seconds = watch.due();
  if (seconds === undefined) return false;
  const threads = pool.grow();
  watch.grown = { threads, bytes: watch.bytesDealt, seconds };
  const finite = Number.isFinite(seconds);
  state.logger.info(
    { segment: segmentLabel(seg), threads, dealt_bytes: watch.bytesDealt, rest_seconds: finite ? Math.round(seconds * 100) / 100 : null },
    `started ${threads} worker thread${threads === 1 ? '' : 's'}: the rest of the input would keep the main thread busy ${finite ? `≈ ${seconds.toFixed(1)} s` : 'for a time it cannot measure'}`,
  );
  return true;
}

/**
 * The main thread as the segment's only copy (one thread: workers.ts `oneThread`): each batch runs
 * and its result is delivered before the next is taken, as a main-thread processor's would be, so
 * no more batches are in flight than between processors.
 */
async function runOnMain(state: RunState, seg: Segment, main: MainCopy, deliver: (r: SegmentResult, ack: Ack | null) => Promise<void>): Promise<void> {
  const queue = state.queues.get(seg.nodes[0]!)!;
  try {
    for (;;) {
      const batch = await queue.pull(1);
      if (batch === null || state.failed) break;
      const env = batch[0]!;
      await deliver(await main.run(env.records), env.ack);
      env.ack?.release();
    }
    if (!state.failed) await deliver(await main.finish(), null);
  } catch (err) {
    state.fail(err, 'SLUICE_E_RUNTIME', segmentLabel(seg));
  } finally {
    for (const n of seg.nodes) state.endOutputs(n);
  }
}
