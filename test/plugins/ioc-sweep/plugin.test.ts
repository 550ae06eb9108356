/** The `ioc-sweep` plugin end to end: the sample scenario, alerts, allowlist, suppression, refresh. */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import iocSweep, { type IocSweep } from '../../../plugins/analyse/ioc-sweep/index.js';
import { configFor, createProcessor, processAll, testContext } from '../../helpers/harness.js';
import type { ProcessorInstance, Rec } from '../../../src/api.js';
import { tempDir } from '../../helpers/tmp.js';

const EX = 'examples/feeds';
const exampleFeeds = {
  feeds: [
    { name: 'feodo', path: `${EX}/feodo.csv`, confidence: 90 },
    { name: 'bad-ips', path: `${EX}/bad-ips.txt` },
    { name: 'urlhaus', path: `${EX}/urlhaus.csv` },
    { name: 'stix', path: `${EX}/stix-bundle.json` },
    { name: 'misp', path: `${EX}/misp-event.json` },
    { name: 'threatfox', path: `${EX}/indicators.jsonl` },
  ],
  allowlist: [{ name: 'allow', path: `${EX}/allowlist.txt` }],
};

/** Parsed-like records (ECS, nested) for the traffic of the sample scenario. */
function rec(ts: string, fields: { src?: string; ip?: string; domain?: string; url?: string; ddomain?: string }): Rec {
  const r: Rec = { '@timestamp': ts, source: { ip: fields.src ?? '10.1.1.5' }, event: { dataset: 'test' } };
  if (fields.ip || fields.ddomain) r.destination = { ...(fields.ip ? { ip: fields.ip } : {}), ...(fields.ddomain ? { domain: fields.ddomain } : {}) };
  if (fields.url || fields.domain) r.url = { ...(fields.url ? { original: fields.url } : {}), ...(fields.domain ? { domain: fields.domain } : {}) };
  return r;
}

const open: ProcessorInstance[] = []; // the harness gives every instance a close()
afterEach(async () => {
  for (const p of open.splice(0)) await p.close?.();
});
async function sweep(withConfig: unknown, ctx = testContext('sweep')): Promise<IocSweep> {
  const p = (await createProcessor(iocSweep, withConfig, ctx)) as IocSweep;
  open.push(p);
  return p;
}

