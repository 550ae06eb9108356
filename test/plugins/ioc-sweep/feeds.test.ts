/** Feed loaders over fixtures that reproduce the traps of real feeds (written for this project). */
import { describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { loadFeed, detectFormat, type FeedLoad } from '../../../plugins/analyse/ioc-sweep/feeds/index.js';
import type { FeedConfig } from '../../../plugins/analyse/ioc-sweep/feeds/types.js';
import { parsePattern } from '../../../plugins/analyse/ioc-sweep/feeds/stix.js';
import type { Hit } from '../../../plugins/analyse/ioc-sweep/store.js';
import { parseIPv4, parseIPv6 } from '../../../plugins/analyse/ioc-sweep/normalise.js';
import { tempDir } from '../../helpers/tmp.js';

const FIX = resolve('test/fixtures/ioc-sweep');
const EX = resolve('examples/feeds');
const opts = { resolvePath: (p: string) => resolve(p) };

function feed(path: string, extra: Partial<FeedConfig> = {}): FeedConfig {
  return { name: 'f', path, format: 'auto', exact: false, timeout: '5s', optional: false, ...extra };
}

const nonZero = (l: FeedLoad) => Object.fromEntries(Object.entries(l.store.counts).filter(([, v]) => v !== 0));

function v4(l: FeedLoad, ip: string): Hit[] {
  const o: Hit[] = [];
  l.store.matchV4(parseIPv4(ip), o);
  return o;
}
function v6(l: FeedLoad, ip: string): Hit[] {
  const o: Hit[] = [];
  l.store.matchV6(parseIPv6(ip)!, o);
  return o;
}
function dom(l: FeedLoad, d: string): Hit[] {
  const o: Hit[] = [];
  l.store.matchDomain([d], o);
  return o;
}
function url(l: FeedLoad, u: string): Hit[] {
  const o: Hit[] = [];
  l.store.matchUrl(u, o);
  return o;
}

/** Every row is accounted for: loaded (indicators + duplicates), skipped, or ignored. */
function accounted(l: FeedLoad): void {
  expect(l.tally.rows).toBeGreaterThan(0);
  expect(l.tally.skipped).toBe(Object.values(l.tally.reasons).reduce((a, b) => a + b, 0));
}

describe('plain lists', () => {
  it('reads maltrail-style lists: ip:port, inline comments, scheme-less URLs, CIDRs, IPv6, and names what it skips', async () => {
    const l = await loadFeed(feed(`${FIX}/maltrail-style.txt`), opts);
    expect(l.format).toBe('list');
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 1, 'ipv4-cidr': 1, 'ipv6-addr': 1, 'domain-name': 2, url: 1, duplicates: 1 });
    expect(l.tally.reasons).toEqual({ PATH_ONLY: 1, TLD_ONLY: 1, BAD_DOMAIN: 1 });
    expect(l.tally.rows).toBe(10);
    expect(v4(l, '192.0.2.44')[0]!.meta.port).toBe(443); // the first port named; the address matches on any port
    expect(v6(l, '2001:db8:5ca::1')).toHaveLength(1);
    expect(url(l, 'https://trail.example/gate/panel.php')).toHaveLength(1);
    accounted(l);
  });

  it('loads the example list', async () => {
    const l = await loadFeed(feed(`${EX}/bad-ips.txt`), opts);
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 1, 'ipv4-cidr': 1, 'ipv6-cidr': 1, 'domain-name': 1, url: 1 });
    expect(l.tally.reasons).toEqual({ PATH_ONLY: 1, TLD_ONLY: 1, BAD_CIDR: 1 });
  });
});

