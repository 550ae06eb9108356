import type { EncodedBatch } from '../api.js';
import { blockRecords, type Batch, type Rec } from '../record.js';
/**
 * End-to-end acknowledgement of one source batch. The batch starts with one hold (its source's);
 * every envelope derived from it that enters a queue adds a hold; a processor releases its hold
 * when it has dispatched its outputs, a sink when its flush made the records durable. When the
 * last hold goes, the source's `onDurable` runs and the source may commit.
 */
export class Ack {
  private holds = 1;
  /** When the source emitted the batch (`Date.now()`): detection latency is measured from it. */
  readonly at = Date.now();

  constructor(private readonly onDurable: (() => void) | undefined) {}

  retain(): void {
    if (this.holds <= 0) throw new Error('ack retained after it completed');
    this.holds++;
  }

  release(): void {
    if (--this.holds === 0 && this.onDurable) this.onDurable();
    if (this.holds < 0) throw new Error('ack released more often than retained');
  }

  get done(): boolean {
    return this.holds === 0;
  }
}

export interface Envelope {
  /** Records, or a block from a line or Kafka source (turned into records where they are read). */
  records: Batch;
  /** Null for records a processor emits on its own (closed windows at finish). */
  ack: Ack | null;
  /** The edge it came along, `node.port` (per-edge queue depths, when a run is observed). */
  from?: string;
  /** For a sink that encodes in worker threads: the batch, encoded (`records` is then empty). */
  encoded?: EncodedBatch;
}

/** How many records an envelope carries. */
export function envelopeSize(env: Envelope): number {
  return env.encoded !== undefined ? env.encoded.count : Array.isArray(env.records) ? env.records.length : env.records.records;
}

/** The records of an envelope, building them from a block the first time they are needed. */
export function recordsOf(env: Envelope): Rec[] {
  const b = env.records;
  if (Array.isArray(b)) return b;
  const recs = blockRecords(b);
  env.records = recs;
  return recs;
}
