/**
 * The flat store's lookups (hashed suffixes, gates, URL host gate) against brute-force references,
 * with full hashes and with hashes cut to a few bits (every probe then walks collisions), and the
 * shared form: `toShared()` → structured clone → `fromShared()` in this thread and in a worker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { IndicatorStoreBuilder } from '../../../plugins/analyse/ioc-sweep/store-builder.js';
import { IndicatorStore, labelSuffixes, type Hit } from '../../../plugins/analyse/ioc-sweep/store.js';
import { setHashBitsForTesting, hostSuffixes, hashRange, Suffixes, HOST_NORMAL } from '../../../plugins/analyse/ioc-sweep/flat.js';
import { isNormalHost, parseHost, normaliseUrlWhatwg, parseIPv4, parseIPv6, ipv4ToString, schemeEnd } from '../../../plugins/analyse/ioc-sweep/normalise.js';
import { Matcher, type Match } from '../../../plugins/analyse/ioc-sweep/sweep.js';

afterEach(() => setHashBitsForTesting(32));

const HASH_BITS = [32, 3, 0];
const matcher = new Matcher({ ip: ['destination.ip'], host: ['url.domain', 'destination.domain'], url: ['url.original', 'url.full'] });
const sig = (hits: Hit[]) => hits.map((h) => `${h.type}:${h.value}:${h.meta.exact ? 'x' : ''}`).sort();

function sweep(store: IndicatorStore, rec: object): Match[] {
  const out: Match[] = [];
  matcher.match(matcher.atoms(rec), [store], out);
  return out;
}

describe('host pass', () => {
  it('hashes every label suffix as hashRange does, and tells normal hosts exactly as isNormalHost', () => {
    const suf = new Suffixes();
    const host = fc.array(fc.constantFrom('a', 'Z', '1', '.', '-', '_', ':', ' ', 'é', 'xn--', '0x', '255'), { maxLength: 14 }).map((a) => a.join(''));
    fc.assert(
      fc.property(host, (h) => {
        const f = hostSuffixes(h, 0, h.length, suf);
        expect((f & HOST_NORMAL) !== 0, h).toBe(isNormalHost(h));
        const dots = [...h].filter((c) => c === '.').length;
        expect(suf.n).toBe(dots + 1);
        for (let i = 0; i < suf.n; i++) expect(suf.hash[i]).toBe(hashRange(h, suf.start[i]!, h.length));
        // suffix i has i + 1 labels: it starts after the (i + 1)-th dot from the right, or at 0
        expect(suf.start[suf.n - 1]).toBe(0);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('domain lookups agree with a brute-force reference', () => {
  const label = fc.constantFrom('example', 'xexample', 'ex', 'com', 'co', 'evil', 'a', 'b', 'xn--p1ai', 'x_y', '1', 'examplecom');
  const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((a) => a.join('.'));

  for (const bits of HASH_BITS) {
    it(`suffixes, near misses and exact indicators (hash bits ${bits})`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(domain, fc.boolean()), { maxLength: 25 }), fc.array(domain, { minLength: 1, maxLength: 20 }), (inds, hosts) => {
          setHashBitsForTesting(bits);
          const bld = new IndicatorStoreBuilder('t');
          const ref = new Map<string, Set<boolean>>();
          for (const [d, exact] of inds) {
            bld.addDomain(d, bld.meta({ exact }));
            if (!ref.has(d)) ref.set(d, new Set());
            ref.get(d)!.add(exact);
          }
          const s = bld.seal();
          for (const h of hosts) {
            const want: string[] = [];
            labelSuffixes(h).forEach((suffix, i) => {
              for (const exact of ref.get(suffix) ?? []) if (!(i > 0 && exact)) want.push(`domain-name:${suffix}:${exact ? 'x' : ''}`);
            });
            const got: Hit[] = [];
            s.matchHost(h, got);
            expect(sig(got), h).toEqual(want.sort());
            const viaList: Hit[] = [];
            s.matchDomain(labelSuffixes(h), viaList);
            expect(sig(viaList), h).toEqual(want.sort());
            // and through the matcher, as records give hosts
            if (parseIPv4(h) >= 0) continue;
            const m = sweep(s, { url: { domain: h.toUpperCase() + '.' } });
            expect(m.map((x) => `${x.hit.type}:${x.hit.value}:${x.hit.meta.exact ? 'x' : ''}`).sort(), h).toEqual([...new Set(want)].sort());
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('IPv4 lookups agree with a brute-force scan, at range edges, through the gates', () => {
  const toText = ipv4ToString;
  for (const bits of HASH_BITS) {
    it(`small stores (hash bits ${bits})`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 8, max: 32 })), { minLength: 1, maxLength: 30 }),
          fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 10 }),
          (ranges, extra) => {
            setHashBitsForTesting(bits);
            const bld = new IndicatorStoreBuilder('p');
            const meta = bld.meta({ exact: false });
            for (const [n, len] of ranges) bld.add(`${toText(n)}/${len}`, 'auto', meta);
            const s = bld.seal();
            // probes: each range's first and last address, one either side, and random ones
            const probes = [...extra];
            for (const [n, len] of ranges) {
              const size = 2 ** (32 - len);
              const first = Math.floor(n / size) * size;
              probes.push(first, first + size - 1, (first - 1) >>> 0, (first + size) >>> 0);
            }
            for (const p of probes) {
              const out: Hit[] = [];
              s.matchV4(p >>> 0, out);
              const want = [...new Set(ranges.filter(([n, len]) => n >>> (32 - len) === p >>> (32 - len) || len === 0).map(([, len]) => len))].sort(
                (a, b) => b - a,
              );
              expect(out.map((h) => (h.value.includes('/') ? Number(h.value.split('/')[1]) : 32))).toEqual(want);
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('a large store (a /24-block gate, broad ranges probed around it)', () => {
    const bld = new IndicatorStoreBuilder('big');
    const meta = bld.meta({ exact: false });
    let x = 12345;
    const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    const ranges: [number, number][] = [];
    for (let i = 0; i < 20000; i++) ranges.push([rnd(), 32]);
    for (const len of [8, 9, 12, 15, 16, 17, 20, 23, 24, 25, 28, 31]) for (let i = 0; i < 20; i++) ranges.push([rnd(), len]);
    for (const [n, len] of ranges) bld.addV4(n, len, meta);
    const s = bld.seal();
    const byLen = new Map<number, Set<number>>();
    for (const [n, len] of ranges) {
      if (!byLen.has(len)) byLen.set(len, new Set());
      byLen.get(len)!.add(n >>> (32 - len));
    }
    const probes: number[] = [];
    for (let i = 0; i < 20000; i++) probes.push(rnd());
    for (const [n, len] of ranges.slice(-300)) {
      const size = 2 ** (32 - len);
      const first = Math.floor(n / size) * size;
      probes.push(first, first + size - 1, (first - 1) >>> 0, (first + size) >>> 0);
    }
    for (const [n] of ranges.slice(0, 2000)) probes.push(n, (n + 1) >>> 0, (n - 1) >>> 0);
    for (const p of probes) {
      const out: Hit[] = [];
      s.matchV4(p, out);
      const want = [...byLen.entries()]
        .filter(([len, keys]) => keys.has(p >>> (32 - len)))
        .map(([len]) => len)
        .sort((a, b) => b - a);
      expect(
        out.map((h) => (h.value.includes('/') ? Number(h.value.split('/')[1]) : 32)),
        ipv4ToString(p),
      ).toEqual(want);
    }
  });
});

describe('IPv6 lookups', () => {
  const hex = (groups: number[]) => groups.map((g) => g.toString(16).padStart(4, '0')).join('');
  for (const bits of HASH_BITS) {
    it(`agree with a prefix scan, v4-mapped folded to v4 (hash bits ${bits})`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 16, max: 128 })), {
            minLength: 1,
            maxLength: 15,
          }),
          fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
          (ranges, rand) => {
            setHashBitsForTesting(bits);
            const bld = new IndicatorStoreBuilder('p');
            const meta = bld.meta({ exact: false });
            const ref: [string, number][] = [];
            for (const [g, len] of ranges) {
              g[0] = 0x2001; // keep clear of the v4-mapped range
              const h = hex(g);
              bld.addV6(h, len, meta);
              ref.push([h, len]);
            }
            const s = bld.seal();
            const bitsOf = (h: string) => [...h].map((c) => parseInt(c, 16).toString(2).padStart(4, '0')).join('');
            const probes = [hex(rand), ...ref.map(([h]) => h)];
            // the last address of each range
            for (const [h, len] of ref)
              probes.push(
                BigInt('0b' + bitsOf(h).slice(0, len).padEnd(128, '1'))
                  .toString(16)
                  .padStart(32, '0'),
              );
            for (const p of probes) {
              const out: Hit[] = [];
              s.matchV6(p, out);
              const want = [...new Set(ref.filter(([h, len]) => bitsOf(h).slice(0, len) === bitsOf(p).slice(0, len)).map(([, len]) => len))].sort(
                (a, b) => b - a,
              );
              expect(out.map((h) => (h.value.includes('/') ? Number(h.value.split('/')[1]) : 128))).toEqual(want);
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('folds v4-mapped addresses and ranges on both sides', () => {
    const bld = new IndicatorStoreBuilder('m');
    const meta = bld.meta({ exact: false });
    expect(bld.add('::ffff:192.0.2.0/120', 'auto', meta)).toBeNull();
    expect(bld.add('::ffff:198.51.100.7', 'auto', meta)).toBeNull();
    const s = bld.seal();
    expect(sweep(s, { destination: { ip: '192.0.2.255' } }).map((m) => m.hit.value)).toEqual(['192.0.2.0/24']);
    expect(sweep(s, { destination: { ip: '::ffff:c000:2ff' } }).map((m) => m.hit.value)).toEqual(['192.0.2.0/24']);
    expect(sweep(s, { destination: { ip: '198.51.100.7' } }).map((m) => m.hit.value)).toEqual(['198.51.100.7']);
    expect(sweep(s, { destination: { ip: '192.0.3.0' } })).toEqual([]);
  });
});

describe('URL lookups and the URL host gate', () => {
  const alphabet = fc.constantFrom(...'aZ09.-_:/?#%@\\ \t'.split(''), 'é', '..', '/.', '/..', 'xn--', ':80', ':443', ':8080', '%2e', '0x');
  const tail = fc.array(alphabet, { maxLength: 16 }).map((a) => a.join(''));
  const host = fc
    .array(fc.constantFrom('a', 'b', '1', '0', '255', '.', '-', 'x', '0x', 'Q', '_', 'xn--'), { minLength: 1, maxLength: 8 })
    .map((a) => a.join(''));
  const scheme = fc.constantFrom('http://', 'https://', 'HTTP://', 'ftp://', 'http:/');

  for (const bits of HASH_BITS) {
    it(`a record URL matches exactly the indicators WHATWG normalises it to, and its host is the WHATWG host (hash bits ${bits})`, () => {
      fc.assert(
        fc.property(scheme, host, tail, fc.array(fc.tuple(scheme, host, tail), { maxLength: 5 }), (sc, h, t, others) => {
          setHashBitsForTesting(bits);
          const u = sc + h + t;
          const ref = normaliseUrlWhatwg(u);
          const bld = new IndicatorStoreBuilder('u');
          const meta = bld.meta({ exact: false });
          const keys = new Set<string>();
          for (const [a, b, c] of others) {
            const k = normaliseUrlWhatwg(a + b + c);
            if (k) {
              bld.addUrlKey(k.key, meta);
              keys.add(k.key);
            }
          }
          if (ref && h.length % 2 === 0) {
            bld.addUrlKey(ref.key, meta);
            keys.add(ref.key);
          }
          const s = bld.seal();
          if (schemeEnd(u) < 0) {
            expect(matcher.atoms({ url: { original: u } }), u).toEqual([]);
            return;
          }
          const m = sweep(s, { url: { original: u } });
          const urlHits = m.filter((x) => x.hit.type === 'url').map((x) => x.hit.value);
          expect(urlHits, u).toEqual(ref && keys.has(ref.key) ? [ref.key] : []);
          // the host atom (domain or IP) is what parseHost makes of WHATWG's host
          const atoms = matcher.atoms({ url: { original: u } });
          const hostAtoms = atoms.filter((a) => !a.url);
          if (!ref) expect(atoms.length, u).toBe(0);
          else {
            const nh = parseHost(ref.host);
            const want = nh === null ? [] : [nh.ip ? JSON.stringify(nh.ip) : nh.domain];
            expect(
              hostAtoms.map((a) => (a.ip ? JSON.stringify(a.ip) : a.domain)),
              u,
            ).toEqual(want);
          }
        }),
        { numRuns: 3000 },
      );
    });
  }

  it('skips URL keys on hosts without URL indicators, and computes them when the host has some', () => {
    const bld = new IndicatorStoreBuilder('u');
    bld.add('http://dl.payload.example/drop/stage2.exe', 'auto', bld.meta({ exact: false }));
    const s = bld.seal();
    // hosts without URL indicators: the key is (almost always: the gate is a bitmap) never computed
    let computed = 0;
    for (let i = 0; i < 50; i++) {
      const miss = matcher.atoms({ url: { original: `http://cdn${i}.other.example/a.js` } });
      matcher.match(miss, [s], []);
      if (miss.find((a) => a.url)!.urlKey !== null) computed++;
    }
    expect(computed).toBeLessThan(6);
    const near = matcher.atoms({ url: { original: 'http://dl.payload.example:80/drop/stage2.exe#x' } });
    const out: Match[] = [];
    matcher.match(near, [s], out);
    expect(out.map((m) => m.hit.value)).toEqual(['http://dl.payload.example/drop/stage2.exe']);
  });
});

describe('shared form', () => {
  function sample(): IndicatorStore {
    const bld = new IndicatorStoreBuilder('shared');
    const a = bld.meta({ exact: false, tags: ['c2'], confidence: 80 });
    const b = bld.meta({ exact: true, description: 'phish' });
    for (const v of [
      '203.0.113.66',
      '198.51.100.0/24',
      '10.0.0.0/8',
      '2001:db8:bad::/48',
      '2001:db8::5',
      'evil.example',
      'http://dl.payload.example/drop/x.exe',
      'stage.bad.example/kit/',
      '192.0.2.1:8080',
    ]) {
      expect(bld.add(v, 'auto', a)).toBeNull();
    }
    bld.add('evil.example', 'auto', b); // the same indicator with a second metadata: a list
    bld.add('login.phish.example', 'auto', b);
    bld.addDomain('bücher-ü.example', a); // a non-Latin-1 code unit widens the arena
    return bld.seal();
  }

  const queries = (s: IndicatorStore) => {
    const o: Hit[] = [];
    s.matchV4(parseIPv4('203.0.113.66'), o);
    s.matchV4(parseIPv4('10.1.2.3'), o);
    s.matchV4(parseIPv4('198.51.100.200'), o);
    s.matchV4(parseIPv4('192.0.2.1'), o);
    s.matchV6(parseIPv6('2001:db8:bad::77')!, o);
    s.matchV6(parseIPv6('2001:db8::5')!, o);
    s.matchHost('a.evil.example', o);
    s.matchHost('login.phish.example', o);
    s.matchHost('x.login.phish.example', o);
    s.matchHost('bücher-ü.example', o);
    s.matchUrl('http://dl.payload.example/drop/x.exe', o);
    s.matchUrl('https://stage.bad.example/kit/', o);
    return o.map((h) => ({ type: h.type, value: h.value, meta: { ...h.meta } }));
  };

  it('is plain data over SharedArrayBuffers, and answers the same in this thread', () => {
    const s = sample();
    const data = s.toShared();
    const bufs: unknown[] = [];
    const walk = (v: unknown) => {
      if (v instanceof SharedArrayBuffer) bufs.push(v);
      else if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) throw new Error('non-shared buffer in the shared form');
      else if (v !== null && typeof v === 'object') {
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== Array.prototype) throw new Error('class instance in the shared form');
        for (const x of Object.values(v)) walk(x);
      }
    };
    walk(data);
    expect(bufs.length).toBeGreaterThanOrEqual(10);
    const copy = IndicatorStore.fromShared(structuredClone(data));
    expect(queries(copy)).toEqual(queries(s));
    expect(queries(s).length).toBeGreaterThan(10);
    expect([copy.size, copy.counts, copy.feed, copy.hasV4, copy.hasV6, copy.hasDomains, copy.hasUrls]).toEqual([
      s.size,
      s.counts,
      s.feed,
      true,
      true,
      true,
      true,
    ]);
    // a sealed store is read-only by type (no add), and the builder that sealed it refuses more values
    expect('add' in s).toBe(false);
    const spent = new IndicatorStoreBuilder('spent');
    spent.seal();
    expect(() => spent.add('192.0.2.9', 'auto', spent.meta({ exact: false }))).toThrow(/sealed/);
  });

  const dist = resolve('dist/plugins/analyse/ioc-sweep/store.js');
  it.skipIf(!existsSync(dist))('answers the same in a worker thread, reading the same memory', async () => {
    const s = sample();
    const expected = queries(s);
    const data = s.toShared();
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(${JSON.stringify(pathToFileURL(dist).href)}).then(({ IndicatorStore }) => {
        parentPort.on('message', ({ data, queries }) => {
          const st = IndicatorStore.fromShared(data);
          const out = [];
          for (const [kind, arg] of queries) st[kind](arg, out);
          const arena = data.arena.wide ? new Uint16Array(data.arena.buf) : new Uint8Array(data.arena.buf);
          const before = arena[0];
          arena[0] = 33; // written here, seen by the main thread: the memory is shared
          parentPort.postMessage({ hits: out.map((h) => ({ type: h.type, value: h.value, meta: { ...h.meta } })), before, shared: data.arena.buf instanceof SharedArrayBuffer });
        });
      });`;
    const w = new Worker(code, { eval: true });
    try {
      const q: [string, unknown][] = [
        ['matchV4', parseIPv4('203.0.113.66')],
        ['matchV4', parseIPv4('10.1.2.3')],
        ['matchV4', parseIPv4('198.51.100.200')],
        ['matchV4', parseIPv4('192.0.2.1')],
        ['matchV6', parseIPv6('2001:db8:bad::77')],
        ['matchV6', parseIPv6('2001:db8::5')],
        ['matchHost', 'a.evil.example'],
        ['matchHost', 'login.phish.example'],
        ['matchHost', 'x.login.phish.example'],
        ['matchHost', 'bücher-ü.example'],
        ['matchUrl', 'http://dl.payload.example/drop/x.exe'],
        ['matchUrl', 'https://stage.bad.example/kit/'],
      ];
      const reply = await new Promise<{ hits: unknown[]; before: number; shared: boolean }>((res, rej) => {
        w.once('message', res);
        w.once('error', rej);
        w.postMessage({ data, queries: q });
      });
      expect(reply.shared).toBe(true);
      expect(reply.hits).toEqual(expected);
      const arena = data.arena.wide ? new Uint16Array(data.arena.buf) : new Uint8Array(data.arena.buf);
      expect(arena[0]).toBe(33);
      expect(reply.before).not.toBe(33);
    } finally {
      await w.terminate();
    }
  });
});
