/**
 * A line's probed values as places in its bytes (plugin API 1.10; see `LineProbe.spans` and
 * `RecordGate.mayEmitSpans` in api.ts, docs/plugin-api.md "Spans of the line"): a line parser that
 * has found where each value the gate reads lies in the line hands over offsets, not strings, so
 * the gate can look a value up without a string, an object or a second pass to hash it. Spans are
 * told only of ASCII lines, whose bytes are their characters' codes. Two equal spans of one line
 * are equal text, and a span inside another is its substring: a gate can tell both without
 * reading a byte.
 */

/**
 * The spans of a probe's paths in one line held in `bytes`: for the k-th path, the value is the
 * text of `bytes[start[k], end[k])` (`spanText`), or absent from the record (undefined) when
 * `start[k]` is -1. Offsets count from the start of `bytes`, not of the line. `hash[k]` is
 * `spanHash(bytes, start[k], end[k])` for every path the gate asked hashed and whose span is not
 * -1; for the other paths it means nothing. One object is reused line after line: read it before
 * the next line is probed.
 */
export interface LineSpans {
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly hash: Int32Array;
}

/** A `LineSpans` for `n` paths (every span -1). */
export function lineSpans(n: number): LineSpans {
  return { start: new Int32Array(n).fill(-1), end: new Int32Array(n), hash: new Int32Array(n) };
}

/** FNV-1a's offset basis and prime: `spanHash` for loops that hash a span as they scan it. */
export const SPAN_HASH_OFFSET = 0x811c9dc5 | 0;
export const SPAN_HASH_PRIME = 0x01000193;

/**
 * The hash of `bytes[from, to)` a gate asks for (`RecordGate.hashPaths`): FNV-1a over the bytes left
 * to right — `h = SPAN_HASH_OFFSET`, then `h = Math.imul(h ^ byte, SPAN_HASH_PRIME)` for each —
 * finished by `spanHashFinish(h)`. A probe computing it while it scans the value must give exactly
 * this number (a 32-bit signed integer). `textHash` is the same of a string's character codes, so
 * an ASCII value hashes alike as bytes and as text.
 */
export function spanHash(bytes: Uint8Array, from: number, to: number): number {
  let h = SPAN_HASH_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, SPAN_HASH_PRIME);
  return spanHashFinish(h);
}

/** `spanHash` of a string: FNV-1a over its UTF-16 code units, then `spanHashFinish`. */
export function textHash(s: string): number {
  let h = SPAN_HASH_OFFSET;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), SPAN_HASH_PRIME);
  return spanHashFinish(h);
}

/** murmur3's finaliser on all 32 bits: the last step of `spanHash`. */
export function spanHashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Is the text of `bytes[from, to)` exactly `s`? (Compared in place: no string made.) */
export function spanIs(bytes: Uint8Array, from: number, to: number, s: string): boolean {
  const n = to - from;
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if (bytes[from + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** The text of the ASCII span `bytes[from, to)`: a flat string of its own. */
export function spanText(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.prototype.latin1Slice.call(bytes, from, to) as string;
}
