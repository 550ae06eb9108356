/**
 * What both halves of the `window` analyser read the same way: the key fields of the config, the
 * field samples come from, the node's durations, and a key's id — the main-thread instance
 * (index.ts) and the summariser of a worker copy (summary.ts).
 */
import { parseDuration, parseIPv4 } from '../../../src/api.js';
import type { KeyId } from './state.js';

/** The field whose value `samples` takes from a window's records. */
export const SAMPLE_FIELD = 'event.original';

/** The parts of the config these read (index.ts has the whole `WindowConfig`). */
interface Shape {
  key: string | string[];
  size: string | number;
  slide?: string | number;
  allowed_lateness: string | number;
}

export function keyFields(config: Pick<Shape, 'key'>): string[] {
  return typeof config.key === 'string' ? [config.key] : config.key;
}

/** Window size and slide (whole milliseconds) and the allowed lateness, of a validated config. */
export function durations(config: Shape): { size: number; slide: number; lateness: number } {
  const size = Math.round(parseDuration(config.size));
  const slide = config.slide === undefined ? size : Math.round(parseDuration(config.slide));
  return { size, slide, lateness: parseDuration(config.allowed_lateness) };
}

/**
 * The address of a canonical dotted IPv4 text (four decimal octets 0–255, no leading zeros) as a
 * signed 32-bit integer (a small integer to V8), or -1 for any other text — and for
 * `255.255.255.255`, whose integer is -1: that address keeps its text as its id.
 */
export function ipv4Number(s: string): number {
  const u = parseIPv4(s);
  return u < 0 ? -1 : u | 0;
}

/** The canonical text of the IPv4 address whose `ipv4Number` is `n` (never -1). */
export function ipv4Text(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * The id of the key whose `nKeys` values are at `vals[1…]` (copied into `values`), by the rule of
 * `process` (index.ts): one string field is its own text, or its IPv4 number; another value of one
 * field is its tagged JSON text; several fields are the JSON text of their values. Undefined when a
 * key field is missing (undefined or null). No key fields: ''.
 */
export function keyIdOf(vals: readonly unknown[], nKeys: number, values: unknown[]): KeyId | undefined {
  if (nKeys === 1) {
    const v = vals[1];
    if (v === undefined || v === null) return undefined;
    values[0] = v;
    if (typeof v === 'string') {
      const ip = ipv4Number(v);
      return ip === -1 ? v : ip;
    }
    return '\u0001' + JSON.stringify(v);
  }
  if (nKeys === 0) return '';
  for (let k = 0; k < nKeys; k++) {
    const v = vals[1 + k];
    if (v === undefined || v === null) return undefined;
    values[k] = v;
  }
  return JSON.stringify(values);
}
