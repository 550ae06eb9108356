/**
 * `distinct` through value ids (distinct.ts): the union of a window's panes counted with stamps
 * equals the size of a `Set` of the values, including after the ids were renumbered many times
 * under a tiny bound; and the window's record reader reads what `getPath` reads.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { getPath, type Rec } from '../../../src/api.js';
import { Plan, fieldReader } from '../../../plugins/analyse/window/aggregates.js';
import { LIST_MAX } from '../../../plugins/analyse/window/distinct.js';
import { recordReader, generalReader } from '../../../plugins/analyse/window/record-reader.js';

/** Values a field may hold: strings, numbers (1 and "1" differ, NaN equals NaN, 0 and -0 are one), objects by their JSON. */
const value = fc.oneof(
  fc.constantFrom('a', 'b', '1', '{"x":1}', 'c.example', 'NaN'),
  fc.constantFrom(1, 0, -0, Number.NaN, 2.5),
  fc.constantFrom({ x: 1 }, [1], true),
  fc.string({ maxLength: 2 }),
  fc.integer({ min: 0, max: 40 }),
);

const key = (v: unknown) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v);

describe('window distinct through value ids', () => {
  it('counts the union of any panes as a Set of the values would, across renumbering (property)', () => {
    // panes: lists of values; windows: ranges of panes; after each window, panes before `drop` are freed
    const scenario = fc.record({
      panes: fc.array(fc.array(value, { maxLength: LIST_MAX * 2 + 3 }), { minLength: 1, maxLength: 12 }),
      windows: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 20 }),
      limit: fc.constantFrom(1, 3, 8, 1 << 16),
    });
    fc.assert(
      fc.property(scenario, ({ panes, windows, limit }) => {
        const plan = new Plan({ hosts: { distinct: 'h' } }, limit);
        const held = panes.map((vs, i) => {
          const p = plan.newPane(i);
          for (const v of vs) plan.add(p, [v], 0);
          return p;
        });
        const writers = [(rec: Rec, v: unknown) => void (rec.hosts = v)];
        for (const [a, n] of windows) {
          plan.compactIds(() => [held]);
          const from = a % held.length;
          const to = Math.min(held.length, from + n);
          const out: Rec = {};
          plan.emit(held, from, to, out, writers);
          const want = new Set<unknown>();
          for (let i = from; i < to; i++) for (const v of panes[i]!) if (v !== undefined && v !== null) want.add(key(v));
          expect(out.hosts).toBe(want.size);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('forgets the values of panes no longer held when the ids are renumbered', () => {
    const plan = new Plan({ hosts: { distinct: 'h' } }, 4);
    const old = plan.newPane(0);
    for (let i = 0; i < 10; i++) plan.add(old, [`old${i}`], 0);
    const kept = plan.newPane(1);
    for (const v of ['x', 'y', 'old3']) plan.add(kept, [v], 0);
    expect(plan.valueIds.size).toBe(12);
    plan.compactIds(() => [[kept]]);
    expect(plan.valueIds.size).toBe(3);
    const out: Rec = {};
    plan.emit([kept], 0, 1, out, [(rec, v) => void (rec.n = v)]);
    expect(out.n).toBe(3);
    // new values after renumbering get fresh ids; old ones are found again
    const next = plan.newPane(2);
    for (const v of ['y', 'z', 'old3', 'old4']) plan.add(next, [v], 0);
    plan.emit([kept, next], 0, 2, out, [(rec, v) => void (rec.n = v)]);
    expect(out.n).toBe(5);
  });
});

describe('window record reader', () => {
  const PATHS = ['a', 'a.b', 'a.b.c', 'b', 'x.y', 'a.b.c.d', 'x.y.z', 'c'];
  it('reads what getPath reads, compiled or not, on nested, dotted, undefined, array and null-prototype records (property)', () => {
    const leaf = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.string({ maxLength: 3 }));
    const k = fc.constantFrom('a', 'b', 'c', 'd', 'x', 'y', 'z', 'a.b', 'x.y', 'a.b.c', 'x.y.z');
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.dictionary(k, tie('node'), { maxKeys: 4 }),
        fc.dictionary(k, tie('node'), { maxKeys: 3 }).map((o) => Object.assign(Object.create(null), o)),
        fc.array(tie('node'), { maxLength: 2 }),
      ),
    })).node;
    const compiled = recordReader(PATHS);
    const general = generalReader(PATHS.map(fieldReader));
    fc.assert(
      fc.property(fc.dictionary(k, tree, { maxKeys: 6 }), fc.boolean(), (obj, nullProto) => {
        const rec = (nullProto ? Object.assign(Object.create(null), obj) : obj) as Rec;
        const a: unknown[] = [];
        const b: unknown[] = [];
        compiled(rec, a);
        general(rec, b);
        const want = PATHS.map((p) => getPath(rec, p));
        expect(a).toEqual(want);
        expect(b).toEqual(want);
        for (let i = 0; i < want.length; i++) expect(Object.is(a[i], want[i])).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('falls back to the general readers for names Object.prototype has', () => {
    const read = recordReader(['constructor', 'a.toString', 'a.b']);
    const out: unknown[] = [];
    read({ a: { b: 2 } }, out);
    expect(out).toEqual([undefined, undefined, 2]);
    read({ constructor: 1, a: { toString: 5, b: 3 } }, out);
    expect(out).toEqual([1, 5, 3]);
  });
});
