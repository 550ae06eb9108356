import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { copyRecord } from '../../src/api.js';

describe('copyRecord', () => {
  it('equals structuredClone on JSON-like records and shares nothing mutable (property)', () => {
    const rec = fc.jsonValue().map((v) => ({ v, u: undefined, nested: { a: [v, undefined], b: undefined } }));
    fc.assert(
      fc.property(rec, (r) => {
        const c = copyRecord(r);
        expect(c).toStrictEqual(structuredClone(r));
        expect(Object.keys(c.nested)).toEqual(['a', 'b']); // keys holding undefined kept, in order
        expect(c.nested).not.toBe(r.nested);
        expect(c.nested.a).not.toBe(r.nested.a);
      }),
    );
  });

  it('keeps an own __proto__ key a key, and copies non-plain values by structuredClone', () => {
    const r = JSON.parse('{"__proto__": {"x": 1}, "d": null}');
    r.when = new Date(0);
    const c = copyRecord(r);
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(Object.hasOwn(c, '__proto__')).toBe(true);
    expect(c.when).toBeInstanceOf(Date);
    expect(c.when).not.toBe(r.when);
    expect(c.when.getTime()).toBe(0);
  });
});
