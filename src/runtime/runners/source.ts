/**
 * A source node: `run(emit)` until the input is exhausted or the run's signal aborts.
 *
 * `emit` dispatches a batch to the queues of the source's consumers and resolves once every push
 * was accepted. A full queue makes it wait, and so does every queue behind it: when a sink stops
 * taking batches (slow, or retrying through an outage of its service), the queues between it and
 * the source fill and the source's `emit` promise simply stays pending until they drain. That is
 * the pause a source observes: a source that must keep a connection alive while paused (a Kafka
 * consumer pausing its fetches) learns it by awaiting `emit`, or by racing it against a timer.
 * `onDurable` runs once every sink the batch reached has flushed it (see acks.ts).
 */
import type { SourceInstance } from '../../api.js';
import type { SourceOutputs } from '../../record.js';
import { Ack } from '../acks.js';
import type { RunState } from '../state.js';

export async function runSource(state: RunState, name: string, source: SourceInstance): Promise<void> {
  const emit = async (outputs: SourceOutputs, onDurable?: () => void): Promise<void> => {
    if (state.failed) return;
    const ack = new Ack(onDurable);
    await state.dispatch(name, outputs, ack);
    ack.release(); // the source's own hold
  };
  try {
    await source.run(emit);
  } catch (err) {
    state.fail(err, 'SLUICE_E_RUNTIME', name);
  } finally {
    state.endOutputs(name);
  }
}
