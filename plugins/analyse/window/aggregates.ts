/**
 * Aggregates of the `window` analyser, planned once per node.
 *
 * Records are accumulated into panes (time slices of gcd(size, slide)); a window is the merge of
 * the panes it covers, so a sliding window costs one update per record, not one per window.
 * Each field a record is read for is read once, whatever number of aggregates use it.
 */
import type { Rec } from '../../../src/api.js';
import { addId, NO_IDS, sizeOf, ValueIds, type IdList } from './distinct.js';

export type AggKind = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'distinct';
export const AGG_KINDS: readonly AggKind[] = ['count', 'sum', 'min', 'max', 'avg', 'distinct'];

/** `count`, or `{ <kind>: field }` as written in config. */
export type AggSpec = string | { [kind: string]: string };

export interface Aggregate {
  name: string;
  kind: AggKind;
  /** Index into `Plan.fields`; -1 for a plain record count. */
  field: number;
}

/** Per numeric field: [present, n numeric, sum, min, max]; a field only counted has [present]. */
const PRESENT = 0,
  N = 1,
  SUM = 2,
  MIN = 3,
  MAX = 4;

export interface Pane {
  start: number;
  count: number;
  /**
   * The fields' numbers (`Plan` lays them out), or null when no aggregate needs any. A plain array
   * of doubles, not a Float64Array: a pane is small, and a typed array of this size gets a backing
   * store of its own (an allocation outside the heap, freed by a finaliser), which cost more than
   * the arithmetic.
   */
  nums: number[] | null;
  /** Per field with a `distinct`, the ids of its values in this pane (distinct.ts). */
  ids: IdList[] | null;
  /**
   * The first raw lines (`event.original`) of the pane's records, when the node keeps samples; an
   * exact-size array, replaced by a copy one longer for each line added.
   */
  samples: string[] | null;
}

export class Plan {
  readonly aggregates: Aggregate[] = [];
  readonly fields: string[] = [];
  /** Per field, where its numbers start in a pane's `nums`, or -1 when it has none. */
  private readonly slot: number[] = [];
  private readonly numeric: boolean[] = [];
  private nSlots = 0;
  /** A new pane's `nums`, copied (an exact-size array of doubles). */
  private readonly numsTemplate: number[] = [];
  /** Index into a pane's `ids` per field, -1 when the field has no `distinct`. */
  private readonly setIndex: number[] = [];
  private nSets = 0;
  /** The ids of `distinct` values, shared by every pane of the node. */
  readonly valueIds: ValueIds;

  constructor(spec: Readonly<Record<string, AggSpec>>, idLimit?: number) {
    const counted: boolean[] = [];
    for (const [name, s] of Object.entries(spec)) {
      const { kind, field } = parseAgg(s);
      let f = -1;
      if (field !== undefined) {
        f = this.fields.indexOf(field);
        if (f === -1) {
          f = this.fields.length;
          this.fields.push(field);
          this.numeric.push(false);
          counted.push(false);
          this.setIndex.push(-1);
        }
        if (kind === 'sum' || kind === 'min' || kind === 'max' || kind === 'avg') this.numeric[f] = true;
        if (kind === 'count') counted[f] = true;
        if (kind === 'distinct' && this.setIndex[f] === -1) this.setIndex[f] = this.nSets++;
      }
      this.aggregates.push({ name, kind, field: f });
    }
    for (let f = 0; f < this.fields.length; f++) {
      const n = this.numeric[f] ? 5 : counted[f] ? 1 : 0;
      this.slot.push(n ? this.nSlots : -1);
      this.nSlots += n;
      if (this.numeric[f])
        this.numsTemplate.push(0, 0, 0, Infinity, -Infinity); // present, n, sum, min, max
      else if (n) this.numsTemplate.push(0); // present
    }
    this.valueIds = new ValueIds(idLimit);
  }

