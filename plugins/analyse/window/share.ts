/**
 * Which copy of a `by-key` window owns a record (API 1.7, `PluginContext.share`): every copy is
 * given every record and reads its time, but only the owner counts it, emits it on `out` and `late`,
 * and emits the windows of its key.
 *
 * - A record with a time and every key field belongs to its key's copy: `hash(id) mod count`, where
 *   `id` is the key's id in the window state (index.ts): an IPv4 address's number is mixed by the
 *   32-bit finaliser of MurmurHash3 (`mix32`), any other id (a string: the text of a one-field key,
 *   the tagged JSON of a non-string value, the JSON array of a multi-field key) is hashed by 32-bit
 *   FNV-1a over its UTF-16 code units (`hashString`). Both are fixed functions of the id, so every
 *   copy, in any thread or process, agrees.
 * - A record without a time or a key field (`NO_TIMESTAMP`, `MISSING_KEY`) has no key to go by: it
 *   belongs to the copy chosen by its origin (`originOwner`): its line number (a file's record) or
 *   the FNV-1a hash of its offset (a Kafka record) mod `count`; copy 0 when it has neither.
 */
import type { Origin } from '../../../src/api.js';
import { mix32 } from '../../../src/internal.js';
import type { KeyId } from './state.js';

/** 32-bit FNV-1a over the UTF-16 code units of `s`. Unsigned. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The copy (0 ≤ copy < count) that owns the key with id `id`. */
export function keyOwner(id: KeyId, count: number): number {
  return (typeof id === 'number' ? mix32(id) : hashString(id)) % count;
}

/** The copy (0 ≤ copy < count) that owns a record without a time or key, by its origin. */
export function originOwner(origin: Origin | null | undefined, count: number): number {
  if (origin === null || origin === undefined || typeof origin !== 'object') return 0;
  const line = origin.line;
  if (typeof line === 'number' && Number.isSafeInteger(line) && line >= 0) return line % count;
  const offset = origin.offset;
  if (typeof offset === 'string') return hashString(offset) % count;
  return 0;
}