describe('CSV', () => {
  it('reads the Feodo layout: banner, quoted header, port column, per-row first_seen and malware', async () => {
    const l = await loadFeed(feed(`${EX}/feodo.csv`, { confidence: 90 }), opts);
    expect(l.format).toBe('csv');
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 2 });
    expect(l.tally.reasons).toEqual({ NOT_AN_INDICATOR: 1, BAD_IP: 1 });
    const [h] = v4(l, '203.0.113.66');
    expect(h!.meta).toMatchObject({ feed: 'f', port: 8080, first_seen: '2026-01-10 08:15:02', description: 'ExampleBot', confidence: 90 });
    accounted(l);
  });

  it('reads the URLhaus layout: commented header, quoted tags with commas, None placeholders, a broken row', async () => {
    const l = await loadFeed(feed(`${FIX}/urlhaus-commented-header.csv`), opts);
    expect(l.format).toBe('csv');
    expect(l.store.counts.url).toBe(2);
    expect(url(l, 'http://mirror.bad.example/eclipse.sh4')[0]!.meta.tags).toEqual(['elf', 'mirai', 'ua-wget']);
    expect(url(l, 'http://198.51.100.7:44835/i')[0]!.meta.tags).toBeUndefined();
    expect(l.tally.rows).toBe(3);
    expect(l.tally.skipped).toBe(1);
    accounted(l);
  });

  it('reads Azure-style CSVs: BOM, CRLF, NBSP padding, a type column with unsupported types', async () => {
    const l = await loadFeed(feed(`${FIX}/azure-style.csv`), opts);
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 1, 'domain-name': 1 });
    expect(l.tally.reasons).toEqual({ UNSUPPORTED_TYPE: 2, EMPTY: 1 });
    expect(v4(l, '192.0.2.53')).toHaveLength(1);
    expect(dom(l, 'bad-news.example')).toHaveLength(1);
  });

  it('fails clearly when a header-less multi-column CSV does not say which column holds the value', async () => {
    const { writeFileSync } = await import('node:fs');
    const dir = tempDir('ioc-');
    writeFileSync(`${dir}/x.csv`, '9/29/2020 8:01:39 AM,192.0.2.5,ip\n9/29/2020 8:01:39 AM,bad.example,domain\n');
    await expect(loadFeed(feed(`${dir}/x.csv`), opts)).rejects.toThrow(/set columns.value/);
    const l = await loadFeed(feed(`${dir}/x.csv`, { columns: { value: 1, type: 2 }, header: 'no' }), opts);
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 1, 'domain-name': 1 });
  });
});

describe('STIX', () => {
  it('parses OR patterns and refuses AND, qualifiers and non-equality', () => {
    expect(parsePattern("[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'a.example']")).toEqual({
      comparisons: [
        { path: 'ipv4-addr:value', op: '=', value: '1.2.3.4' },
        { path: 'domain-name:value', op: '=', value: 'a.example' },
      ],
    });
    expect(parsePattern("[file:hashes.'SHA-256' = 'ab']")).toEqual({ comparisons: [{ path: "file:hashes.'SHA-256'", op: '=', value: 'ab' }] });
    expect(parsePattern("[url:value = 'http://x.example/it\\'s']")).toEqual({ comparisons: [{ path: 'url:value', op: '=', value: "http://x.example/it's" }] });
    expect(parsePattern("[a:value = '1'] AND [b:value = '2']")).toHaveProperty('error');
    expect(parsePattern("[a:value = '1'] WITHIN 5 SECONDS")).toHaveProperty('error');
  });

  it('loads objects one per line: CIDR with host bits, IPv6, partial ORs; skips revoked, expired, unsupported', async () => {
    const l = await loadFeed(feed(`${FIX}/stix-objects.ndjson`), opts);
    expect(l.format).toBe('stix');
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 1, 'ipv4-cidr': 1, 'ipv6-addr': 1, 'domain-name': 1, host_bits_masked: 1 });
    expect(l.tally.reasons).toEqual({ REVOKED: 1, EXPIRED: 1, BAD_DOMAIN: 1, UNSUPPORTED_PATTERN: 3 });
    expect(l.tally.ignored).toBe(1); // the malware object
    expect(v4(l, '198.51.100.1')[0]).toMatchObject({ value: '198.51.100.0/24', meta: { confidence: 30, tags: ['trickbot'] } });
    expect(v6(l, '2001:db8:d0::378c:e001')).toHaveLength(1);
    expect(dom(l, 'revoked.example')).toEqual([]);
    expect(url(l, 'http://expired.example/enter.exe')).toEqual([]);
  });

  it('expiry is judged at load time', async () => {
    const l = await loadFeed(feed(`${FIX}/stix-objects.ndjson`), opts, Date.parse('2020-02-01T00:00:00Z'));
    expect(url(l, 'http://expired.example/enter.exe')).toHaveLength(1);
  });

  it('loads the example bundle', async () => {
    const l = await loadFeed(feed(`${EX}/stix-bundle.json`), opts);
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 1, 'domain-name': 2 });
    expect(l.tally.reasons).toEqual({ REVOKED: 1, EXPIRED: 1, UNSUPPORTED_PATTERN: 1 });
    expect(dom(l, 'phish-login.example')[0]!.meta).toMatchObject({
      confidence: 80,
      tags: ['phishing'],
      description: 'Phishing login page impersonating a bank',
    });
  });
});

