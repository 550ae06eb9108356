/**
 * ioc-sweep feeds read from the real HDFS (no mocks): a single file, a gzip file, a directory of
 * feed files of different formats, a glob over files and directories, a missing path
 * (FEED_NOT_FOUND), and a refresh that picks up a changed file.
 */
import { beforeAll, afterAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describeWithServices, useServices, hdfsUp } from './services.js';
import { createProcessor, testContext } from '../helpers/harness.js';
import iocSweep, { type IocSweep } from '../../plugins/analyse/ioc-sweep/index.js';
import { hdfsTarget } from '../../plugins/analyse/ioc-sweep/feeds/hdfs.js';
import { Hdfs } from '../../src/hdfs/webhdfs.js';
import type { ProcessorInstance, Rec } from '../../src/api.js';

// The cluster test/services/ starts (SLUICE_HDFS_HTTP_PORT moves it).
const URL_ = `http://127.0.0.1:${process.env.SLUICE_HDFS_HTTP_PORT ?? 9870}`;
/**
 * Feeds that name no `hdfs.url` reach the NameNode by the default rule (the path's host, else
 * 127.0.0.1, on 9870). On the default ports (CI) they are run that way, end to end; a developer's
 * private mini cluster on another port gets the URL named instead (the rule itself is held by the
 * last test, which needs no cluster).
 */
const DEFAULT_PORT = URL_ === 'http://127.0.0.1:9870';
const viaDefault = (hdfs: Record<string, unknown> = {}) => (DEFAULT_PORT ? (Object.keys(hdfs).length ? { hdfs } : {}) : { hdfs: { ...hdfs, url: URL_ } });
const ROOT = `/sluice-feeds-${randomUUID().slice(0, 8)}`;
const rec = (ip: string, host = 'benign.example'): Rec => ({
  '@timestamp': '2026-12-01T10:00:00Z',
  destination: { ip },
  url: { domain: host, original: `http://${host}/x` },
});

