/** Matching rules of the indicator store and the normalisation behind them (docs/feeds.md). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IndicatorStoreBuilder } from '../../../plugins/analyse/ioc-sweep/store-builder.js';
import { type IndicatorStore, labelSuffixes, type Hit } from '../../../plugins/analyse/ioc-sweep/store.js';
import { parseHost, normaliseUrl, parseIPv4, parseIPv6, parseIp } from '../../../plugins/analyse/ioc-sweep/normalise.js';
import { Matcher, type Match } from '../../../plugins/analyse/ioc-sweep/sweep.js';

function storeOf(values: string[], opts: { exact?: boolean } = {}): IndicatorStore {
  const s = new IndicatorStoreBuilder('t');
  const meta = s.meta({ exact: opts.exact ?? false });
  for (const v of values) {
    const r = s.add(v, 'auto', meta);
    if (r !== null) throw new Error(`fixture value ${v} refused: ${r}`);
  }
  return s.seal();
}

const matcher = new Matcher({ ip: ['destination.ip'], host: ['url.domain', 'destination.domain'], url: ['url.original'] });

function hits(store: IndicatorStore, rec: object): Match[] {
  const out: Match[] = [];
  matcher.match(matcher.atoms(rec), [store], out);
  return out;
}
const values = (m: Match[]) => m.map((x) => `${x.hit.type}:${x.hit.value}`).sort();

describe('IP atoms (the parsing itself: test/net/ip.test.ts)', () => {
  it('folds IPv4-mapped IPv6 to IPv4', () => {
    expect(parseIp('::ffff:1.2.3.4')).toEqual({ v4: parseIPv4('1.2.3.4'), v6: null });
    expect(parseIp('::FFFF:0102:0304')).toEqual({ v4: parseIPv4('1.2.3.4'), v6: null });
    expect(parseIp('[2001:db8::5]')).toEqual({ v4: -1, v6: '20010db8000000000000000000000005' });
  });
});

describe('host and URL normalisation', () => {
  it('lower-cases, strips trailing dots and ports, converts IDN to punycode', () => {
    expect(parseHost('cdn.Update-Check.Evil.example.')?.domain).toBe('cdn.update-check.evil.example');
    expect(parseHost('Evil.Example:8443')?.domain).toBe('evil.example');
    expect(parseHost('Bücher.example')?.domain).toBe('xn--bcher-kva.example');
    expect(parseHost('[2001:db8:bad::5]:443')?.ip?.v6).toBe(parseIPv6('2001:db8:bad::5'));
    expect(parseHost('203.0.113.66:8080')?.ip?.v4).toBe(parseIPv4('203.0.113.66'));
    expect(parseHost('bad host')).toBeNull();
  });

  it('normalises URLs: scheme/host case, default port, fragment, user-info', () => {
    const key = normaliseUrl('http://dl.payload.example/drop/stage2.exe')!.key;
    for (const u of [
      'HTTP://DL.Payload.Example:80/drop/stage2.exe#frag',
      'http://dl.payload.example./drop/stage2.exe',
      'http://user:pw@dl.payload.example/drop/stage2.exe',
    ])
      expect(normaliseUrl(u)!.key).toBe(key);
    expect(normaliseUrl('https://x.example:443/a')!.key).toBe('https://x.example/a');
    expect(normaliseUrl('http://x.example:8080/a')!.key).toBe('http://x.example:8080/a');
    // Path case is significant; a different port is a different URL.
    expect(normaliseUrl('http://dl.payload.example/Drop/stage2.exe')!.key).not.toBe(key);
    expect(normaliseUrl('not a url')).toBeNull();
  });

  it('lists label suffixes on label boundaries only', () => {
    expect(labelSuffixes('a.b.evil.example')).toEqual(['a.b.evil.example', 'b.evil.example', 'evil.example', 'example']);
  });
});

describe('domain matching', () => {
  const s = storeOf(['evil.example', 'sub.parent.example']);

  it('matches the domain and every subdomain, whatever the case, trailing dot or port', () => {
    for (const host of ['evil.example', 'EVIL.example', 'cdn.Update-Check.Evil.example.', 'a.evil.example:8080']) {
      expect(values(hits(s, { url: { domain: host } }))).toEqual(['domain-name:evil.example']);
    }
  });

  it('does not match look-alikes: other labels, longer suffixes, the parent of an indicated subdomain', () => {
    for (const host of ['notevil.example', 'evil.example.org', 'evil.examples', 'xevil.example', 'parent.example', 'example']) {
      expect(hits(s, { url: { domain: host }, destination: { domain: host } })).toEqual([]);
    }
    expect(values(hits(s, { destination: { domain: 'x.sub.parent.example' } }))).toEqual(['domain-name:sub.parent.example']);
  });

  it('honours exact: the host itself only', () => {
    const e = storeOf(['evil.example'], { exact: true });
    expect(values(hits(e, { url: { domain: 'Evil.Example.' } }))).toEqual(['domain-name:evil.example']);
    expect(hits(e, { url: { domain: 'a.evil.example' } })).toEqual([]);
  });

  it('matches IDN hosts against punycode indicators and vice versa', () => {
    const idn = storeOf(['bücher.example']);
    expect(values(hits(idn, { url: { domain: 'shop.xn--bcher-kva.example' } }))).toEqual(['domain-name:xn--bcher-kva.example']);
    expect(values(hits(idn, { url: { domain: 'SHOP.BÜCHER.example' } }))).toEqual(['domain-name:xn--bcher-kva.example']);
  });
});

describe('IP and CIDR matching', () => {
  it('matches exact addresses and ranges of both families on destination.ip', () => {
    const s = storeOf(['203.0.113.66', '198.51.100.0/24', '2001:db8:bad::/48', '2001:db8::5']);
    expect(values(hits(s, { destination: { ip: '203.0.113.66' } }))).toEqual(['ipv4-addr:203.0.113.66']);
    expect(values(hits(s, { destination: { ip: '198.51.100.23' } }))).toEqual(['ipv4-addr:198.51.100.0/24']);
    expect(hits(s, { destination: { ip: '198.51.101.23' } })).toEqual([]);
    expect(values(hits(s, { destination: { ip: '2001:DB8:BAD:0:0::5' } }))).toEqual(['ipv6-addr:2001:db8:bad::/48']);
    expect(hits(s, { destination: { ip: '2001:db8:bae::5' } })).toEqual([]);
    expect(values(hits(s, { destination: { ip: '2001:0DB8:0:0::5' } }))).toEqual(['ipv6-addr:2001:db8::5']);
  });

  it('treats a CIDR with host bits set as its network and counts it', () => {
    const s = storeOf(['89.160.20.129/24']);
    expect(s.counts.host_bits_masked).toBe(1);
    expect(values(hits(s, { destination: { ip: '89.160.20.7' } }))).toEqual(['ipv4-addr:89.160.20.0/24']);
    expect(hits(s, { destination: { ip: '89.160.21.7' } })).toEqual([]);
  });

  it('reports every containing range, most specific first', () => {
    const s = storeOf(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.3']);
    const m = hits(s, { destination: { ip: '10.1.2.3' } });
    expect(m.map((x) => x.hit.value)).toEqual(['10.1.2.3', '10.1.0.0/16', '10.0.0.0/8']);
  });

  it('folds IPv4-mapped IPv6 on both sides', () => {
    const s = storeOf(['::ffff:203.0.113.9', '203.0.113.66']);
    expect(values(hits(s, { destination: { ip: '203.0.113.9' } }))).toEqual(['ipv4-addr:203.0.113.9']);
    expect(values(hits(s, { destination: { ip: '::ffff:203.0.113.66' } }))).toEqual(['ipv4-addr:203.0.113.66']);
  });

  it('checks the IP-literal host of URLs and host fields', () => {
    const s = storeOf(['203.0.113.66', '2001:db8:bad::/48']);
    const m = hits(s, { url: { original: 'http://203.0.113.66:8080/gate.php' } });
    expect(m.map((x) => [x.hit.value, x.field, x.atomic])).toEqual([['203.0.113.66', 'url.original', '203.0.113.66']]);
    expect(values(hits(s, { destination: { domain: '[2001:db8:bad::5]:443' } }))).toEqual(['ipv6-addr:2001:db8:bad::/48']);
    expect(values(hits(s, { url: { original: 'https://[2001:db8:bad::5]/x' } }))).toEqual(['ipv6-addr:2001:db8:bad::/48']);
  });

  it('refuses ranges so broad they would flag a share of the Internet', () => {
    const s = new IndicatorStoreBuilder('t');
    expect(s.add('0.0.0.0/0', 'auto', s.meta({ exact: false }))).toBe('CIDR_TOO_BROAD');
    expect(s.add('2000::/3', 'auto', s.meta({ exact: false }))).toBe('CIDR_TOO_BROAD');
    expect(s.add('1.2.3.4/33', 'auto', s.meta({ exact: false }))).toBe('BAD_CIDR');
  });

  it('matches ranges exactly as a brute-force scan would (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 8, max: 32 })), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 30 }),
        (ranges, probes) => {
          const bld = new IndicatorStoreBuilder('p');
          const meta = bld.meta({ exact: false });
          const toText = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
          for (const [n, len] of ranges) bld.add(`${toText(n)}/${len}`, 'auto', meta);
          const s = bld.seal();
          for (const p of probes) {
            const out: Hit[] = [];
            s.matchV4(p >>> 0, out);
            const expected = new Set(ranges.filter(([n, len]) => (len === 0 ? true : n >>> (32 - len) === p >>> (32 - len))).map(([, len]) => len));
            expect(new Set(out.map((h) => (h.value.includes('/') ? Number(h.value.split('/')[1]) : 32)))).toEqual(expected);
          }
        },
      ),
    );
  });
});

describe('URL matching', () => {
  const s = storeOf(['http://dl.payload.example/drop/stage2.exe']);

  it('matches URLs that differ only by default port, fragment or case of scheme and host', () => {
    for (const u of ['http://dl.payload.example:80/drop/stage2.exe#frag', 'HTTP://DL.PAYLOAD.EXAMPLE/drop/stage2.exe']) {
      expect(values(hits(s, { url: { original: u } }))).toEqual(['url:http://dl.payload.example/drop/stage2.exe']);
    }
  });

  it('compares whole: another path, port, query or scheme does not match', () => {
    for (const u of [
      'http://dl.payload.example/drop/stage3.exe',
      'http://dl.payload.example:8080/drop/stage2.exe',
      'http://dl.payload.example/drop/stage2.exe?x=1',
      'https://dl.payload.example/drop/stage2.exe',
    ])
      expect(hits(s, { url: { original: u } })).toEqual([]);
  });

  it('stores a scheme-less URL (maltrail `host/path`) for http and https', () => {
    const m = storeOf(['stage.bad.example/kit/']);
    expect(m.counts.url).toBe(1);
    expect(hits(m, { url: { original: 'https://stage.bad.example/kit/' } })).toHaveLength(1);
    expect(hits(m, { url: { original: 'http://STAGE.bad.example:80/kit/' } })).toHaveLength(1);
  });

  it('does not read CONNECT `host:443` as a URL', () => {
    expect(matcher.atoms({ url: { original: 'evil.example:443' } })).toEqual([]);
  });
});

describe('feed values', () => {
  it('detects types per value and splits ip:port on the last colon', () => {
    const bld = new IndicatorStoreBuilder('t');
    const meta = bld.meta({ exact: false });
    const cases: [string, string | null][] = [
      ['192.0.2.1:8080', null],
      ['[2001:db8::1]:443', null],
      ['2a02:cf40:1::5:40669', null],
      ['*.wild.example', null],
      ['.xyz', 'TLD_ONLY'],
      ['/wp-login.php', 'PATH_ONLY'],
      ['IP', 'NOT_AN_INDICATOR'],
      ['203.0.113.300', 'BAD_IP'],
      ['a b.example', 'BAD_DOMAIN'],
      ['', 'EMPTY'],
      ['http://', 'BAD_URL'],
    ];
    for (const [v, want] of cases) expect([v, bld.add(v, 'auto', meta)]).toEqual([v, want]);
    const s = bld.seal();
    const out: Hit[] = [];
    s.matchV6(parseIPv6('2a02:cf40:1::5')!, out);
    expect(out.map((h) => [h.value, h.meta.port])).toEqual([['2a02:cf40:1::5', 40669]]);
    expect(values(hits(s, { url: { domain: 'x.wild.example' } }))).toEqual(['domain-name:wild.example']);
  });

  it('refuses values whose typed hint they contradict', () => {
    const s = new IndicatorStoreBuilder('t');
    const meta = s.meta({ exact: false });
    expect(s.add('evil.example', 'ip', meta)).toBe('BAD_IP');
    expect(s.add('192.0.2.1', 'domain', meta)).toBe('BAD_DOMAIN');
    expect(s.add('igfxtray.exe', 'url', meta)).toBe('BAD_URL');
    expect(s.add('Data/dtl.dat', 'url', meta)).toBe('BAD_URL');
  });

  it('keeps one copy of a duplicate and shares metadata objects', () => {
    const s = new IndicatorStoreBuilder('t');
    const a = s.meta({ exact: false, tags: ['x'] });
    const b = s.meta({ exact: false, tags: ['x'] });
    expect(a).toBe(b);
    s.add('192.0.2.1', 'auto', a);
    s.add('192.0.2.1', 'auto', b);
    expect(s.counts['ipv4-addr']).toBe(1);
    expect(s.counts.duplicates).toBe(1);
  });
});

describe('URL and host fields together (property)', () => {
  // the URL fast path reuses the host atom a host field gave when the URL spells that host (also a
  // host that is a prefix of another, with a port, in another case): hits must be those of each
  // value normalised and matched on its own
  const store = storeOf(['a.example', 'b.a.example', 'http://a.example/x', 'https://ab.example:8443/x', 'http://1.2.3.4/x', '1.2.3.4', 'ab.example']);
  const general = (rec: { url: { domain?: string; original?: string; full?: string } }): string[] => {
    const out: Hit[] = [];
    const host = (raw: string) => {
      const h = parseHost(raw);
      if (h?.ip) {
        if (h.ip.v6 === null) store.matchV4(h.ip.v4, out);
        else store.matchV6(h.ip.v6, out);
      } else if (h?.domain) store.matchHost(h.domain, out);
    };
    const d = rec.url.domain;
    if (typeof d === 'string' && d.length > 0) host(d);
    for (const u of [rec.url.original, rec.url.full]) {
      if (typeof u !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) continue;
      const n = normaliseUrl(u);
      if (!n) continue;
      store.matchUrl(n.key, out);
      host(n.host);
    }
    return [...new Set(out.map((h) => `${h.type}:${h.value}`))].sort();
  };
  const m = new Matcher({ ip: [], host: ['url.domain'], url: ['url.original', 'url.full'] });
  const hostArb = fc.constantFrom('a.example', 'ab.example', 'b.a.example', 'A.example', 'a.example.', '1.2.3.4', 'a.exampl', 'x.ab.example', '');
  const rest = fc.constantFrom('', '/', '/x', ':80/x', ':8443/x', '?q', '#f', ':0/x', 'x/x', '.', ':', '@h/x');
  it('agree with each value matched on its own', () => {
    fc.assert(
      fc.property(hostArb, fc.constantFrom('http://', 'https://', 'HTTP://', ''), hostArb, rest, fc.boolean(), (d, scheme, uh, r, full) => {
        const url = scheme + uh + r;
        const rec = { url: { domain: d === '' ? undefined : d, original: url, full: full ? url : undefined } };
        const out: Match[] = [];
        m.match(m.atoms(rec), [store], out);
        expect(values(out)).toEqual(general(rec));
      }),
      { numRuns: 4000 },
    );
  });
});
