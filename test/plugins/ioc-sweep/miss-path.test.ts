/**
 * The matcher's per-record path (`Matcher.sweep`): a record that matches nothing is answered from
 * its values and the host and IP caches, without building atoms. Held to the general path
 * (`atoms` + `match` of a matcher of its own) record by record over long streams, with the caches
 * carried from record to record and the set of stores changing under them.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IndicatorStoreBuilder } from '../../../plugins/analyse/ioc-sweep/store-builder.js';
import type { IndicatorStore } from '../../../plugins/analyse/ioc-sweep/store.js';
import { Matcher, TextCache, textHash, type Match } from '../../../plugins/analyse/ioc-sweep/sweep.js';
import { getPath, lineSpans, spanHash, type LineSpans, type Rec } from '../../../src/api.js';

function storeOf(name: string, values: string[]): IndicatorStore {
  const s = new IndicatorStoreBuilder(name);
  const meta = s.meta({ exact: false });
  for (const v of values) {
    const r = s.add(v, 'auto', meta);
    if (r !== null) throw new Error(`fixture value ${v} refused: ${r}`);
  }
  return s.seal();
}

const A = storeOf('a', [
  '203.0.113.66',
  '198.51.100.0/24',
  '2001:db8:bad::/48',
  'evil.example',
  'xn--bcher-kva.example',
  'http://drop.payload.example/drop/stage2.exe',
  'http://good.example/bad/path',
]);
const B = storeOf('b', ['cdn.good.example', '10.0.0.1', 'https://evil.example/x', 'under_score.example', 'http://127.0.0.1/x']);

const FIELDS = { ip: ['destination.ip'], host: ['url.domain', 'destination.domain'], url: ['url.original', 'url.full'] };

/** A match as compared: which field and value, which indicator (metadata by identity). */
const view = (ms: Match[]) => ms.map((m) => ({ field: m.field, atomic: m.atomic, type: m.hit.type, value: m.hit.value, meta: m.hit.meta }));

const ips = ['203.0.113.66', '203.0.113.67', '198.51.100.23', '10.0.0.1', '2001:db8:bad::5', '2001:DB8:BAD:0::5', '[2001:db8:bad::5]'];
const ipArb = fc.constantFrom<string | undefined>(...ips, '::ffff:203.0.113.66', ' 203.0.113.66', '203.0.113.066', '2001:db8:900d::1', 'x', '', undefined);
const hosts = [
  'evil.example',
  'a.evil.example',
  'Evil.Example',
  'evil.example.',
  'bücher.example',
  'xn--bcher-kva.example',
  'good.example',
  'cdn.good.example',
  'drop.payload.example',
  'x.123',
  '0x7f.1',
  'under_score.example',
  '203.0.113.66',
];
const hostArb = fc.constantFrom<string | undefined>(
  ...hosts,
  'innocent.example',
  'evil.example:8443',
  '[2001:db8:bad::5]',
  'a..example',
  'an-innocent-long-name.cdn.example',
  '',
  undefined,
);
const schemeArb = fc.constantFrom('http://', 'https://', 'HTTP://', '');
const restArb = fc.constantFrom(
  '',
  '/',
  '/drop/stage2.exe',
  '/bad/path',
  '/x',
  ':80/drop/stage2.exe',
  ':8080/x',
  ':443',
  '?q',
  '#f',
  ':0/x',
  ':99999/x',
  '@h/x',
  ':443x',
  // user-info: the host is what follows `@`
  ':x@drop.payload.example/drop/stage2.exe',
  '@drop.payload.example/drop/stage2.exe',
  ':80@127.0.0.1/x',
);

/** A record as proxy-log shapes it, often with the URL on the host field's host (so the fast path reads it). */
const recArb = fc
  .record({
    ip: ipArb,
    domain: hostArb,
    ddomain: fc.option(hostArb, { nil: undefined }),
    sameHost: fc.boolean(),
    urlHost: hostArb,
    scheme: schemeArb,
    rest: restArb,
    full: fc.constantFrom('same', 'none', 'other'),
  })
  .map((r) => {
    const host = r.sameHost && r.domain !== undefined ? r.domain : (r.urlHost ?? '');
    const original = r.scheme + host + r.rest;
    const full = r.full === 'same' ? original : r.full === 'other' ? `http://${host}/other` : undefined;
    return {
      destination: { ip: r.ip, domain: r.ddomain === undefined ? r.domain : r.ddomain },
      url: { domain: r.domain, original, full },
    };
  });

/**
 * A line holding the record's values, as a line probe hands them over (`LineSpans`, in the
 * matcher's paths order, host fields hashed): each value in a column of its own, or — as `share`
 * says — at the same place as an earlier field with the same text (url.full on url.original, one
 * domain on the other) or inside the URL (the URL's host on a domain field).
 */