  newPane(start: number): Pane {
    const nums = this.nSlots ? this.numsTemplate.slice() : null;
    let ids: IdList[] | null = null;
    if (this.nSets) {
      ids = new Array(this.nSets);
      for (let i = 0; i < this.nSets; i++) ids[i] = NO_IDS;
    }
    return { start, count: 0, nums, ids, samples: null };
  }

  /** Add a record to `p`, given its values of `fields` at `values[at…]`. */
  add(p: Pane, values: readonly unknown[], at: number): void {
    p.count++;
    const nf = this.fields.length;
    for (let f = 0; f < nf; f++) {
      const v = values[at + f];
      if (v === undefined || v === null) continue;
      const b = this.slot[f]!;
      if (b !== -1) {
        const nums = p.nums!;
        nums[b + PRESENT]!++;
        if (this.numeric[f]) {
          const x = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
          if (Number.isFinite(x)) {
            nums[b + N]!++;
            nums[b + SUM]! += x;
            if (x < nums[b + MIN]!) nums[b + MIN] = x;
            if (x > nums[b + MAX]!) nums[b + MAX] = x;
          }
        }
      }
      const si = this.setIndex[f]!;
      if (si !== -1) {
        const ids = p.ids!;
        const list = ids[si]!;
        const grown = addId(list, this.valueIds.id(typeof v === 'object' ? JSON.stringify(v) : v));
        if (grown !== list) ids[si] = grown;
      }
    }
  }

  /** How many numbers a pane's `nums` holds (0: it has none). */
  get slots(): number {
    return this.nSlots;
  }

  /** How many fields have a `distinct` (the length of a pane's `ids`). */
  get sets(): number {
    return this.nSets;
  }

  /**
   * Add to `p` the records of a pane summarised elsewhere (summary.ts): `count` records, and the
   * numbers that pane kept (`src[at…]`, laid out as `nums`). Counts, `present`, `n` and `sum` add,
   * min and max are compared: what `add` would have made of the records themselves, except that a
   * sum of non-integers may round differently when `p` already held some (the partial sum is added
   * at once; integers below 2^53 add exactly either way).
   */
  absorb(p: Pane, count: number, src: ArrayLike<number>, at: number): void {
    p.count += count;
    const nums = p.nums;
    if (nums === null) return;
    const nf = this.fields.length;
    for (let f = 0; f < nf; f++) {
      const b = this.slot[f]!;
      if (b === -1) continue;
      nums[b + PRESENT]! += src[at + b + PRESENT]!;
      if (!this.numeric[f]) continue;
      nums[b + N]! += src[at + b + N]!;
      nums[b + SUM]! += src[at + b + SUM]!;
      const min = src[at + b + MIN]!;
      const max = src[at + b + MAX]!;
      if (min < nums[b + MIN]!) nums[b + MIN] = min;
      if (max > nums[b + MAX]!) nums[b + MAX] = max;
    }
  }

  /** Add the value with id `id` (of `valueIds`) to the `si`-th distinct set of `p`. */
  addValueId(p: Pane, si: number, id: number): void {
    const ids = p.ids!;
    const list = ids[si]!;
    const grown = addId(list, id);
    if (grown !== list) ids[si] = grown;
  }

