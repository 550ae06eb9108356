/**
 * `since_last_run` (incremental retro-hunt) on local feed files: which indicators are new, when a
 * run's key set is committed, and what a failed run, a removed indicator or a refresh do. The HDFS
 * end-to-end run is test/integration/hdfs-retro-sweep.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../../helpers/cli.js';
import iocSweep, { type IocSweep } from '../../../plugins/analyse/ioc-sweep/index.js';
import { IndicatorStoreBuilder } from '../../../plugins/analyse/ioc-sweep/store-builder.js';
import { splitNew } from '../../../plugins/analyse/ioc-sweep/incremental.js';
import { createProcessor, processAll, testContext } from '../../helpers/harness.js';
import type { ProcessorInstance, Rec } from '../../../src/api.js';
import { tempDir } from '../../helpers/tmp.js';

const failFlush = resolve(import.meta.dirname, '../../fixtures/plugins/fail-flush.mjs');
const open: ProcessorInstance[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.close?.();
});

const rec = (ip: string, host = 'benign.example'): Rec => ({
  '@timestamp': '2026-12-01T10:00:00Z',
  destination: { ip },
  url: { domain: host, original: `http://${host}/x` },
});
const traffic: Rec[] = [
  rec('203.0.113.1'),
  rec('203.0.113.2'),
  rec('198.51.100.7'),
  rec('192.0.2.9', 'c2.evil.example'),
  rec('192.0.2.10', 'www.new-bad.example'),
  rec('2001:db8:bad::5'),
  rec('192.0.2.11', 'dl.example'),
];

function setup() {
  const dir = tempDir('incr-');
  const feed = join(dir, 'feed.txt');
  const state = join(dir, 'state');
  const run = async (lines: string[], opts: { finish?: boolean; aborted?: boolean } = {}) => {
    writeFileSync(feed, `${lines.join('\n')}\n`);
    const ac = new AbortController();
    const ctx = testContext('retro', { stateDir: () => state, signal: ac.signal });
    const p = (await createProcessor(iocSweep, { feeds: [{ name: 'f', path: feed }], since_last_run: true }, ctx)) as IocSweep;
    open.push(p);
    if (opts.aborted) ac.abort();
    const out = opts.finish === false ? await p.process(traffic) : await processAll(p, [traffic]);
    await (p as ProcessorInstance).close?.();
    open.splice(open.indexOf(p), 1);
    const alerts = (out.alerts ?? []) as Rec[];
    return { ips: alerts.map((a) => a.destination.ip as string), counters: ctx.counters };
  };
  return { run, state };
}

describe('ioc-sweep since_last_run', () => {
  it('sweeps everything the first time, then only the indicators added since the last completed run', async () => {
    const { run } = setup();
    const first = await run(['203.0.113.1', 'evil.example']);
    expect(first.ips).toEqual(['203.0.113.1', '192.0.2.9']);
    expect(first.counters).toMatchObject({ indicators_loaded: 2, indicators_swept: 2, indicators_known: 0 });

    const second = await run(['203.0.113.1', 'evil.example', '198.51.100.0/24', 'new-bad.example', '2001:db8:bad::/48', 'http://dl.example/x']);
    expect(second.ips).toEqual(['198.51.100.7', '192.0.2.10', '2001:db8:bad::5', '192.0.2.11']);
    expect(second.counters).toMatchObject({ indicators_loaded: 6, indicators_swept: 4, indicators_known: 2, alerts: 4 });

    const third = await run(['203.0.113.1', 'evil.example', '198.51.100.0/24', 'new-bad.example', '2001:db8:bad::/48', 'http://dl.example/x']);
    expect(third.ips).toEqual([]);
    expect(third.counters).toMatchObject({ indicators_swept: 0, indicators_known: 6 });
  });

  it('commits nothing when the run does not reach the end of its input, or is stopped: the new indicators are swept again', async () => {
    const { run, state } = setup();
    await run(['203.0.113.1']);
    const lines = ['203.0.113.1', '203.0.113.2'];
    expect((await run(lines, { finish: false })).ips).toEqual(['203.0.113.2']);
    expect(readdirSync(state).filter((f) => f.endsWith('.pending'))).toEqual([]); // discarded at close
    expect((await run(lines, { aborted: true })).ips).toEqual(['203.0.113.2']);
    expect((await run(lines)).ips).toEqual(['203.0.113.2']);
    expect((await run(lines)).ips).toEqual([]);
    expect(existsSync(join(state, 'f.keys'))).toBe(true);
  });

  it('an indicator removed from the feed and added back later is new again; a metadata change is not', async () => {
    const { run } = setup();
    await run(['203.0.113.1', '203.0.113.2']);
    expect((await run(['203.0.113.1'])).counters).toMatchObject({ indicators_swept: 0, indicators_known: 1 });
    expect((await run(['203.0.113.1', '203.0.113.2'])).ips).toEqual(['203.0.113.2']);
    expect((await run(['203.0.113.1:8080', '203.0.113.2'])).ips).toEqual([]);
  });

  it('a refresh sweeps the refreshed feed minus what the last completed run had', async () => {
    const { state } = setup();
    const dir = tempDir('incr-refresh-');
    const feed = join(dir, 'feed.txt');
    writeFileSync(feed, '203.0.113.1\n');
    const cfg = { feeds: [{ name: 'f', path: feed }], since_last_run: true };
    const ctx = testContext('retro', { stateDir: () => state });
    let p = (await createProcessor(iocSweep, cfg, ctx)) as IocSweep;
    await processAll(p, [traffic]);
    await (p as ProcessorInstance).close?.();
    p = (await createProcessor(iocSweep, cfg, testContext('retro', { stateDir: () => state }))) as IocSweep;
    open.push(p);
    expect(p.stats()).toEqual([{ feed: 'f', size: 0 }]);
    writeFileSync(feed, '203.0.113.1\n203.0.113.2\n');
    expect(await p.refresh()).toBe(true);
    const out = await p.process(traffic);
    expect((out.alerts as Rec[]).map((a) => a.destination.ip)).toEqual(['203.0.113.2']);
  });
});

describe('ioc-sweep since_last_run: commit after the last flush', () => {
  it('a run whose last sink flush fails commits nothing: the next run sweeps the same new indicators', async () => {
    const dir = tempDir('incr-flush-');
    const feed = join(dir, 'feed.txt');
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, `${traffic.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const spec = (sink: string) => {
      const f = join(dir, `spec-${sink}.yaml`);
      writeFileSync(
        f,
        `version: 1
name: retro
plugins: [${JSON.stringify(failFlush)}]
settings: { workers: 1, flush_interval: 1h }
nodes:
  src: { source: file, with: { paths: ["${input}"] } }
  recs: { transform: proxy-log, from: src, with: { format: json, fields: { "@timestamp": "@timestamp", destination.ip: destination.ip, url.original: url.original } } }
  sweep: { analyse: ioc-sweep, from: recs, with: { since_last_run: true, feeds: [{ name: f, path: "${feed}" }] } }
  alerts: ${sink === 'file' ? `{ sink: file, from: sweep.alerts, with: { path: "${dir}/alerts.jsonl", mode: overwrite } }` : '{ sink: fail-flush, from: sweep.alerts, with: { fail_at: 1 } }'}
`,
      );
      return f;
    };
    const state = join(dir, 'state');
    const run = (sink: string) => runCli(['run', spec(sink), '--once', '--state-dir', state, '--log-level', 'error']);
    const alerted = () =>
      readFileSync(join(dir, 'alerts.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).destination.ip);

    writeFileSync(feed, '203.0.113.1\n');
    expect((await run('file')).code).toBe(0);
    expect(alerted()).toEqual(['203.0.113.1']);
    writeFileSync(feed, '203.0.113.1\n198.51.100.0/24\n');
    // the sweep reaches the end of its input, then the alert sink's last flush fails
    const failed = await run('fail');
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/flush refused/);
    // no key set staged or pending (the feed's snapshot directory beside them is not part of the commit)
    expect(readdirSync(join(state, 'retro', 'sweep')).sort()).toEqual(['f.keys', 'snapshots']);
    expect(readFileSync(join(state, 'retro', 'sweep', 'f.keys'), 'utf8')).not.toContain('/24');
    // so the next run sweeps the new range again, and commits it
    expect((await run('file')).code).toBe(0);
    expect(alerted()).toEqual(['198.51.100.7']);
    expect((await run('file')).code).toBe(0);
    expect(alerted()).toEqual([]);
  });
});

describe('splitNew (store keys round trip)', () => {
  it('rebuilds new indicators of every kind with their metadata, merged metadata included', () => {
    const b = new IndicatorStoreBuilder('x');
    const m1 = b.meta({ exact: false, confidence: 50, tags: ['a'] });
    const m2 = b.meta({ exact: true, description: 'd' });
    for (const v of ['192.0.2.1', '10.0.0.0/8', '2001:db8::1', '2001:db8:1::/48', 'evil.example', 'http://evil.example/a?b=1']) b.add(v, 'auto', m1);
    b.add('evil.example', 'auto', m2);
    const full = b.seal();
    const keys: string[] = [];
    full.forEachIndicator((k) => keys.push(k));
    expect(keys.sort()).toEqual([
      '4:0000000a/8',
      '4:c0000201/32',
      '6:20010db8000000000000000000000001/128',
      '6:20010db8000100000000000000000000/48',
      'd:evil.example',
      'u:http://evil.example/a?b=1',
    ]);
    const none = splitNew(full, new Set());
    const again: [string, number][] = [];
    none.fresh.forEachIndicator((k, metas) => again.push([k, metas.length]));
    expect(again.sort()).toEqual(keys.map((k) => [k, k === 'd:evil.example' ? 2 : 1]));
    expect(none.fresh.counts).toMatchObject({ 'ipv4-addr': 1, 'ipv4-cidr': 1, 'ipv6-addr': 1, 'ipv6-cidr': 1, url: 1 });
    const some = splitNew(full, new Set(['4:0000000a/8', 'd:evil.example', 'u:gone']));
    expect(some.known).toBe(2);
    expect(some.removed).toBe(1);
    expect(some.fresh.size).toBe(4);
  });
});

describe('key files (64-bit hashes)', () => {
  it('reads back what writePending wrote, and still reads a v1 text key file', async () => {
    const { keyFiles, readKnown, writePending, splitNew: split } = await import('../../../plugins/analyse/ioc-sweep/incremental.js');
    const dir = tempDir('keys-');
    const b = new IndicatorStoreBuilder('x');
    const m = b.meta({ exact: false });
    for (const v of ['192.0.2.1', '10.0.0.0/8', '2001:db8::1', 'evil.example', 'http://evil.example/a']) b.add(v, 'auto', m);
    const full = b.seal();
    const first = split(full, null);
    const files = keyFiles(dir, 'f');
    await writePending(files, first.keys, dir);
    writeFileSync(files.committed, readFileSync(files.pending));
    const known = await readKnown(files);
    expect(known?.size).toBe(5);
    const again = split(full, known);
    expect(again).toMatchObject({ known: 5, removed: 0 });
    expect(again.fresh.size).toBe(0);

    const keys: string[] = [];
    full.forEachIndicator((k) => keys.push(k));
    writeFileSync(files.committed, `# sluice ioc-sweep known indicators v1\n${keys.slice(0, 3).join('\n')}\ngone\n`);
    const v1 = await readKnown(files);
    const fromV1 = split(full, v1);
    expect(fromV1).toMatchObject({ known: 3, removed: 1 });
    expect(fromV1.fresh.size).toBe(2);
    writeFileSync(files.committed, 'something else\n');
    await expect(readKnown(files)).rejects.toThrow(/not an ioc-sweep key file/);
  });
});
