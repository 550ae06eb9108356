/**
 * The window's compiled field readers read what `getPath` reads (the public API's rule: a key
 * holding the dotted name first unless it holds `undefined`, then nested own properties).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { getPath } from '../../../src/api.js';
import { fieldReader } from '../../../plugins/analyse/window/aggregates.js';

const PATHS = ['a', 'a.b', 'a.b.c', 'b', 'x.y', 'constructor', 'a.toString', 'a.b.c.d'];

describe('window field readers', () => {
  it('agree with getPath on records with nested, dotted, undefined and inherited keys', () => {
    const leaf = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.string({ maxLength: 3 }));
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'x', 'y', 'a.b', 'x.y', 'a.b.c', 'toString');
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.dictionary(key, tie('node'), { maxKeys: 4 }), fc.array(tie('node'), { maxLength: 2 })),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 5 }), (rec) => {
        for (const p of PATHS) expect(fieldReader(p)(rec)).toBe(getPath(rec, p));
      }),
      { numRuns: 2000 },
    );
    const proto = Object.create({ a: { b: 1 }, 'a.b': 2 });
    for (const p of PATHS) expect(fieldReader(p)(proto)).toBe(getPath(proto, p));
    expect(fieldReader('a.b')({ 'a.b': undefined, a: { b: 3 } })).toBe(3);
    expect(fieldReader('a.b')({ 'a.b': 0, a: { b: 3 } })).toBe(0);
  });
});
