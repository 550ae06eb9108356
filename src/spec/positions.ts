/** Map a path inside the spec (JSON pointer segments) to the line and column of its YAML node. */
import type { Document, LineCounter, Node } from 'yaml';
import { isMap, isSeq, isPair, isScalar } from './yaml.js';

export interface Position {
  line: number;
  col: number;
}

/**
 * Locate `segments` in `doc`. With `atKey`, the position of the map key itself (for unknown keys);
 * otherwise of the value. Falls back to the deepest node that exists.
 */
export function locate(doc: Document, lc: LineCounter, segments: readonly (string | number)[], atKey = false): Position {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyString(p.key) === String(seg));
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      const last = i === segments.length - 1;
      if (last && atKey && keyNode?.range) {
        offset = keyNode.range[0];
        break;
      }
      node = pair.value;
      const r = (pair.value as Node | null)?.range ?? keyNode?.range;
      if (r) offset = r[0];
    } else if (isSeq(node)) {
      const idx = Number(seg);
      const item = node.items[idx] as Node | undefined;
      if (!item) break;
      node = item;
      if (item.range) offset = item.range[0];
    } else {
      break;
    }
  }
  const p = lc.linePos(offset);
  return { line: p.line, col: p.col };
}

function keyString(k: unknown): string {
  if (isScalar(k)) return String(k.value);
  return String(k);
}

export function offsetToPosition(lc: LineCounter, offset: number): Position {
  const p = lc.linePos(offset);
  return { line: p.line, col: p.col };
}

/** JSON pointer (`/nodes/a/with/x`) to segments. */
export function pointerToSegments(pointer: string): string[] {
  if (!pointer || pointer === '/') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function segmentsToPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
