/**
 * Key indexes (src/line-keys.ts): the keys the `hdfs` sink takes from a record (`RecordKeys`, a walk
 * with a memo) are exactly those of the JSON line it writes (`addLineKeys` on `JSON.stringify`), on
 * generated records whose strings mix hosts, addresses, URLs, IPv6 runs, quotes, control and
 * non-ASCII characters; and the sidecar text round-trips. The filter side of the contract is in
 * test/plugins/ioc-sweep/prefilter.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { RecordKeys, addLineKeys, blocksToRead, formatKeyIndex, parseKeyIndex } from '../../src/line-keys.js';
import { mulberry32, type Rng } from '../../bench/lib/prng.js';

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const PIECES = [
  'evil.example',
  'WWW.Evil.Example.',
  '10.1.2.3',
  '0x7f.1',
  '2130706433',
  '2001:db8::1',
  'fe80::1%eth0',
  '::ffff:1.2.3.4',
  'a:b:c:d:e:f:1:2',
  'http://',
  'https://user@',
  '/',
  ':',
  '::',
  '.',
  '%2e',
  '@',
  '?q=1',
  ' ',
  '-',
  'x',
  '42',
  '"',
  '\\',
  '\n',
  '\t',
  'é',
  '\u2028',
];

function text(r: Rng): string {
  let s = '';
  for (let k = Math.floor(r() * 8); k > 0; k--) s += pick(r, PIECES);
  return s;
}

function value(r: Rng, depth: number): unknown {
  const t = r();
  if (t < 0.45) return text(r);
  if (t < 0.55) return pick(r, [0, 42, -7, 1.5, -0.25, 1e21, 1.5e300, Number.NaN, Number.POSITIVE_INFINITY]);
  if (t < 0.6) return pick(r, [true, false, null, undefined]);
  if (t < 0.7 || depth > 3) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let k = Math.floor(r() * 5); k > 0; k--) o[r() < 0.8 ? pick(r, ['url', 'ip', 'host.name', 'a:b', 'x"y']) + k : text(r)] = value(r, depth + 1);
  return o;
}

describe('key indexes', () => {
  it('the keys of a record are those of its JSON line (generated records)', () => {
    const r = mulberry32(11);
    const rk = new RecordKeys();
    let bad = 0;
    let withKeys = 0;
    for (let i = 0; i < 5000; i++) {
      const rec = value(r, 0);
      const fromLine = new Set<string>();
      const lineOk = addLineKeys(JSON.stringify(rec) ?? '', fromLine);
      const fromRec = new Set<string>();
      const recOk = rk.add(rec, fromRec);
      expect(recOk).toBe(lineOk);
      if (!lineOk) {
        bad++;
        continue;
      }
      if (fromLine.size) withKeys++;
      expect([...fromRec].sort()).toEqual([...fromLine].sort());
    }
    expect(bad).toBeGreaterThan(100);
    expect(withKeys).toBeGreaterThan(1000);
  });

  it('a record holding a value JSON writes its own way (a Date, toJSON) is left to the line', () => {
    const rk = new RecordKeys();
    expect(rk.add({ t: new Date(0) }, new Set())).toBeUndefined();
    expect(rk.add({ v: { toJSON: () => 'evil.example' } }, new Set())).toBeUndefined();
  });

  it('cuts host tokens, URL-host numbers and IPv6 runs, each in its place', () => {
    const keys = new Set<string>();
    expect(addLineKeys('{"u":"http://2130706433/a.b/9","h":"X.Example.","ip":"2001:db8::1","n":17}\n', keys)).toBe(true);
    expect([...keys].sort()).toEqual(['hX.Example.', 'u2130706433', 'ua.b', 'u9', 'v2001:db8::1'].sort());
    expect(addLineKeys('{"u":"caf\u00e9.example"}', new Set())).toBe(false);
  });

  it('the sidecar text round-trips, and asks each key once', () => {
    const blocks = [
      { bytes: 10, lines: 3, keys: new Set(['ha.example', 'h10.0.0.1']) },
      { bytes: 7, lines: 2, keys: null },
      { bytes: 5, lines: 4, keys: new Set(['ha.example']) },
    ];
    const ix = parseKeyIndex(formatKeyIndex(22, blocks));
    expect(ix.blocks.map((b) => [b.offset, b.bytes, b.firstLine, b.lines, b.always])).toEqual([
      [0, 10, 1, 3, false],
      [10, 7, 4, 2, true],
      [17, 5, 6, 4, false],
    ]);
    const asked: string[] = [];
    expect([...blocksToRead(ix, (k) => (asked.push(k), k === 'ha.example'))]).toEqual([1, 1, 1]);
    expect(asked.sort()).toEqual(['h10.0.0.1', 'ha.example']);
    expect([...blocksToRead(ix, () => false)]).toEqual([0, 1, 0]);
    expect(() => parseKeyIndex(formatKeyIndex(23, blocks))).toThrow(/cover 22 bytes/);
  });

  it('a key filed in one table with the hash another gave it is the key that table finds from text', () => {
    const worker = new RecordKeys();
    const sink = new RecordKeys();
    const block = worker.newBlock();
    worker.addLine('GET http://a.example/x 10.0.0.1 2001:db8::1 via proxy.example:8080\n', block);
    const ids = block.ids.map((id) => sink.internHashed(worker.keyOf(id), worker.hashOf(id)));
    expect(ids.map((id) => sink.keyOf(id))).toEqual(block.ids.map((id) => worker.keyOf(id)));
    // the same ids when asked again, by hash or by text, and for keys the sink cut itself
    expect(block.ids.map((id) => sink.internHashed(worker.keyOf(id), worker.hashOf(id)))).toEqual(ids);
    expect(block.ids.map((id) => sink.intern(worker.keyOf(id)))).toEqual(ids);
    const own = sink.newBlock();
    sink.addLine('again http://a.example/ and 10.0.0.1\n', own);
    expect(own.ids.every((id) => ids.includes(id))).toBe(true);
    // a reused block starts empty
    worker.clearBlock(block);
    expect(block.ids).toEqual([]);
    worker.addLine('a.example\n', block);
    expect(block.ids.map((id) => worker.keyOf(id))).toEqual(['ha.example']);
  });
});
