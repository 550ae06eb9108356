/**
 * Feed snapshots (feeds/snapshot.ts): a loaded feed's tables written to the state directory and read
 * back by the next load of the same feed. Read back only when the feed's bytes, its settings and the
 * code are unchanged and the file is whole; whatever else is a miss, and a miss loads the feed.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Hit } from '../../../plugins/analyse/ioc-sweep/store.js';
import { loadFeed, type FeedLoad } from '../../../plugins/analyse/ioc-sweep/feeds/index.js';
import type { FeedConfig } from '../../../plugins/analyse/ioc-sweep/feeds/types.js';
import { setHashBitsForTesting } from '../../../plugins/analyse/ioc-sweep/flat.js';
import { IDENTITY_SETTLED_MS } from '../../../plugins/analyse/ioc-sweep/feeds/snapshot.js';
import iocSweep from '../../../plugins/analyse/ioc-sweep/index.js';
import type { ProcessorInstance } from '../../../src/api.js';
import { createProcessor, testContext } from '../../helpers/harness.js';
import { storeBytes, storeKeys } from '../../helpers/indicator-store.js';
import { tempDir } from '../../helpers/tmp.js';
import { nodeOf, runTestSpec } from '../../helpers/run-spec.js';
import { squidLog } from '../../helpers/squid-log.js';
import { writeSweepSpec } from '../../helpers/sweep-spec.js';
import { linesWithoutTime } from '../../helpers/jsonl.js';

const EX = resolve('examples/feeds');
const FIX = resolve('test/fixtures/ioc-sweep');

function feed(path: string, extra: Partial<FeedConfig> = {}): FeedConfig {
  return { name: 'f', path, format: 'auto', exact: false, timeout: '5s', optional: false, ...extra };
}

/** Load `f` with its snapshot at `snapshot`, and wait for the snapshot's writing (done after the load returns). */
async function load(f: FeedConfig, snapshot: string, now = Date.now()): Promise<FeedLoad> {
  const l = await loadFeed(f, { resolvePath: (p) => resolve(p), snapshot }, now);
  await l.snapshot?.written;
  return l;
}

/**
 * What the tests compare of a load's snapshot state (the pending write left out, and how a used snapshot
 * was found: by the file's identity when the file had settled before the test, by its bytes otherwise).
 */
const state = (l: FeedLoad) => {
  const { written: _, by: __, ...rest } = l.snapshot ?? {};
  return rest;
};

/** A moment at which a file written now looks settled (left alone long enough for its identity to count). */
const later = () => Date.now() + IDENTITY_SETTLED_MS + 1000;

const v4 = (l: FeedLoad, ip: number): Hit[] => {
  const out: Hit[] = [];
  l.store.matchV4(ip, out);
  return out;
};

/** What a load reports besides the store, as the feed's log line would show it. */
const report = (l: FeedLoad) => ({ format: l.format, inputs: l.inputs, tally: { ...l.tally }, counts: l.store.counts, size: l.store.size });

