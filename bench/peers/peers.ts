/**
 * `npm run bench -- --peers`: sluice's default sweep beside the engines a team would pick instead —
 * Spark (batch, and Structured Streaming over a directory) and Benthos — on the same generated log
 * and feed, in the same run, in rounds. Before a ratio is printed, each peer's alerts and rejects
 * are compared with sluice's from the same round (agree.ts); a peer that disagrees is reported
 * loudly and its ratios are marked invalid.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LogFile } from '../generate/files.js';
import type { Measured } from '../lib/measure.js';
import { DATA_DIR, ROOT } from '../lib/paths.js';
import { readSection, writeSection } from '../lib/results.js';
import type { Env, Input, Outputs, Scenario } from '../scenarios.js';
import { agree, readJsonLines, type Agreement } from './agree.js';

const HERE = join(ROOT, 'bench', 'peers');
export const PEERS_CACHE = process.env.SLUICE_PEERS_CACHE ?? join(ROOT, 'bench', '.peers-cache');

interface Installed {
  ok: boolean;
  reason?: string;
  python?: string;
  bin?: string;
  /** Spark's Kafka connector: comma-separated jar files for `spark.jars`. */
  jars?: string;
  installSeconds?: number;
  cached?: boolean;
}
export interface PeerStatus {
  spark: Installed;
  /** The Kafka connector of Spark (only `--kafka` uses it). */
  sparkKafka: Installed;
  benthos: Installed;
  installWallS: number;
}

/** Run install.sh (it keeps what is already installed) and read what it could install. */
export function installPeers(log: (s: string) => void): PeerStatus {
  const t = performance.now();
  log('  peers: installing / checking (bench/peers/install.sh) ...');
  const r = spawnSync('/bin/sh', [join(HERE, 'install.sh')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: { ...process.env, SLUICE_PEERS_CACHE: PEERS_CACHE },
  });
  const installWallS = (performance.now() - t) / 1000;
  const statusFile = join(PEERS_CACHE, 'status.json');
  if (r.status !== 0 || !existsSync(statusFile)) {
    const reason = `bench/peers/install.sh failed (exit ${r.status ?? r.signal})`;
    return { spark: { ok: false, reason }, sparkKafka: { ok: false, reason }, benthos: { ok: false, reason }, installWallS };
  }
  const s = JSON.parse(readFileSync(statusFile, 'utf8')) as { spark: Installed; sparkKafka?: Installed; benthos: Installed };
  if (!s.spark.ok) log(`  peers: SKIPPING Spark (batch and streaming): ${s.spark.reason}`);
  if (!s.benthos.ok) log(`  peers: SKIPPING Benthos: ${s.benthos.reason}`);
  return { ...s, sparkKafka: s.sparkKafka ?? { ok: false, reason: 'install.sh did not report it' }, installWallS };
}

/**
 * The log cut into files of `perFile` lines in a directory of their own (reused when there): the
 * input of the Structured Streaming peer, which reads a directory as a stream of files.
 */
export function ensureStreamDir(logFile: LogFile, perFile: number): string {
  const dir = join(DATA_DIR, `stream-${basename(logFile.path).replace(/\.[^.]+$/, '')}-per${perFile}`);
  const done = join(dir, '.complete');
  if (existsSync(done)) return dir;
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const buf = readFileSync(logFile.path);
  let start = 0;
  let n = 0;
  for (let part = 0; start < buf.length; part++) {
    let end = start;
    for (let k = 0; k < perFile && end < buf.length; k++) {
      const nl = buf.indexOf(10, end);
      end = nl === -1 ? buf.length : nl + 1;
      n++;
    }
    const fd = openSync(join(tmp, `chunk-${String(part).padStart(5, '0')}.log`), 'w');
    writeSync(fd, buf, start, end - start);
    closeSync(fd);
    start = end;
  }
  writeFileSync(join(tmp, '.complete'), `${n}\n`);
  renameSync(tmp, dir);
  return dir;
}

export interface PeerEnv {
  status: PeerStatus;
  streamDir: (input: Input) => string;
}

/** Outputs of a peer that writes directories of part files (Spark) instead of one file. */
export function dirOutputs(dir: string): Outputs {
  return { alerts: join(dir, 'alerts'), rejects: join(dir, 'rejects') };
}

/** Records in an output: lines of a file, or of a directory's `part-*` files. */
export function countRecords(path: string): number {
  if (!existsSync(path)) return 0;
  if (!statSync(path).isDirectory()) {
    const buf = readFileSync(path);
    let n = 0;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
    return buf.length && buf[buf.length - 1] !== 10 ? n + 1 : n;
  }
  return readJsonLines(path).length;
}

export interface PeerScenario extends Scenario {
  /** A command that is not a Node script, measured over its process tree. */
  command(env: Env, out: Outputs): { command: string; args: string[]; env?: Record<string, string> };
  /** Outputs are directories of part files. */
  dirs?: boolean;
  peerKind: 'spark' | 'benthos';
}

