/**
 * The run monitor: the one observer of a run (src/runtime/observer.ts) behind `--metrics`, `--ui`
 * and `--top`. It reads the run's own live statistics (NodeStats, queues) when asked — a scrape, a
 * tick of the status page — and keeps only what the runtime does not count anyway:
 *
 * - rejects by reason: the `error.code` of each record leaving an `invalid` port;
 * - the latest alerts (a short ring) and the detection latency of each alert;
 * - labelled plugin metrics (feeds per name, Kafka lag per partition) and plugin observations;
 * - batch timings (histograms), per node;
 * - taps: records sampled at a port, only while a tap is attached to it.
 *
 * Per-record work happens only on `invalid` and `alerts` ports (the records being counted) and on
 * tapped ports. Rates are taken over the last tick (`tick()`, once a second while something serves).
 *
 * A scheduled pipeline reruns with fresh statistics; counters here carry on across runs (what a
 * finished run counted is kept as a base), as Prometheus expects of a counter.
 */
import type { MetricLabels } from '../api.js';
import type { CompiledSpec } from '../graph/build.js';
import { batchSize, blockRecords, formatOrigin, type Batch, type Rec } from '../record.js';
import type { QueueDepth, RunObserver, RunPhase, RunView, TimingKind } from '../runtime/observer.js';

/** How many alerts the status page can show. */
const ALERTS_KEPT = 50;

export interface AlertView {
  /** When sluice raised it (ISO). */
  at: string;
  node: string;
  rule: string;
  /** The event's own time, when the alert carries one. */
  eventTime?: string;
  indicator?: string;
  indicatorType?: string;
  feed?: string;
  field?: string;
  matched?: string;
  /** The logged line (`event.original`), else the raw message, else the URL. */
  original?: string;
  origin?: string;
  severity?: string;
  /** For alerts without an indicator (windows, rules): the rule's description and the key it is about. */
  description?: string;
  subject?: string;
  /** Detection latency of this alert, seconds (see docs/operating.md). */
  latency?: number;
}

export interface NodeView {
  name: string;
  kind: string;
  plugin: string;
  in: number;
  out: Record<string, number>;
  metrics: Record<string, number>;
  /** Records per second over the last tick. */
  inRate: number;
  outRate: Record<string, number>;
  /** Share of the last tick spent in process/write (0–1, may exceed 1 with worker threads). */
  busy: number;
  queue?: { batches: number; records: number; capacity: number };
}

export interface EdgeView {
  from: string;
  port: string;
  to: string;
  /** Records sent along the edge (the producer's count on that port). */
  records: number;
  rate: number;
  queued: { batches: number; records: number };
}

export interface FeedView {
  node: string;
  feed: string;
  indicators?: number;
  /** Last load or refresh (ISO), its outcome. */
  lastRefresh?: string;
  ok?: boolean;
}

export interface Snapshot {
  pipeline: string;
  phase: RunPhase | 'idle';
  error?: string;
  runs: number;
  startedAt?: string;
  now: string;
  elapsedMs: number;
  totals: { recordsIn: number; invalid: number; alerts: number; written: number; inRate: number };
  nodes: NodeView[];
  edges: EdgeView[];
  rejects: { node: string; reason: string; count: number }[];
  feeds: FeedView[];
  alerts: AlertView[];
}

/** A labelled plugin metric: its last value (gauge) or total (counter). */
export interface LabelledValue {
  node: string;
  name: string;
  labels: Record<string, string>;
  op: 'add' | 'set';
  value: number;
}

export interface TimingSink {
  timing(node: string, what: TimingKind, seconds: number): void;
  observe(node: string, name: string, value: number, labels: MetricLabels | undefined): void;
  detection(node: string, seconds: number): void;
  eventLag(node: string, seconds: number): void;
}

/** One attached tap: records of `node.port`, at most `rate` a second, `limit` in all. */
export interface Tap {
  node: string;
  port: string;
  rate: number;
  limit: number;
  send(record: Rec): void;
  /** Called once, when the limit is reached or the run ends. */
  end(reason: string): void;
}

