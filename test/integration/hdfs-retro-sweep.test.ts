/**
 * The retro-hunt on the real HDFS (no mocks): a day of proxy logs archived by the shipped
 * proxy-archive.hdfs.yaml, a feed in HDFS, and the shipped retro-sweep.hdfs.yaml run three times.
 * The first run (no key set yet) sweeps the day against the whole feed; indicators are then added
 * to the feed, and the second, incremental run alerts on exactly the lines matching the new
 * indicators while matching against only them (`indicators_swept` = the new ones, the old ones
 * `indicators_known`); a full run beside it finds old and new; a third incremental run finds
 * nothing new. Every line is accounted for: archived or rejected by the archive, then read back (or
 * rejected) by the retro run — and an incremental run parses only the lines its source's pre-filter
 * kept as candidates of the new indicators (`lines_checked`, `lines_skipped`). The archive carries
 * key indexes (`key_index` of proxy-archive.hdfs.yaml): a quiet day whose traffic matches no
 * indicator is skipped unread (`files_skipped`), and in the busy day only the blocks holding a
 * candidate token are fetched (`blocks_skipped`, `lines_unread`).
 */
import { beforeAll, afterAll, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describeWithServices, useServices, hdfsUp } from './services.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { Hdfs, type FileStatus } from '../../src/hdfs/webhdfs.js';

// The cluster test/services/ starts (SLUICE_HDFS_HTTP_PORT moves it), given to both pipelines.
const WEBHDFS_URL = `http://127.0.0.1:${process.env.SLUICE_HDFS_HTTP_PORT ?? 9870}`;
const ROOT_DIR = `/sluice-retro-${randomUUID().slice(0, 8)}`;
const N = 3000;
const BAD_EVERY = 250;

/** One day (2026-12-04 UTC) of Squid lines; host and destination vary with i; every BAD_EVERY-th line is broken. */
function day(): string {
  const start = Date.UTC(2026, 11, 4, 0, 0, 0) / 1000;
  let s = '';
  for (let i = 1; i <= N; i++) {
    if (i % BAD_EVERY === 0) {
      s += `not a squid line ${i}\n`;
      continue;
    }
    const t = start + Math.floor((i * 86000) / N);
    s += `${t}.000    ${50 + (i % 900)} 10.0.${(i >> 8) & 255}.${i & 255} TCP_MISS/200 ${1000 + i} GET http://host${i % 97}.example.test/p/${i} - HIER_DIRECT/192.0.2.${i % 250} text/html\n`;
  }
  return s;
}
/** A quiet day (2026-12-03): traffic that matches no indicator of the test, old or new. */
const Q = 2000;
function quietDay(): string {
  const start = Date.UTC(2026, 11, 3, 0, 0, 0) / 1000;
  let s = '';
  for (let i = 1; i <= Q; i++) {
    const t = start + Math.floor((i * 86000) / Q);
    s += `${t}.000    ${50 + (i % 900)} 10.9.${(i >> 8) & 255}.${i & 255} TCP_MISS/200 ${1000 + i} GET http://quiet${i % 13}.example.org/q/${i} - HIER_DIRECT/198.51.100.${i % 200} text/html\n`;
  }
  return s;
}
const lineNos = (pred: (i: number) => boolean) => Array.from({ length: N }, (_, k) => k + 1).filter((i) => i % BAD_EVERY !== 0 && pred(i));

async function walk(h: Hdfs, dir: string, out: Array<{ path: string; st: FileStatus }> = []): Promise<Array<{ path: string; st: FileStatus }>> {
  for (const e of (await h.list(dir)) ?? []) {
    const p = `${dir}/${e.pathSuffix}`;
    if (e.type === 'DIRECTORY') await walk(h, p, out);
    else if (!e.pathSuffix.startsWith('_') && !e.pathSuffix.startsWith('.')) out.push({ path: p, st: e });
  }
  return out;
}

async function records(h: Hdfs, dir: string): Promise<any[]> {
  const out: any[] = [];
  for (const f of await walk(h, dir)) {
    let buf = f.st.length ? await h.read(f.path, 0, f.st.length) : Buffer.alloc(0);
    if (f.path.endsWith('.gz')) buf = gunzipSync(buf);
    for (const line of buf.toString('utf8').split('\n')) if (line) out.push(JSON.parse(line));
  }
  return out;
}

/** The Squid line number an alert came from (the URL path carries it). */
const lineOf = (a: any): number => Number(/\/p\/(\d+)$/.exec(a.url.original)![1]);

