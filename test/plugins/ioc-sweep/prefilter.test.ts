/**
 * The raw-line pre-filter of the incremental sweep (plugins/analyse/ioc-sweep/prefilter.ts), property
 * style over generated archives: the records are the JSON lines an archive holds, the indicators of
 * every kind (IPv4, IPv6, CIDRs of both families, domains matched with their subdomains, URLs with
 * name and IP hosts), written the many ways a record can spell a value the sweep normalises (case,
 * trailing dots, ports, user-info, percent-encoding, WHATWG number hosts, IPv4-mapped IPv6).
 *
 * The property: sweeping only the lines the filter keeps, with `since_last_run`, raises exactly the
 * alerts of a full sweep of every line restricted to the indicators new since the last run. The
 * same holds when the lines are first cut into blocks with a key index (src/line-keys.ts, what the
 * `hdfs` sink writes with `key_index`) and only the blocks the index says may match are read: the
 * index never rules out a block holding a line the filter keeps. The real-HDFS run is
 * test/integration/hdfs-retro-sweep.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import iocSweep from '../../../plugins/analyse/ioc-sweep/index.js';
import { LinePrefilter, endsInNumber, whatwgIPv4 } from '../../../plugins/analyse/ioc-sweep/prefilter.js';
import { IndicatorStoreBuilder } from '../../../plugins/analyse/ioc-sweep/store-builder.js';
import { addLineKeys, blocksToRead, formatKeyIndex, lineFilterOf, parseKeyIndex, type LineFilter } from '../../../src/internal.js';
import { mulberry32, type Rng } from '../../../bench/lib/prng.js';
import { createProcessor, processAll, testContext } from '../../helpers/harness.js';
import type { ProcessorInstance, Rec } from '../../../src/api.js';
import { tempDir } from '../../helpers/tmp.js';

const open: ProcessorInstance[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.close?.();
});

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const n = (r: Rng, k: number) => Math.floor(r() * k);

interface Universe {
  /** Indicator lines of the feed. */
  indicators: string[];
  /** Values a record can hold, some hitting the indicators, most not. */
  hosts: string[];
  ips: string[];
  urls: string[];
}

/** Indicators of every kind, and record values around them (hits in many spellings, near misses, noise). */
function universe(r: Rng, size: number): Universe {
  const u: Universe = { indicators: [], hosts: [], ips: [], urls: [] };
  for (let i = 0; i < size; i++) {
    const a = 10 + n(r, 200);
    const b = n(r, 256);
    const c = n(r, 256);
    const d = n(r, 256);
    const name = `s${i}-${n(r, 1e6).toString(36)}.${pick(r, ['com', 'net', 'example', 'co.uk'])}`;
    switch (i % 7) {
      case 0: {
        const ip = `${a}.${b}.${c}.${d}`;
        u.indicators.push(ip);
        u.ips.push(ip, `::ffff:${ip}`, ` ${ip} `);
        u.urls.push(`http://${ip}:8080/p`, `http://${(a * 2 ** 24 + b * 2 ** 16 + c * 256 + d).toString()}/x`, `http://0x${a.toString(16)}.${b}.${c}.${d}/`);
        u.hosts.push(`${ip}:443`);
        break;
      }
      case 1: {
        const len = pick(r, [8, 12, 16, 20, 24, 28]);
        u.indicators.push(`${a}.${b}.${c}.${d}/${len}`);
        const inside = `${a}.${b}.${c}.${(d + 1) % 256}`;
        u.ips.push(inside, `${a}.${(b + 1) % 256}.${c}.${d}`);
        u.urls.push(`https://${inside}/dl`);
        break;
      }
      case 2: {
        const hex = `2001:db8:${i.toString(16)}::${n(r, 0xffff).toString(16)}`;
        u.indicators.push(hex);
        u.ips.push(hex, hex.toUpperCase(), `2001:0db8:${i.toString(16)}:0:0:0:0:${hex.split('::')[1]}`);
        u.urls.push(`http://[${hex}]:81/x`);
        break;
      }
      case 3: {
        const pfx = `2001:db8:${(0x8000 + i).toString(16)}`;
        u.indicators.push(`${pfx}::/48`);
        u.ips.push(`${pfx}:1::${n(r, 0xffff).toString(16)}`);
        u.urls.push(`http://[${pfx}:0:0:0:0:1]/`);
        break;
      }
      case 4: {
        u.indicators.push(name);
        u.hosts.push(name, `www.${name}`, `A.B.${name.toUpperCase()}`, `${name}.`, `${name}:8443`, `not${name}`, `${name}.evil-twin.org`);
        u.urls.push(
          `http://${name}/a`,
          `https://user:pw@CDN.${name}:443/x?y=1#f`,
          `http://%77ww.${name}/`,
          `http://${name.replace('.', '%2E')}/p`,
          `http://www.${name}./`,
          `ftp://${name}/f`,
        );
        break;
      }
      case 5: {
        const url = `http://${name}/malware/${i}.exe`;
        u.indicators.push(url);
        u.urls.push(url, `HTTP://${name.toUpperCase()}:80/malware/${i}.exe#frag`, `http://${name}/malware/${i}.exe?other`, `http://x.${name}/malware/${i}.exe`);
        u.hosts.push(name);
        break;
      }
      default: {
        const url = `https://${a}.${b}.${c}.${d}/gate.php`;
        u.indicators.push(url);
        u.urls.push(url, `https://${a}.${b}.${c}.${d}:443/gate.php`);
        u.ips.push(`${a}.${b}.${c}.${d}`);
      }
    }
  }
  // the rest of the traffic: hosts and addresses that match nothing
  for (let i = 0; i < size * 4; i++) {
    const h = `cdn${i}.benign${n(r, 50)}.example`;
    u.hosts.push(h);
    u.urls.push(`http://${h}/img/${i}.png?v=${n(r, 1000)}`);
    u.ips.push(`${200 + n(r, 20)}.${n(r, 256)}.${n(r, 256)}.${n(r, 256)}`);
  }
  return u;
}