interface TapState {
  tap: Tap;
  tokens: number;
  last: number;
  sent: number;
}

interface Base {
  in: number;
  out: Record<string, number>;
}

export class RunMonitor implements RunObserver {
  private view: RunView | undefined;
  private phaseNow: RunPhase | 'idle' = 'idle';
  private errorNow: Error | undefined;
  private runs = 0;
  private readonly base = new Map<string, Base>();
  private readonly reasons = new Map<string, Map<string, number>>();
  private readonly recent: AlertView[] = [];
  private readonly labelledValues = new Map<string, LabelledValue>();
  private readonly taps = new Map<string, Set<TapState>>();
  private readonly timingSinks: TimingSink[] = [];
  private readonly listeners = new Set<(phase: RunPhase) => void>();
  /** Totals at the previous tick, and the process/write milliseconds since. */
  private prev: { at: number; in: Map<string, number>; out: Map<string, number> } | undefined;
  private rates = { at: 0, in: new Map<string, number>(), out: new Map<string, number>(), busy: new Map<string, number>() };
  private busyMs = new Map<string, number>();

  constructor(readonly spec: CompiledSpec) {}

  // --- RunObserver -------------------------------------------------------------------------

  attach(view: RunView): void {
    if (this.view) this.foldIntoBase(this.view);
    this.view = view;
    this.runs++;
    this.errorNow = undefined;
    this.prev = undefined;
  }

  phase(phase: RunPhase, error?: Error): void {
    this.phaseNow = phase;
    if (error) this.errorNow = error;
    if (phase === 'done' || phase === 'failed') {
      this.tick();
      for (const set of this.taps.values()) for (const t of set) t.tap.end(phase === 'done' ? 'the run ended' : 'the run failed');
      this.taps.clear();
    }
    for (const l of this.listeners) l(phase);
  }

  timing(node: string, what: TimingKind, seconds: number): void {
    if (what !== 'flush') this.busyMs.set(node, (this.busyMs.get(node) ?? 0) + seconds * 1000);
    for (const s of this.timingSinks) s.timing(node, what, seconds);
  }

  wants(node: string, port: string): boolean {
    return port === 'invalid' || port === 'alerts' || (this.taps.size > 0 && this.taps.has(`${node}.${port}`));
  }

  records(node: string, port: string, batch: Batch, ingestMs: number | undefined): void {
    const taps = this.taps.get(`${node}.${port}`);
    if (taps) this.sample(taps, batch);
    if (!Array.isArray(batch)) return; // a block of raw lines or messages: no reasons, no alerts in it
    if (port === 'invalid') this.countReasons(node, batch);
    else if (port === 'alerts') this.noteAlerts(node, batch, ingestMs);
  }

  observe(node: string, name: string, value: number, labels: MetricLabels | undefined): void {
    for (const s of this.timingSinks) s.observe(node, name, value, labels);
  }

  labelled(node: string, op: 'add' | 'set', name: string, value: number, labels: MetricLabels): void {
    const l: Record<string, string> = {};
    for (const k of Object.keys(labels).sort()) l[k] = String(labels[k]);
    const key = `${node}\u0000${name}\u0000${JSON.stringify(l)}`;
    const cur = this.labelledValues.get(key);
    if (cur && op === 'add') cur.value += value;
    else if (cur) cur.value = value;
    else this.labelledValues.set(key, { node, name, labels: l, op, value });
  }

  // --- what readers use --------------------------------------------------------------------

  get phaseName(): RunPhase | 'idle' {
    return this.phaseNow;
  }

  get runCount(): number {
    return this.runs;
  }

  get error(): Error | undefined {
    return this.errorNow;
  }

  /** Alive and not failed (the process answers at all: that is the rest of "healthy"). */
  get healthy(): boolean {
    return this.phaseNow !== 'failed';
  }