describe('the sample scenario', () => {
  const malicious: [string, Rec][] = [
    ['feodo ip', rec('2026-01-10T10:00:00Z', { src: '10.1.1.20', ip: '203.0.113.66', url: 'http://203.0.113.66:8080/gate.php', domain: '203.0.113.66' })],
    [
      'bad-ips cidr',
      rec('2026-01-10T10:00:01Z', { src: '10.1.1.21', ip: '198.51.100.23', url: 'http://198.51.100.23/files/invoice.exe', domain: '198.51.100.23' }),
    ],
    ['bad-ips v6 cidr (CONNECT)', rec('2026-01-10T10:00:02Z', { url: '[2001:db8:bad::5]:443', ddomain: '[2001:db8:bad::5]:443' })],
    ['bad-ips domain', rec('2026-01-10T10:00:03Z', { url: 'http://cdn.Update-Check.Evil.example./a.js', domain: 'cdn.Update-Check.Evil.example.' })],
    ['urlhaus url', rec('2026-01-10T10:00:04Z', { url: 'http://dl.payload.example:80/drop/stage2.exe#frag', domain: 'dl.payload.example' })],
    ['stix domain', rec('2026-01-10T10:00:05Z', { url: 'https://phish-login.example/signin', domain: 'phish-login.example' })],
    ['misp ip|port', rec('2026-01-10T10:00:06Z', { url: 'http://192.0.2.77:8080/c2', domain: '192.0.2.77' })],
  ];
  const benign: Rec[] = [
    rec('2026-01-10T10:01:00Z', { url: 'http://notevil.example/', domain: 'notevil.example' }),
    rec('2026-01-10T10:01:01Z', { url: 'http://evil.example.org/', domain: 'evil.example.org', ip: '192.0.2.250' }),
    rec('2026-01-10T10:01:02Z', { url: 'http://dl.payload.example/drop/stage3.exe', domain: 'dl.payload.example' }),
    rec('2026-01-10T10:01:03Z', { url: 'http://updates.evil.example/feed.xml', domain: 'updates.evil.example' }), // allowlisted
    rec('2026-01-10T10:01:04Z', { url: 'http://revoked.example/', domain: 'revoked.example' }), // revoked STIX
    rec('2026-01-10T10:01:05Z', { ip: '192.0.2.79' }), // MISP to_ids: false
    rec('2026-01-10T10:01:06Z', { ip: '192.0.2.200' }), // listed, but allowlisted
  ];

  it('raises one alert per malicious record and none for look-alikes, revoked, non-IDS or allowlisted values', async () => {
    const ctx = testContext('sweep');
    const p = await sweep(exampleFeeds, ctx);
    const records = [...malicious.map(([, r]) => r), ...benign];
    const out = await processAll(p, [records.slice(0, 5), records.slice(5)]);
    expect(out.out).toHaveLength(records.length);
    expect(out.out!.every((r, i) => r === records[i])).toBe(true); // passed through, same objects
    const alerts = out.alerts!;
    expect(alerts.map((a) => a['@timestamp'])).toEqual(malicious.map(([, r]) => r['@timestamp']));
    const providers = alerts.map((a) => a.threat.enrichments.map((e: any) => `${e.indicator.provider}:${e.indicator.value}`));
    expect(providers).toEqual([
      ['feodo:203.0.113.66'],
      ['bad-ips:198.51.100.0/24'],
      ['bad-ips:2001:db8:bad::/48'],
      ['bad-ips:evil.example'],
      ['urlhaus:http://dl.payload.example/drop/stage2.exe'],
      ['stix:phish-login.example'],
      ['misp:192.0.2.77'],
    ]);
    expect(ctx.counters.alerts).toBe(7);
    expect(ctx.counters.allowlisted).toBe(2);
    expect(ctx.counters.indicators_loaded).toBeGreaterThan(10);
    expect(ctx.counters.rows_skipped).toBe(2 + 3 + 2 + 3 + 4 + 2);
  });

  it('builds ECS alerts with the record fields, the indicator metadata and what matched', async () => {
    const p = await sweep(exampleFeeds);
    const { alerts } = await processAll(p, [[malicious[0]![1]]]);
    const a = alerts![0]!;
    expect(a).toMatchObject({
      '@timestamp': '2026-01-10T10:00:00Z',
      event: { kind: 'alert', dataset: 'test' },
      rule: { name: 'ioc-sweep' },
      source: { ip: '10.1.1.20' },
      destination: { ip: '203.0.113.66' },
    });
    expect(a.threat.enrichments).toEqual([
      {
        indicator: {
          type: 'ipv4-addr',
          value: '203.0.113.66',
          provider: 'feodo',
          confidence: 90,
          description: 'ExampleBot',
          first_seen: '2026-01-10 08:15:02',
          last_seen: '2026-01-11',
          port: 8080,
        },
        matched: { field: 'destination.ip', atomic: '203.0.113.66', type: 'indicator_match_rule' },
      },
    ]);
    // The alert is a copy: the passed-through record is unchanged.
    expect(malicious[0]![1].event).toEqual({ dataset: 'test' });
    expect(malicious[0]![1].threat).toBeUndefined();
  });

  it('lists several matched indicators in one alert', async () => {
    const p = await sweep({ ...exampleFeeds, rule_name: 'intel' });
    const r = rec('2026-01-10T10:00:00Z', { ip: '203.0.113.10', url: 'http://www.c2.bad.example/x', domain: 'www.c2.bad.example' });
    const { alerts } = await processAll(p, [[r]]);
    expect(alerts).toHaveLength(1);
    expect(alerts![0]!.rule.name).toBe('intel');
    expect(alerts![0]!.threat.enrichments.map((e: any) => [e.indicator.type, e.indicator.value, e.matched.field])).toEqual([
      ['ipv4-addr', '203.0.113.10', 'destination.ip'],
      ['domain-name', 'c2.bad.example', 'url.domain'],
    ]);
  });

  it('tolerates records without the fields, or with junk in them', async () => {
    const p = await sweep(exampleFeeds);
    const junk: Rec[] = [{}, { destination: { ip: 42 } }, { url: { original: 'http://[::1' } }, { url: { domain: 'a b c' } }, { destination: 'x' }];
    const out = await processAll(p, [junk]);
    expect(out.out).toHaveLength(junk.length);
    expect(out.alerts ?? []).toEqual([]);
  });
});

