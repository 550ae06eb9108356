/**
 * `distinct` of the `window` analyser: values as small integer ids, per pane a short list of ids,
 * and the union of a window's panes counted with a stamp per id.
 *
 * A pane holds few distinct values (a client's hosts in one minute), and a window's count is the
 * size of the union of its panes' values. With a `Set` of the values per pane, every pane cost a
 * hash table, and every window a walk of each pane's set probing the others. Here every value gets
 * an id once (the same `Map` key as the set held: SameValueZero, objects by their JSON text), a
 * pane keeps the ids it saw in an array (a `Set` of ids once it holds more than `LIST_MAX`), and a
 * window's union is counted by stamping each id with the window's serial: one typed-array read and
 * write per value of each pane, nothing allocated.
 *
 * The table of ids is bounded by what live panes hold: when it has grown past `limit` (twice what
 * was held at the last compaction, at least `minLimit`), the owner calls `compact` with every pane
 * that is still held, and the ids are renumbered from the values those panes hold; the others are
 * forgotten.
 */

/** Ids of one pane's distinct values: an array while short, then a set. */
export type IdList = number[] | Set<number>;

/** Longest array of ids before a pane's list becomes a `Set`. */
export const LIST_MAX = 16;

/** The list of a pane that has no value yet (shared, never written: `addId` returns a new one). */
export const NO_IDS: IdList = Object.freeze([]) as unknown as number[];

/**
 * Add `id` to `list`; returns the list, or the one that replaces it. An array grows by a copy one
 * longer (`push` would give it room for 16 more, and most panes keep a handful of ids for as long
 * as their windows are open), and becomes a `Set` past `LIST_MAX`.
 */
export function addId(list: IdList, id: number): IdList {
  if (Array.isArray(list)) {
    if (list.includes(id)) return list;
    const n = list.length;
    if (n < LIST_MAX) {
      // a loop, not concat: the builtin cost several times more on arrays this short
      const next: number[] = new Array(n + 1);
      for (let i = 0; i < n; i++) next[i] = list[i]!;
      next[n] = id;
      return next;
    }
    const set = new Set(list);
    set.add(id);
    return set;
  }
  list.add(id);
  return list;
}

export function sizeOf(list: IdList): number {
  return Array.isArray(list) ? list.length : list.size;
}

export class ValueIds {
  private ids = new Map<unknown, number>();
  private values: unknown[] = [];
  /** Per id, the serial of the last union that counted it. */
  private mark = new Int32Array(1024);
  private serial = 0;
  private limit: number;

  constructor(private readonly minLimit = 1 << 16) {
    this.limit = minLimit;
  }

  /** Ids handed out and not yet forgotten. */
  get size(): number {
    return this.values.length;
  }

  /** Has the table grown past its bound since the last compaction? */
  get full(): boolean {
    return this.values.length > this.limit;
  }

  /** The id of `v` (a key as a `Set` would hold it). */
  id(v: unknown): number {
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(v);
      this.ids.set(v, id);
    }
    return id;
  }

  /** The value of `id` (as `id` was given it). */
  valueOf(id: number): unknown {
    return this.values[id];
  }

  /** Start counting a union: no id is counted yet (see `count`). */
  beginUnion(): void {
    if (this.mark.length < this.values.length) {
      let n = this.mark.length;
      while (n < this.values.length) n *= 2;
      const grown = new Int32Array(n);
      grown.set(this.mark);
      this.mark = grown;
    }
    if (this.serial === 0x7fffffff) {
      this.mark.fill(0);
      this.serial = 0;
    }
    this.serial++;
  }

  /** How many ids of `list` the union since `beginUnion` had not counted yet; they are now. */
  count(list: IdList): number {
    const s = this.serial;
    const mark = this.mark;
    let added = 0;
    if (Array.isArray(list)) {
      for (let k = 0; k < list.length; k++) {
        const x = list[k]!;
        if (mark[x] !== s) {
          mark[x] = s;
          added++;
        }
      }
    } else {
      for (const x of list) {
        if (mark[x] !== s) {
          mark[x] = s;
          added++;
        }
      }
    }
    return added;
  }

  /**
   * Renumber the ids from the lists still held (every one, through `each`, which hands each list to
   * the callback and stores what it returns in its place); every other value is forgotten.
   */
  compact(each: (renumber: (list: IdList) => IdList) => void): void {
    const old = this.values;
    const remap = new Int32Array(old.length).fill(-1);
    const values: unknown[] = [];
    const ids = new Map<unknown, number>();
    const to = (id: number): number => {
      let n = remap[id]!;
      if (n === -1) {
        n = values.length;
        values.push(old[id]);
        ids.set(old[id], n);
        remap[id] = n;
      }
      return n;
    };
    each((list) => {
      if (Array.isArray(list)) {
        for (let k = 0; k < list.length; k++) list[k] = to(list[k]!);
        return list;
      }
      const set = new Set<number>();
      for (const x of list) set.add(to(x));
      return set;
    });
    this.values = values;
    this.ids = ids;
    this.limit = Math.max(this.minLimit, 2 * values.length);
    // the stamps of old ids mean nothing under the new numbering
    this.mark.fill(0);
    this.serial = 0;
  }
}