  /** Feeds loaded and instances created, sources started, not finished or failed. */
  get ready(): boolean {
    return this.phaseNow === 'running';
  }

  onPhase(fn: (phase: RunPhase) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  addTimingSink(s: TimingSink): void {
    this.timingSinks.push(s);
  }

  labelledMetrics(): LabelledValue[] {
    return [...this.labelledValues.values()];
  }

  /** Rejects counted so far, by node and reason code. */
  rejects(): { node: string; reason: string; count: number }[] {
    const out: { node: string; reason: string; count: number }[] = [];
    for (const [node, m] of this.reasons) for (const [reason, count] of m) out.push({ node, reason, count });
    return out;
  }

  /** Totals per node (this run plus what earlier runs of a schedule counted). */
  totals(): Map<string, { in: number; out: Record<string, number>; metrics: Record<string, number> }> {
    const res = new Map<string, { in: number; out: Record<string, number>; metrics: Record<string, number> }>();
    for (const name of this.spec.order) {
      const b = this.base.get(name);
      const st = this.view?.stats.get(name);
      const out: Record<string, number> = {};
      for (const p of this.spec.nodes.get(name)!.ports) out[p] = (b?.out[p] ?? 0) + (st?.out[p] ?? 0);
      if (st) for (const p in st.out) if (!(p in out)) out[p] = (b?.out[p] ?? 0) + st.out[p]!;
      res.set(name, { in: (b?.in ?? 0) + (st?.in ?? 0), out, metrics: st ? { ...st.metrics } : {} });
    }
    return res;
  }

  queues(): QueueDepth[] {
    return this.view?.queues() ?? [];
  }

  /** Why records of `node.port` cannot be tapped, or undefined when they can. */
  untappable(node: string, port: string): string | undefined {
    const n = this.spec.nodes.get(node);
    if (!n) return `no node named '${node}' (nodes: ${this.spec.order.join(', ')})`;
    if (n.kind === 'sink') return `'${node}' is a sink: it has no output ports; tap what it reads (${n.inputs.map((i) => `${i.node}.${i.port}`).join(', ')})`;
    if (!n.ports.includes(port)) return `node '${node}' has no port '${port}' (ports: ${n.ports.join(', ')})`;
    if (this.view?.hidden.has(`${node}.${port}`))
      return `'${node}.${port}' is passed on inside worker threads (settings.workers > 1) and never reaches the main thread; run with workers: 1 to tap it`;
    return undefined;
  }

  /** Attach a tap; returns a function that detaches it. */
  attachTap(tap: Tap): () => void {
    const key = `${tap.node}.${tap.port}`;
    let set = this.taps.get(key);
    if (!set) this.taps.set(key, (set = new Set()));
    const st: TapState = { tap, tokens: Math.min(tap.rate, tap.limit), last: Date.now(), sent: 0 };
    set.add(st);
    return () => this.detach(key, st);
  }

  /** Take the rates over the time since the previous tick (called once a second while served). */
  tick(): void {
    const now = Date.now();
    const totals = this.totals();
    const inNow = new Map<string, number>();
    const outNow = new Map<string, number>();
    for (const [name, t] of totals) {
      inNow.set(name, t.in);
      for (const p in t.out) outNow.set(`${name}.${p}`, t.out[p]!);
    }
    const prev = this.prev;
    if (prev && now > prev.at) {
      const secs = (now - prev.at) / 1000;
      const rin = new Map<string, number>();
      const rout = new Map<string, number>();
      const busy = new Map<string, number>();
      for (const [k, v] of inNow) rin.set(k, Math.max(0, v - (prev.in.get(k) ?? 0)) / secs);
      for (const [k, v] of outNow) rout.set(k, Math.max(0, v - (prev.out.get(k) ?? 0)) / secs);
      for (const [k, ms] of this.busyMs) busy.set(k, ms / (secs * 1000));
      this.rates = { at: now, in: rin, out: rout, busy };
    }
    this.busyMs = new Map();
    this.prev = { at: now, in: inNow, out: outNow };
  }

  snapshot(): Snapshot {
    const now = Date.now();
    const totals = this.totals();
    const queues = new Map(this.queues().map((q) => [q.node, q]));
    const nodes: NodeView[] = [];
    const edges: EdgeView[] = [];
    let recordsIn = 0;
    let invalid = 0;
    let alerts = 0;
    let written = 0;
    let inRate = 0;
    for (const name of this.spec.order) {
      const n = this.spec.nodes.get(name)!;
      const t = totals.get(name)!;
      const outRate: Record<string, number> = {};
      for (const p in t.out) outRate[p] = this.rates.out.get(`${name}.${p}`) ?? 0;
      const q = queues.get(name);
      nodes.push({
        name,
        kind: n.kind,
        plugin: n.plugin.def.name,
        in: t.in,
        out: t.out,
        metrics: t.metrics,
        inRate: this.rates.in.get(name) ?? 0,
        outRate,
        busy: this.rates.busy.get(name) ?? 0,
        queue: q ? { batches: q.batches, records: q.records, capacity: q.capacity } : undefined,
      });
      if (n.kind === 'source') {
        for (const p in t.out) {
          recordsIn += t.out[p]!;
          inRate += outRate[p]!;
        }
      }
      if (n.kind === 'sink') written += t.in;
      invalid += t.out.invalid ?? 0;
      alerts += t.out.alerts ?? 0;
      for (const input of n.inputs) {
        const e = q?.edges.find((x) => x.from === input.node && x.port === input.port);
        edges.push({
          from: input.node,
          port: input.port,
          to: name,
          records: totals.get(input.node)?.out[input.port] ?? 0,
          rate: this.rates.out.get(`${input.node}.${input.port}`) ?? 0,
          queued: { batches: e?.batches ?? 0, records: e?.records ?? 0 },
        });
      }
    }
    const started = this.view?.startedAt;
    return {
      pipeline: this.spec.name,
      phase: this.phaseNow,
      error: this.errorNow?.message,
      runs: this.runs,
      startedAt: started !== undefined ? new Date(started).toISOString() : undefined,
      now: new Date(now).toISOString(),
      elapsedMs: started !== undefined ? now - started : 0,
      totals: { recordsIn, invalid, alerts, written, inRate },
      nodes,
      edges,
      rejects: this.rejects(),
      feeds: this.feeds(),
      alerts: this.recent.slice().reverse(),
    };
  }

  /** Feeds as their plugins report them (labelled `feed_*` gauges; see docs/operating.md). */
  feeds(): FeedView[] {
    const by = new Map<string, FeedView>();
    for (const v of this.labelledValues.values()) {
      const feed = v.labels.feed;
      if (feed === undefined || !v.name.startsWith('feed_')) continue;
      const key = `${v.node}\u0000${feed}`;
      let f = by.get(key);
      if (!f) by.set(key, (f = { node: v.node, feed }));
      if (v.name === 'feed_indicators') f.indicators = v.value;
      else if (v.name === 'feed_last_refresh_timestamp_seconds') f.lastRefresh = new Date(v.value * 1000).toISOString();
      else if (v.name === 'feed_last_refresh_success') f.ok = v.value === 1;
    }
    return [...by.values()];
  }

  // --- internals ---------------------------------------------------------------------------

  private foldIntoBase(view: RunView): void {
    for (const [name, st] of view.stats) {
      const b = this.base.get(name) ?? { in: 0, out: {} };
      b.in += st.in;
      for (const p in st.out) b.out[p] = (b.out[p] ?? 0) + st.out[p]!;
      this.base.set(name, b);
    }
  }

  private countReasons(node: string, records: Rec[]): void {
    let m = this.reasons.get(node);
    if (!m) this.reasons.set(node, (m = new Map()));
    for (let i = 0; i < records.length; i++) {
      const err = records[i]!.error as { code?: unknown } | undefined;
      const code = typeof err?.code === 'string' ? err.code : 'UNKNOWN';
      m.set(code, (m.get(code) ?? 0) + 1);
    }
  }

  private noteAlerts(node: string, records: Rec[], ingestMs: number | undefined): void {
    const now = Date.now();
    const latency = ingestMs !== undefined ? Math.max(0, now - ingestMs) / 1000 : undefined;
    const at = new Date(now).toISOString();
    for (let i = 0; i < records.length; i++) {
      const a = alertView(records[i]!, node, at);
      a.latency = latency;
      if (latency !== undefined) for (const s of this.timingSinks) s.detection(node, latency);
      const t = a.eventTime !== undefined ? Date.parse(a.eventTime) : NaN;
      if (Number.isFinite(t)) for (const s of this.timingSinks) s.eventLag(node, Math.max(0, now - t) / 1000);
      this.recent.push(a);
    }
    if (this.recent.length > ALERTS_KEPT) this.recent.splice(0, this.recent.length - ALERTS_KEPT);
  }

  private sample(taps: Set<TapState>, batch: Batch): void {
    const n = batchSize(batch);
    if (n === 0) return;
    let records: Rec[] | undefined;
    const now = Date.now();
    for (const st of [...taps]) {
      const t = st.tap;
      st.tokens = Math.min(t.rate, st.tokens + ((now - st.last) / 1000) * t.rate);
      st.last = now;
      const take = Math.min(Math.floor(st.tokens), n, t.limit - st.sent);
      if (take <= 0) continue;
      records ??= Array.isArray(batch) ? batch : blockRecords(batch);
      // Spread over the batch rather than its head: a sample, not the first lines of each batch.
      const step = records.length / take;
      for (let k = 0; k < take; k++) t.send(records[Math.floor(k * step)]!);
      st.tokens -= take;
      st.sent += take;
      if (st.sent >= t.limit) {
        this.detach(`${t.node}.${t.port}`, st);
        t.end('limit reached');
      }
    }
  }

  private detach(key: string, st: TapState): void {
    const set = this.taps.get(key);
    if (!set) return;
    set.delete(st);
    if (set.size === 0) this.taps.delete(key);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** What the status page shows of an alert, taken from the record at once (it moves on to sinks). */
export function alertView(r: Rec, node: string, at: string): AlertView {
  const rule = r.rule as { name?: unknown; severity?: unknown; description?: unknown } | undefined;
  const event = r.event as { original?: unknown; severity?: unknown } | undefined;
  const url = r.url as { original?: unknown } | undefined;
  const enr = (r.threat as { enrichments?: unknown[] } | undefined)?.enrichments?.[0] as
    | { indicator?: { value?: unknown; type?: unknown; provider?: unknown }; matched?: { field?: unknown; atomic?: unknown } }
    | undefined;
  const original = str(event?.original) ?? str(r.message) ?? str(url?.original);
  const source = r.source as { ip?: unknown } | undefined;
  const user = r.user as { name?: unknown } | undefined;
  const win = r.window as { start?: unknown; end?: unknown } | undefined;
  const subject = [
    source?.ip !== undefined ? `source.ip ${str(source.ip)}` : '',
    user?.name !== undefined ? `user ${str(user.name)}` : '',
    win?.start !== undefined ? `window ${str(win.start)} – ${str(win.end)}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    at,
    node,
    rule: str(rule?.name) ?? node,
    eventTime: str(r['@timestamp']),
    indicator: str(enr?.indicator?.value),
    indicatorType: str(enr?.indicator?.type),
    feed: str(enr?.indicator?.provider),
    field: str(enr?.matched?.field),
    matched: str(enr?.matched?.atomic),
    original: original !== undefined && original.length > 2000 ? original.slice(0, 2000) + '…' : original,
    origin: r.origin ? formatOrigin(r.origin as never) : undefined,
    severity: str(rule?.severity) ?? str(event?.severity),
    description: str(rule?.description),
    subject: subject || undefined,
  };
}
