import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { groupDigits } from '../../src/util/digits.js';

describe('groupDigits', () => {
  it('writes what toLocaleString("en-US") writes (property over integers; fractions and -0 handed over)', () => {
    for (const n of [0, 7, 999, 1000, 12345, 1234567, 1_000_000_000, -1, -1234, -0, 0.5, 1234.5678]) expect(groupDigits(n)).toBe(n.toLocaleString('en-US'));
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (n) => groupDigits(n) === n.toLocaleString('en-US')),
      { numRuns: 5000 },
    );
  });
});
