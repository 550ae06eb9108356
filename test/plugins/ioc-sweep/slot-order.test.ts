/**
 * The builder inserts in slot order: IPv4 prefixes and the slots of domain and URL entries are
 * placed when the counts are read or the store is sealed, each table walked in the order of its
 * home slots. Held here to inserting one value at a time (the counts read after every add forces
 * exactly that): the same indicators with the same metadata in the same order of entries, the same
 * counts, the same hits — also with hashes narrowed to a few bits, where every probe runs through
 * collisions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IndicatorStoreBuilder } from '../../../plugins/analyse/ioc-sweep/store-builder.js';
import type { Hit, IndicatorStore, Meta } from '../../../plugins/analyse/ioc-sweep/store.js';
import { ORDER_MIN, PLACE_BATCH, setHashBitsForTesting, slotOrder } from '../../../plugins/analyse/ioc-sweep/flat.js';
import { parseIPv4 } from '../../../plugins/analyse/ioc-sweep/normalise.js';
import { loadPlain } from '../../../plugins/analyse/ioc-sweep/feeds/plain.js';
import { Tally } from '../../../plugins/analyse/ioc-sweep/feeds/types.js';

afterEach(() => setHashBitsForTesting(32));

const VALUES = [
  '1.2.3.4',
  '1.2.3.4/32',
  '1.2.3.0/24',
  '1.2.3.9/24',
  '10.0.0.0/8',
  '10.1.2.3',
  '1.2.3.4:80',
  '10.1.2.3:443',
  '::ffff:1.2.3.4',
  '2001:db8::1',
  '2001:db8::/32',
  '2001:db8::ff/32',
  '[2001:db8::1]:443',
  '2001:db8::2',
  'evil.example',
  'Evil.Example.',
  'a.evil.example',
  '*.b.example',
  'b.example',
  'c.example',
  'http://evil.example/x',
  'https://evil.example/x',
  'http://evil.example/x?q=1',
  'evil.example/path',
  'http://[2001:db8::1]/x',
  'http://1.2.3.4/x',
];

const PROBES = {
  v4: ['1.2.3.4', '1.2.3.5', '10.1.2.3', '10.9.9.9', '11.0.0.1'],
  v6: [
    '2001:0db8:0000:0000:0000:0000:0000:0001',
    '2001:0db8:0000:0000:0000:0000:0000:0002',
    '2001:0db8:ffff:0000:0000:0000:0000:0001',
    '2001:0db9:0000:0000:0000:0000:0000:0001',
  ],
  host: ['evil.example', 'x.evil.example', 'a.evil.example', 'b.example', 'z.b.example', 'c.example', 'd.example'],
  url: [
    'http://evil.example/x',
    'https://evil.example/x',
    'http://evil.example/x?q=1',
    'http://evil.example/path',
    'https://evil.example/path',
    'http://1.2.3.4/x',
    'http://[2001:db8::1]/x',
    'http://c.example/',
  ],
};

function build(values: Array<[string, number]>, metas: (b: IndicatorStoreBuilder) => Meta[], oneByOne: boolean): { store: IndicatorStore; counts: unknown } {
  const b = new IndicatorStoreBuilder('f');
  const m = metas(b);
  for (const [v, i] of values) {
    b.add(v, 'auto', m[i]!);
    if (oneByOne) void b.counts; // places what is pending: one value at a time
  }
  const counts = { ...b.counts };
  return { store: b.seal(), counts };
}

/** Every indicator with its metadata: domains and URLs in entry order, addresses sorted (their order is the slots'). */
function contents(s: IndicatorStore): { strings: Array<[string, unknown]>; words: string[] } {
  const strings: Array<[string, unknown]> = [];
  const words: string[] = [];
  s.forEachIndicator((k, metas) => {
    if (k.startsWith('d:') || k.startsWith('u:')) strings.push([k, metas]);
    else words.push(`${k} ${JSON.stringify(metas)}`);
  });
  return { strings, words: words.sort() };
}

function hits(s: IndicatorStore): string[] {
  const out: string[] = [];
  const take = (what: string, f: (o: Hit[]) => void) => {
    const o: Hit[] = [];
    f(o);
    out.push(`${what}: ${o.map((h) => `${h.type} ${h.value} ${JSON.stringify(h.meta)}`).join(', ')}`);
  };
  for (const v of PROBES.v4) take(v, (o) => s.matchV4(parseIPv4(v), o));
  for (const v of PROBES.v6) take(v, (o) => s.matchV6(v.replace(/:/g, ''), o));
  for (const h of PROBES.host) take(h, (o) => s.matchHost(h, o));
  for (const u of PROBES.url) take(u, (o) => s.matchUrl(u, o));
  return out;
}

