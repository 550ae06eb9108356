/**
 * Everything that watches a run from outside the runtime: the monitor (one observer per process),
 * Prometheus metrics, the HTTP server (/metrics, /healthz, /readyz, the status page, /events, /tap).
 * `sluice run --metrics ADDR --ui ADDR` calls `observe`; the same address serves both.
 */
import type { CompiledSpec } from '../graph/build.js';
import { PipelineMetrics } from './metrics.js';
import { RunMonitor } from './monitor.js';
import { ObserveServer, parseAddress, type Feature } from './server.js';

export { RunMonitor } from './monitor.js';
export type { Snapshot, NodeView, EdgeView, AlertView, FeedView } from './monitor.js';
export { PipelineMetrics } from './metrics.js';
export { ObserveServer, parseAddress } from './server.js';

export interface Observing {
  monitor: RunMonitor;
  metrics?: PipelineMetrics;
  /** What each address serves, and its URL. */
  listening: { features: Feature[]; url: string }[];
  close(): Promise<void>;
}

export async function observe(spec: CompiledSpec, opts: { metrics?: string; ui?: string; monitor?: RunMonitor }): Promise<Observing> {
  const monitor = opts.monitor ?? new RunMonitor(spec);
  const metrics = opts.metrics !== undefined ? new PipelineMetrics(monitor) : undefined;
  const byAddr = new Map<string, { host: string; port: number; features: Set<Feature> }>();
  for (const f of ['metrics', 'ui'] as const) {
    const addr = opts[f];
    if (addr === undefined) continue;
    const a = parseAddress(addr);
    const key = `${a.host}:${a.port}`;
    const e = byAddr.get(key) ?? { ...a, features: new Set<Feature>() };
    e.features.add(f);
    byAddr.set(key, e);
  }
  const servers: ObserveServer[] = [];
  const listening: Observing['listening'] = [];
  try {
    for (const e of byAddr.values()) {
      const s = new ObserveServer(monitor, e.features, metrics);
      const l = await s.listen(e.host, e.port);
      servers.push(s);
      listening.push({ features: [...e.features], url: l.url });
    }
  } catch (err) {
    for (const s of servers) await s.close();
    throw err;
  }
  return { monitor, metrics, listening, close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
}
