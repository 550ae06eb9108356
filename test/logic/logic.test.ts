import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { compileLogic, validateLogic, applyLogicReference } from '../../src/logic/index.js';

describe('json-logic safety', () => {
  it.each([
    [{ var: '__proto__' }],
    [{ var: 'constructor' }],
    [{ var: 'constructor.prototype' }],
    [{ var: 'a.__proto__.polluted' }],
    [{ missing: ['__proto__'] }],
  ])('rejects %j at validation', (rule) => {
    expect(validateLogic(rule).length).toBeGreaterThan(0);
    expect(() => compileLogic(rule)).toThrow(/prototype/);
  });

  it('cannot reach prototypes through a computed var either', () => {
    const rule = { var: { cat: ['__pro', 'to__'] } };
    const f = compileLogic(rule);
    expect(f.evaluate({ a: 1 })).toBeNull();
    const ctor = compileLogic({ var: { cat: ['constr', 'uctor'] } });
    expect(ctor.evaluate({})).toBeNull();
    // Inherited properties are not data either.
    expect(compileLogic({ var: 'toString' }).evaluate({})).toBeNull();
  });

  it('reports unknown operations with their path', () => {
    const issues = validateLogic({ and: [{ '==': [1, 1] }, { regex_match: ['a', 'b'] }] });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('/and/1/regex_match');
  });

  it('reads dotted paths of nested records', () => {
    const rec = { http: { request: { method: 'POST', bytes: 5_000_000 } }, url: { domain: 'x.example' } };
    expect(compileLogic({ and: [{ '==': [{ var: 'http.request.method' }, 'POST'] }, { '>': [{ var: 'http.request.bytes' }, 1e6] }] }).test(rec)).toBe(true);
    expect(compileLogic({ var: ['missing.path', 'dflt'] }).evaluate(rec)).toBe('dflt');
  });
});

describe('compiled json-logic agrees with json-logic-js', () => {
  const value = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('a', 'b', 'GET', '', '10', '0'), fc.boolean(), fc.constant(null), fc.constant([]));
  const varRef = fc.constantFrom('x', 'y', 's', 'n.m', 'none').map((v) => ({ var: v }));
  const leaf = fc.oneof(value, varRef);
  const rule: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.tuple(fc.constantFrom('==', '===', '!=', '!==', '<', '<=', '>', '>=', 'in', 'cat'), tie('node'), tie('node')).map(([op, a, b]) => ({ [op]: [a, b] })),
      fc.tuple(fc.constantFrom('<', '<='), tie('node'), tie('node'), tie('node')).map(([op, a, b, c]) => ({ [op]: [a, b, c] })),
      fc.tuple(fc.constantFrom('and', 'or', 'if'), fc.array(tie('node'), { minLength: 1, maxLength: 4 })).map(([op, xs]) => ({ [op]: xs })),
      fc.tuple(fc.constantFrom('!', '!!'), tie('node')).map(([op, a]) => ({ [op]: [a] })),
    ),
  })).node;
  const data = fc.record({ x: value, y: value, s: fc.string({ maxLength: 3 }), n: fc.record({ m: value }) });

  it('on random rules and records', () => {
    fc.assert(
      fc.property(rule, data, (r, d) => {
        expect(compileLogic(r).evaluate(d)).toEqual(applyLogicReference(r, d));
      }),
      { numRuns: 2000 },
    );
  });
});
