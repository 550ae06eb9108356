/** Live per-node counters and the end-of-run summary. */
import type { CompiledNode, CompiledSpec } from '../graph/build.js';
import type { BoundedQueue } from './queue.js';

export class NodeStats {
  in = 0;
  readonly out: Record<string, number> = {};
  readonly metrics: Record<string, number> = {};
  constructor(readonly node: CompiledNode) {
    for (const p of node.ports) this.out[p] = 0;
  }
  received(n: number): void {
    this.in += n;
  }
  emitted(port: string, n: number): void {
    this.out[port] = (this.out[port] ?? 0) + n;
  }
  add(name: string, n: number): void {
    this.metrics[name] = (this.metrics[name] ?? 0) + n;
  }
  set(name: string, n: number): void {
    this.metrics[name] = n;
  }
}

export interface NodeSummary {
  node: string;
  kind: string;
  plugin: string;
  in: number;
  out: Record<string, number>;
  metrics: Record<string, number>;
  /** Highest number of batches its input queue held. */
  queueHighWater?: number;
  /** For sinks: where the records went. */
  target?: string;
}

export interface RunSummary {
  pipeline: string;
  elapsedMs: number;
  /** Records emitted by sources on every port (lines read, including those a source rejected). */
  recordsIn: number;
  /** Records that reached sinks (a record reaching two sinks counts twice). */
  recordsOut: number;
  /** Records emitted on `invalid` ports. */
  invalid: number;
  /** Records a node dropped on purpose (its `filtered` metric). */
  filtered: number;
  /** Records emitted on `alerts` ports. */
  alerts: number;
  /** recordsIn per second of wall time. */
  rate: number;
  nodes: NodeSummary[];
  stoppedBySignal?: boolean;
  /** Worker threads per parallel chain (1: none) and why (`settings.workers`, `--workers`, the `auto` rule). */
  /** `mainCopy`: one of the `count` copies is the main thread (workers.ts). */
  /** `started`: worker threads started during the run, where `auto` starts them only when the input is long enough (grow.ts). */
  workers?: { count: number; reason: string; mainCopy?: boolean; started?: number };
}

export function summarise(
  spec: CompiledSpec,
  stats: Map<string, NodeStats>,
  elapsedMs: number,
  queues: Map<string, BoundedQueue<unknown>>,
  targets: Map<string, string> = new Map(),
): RunSummary {
  let recordsIn = 0;
  let recordsOut = 0;
  let invalid = 0;
  let filtered = 0;
  let alerts = 0;
  const nodes: NodeSummary[] = [];
  for (const name of spec.order) {
    const st = stats.get(name)!;
    const n = st.node;
    if (n.kind === 'source') for (const v of Object.values(st.out)) recordsIn += v;
    if (n.kind === 'sink') recordsOut += st.in;
    invalid += st.out.invalid ?? 0;
    alerts += st.out.alerts ?? 0;
    filtered += st.metrics.filtered ?? 0;
    nodes.push({
      node: name,
      kind: n.kind,
      plugin: n.plugin.def.name,
      in: st.in,
      out: { ...st.out },
      metrics: { ...st.metrics },
      queueHighWater: queues.get(name)?.highWater,
      target: targets.get(name),
    });
  }
  return { pipeline: spec.name, elapsedMs, recordsIn, recordsOut, invalid, filtered, alerts, rate: elapsedMs > 0 ? (recordsIn * 1000) / elapsedMs : 0, nodes };
}
