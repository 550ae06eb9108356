/**
 * Every field the window reads of a record (its time, key fields, aggregated fields, the raw line),
 * read at once by code compiled for the node's paths.
 *
 * One `fieldReader` closure per path shares its code with the others, so its property loads see
 * every path's names and every record's shapes and go megamorphic. Compiled for the paths, each
 * name is a constant in the generated code and each load monomorphic; a parent shared by several
 * paths (`http` of `http.request.bytes` and `http.response.bytes`) is read once. The rule is
 * `getPath`'s (a flat key holding the dotted name first unless it holds `undefined`, then nested own
 * properties), kept without `Object.hasOwn`: on an object whose prototype is `Object.prototype`, a
 * name that `Object.prototype` lacks (checked when compiling) can only be read from the object
 * itself. A record or parent with another prototype (null, an array, a class) is read by the
 * path's `fieldReader`, which is also the fallback when code generation is refused.
 */
import type { Rec } from '../../../src/api.js';
import { fieldReader, type FieldReader } from './aggregates.js';

/** Reads the fields into `out` (one slot per path, in order). */
export type RecordReader = (rec: Rec, out: unknown[]) => void;

export function recordReader(paths: readonly string[]): RecordReader {
  const general = paths.map(fieldReader);
  return compile(paths, general) ?? generalReader(general);
}

/** The reader made of one `fieldReader` per path (the fallback, and the reference in tests). */
export function generalReader(general: readonly FieldReader[]): RecordReader {
  const n = general.length;
  return (rec, out) => {
    for (let i = 0; i < n; i++) out[i] = general[i]!(rec);
  };
}

function compile(paths: readonly string[], general: readonly FieldReader[]): RecordReader | null {
  const names = new Set<string>();
  for (const p of paths) {
    names.add(p);
    for (const part of p.split('.')) names.add(part);
  }
  for (const n of names) if (n in Object.prototype) return null;
  const q = (s: string) => JSON.stringify(s);
  const lines: string[] = [`if (getProto(rec) !== OP) { for (let i = 0; i < ${paths.length}; i++) out[i] = general[i](rec); return; }`];
  // one variable per parent path: its object (when a plain object) and whether the walk through it
  // is sure (false: a parent on the way has another prototype, the path's fieldReader decides)
  const parents = new Map<string, number>();
  const parentVar = (prefix: string[]): number => {
    const key = prefix.join('.');
    const known = parents.get(key);
    if (known !== undefined) return known;
    const up = prefix.length > 1 ? parentVar(prefix.slice(0, -1)) : -1;
    const v = parents.size;
    parents.set(key, v);
    const from = up === -1 ? 'rec' : `p${up}`;
    const last = q(prefix[prefix.length - 1]!);
    lines.push(`let p${v} = ${from} === undefined ? undefined : ${from}[${last}], s${v} = ${up === -1 ? 'true' : `s${up}`};`);
    lines.push(`if (p${v} === null || typeof p${v} !== 'object') p${v} = undefined;`);
    lines.push(`else if (getProto(p${v}) !== OP) { p${v} = undefined; s${v} = false; }`);
    return v;
  };
  paths.forEach((path, i) => {
    const parts = path.split('.');
    if (parts.length === 1) {
      lines.push(`out[${i}] = rec[${q(path)}];`);
      return;
    }
    const v = parentVar(parts.slice(0, -1));
    lines.push(`{ const f = rec[${q(path)}];`);
    lines.push(`  out[${i}] = f !== undefined ? f : !s${v} ? general[${i}](rec) : p${v} === undefined ? undefined : p${v}[${q(parts[parts.length - 1]!)}]; }`);
  });
  try {
    const make = new Function('getProto', 'OP', 'general', `'use strict';\nreturn function readWindowFields(rec, out) {\n${lines.join('\n')}\n};`);
    return make(Object.getPrototypeOf, Object.prototype, general) as RecordReader;
  } catch {
    return null; // code generation refused (--disallow-code-generation-from-strings)
  }
}
