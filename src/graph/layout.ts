/**
 * A layered drawing of the pipeline for the status page: each node in the column after the
 * furthest of its inputs (sources first, sinks last), nodes in a column ordered by the mean row of
 * their inputs (fewer crossings), edges as cubic curves from the right of a node to the left of
 * the next. Plain numbers, no library: the page draws them as SVG.
 */
import type { CompiledSpec } from './build.js';

export interface LaidNode {
  name: string;
  kind: string;
  plugin: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LaidEdge {
  from: string;
  port: string;
  to: string;
  /** SVG path data. */
  d: string;
  /** Where to put the edge's label. */
  lx: number;
  ly: number;
}

export interface Layout {
  width: number;
  height: number;
  nodes: LaidNode[];
  edges: LaidEdge[];
}

export const NODE_W = 190;
export const NODE_H = 68;
const COL_GAP = 230;
const ROW_GAP = 36;
const MARGIN = 20;

export function layoutGraph(spec: CompiledSpec): Layout {
  // Column: longest path from a source (spec.order puts every node after its inputs).
  const col = new Map<string, number>();
  for (const name of spec.order) {
    let c = 0;
    for (const i of spec.nodes.get(name)!.inputs) c = Math.max(c, (col.get(i.node) ?? 0) + 1);
    col.set(name, c);
  }
  // Sinks all in the last column: outputs line up on the right.
  const last = Math.max(0, ...col.values());
  for (const name of spec.order) if (spec.nodes.get(name)!.kind === 'sink') col.set(name, last);
  const columns: string[][] = [];
  for (const name of spec.order) (columns[col.get(name)!] ??= []).push(name);
  const row = new Map<string, number>();
  for (const names of columns) {
    if (!names) continue;
    const key = (n: string): number => {
      const ins = spec.nodes.get(n)!.inputs.map((i) => row.get(i.node) ?? 0);
      return ins.length ? ins.reduce((a, b) => a + b, 0) / ins.length : 0;
    };
    const order = names.map((n, i) => ({ n, i, k: key(n) })).sort((a, b) => a.k - b.k || a.i - b.i);
    for (const [r, o] of order.entries()) row.set(o.n, r);
  }
  const tallest = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const height = MARGIN * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP;
  const nodes: LaidNode[] = [];
  const at = new Map<string, LaidNode>();
  for (const name of spec.order) {
    const n = spec.nodes.get(name)!;
    const c = col.get(name)!;
    const inCol = columns[c]!.length;
    const colHeight = inCol * NODE_H + (inCol - 1) * ROW_GAP;
    const y = (height - colHeight) / 2 + row.get(name)! * (NODE_H + ROW_GAP);
    const laid = { name, kind: n.kind, plugin: n.plugin.def.name, x: MARGIN + c * (NODE_W + COL_GAP), y, w: NODE_W, h: NODE_H };
    nodes.push(laid);
    at.set(name, laid);
  }
  const edges: LaidEdge[] = [];
  for (const name of spec.order) {
    const to = at.get(name)!;
    const ins = spec.nodes.get(name)!.inputs;
    ins.forEach((i, k) => {
      const from = at.get(i.node)!;
      const x1 = from.x + from.w;
      const y1 = from.y + from.h / 2;
      const x2 = to.x;
      const y2 = to.y + ((k + 1) * to.h) / (ins.length + 1);
      const dx = Math.max(40, (x2 - x1) / 2);
      const d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
      // Label a little past the middle of the cubic: edges fanning out of one port (same start)
      // get labels apart, and a label stays within the gap between the columns.
      const t = 0.55;
      const u = 1 - t;
      const bx = u * u * u * x1 + 3 * u * u * t * (x1 + dx) + 3 * u * t * t * (x2 - dx) + t * t * t * x2;
      const by = u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2;
      edges.push({ from: i.node, port: i.port, to: name, d, lx: Math.round(bx), ly: Math.round(by) });
    });
  }
  const width = MARGIN * 2 + (last + 1) * NODE_W + last * COL_GAP;
  return { width, height, nodes, edges };
}
