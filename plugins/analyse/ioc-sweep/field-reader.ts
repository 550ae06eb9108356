/** Reading the sweep's configured fields from a record: one compiled reader per node. */
import { getPath, type Rec } from '../../../src/api.js';

/**
 * Reads every configured field of a record at once, with `getPath`'s rules (own properties only; a
 * flat dotted key holding a value first, then the nested walk), reading each shared parent (`url`,
 * `destination`) once per record instead of once per field.
 *
 * The configured paths are known when the node is built, so the reader is compiled for them: each
 * property name is a constant in the generated code (names embedded as JSON string literals), so
 * V8 reads every record through monomorphic named-property loads. The own-property rule costs no
 * `Object.hasOwn` per field: for an object whose prototype is `Object.prototype`, a name that
 * `Object.prototype` does not have (checked when compiling) can only be read from the object
 * itself, so a plain load gives the own value or `undefined` — exactly `getPath`'s answer. A record
 * or parent with any other prototype (null, an array, a class instance) goes through the general
 * loop, which stays as the fallback and the reference.
 */
export class FieldReader {
  readonly names: string[];
  private readonly heads: string[] = [];
  /** Per field: index of its parent in `heads` (two-part paths), or -1 (read by `getPath`). */
  private readonly headOf: number[] = [];
  private readonly leaf: string[] = [];
  private readonly parents: unknown[] = [];
  readonly values: unknown[];
  /** The compiled reader, or null (the general loop reads). */
  private readonly compiled: ((rec: Rec, values: unknown[]) => void) | null;

  constructor(paths: readonly string[]) {
    this.names = paths.slice();
    for (const p of paths) {
      const keys = p.split('.');
      if (keys.length !== 2) {
        this.headOf.push(-1);
        this.leaf.push('');
        continue;
      }
      let h = this.heads.indexOf(keys[0]!);
      if (h < 0) {
        h = this.heads.length;
        this.heads.push(keys[0]!);
      }
      this.headOf.push(h);
      this.leaf.push(keys[1]!);
    }
    this.values = new Array(paths.length).fill(undefined);
    this.compiled = this.compile();
  }

  private compile(): ((rec: Rec, values: unknown[]) => void) | null {
    // a name Object.prototype answers to ('constructor', '__proto__', 'toString'...) needs the own check
    const names = [...this.names, ...this.heads, ...this.leaf.filter((l) => l !== '')];
    if (names.some((n) => n in Object.prototype)) return null;
    const q = (s: string) => JSON.stringify(s);
    const lines: string[] = ['if (getProto(rec) !== OP) return general(rec);'];
    for (let h = 0; h < this.heads.length; h++) {
      lines.push(`let p${h} = rec[${q(this.heads[h]!)}];`);
      lines.push(`if (p${h} === null || typeof p${h} !== 'object') p${h} = undefined;`);
      lines.push(`else if (getProto(p${h}) !== OP) return general(rec);`);
    }
    for (let i = 0; i < this.names.length; i++) {
      const h = this.headOf[i]!;
      if (h < 0) {
        lines.push(`values[${i}] = getPath(rec, ${q(this.names[i]!)});`);
        continue;
      }
      lines.push(`const f${i} = rec[${q(this.names[i]!)}];`);
      lines.push(`values[${i}] = f${i} !== undefined ? f${i} : p${h} !== undefined ? p${h}[${q(this.leaf[i]!)}] : undefined;`);
    }
    try {
      const make = new Function('getProto', 'OP', 'general', 'getPath', `'use strict';\nreturn function readFields(rec, values) {\n${lines.join('\n')}\n};`);
      return make(Object.getPrototypeOf, Object.prototype, (rec: Rec) => this.readGeneral(rec), getPath) as (rec: Rec, values: unknown[]) => void;
    } catch {
      return null; // code generation refused (--disallow-code-generation-from-strings): the loop reads
    }
  }

  read(rec: Rec): unknown[] {
    if (this.compiled !== null) {
      this.compiled(rec, this.values);
      return this.values;
    }
    return this.readGeneral(rec);
  }

  /** The general loop (and the reference the compiled reader is tested against). */
  readGeneral(rec: Rec): unknown[] {
    const heads = this.heads;
    const parents = this.parents;
    for (let h = 0; h < heads.length; h++) {
      const x = Object.hasOwn(rec, heads[h]!) ? rec[heads[h]!] : undefined;
      parents[h] = x !== null && typeof x === 'object' ? x : undefined;
    }
    const names = this.names;
    const values = this.values;
    for (let i = 0; i < names.length; i++) {
      const h = this.headOf[i]!;
      const name = names[i]!;
      if (h < 0) {
        values[i] = getPath(rec, name);
        continue;
      }
      if (Object.hasOwn(rec, name) && rec[name] !== undefined) {
        values[i] = rec[name];
        continue;
      }
      const x = parents[h] as Record<string, unknown> | undefined;
      const b = this.leaf[i]!;
      values[i] = x !== undefined && Object.hasOwn(x, b) ? x[b] : undefined;
    }
    return values;
  }
}
