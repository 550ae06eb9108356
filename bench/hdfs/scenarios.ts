/**
 * The HDFS scenarios of `npm run bench` (group `services`), against the WebHDFS of
 * SLUICE_BENCH_WEBHDFS (default http://127.0.0.1:9870; `npm run services:up` starts a mini-cluster):
 *
 * - `archive hdfs` / `archive hdfs-keys` / `archive file`: the same pipeline (file → proxy-log → gzip
 *   JSON lines, rejects to a local file) with the archive node writing to HDFS (`dt=` partitions, every
 *   file renamed when complete), to HDFS with sidecar key indexes (`key_index: true`, as
 *   proxy-archive.hdfs.yaml), or to one local `.jsonl.gz` file, interleaved in the same rounds.
 *   Reported as archived records/s (input lines less the broken ones ÷ wall time).
 * - `retro-sweep full` / `retro-sweep incremental`: pipelines/retro-sweep.hdfs.yaml over the same log,
 *   archived once in HDFS beforehand, against the bench feed kept in HDFS. The feed is split: 99% of
 *   it is committed as swept by a preparatory run (its key set copied into each measured run's state
 *   directory), the other 1% is "added since"; the incremental run sweeps only that 1%, the full run
 *   (`since_last_run: false`) everything. The archive is written by the shipped
 *   proxy-archive.hdfs.yaml, with key indexes: the full run reads, gunzips, parses and sweeps every
 *   record; the incremental run's source (the shipped pipeline's `prefilter`) reads each file's
 *   sidecar, fetches and gunzips only the blocks holding a token that may match a new indicator, and
 *   drops the lines of those that cannot before they are parsed.
 *
 * `prepareHdfs` does the set-up (uploads, the archive for the retro-sweep, the committed key set)
 * before the rounds; `hdfsSummary` turns the rows into the records/s lines of the report.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Hdfs } from '../../src/hdfs/webhdfs.js';
import { CLI, DATA_DIR, ROOT } from '../lib/paths.js';
import { sluiceRunArgs } from '../lib/sluice-args.js';
import type { Env, Input, Outputs, Scenario } from '../scenarios.js';

const BASE = '/sluice-bench';
const WORK = join(DATA_DIR, 'hdfs');
/**
 * The "added since the last run" part of the feed: one indicator in 100, and one in 10 of the
 * generator's hit pool (every 100th indicator, counting from 0), so that some of the added ones
 * occur in the traffic.
 */
const isAdded = (i: number) => i % 100 === 50 || i % 1000 === 0;

interface Prepared {
  url: string;
  /** The spec files of the archive variants. */
  specs: Record<ArchiveSink, string>;
  /** The committed key set of the retro-sweep (the feed less its new part). */
  baseState: string;
  /** Indicators in the added part. */
  newIndicators: number;
}

let prepared: Prepared | undefined;
let notReady = 'not prepared (bench/hdfs/scenarios.ts prepareHdfs)';

type ArchiveSink = 'hdfs' | 'hdfs-keys' | 'file';

function archiveSpec(sink: ArchiveSink, url: string): string {
  const archive =
    sink !== 'file'
      ? `    sink: hdfs
    with: { url: "${url}", user: sluice, path: "\${ARCHIVE}/dt=%Y-%m-%d/", gzip: true, roll_bytes: 134217728${sink === 'hdfs-keys' ? ', key_index: true' : ''} }`
      : `    sink: file
    with: { path: "\${ARCHIVE}", fsync: true }`;
  return `# Written by bench/hdfs/scenarios.ts: the archive pipeline, ${sink} variant.
version: 1
name: bench-archive-${sink}
settings:
  flush_interval: 5s
nodes:
  logs:
    source: file
    with: { paths: ["\${LOGS}"], batch_size: 2000 }
  parse:
    transform: proxy-log
    from: logs
    with: { format: squid }
  archive:
    from: parse
${archive}
  rejects:
    sink: file
    from: [logs.invalid, parse.invalid]
    with: { path: "\${REJECTS}" }
`;
}