describe('MISP', () => {
  it('reads an event: to_ids only, ip-dst|port split, domain|ip both, objects, deleted skipped', async () => {
    const l = await loadFeed(feed(`${EX}/misp-event.json`), opts);
    expect(l.format).toBe('misp');
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 2, 'domain-name': 2 });
    expect(l.tally.reasons).toEqual({ NOT_TO_IDS: 2, UNSUPPORTED_TYPE: 1, DELETED: 1 });
    expect(v4(l, '192.0.2.77')[0]!.meta).toMatchObject({ port: 8080, description: 'sluice example: ExampleRAT C2 infrastructure — C2 listener' });
    expect(v4(l, '192.0.2.79')).toEqual([]); // to_ids: false
  });

  it('reads a feed folder through manifest.json, counting missing events and hostile keys', async () => {
    const l = await loadFeed(feed(`${FIX}/misp-feed`), opts);
    expect(l.inputs).toHaveLength(4);
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 2, 'domain-name': 2 });
    expect(l.tally.reasons).toEqual({ NOT_TO_IDS: 1, BAD_URL: 1, UNSUPPORTED_TYPE: 1, EVENT_MISSING: 1, BAD_MANIFEST_KEY: 1 }); // `url: 107.183.86`
    expect(dom(l, 'panel.misp.example')).toHaveLength(1);
  });
});

describe('JSON lines', () => {
  it('reads ThreatFox-style records: bracket-less IPv6 ip:port split on the last colon, unsupported hashes skipped', async () => {
    const l = await loadFeed(feed(`${FIX}/threatfox-style.jsonl`), opts);
    expect(l.format).toBe('json');
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 1, 'ipv6-addr': 1, url: 1 });
    expect(l.tally.reasons).toEqual({ UNSUPPORTED_TYPE: 1 });
    expect(v6(l, '2001:db8:cf40:1::5')[0]!.meta).toMatchObject({ port: 40669, confidence: 100, tags: ['RedExample'], description: 'RedExample' });
    expect(url(l, 'http://bare-host.example/')).toHaveLength(1);
  });

  it('counts a truncated line as BAD_JSON', async () => {
    const l = await loadFeed(feed(`${EX}/indicators.jsonl`), opts);
    expect(l.tally.reasons).toEqual({ UNSUPPORTED_TYPE: 1, BAD_JSON: 1 });
    expect(nonZero(l)).toEqual({ 'ipv4-addr': 1, 'ipv6-addr': 1, url: 1 });
  });
});

