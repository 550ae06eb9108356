/**
 * Watermarks per source partition for the `window` analyser, and the effective watermark that
 * closes windows (docs/rules.md, "Time, watermark, lateness").
 *
 * - A partition is where a record came from, by its `origin`: `topic/partition` for a Kafka record,
 *   the file path for a file (or HDFS) record, and one partition for records without an origin.
 * - A partition's watermark is the greatest event time seen from it minus `allowed_lateness`.
 * - A partition is **idle** once it sent nothing for `idle_timeout` of wall-clock time.
 * - The effective watermark is the smallest watermark of the partitions that are not idle (the
 *   usual rule for an operator with several inputs: one fast partition does not make the records
 *   of a slower one late). When every partition is idle, it is the greatest idle partition's
 *   watermark advanced by the wall-clock time it has been idle beyond `idle_timeout`: a quiet stream
 *   keeps closing windows, at most `idle_timeout` later than a busy one would.
 * - It never moves back: `closed` is the greatest effective watermark applied so far, and every
 *   window ending at or before it was emitted.
 *
 * With one partition and no idle timeout this is exactly the single global watermark of before.
 */
import type { Origin } from '../../../src/api.js';

export interface Partition {
  /** `topic/partition`, the file path, or '' for records without an origin. */
  readonly key: string;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly file: string | undefined;
  /** Greatest event time seen from this partition. */
  maxT: number;
  /** maxT − allowed_lateness: records older than this are late. */
  wm: number;
  /** Wall-clock time (ms) of the last record from this partition. */
  lastSeen: number;
}

export class Watermarks {
  private readonly parts = new Map<string, Partition>();
  /** The effective watermark applied so far (monotone). */
  closed = -Infinity;

  constructor(
    /** `Infinity` for `idle_timeout: never`. */
    private readonly idleMs: number,
  ) {}

  get size(): number {
    return this.parts.size;
  }

  /** The partitions, for tests and metrics. */
  partitions(): IterableIterator<Partition> {
    return this.parts.values();
  }

  /** The partition of a record with `origin`; `prev` (the last record's) is reused when it matches. */
  of(o: Origin | null | undefined, prev: Partition | undefined): Partition {
    if (o === null || o === undefined || typeof o !== 'object') {
      return prev !== undefined && prev.key === '' ? prev : this.get('', '', undefined, undefined, undefined);
    }
    const topic = o.topic;
    if (topic !== undefined) {
      if (prev !== undefined && prev.topic === topic && prev.partition === o.partition) return prev;
      return this.get('k\u0000' + topic + '\u0000' + o.partition, `${topic}/${o.partition}`, topic, o.partition, undefined);
    }
    const file = o.file;
    if (file === undefined) return prev !== undefined && prev.key === '' ? prev : this.get('', '', undefined, undefined, undefined);
    if (prev !== undefined && prev.file === file) return prev;
    return this.get('f\u0000' + file, file, undefined, undefined, file);
  }

  /** The partition of a record with `origin` when there is one already; never makes one (see `of`). */
  find(o: Origin | null | undefined): Partition | undefined {
    return this.parts.get(partitionId(o));
  }

  private get(id: string, key: string, topic: string | undefined, partition: number | undefined, file: string | undefined): Partition {
    let p = this.parts.get(id);
    if (p === undefined) {
      p = { key, topic, partition, file, maxT: -Infinity, wm: -Infinity, lastSeen: 0 };
      this.parts.set(id, p);
    }
    return p;
  }

  /**
   * The effective watermark at wall-clock `now` (see the module comment); it becomes `closed`.
   * Idle partitions that can no longer move it (their advanced watermark is behind `closed`) are
   * forgotten: a record from one later starts it afresh, and is judged against `closed`, which is
   * at least where the forgotten watermark was — so forgetting changes no verdict.
   */
  effective(now: number): number {
    const idleMs = this.idleMs;
    let anyActive = false;
    let minActive = Infinity;
    let maxIdle = -Infinity;
    for (const [id, p] of this.parts) {
      const quiet = now - p.lastSeen;
      if (quiet <= idleMs) {
        anyActive = true;
        if (p.wm < minActive) minActive = p.wm;
      } else {
        const advanced = p.wm + (quiet - idleMs);
        if (advanced < this.closed) this.parts.delete(id);
        else if (advanced > maxIdle) maxIdle = advanced;
      }
    }
    const e = anyActive ? minActive : maxIdle;
    if (e > this.closed) this.closed = e;
    return this.closed;
  }
}

/**
 * The id under which `Watermarks` files the partition of a record with `origin`, by the rule of
 * `Watermarks.of`: topic and partition, else the file path, else '' (one partition for the rest).
 */
export function partitionId(o: Origin | null | undefined): string {
  if (o === null || o === undefined || typeof o !== 'object') return '';
  const topic = o.topic;
  if (topic !== undefined) return 'k\u0000' + topic + '\u0000' + o.partition;
  const file = o.file;
  return file === undefined ? '' : 'f\u0000' + file;
}
