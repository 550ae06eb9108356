/**
 * A transform or analyser running in the main thread: one batch at a time from its input queue
 * through the chain driver (a chain of one), its outputs dispatched chunk by chunk with the
 * batch's ack; at end of input, `finish` (unless the run failed). A processor with `tick` is ticked
 * when no batch arrived for its `tickIntervalMs` (default 1 s), between batches.
 */
import type { ProcessorDef, ProcessorInstance, Rec } from '../../api.js';
import type { Ack } from '../acks.js';
import { ChainDriver } from '../chain.js';
import type { SharedHolder } from '../prepare.js';
import type { RunState } from '../state.js';
import { lineBlocks } from '../../block-pool.js';
import { fetchSummarised, hasHandles, readsOf, released, restore, summaryOf } from '../projection.js';

/** Fetches of whole records (projection.ts) a processor may have outstanding before it waits for them. */
const RESTORES_IN_FLIGHT = 16;

/** How long a processor's input must be quiet before its `tick` is called, unless it says otherwise. */
export const DEFAULT_TICK_MS = 1000;

export async function runProcessor(state: RunState, name: string, inst: ProcessorInstance, holder: SharedHolder | undefined): Promise<void> {
  const queue = state.queues.get(name)!;
  const st = state.stats.get(name)!;
  const obs = state.observer;
  const counter = obs
    ? {
        received: (n: number) => st.received(n),
        emitted: (p: string, n: number) => st.emitted(p, n),
        busy: (ms: number) => obs.timing(name, 'process', ms / 1000),
      }
    : st;
  // Ports on which the node emits its input records (API 1.5 `reads`), read by some node: records
  // that arrived as projections are fetched back whole before they go on (projection.ts), in order
  // per port; the batch's ack is held until they are dispatched.
  const whole = new Set(
    (readsOf(state.spec, name)?.whole ?? []).filter((p) =>
      state.spec.order.some((n) => state.spec.nodes.get(n)!.inputs.some((i) => i.node === name && i.port === p)),
    ),
  );
  // Batch summaries (API 1.8) may come in place of records: counted on these ports when merged.
  const passes = (state.spec.nodes.get(name)!.plugin.def as ProcessorDef).batchSummary?.passes ?? [];
  let restoring: Promise<void> = Promise.resolve();
  let restores = 0;
  const restoreThen = (ack: Ack | null, port: string, records: Rec[]): Promise<void> | undefined => {
    ack?.retain();
    const fetched = restore(records, name); // fetches posted now, before the batch is released
    fetched.catch(() => undefined); // reported below, in order
    restores++;
    restoring = restoring.then(async () => {
      const recs = await fetched;
      const w = state.dispatchPort(name, port, recs, ack, false);
      if (w !== undefined) await w;
      ack?.release();
      restores--;
    });
    restoring.catch((err) => state.fail(err, 'SLUICE_E_RUNTIME', name)); // at once, not when next awaited
    return restores > RESTORES_IN_FLIGHT ? restoring : undefined;
  };
  const driver = new ChainDriver<Ack | null>(
    [{ name, inst, holder, counter, leaving: 'all' }],
    (ack: Ack | null, _step: number, port: string, records: Rec[]) =>
      whole.size > 0 && whole.has(port) && hasHandles(records) ? restoreThen(ack, port, records) : state.dispatchPort(name, port, records, ack, false),
  );
  // A processor with `tick` is told when its input has been quiet for `tickIntervalMs`, between
  // batches: its outputs go out without an ack, like `finish`'s (what they derive from was acked
  // when its batch was processed).
  const tickMs = inst.tick ? Math.max(1, inst.tickIntervalMs ?? DEFAULT_TICK_MS) : undefined;
  try {
    for (;;) {
      const batch = await queue.pull(1, tickMs);
      if (batch === null) break;
      if (batch.length === 0) {
        if (state.failed) continue;
        await driver.tick(Date.now(), null);
        continue;
      }
      const env = batch[0]!;
      const summary = Array.isArray(env.records) ? summaryOf(env.records) : undefined;
      if (summary === undefined) await driver.runBatch(env.records, env.ack);
      else if (await driver.runSummary(summary.value, summary.n, passes, env.ack)) st.add('summaries_merged', 1);
      else {
        // refused (a record of the batch would be late now): the whole records, through `process`
        st.add('summaries_refused', 1);
        await driver.runBatch(await fetchSummarised(env.records as Rec[], name), env.ack);
      }
      if (Array.isArray(env.records)) released(env.records);
      else lineBlocks.release(env.records); // read to its end: its memory back to the pool (block-pool.ts)
      env.ack?.release();
    }
    await restoring;
    if (!state.failed) await driver.finish(null);
  } catch (err) {
    state.fail(err, 'SLUICE_E_RUNTIME', name);
  } finally {
    state.endOutputs(name);
  }
}
