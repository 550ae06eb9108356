/** How `sluice test` compares records: subset and exact diffs, and pairing expected with emitted records. */
import { describe, it, expect } from 'vitest';
import { exactDiff, matchList, subsetDiff } from '../../src/testing/match.js';

const rec = {
  rule: { name: 'ioc-sweep' },
  source: { ip: '10.1.1.20' },
  threat: { enrichments: [{ indicator: { provider: 'feodo', value: '203.0.113.66' } }] },
  'flat.key': 1,
};

describe('subsetDiff', () => {
  it('checks only the fields given, nested or dotted, and reads a literal dotted key first', () => {
    expect(subsetDiff({ rule: { name: 'ioc-sweep' }, 'source.ip': '10.1.1.20', 'flat.key': 1 }, rec)).toEqual([]);
    expect(subsetDiff({ 'threat.enrichments': [{ indicator: { provider: 'feodo' } }] }, rec)).toEqual([]);
  });
  it('names the path of every difference', () => {
    expect(subsetDiff({ threat: { enrichments: [{ indicator: { provider: 'urlhaus' } }] }, user: { name: 'x' } }, rec)).toEqual([
      { path: 'threat.enrichments[0].indicator.provider', kind: 'differs', expected: 'urlhaus', actual: 'feodo' },
      { path: 'user', kind: 'missing', expected: { name: 'x' } },
    ]);
  });
  it('compares lists element by element and by length; scalars strictly', () => {
    expect(subsetDiff({ 'threat.enrichments': [{}, {}] }, rec)[0]).toMatchObject({ path: 'threat.enrichments', kind: 'differs' });
    expect(subsetDiff({ 'flat.key': '1' }, rec)).toEqual([{ path: 'flat.key', kind: 'differs', expected: '1', actual: 1 }]);
  });
});

describe('exactDiff', () => {
  it('reports fields that are missing and fields that were not expected', () => {
    expect(exactDiff({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 2, d: 3 }, e: [1] })).toEqual([
      { path: 'b.d', kind: 'unexpected', actual: 3 },
      { path: 'e', kind: 'unexpected', actual: [1] },
    ]);
    expect(exactDiff({ l: [1, 2] }, { l: [1] })).toEqual([{ path: 'l[1]', kind: 'missing', expected: 2 }]);
  });
});

describe('matchList', () => {
  it('unordered: each expected record takes a matching one; a miss is shown against the closest record left', () => {
    const got = [
      { n: 1, k: 'a' },
      { n: 2, k: 'b' },
      { n: 3, k: 'c' },
    ];
    expect(matchList([{ n: 3 }, { n: 1 }], got, { exact: false, ordered: false })).toEqual({ unmatched: [], unused: [1] });
    const m = matchList(
      [
        { n: 2, k: 'x' },
        { n: 9, k: 'z' },
      ],
      got,
      { exact: false, ordered: false },
    );
    expect(m.unmatched).toEqual([
      { expected: 0, actual: 1, diffs: [{ path: 'k', kind: 'differs', expected: 'x', actual: 'b' }] },
      {
        expected: 1,
        actual: 0,
        diffs: [
          { path: 'n', kind: 'differs', expected: 9, actual: 1 },
          { path: 'k', kind: 'differs', expected: 'z', actual: 'a' },
        ],
      },
    ]);
  });
  it('ordered: position by position', () => {
    const m = matchList([{ n: 2 }, { n: 1 }], [{ n: 1 }, { n: 2 }, { n: 3 }], { exact: false, ordered: true });
    expect(m.unmatched.map((u) => [u.expected, u.actual])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(m.unused).toEqual([2]);
  });
});
