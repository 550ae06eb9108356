/**
 * The window's event-time reader answers exactly what `Date.parse` answers, string after string,
 * whatever second it kept from the strings before (property), and reads numbers as before.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { TimeReader } from '../../../plugins/analyse/window/time.js';

const d = (n: number, w: number) => String(n).padStart(w, '0');

/** `YYYY-MM-DDTHH:MM:SS` with every part drawn past its valid range too (month 13, hour 24, second 60, day 31 of February). */
const second = fc
  .record({
    y: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1969, max: 2031 })),
    mo: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    h: fc.oneof(fc.integer({ min: 0, max: 25 }), fc.constantFrom(23, 24)),
    mi: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.constantFrom(0, 59, 60)),
    s: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.constantFrom(0, 59, 60)),
    sep: fc.constantFrom('T', 'T', 'T', ' ', 't'),
  })
  .map(({ y, mo, day, h, mi, s, sep }) => `${d(y, 4)}-${d(mo, 2)}-${d(day, 2)}${sep}${d(h, 2)}:${d(mi, 2)}:${d(s, 2)}`);

/** What follows the second: the parsers' `.mmmZ` mostly, and every other ending Date.parse reads or refuses. */
const tail = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(fc.integer({ min: 0, max: 999 }), fc.constantFrom(0, 1, 999)).map((ms) => `.${d(ms, 3)}Z`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('Z', 'z', '', '.Z', '.5Z', '.12Z', '.1234Z', '.000z', '+01:00', '.250+05:30', '.999-00:30', '.00aZ', '.000ZZ', ' Z', '.0000'),
  },
);

const timestamp = fc.tuple(second, tail).map(([a, b]) => a + b);

describe('window event times (TimeReader)', () => {
  it('equal Date.parse for every string, in any order, whatever second is kept (property)', () => {
    // a few seconds per run, so that strings share their second and the kept one is reused
    const run = fc
      .array(second, { minLength: 1, maxLength: 4 })
      .chain((seconds) =>
        fc.array(
          fc.oneof(
            { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...seconds), tail).map(([a, b]) => a + b) },
            { weight: 1, arbitrary: timestamp },
            { weight: 1, arbitrary: fc.string({ maxLength: 26 }) },
          ),
          { maxLength: 60 },
        ),
      );
    fc.assert(
      fc.property(run, (texts) => {
        const r = new TimeReader();
        for (const t of texts) expect([t, r.read(t)]).toEqual([t, Date.parse(t)]);
      }),
      { numRuns: 3000 },
    );
  });

  it('equal Date.parse on the edges: hour 24, leap days, year 0, a second after an invalid one', () => {
    const texts = [
      '2023-01-01T24:00:00.000Z',
      '2023-01-01T24:00:00.001Z',
      '2023-01-01T23:59:59.999Z',
      '2023-01-01T23:59:59Z',
      '2024-02-29T12:00:00.500Z',
      '2023-02-29T12:00:00.500Z',
      '2023-02-29T12:00:00.501Z',
      '2023-02-30T00:00:00.000Z',
      '2023-02-30T00:00:00.007Z',
      '0000-01-01T00:00:00.000Z',
      '0000-01-01T00:00:00.999Z',
      '1969-12-31T23:59:59.999Z',
      '1969-12-31T23:59:59.001Z',
      '2023-13-01T00:00:00.000Z',
      '2023-13-01T00:00:00.001Z',
      '2023-01-01 00:00:00.000Z',
      '2023-01-01 00:00:00.002Z',
      '+002023-01-01T00:00:00.000Z',
    ];
    const r = new TimeReader();
    for (const t of [...texts, ...texts.reverse()]) expect([t, r.read(t)]).toEqual([t, Date.parse(t)]);
  });

  it('reads finite numbers as epoch milliseconds and anything else as no time', () => {
    const r = new TimeReader();
    expect(r.read(1_700_000_000_123)).toBe(1_700_000_000_123);
    expect(r.read(-5)).toBe(-5);
    for (const v of [Number.NaN, Infinity, null, undefined, true, {}, ['2023-01-01T00:00:00.000Z']]) expect(r.read(v)).toBeNaN();
    expect(r.read('2023-11-14T22:13:20.474Z')).toBe(Date.parse('2023-11-14T22:13:20.474Z'));
    expect(r.read('2023-11-14T22:13:20.475Z')).toBe(Date.parse('2023-11-14T22:13:20.475Z'));
  });
});
