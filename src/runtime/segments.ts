/**
 * Parallel segments: chains of transforms/analysers whose plugins may run as several copies
 * (`parallel: 'any' | 'by-origin'`). A segment runs in worker threads; only the outputs that leave
 * it (ports read by nodes outside the chain) come back to the main thread, so a chain such as
 * proxy-log → ioc-sweep sends back alerts and rejects, not every parsed record.
 */
import type { ParallelMode } from '../api.js';
import { parallelOf } from '../plugins/def.js';
import type { CompiledSpec } from '../graph/build.js';

export interface Segment {
  /** Nodes in chain order; the first is the head, whose input queue feeds the segment. */
  nodes: string[];
  mode: Exclude<ParallelMode, 'none'>;
  /** For each node but the last: the port that feeds the next node. */
  feeds: Record<string, string>;
  /** For each node: the ports read by nodes outside the segment (their records come back). */
  leaving: Record<string, string[]>;
  /**
   * The nodes that keep state per source (`by-origin`), in chain order: a source's batches may go
   * to any copy once each of them reported its state for the source settled (worker-pool.ts).
   */
  byOrigin?: string[];
}

/**
 * The parallel segments of a run with `workers` threads per segment (default: the spec's setting;
 * for `'auto'`, the segments a run would have if it used workers — see workers.ts).
 */
export function findSegments(spec: CompiledSpec, workers: number | 'auto' = spec.settings.workers): Segment[] {
  if (workers !== 'auto' && workers <= 1) return [];
  const consumers = new Map<string, { node: string; port: string }[]>();
  for (const name of spec.order) {
    for (const input of spec.nodes.get(name)!.inputs) {
      if (!consumers.has(input.node)) consumers.set(input.node, []);
      consumers.get(input.node)!.push({ node: name, port: input.port });
    }
  }
  const modeOf = (name: string): ParallelMode => {
    const n = spec.nodes.get(name)!;
    return n.config === undefined ? 'none' : parallelOf(n.plugin.def, n.config);
  };
  const taken = new Set<string>();
  const segments: Segment[] = [];
  for (const name of spec.order) {
    if (taken.has(name) || modeOf(name) === 'none') continue;
    const chain = [name];
    const feeds: Record<string, string> = {};
    let mode: Segment['mode'] = modeOf(name) as Segment['mode'];
    for (;;) {
      const tail = chain[chain.length - 1]!;
      const next = (consumers.get(tail) ?? []).find((c) => {
        const n = spec.nodes.get(c.node)!;
        return !taken.has(c.node) && !chain.includes(c.node) && n.inputs.length === 1 && modeOf(c.node) !== 'none';
      });
      if (!next) break;
      feeds[tail] = next.port;
      chain.push(next.node);
      if (modeOf(next.node) === 'by-origin') mode = 'by-origin';
    }
    for (const n of chain) taken.add(n);
    const leaving: Record<string, string[]> = {};
    chain.forEach((n, i) => {
      const inside = i < chain.length - 1 ? { node: chain[i + 1]!, port: feeds[n]! } : undefined;
      const ports = new Set<string>();
      for (const c of consumers.get(n) ?? []) if (!(inside && c.node === inside.node && c.port === inside.port)) ports.add(c.port);
      leaving[n] = [...ports];
    });
    const seg: Segment = { nodes: chain, mode, feeds, leaving };
    if (mode === 'by-origin') seg.byOrigin = chain.filter((n) => modeOf(n) === 'by-origin');
    segments.push(seg);
  }
  return segments;
}