/** An archived record (ECS, as proxy-log writes it and the hdfs sink stores it). */
function record(r: Rng, u: Universe, i: number): Rec {
  const url = pick(r, u.urls);
  const rec: Rec = {
    '@timestamp': `2026-12-01T10:${String(n(r, 60)).padStart(2, '0')}:00.${n(r, 1000)}Z`,
    source: { ip: `192.168.${n(r, 256)}.${n(r, 256)}` },
    user: { name: `user${n(r, 100)}` },
    url: { original: url },
    destination: { ip: pick(r, u.ips), domain: pick(r, u.hosts) },
    http: { request: { method: 'GET' }, response: { status_code: pick(r, [200, 204, 302, 404]) } },
    event: { action: 'TCP_MISS', sequence: i },
  };
  if (r() < 0.3) (rec.url as Rec).domain = pick(r, u.hosts);
  return rec;
}

async function sweeper(feed: string, state: string, incremental: boolean) {
  const ctx = testContext(basename(state), { stateDir: () => state });
  const p = await createProcessor(iocSweep, { feeds: [{ name: 'f', path: feed }], since_last_run: incremental }, ctx);
  open.push(p);
  return { p, ctx };
}

const alertKeys = (alerts: Rec[]) =>
  alerts
    .flatMap((a) =>
      (a.threat.enrichments as Rec[]).map(
        (e) => `${a.event.sequence} ${e.indicator.type} ${e.indicator.value ?? e.indicator.url?.full ?? ''} ${e.matched.field}`,
      ),
    )
    .sort();