describe('sources', () => {
  it('detects formats from names and first bytes', () => {
    expect(detectFormat('x.txt', '1.2.3.4\n')).toBe('list');
    expect(detectFormat('x', '"a","b"\n"1","2"\n')).toBe('csv');
    expect(detectFormat('x.json', '{"type":"bundle","objects":[]}')).toBe('stix');
    expect(detectFormat('x.json', '{"Event":{}}')).toBe('misp');
    expect(detectFormat('x.log', '{"ioc":"1.2.3.4"}\n')).toBe('json');
  });

  it('reads globs and fails clearly when nothing matches', async () => {
    const l = await loadFeed(feed(`${FIX}/*-style.txt`), opts);
    expect(l.inputs).toHaveLength(1);
    await expect(loadFeed(feed(`${FIX}/nothing-*.txt`), opts)).rejects.toMatchObject({ code: 'FEED_NOT_FOUND' });
  });

  it('fetches http(s) feeds from a real local server, and reports HTTP errors', async () => {
    const server: Server = createServer((req, res) => {
      if (req.url === '/list.txt') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('# list\n192.0.2.33\nhttp.bad.example\n');
        return;
      }
      res.writeHead(503);
      res.end('down');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const l = await loadFeed({ ...feed(''), path: undefined, url: `${base}/list.txt` }, opts);
      expect(nonZero(l)).toEqual({ 'ipv4-addr': 1, 'domain-name': 1 });
      await expect(loadFeed({ ...feed(''), path: undefined, url: `${base}/down.txt` }, opts)).rejects.toMatchObject({ code: 'FEED_HTTP_STATUS' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('reads a file as bytes: a large file detects its format from its head, a list from a file loads as from its text', async () => {
    const { writeFileSync } = await import('node:fs');
    const { loadPlain, SPLIT_MIN_CHARS } = await import('../../../plugins/analyse/ioc-sweep/feeds/plain.js');
    const { IndicatorStoreBuilder } = await import('../../../plugins/analyse/ioc-sweep/store-builder.js');
    const { Tally } = await import('../../../plugins/analyse/ioc-sweep/feeds/types.js');
    const dir = tempDir('ioc-');
    // > 64 KiB, unnamed: CSV by its quoted header, and a list after more leading space than the decoded head holds
    writeFileSync(`${dir}/big-csv`, `"value","type"\n${'"192.0.2.7","ip"\n'.repeat(5000)}`);
    expect((await loadFeed(feed(`${dir}/big-csv`), opts)).format).toBe('csv');
    writeFileSync(`${dir}/spaced`, `${'\n'.repeat(70000)}"value","b"\n"x.example","y"\n`);
    expect((await loadFeed(feed(`${dir}/spaced`), opts)).format).toBe('csv');
    // a list large enough to be read on two threads when asked (SLUICE_FEED_THREADS=2), with a BOM, IDN and bad rows
    const rows: string[] = [];
    for (let i = 0; i < 420000; i++) rows.push(i % 50 === 0 ? `bücher${i % 7}.example` : i % 97 === 0 ? `bad..${i}` : `h${i}.example.org\t# n`);
    const text = `\ufeffDomain\n${rows.join('\n')}\n`;
    writeFileSync(`${dir}/big.txt`, text);
    expect(Buffer.byteLength(text)).toBeGreaterThanOrEqual(SPLIT_MIN_CHARS);
    const store = new IndicatorStoreBuilder('f');
    const tally = new Tally();
    loadPlain({ label: `${dir}/big.txt`, text }, { store, tally, base: store.meta({ exact: false }), feed: feed(''), now: 0, stableUntil: Infinity });
    const ref = store.seal();
    const keys = (st: typeof ref) => {
      const out: string[] = [];
      st.forEachIndicator((k) => out.push(k));
      return out;
    };
    const before = process.env.SLUICE_FEED_THREADS;
    try {
      for (const threads of ['1', '2']) {
        process.env.SLUICE_FEED_THREADS = threads;
        const l = await loadFeed(feed(`${dir}/big.txt`), opts);
        expect(l.format).toBe('list');
        expect(l.store.counts).toEqual(ref.counts);
        expect(l.tally).toEqual(tally);
        expect(l.tally.reasons.HEADER).toBe(1);
        expect(dom(l, (await import('node:url')).domainToASCII('bücher0.example'))).toHaveLength(1);
        expect(keys(l.store)).toEqual(keys(ref));
      }
    } finally {
      if (before === undefined) delete process.env.SLUICE_FEED_THREADS;
      else process.env.SLUICE_FEED_THREADS = before;
    }
  });
});
