/**
 * Prometheus metrics of a run (prom-client), read from the run monitor at each scrape. Counters
 * and gauges are collected from the run's own statistics when scraped (no counting on the way);
 * histograms are observed as batches complete. Names follow Prometheus conventions: `sluice_`
 * prefix, `_total` on counters, base units (`_seconds`, `_bytes`) in the name. The list, with the
 * meaning of each, is in docs/operating.md.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricLabels } from '../api.js';
import type { TimingKind } from '../runtime/observer.js';
import type { RunMonitor } from './monitor.js';

/** Batch times: 100 µs to 30 s. */
const BATCH_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Ingest → alert: 1 ms to 5 min. */
const DETECTION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Event time → alert: 1 s to a week (replays of old logs land in the last buckets). */
const EVENT_LAG_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 21600, 86400, 604800];

/**
 * Labelled plugin metrics with a metric of their own: plugin name → [metric, help, label names].
 * Any other labelled metric is `sluice_node_labelled_metric{node,name,labels}`.
 */
const WELL_KNOWN: Record<string, [string, string, string[]]> = {
  consumer_lag: [
    'sluice_kafka_consumer_lag',
    "Messages between the consumer group's position and the end of the partition (Kafka sources).",
    ['topic', 'partition'],
  ],
  feed_indicators: ['sluice_feed_indicators', 'Indicators loaded from a threat-intel feed (the set in use).', ['feed']],
  feed_last_refresh_timestamp_seconds: ['sluice_feed_last_refresh_timestamp_seconds', 'Unix time of the last load or refresh attempt of a feed.', ['feed']],
  feed_last_refresh_success: [
    'sluice_feed_last_refresh_success',
    '1 if the last load or refresh of a feed succeeded, 0 if it failed (the last good set is kept).',
    ['feed'],
  ],
};

/** Plugin observations with a histogram of their own; others go to sluice_node_observation. */
const WELL_KNOWN_OBSERVATIONS: Record<string, [string, string, number[]]> = {
  flush_seconds: [
    'sluice_plugin_flush_duration_seconds',
    'Time a plugin reports for one flush of its own (e.g. a Kafka produce, an HDFS close and rename).',
    BATCH_BUCKETS,
  ],
};

const labelText = (l: Record<string, string>): string =>
  Object.keys(l)
    .map((k) => `${k}=${l[k]}`)
    .join(',');