describe('a feed read back from its snapshot', () => {
  const feeds: Array<[string, FeedConfig]> = [
    ['plain list', feed(`${EX}/bad-ips.txt`)],
    ['list with comments and junk', feed(`${FIX}/maltrail-style.txt`)],
    ['abuse.ch CSV', feed(`${EX}/feodo.csv`, { confidence: 90, tags: ['c2'] })],
    ['CSV with a commented header', feed(`${FIX}/urlhaus-commented-header.csv`)],
    ['STIX bundle', feed(`${EX}/stix-bundle.json`)],
    ['MISP event', feed(`${EX}/misp-event.json`)],
    ['MISP feed folder', feed(`${FIX}/misp-feed`)],
    ['JSON lines', feed(`${EX}/indicators.jsonl`)],
  ];
  for (const [what, f] of feeds) {
    it(`is the store and the report the load built: ${what}`, async () => {
      const snap = join(tempDir('snap-'), 'f.store');
      const built = await load(f, snap);
      expect(state(built)).toEqual({ used: false, miss: 'none' });
      expect(existsSync(snap)).toBe(true);
      const again = await load(f, snap);
      expect(state(again)).toEqual({ used: true });
      expect(storeBytes(again.store)).toEqual(storeBytes(built.store));
      expect(report(again)).toEqual(report(built));
      // the same indicators with the same metadata, and some of them
      expect(storeKeys(again.store)).toEqual(storeKeys(built.store));
      expect(storeKeys(built.store).length).toBeGreaterThan(0);
    });
  }

  it('is written after the load has returned the store, off the way to the first record', async () => {
    const snap = join(tempDir('snap-'), 'f.store');
    const l = await loadFeed(feed(`${EX}/feodo.csv`), { resolvePath: (p) => resolve(p), snapshot: snap });
    expect(l.store.size).toBeGreaterThan(0);
    expect(existsSync(snap)).toBe(false);
    await l.snapshot!.written;
    expect(existsSync(snap)).toBe(true);
    expect(l.snapshot!.writeError).toBeUndefined();
  });

  it('is not used once the feed bytes, its settings or the hash width change', async () => {
    const dir = tempDir('snap-');
    const file = join(dir, 'list.txt');
    const snap = join(dir, 'f.store');
    writeFileSync(file, '192.0.2.1\nbad.example\n');
    expect((await load(feed(file), snap)).snapshot?.used).toBe(false);
    expect((await load(feed(file), snap)).snapshot?.used).toBe(true);

    writeFileSync(file, '192.0.2.2\nbad.example\n'); // same length, other bytes
    const changed = await load(feed(file), snap);
    expect(state(changed)).toEqual({ used: false, miss: 'stale' });
    expect(v4(changed, 0xc0000202)).toHaveLength(1);
    expect(v4(changed, 0xc0000201)).toHaveLength(0);

    const conf = await load(feed(file, { confidence: 40 }), snap);
    expect(conf.snapshot?.miss).toBe('stale');
    expect(v4(conf, 0xc0000202)[0]!.meta.confidence).toBe(40);
    expect((await load(feed(file, { confidence: 40 }), snap)).snapshot?.used).toBe(true);

    setHashBitsForTesting(4);
    try {
      const narrow = await load(feed(file, { confidence: 40 }), snap);
      expect(narrow.snapshot?.miss).toBe('stale');
      const hits: Hit[] = [];
      narrow.store.matchDomain(['bad.example'], hits);
      expect(hits).toHaveLength(1);
    } finally {
      setHashBitsForTesting(32);
    }
  });

  it("is found by the feed file's identity, without reading the feed, once the file has settled", async () => {
    const dir = tempDir('snap-');
    const file = join(dir, 'list.txt');
    const snap = join(dir, 'f.store');
    writeFileSync(file, '192.0.2.1\nbad.example\n');
    // just written: the first loads key the snapshot by the bytes and leave no sidecar
    expect((await load(feed(file), snap)).snapshot?.used).toBe(false);
    expect(existsSync(`${snap}.id`)).toBe(false);
    expect((await load(feed(file), snap)).snapshot).toMatchObject({ used: true, by: 'feed bytes' });
    expect(existsSync(`${snap}.id`)).toBe(false);
    // settled: a load by the bytes records the identity, the next one goes by it
    expect((await load(feed(file), snap, later())).snapshot).toMatchObject({ used: true, by: 'feed bytes' });
    expect(existsSync(`${snap}.id`)).toBe(true);
    const quick = await load(feed(file), snap, later());
    expect(quick.snapshot).toMatchObject({ used: true, by: 'file identity' });
    expect(quick.inputs).toEqual([file]);
    expect(v4(quick, 0xc0000201)).toHaveLength(1);
    // other settings are another identity
    expect((await load(feed(file, { confidence: 40 }), snap, later())).snapshot?.miss).toBe('stale');
  });

  it('is not found by identity once the file is rewritten, even to the same size and modification time', async () => {
    const dir = tempDir('snap-');
    const file = join(dir, 'list.txt');
    const snap = join(dir, 'f.store');
    writeFileSync(file, '192.0.2.1\nbad.example\n');
    const minuteAgo = Math.floor(Date.now() / 1000) - 60; // whole seconds: utimes sets it back exactly
    utimesSync(file, minuteAgo, minuteAgo);
    expect((await load(feed(file), snap, later())).snapshot?.used).toBe(false);
    expect(existsSync(`${snap}.id`)).toBe(true);
    const before = statSync(file, { bigint: true });
    // rewritten until the change time moves (a coarse clock may need a tick), then the mtime set back
    for (let i = 0; i < 100 && statSync(file, { bigint: true }).ctimeNs === before.ctimeNs; i++) {
      await new Promise((r) => setTimeout(r, 5));
      writeFileSync(file, '192.0.2.2\nbad.example\n');
    }
    utimesSync(file, minuteAgo, minuteAgo);
    const after = statSync(file, { bigint: true });
    expect([after.size, after.mtimeNs]).toEqual([before.size, before.mtimeNs]);
    const changed = await load(feed(file), snap, later());
    expect(state(changed)).toEqual({ used: false, miss: 'stale' });
    expect(v4(changed, 0xc0000202)).toHaveLength(1);
    expect(v4(changed, 0xc0000201)).toHaveLength(0);
    expect((await load(feed(file), snap, later())).snapshot).toMatchObject({ used: true, by: 'file identity' });
  });

  it('is a miss when damaged, cut short or not a snapshot, and the load is right all the same', async () => {
    const dir = tempDir('snap-');
    const snap = join(dir, 'f.store');
    const f = feed(`${EX}/feodo.csv`);
    const good = await load(f, snap);
    const whole = readFileSync(snap);

    const flipped = Buffer.from(whole);
    const at = flipped.length - 9; // a byte of the last table
    flipped[at] = flipped[at]! ^ 0x40;
    writeFileSync(snap, flipped);
    const damaged = await load(f, snap);
    expect(state(damaged)).toEqual({ used: false, miss: 'damaged' });
    expect(storeBytes(damaged.store)).toEqual(storeBytes(good.store));
    expect(readFileSync(snap).equals(whole)).toBe(true); // rewritten

    writeFileSync(snap, whole.subarray(0, whole.length - 100));
    expect((await load(f, snap)).snapshot?.miss).toBe('cut short');
    writeFileSync(snap, 'not a snapshot at all\n');
    expect((await load(f, snap)).snapshot?.miss).toBe('not a snapshot');
    expect((await load(f, snap)).snapshot?.used).toBe(true);
  });

  it('of a STIX feed is not used from the moment an indicator starts or stops being valid', async () => {
    const dir = tempDir('snap-');
    const file = join(dir, 'stix.json');
    const snap = join(dir, 'f.store');
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    const ind = (id: string, value: string, extra: object) => ({
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${id}`,
      pattern_type: 'stix',
      pattern: `[ipv4-addr:value = '${value}']`,
      ...extra,
    });
    writeFileSync(
      file,
      JSON.stringify({
        type: 'bundle',
        id: 'bundle--1',
        objects: [
          ind('00000000-0000-4000-8000-000000000001', '192.0.2.1', { valid_from: '2026-01-01T00:00:00Z' }),
          ind('00000000-0000-4000-8000-000000000002', '192.0.2.2', { valid_from: '2026-03-01T01:00:00Z' }), // valid in an hour
          ind('00000000-0000-4000-8000-000000000003', '192.0.2.3', { valid_from: '2026-01-01T00:00:00Z', valid_until: '2026-03-01T02:00:00Z' }),
        ],
      }),
    );
    const at = (ms: number) => load(feed(file), snap, t0 + ms);
    const first = await at(0);
    expect(first.tally.reasons).toEqual({ NOT_YET_VALID: 1 });
    expect(first.store.size).toBe(2);
    expect((await at(30 * 60_000)).snapshot?.used).toBe(true);
    const later = await at(60 * 60_000);
    expect(later.snapshot?.miss).toBe('expired');
    expect(later.store.size).toBe(3);
    expect((await at(90 * 60_000)).snapshot?.used).toBe(true);
    const past = await at(120 * 60_000);
    expect(past.snapshot?.miss).toBe('expired');
    expect(past.tally.reasons).toEqual({ EXPIRED: 1 });
    expect(past.store.size).toBe(2);
    expect((await at(10 * 86_400_000)).snapshot?.used).toBe(true); // nothing left to change
  });

  it('that cannot be written leaves the load as it is, and says why', async () => {
    const dir = tempDir('snap-');
    writeFileSync(join(dir, 'a-file'), '');
    const l = await load(feed(`${EX}/bad-ips.txt`), join(dir, 'a-file', 'f.store'));
    expect(l.snapshot?.used).toBe(false);
    expect(l.snapshot?.writeError).toMatch(/EEXIST|ENOTDIR/);
    expect(l.store.size).toBeGreaterThan(0);
  });
});

describe('the ioc-sweep node and its snapshots', () => {
  /** Feeds named `names`, and an allowlist. */
  const feeds = (names: string[]) => ({
    feeds: names.map((name) => ({ name, path: `${EX}/bad-ips.txt` })),
    allowlist: [{ name: 'allow', path: `${EX}/allowlist.txt` }],
  });

  it('reads its feeds back on the next start, keeps one snapshot per feed, and drops those of removed feeds', async () => {
    const state = tempDir('snap-state-');
    const start = async (config: unknown) => {
      const ctx = testContext('sweep', { stateDir: () => state });
      const p: ProcessorInstance = await createProcessor(iocSweep, config, ctx);
      await p.close?.();
      return ctx;
    };
    const first = await start(feeds(['a', 'b']));
    expect(first.counters.feed_snapshots_used).toBeUndefined();
    const stores = () =>
      readdirSync(join(state, 'snapshots'))
        .filter((n) => n.endsWith('.store'))
        .sort();
    // an identity sidecar only beside its snapshot
    const sidecars = () =>
      readdirSync(join(state, 'snapshots'))
        .filter((n) => n.endsWith('.store.id'))
        .map((n) => n.slice(0, -3));
    expect(stores()).toEqual(['allow-allow.store', 'feed-a.store', 'feed-b.store']);
    const second = await start(feeds(['a', 'b']));
    expect(second.counters.feed_snapshots_used).toBe(3);
    expect(second.logs.filter((l: any) => l.msg === 'feed loaded').map((l: any) => l.obj.snapshot)).toEqual(['used', 'used', 'used']);
    await start(feeds(['a']));
    expect(stores()).toEqual(['allow-allow.store', 'feed-a.store']);
    expect(sidecars().every((n) => stores().includes(n))).toBe(true);
  });

  it('with snapshots: false writes none', async () => {
    const state = tempDir('snap-state-');
    const ctx = testContext('sweep', { stateDir: () => state });
    const p: ProcessorInstance = await createProcessor(iocSweep, { ...feeds(['a']), snapshots: false }, ctx);
    await p.close?.();
    expect(existsSync(join(state, 'snapshots'))).toBe(false);
    expect(ctx.logs.filter((l: any) => l.msg === 'feed loaded').every((l: any) => l.obj.snapshot === undefined)).toBe(true);
  });
});

describe('a pipeline run on a snapshot', () => {
  it('raises the same alerts and rejects as the run that wrote it, on worker threads too', async () => {
    const dir = tempDir('snap-run-');
    writeFileSync(join(dir, 'a.log'), squidLog(20_000, ['www.example.com', 'bad.example.net', 'cdn.example.org'], 131));
    writeFileSync(join(dir, 'bad.txt'), 'bad.example.net\n198.51.100.0/24\n');
    const file = writeSweepSpec(dir, { name: 'snap-run', logs: [join(dir, 'a.log')] });
    const state = join(dir, 'state');
    const cold = await runTestSpec(file, join(dir, 'cold'), { stateDir: state, workers: 2 });
    const warm = await runTestSpec(file, join(dir, 'warm'), { stateDir: state, workers: 2 });
    expect(nodeOf(cold, 'sweep').metrics.feed_snapshots_used).toBeUndefined();
    expect(nodeOf(warm, 'sweep').metrics.feed_snapshots_used).toBe(1);
    expect(warm.workers?.count).toBe(2);
    const alerts = (out: string) => linesWithoutTime(join(dir, out, 'alerts.jsonl')).sort();
    expect(alerts('warm').length).toBeGreaterThan(1000);
    expect(alerts('warm')).toEqual(alerts('cold'));
    expect(linesWithoutTime(join(dir, 'warm', 'rejects.jsonl')).sort()).toEqual(linesWithoutTime(join(dir, 'cold', 'rejects.jsonl')).sort());
  });
});
