/**
 * The compiled field reader of the matcher (constant property names in generated code) against the
 * general loop and `getPath`, on records of every shape: flat dotted keys (also holding undefined),
 * inherited properties, null/array/primitive parents, three-part and one-part paths.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FieldReader } from '../../../plugins/analyse/ioc-sweep/field-reader.js';
import { getPath, type Rec } from '../../../src/api.js';

const PATHS = ['destination.ip', 'url.domain', 'destination.domain', 'url.original', 'url.full', 'source.ip', 'a.b.c', 'host', 'x"y.z\\w', '__proto__.x'];

const value = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constantFrom('1.2.3.4', 'evil.example', 'http://e.example/', ''),
  fc.integer(),
  fc.constant([1]),
);

/** A nested object: own keys from the leaf names, maybe a prototype with some of them. */
const inner = fc
  .record({
    own: fc.dictionary(fc.constantFrom('ip', 'domain', 'original', 'full', 'b', 'x', 'z\\w'), value),
    proto: fc.option(fc.dictionary(fc.constantFrom('ip', 'domain', 'original', 'full'), value), { nil: undefined }),
  })
  .map(({ own, proto }) => Object.assign(Object.create(proto ?? Object.prototype) as Record<string, unknown>, own));

const parent = fc.oneof(inner, fc.constant(null), fc.constant(undefined), fc.constant('str'), fc.constant([1, 2]));

const record = fc
  .record({
    heads: fc.dictionary(fc.constantFrom('destination', 'url', 'source', 'a', 'x"y'), parent),
    flat: fc.dictionary(fc.constantFrom(...PATHS), value),
    protoHeads: fc.option(fc.dictionary(fc.constantFrom('destination', 'url'), inner), { nil: undefined }),
  })
  .map(({ heads, flat, protoHeads }) => {
    const rec = Object.create(protoHeads ?? Object.prototype) as Rec;
    Object.assign(rec, heads, flat);
    if (rec.a && typeof rec.a === 'object') (rec.a as Record<string, unknown>).b = { c: 'deep' };
    return rec;
  });

describe('field reader', () => {
  it('compiled reads agree with the general loop and getPath (property)', () => {
    fc.assert(
      fc.property(fc.subarray(PATHS, { minLength: 1 }), fc.array(record, { minLength: 1, maxLength: 4 }), (paths, recs) => {
        const r = new FieldReader(paths);
        for (const rec of recs) {
          const fast = r.read(rec).slice();
          const general = r.readGeneral(rec).slice();
          expect(fast).toEqual(general);
          for (let i = 0; i < paths.length; i++) expect(fast[i]).toBe(getPath(rec, paths[i]!));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reads a flat dotted key before the nested value; one holding undefined is absent', () => {
    const r = new FieldReader(['url.domain', 'destination.ip']);
    expect(r.read({ 'url.domain': undefined, url: { domain: 'a.example' }, destination: { ip: '1.2.3.4' } } as Rec)).toEqual(['a.example', '1.2.3.4']);
    expect(r.read({ 'url.domain': 'b.example', url: { domain: 'a.example' } } as Rec)).toEqual(['b.example', undefined]);
    const inherited = Object.create({ domain: 'c.example' }) as Record<string, unknown>;
    expect(r.read({ url: inherited } as Rec)).toEqual([undefined, undefined]);
  });
});
