/**
 * A bounded FIFO between nodes. `push` waits while the queue is full — that wait is the
 * backpressure that slows a source down to the pace of its slowest consumer. Several producers
 * may feed one queue (fan-in); it ends when each of them has called `end()`.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  private producers: number;
  private failed = false;
  private spaceWaiters: Array<() => void> = [];
  private dataWaiter: (() => void) | null = null;
  /** The most items the queue ever held (tests check it never exceeds the capacity). */
  highWater = 0;

  constructor(
    readonly capacity: number,
    producers = 1,
  ) {
    if (capacity < 1) throw new Error('queue capacity must be at least 1');
    this.producers = producers;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get ended(): boolean {
    return this.producers <= 0 || this.failed;
  }

  async push(item: T): Promise<void> {
    while (this.length >= this.capacity && !this.failed) {
      await new Promise<void>((r) => this.spaceWaiters.push(r));
    }
    if (this.failed) return;
    this.items.push(item);
    const len = this.length;
    if (len > this.highWater) this.highWater = len;
    this.wakeConsumer();
  }

  /** Call `fn` for each item waiting, oldest first (observers: at most `capacity` items). */
  forEach(fn: (item: T) => void): void {
    for (let i = this.head; i < this.items.length; i++) fn(this.items[i]!);
  }

  /** One producer is done. */
  end(): void {
    this.producers--;
    this.wakeConsumer();
  }

  /** Abandon the queue (the run failed): waiting producers and consumers are released. */
  fail(): void {
    this.failed = true;
    this.items = [];
    this.head = 0;
    this.wakeConsumer();
    this.wakeProducers();
  }

  /**
   * Take up to `max` items, waiting for at least one. Returns `null` when the queue has ended
   * and is empty, or `[]` when `timeoutMs` passed with nothing to take.
   */
  async pull(max: number, timeoutMs?: number): Promise<T[] | null> {
    while (this.length === 0) {
      if (this.ended) return null;
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      await new Promise<void>((resolve) => {
        this.dataWaiter = resolve;
        if (timeoutMs !== undefined)
          timer = setTimeout(() => {
            timedOut = true;
            resolve();
          }, timeoutMs);
      });
      if (timer) clearTimeout(timer);
      this.dataWaiter = null;
      if (timedOut && this.length === 0) return this.ended ? null : [];
    }
    const n = Math.min(max, this.length);
    const items = this.items;
    const out = items.slice(this.head, this.head + n);
    // The slots taken are cleared at once: a queue that is never empty (a producer ahead of its
    // consumer) is compacted only every 1,024 items, and until then its array would keep every
    // batch already taken alive (with its records), up to a thousand batches.
    for (let i = this.head; i < this.head + n; i++) items[i] = undefined as T;
    this.head += n;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    } else if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    this.wakeProducers();
    return out;
  }

  private wakeConsumer(): void {
    const w = this.dataWaiter;
    if (w) {
      this.dataWaiter = null;
      w();
    }
  }

  private wakeProducers(): void {
    const ws = this.spaceWaiters;
    if (!ws.length) return;
    this.spaceWaiters = [];
    for (const w of ws) w();
  }
}