const notInstalled = (i: Installed | undefined, what: string) => (i === undefined ? `${what}: peers not installed` : i.ok ? undefined : `${what}: ${i.reason}`);

export function sparkBatch(input: Input, peers: PeerEnv): PeerScenario {
  return {
    id: 'peer spark batch',
    title: 'Spark batch (pyspark, local[*]): read.text → regex → broadcast join → JSON',
    group: 'sweep',
    input,
    watch: 'alerts',
    dirs: true,
    peerKind: 'spark',
    skip: () => notInstalled(peers.status.spark, 'Spark'),
    args: () => [],
    command: (env, out) => ({
      command: peers.status.spark.python!,
      args: [join(HERE, 'spark', 'sweep.py'), '--logs', env.logs(input).path, '--feed', env.feed.path, '--alerts', out.alerts, '--rejects', out.rejects],
    }),
    expect: (env) => ({ alerts: env.logs(input).stats.malicious, rejects: env.logs(input).stats.invalid }),
  };
}

export function sparkStream(input: Input, peers: PeerEnv): PeerScenario {
  return {
    id: 'peer spark streaming',
    title: 'Spark Structured Streaming (pyspark, local[*]): readStream.text(dir) → foreachBatch sweep → JSON',
    group: 'sweep',
    input,
    watch: 'alerts',
    dirs: true,
    peerKind: 'spark',
    skip: () => notInstalled(peers.status.spark, 'Spark'),
    args: () => [],
    command: (env, out) => {
      const run = dirname(out.alerts);
      rmSync(join(run, 'checkpoint'), { recursive: true, force: true });
      return {
        command: peers.status.spark.python!,
        args: [
          join(HERE, 'spark', 'stream.py'),
          '--logs-dir',
          peers.streamDir(input),
          '--feed',
          env.feed.path,
          '--alerts',
          out.alerts,
          '--rejects',
          out.rejects,
          '--checkpoint',
          join(run, 'checkpoint'),
        ],
      };
    },
    expect: (env) => ({ alerts: env.logs(input).stats.malicious, rejects: env.logs(input).stats.invalid }),
  };
}

export function benthos(input: Input, peers: PeerEnv): PeerScenario {
  return {
    id: 'peer benthos',
    title: 'Benthos v4 (Go, pure + io): file → bloblang → ioc_sweep processor → file',
    group: 'sweep',
    input,
    watch: 'alerts',
    peerKind: 'benthos',
    skip: () => notInstalled(peers.status.benthos, 'Benthos'),
    args: () => [],
    command: (env, out) => ({
      command: peers.status.benthos.bin!,
      args: ['run', join(HERE, 'benthos', 'sweep.yaml')],
      env: { LOGS: env.logs(input).path, FEED: env.feed.path, ALERTS: out.alerts, REJECTS: out.rejects },
    }),
    expect: (env) => ({ alerts: env.logs(input).stats.malicious, rejects: env.logs(input).stats.invalid }),
  };
}

export const isPeer = (s: Scenario): s is PeerScenario => typeof (s as Partial<PeerScenario>).command === 'function';

// ------------------------------------------------------------------------------------ the table

