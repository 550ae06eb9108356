/**
 * Parallel segments: chains of transforms/analysers whose plugins may run as several copies
 * (`parallel: 'any' | 'by-origin'`). A segment runs in worker threads; only the outputs that leave
 * it (ports read by nodes outside the chain) come back to the main thread, so a chain such as
 * proxy-log → ioc-sweep sends back alerts and rejects, not every parsed record.
 *
 * A segment is a tree: every parallel-safe node with one input that reads a node of the segment
 * joins it, so a parse read by both a sweep and the rules runs all three in the same copy
 * (`parse → {sweep, rules}`), and the parsed records cross to the main thread only if a node
 * outside (a window, a sink) reads them too.
 *
 * A `'by-key'` node (a window) joins too where the run allows it (`byKey`): the segment is then a
 * by-key segment, whose copies are each given EVERY batch (runners/segment.ts, worker-pool.ts). The
 * by-key nodes, the nodes above them (the parse) and below them run on every batch; each copy's
 * by-key nodes keep and emit only their share of the keys. The other nodes (the sweep, the rules)
 * run only on the batches a copy owns (one copy per batch). On a batch it does not own, a copy's
 * nodes above the by-key ones count nothing and send nothing out of the segment (their rejects,
 * say, come from the owner), and its by-key nodes do not count what they receive: each record and
 * each output is counted once. The parse thus runs once per copy, and no parsed record crosses.
 */
import type { ParallelMode } from '../api.js';
import { parallelOf } from '../plugins/def.js';
import type { CompiledSpec } from '../graph/build.js';

export interface Segment {
  /**
   * Nodes in depth-first order (each node's subtree before its next sibling); the first is the
   * head, whose input queue feeds the segment.
   */
  nodes: string[];
  mode: Exclude<ParallelMode, 'none'>;
  /** For each node whose next node in `nodes` reads it: the port that feeds that node. */
  feeds: Record<string, string>;
  /**
   * For each node read by nodes of the segment other than its next one (a tree): `[port, node]`
   * for each of them, in `nodes` order. Absent for a plain chain.
   */
  branches?: Record<string, Array<[string, string]>>;
  /** For each node: the ports read by nodes outside the segment (their records come back). */
  leaving: Record<string, string[]>;
  /**
   * The nodes that keep state per source (`by-origin`), in chain order: a source's batches may go
   * to any copy once each of them reported its state for the source settled (worker-pool.ts).
   */
  byOrigin?: string[];
  /**
   * A by-key segment (mode `'by-key'`): what each node does on a batch its copy does not own —
   * `'mute'` (above a by-key node: runs, counts nothing, sends nothing out), `'keyed'` (a by-key
   * node: runs, its input not counted), `'run'` (below one: runs as usual); nodes absent here run
   * only on owned batches.
   */
  byKey?: Record<string, 'mute' | 'keyed' | 'run'>;
}

/** Who reads each node: node → the nodes reading one of its ports, with the port, in the spec's order. */
export function consumersOf(spec: CompiledSpec): Map<string, { node: string; port: string }[]> {
  const consumers = new Map<string, { node: string; port: string }[]>();
  for (const name of spec.order) {
    for (const input of spec.nodes.get(name)!.inputs) {
      if (!consumers.has(input.node)) consumers.set(input.node, []);
      consumers.get(input.node)!.push({ node: name, port: input.port });
    }
  }
  return consumers;
}

export interface FindOptions {
  /** Let `'by-key'` nodes join segments (else they stay on the main thread, as `'none'`). */
  byKey?: boolean;
}

/**
 * The parallel segments of a run with `workers` threads per segment (default: the spec's setting;
 * for `'auto'`, the segments a run would have if it used workers — see workers.ts).
 */