function lineOf(m: Matcher, rec: Rec, share: boolean[]): { line: Uint8Array; sp: LineSpans } {
  const paths = m.paths;
  const sp = lineSpans(paths.length);
  // after another line, as a block holds it: the spans count from the block's start
  let line = 'x y z\nx';
  const put = (v: string): number => {
    line += ' ';
    const a = line.length;
    line += v;
    return a;
  };
  const at = new Map<string, number>();
  const order = ['url.original', 'url.full', 'url.domain', 'destination.domain', 'destination.ip'];
  order.forEach((path, j) => {
    const k = paths.indexOf(path);
    const v = getPath(rec, path);
    if (k < 0 || typeof v !== 'string') return;
    let a = -1;
    if (share[j]) {
      for (const [p, pa] of at) {
        const pv = getPath(rec, p) as string;
        if (pv === v) a = pa;
        else if (p === 'url.original' && path !== 'url.full') {
          const hs = pv.indexOf('://') + 3;
          if (hs > 2 && pv.startsWith(v, hs)) a = pa + hs;
        }
        if (a >= 0) break;
      }
    }
    if (a < 0) a = put(v);
    at.set(path, a);
    sp.start[k] = a;
    sp.end[k] = a + v.length;
  });
  line += ' y\nz';
  const bytes = new Uint8Array(Buffer.from(line, 'latin1'));
  for (const p of m.hostPaths) {
    const k = paths.indexOf(p);
    if (sp.start[k]! >= 0) sp.hash[k] = spanHash(bytes, sp.start[k]!, sp.end[k]!);
  }
  return { line: bytes, sp };
}