export interface PeerRun extends Measured {
  alerts: number;
  rejects: number;
  out: Outputs;
  agreement?: Agreement;
}
export interface PeerRow {
  s: Scenario;
  runs: PeerRun[];
  skip?: string;
  failure?: string;
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMiB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** Compare every peer run with the sluice run of the same round. */
export function checkAgreement(rows: PeerRow[], sluiceId: string, logPath: string): void {
  const ref = rows.find((r) => r.s.id === sluiceId);
  if (!ref) return;
  for (const r of rows) {
    if (!isPeer(r.s)) continue;
    r.runs.forEach((run, i) => {
      const s = ref.runs[i] ?? ref.runs[0];
      if (!s?.ok || !run.ok) return;
      run.agreement = agree(logPath, s.out, run.out);
    });
  }
}

export interface PeerTable {
  text: string[][];
  head: string[];
  verdict: string[];
  markdown: string;
}

/**
 * One row per system: lines/s, CPU seconds per million lines, CPU/wall, peak RSS, time to first
 * alert, and how many times sluice's default sweep is faster / lighter (median of each, plus the
 * ratio of wall times within each round), and the agreement with sluice.
 */
export function peerTable(rows: PeerRow[], sluiceIds: string[], lines: number, indicators: number): PeerTable {
  const head = [
    'system',
    'wall',
    'lines/s',
    'CPU s/M lines',
    'CPU/wall',
    'peak RSS',
    '1st alert',
    'alerts',
    'rejects',
    ...sluiceIds.map((id) => `${id} × (lines/s; rounds)`),
    'RSS ÷ sluice',
    'same alerts/rejects as sluice',
  ];
  const stat = (r: PeerRow) => {
    const ok = r.runs.filter((x) => x.ok);
    if (!ok.length) return undefined;
    const wall = median(ok.map((x) => x.wallMs));
    return {
      wall,
      lps: median(ok.map((x) => lines / (x.wallMs / 1000))),
      cpuPerM: median(ok.map((x) => x.cpuMs / 1000 / (lines / 1e6))),
      cpuWall: median(ok.map((x) => x.cpuMs / x.wallMs)),
      rss: Math.max(...ok.map((x) => x.peakRss)),
      first: ok.some((x) => x.firstOutputMs !== undefined) ? median(ok.filter((x) => x.firstOutputMs !== undefined).map((x) => x.firstOutputMs!)) : undefined,
      alerts: median(ok.map((x) => x.alerts)),
      rejects: median(ok.map((x) => x.rejects)),
    };
  };
  const text: string[][] = [];
  const verdict: string[] = [];
  const refs = sluiceIds.map((id) => rows.find((r) => r.s.id === id));
  const primary = refs[0] ? stat(refs[0]) : undefined;
  for (const r of rows) {
    // the fixed-cost rows (an empty log: start-up and feed load alone) are for the verdict's per-line figures
    if (r.s.input.lines !== lines) continue;
    if (r.skip) {
      text.push([r.s.id, '', 'skipped', '', '', '', '', '', '', ...sluiceIds.map(() => ''), '', r.skip]);
      continue;
    }
    const st = stat(r);
    if (!st) {
      text.push([r.s.id, '', 'failed', '', '', '', '', '', '', ...sluiceIds.map(() => ''), '', r.failure ?? '']);
      continue;
    }
    const agreements = r.runs.map((x) => x.agreement).filter((a): a is Agreement => a !== undefined);
    const agreed = !isPeer(r.s)
      ? ''
      : agreements.length === 0
        ? 'not checked'
        : agreements.every((a) => a.ok)
          ? `yes (${agreements.length}/${agreements.length} rounds)`
          : `**NO** (${agreements.filter((a) => !a.ok).length}/${agreements.length} rounds differ)`;
    const invalid = isPeer(r.s) && !agreements.every((a) => a.ok);
    const ratios = refs.map((ref) => {
      if (!ref || ref === r || !isPeer(r.s)) return '';
      const rs = stat(ref);
      if (!rs) return '';
      const rounds = r.runs.map((x, i) => (x.ok && ref.runs[i]?.ok ? x.wallMs / ref.runs[i]!.wallMs : NaN)).filter(Number.isFinite);
      const v = `${(rs.lps / st.lps).toFixed(2)}×${rounds.length > 1 ? ` (${rounds.map((x) => `${x.toFixed(2)}×`).join(', ')})` : ''}`;
      return invalid ? `${v} INVALID` : v;
    });
    const rssRatio = isPeer(r.s) && primary ? `${(st.rss / primary.rss).toFixed(2)}×` : '';
    text.push([
      r.s.id,
      `${(st.wall / 1000).toFixed(2)} s`,
      fmtInt(st.lps),
      st.cpuPerM.toFixed(2),
      st.cpuWall.toFixed(2),
      fmtMiB(st.rss),
      st.first !== undefined ? `${(st.first / 1000).toFixed(2)} s` : '',
      fmtInt(st.alerts),
      fmtInt(st.rejects),
      ...ratios,
      rssRatio,
      agreed,
    ]);
    if (isPeer(r.s)) {
      for (const [i, a] of agreements.entries()) {
        if (a.ok) continue;
        verdict.push(
          `**MISMATCH ${r.s.id} (round ${i + 1})**: sluice ${a.sluice.alerts} alerts / ${a.sluice.rejects} rejects, peer ${a.peer.alerts} / ${a.peer.rejects}; alerts only in sluice ${a.missingAlerts}, only in the peer ${a.extraAlerts}; rejects only in sluice ${a.missingRejects}, only in the peer ${a.extraRejects}. Ratios for it are INVALID.${a.examples.length ? `\n${a.examples.map((e) => `  - ${e}`).join('\n')}` : ''}`,
        );
      }
      if (primary && !invalid)
        verdict.push(
          `${r.s.id}: sluice's default sweep is ${(primary.lps / st.lps).toFixed(2)}× its lines/s, uses ${(primary.cpuPerM / st.cpuPerM).toFixed(2)}× its CPU per line and ${(primary.rss / st.rss).toFixed(2)}× its peak RSS; same alerts and rejects in every round.`,
        );
    }
  }
  const md = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...text.map((b) => `| ${b.map((c) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`),
  ].join('\n');
  const intro = `${fmtInt(lines)} squid lines × ${fmtInt(indicators)} indicators.`;
  return { text, head, verdict, markdown: `${intro}\n\n${verdict.map((v) => `- ${v}`).join('\n')}\n\n${md}` };
}

/** Put `section` (starting `## Peers`) into a RESULTS file, replacing the one there or before the notes. */
export const writePeersSection = (file: string, section: string): void => writeSection(file, '## Peers', section);

/** The `## Peers` section of a RESULTS file, if it has one (kept when a full run rewrites the file). */
export const peersSection = (file: string): string | undefined => readSection(file, '## Peers');

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
