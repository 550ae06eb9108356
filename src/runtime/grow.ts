/**
 * When `workers: auto` starts a chain's worker threads on input of known size (workers.ts
 * `GrowRule`): the main thread runs the chain as its own copy from the first batch, measures how
 * fast it gets through the input's bytes, and the worker threads start only once the rest of the
 * input would take it longer than `afterSeconds` alone. A worker costs a V8 isolate, the plugin
 * modules loaded and compiled again, and a second heap to collect — CPU that a short input never
 * earns back in wall time (bench/RESULTS.md, "Worker threads started when the rest of the input
 * is long enough").
 *
 * The rate is the main copy's own, in input bytes per second of running the chain: the fastest of
 * its batches since `WARM_BATCHES` have run, once `MEASURED_BATCHES` have been timed. The first
 * batches run while the code is still being compiled (on the bench's sweep the first three 1 MiB
 * blocks took 38, 44 and 20 ms, every later one 4–5 ms), and now and then a later one waits on a
 * collection, a late compile or a busy host: the fastest is the rate the chain keeps, and the workers
 * start only if even at that rate the rest is long. (The fastest of the latest four only, as first
 * written, started the worker on a 1M-line sweep when a noisy host slowed four batches in a row.) A
 * chain with smaller batches may still be warming then: its rate looks slower and the workers start
 * sooner, as they would have before the run. A batch whose bytes cannot be
 * told (records not made from lines) counts as unmeasured: the workers then start at once.
 */
import type { Batch } from '../record.js';

export interface GrowRule {
  /** The run's input, in bytes (the sources' `inputBytes`, summed). */
  inputBytes: number;
  /** Start the workers when the rest of the input would keep the main thread this long. */
  afterSeconds: number;
}

/** Batches the main copy runs before its rate is measured: they are spent compiling. */
const WARM_BATCHES = 3;
/** Batches timed (after the warm-up) before the rate is trusted. */
const MEASURED_BATCHES = 4;

export class GrowWatch {
  private dealt = 0;
  private ran = 0;
  /** Batches timed after the warm-up, and the fastest of them in bytes per millisecond. */
  private measured = 0;
  private perMs = 0;
  private unmeasured = false;

  /** When the workers were started: how many, after how many input bytes, and the seconds of input the main thread had left. */
  grown: { threads: number; bytes: number; seconds: number } | undefined;

  constructor(readonly rule: GrowRule) {}

  /** A batch taken from the chain's input, whichever copy runs it. */
  dealtBatch(b: Batch): number {
    const n = batchBytes(b);
    if (n === undefined) this.unmeasured = true;
    else this.dealt += n;
    return n ?? 0;
  }

  /** A batch of `bytes` the main copy ran in `ms`. */
  ranOnMain(bytes: number, ms: number): void {
    if (this.ran++ < WARM_BATCHES) return;
    this.measured++;
    this.perMs = Math.max(this.perMs, bytes / Math.max(ms, 0.001));
  }

  /** Input bytes taken so far. */
  get bytesDealt(): number {
    return this.dealt;
  }

  /**
   * Seconds the rest of the input would keep the main thread at its measured rate, when that is
   * more than the rule's (start the workers now); undefined otherwise, or not measured yet.
   */
  due(): number | undefined {
    if (this.unmeasured) return Number.POSITIVE_INFINITY;
    if (this.measured < MEASURED_BATCHES || this.perMs === 0) return undefined;
    const seconds = Math.max(0, this.rule.inputBytes - this.dealt) / (this.perMs * 1000);
    return seconds > this.rule.afterSeconds ? seconds : undefined;
  }
}

/** The input bytes a batch holds: a block's, or a line record's message and its newline; undefined for other records. */
export function batchBytes(b: Batch): number | undefined {
  if (!Array.isArray(b)) return b.kind === 'lines' ? b.bytes.byteLength : undefined;
  let n = 0;
  for (const r of b) {
    const m = r.message;
    if (typeof m !== 'string') return undefined;
    n += m.length + 1;
  }
  return n;
}
