/**
 * Copy-on-write writes and deletes of dotted paths.
 *
 * A record may reach several branches of a pipeline (fan-out), so `set` and `drop` never modify
 * their input: they copy the record and only the objects on the paths they change, once per record,
 * and share everything else. The path table is built once per node, not per record.
 */
import type { Rec } from './record.js';

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);
const hasOwn = Object.prototype.hasOwnProperty;

/** A problem with a dotted path written in config, or undefined when it is usable. */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'an empty field path';
  const parts = path.split('.');
  if (parts.some((p) => p === '')) return `'${path}' has an empty segment`;
  const bad = parts.find((p) => FORBIDDEN.has(p));
  if (bad) return `'${path}' may not use '${bad}': prototype properties are off limits`;
  return undefined;
}

interface Node {
  key: string;
  /** Index of the parent node, -1 for the record itself. */
  parent: number;
}

export class CowPaths {
  private readonly nodes: Node[] = [];
  /** For each configured path: the node of the object holding its last segment, and that segment. */
  private readonly leaves: { holder: number; key: string }[] = [];
  private readonly copied: Uint8Array;
  private readonly objs: (Rec | undefined)[];
  private src: Rec = {};
  private out: Rec = {};

  constructor(paths: readonly string[]) {
    const ids = new Map<string, number>();
    for (const path of paths) {
      const parts = path.split('.');
      let parent = -1;
      for (let i = 0; i < parts.length - 1; i++) {
        const prefix = parts.slice(0, i + 1).join('.');
        let id = ids.get(prefix);
        if (id === undefined) {
          id = this.nodes.length;
          this.nodes.push({ key: parts[i]!, parent });
          ids.set(prefix, id);
        }
        parent = id;
      }
      this.leaves.push({ holder: parent, key: parts[parts.length - 1]! });
    }
    this.copied = new Uint8Array(this.nodes.length);
    this.objs = new Array(this.nodes.length);
  }

  /** Start work on one record. */
  begin(rec: Rec): void {
    this.src = rec;
    this.out = rec;
    this.copied.fill(0);
  }

  /** The record with the changes made since `begin` (the input itself when nothing changed). */
  result(): Rec {
    return this.out;
  }

  /** Write the value of configured path `i`, creating objects on the way (as `setPath` does). */
  set(i: number, value: unknown): void {
    const leaf = this.leaves[i]!;
    const holder = this.writable(leaf.holder, true)!;
    holder[leaf.key] = value;
  }

  /**
   * Remove configured path `i`; returns whether it was there. Copies only when something is removed.
   * A key holding `undefined` is absent (proxy-log records keep every layout key, unset ones undefined).
   */
  delete(i: number): boolean {
    const leaf = this.leaves[i]!;
    const current = this.readable(leaf.holder);
    if (current === undefined || !hasOwn.call(current, leaf.key) || current[leaf.key] === undefined) return false;
    const holder = this.writable(leaf.holder, false)!;
    delete holder[leaf.key];
    return true;
  }

  /** The object at node `id` in the current output, without copying (undefined when absent). */
  private readable(id: number): Rec | undefined {
    if (id === -1) return this.out;
    if (this.copied[id]) return this.objs[id];
    const node = this.nodes[id]!;
    const parent = this.readable(node.parent);
    if (parent === undefined || !hasOwn.call(parent, node.key)) return undefined;
    const v = parent[node.key];
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  }

  /** The object at node `id`, copied once for this record so that it may be changed. */
  private writable(id: number, create: boolean): Rec | undefined {
    if (id === -1) {
      if (this.out === this.src) this.out = { ...this.src };
      return this.out;
    }
    if (this.copied[id]) return this.objs[id];
    const node = this.nodes[id]!;
    const parent = this.writable(node.parent, create);
    if (parent === undefined) return undefined;
    const cur = hasOwn.call(parent, node.key) ? parent[node.key] : undefined;
    let copy: Rec | undefined;
    // Like `setPath`, an array or scalar in the way is not walked into: `set` replaces it with an object.
    if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) copy = { ...cur };
    else if (create) copy = {};
    if (copy === undefined) return undefined;
    parent[node.key] = copy;
    this.objs[id] = copy;
    this.copied[id] = 1;
    return copy;
  }
}