describe('ioc-sweep raw-line pre-filter', () => {
  for (const seed of [1, 2, 3]) {
    it(`incremental with the pre-filter = full sweep restricted to the new indicators (seed ${seed})`, async () => {
      const r = mulberry32(seed);
      const u = universe(r, 140);
      const known = u.indicators.filter((_, i) => i % 5 !== 2);
      const added = u.indicators.filter((_, i) => i % 5 === 2);
      const records = Array.from({ length: 3000 }, (_, i) => record(r, u, i));
      // a few lines the filter keeps whole (non-ASCII, a JSON escape): their blocks are always read
      for (let i = 0; i < records.length; i += 211) (records[i]!.user as Rec).name = i % 2 ? 'jos\u00e9' : 'a\\b';
      const lines = records.map((x) => JSON.stringify(x));
      const dir = tempDir('prefilter-');
      const feed = join(dir, 'feed.txt');
      const state = join(dir, 'state', 'sweep');

      // the last run knew `known`: commit it
      writeFileSync(feed, `${known.join('\n')}\n`);
      const prev = await sweeper(feed, state, true);
      await processAll(prev.p, [[]]);
      await prev.p.close?.();

      // today's feed: known + added; the source asks the sweep's offer, as the hdfs source does
      writeFileSync(feed, `${u.indicators.join('\n')}\n`);
      const inc = await sweeper(feed, state, true);
      const offer = lineFilterOf(join(dirname(state), 'archive'), 'sweep');
      expect(offer).toBeDefined();
      const { filter } = offer!.current();
      expect(filter).not.toBeNull();
      const keptRecords: Rec[] = [];
      for (const line of lines) {
        const b = Buffer.from(line);
        if (filter!.mayMatch(b, 0, b.length)) keptRecords.push(JSON.parse(line));
      }
      // the same lines through a key index over blocks of 1..12 lines
      const viaIndex = indexedRead(filter!, lines, mulberry32(seed + 100));
      expect(viaIndex.kept).toEqual(keptRecords.map((x) => JSON.stringify(x)));
      expect(viaIndex.blocksSkipped).toBeGreaterThan(0);
      expect(viaIndex.linesUnread).toBeGreaterThan(0);
      const incAlerts = ((await processAll(inc.p, [keptRecords])).alerts ?? []) as Rec[];

      // the reference: every line, every indicator, keeping the enrichments of the added ones
      const full = await sweeper(feed, join(dir, 'state', 'full'), false);
      const fullAlerts = ((await processAll(full.p, [records])).alerts ?? []) as Rec[];
      // new: an added indicator whose key the known part does not have (two /8s can be one key)
      const knownKeys = new Set(known.map(normal));
      const addedKeys = new Set(added.map(normal).filter((k) => !knownKeys.has(k)));
      const newOnly = fullAlerts
        .map((a) => ({
          ...a,
          threat: { ...a.threat, enrichments: (a.threat.enrichments as Rec[]).filter((e) => addedKeys.has(normal(String(e.indicator.value)))) },
        }))
        .filter((a) => a.threat.enrichments.length > 0);

      expect(newOnly.length).toBeGreaterThan(20); // the generated traffic does hit the added indicators
      expect(alertKeys(incAlerts)).toEqual(alertKeys(newOnly));
      // and the filter does skip: most lines are noise
      expect(keptRecords.length).toBeLessThan(lines.length * 0.5);
      expect(keptRecords.length).toBeGreaterThanOrEqual(new Set(newOnly.map((a) => (a as Rec).event.sequence)).size);
    });
  }

  it('a first run (no committed key set) filters with the whole feed; without since_last_run nothing is filtered', async () => {
    const dir = tempDir('prefilter-');
    const feed = join(dir, 'feed.txt');
    writeFileSync(feed, 'evil.example\n10.0.0.0/8\n');
    const state = join(dir, 'state', 'sweep');
    await sweeper(feed, state, true);
    const f = lineFilterOf(join(dirname(state), 'src'), 'sweep')!.current().filter!;
    const t = (s: string) => f.mayMatch(Buffer.from(s), 0, Buffer.byteLength(s));
    expect(t('{"destination":{"domain":"x.EVIL.example."}}')).toBe(true);
    expect(t('{"destination":{"ip":"10.200.3.4"}}')).toBe(true);
    expect(t('{"url":{"original":"http://167772161/"}}')).toBe(true); // 10.0.0.1 the WHATWG way
    expect(t('{"destination":{"ip":"11.0.0.1","domain":"evil.example.org"}}')).toBe(false);
    expect(t('{"url":{"original":"http://caf\u00e9.example/"}}')).toBe(true); // non-ASCII: kept
    expect(t('{"url":{"original":"http:\\/\\/evil.example\\/"}}')).toBe(true); // JSON escapes: kept
    const state2 = join(dir, 'state', 'plain');
    await sweeper(feed, state2, false);
    expect(lineFilterOf(join(dirname(state2), 'src'), 'plain')!.current().filter).toBeNull();
  });

  it('key index contract: a line the filter keeps has a key the filter keeps, or no keys (fuzzed lines)', () => {
    const r = mulberry32(7);
    const u = universe(r, 140);
    const b = new IndicatorStoreBuilder('f');
    for (const v of u.indicators) b.add(v, 'auto', { feed: 'f', exact: false });
    const f = new LinePrefilter([b.seal()]);
    expect(f.keyIndexUsable).toBe(true);
    const values = [...u.hosts, ...u.ips, ...u.urls];
    const glue = ['"', ':', '/', '//', '@', ' ', '.', ',', '%2e', '?', '#', '[', ']', '::', '-', 'x', '0', '\\', '\u00e9', '\n'];
    let kept = 0;
    for (let i = 0; i < 20000; i++) {
      let line = '';
      for (let k = 1 + n(r, 6); k > 0; k--) line += pick(r, glue) + (r() < 0.7 ? pick(r, values) : n(r, 1e6).toString(r() < 0.5 ? 10 : 16)) + pick(r, glue);
      const bytes = Buffer.from(line, 'utf8');
      if (!f.mayMatch(bytes, 0, bytes.length)) continue;
      kept++;
      const keys = new Set<string>();
      if (!addLineKeys(line, keys)) continue; // kept whole: its block is always read
      const ok = [...keys].some((k) => f.mayMatchKey(k));
      if (!ok) expect.fail(`the filter keeps ${JSON.stringify(line)} but none of its keys ${JSON.stringify([...keys])}`);
    }
    expect(kept).toBeGreaterThan(1000);
  });

  it('says a key index cannot be used when a URL indicator names a dotless host', () => {
    const b = new IndicatorStoreBuilder('f');
    b.add('http://intranet/x', 'auto', { feed: 'f', exact: false });
    expect(new LinePrefilter([b.seal()]).keyIndexUsable).toBe(false);
  });

  it('reads number hosts as WHATWG does', () => {
    const cases: [string, string][] = [
      ['0x7f.1', '127.0.0.1'],
      ['2130706433', '127.0.0.1'],
      ['0177.0.0.1', '127.0.0.1'],
      ['127.1', '127.0.0.1'],
      ['10.0.258', '10.0.1.2'],
      ['1.2.3.4.', '1.2.3.4'],
    ];
    for (const [host, want] of cases) {
      expect(endsInNumber(host)).toBe(true);
      expect(whatwgIPv4(host)).toBe(ipNum(new URL(`http://${host}/`).hostname));
      expect(new URL(`http://${host}/`).hostname).toBe(want);
    }
    expect(whatwgIPv4('4294967296')).toBe(-1);
    expect(whatwgIPv4('1.2.3.4.5')).toBe(-1);
    expect(endsInNumber('evil.com')).toBe(false);
  });

  it('is built from the stores the sweep uses: URL indicators by their host', () => {
    const b = new IndicatorStoreBuilder('f');
    for (const v of ['http://bad.example/x', 'https://[2001:db8::1]/y', 'http://198.51.100.9:8080/z']) b.add(v, 'auto', { feed: 'f', exact: false });
    const f = new LinePrefilter([b.seal()]);
    const t = (s: string) => f.mayMatch(Buffer.from(s), 0, s.length);
    expect(t('"url.original":"http://BAD.example:80/x"')).toBe(true);
    expect(t('"destination.ip":"2001:0db8:0:0::1"')).toBe(true);
    expect(t('"url.original":"http://198.51.100.9/other"')).toBe(true);
    expect(t('"url.original":"http://good.example/x","destination.ip":"198.51.100.10"')).toBe(false);
  });
});