export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly batch: Histogram<'node' | 'stage'>;
  private readonly flush: Histogram<'node'>;
  private readonly detection: Histogram<'node'>;
  private readonly eventLag: Histogram<'node'>;
  private readonly nodeObservation: Histogram<'node' | 'name' | 'labels'>;
  private readonly pluginObservations = new Map<string, Histogram<string>>();

  constructor(monitor: RunMonitor) {
    const r = this.registry;
    const pipeline = monitor.spec.name;
    r.setDefaultLabels({ pipeline });
    collectDefaultMetrics({ register: r });
    const spec = monitor.spec;

    new Gauge({
      name: 'sluice_pipeline_info',
      help: 'The pipeline this process runs: its spec file (value 1).',
      labelNames: ['spec'],
      registers: [r],
      collect() {
        this.set({ spec: spec.file }, 1);
      },
    });
    new Gauge({
      name: 'sluice_run_phase',
      help: 'The current run phase: 1 for the phase the run is in (preparing, running, done, failed, idle).',
      labelNames: ['phase'],
      registers: [r],
      collect() {
        for (const p of ['idle', 'preparing', 'running', 'done', 'failed']) this.set({ phase: p }, monitor.phaseName === p ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sluice_ready',
      help: '1 when feeds are loaded, instances created and sources started (what /readyz answers).',
      registers: [r],
      collect() {
        this.set(monitor.ready ? 1 : 0);
      },
    });
    new Counter({
      name: 'sluice_runs_total',
      help: 'Runs started by this process (a scheduled pipeline runs many times).',
      registers: [r],
      collect() {
        this.reset();
        this.inc(monitor.runCount);
      },
    });

    new Counter({
      name: 'sluice_records_in_total',
      help: 'Records a node took from its input (sources: none; see sluice_records_out_total).',
      labelNames: ['node'],
      registers: [r],
      collect() {
        this.reset();
        for (const [node, t] of monitor.totals()) if (spec.nodes.get(node)!.kind !== 'source') this.inc({ node }, t.in);
      },
    });
    new Counter({
      name: 'sluice_records_out_total',
      help: 'Records a node emitted, per output port (invalid, alerts, ... included).',
      labelNames: ['node', 'port'],
      registers: [r],
      collect() {
        this.reset();
        for (const [node, t] of monitor.totals()) for (const port in t.out) this.inc({ node, port }, t.out[port]!);
      },
    });
    new Counter({
      name: 'sluice_rejects_total',
      help: 'Records a node sent to its invalid port, by reason code (error.code).',
      labelNames: ['node', 'reason'],
      registers: [r],
      collect() {
        this.reset();
        for (const x of monitor.rejects()) this.inc({ node: x.node, reason: x.reason }, x.count);
      },
    });
    new Gauge({
      name: 'sluice_queue_batches',
      help: "Batches waiting in a node's input queue, per edge they came along (from = producer.port).",
      labelNames: ['node', 'from'],
      registers: [r],
      collect() {
        this.reset();
        for (const q of monitor.queues()) for (const e of q.edges) this.set({ node: q.node, from: `${e.from}.${e.port}` }, e.batches);
      },
    });
    new Gauge({
      name: 'sluice_queue_records',
      help: "Records waiting in a node's input queue, per edge.",
      labelNames: ['node', 'from'],
      registers: [r],
      collect() {
        this.reset();
        for (const q of monitor.queues()) for (const e of q.edges) this.set({ node: q.node, from: `${e.from}.${e.port}` }, e.records);
      },
    });
    new Gauge({
      name: 'sluice_queue_capacity_batches',
      help: "Capacity of a node's input queue, in batches (settings.queue_batches).",
      labelNames: ['node'],
      registers: [r],
      collect() {
        this.reset();
        for (const q of monitor.queues()) this.set({ node: q.node }, q.capacity);
      },
    });
    new Gauge({
      name: 'sluice_node_metric',
      help: "A plugin's own counter or gauge (ctx.metrics.add/set without labels), as the run summary shows it.",
      labelNames: ['node', 'name'],
      registers: [r],
      collect() {
        this.reset();
        for (const [node, t] of monitor.totals()) for (const name in t.metrics) this.set({ node, name }, t.metrics[name]!);
      },
    });
    new Gauge({
      name: 'sluice_node_labelled_metric',
      help: "A plugin's labelled counter or gauge without a metric of its own; labels as k=v,k=v.",
      labelNames: ['node', 'name', 'labels'],
      registers: [r],
      collect() {
        this.reset();
        for (const v of monitor.labelledMetrics()) if (!WELL_KNOWN[v.name]) this.set({ node: v.node, name: v.name, labels: labelText(v.labels) }, v.value);
      },
    });
    for (const [plugin, [name, help, labels]] of Object.entries(WELL_KNOWN)) {
      new Gauge({
        name,
        help,
        labelNames: ['node', ...labels],
        registers: [r],
        collect() {
          this.reset();
          for (const v of monitor.labelledMetrics()) {
            if (v.name !== plugin) continue;
            const l: Record<string, string> = { node: v.node };
            for (const k of labels) l[k] = v.labels[k] ?? '';
            this.set(l, v.value);
          }
        },
      });
    }

    this.batch = new Histogram({
      name: 'sluice_batch_duration_seconds',
      help: "Time one batch took in a node: a processor's process (summed over chunks; in worker threads too), a sink's write.",
      labelNames: ['node', 'stage'],
      buckets: BATCH_BUCKETS,
      registers: [r],
    });
    this.flush = new Histogram({
      name: 'sluice_sink_flush_duration_seconds',
      help: 'Time a sink took to make what it was given durable (flush: fsync, HDFS close/rename, Kafka acks), retries included.',
      labelNames: ['node'],
      buckets: BATCH_BUCKETS,
      registers: [r],
    });
    this.detection = new Histogram({
      name: 'sluice_detection_latency_seconds',
      help: 'Ingest to alert: from the source handing sluice the batch that held the event to the analyser emitting the alert.',
      labelNames: ['node'],
      buckets: DETECTION_BUCKETS,
      registers: [r],
    });
    this.eventLag = new Histogram({
      name: 'sluice_alert_event_lag_seconds',
      help: "Event time to alert: from the event's @timestamp to the analyser emitting the alert (includes delivery delay; replays are old).",
      labelNames: ['node'],
      buckets: EVENT_LAG_BUCKETS,
      registers: [r],
    });
    this.nodeObservation = new Histogram({
      name: 'sluice_node_observation',
      help: "A plugin's own observation (ctx.metrics.observe) without a metric of its own; labels as k=v,k=v. Units are in name.",
      labelNames: ['node', 'name', 'labels'],
      buckets: BATCH_BUCKETS,
      registers: [r],
    });

    monitor.addTimingSink({
      timing: (node: string, what: TimingKind, s: number) =>
        what === 'flush' ? this.flush.observe({ node }, s) : this.batch.observe({ node, stage: what }, s),
      observe: (node: string, name: string, v: number, labels: MetricLabels | undefined) => this.observation(node, name, v, labels),
      detection: (node: string, s: number) => this.detection.observe({ node }, s),
      eventLag: (node: string, s: number) => this.eventLag.observe({ node }, s),
    });
  }

  private observation(node: string, name: string, value: number, labels: MetricLabels | undefined): void {
    const known = WELL_KNOWN_OBSERVATIONS[name];
    if (!known) {
      const l: Record<string, string> = {};
      if (labels) for (const k of Object.keys(labels).sort()) l[k] = String(labels[k]);
      this.nodeObservation.observe({ node, name, labels: labelText(l) }, value);
      return;
    }
    let h = this.pluginObservations.get(name);
    if (!h) {
      h = new Histogram({ name: known[0], help: known[1], labelNames: ['node'], buckets: known[2], registers: [this.registry] });
      this.pluginObservations.set(name, h);
    }
    h.observe({ node }, value);
  }

  /** The Prometheus text exposition. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