describe('suppression', () => {
  it('emits the first alert, counts repeats within the period, and reports them once the period ends or input ends', async () => {
    const ctx = testContext('sweep');
    const p = await sweep({ feeds: [{ name: 'bad', path: `${EX}/bad-ips.txt` }], suppress: { period: '10m' } }, ctx);
    const hit = (ts: string, src = '10.1.1.20') => rec(ts, { src, ip: '198.51.100.23' });
    const out = await processAll(p, [
      [hit('2026-01-10T10:00:00Z'), hit('2026-01-10T10:01:00Z'), hit('2026-01-10T10:02:00Z'), hit('2026-01-10T10:02:30Z', '10.1.1.99')],
      [hit('2026-01-10T10:09:59Z'), rec('2026-01-10T10:12:00Z', { ip: '192.0.2.1' })], // event time passes 10:10 → window of .20 closes
      [hit('2026-01-10T10:15:00Z')], // opens a new window
      [hit('2026-01-10T10:16:00Z')], // suppressed, reported at finish
    ]);
    const summary = out.alerts!.map((a) => [a['@timestamp'], a.source.ip, a.suppression?.count ?? 0]);
    expect(summary).toEqual([
      ['2026-01-10T10:00:00Z', '10.1.1.20', 0],
      ['2026-01-10T10:02:30Z', '10.1.1.99', 0],
      ['2026-01-10T10:09:59Z', '10.1.1.20', 3],
      ['2026-01-10T10:15:00Z', '10.1.1.20', 0],
      ['2026-01-10T10:16:00Z', '10.1.1.20', 1],
    ]);
    expect(out.alerts![2]!.suppression).toEqual({ count: 3, window_start: '2026-01-10T10:00:00Z', last: '2026-01-10T10:09:59Z', period: '10m' });
    expect(ctx.counters.alerts_suppressed).toBe(4);
  });

  it('rejects a bad period at validation', () => {
    expect(() => configFor(iocSweep, { feeds: [{ name: 'a', path: 'x' }], suppress: { period: 'ten minutes' } })).toThrow(/suppress\/period/);
  });
});

describe('config checks', () => {
  it('rejects bad cron, missing or double sources and duplicate names', () => {
    expect(() => configFor(iocSweep, { feeds: [{ name: 'a', path: 'x', refresh: 'every hour' }] })).toThrow(/refresh.*not a valid cron/);
    expect(() => configFor(iocSweep, { feeds: [{ name: 'a' }] })).toThrow(/exactly one of 'path' or 'url'/);
    expect(() => configFor(iocSweep, { feeds: [{ name: 'a', path: 'x', url: 'http://x.example/' }] })).toThrow(/exactly one/);
    expect(() =>
      configFor(iocSweep, {
        feeds: [
          { name: 'a', path: 'x' },
          { name: 'a', path: 'y' },
        ],
      }),
    ).toThrow(/used twice/);
    expect(() => configFor(iocSweep, { feeds: [{ name: 'a', path: 'x', colour: 'red' }] })).toThrow();
  });

  it('validates its own examples', () => {
    for (const ex of iocSweep.examples!) expect(() => configFor(iocSweep, ex.with)).not.toThrow();
  });

  it('fails create() with a coded error when a required feed is unreadable, starts empty when it is optional', async () => {
    await expect(sweep({ feeds: [{ name: 'gone', path: 'test/fixtures/ioc-sweep/nope.txt' }] })).rejects.toThrow(/FEED_NOT_FOUND/);
    const ctx = testContext('sweep');
    const p = await sweep({ feeds: [{ name: 'gone', path: 'test/fixtures/ioc-sweep/nope.txt', optional: true }] }, ctx);
    expect(p.stats()).toEqual([{ feed: 'gone', size: 0 }]);
    expect(ctx.counters.feed_load_failures).toBe(1);
  });
});

