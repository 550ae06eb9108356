/**
 * Event-time window state of the `window` analyser: panes per key, a watermark, and an index of
 * when each key next has a window to close, so closing costs work only for keys that have one due
 * (never a scan of every key per batch).
 *
 * Windows start at multiples of `slide` since the Unix epoch (UTC) and cover [start, start + size).
 * A pane is a slice of width gcd(size, slide); a window is the union of the panes it covers.
 */
import type { Rec } from '../../../src/api.js';
import type { Pane, Plan } from './aggregates.js';

export type KeyId = string | number;

export interface KeyState {
  /** The key's id in `WindowState.keys` (index.ts, `process`: a string, or a number for an IPv4 address). */
  id: KeyId;
  values: unknown[];
  /** Panes with records, sorted by start. */
  panes: Pane[];
  /**
   * The pane the key's last record went to, while it is in `panes` (null once panes were freed):
   * the next record nearly always goes there too, found without reading `panes`.
   */
  last: Pane | null;
  /** Every window ending at or before this was emitted. */
  emittedEnd: number;
  /** End of the next window to close; the key is filed under it in the close index. */
  nextClose: number;
  live: boolean;
}

/** A window ready to be turned into a record. */
export interface ClosedWindow {
  key: KeyState;
  start: number;
  end: number;
  partial: boolean;
  /** Panes [from, to) of `key.panes` at the time of closing. */
  panes: Pane[];
  from: number;
  to: number;
  /** Its window record, once built (index.ts, `materialise`). */
  record: Rec | null;
}

