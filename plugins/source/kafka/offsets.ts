/**
 * Which offsets the `kafka` source may commit. Per partition, a batch is registered when kafkajs
 * hands it over (before it is emitted) and marked durable when every sink it reached made it
 * durable. The offset to commit is the first offset of the oldest batch not yet durable — or,
 * when none is outstanding, the end of the furthest durable batch: so a commit never passes a
 * message that is not durable, whatever order batches complete in, and a batch read twice (the
 * group re-reads from the committed offset after a rebalance) is simply outstanding twice.
 *
 * Offsets are kept as bigint: Kafka's are 64-bit.
 */
export interface BatchRef {
  readonly key: string;
  readonly first: bigint;
  /** Last offset of the batch + 1. */
  readonly end: bigint;
  done: boolean;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Outstanding batches in registration order (offsets rise within one read; a re-read starts lower). */
  open: BatchRef[];
  /** End of the furthest durable batch. */
  durableEnd: bigint;
  /** The last offset handed to commit (committed, or being committed). */
  committed: bigint;
}

export interface CommitPoint {
  topic: string;
  partition: number;
  /** The next offset to read, as Kafka commits it. */
  offset: string;
}

export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class OffsetTracker {
  private readonly parts = new Map<string, PartitionState>();

  private state(topic: string, partition: number): PartitionState {
    const key = partitionKey(topic, partition);
    let st = this.parts.get(key);
    if (!st) {
      st = { topic, partition, open: [], durableEnd: -1n, committed: -1n };
      this.parts.set(key, st);
    }
    return st;
  }

  /** A batch of `[first, last]` was handed over; it is outstanding until `durable(ref)`. */
  register(topic: string, partition: number, first: bigint, last: bigint): BatchRef {
    const st = this.state(topic, partition);
    // Where reading started is as far as the group's commit already is: nothing to commit below it.
    if (st.committed < 0n && !st.open.length && st.durableEnd < 0n) st.committed = first;
    const ref: BatchRef = { key: partitionKey(topic, partition), first, end: last + 1n, done: false };
    st.open.push(ref);
    return ref;
  }

  /** Every sink the batch reached made it durable. */
  durable(ref: BatchRef): void {
    if (ref.done) return;
    ref.done = true;
    const st = this.parts.get(ref.key);
    if (!st) return; // the partition was given up (revoked) meanwhile
    if (ref.end > st.durableEnd) st.durableEnd = ref.end;
    // Drop done batches from the front; a done batch behind an outstanding one stays (it still
    // counts in durableEnd, and the outstanding one holds the commit back).
    let i = 0;
    while (i < st.open.length && st.open[i]!.done) i++;
    if (i) st.open.splice(0, i);
  }

  /** The offset partition `topic/partition` may commit now: undefined when nothing was made durable. */
  private committable(st: PartitionState): bigint | undefined {
    if (st.durableEnd < 0n) return undefined; // nothing made durable yet: nothing to say
    let min: bigint | undefined;
    for (const b of st.open) if (!b.done && (min === undefined || b.first < min)) min = b.first;
    return min !== undefined && min < st.durableEnd ? min : st.durableEnd;
  }

  /** Commit points that advance past what was last taken, marking them taken. */
  take(): CommitPoint[] {
    const out: CommitPoint[] = [];
    for (const st of this.parts.values()) {
      const c = this.committable(st);
      if (c !== undefined && c > st.committed) {
        st.committed = c;
        out.push({ topic: st.topic, partition: st.partition, offset: c.toString() });
      }
    }
    return out;
  }

  /** A commit failed: offer these points again on the next `take`. */
  untake(points: readonly CommitPoint[]): void {
    for (const p of points) {
      const st = this.parts.get(partitionKey(p.topic, p.partition));
      if (st && st.committed === BigInt(p.offset)) st.committed = -1n;
    }
  }

  /**
   * The partitions now assigned to this member. Others are forgotten: their outstanding batches,
   * when they become durable, commit nothing (the new owner reads from the last commit again).
   */
  assigned(keys: ReadonlySet<string>): string[] {
    const dropped: string[] = [];
    for (const [key, st] of this.parts) {
      if (!keys.has(key)) {
        this.parts.delete(key);
        dropped.push(`${st.topic}/${st.partition}`);
      } else {
        // Kept: commit its durable prefix again at the next chance. kafkajs drops a commit
        // silently while its consumer restarts, and the group reads again from the broker's offset.
        st.committed = -1n;
      }
    }
    return dropped;
  }

  /**
   * Where each kept partition may be read from again without re-reading durable work: its
   * committable offset (the first message not yet durable in every sink), for partitions that have
   * one. After the consumer rejoined its group, reading from there instead of from the broker's
   * commit skips what was made durable while no commit could reach the broker (an outage, a
   * consumer restart); a batch still in flight is at or after it, so it is read again, never skipped.
   */
  resumePoints(): CommitPoint[] {
    const out: CommitPoint[] = [];
    for (const st of this.parts.values()) {
      const c = this.committable(st);
      if (c !== undefined) out.push({ topic: st.topic, partition: st.partition, offset: c.toString() });
    }
    return out;
  }

  /** Batches handed over and not yet durable, all partitions. */
  get outstanding(): number {
    let n = 0;
    for (const st of this.parts.values()) for (const b of st.open) if (!b.done) n++;
    return n;
  }
}