describe('refresh', () => {
  it('swaps in a reloaded set atomically and keeps the last good set when a reload fails', async () => {
    const dir = tempDir('ioc-refresh-');
    const file = join(dir, 'list.txt');
    writeFileSync(file, '192.0.2.1\n');
    const ctx = testContext('sweep');
    const p = await sweep({ feeds: [{ name: 'l', path: file, refresh: '0 0 1 1 *' }] }, ctx);
    const probe = async (ip: string) => ((await p.process([rec('2026-01-10T10:00:00Z', { ip })])).alerts ?? []).length;
    expect(await probe('192.0.2.1')).toBe(1);
    expect(await probe('192.0.2.2')).toBe(0);

    writeFileSync(file, '192.0.2.2\n');
    expect(await p.refresh('l')).toBe(true);
    expect(await probe('192.0.2.1')).toBe(0);
    expect(await probe('192.0.2.2')).toBe(1);
    expect(ctx.counters.feed_refreshes).toBe(1);

    // An unreadable feed, then a feed with nothing usable (an error page served with 200): both keep the last good set.
    const { rmSync } = await import('node:fs');
    rmSync(file);
    expect(await p.refresh('l')).toBe(false);
    writeFileSync(file, '<html><body>Service unavailable</body></html>\n');
    expect(await p.refresh('l')).toBe(false);
    expect(await probe('192.0.2.2')).toBe(1);
    expect(ctx.counters.feed_refresh_failures).toBe(2);
    expect(ctx.logs.some((l: any) => l.level === 'error' && /keeping the last good set/.test(l.msg))).toBe(true);
  });

  it('a host that missed before a refresh is looked up again in the new set (the host memo is per set)', async () => {
    const dir = tempDir('ioc-refresh-');
    const file = join(dir, 'list.txt');
    writeFileSync(file, 'other.example\n');
    const p = await sweep({ feeds: [{ name: 'l', path: file }] });
    const probe = async (domain: string) => ((await p.process([rec('2026-01-10T10:00:00Z', { domain, ddomain: domain })])).alerts ?? []).length;
    for (let i = 0; i < 3; i++) expect(await probe('a.evil.example')).toBe(0);
    expect(await probe('x.other.example')).toBe(1);
    writeFileSync(file, 'evil.example\n');
    expect(await p.refresh()).toBe(true);
    expect(await probe('a.evil.example')).toBe(1);
    expect(await probe('x.other.example')).toBe(0);
    expect(await probe('a.evil.example')).toBe(1);
  });

  it('an address or a URL that missed before a refresh is looked up again in the new set', async () => {
    const dir = tempDir('ioc-refresh-');
    const file = join(dir, 'list.txt');
    writeFileSync(file, 'other.example\n');
    const p = await sweep({ feeds: [{ name: 'l', path: file }] });
    // as proxy-log writes them: the destination address, the host twice, the URL on that host
    const r = () => rec('2026-01-10T10:00:00Z', { ip: '198.51.100.7', domain: 'cdn.example', ddomain: 'cdn.example', url: 'http://cdn.example/a/payload.bin' });
    const probe = async () => ((await p.process([r(), r()])).alerts ?? []).map((a: any) => a.threat.enrichments.map((e: any) => e.indicator.value).join(','));
    for (let i = 0; i < 3; i++) expect(await probe()).toEqual([]); // batches across, every value cached as missed
    writeFileSync(file, '198.51.100.7\n');
    expect(await p.refresh()).toBe(true);
    expect(await probe()).toEqual(['198.51.100.7', '198.51.100.7']);
    writeFileSync(file, 'http://cdn.example/a/payload.bin\n');
    expect(await p.refresh()).toBe(true);
    expect(await probe()).toEqual(['http://cdn.example/a/payload.bin', 'http://cdn.example/a/payload.bin']);
  });

  it('a batch in flight keeps the set it started with', async () => {
    const dir = tempDir('ioc-refresh-');
    const file = join(dir, 'list.txt');
    writeFileSync(file, '192.0.2.1\n');
    const p = await sweep({ feeds: [{ name: 'l', path: file }] });
    const before = (p as any).current;
    writeFileSync(file, '192.0.2.3\n');
    await p.refresh();
    expect((p as any).current).toBe(before); // published, but handed over only between two batches
    expect((await p.process([rec('2026-01-10T10:00:00Z', { ip: '192.0.2.3' })])).alerts).toHaveLength(1);
    expect((p as any).current).not.toBe(before); // a new object was published...
    expect(before.stores[0].size).toBe(1); // ...the old one was not mutated
  });

  it('reloads an http feed on its cron schedule, and stops scheduling on abort', async () => {
    let body = '192.0.2.1\n';
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(200);
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.txt`;
    const ac = new AbortController();
    const ctx = testContext('sweep', { signal: ac.signal });
    try {
      const p = await sweep({ feeds: [{ name: 'h', url, refresh: '* * * * * *' }] }, ctx); // every second
      body = '192.0.2.9\n';
      const deadline = Date.now() + 10_000;
      while (!((ctx.counters.feed_refreshes ?? 0) >= 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(ctx.counters.feed_refreshes).toBeGreaterThanOrEqual(1);
      expect(((await p.process([rec('2026-01-10T10:00:00Z', { ip: '192.0.2.9' })])).alerts ?? []).length).toBe(1);
      ac.abort();
      await new Promise((r) => setTimeout(r, 50));
      const after = requests;
      await new Promise((r) => setTimeout(r, 2200));
      expect(requests).toBe(after);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 20_000);
});