  /** Write the aggregates of panes[from, to) into `out`, through one writer per aggregate (in order). */
  emit(panes: readonly Pane[], from: number, to: number, out: Rec, writers: readonly FieldWriter[]): void {
    let count = 0;
    for (let i = from; i < to; i++) count += panes[i]!.count;
    for (let ai = 0; ai < this.aggregates.length; ai++) {
      const a = this.aggregates[ai]!;
      let value: unknown;
      if (a.field === -1) {
        value = count;
      } else if (a.kind === 'distinct') {
        const si = this.setIndex[a.field]!;
        if (to - from === 1) value = sizeOf(panes[from]!.ids![si]!);
        else {
          const ids = this.valueIds;
          ids.beginUnion();
          let size = 0;
          for (let i = from; i < to; i++) size += ids.count(panes[i]!.ids![si]!);
          value = size;
        }
      } else {
        const b = this.slot[a.field]!;
        let present = 0,
          n = 0,
          sum = 0,
          min = Infinity,
          max = -Infinity;
        if (a.kind === 'count') {
          for (let i = from; i < to; i++) present += panes[i]!.nums![b + PRESENT]!;
        } else {
          for (let i = from; i < to; i++) {
            const nums = panes[i]!.nums!;
            n += nums[b + N]!;
            sum += nums[b + SUM]!;
            if (nums[b + MIN]! < min) min = nums[b + MIN]!;
            if (nums[b + MAX]! > max) max = nums[b + MAX]!;
          }
        }
        switch (a.kind) {
          case 'count':
            value = present;
            break;
          case 'sum':
            value = sum;
            break;
          case 'min':
            value = n ? min : null;
            break;
          case 'max':
            value = n ? max : null;
            break;
          case 'avg':
            value = n ? sum / n : null;
            break;
        }
      }
      writers[ai]!(out, value);
    }
  }

  /** Renumber the `distinct` ids from the panes still held (`ValueIds.compact`), when it is due. */
  compactIds(held: () => Iterable<readonly Pane[]>): void {
    if (!this.nSets || !this.valueIds.full) return;
    this.valueIds.compact((renumber) => {
      for (const panes of held())
        for (const p of panes) {
          const ids = p.ids!;
          for (let si = 0; si < ids.length; si++) ids[si] = renumber(ids[si]!);
        }
    });
  }
}

export type FieldWriter = (rec: Rec, value: unknown) => void;
export type FieldReader = (rec: Rec) => unknown;

/**
 * A reader of one dotted path, split once: what `getPath(rec, path)` returns (a key holding the
 * dotted name itself first, unless it holds `undefined`; then the nested own properties), without
 * cutting the path into new strings on every read.
 */
export function fieldReader(path: string): FieldReader {
  const parts = path.split('.');
  if (parts.length === 1) return (rec) => (Object.hasOwn(rec, path) ? rec[path] : undefined);
  const n = parts.length;
  return (rec) => {
    let cur: unknown = rec[path];
    if (cur !== undefined && Object.hasOwn(rec, path)) return cur;
    cur = rec;
    for (let i = 0; i < n; i++) {
      const k = parts[i]!;
      if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, k)) return undefined;
      cur = (cur as Rec)[k];
    }
    return cur;
  };
}

/**
 * A writer of one dotted path into a record the window analyser builds itself (fresh objects, names
 * checked at validation: no prototype keys, no path inside another), split once rather than per write.
 */
export function fieldWriter(path: string): FieldWriter {
  const parts = path.split('.');
  const last = parts.pop()!;
  if (parts.length === 0)
    return (rec, v) => {
      rec[last] = v;
    };
  return (rec, v) => {
    let cur = rec;
    for (let i = 0; i < parts.length; i++) {
      const k = parts[i]!;
      let next = cur[k];
      if (next === undefined) {
        next = {};
        cur[k] = next;
      }
      cur = next;
    }
    cur[last] = v;
  };
}

/** `count` → count of records; `{count: f}` → records where f is present; `{sum|min|max|avg|distinct: f}`. */
export function parseAgg(s: AggSpec): { kind: AggKind; field?: string } {
  if (typeof s === 'string') {
    if (s !== 'count') throw new Error(`'${s}' needs a field: write { ${s}: field.name }`);
    return { kind: 'count' };
  }
  const keys = Object.keys(s);
  if (keys.length !== 1) throw new Error(`an aggregate is one of count, sum, min, max, avg, distinct with one field, got ${keys.length} keys`);
  const kind = keys[0] as AggKind;
  if (!AGG_KINDS.includes(kind)) throw new Error(`unknown aggregate '${kind}' (known: ${AGG_KINDS.join(', ')})`);
  return { kind, field: s[kind]! };
}