describe('the per-record path', () => {
  it('finds from spans of a line what atoms + match find, record after record (property)', () => {
    const sets: IndicatorStore[][] = [[A], [B], [A, B], [B, A], []];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(recArb, fc.integer({ min: 0, max: sets.length }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 })), {
          minLength: 1,
          maxLength: 60,
        }),
        (stream) => {
          const m = new Matcher(FIELDS);
          const ref = new Matcher(FIELDS);
          for (const [rec, k, share] of stream) {
            const stores = k === sets.length ? [A, B] : sets[k]!;
            const { line, sp } = lineOf(m, rec, share);
            const got: Match[] = [];
            const atoms = m.sweepSpans(line, sp, stores, got);
            const want: Match[] = [];
            ref.match(ref.atoms(rec), stores, want);
            expect(view(got), JSON.stringify(rec)).toEqual(view(want));
            expect(atoms === null, JSON.stringify(rec)).toBe(want.length === 0);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("asks about a host's usual address again when the stores change (spans)", () => {
    const m = new Matcher(FIELDS);
    const rec = (ip: string) => ({
      destination: { ip, domain: 'innocent.example' },
      url: { domain: 'innocent.example', original: 'http://innocent.example/' },
    });
    const sweep = (ip: string, stores: IndicatorStore[]): string[] => {
      const { line, sp } = lineOf(m, rec(ip), [true, true, true, true, true]);
      const out: Match[] = [];
      m.sweepSpans(line, sp, stores, out);
      return out.map((x) => `${x.field}:${x.hit.value}`);
    };
    expect(sweep('10.0.0.1', [A])).toEqual([]);
    expect(sweep('10.0.0.1', [A])).toEqual([]); // the host's last address, known to miss in [A]
    expect(sweep('10.0.0.1', [B])).toEqual(['destination.ip:10.0.0.1']);
    expect(sweep('203.0.113.66', [A])).toEqual(['destination.ip:203.0.113.66']);
    expect(sweep('203.0.113.66', [A])).toEqual(['destination.ip:203.0.113.66']);
    expect(sweep('10.0.0.1', [A])).toEqual([]);
  });

  it('reads spans at other places with the same text as the same value (no place shared)', () => {
    const m = new Matcher(FIELDS);
    const rec = { destination: { domain: 'evil.example' }, url: { domain: 'evil.example', original: 'http://evil.example/x', full: 'http://evil.example/x' } };
    for (const share of [
      [false, false, false, false, false],
      [true, true, true, true, true],
    ]) {
      const { line, sp } = lineOf(m, rec, share);
      const got: Match[] = [];
      m.sweepSpans(line, sp, [A], got);
      expect(view(got).map((x) => `${x.field}:${x.value}`)).toEqual(['url.domain:evil.example']);
      const { line: l2, sp: s2 } = lineOf(m, { ...rec, destination: { domain: 'innocent.example' }, url: { ...rec.url, domain: 'innocent.example' } }, share);
      expect(m.sweepSpans(l2, s2, [A], [])).not.toBeNull(); // the URL's host is not a host field's: the general path
    }
  });

  it('finds what atoms + match find, record after record, as the stores change (property)', () => {
    // fixed arrays keep the caches' "missed in these stores" answers; a fresh array invalidates them
    const sets: IndicatorStore[][] = [[A], [B], [A, B], [B, A], []];
    fc.assert(
      fc.property(fc.array(fc.tuple(recArb, fc.integer({ min: 0, max: sets.length })), { minLength: 1, maxLength: 60 }), (stream) => {
        const m = new Matcher(FIELDS);
        const ref = new Matcher(FIELDS);
        for (const [rec, k] of stream) {
          const stores = k === sets.length ? [A, B] : sets[k]!;
          const got: Match[] = [];
          const atoms = m.sweep(rec, stores, got);
          const want: Match[] = [];
          ref.match(ref.atoms(rec), stores, want);
          expect(view(got), JSON.stringify(rec)).toEqual(view(want));
          expect(atoms === null, JSON.stringify(rec)).toBe(want.length === 0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('answers a host again after the stores changed (cache across batches)', () => {
    const m = new Matcher(FIELDS);
    const rec = (host: string) => ({ url: { domain: host, original: `http://${host}/bad/path` }, destination: { domain: host } });
    const before: Match[] = [];
    expect(m.sweep(rec('cdn.good.example'), [A], before)).toBeNull(); // A has good.example's URL only
    expect(m.sweep(rec('cdn.good.example'), [A], before)).toBeNull(); // now from the cache
    const after: Match[] = [];
    expect(m.sweep(rec('cdn.good.example'), [B], after)).not.toBeNull();
    expect(view(after).map((x) => `${x.field}:${x.value}`)).toEqual(['url.domain:cdn.good.example']);
    const url: Match[] = [];
    m.sweep(rec('good.example'), [A], url);
    expect(view(url).map((x) => `${x.field}:${x.type}:${x.value}`)).toEqual(['url.original:url:http://good.example/bad/path']);
  });

  it('asks the URL gates of the new stores for a host whose URLs missed in others', () => {
    const m = new Matcher(FIELDS);
    const rec = { url: { domain: 'good.example', original: 'http://good.example/bad/path' } };
    expect(m.sweep(rec, [B], [])).toBeNull();
    expect(m.sweep(rec, [B], [])).toBeNull();
    const out: Match[] = [];
    m.sweep(rec, [A], out);
    expect(view(out).map((x) => x.value)).toEqual(['http://good.example/bad/path']);
  });

  it('leaves to the general path a URL whose host WHATWG reads otherwise than the host field', () => {
    const m = new Matcher(FIELDS);
    for (const [domain, original, value] of [
      ['0x7f.1', 'http://0x7f.1/x', 'http://127.0.0.1/x'], // a numeric last label: an IPv4 address
      ['innocent.example', 'http://innocent.example@drop.payload.example/drop/stage2.exe', 'http://drop.payload.example/drop/stage2.exe'],
      ['innocent.example', 'http://innocent.example:x@drop.payload.example/drop/stage2.exe', 'http://drop.payload.example/drop/stage2.exe'],
      ['innocent.example', 'http://innocent.example:80@127.0.0.1/x', 'http://127.0.0.1/x'],
    ] as const) {
      for (let round = 0; round < 2; round++) {
        const out: Match[] = [];
        m.sweep({ url: { domain, original } }, [A, B], out);
        expect(
          out.map((x) => x.hit.value),
          original,
        ).toContain(value);
      }
    }
  });

  it("checks a host's address every time, whatever address came with the host before", () => {
    const m = new Matcher(FIELDS);
    const rec = (ip: string) => ({
      destination: { ip, domain: 'innocent.example' },
      url: { domain: 'innocent.example', original: 'http://innocent.example/' },
    });
    expect(m.sweep(rec('203.0.113.67'), [A], [])).toBeNull();
    expect(m.sweep(rec('203.0.113.67'), [A], [])).toBeNull(); // the host's last address, not hashed
    const out: Match[] = [];
    m.sweep(rec('203.0.113.66'), [A], out);
    expect(view(out).map((x) => `${x.field}:${x.value}`)).toEqual(['destination.ip:203.0.113.66']);
    expect(m.sweep(rec('203.0.113.67'), [A], [])).toBeNull();
    const again: Match[] = [];
    m.sweep(rec('203.0.113.66'), [A], again);
    expect(again.length).toBe(1);
    const other: Match[] = [];
    m.sweep(rec('10.0.0.1'), [A], other);
    expect(other.length).toBe(0);
    m.sweep(rec('10.0.0.1'), [B], other); // the same address, other stores
    expect(view(other).map((x) => x.value)).toEqual(['10.0.0.1']);
  });

  it('reads host case, trailing dots, IDN and punycode as the general path does', () => {
    const m = new Matcher(FIELDS);
    for (const [host, value] of [
      ['Evil.Example', 'evil.example'],
      ['evil.example.', 'evil.example'],
      ['a.evil.example', 'evil.example'],
      ['bücher.example', 'xn--bcher-kva.example'],
      ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
      ['sub.XN--BCHER-KVA.example', 'xn--bcher-kva.example'],
    ] as const) {
      for (let round = 0; round < 2; round++) {
        const out: Match[] = [];
        m.sweep({ url: { domain: host, original: `https://${host}/` } }, [A], out);
        expect(
          out.map((x) => x.hit.value),
          host,
        ).toContain(value);
      }
    }
  });

  it('reads IPv6 forms and IPv4-mapped addresses as the general path does', () => {
    const m = new Matcher(FIELDS);
    for (const ip of ['2001:db8:bad::5', '2001:DB8:BAD:0:0::5', '[2001:db8:bad::5]', '::ffff:203.0.113.66', '::ffff:cb00:7142']) {
      for (let round = 0; round < 2; round++) {
        const out: Match[] = [];
        m.sweep({ destination: { ip } }, [A], out);
        expect(out.length, ip).toBe(1);
      }
    }
    expect(m.sweep({ destination: { ip: '2001:db8:900d::1' } }, [A], [])).toBeNull();
  });

  it('takes the URL on a host without URL indicators as a miss, and normalises it where the host has some', () => {
    const m = new Matcher(FIELDS);
    const out: Match[] = [];
    // drop.payload.example has a URL indicator: the URL is normalised (default port, scheme case) and matches
    m.sweep({ url: { domain: 'drop.payload.example', original: 'HTTP://drop.payload.example:80/drop/stage2.exe' } }, [A], out);
    expect(view(out).map((x) => x.value)).toEqual(['http://drop.payload.example/drop/stage2.exe']);
    const out2: Match[] = [];
    m.sweep({ url: { domain: 'drop.payload.example', original: 'http://drop.payload.example:80/drop/stage2.exe' } }, [A], out2);
    expect(view(out2).map((x) => x.value)).toEqual(['http://drop.payload.example/drop/stage2.exe']);
    // the same path on a host without URL indicators: nothing
    expect(m.sweep({ url: { domain: 'payload.example', original: 'http://payload.example/drop/stage2.exe' } }, [A], [])).toBeNull();
  });
});

describe('TextCache', () => {
  it('finds an entry only under its own text, whatever collides (property)', () => {
    const text = fc.constantFrom('a', 'b', 'ab', 'ba', 'evil.example', 'Evil.example', 'cdn1.static.example.com', 'cdn2.static.example.com', '');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), text), { maxLength: 80 }), (ops) => {
        const cache = new TextCache<string>(4); // two sets of two ways: every text collides with some other
        const model = new Map<string, string>();
        let n = 0;
        for (const [add, t] of ops) {
          if (t === '') continue; // the cache's empty slots hold ''
          const slot = cache.find(t);
          if (slot >= 0) expect(cache.values[slot]).toBe(model.get(t));
          if (add && slot < 0) {
            const v = `${t}#${n++}`;
            cache.add(t, v);
            model.set(t, v);
            expect(cache.values[cache.find(t)]).toBe(v);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the addresses of one network and numbered host names apart', () => {
    // what a proxy log repeats: a CDN's /24, shards named cdn1…cdn200 (evictions only cost time)
    const values = [
      ...Array.from({ length: 254 }, (_, i) => `151.101.1.${i + 1}`),
      ...Array.from({ length: 200 }, (_, i) => `cdn${i + 1}.static.example.com`),
      ...Array.from({ length: 200 }, (_, i) => `edge-${i + 1}.example.net`),
    ];
    const cache = new TextCache<number>(16384);
    for (let i = 0; i < values.length; i++) cache.add(values[i]!, i);
    const kept = values.filter((v, i) => cache.find(v) >= 0 && cache.values[cache.find(v)] === i).length;
    expect(kept).toBeGreaterThanOrEqual(values.length - 2);
  });

  it('finds a slice of a longer string under a key added from another copy', () => {
    const cache = new TextCache<number>(8);
    const line = 'GET http://an-innocent-long-name.cdn.example/x HTTP/1.1';
    const host = line.slice(11, 44);
    cache.add(host, 1);
    const again = `${line} `.slice(11, 44);
    expect(again).toBe('an-innocent-long-name.cdn.example');
    expect(cache.values[cache.find(again)]).toBe(1);
    expect(textHash(again)).toBe(textHash('an-innocent-long-name.cdn.example'));
  });
});