function cli(args: string[], what: string): void {
  const r = spawnSync(process.execPath, [CLI, ...args, '--log-level', 'warn', '--no-progress'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
}

function retroArgs(url: string, tag: string, stateDir: string, incremental: boolean, dir: string, days = '*'): string[] {
  return [
    'run',
    join(ROOT, 'pipelines', 'retro-sweep.hdfs.yaml'),
    '--once',
    '--state-dir',
    stateDir,
    '--var',
    `WEBHDFS=${url}`,
    '--var',
    `ARCHIVE=${BASE}/retro/proxy`,
    '--var',
    `DAYS=${days}`,
    '--var',
    `FEEDS=hdfs://${BASE}/retro/feeds/`,
    '--var',
    `ALERTS=${BASE}/out/${tag}`,
    '--var',
    `REJECTS=${BASE}/out/${tag}-rejects`,
    '--var',
    `INCREMENTAL=${incremental}`,
    '--var',
    'FLUSH=5s',
    '--summary-json',
    join(dir, 'summary.json'),
  ];
}

/**
 * Set up what the HDFS scenarios need, once, before the rounds: returns why they cannot run, or
 * undefined. Clears `/sluice-bench` on the cluster first.
 */
export async function prepareHdfs(env: Env, input: Input, log: (m: string) => void): Promise<string | undefined> {
  const url = env.services.hdfs;
  if (url === undefined) return (notReady = 'no WebHDFS reachable (npm run services:up, or set SLUICE_BENCH_WEBHDFS=http://host:port)');
  const plugins = env.plugins;
  if (typeof plugins === 'string') return (notReady = plugins);
  const missing = ['hdfs', 'file', 'proxy-log', 'ioc-sweep'].filter((p) => !plugins.has(p));
  if (missing.length) return (notReady = `plugins ${missing.join(', ')} not registered`);
  try {
    const t0 = performance.now();
    const h = new Hdfs({ url, user: 'sluice', timeout_ms: 30000 });
    await h.delete(BASE, true);
    await h.mkdirs(`${BASE}/retro/feeds`);
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    const specs = { hdfs: join(WORK, 'archive-hdfs.yaml'), 'hdfs-keys': join(WORK, 'archive-hdfs-keys.yaml'), file: join(WORK, 'archive-file.yaml') };
    for (const k of ['hdfs', 'hdfs-keys', 'file'] as const) writeFileSync(specs[k], archiveSpec(k, url));
    // The archive the retro-sweep reads: the log archived once by the shipped pipeline.
    const logs = env.logs(input).path;
    cli(
      [
        'run',
        join(ROOT, 'pipelines', 'proxy-archive.hdfs.yaml'),
        '--state-dir',
        join(WORK, 'state-archive'),
        '--var',
        `LOGS=${logs}`,
        '--var',
        'FORMAT=squid',
        '--var',
        `WEBHDFS=${url}`,
        '--var',
        `ARCHIVE=${BASE}/retro/proxy`,
        '--var',
        `REJECTS=${BASE}/retro/rejects`,
        '--var',
        'FLUSH=5s',
      ],
      'archiving the log for the retro-sweep',
    );
    // The feed in HDFS, in two parts: what the last run knew, and what was added since.
    const lines = readFileSync(env.feed.path, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0 && !l.startsWith('#'));
    const known = lines.filter((_, i) => !isAdded(i));
    const added = lines.filter((_, i) => isAdded(i));
    // In files of at most 200,000 indicators: one WebHDFS create of a whole 1M-indicator feed (22 MB)
    // is cut off by the mini cluster ("socket hang up"); a feed directory of several files reads the same.
    for (let i = 0, part = 0; i < known.length; i += 200_000, part++) {
      await h.create(`${BASE}/retro/feeds/a-known-${String(part).padStart(2, '0')}.txt`, Buffer.from(`${known.slice(i, i + 200_000).join('\n')}\n`));
    }
    // A run over no partition commits the known part as swept.
    const baseState = join(WORK, 'state-retro-base');
    mkdirSync(join(WORK, 'prep'), { recursive: true });
    cli(retroArgs(url, 'prep', baseState, true, join(WORK, 'prep'), '1970-01-01'), 'committing the known indicators');
    await h.create(`${BASE}/retro/feeds/b-added.txt`, Buffer.from(`${added.join('\n')}\n`));
    prepared = { url, specs, baseState, newIndicators: added.length };
    log(
      `  hdfs: archived ${input.lines.toLocaleString('en-US')} lines for the retro-sweep, feed split ${known.length.toLocaleString('en-US')} known + ${added.length.toLocaleString('en-US')} added, in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    return undefined;
  } catch (e) {
    return (notReady = `HDFS set-up failed: ${(e as Error).message.split('\n')[0]}`);
  }
}

const skip = () => (prepared ? undefined : notReady);

export function archive(input: Input, sink: ArchiveSink): Scenario {
  return {
    id: `archive ${sink}`,
    title: `sluice archive: file → proxy-log → gzip JSON lines ${sink === 'file' ? 'in a local file' : sink === 'hdfs' ? 'in HDFS (WebHDFS)' : 'in HDFS with key indexes'}`,
    group: 'services',
    input,
    skip,
    args: (env, out) => {
      const dir = join(out.alerts, '..');
      const run = dir.slice(dir.lastIndexOf('run-'));
      const target = sink !== 'file' ? `${BASE}/out/archive-${sink}-${run}` : join(dir, 'archive.jsonl.gz');
      return sluiceRunArgs(prepared!.specs[sink], dir, { LOGS: env.logs(input).path, ARCHIVE: target, REJECTS: out.rejects });
    },
    expect: (env) => ({ rejects: env.logs(input).stats.invalid }),
  };
}

export function retro(input: Input, incremental: boolean): Scenario {
  const tag = incremental ? 'incremental' : 'full';
  return {
    id: `retro-sweep ${tag}`,
    title: `pipelines/retro-sweep.hdfs.yaml, ${incremental ? 'only the indicators added since the last run' : 'every indicator'} (HDFS archive → ioc-sweep → HDFS alerts)`,
    group: 'services',
    input,
    skip,
    args: (_env, out) => {
      const dir = join(out.alerts, '..');
      const run = dir.slice(dir.lastIndexOf('run-'));
      const state = join(dir, 'state');
      rmSync(state, { recursive: true, force: true });
      // Each incremental run starts from the same committed key set (a run commits its own).
      if (incremental) cpSync(prepared!.baseState, state, { recursive: true });
      return [CLI, ...retroArgs(prepared!.url, `retro-${tag}-${run}`, state, incremental, dir), '--log-level', 'warn', '--no-progress'];
    },
  };
}

export function hdfsScenarios(input: Input): Scenario[] {
  return [archive(input, 'hdfs'), archive(input, 'hdfs-keys'), archive(input, 'file'), retro(input, false), retro(input, true)];
}

interface RunLike {
  ok: boolean;
  wallMs: number;
  out: Outputs;
}

function summaryOf(out: Outputs): any {
  const f = join(out.alerts, '..', 'summary.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined;
}

const med = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};
const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The report's lines for the HDFS scenarios: archived records/s HDFS vs file, incremental vs full retro-sweep. */
export function hdfsSummary(rows: { s: Scenario; runs: RunLike[]; skip?: string; failure?: string }[]): string | undefined {
  const get = (id: string) => rows.find((r) => r.s.id === id && !r.skip && !r.failure && r.runs.some((x) => x.ok));
  const node = (s: any, name: string) => s?.nodes?.find((n: { node: string }) => n.node === name);
  const lines: string[] = [];
  const a = { hdfs: get('archive hdfs'), keys: get('archive hdfs-keys'), file: get('archive file') };
  if (a.hdfs && a.file) {
    const rate = (r: NonNullable<typeof a.hdfs>) =>
      med(r.runs.filter((x) => x.ok).map((x) => (node(summaryOf(x.out), 'archive')?.in ?? 0) / (x.wallMs / 1000)));
    const h = rate(a.hdfs);
    const f = rate(a.file);
    const recs = node(summaryOf(a.hdfs.runs[0]!.out), 'archive')?.in ?? 0;
    lines.push(
      `Archive (${int(recs)} records as gzip JSON lines, same pipeline, same rounds): **HDFS ${int(h)} records/s**, local file ${int(f)} records/s (HDFS ÷ file ${(h / f).toFixed(2)}×)` +
        (a.keys ? `; HDFS with key indexes ${int(rate(a.keys))} records/s (${(rate(a.keys) / h).toFixed(2)}× plain HDFS).` : '.'),
    );
  }
  const r = { full: get('retro-sweep full'), inc: get('retro-sweep incremental') };
  if (r.full && r.inc) {
    const wall = (x: NonNullable<typeof r.full>) => med(x.runs.filter((y) => y.ok).map((y) => y.wallMs));
    const s = { full: summaryOf(r.full.runs[0]!.out), inc: summaryOf(r.inc.runs[0]!.out) };
    const sw = { full: node(s.full, 'sweep'), inc: node(s.inc, 'sweep') };
    const rd = node(s.inc, 'archive')?.metrics;
    const recs = node(s.full, 'records')?.in ?? 0;
    const wf = wall(r.full);
    const wi = wall(r.inc);
    lines.push(
      `Retro-sweep over ${int(recs)} archived records: full ${(wf / 1000).toFixed(2)} s (${int(recs / (wf / 1000))} records/s, ${int(sw.full?.metrics?.indicators_loaded ?? 0)} indicators, ${int(sw.full?.metrics?.alerts ?? 0)} alerts); ` +
        `**incremental ${(wi / 1000).toFixed(2)} s** (${int(recs / (wi / 1000))} records/s, ${int(sw.inc?.metrics?.indicators_swept ?? 0)} new indicators swept, ${int(sw.inc?.metrics?.indicators_known ?? 0)} known skipped, ${int(node(s.inc, 'records')?.in ?? 0)} records parsed after the pre-filter, ${int(rd?.lines_unread ?? 0)} lines left unread by the key indexes, ${int(rd?.files_skipped ?? 0)} of ${int(rd?.files ?? 0)} files skipped, ${int(sw.inc?.metrics?.alerts ?? 0)} alerts): ${(wi / wf).toFixed(2)} of the full run's time.`,
    );
  }
  return lines.length ? lines.join('\n\n') : undefined;
}