describeWithServices(['hdfs'], 'retro-sweep on the real HDFS', () => {
  let h: Hdfs;
  let work: string;

  beforeAll(async () => {
    await useServices(['hdfs']);
    h = new Hdfs({ url: WEBHDFS_URL, user: 'sluice', timeout_ms: 10000 });
    work = tempDir('hdfs-retro-');
  });

  afterAll(async () => {
    if (h && (await hdfsUp())) await h.delete(ROOT_DIR, true).catch(() => {});
  });

  it('archive a day, add indicators to a feed, run the retro pipeline: exactly the lines matching the new indicators alert, swept against only them', {
    timeout: 240_000,
  }, async () => {
    writeFileSync(join(work, 'access.log'), day());
    writeFileSync(join(work, 'access-quiet.log'), quietDay());
    const logs = join(work, 'access*.log');
    const archive = await runCli([
      'run',
      'pipelines/proxy-archive.hdfs.yaml',
      '--var',
      `WEBHDFS=${WEBHDFS_URL}`,
      '--var',
      `LOGS=${logs}`,
      '--var',
      'FORMAT=squid',
      '--var',
      `ARCHIVE=${ROOT_DIR}/proxy`,
      '--var',
      `REJECTS=${ROOT_DIR}/proxy-rejects`,
      '--var',
      'FLUSH=500ms',
      '--log-level',
      'warn',
      '--state-dir',
      join(work, 'state-archive'),
    ]);
    expect(archive.code, archive.stderr).toBe(0);
    const bad = Math.floor(N / BAD_EVERY);
    const total = N - bad + Q;
    expect((await records(h, `${ROOT_DIR}/proxy`)).length).toBe(total);
    // beside every archived file, its key index (hidden)
    const all = ((await h.list(`${ROOT_DIR}/proxy/dt=2026-12-03`)) ?? []).concat((await h.list(`${ROOT_DIR}/proxy/dt=2026-12-04`)) ?? []);
    const data = all.filter((e) => !e.pathSuffix.startsWith('.')).map((e) => e.pathSuffix);
    expect(data.length).toBeGreaterThanOrEqual(2);
    expect(
      all
        .filter((e) => e.pathSuffix.endsWith('.keys'))
        .map((e) => e.pathSuffix)
        .sort(),
    ).toEqual(data.map((d) => `.${d}.keys`).sort());
    expect((await records(h, `${ROOT_DIR}/proxy-rejects`)).length).toBe(bad);

    // The feed lives in HDFS: a directory, every visible file in it read.
    await h.mkdirs(`${ROOT_DIR}/feeds`);
    await h.create(`${ROOT_DIR}/feeds/a.txt`, Buffer.from('# old indicators\nhost5.example.test\n192.0.2.17\n'));
    const state = join(work, 'state-retro');
    const retro = async (tag: string, incremental: boolean, stateDir = state, workers = 1, unindexed = 0) => {
      const summaryFile = join(work, `${tag}.json`);
      const r = await runCli([
        'run',
        'pipelines/retro-sweep.hdfs.yaml',
        '--once',
        '--var',
        `WEBHDFS=${WEBHDFS_URL}`,
        '--var',
        `ARCHIVE=${ROOT_DIR}/proxy`,
        '--var',
        'DAYS=2026-12-0[3-4]',
        '--var',
        `FEEDS=hdfs://${ROOT_DIR}/feeds/`,
        '--var',
        `ALERTS=${ROOT_DIR}/alerts-${tag}`,
        '--var',
        `REJECTS=${ROOT_DIR}/retro-rejects-${tag}`,
        '--var',
        `INCREMENTAL=${incremental}`,
        '--var',
        `WORKERS=${workers}`,
        '--var',
        'FLUSH=500ms',
        '--log-level',
        'warn',
        '--state-dir',
        stateDir,
        '--summary-json',
        summaryFile,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
      const node = (name: string) => summary.nodes.find((x: { node: string }) => x.node === name);
      // every archived line read; with since_last_run the source's pre-filter (prefilter: sweep)
      // drops the lines that cannot match a swept indicator before any record is built
      const read = node('archive').metrics;
      const parsed = node('records').in ?? 0;
      if (incremental) {
        // lines of blocks the key index ruled out are not even read; the others are checked
        expect((read.lines_checked ?? 0) + (read.lines_unread ?? 0)).toBe(total);
        expect(parsed).toBe(total - (read.lines_skipped ?? 0));
        expect(read.files_indexed ?? 0).toBe(data.length - unindexed);
      } else {
        expect(read.lines_checked).toBeUndefined();
        expect(read.files_indexed).toBeUndefined();
        expect(parsed).toBe(total);
      }
      expect(node('rejects').in ?? 0).toBe(0);
      const alerts = await records(h, `${ROOT_DIR}/alerts-${tag}`);
      expect(node('alerts').in).toBe(alerts.length);
      return { lines: alerts.map(lineOf).sort((a, b) => a - b), metrics: node('sweep').metrics, alerts, parsed, read };
    };
    const oldMatch = (i: number) => i % 97 === 5 || i % 250 === 17;
    const newMatch = (i: number) => i % 97 === 11 || i % 250 === 42 || i === 1234;

    const first = await retro('first', true);
    expect(first.lines).toEqual(lineNos(oldMatch));
    expect(first.metrics).toMatchObject({ indicators_loaded: 2, indicators_swept: 2, indicators_known: 0 });
    // a first run filters with the whole feed (2 indicators): a fraction of the day is parsed
    expect(first.parsed).toBeGreaterThanOrEqual(first.lines.length);
    expect(first.parsed).toBeLessThan((N - bad) / 10);

    // New indicators: a second file, and one added to the first (a domain, an IP, a URL).
    await h.create(`${ROOT_DIR}/feeds/a.txt`, Buffer.from('# old indicators\nhost5.example.test\n192.0.2.17\nhttp://host70.example.test/p/1234\n'));
    await h.create(`${ROOT_DIR}/feeds/b.txt`, Buffer.from('host11.example.test\n192.0.2.42\n'));
    // In two worker threads: each copy sweeps with the new indicators, the first to finish commits.
    const second = await retro('second', true, state, 2);
    expect(second.lines).toEqual(lineNos(newMatch));
    expect(second.lines.length).toBeGreaterThan(40);
    expect(second.metrics).toMatchObject({ indicators_loaded: 5, indicators_swept: 3, indicators_known: 2, alerts: second.lines.length });
    // the incremental run reads only them: the lines it parses are the candidates of the 3 new
    // indicators (the domain's host, the address, the URL's host), not the day
    expect(second.parsed).toBeGreaterThanOrEqual(second.lines.length);
    expect(second.parsed).toBeLessThan((N - bad) / 10);
    // the quiet day is skipped whole, without a fetch; of the busy day only candidate blocks are read
    expect(second.read.files_skipped).toBeGreaterThanOrEqual(1);
    expect(second.read.lines_unread).toBeGreaterThanOrEqual(Q);
    expect(second.read.blocks_skipped).toBeGreaterThan(0);
    expect(second.read.blocks_read).toBeGreaterThan(0);
    expect(second.alerts.every((a) => a.rule.name === 'retro-sweep' && a.threat.enrichments.every((e: any) => e.indicator.provider === 'hdfs-feeds'))).toBe(
      true,
    );
    expect(new Set(second.alerts.flatMap((a) => a.threat.enrichments.map((e: any) => e.indicator.value)))).toEqual(
      new Set(['host11.example.test', '192.0.2.42', 'http://host70.example.test/p/1234']),
    );

    // A full sweep beside it (its own state): old and new.
    const full = await retro('full', false, join(work, 'state-full'));
    expect(full.lines).toEqual(lineNos((i) => oldMatch(i) || newMatch(i)));
    expect(full.metrics.indicators_swept).toBeUndefined();

    // Nothing learned since: nothing swept, nothing alerts.
    const third = await retro('third', true);
    expect(third.lines).toEqual([]);
    expect(third.metrics).toMatchObject({ indicators_swept: 0, indicators_known: 5 });
    expect(third.parsed).toBe(0);
    // no indicator to sweep: no file is even fetched
    expect(third.read.files_skipped).toBe(data.length);
    expect(third.read.lines_unread).toBe(total);

    // Correctness first: a file whose sidecar is gone, and one whose sidecar does not describe it
    // (another writer replaced the file), are read whole. A first run (fresh state: every indicator
    // new) finds what the full run found.
    const [gone, stale] = all.filter((e) => e.pathSuffix.endsWith('.keys')).map((e) => e.pathSuffix);
    const dirOf = async (name: string) =>
      ((await h.list(`${ROOT_DIR}/proxy/dt=2026-12-03`)) ?? []).some((e) => e.pathSuffix === name) ? 'dt=2026-12-03' : 'dt=2026-12-04';
    await h.delete(`${ROOT_DIR}/proxy/${await dirOf(gone!)}/${gone}`);
    const staleDir = await dirOf(stale!);
    const staleText = gunzipSync(await h.read(`${ROOT_DIR}/proxy/${staleDir}/${stale}`, 0, all.find((e) => e.pathSuffix === stale)!.length)).toString('latin1');
    await h.create(
      `${ROOT_DIR}/proxy/${staleDir}/${stale}`,
      Buffer.from(
        staleText.replace(/length=(\d+)/, (_, n) => `length=${Number(n) + 1}`),
        'latin1',
      ),
    );
    const fresh = await retro('fresh', true, join(work, 'state-fresh'), 1, 2);
    expect(fresh.lines).toEqual(full.lines);
    expect(fresh.read.key_index_unusable).toBe(1);
  });
});