export function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Min-heap of numbers (distinct close times; there are few of them). */
class TimeHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): number {
    return this.a[0]!;
  }
  push(x: number): void {
    const a = this.a;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

export class WindowState {
  readonly pane: number;
  readonly keys = new Map<KeyId, KeyState>();
  /** Close time → keys filed under it (entries go stale when a key's nextClose moves; checked on use). */
  private readonly buckets = new Map<number, KeyState[]>();
  private readonly times = new TimeHeap();

  constructor(
    readonly size: number,
    readonly slide: number,
    private readonly plan: Plan,
  ) {
    this.pane = gcd(size, slide);
  }

  private floorSlide(x: number): number {
    return Math.floor(x / this.slide) * this.slide;
  }
  private ceilSlide(x: number): number {
    return Math.ceil(x / this.slide) * this.slide;
  }

  /**
   * Add a record at event time `t` to `ks`, given its values of the plan's fields at `values[at…]`;
   * returns the pane it went to.
   */
  add(ks: KeyState, t: number, values: readonly unknown[], at: number): Pane {
    const start = Math.floor(t / this.pane) * this.pane;
    const last = ks.last;
    if (last !== null && last.start === start) {
      this.plan.add(last, values, at);
      return last;
    }
    const p = this.paneAt(ks, start);
    this.plan.add(p, values, at);
    return p;
  }

  /**
   * The pane of `ks` starting at `start` (a multiple of `pane`), made (and the key rescheduled when
   * it is now the first) if absent; it becomes `ks.last`. What `add` does before counting a record,
   * and what `merge` (index.ts) does for each pane of a batch summary.
   */
  paneAt(ks: KeyState, start: number): Pane {
    const panes = ks.panes;
    let i = panes.length - 1;
    // Records mostly arrive in time order: the pane is nearly always the last one.
    while (i >= 0 && panes[i]!.start > start) i--;
    let p: Pane;
    if (i >= 0 && panes[i]!.start === start) {
      p = panes[i]!;
    } else {
      p = this.plan.newPane(start);
      panes.splice(i + 1, 0, p);
      if (i === -1) this.schedule(ks);
    }
    ks.last = p;
    return p;
  }

  /** The pane of `ks` starting at `start`, if it has one. */
  findPane(ks: KeyState, start: number): Pane | undefined {
    const panes = ks.panes;
    for (let i = panes.length - 1; i >= 0; i--) {
      const s = panes[i]!.start;
      if (s === start) return panes[i];
      if (s < start) break;
    }
    return undefined;
  }

  /** A new key, registered in `keys` (the caller has checked it is absent). */
  newKey(id: KeyId, values: unknown[]): KeyState {
    const ks: KeyState = { id, values, panes: [], last: null, emittedEnd: -Infinity, nextClose: Infinity, live: true };
    this.keys.set(id, ks);
    return ks;
  }

  /** First window start that may still be emitted for `ks` (it has panes). */
  private nextStart(ks: KeyState): number {
    const a = this.ceilSlide(ks.panes[0]!.start + this.pane - this.size);
    if (ks.emittedEnd === -Infinity) return a;
    const b = this.floorSlide(ks.emittedEnd - this.size) + this.slide;
    return a > b ? a : b;
  }

  /** File `ks` under its next close time when that moved earlier. */
  private schedule(ks: KeyState): void {
    const t = this.nextStart(ks) + this.size;
    if (t >= ks.nextClose) return;
    ks.nextClose = t;
    let bucket = this.buckets.get(t);
    if (!bucket) {
      bucket = [];
      this.buckets.set(t, bucket);
      this.times.push(t);
    }
    bucket.push(ks);
  }

  /** Close every window ending at or before `watermark`, for every key. */
  advance(watermark: number, out: ClosedWindow[]): void {
    while (this.times.size && this.times.peek() <= watermark) {
      const t = this.times.pop();
      const bucket = this.buckets.get(t)!;
      this.buckets.delete(t);
      for (const ks of bucket) {
        if (ks.live && ks.nextClose === t) this.closeKey(ks, watermark, false, out);
      }
    }
  }

  /**
   * The key whose next window closes first (its data is the oldest), or undefined. Used to choose
   * which key to spill when `max_keys` is reached.
   */
  oldest(): KeyState | undefined {
    while (this.times.size) {
      const t = this.times.peek();
      const bucket = this.buckets.get(t)!;
      for (const ks of bucket) if (ks.live && ks.nextClose === t) return ks;
      this.times.pop();
      this.buckets.delete(t);
    }
    return undefined;
  }

  /** Emit every window of `ks` now, flagged partial, and forget the key. */
  spill(ks: KeyState, out: ClosedWindow[]): void {
    this.closeKey(ks, Infinity, true, out);
  }

  /** Emit every open window of every key (end of a finite run). */
  flushAll(out: ClosedWindow[]): void {
    this.advance(Infinity, out);
    // Every live key is filed in the index, so nothing should remain; be safe anyway.
    for (const ks of this.keys.values()) if (ks.live) this.closeKey(ks, Infinity, false, out);
    this.keys.clear();
  }

  private closeKey(ks: KeyState, watermark: number, partial: boolean, out: ClosedWindow[]): void {
    const panes = ks.panes;
    const size = this.size;
    const slide = this.slide;
    const pane = this.pane;
    let s = this.nextStart(ks);
    let i0 = 0;
    let lastEnd = ks.emittedEnd;
    for (;;) {
      const end = s + size;
      if (end > watermark) break;
      while (i0 < panes.length && panes[i0]!.start < s) i0++;
      if (i0 >= panes.length) break;
      if (panes[i0]!.start + pane > end) {
        // No pane in this window: jump to the first window holding the next pane.
        const jump = this.ceilSlide(panes[i0]!.start + pane - size);
        s = jump > s + slide ? jump : s + slide;
        continue;
      }
      let j = i0;
      while (j < panes.length && panes[j]!.start < end) j++;
      out.push({ key: ks, start: s, end, partial, panes, from: i0, to: j, record: null });
      lastEnd = end;
      s += slide;
    }
    ks.emittedEnd = lastEnd;
    // Free panes whose last window has been emitted. The ClosedWindow entries above keep their own
    // reference to the array, so replace it rather than splice it.
    let drop = 0;
    while (drop < panes.length && this.floorSlide(panes[drop]!.start) + size <= lastEnd) drop++;
    if (drop) {
      ks.panes = panes.slice(drop);
      ks.last = null;
    }
    ks.nextClose = Infinity;
    if (ks.panes.length === 0 || partial) {
      ks.live = false;
      this.keys.delete(ks.id);
    } else {
      this.schedule(ks);
    }
  }
}
