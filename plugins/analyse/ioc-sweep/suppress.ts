/**
 * Alert-flood suppression. The first alert of a key is emitted at once and opens a window of
 * `period` (event time: the alert's `@timestamp`, wall clock when it has none). Repeats inside the
 * window are counted, not emitted. When the window closes — a later alert of any key moves event
 * time past it, or the input ends — and repeats were counted, ONE summary alert is emitted: the last
 * repeat, with `suppression: {count, first, last, period}`. The next alert of the key after the
 * window opens a new one and is emitted at once. Memory: one entry per key with an open window.
 */
import { getPath, type Rec } from '../../../src/api.js';

interface Entry {
  until: number;
  count: number;
  last: Rec | null;
  first: string;
  lastTs: string;
}

export class Suppressor {
  private readonly open = new Map<string, Entry>();
  private eventTime = -Infinity;
  private nextExpiry = Infinity;
  suppressed = 0;

  constructor(
    private readonly keyFields: readonly string[],
    private readonly periodMs: number,
    private readonly periodText: string,
  ) {}

  private key(alert: Rec): string {
    const parts: unknown[] = [];
    for (const f of this.keyFields) {
      if (f === 'indicator') {
        // The matched indicators, as a set: the same hits in another order are the same key.
        const en = alert.threat?.enrichments;
        parts.push(
          Array.isArray(en)
            ? en
                .map((e: any) => `${e.indicator?.type}:${e.indicator?.value}`)
                .sort()
                .join(' ')
            : null,
        );
      } else parts.push(getPath(alert, f) ?? null);
    }
    return JSON.stringify(parts);
  }

  /** Offer one alert; returns what to emit now (0, 1 or 2 alerts: a closed window's summary, then this). */
  offer(alert: Rec, out: Rec[]): void {
    const parsed = Date.parse(alert['@timestamp']);
    const t = Number.isFinite(parsed) ? parsed : Date.now();
    if (t > this.eventTime) this.eventTime = t;
    if (this.eventTime >= this.nextExpiry) this.expire(this.eventTime, out);
    const k = this.key(alert);
    const e = this.open.get(k);
    if (e && t < e.until) {
      e.count++;
      e.last = alert;
      e.lastTs = alert['@timestamp'];
      this.suppressed++;
      return;
    }
    if (e) {
      this.summary(e, out);
      this.open.delete(k);
    }
    const until = t + this.periodMs;
    this.open.set(k, { until, count: 0, last: null, first: alert['@timestamp'], lastTs: alert['@timestamp'] });
    if (until < this.nextExpiry) this.nextExpiry = until;
    out.push(alert);
  }

  /** Close windows that ended by event time `now`. */
  private expire(now: number, out: Rec[]): void {
    let next = Infinity;
    for (const [k, e] of this.open) {
      if (e.until <= now) {
        this.summary(e, out);
        this.open.delete(k);
      } else if (e.until < next) next = e.until;
    }
    this.nextExpiry = next;
  }

  /** Let event time advance without an alert (the last record of a batch), closing ended windows. */
  tick(timestamp: unknown, out: Rec[]): void {
    if (typeof timestamp !== 'string' || this.open.size === 0) return;
    const t = Date.parse(timestamp);
    if (!Number.isFinite(t)) return;
    if (t > this.eventTime) this.eventTime = t;
    if (this.eventTime >= this.nextExpiry) this.expire(this.eventTime, out);
  }

  /** End of input: every open window with repeats reports. */
  flush(out: Rec[]): void {
    for (const e of this.open.values()) this.summary(e, out);
    this.open.clear();
    this.nextExpiry = Infinity;
  }

  private summary(e: Entry, out: Rec[]): void {
    if (e.count === 0 || !e.last) return;
    e.last.suppression = { count: e.count, window_start: e.first, last: e.lastTs, period: this.periodText };
    out.push(e.last);
  }
}
