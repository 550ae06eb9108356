/**
 * A sink node: takes up to 64 envelopes at a time from its input queue, writes each, and flushes
 * at most every `flush_interval` (group commit) and at the end: records written when the last flush
 * is more than the interval ago (or there was none yet) are flushed at once, others when it is up.
 * A flush releases the acks of the envelopes written before it: that is when their sources'
 * `onDurable` may run, and only then.
 *
 * `write` and `flush` are retried with backoff while they fail with transient errors (see
 * retry.ts; the delay doubles up to `settings.retry_max_delay`): the sink takes nothing meanwhile, so its queue fills and the pipeline pauses behind
 * it (the source's `emit` stays pending). Retries stop when the run fails; a graceful stop waits
 * for the service, since its drain needs the flush (a second signal exits at once).
 *
 * A sink with an encoder (API 1.4, sink-encode.ts) is given every batch through `writeEncoded`:
 * batches a worker encoded as they come, the others encoded here first (once, before the retries).
 */
import type { EncodedBatch, SinkEncoder, SinkInstance } from '../../api.js';
import { envelopeSize, recordsOf, type Ack, type Envelope } from '../acks.js';
import { checkEncoded } from '../sink-encode.js';
import { retrying, type BackoffPolicy, type RetryOptions } from '../../util/retry.js';
import { RunError } from '../run-error.js';
import type { RunState } from '../state.js';

/** Envelopes a sink takes from its queue at once. */
const SINK_PULL = 64;

export async function runSink(state: RunState, name: string, sink: SinkInstance, policy?: Partial<BackoffPolicy>, encoder?: SinkEncoder): Promise<void> {
  const queue = state.queues.get(name)!;
  const st = state.stats.get(name)!;
  const interval = state.spec.settings.flushIntervalMs;
  const logger = state.logger;
  // settings.retry_max_delay caps the backoff (default 5 s, not retry.ts's 30 s): a stream must not
  // sit idle for up to 30 s after its broker came back. `policy` (tests) overrides it.
  const capped: Partial<BackoffPolicy> = { maxDelayMs: state.spec.settings.retryMaxDelayMs, ...policy };
  const retry = (what: string): RetryOptions => ({ what, node: name, logger, metrics: st, signal: state.failSignal, policy: capped });
  const onWrite = retry('write');
  const onFlush = retry('flush');
  let pending: Ack[] = []; // acks of envelopes written since the last flush
  // Records written since the last flush, acked or not: what a processor's `tick` emits carries no
  // ack, and must still be flushed within `flush_interval` rather than wait for the next batch.
  let dirty = false;
  // No flush yet: the run's first records are flushed as soon as they are written, as records are after
  // any quiet spell longer than the interval (time to detection: a run's first alert does not wait for it).
  let lastFlush = Number.NEGATIVE_INFINITY;
  const obs = state.observer;
  const flush = async (): Promise<void> => {
    const t0 = obs ? performance.now() : 0;
    try {
      await retrying(() => sink.flush(), onFlush);
      obs?.timing(name, 'flush', (performance.now() - t0) / 1000);
    } catch (err) {
      throw new RunError('SLUICE_E_SINK_FLUSH', name, `flush failed: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    lastFlush = Date.now();
    dirty = false;
    const done = pending;
    pending = [];
    for (const a of done) a.release();
  };
  try {
    for (;;) {
      const wait = Math.max(1, interval - (Date.now() - lastFlush));
      const batch = await queue.pull(SINK_PULL, dirty ? wait : undefined);
      if (batch === null) break;
      for (const env of batch) {
        st.received(envelopeSize(env));
        const t0 = obs ? performance.now() : 0;
        if (encoder !== undefined) {
          const enc = encodedOf(env, encoder, name);
          await retrying(() => sink.writeEncoded!(enc), onWrite);
        } else await retrying(() => sink.write(recordsOf(env)), onWrite);
        obs?.timing(name, 'write', (performance.now() - t0) / 1000);
        if (env.ack) pending.push(env.ack);
        dirty = true;
      }
      if (dirty && Date.now() - lastFlush >= interval) await flush();
    }
    if (!state.failed) await flush();
  } catch (err) {
    state.fail(err, 'SLUICE_E_RUNTIME', name);
  }
}

/** The envelope's batch encoded for the sink: as a worker encoded it, or encoded now. */
function encodedOf(env: Envelope, encoder: SinkEncoder, name: string): EncodedBatch {
  if (env.encoded !== undefined) return env.encoded;
  const records = recordsOf(env);
  try {
    return checkEncoded(encoder.encode(records), records.length, name);
  } catch (err) {
    throw new RunError('SLUICE_E_RUNTIME', name, `encode failed: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}