const metas = (b: IndicatorStoreBuilder): Meta[] => [b.meta({ exact: false }), b.meta({ exact: false, tags: ['t'] }), b.meta({ exact: true, confidence: 90 })];

describe('slot-order inserts', () => {
  for (const bits of [32, 3]) {
    it(`store the same as one value at a time (hash bits ${bits})`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.constantFrom(...VALUES), fc.integer({ min: 0, max: 2 })), { maxLength: 40 }), (values) => {
          setHashBitsForTesting(bits);
          const a = build(values, metas, false);
          const b = build(values, metas, true);
          expect(a.counts).toEqual(b.counts);
          expect(a.store.counts).toEqual(b.store.counts);
          expect(contents(a.store)).toEqual(contents(b.store));
          expect(hits(a.store)).toEqual(hits(b.store));
        }),
        { numRuns: 1500 },
      );
    });
  }

  it('keeps the first of equal texts across loads into one builder, entries in line order', () => {
    const b = new IndicatorStoreBuilder('f');
    const [m0, m1] = metas(b);
    const ctx = (meta: Meta) => ({
      store: b,
      tally: new Tally(),
      base: meta,
      feed: { name: 'f', path: 't', format: 'list' as const, exact: false, timeout: '5s', optional: false },
      now: 0,
      stableUntil: Infinity,
    });
    loadPlain({ label: 'a', text: 'z.example\nhttp://z.example/1\nb.example\nz.example\n1.2.3.4\n' }, ctx(m0!));
    expect(b.counts.duplicates).toBe(1);
    loadPlain({ label: 'b', text: 'b.example\nc.example\nhttp://z.example/1\n1.2.3.4\nz.example\n' }, ctx(m1!));
    const s = b.seal();
    expect(s.counts['domain-name']).toBe(5); // z, b, c, and z and b again with another meta
    expect(s.counts.url).toBe(2);
    expect(s.counts['ipv4-addr']).toBe(2);
    expect(s.counts.duplicates).toBe(1);
    const keys: string[] = [];
    s.forEachIndicator((k, ms) => keys.push(`${k} ${ms.length}`));
    expect(keys).toEqual(['4:01020304/32 2', 'd:z.example 2', 'd:b.example 2', 'd:c.example 1', 'u:http://z.example/1 2']);
  });

  it('orders indexes by the top 11 bits of their home slots, equal ones in index order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: (1 << 30) - 1 }), { maxLength: 700 }), fc.integer({ min: 1, max: 30 }), (ks, bits) => {
        const homes = Int32Array.from(ks.map((k) => k & ((1 << bits) - 1)));
        const top = (i: number) => homes[i]! >>> Math.max(0, bits - 11);
        const order = Array.from(slotOrder(homes, homes.length, bits, new Int32Array(homes.length)));
        expect(order).toEqual([...homes.keys()].sort((x, y) => (homes.length < ORDER_MIN ? 0 : top(x) - top(y)) || x - y));
      }),
    );
  });

  it('places more than one batch, duplicates across batches included', () => {
    const rows: string[] = [];
    // more than one batch of each kind; every value comes back in a later batch
    for (let i = 0; i < 7 * PLACE_BATCH + 7; i++) {
      const k = Math.floor(i / 3) % 20000;
      const kind = i % 3 === 0 ? (Math.floor(i / 3) % 2 === 0 ? 'v4' : 'v6') : i % 3 === 1 ? 'domain' : 'url';
      rows.push(
        kind === 'v4'
          ? `10.0.${k >> 8}.${k & 255}`
          : kind === 'v6'
            ? `2001:db8::${k.toString(16)}`
            : kind === 'domain'
              ? `h${k}.example`
              : `http://u${k}.example/p`,
      );
    }
    // a value keeps its meta, except every 7th row (merged into the first's)
    const values = rows.map((v, i): [string, number] => [v, i % 7 === 0 ? 2 : v.length % 2]);
    const a = build(values, metas, false);
    const b = build(values, metas, true);
    expect(a.counts).toEqual(b.counts);
    expect(contents(a.store)).toEqual(contents(b.store));
    expect(hits(a.store)).toEqual(hits(b.store));
    expect(a.store.counts.duplicates).toBeGreaterThan(0);
  });
});