describeWithServices(['hdfs'], 'ioc-sweep feeds from the real HDFS', () => {
  let h: Hdfs;
  const open: ProcessorInstance[] = [];
  const sweep = async (feeds: object[]) => {
    const p = (await createProcessor(iocSweep, { feeds }, testContext('sweep'))) as IocSweep;
    open.push(p as ProcessorInstance);
    return p;
  };

  beforeAll(async () => {
    await useServices(['hdfs']);
    h = new Hdfs({ url: URL_, user: 'sluice', timeout_ms: 10000 });
    await h.mkdirs(`${ROOT}/dir`);
    await h.create(`${ROOT}/one.txt`, Buffer.from('203.0.113.1\nevil.example\n'));
    await h.create(`${ROOT}/two.txt.gz`, gzipSync('198.51.100.0/24\n'));
    await h.create(`${ROOT}/dir/a.csv`, Buffer.from('ioc,ioc_type\n192.0.2.5,ip\nbad.example,domain\n'));
    await h.create(
      `${ROOT}/dir/b.jsonl`,
      Buffer.from(
        '{"type":"indicator","spec_version":"2.1","id":"indicator--1","pattern":"[ipv4-addr:value = \'192.0.2.6\']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}\n',
      ),
    );
    await h.create(`${ROOT}/dir/_tmp.c.txt`, Buffer.from('192.0.2.7\n'));
  });

  afterAll(async () => {
    for (const p of open.splice(0)) await p.close?.();
    if (h && (await hdfsUp())) await h.delete(ROOT, true).catch(() => {});
  });

  it('reads a file, a gzip file and a directory (hidden files skipped, formats detected per file)', async () => {
    const p = await sweep([
      { name: 'one', path: `hdfs://${ROOT}/one.txt`, hdfs: { url: URL_, user: 'sluice' } },
      { name: 'two', path: `hdfs://127.0.0.1${ROOT}/two.txt.gz`, ...viaDefault({ user: 'sluice' }) },
      { name: 'dir', path: `hdfs://${ROOT}/dir/`, ...viaDefault() },
    ]);
    expect(p.stats()).toEqual([
      { feed: 'one', size: 2 },
      { feed: 'two', size: 1 },
      { feed: 'dir', size: 3 },
    ]);
    const out = await p.process([
      rec('203.0.113.1'),
      rec('198.51.100.9'),
      rec('192.0.2.5'),
      rec('192.0.2.6'),
      rec('192.0.2.7'),
      rec('10.0.0.1', 'x.bad.example'),
    ]);
    expect((out.alerts as Rec[]).map((a) => a.destination.ip)).toEqual(['203.0.113.1', '198.51.100.9', '192.0.2.5', '192.0.2.6', '10.0.0.1']);
  });

  it('a glob names files and directories (`*`, `{a,b}`, `[0-9]`), hidden ones skipped; one that matches nothing is FEED_NOT_FOUND', async () => {
    await h.mkdirs(`${ROOT}/g/day=1`);
    await h.mkdirs(`${ROOT}/g/day=2`);
    await h.mkdirs(`${ROOT}/g/_day=3`);
    await h.create(`${ROOT}/g/day=1/ips-1.txt`, Buffer.from('192.0.2.101\n'));
    await h.create(`${ROOT}/g/day=1/ips-2.txt`, Buffer.from('192.0.2.102\n'));
    await h.create(`${ROOT}/g/day=1/other.txt`, Buffer.from('192.0.2.103\n'));
    await h.create(`${ROOT}/g/day=2/ips-1.txt`, Buffer.from('192.0.2.104\n'));
    await h.create(`${ROOT}/g/_day=3/ips-1.txt`, Buffer.from('192.0.2.105\n'));
    await h.create(`${ROOT}/g/day=2/.ips-9.txt`, Buffer.from('192.0.2.106\n'));
    const conn = { url: URL_, user: 'sluice' };
    const p = await sweep([
      { name: 'files', path: `hdfs://${ROOT}/g/day=*/ips-[0-9].txt`, hdfs: conn },
      { name: 'alt', path: `hdfs://${ROOT}/g/day={1,9}/{other,none}.txt`, hdfs: conn },
      { name: 'dirs', path: `hdfs://${ROOT}/g/*`, hdfs: conn },
    ]);
    expect(p.stats()).toEqual([
      { feed: 'files', size: 3 },
      { feed: 'alt', size: 1 },
      { feed: 'dirs', size: 4 },
    ]);
    const ips = ['192.0.2.101', '192.0.2.102', '192.0.2.103', '192.0.2.104', '192.0.2.105', '192.0.2.106'];
    const out = await p.process(ips.map((ip) => rec(ip)));
    expect((out.alerts as Rec[]).map((a) => a.destination.ip)).toEqual(ips.slice(0, 4));
    await expect(sweep([{ name: 'none', path: `hdfs://${ROOT}/g/day=*/nothing-*.txt`, hdfs: conn }])).rejects.toThrow(/FEED_NOT_FOUND/);
  });

  it('a missing path fails the start with FEED_NOT_FOUND; an optional one starts empty', async () => {
    await expect(sweep([{ name: 'gone', path: `hdfs://${ROOT}/missing.txt`, ...viaDefault() }])).rejects.toThrow(/FEED_NOT_FOUND/);
    const p = await sweep([{ name: 'gone', path: `hdfs://${ROOT}/missing.txt`, optional: true, ...viaDefault() }]);
    expect(p.stats()).toEqual([{ feed: 'gone', size: 0 }]);
  });

  it('a refresh reads the changed file', async () => {
    await h.create(`${ROOT}/r.txt`, Buffer.from('203.0.113.50\n'));
    const p = await sweep([{ name: 'r', path: `hdfs://${ROOT}/r.txt`, ...viaDefault() }]);
    await h.create(`${ROOT}/r.txt`, Buffer.from('203.0.113.50\n203.0.113.51\n'));
    expect(await p.refresh()).toBe(true);
    const out = await p.process([rec('203.0.113.51')]); // the new set reaches the copy between batches
    expect((out.alerts as Rec[]).length).toBe(1);
    expect(p.stats()).toEqual([{ feed: 'r', size: 2 }]);
  });

  it("the NameNode of an hdfs:// path: the feed's hdfs.url, else the path's host on 9870, else 127.0.0.1", () => {
    const at = (path: string, hdfs?: object) => hdfsTarget({ name: 'x', path, hdfs } as never);
    expect(at('hdfs:///a/b.txt').client.authority).toBe('127.0.0.1:9870');
    expect(at('hdfs://nn.example:8020/a/').path).toBe('/a');
    expect(at('hdfs://nn.example:8020/a/').client.authority).toBe('nn.example:9870');
    expect(at('hdfs://nn/a', { url: 'http://other:50070' }).client.authority).toBe('other:50070');
    expect(() => at('hdfs://relative')).toThrow(/absolute/);
  });
});