export function findSegments(spec: CompiledSpec, workers: number | 'auto' = spec.settings.workers, o: FindOptions = {}): Segment[] {
  if (workers !== 'auto' && workers <= 1) return [];
  const consumers = consumersOf(spec);
  const modeOf = (name: string): ParallelMode => {
    const n = spec.nodes.get(name)!;
    const m = n.config === undefined ? 'none' : parallelOf(n.plugin.def, n.config);
    return m === 'by-key' && !o.byKey ? 'none' : m;
  };
  const taken = new Set<string>();
  const segments: Segment[] = [];
  /** May `c` join a segment holding `chain`: parallel-safe, one input, not taken. */
  const joins = (c: { node: string }, chain: readonly string[]): boolean => {
    const n = spec.nodes.get(c.node)!;
    return !taken.has(c.node) && !chain.includes(c.node) && n.inputs.length === 1 && modeOf(c.node) !== 'none';
  };
  for (const name of spec.order) {
    if (taken.has(name) || modeOf(name) === 'none') continue;
    const chain: string[] = [];
    /** The segment node and port each non-head node reads. */
    const input = new Map<string, { node: string; port: string }>();
    let mode: Segment['mode'] = modeOf(name) as Segment['mode'];
    // Depth first: a node, then each subtree of the nodes reading it, in the spec's order.
    const visit = (n: string): void => {
      chain.push(n);
      if (modeOf(n) === 'by-origin' && mode !== 'by-key') mode = 'by-origin';
      if (modeOf(n) === 'by-key') mode = 'by-key';
      for (const c of consumers.get(n) ?? []) {
        if (!joins(c, chain)) continue;
        input.set(c.node, { node: n, port: c.port });
        visit(c.node);
      }
    };
    visit(name);
    for (const n of chain) taken.add(n);
    const feeds: Record<string, string> = {};
    const branches: Record<string, Array<[string, string]>> = {};
    chain.forEach((n, i) => {
      if (i === 0) return;
      const from = input.get(n)!;
      if (chain[i - 1] === from.node) feeds[from.node] = from.port;
      else (branches[from.node] ??= []).push([from.port, n]);
    });
    const leaving: Record<string, string[]> = {};
    for (const n of chain) {
      const ports = new Set<string>();
      for (const c of consumers.get(n) ?? []) {
        const inside = input.get(c.node);
        if (!(chain.includes(c.node) && inside?.node === n && inside.port === c.port)) ports.add(c.port);
      }
      leaving[n] = [...ports];
    }
    const seg: Segment = { nodes: chain, mode, feeds, leaving };
    if (Object.keys(branches).length) seg.branches = branches;
    if (mode === 'by-origin') seg.byOrigin = chain.filter((n) => modeOf(n) === 'by-origin');
    if (mode === 'by-key') {
      const roles: Record<string, 'mute' | 'keyed' | 'run'> = {};
      for (const n of chain) {
        if (modeOf(n) !== 'by-key') continue;
        roles[n] = 'keyed';
        // the nodes above: the path to the head
        for (let up = input.get(n)?.node; up !== undefined; up = input.get(up)?.node) if (roles[up] === undefined) roles[up] = 'mute';
      }
      // the nodes below a keyed one (their input is already a share)
      for (const n of chain) {
        const from = input.get(n)?.node;
        if (roles[n] === undefined && from !== undefined && (roles[from] === 'keyed' || roles[from] === 'run')) roles[n] = 'run';
      }
      seg.byKey = roles;
    }
    segments.push(seg);
  }
  return segments;
}

/** How a segment is named in logs and errors: `parse→sweep`, or `parse→{sweep, detect}` for a tree. */
export function segmentLabel(seg: Segment): string {
  const label = (i: number): string => {
    const n = seg.nodes[i]!;
    const kids: number[] = [];
    if (seg.feeds[n] !== undefined && i + 1 < seg.nodes.length) kids.push(i + 1);
    for (const [, c] of seg.branches?.[n] ?? []) kids.push(seg.nodes.indexOf(c));
    if (kids.length === 0) return n;
    if (kids.length === 1) return `${n}→${label(kids[0]!)}`;
    return `${n}→{${kids.map(label).join(', ')}}`;
  };
  return label(0);
}