function ipNum(s: string): number {
  return s.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

/** The store's canonical key of an indicator value (as a feed or an alert spells it). */
function normal(v: string): string {
  const b = new IndicatorStoreBuilder('n');
  b.add(v, 'auto', { feed: 'n', exact: false });
  let key = v;
  b.seal().forEachIndicator((k) => {
    key = k;
  });
  return key;
}

/**
 * Lines read as the `hdfs` source reads an indexed file: cut into blocks of 1..12 lines, each block's
 * keys indexed as the `hdfs` sink does (through the sidecar text and back), only the blocks the index
 * says may match read, and their lines through the filter.
 */
function indexedRead(filter: LineFilter, lines: string[], r: Rng): { kept: string[]; blocksSkipped: number; linesUnread: number } {
  const blocks: { bytes: number; lines: number; keys: Set<string> | null; text: string[] }[] = [];
  for (let i = 0; i < lines.length; ) {
    const k = Math.min(lines.length - i, 1 + n(r, 12));
    const text = lines.slice(i, i + k);
    const keys = new Set<string>();
    blocks.push({ bytes: 100, lines: k, keys: addLineKeys(`${text.join('\n')}\n`, keys) ? keys : null, text });
    i += k;
  }
  const ix = parseKeyIndex(formatKeyIndex(100 * blocks.length, blocks));
  const want = blocksToRead(ix, (key) => filter.mayMatchKey!(key));
  const kept: string[] = [];
  let blocksSkipped = 0;
  let linesUnread = 0;
  blocks.forEach((blk, b) => {
    if (!want[b]) {
      blocksSkipped++;
      linesUnread += blk.lines;
      return;
    }
    for (const line of blk.text) {
      const bytes = Buffer.from(line);
      if (filter.mayMatch(bytes, 0, bytes.length)) kept.push(line);
    }
  });
  return { kept, blocksSkipped, linesUnread };
}
