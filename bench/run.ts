/**
 * `npm run bench [-- --quick] [--runs N] [--lines N] [--indicators M] [--only a,b] [--profile]`
 *
 * Generates (or reuses) deterministic data, runs every scenario in fresh child processes — rounds
 * interleave the scenarios so that load from other processes spreads evenly — and prints lines/s,
 * MB/s, peak RSS, time to first alert, the spread across runs and ratios to the naive reference and
 * the tokenize-only ceiling measured in the same run. Writes bench/RESULTS.md (full runs) or
 * bench/data/RESULTS-quick.md (--quick), with the machine's description.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { HIT_POOL_SIZE } from './generate/feed.js';
import { ensureFeed, ensureLog, type LogFile } from './generate/files.js';
import { LOG_FORMATS } from './generate/logs.js';
import { CLI, DATA_DIR, DIST_BENCH, ROOT } from './lib/paths.js';
import { describeMachine, type Machine } from './lib/machine.js';
import { measure, type Measured } from './lib/measure.js';
import { selfTimes } from './lib/profile.js';
import * as S from './scenarios.js';
import * as H from './hdfs/scenarios.js';
import * as P from './peers/peers.js';
import { measureTree } from './peers/measure.js';
import { kafkaSection, runKafkaBench, writeKafkaSection } from './kafka/run.js';
import { sparkKafkaPeer } from './kafka/spark.js';

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    lines: { type: 'string' },
    'parse-lines': { type: 'string' },
    indicators: { type: 'string' },
    seed: { type: 'string', default: '42' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-micro': { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    // Spark (batch, streaming) and Benthos beside sluice's default sweep: bench/peers/
    peers: { type: 'boolean', default: false },
    // the sweep on the local broker: throughput beside Kafka's Java consumer, detection latency (bench/kafka/)
    kafka: { type: 'boolean', default: false },
    rate: { type: 'string', default: '20000' },
    'latency-seconds': { type: 'string', default: '60' },
    'no-latency': { type: 'boolean', default: false },
    'no-throughput': { type: 'boolean', default: false },
    'kafka-workers': { type: 'string', default: 'auto' },
    'kafka-also-workers': { type: 'string', default: '1' },
    'latency-workers': { type: 'string', default: '1' },
    // with --kafka --peers: the triggers of Spark Structured Streaming's latency runs (default, processing-time:MS)
    'spark-triggers': { type: 'string', default: 'default' },
  },
});

const quick = argv.quick!;
const peersMode = argv.peers!;
const kafkaMode = argv.kafka!;
const seed = Number(argv.seed);
const runs = Number(argv.runs ?? (quick ? 1 : 3));
/** An empty squid log: what start-up and feed loading cost alone. */
const EMPTY_INPUT: S.Input = { format: 'squid', lines: 0 };
const sweepLines = Number(argv.lines ?? (quick ? 200_000 : peersMode || kafkaMode ? 1_000_000 : 5_000_000));
const parseLines = Number(argv['parse-lines'] ?? (quick ? 100_000 : 1_000_000));
const indicators = Number(argv.indicators ?? (quick ? 100_000 : 1_000_000));
const OUT_DIR = join(DATA_DIR, 'out');

/** Where a scenario's runs write (`prime/`, `run-N/`; a `keepState` scenario's `state/` too: scenarios.ts). */
const scenarioDir = (s: S.Scenario): string => join(OUT_DIR, s.id.replace(/[^\w.-]+/g, '_'));

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMiB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function probe(hostPort: string, timeoutMs = 700): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((res) => {
    const s = createConnection({ host, port: Number(port) });
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function registeredPlugins(): Promise<Set<string> | string> {
  if (!existsSync(CLI)) return 'the sluice CLI is not built yet (dist/src/cli/main.js missing; run `npm run build`)';
  const index = join(ROOT, 'dist', 'plugins', 'index.js');
  if (!existsSync(index)) return 'dist/plugins/index.js missing (run `npm run build`)';
  try {
    const mod = (await import(pathToFileURL(index).href)) as { builtinPlugins?: { name: string }[] };
    return new Set((mod.builtinPlugins ?? []).map((p) => p.name));
  } catch (e) {
    return `cannot load the built-in plugins: ${(e as Error).message.split('\n')[0]}`;
  }
}

interface Row {
  s: S.Scenario;
  runs: (Measured & { alerts: number; rejects: number; out: S.Outputs })[];
  skip?: string;
  failure?: string;
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};

async function main(): Promise<void> {
  const t0 = performance.now();
  const machine = describeMachine();
  if (kafkaMode) return runKafka(machine, t0);
  log(
    `sluice bench — ${peersMode ? 'peers' : quick ? 'quick' : 'full'}: ${runs} run(s) per scenario; sweep ${fmtInt(sweepLines)} lines × ${fmtInt(indicators)} indicators; ${peersMode ? '' : `parse ${fmtInt(parseLines)} lines per format; `}seed ${seed}`,
  );
  log(`${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB, Node ${machine.node}, load ${machine.load}`);

  // Data.
  const logs = new Map<string, LogFile>();
  const logFor = (i: S.Input) => {
    const k = `${i.format}:${i.lines}`;
    let f = logs.get(k);
    if (!f) {
      const t = performance.now();
      f = ensureLog(i.format, seed, i.lines);
      const dt = performance.now() - t;
      if (dt > 500) log(`  generated ${f.path} (${fmtMiB(f.bytes)}) in ${(dt / 1000).toFixed(1)} s`);
      logs.set(k, f);
    }
    return f;
  };
  const tf = performance.now();
  const feed = ensureFeed(seed, indicators);
  if (performance.now() - tf > 500) log(`  generated ${feed.path} in ${((performance.now() - tf) / 1000).toFixed(1)} s`);

  const sweepInput: S.Input = { format: 'squid', lines: sweepLines };
  const parseInputs = LOG_FORMATS.map((format): S.Input => ({ format, lines: parseLines }));
  const analyseInput: S.Input = { format: 'squid', lines: parseLines };
  // the fixed costs: sluice's start-up and feed load, and the ceiling's start-up (per-line figures in the verdict)
  // and, for the bound on the cold run's per-CPU figure, start-up alone and the floor of any feed loader
  const fixedCosts = [
    S.ceiling(EMPTY_INPUT),
    S.startup(EMPTY_INPUT),
    S.startup(EMPTY_INPUT, 'feed snapshot'),
    S.startup(EMPTY_INPUT, 'small feed'),
    S.feedFloor(EMPTY_INPUT),
  ];
  let scenarios: S.Scenario[] = [
    S.ceiling(sweepInput),
    S.naive(sweepInput),
    ...fixedCosts,
    // The spec as a user writes it (no `settings:`: the runtime decides the workers), and beside it
    // the same on the main thread only (`--workers 1`): what the parallel runtime adds on this machine.
    // Each run loads the feed from its file; the `feed snapshot` variant runs where an earlier run
    // left the feed's snapshot (a scheduled sweep, a restart).
    S.sweep(sweepInput),
    S.sweep(sweepInput, 'squid', undefined, true),
    S.sweep(sweepInput, 'squid', '1'),
    ...parseInputs.flatMap((i) => [
      ...(i.format === 'squid' && i.lines === sweepLines ? [] : [S.ceiling(i)]),
      ...(i.format === 'squid' ? [S.naiveParse(i)] : []),
      S.parse(i),
    ]),
    // The sweep over the other formats, one thread: mostly a check that every format's records are matched alike.
    ...parseInputs.filter((i) => i.format !== 'squid').map((i) => S.sweep(i, i.format, '1')),
    S.window(analyseInput),
    S.rules(analyseInput),
    S.defaultPipeline(analyseInput),
    S.defaultPipeline(analyseInput, '1'),
    S.kafkaSweep(sweepInput),
    // archive to HDFS beside a local file; the retro-sweep incremental beside full (bench/hdfs/)
    ...H.hdfsScenarios(analyseInput),
  ];
  let peerEnv: P.PeerEnv | undefined;
  if (peersMode) {
    // sluice's default sweep (and with a worker per core) beside the peers, with the references
    const status = P.installPeers(log);
    peerEnv = { status, streamDir: (i) => P.ensureStreamDir(logFor(i), Math.max(1, Math.ceil(i.lines / 10))) };
    scenarios = [
      S.ceiling(sweepInput),
      S.naive(sweepInput),
      ...fixedCosts,
      S.sweep(sweepInput),
      S.sweep(sweepInput, 'squid', undefined, true),
      S.sweep(sweepInput, 'squid', '1'),
      P.sparkBatch(sweepInput, peerEnv),
      P.sparkStream(sweepInput, peerEnv),
      P.benthos(sweepInput, peerEnv),
    ];
  }
  if (argv.only) {
    const want = argv.only
      .split(',')
      .map((w) => w.trim())
      .filter(Boolean);
    const picked = scenarios.filter((s) => want.some((w) => s.id.includes(w)));
    // Keep the references the picked scenarios are compared with.
    const refs = new Set(picked.flatMap((s) => [S.ceilingId(s.input), s.naive ?? '']));
    scenarios = scenarios.filter((s) => picked.includes(s) || refs.has(s.id));
  }

  const env: S.Env = {
    quick,
    logs: logFor,
    feed,
    smallFeed: ensureFeed(seed, HIT_POOL_SIZE),
    plugins: await registeredPlugins(),
    services: {},
  };
  const kafka = process.env.SLUICE_BENCH_KAFKA ?? 'localhost:9092';
  const hdfs = process.env.SLUICE_BENCH_WEBHDFS ?? 'http://localhost:9870';
  if (await probe(kafka)) env.services.kafka = kafka;
  if (await probe(new URL(hdfs).host)) env.services.hdfs = hdfs;
  if (scenarios.some((s) => s.group === 'services' && (s.id.startsWith('archive ') || s.id.startsWith('retro-sweep '))))
    await H.prepareHdfs(env, analyseInput, log);

  const rows: Row[] = scenarios.map((s) => ({ s, runs: [], skip: s.skip?.(env) }));
  for (const r of rows) if (!r.skip) logFor(r.s.input);
  for (const r of rows) if (!r.skip && r.s.id === 'peer spark streaming') peerEnv!.streamDir(r.s.input);
  for (const r of rows) if (r.skip) log(`  skip ${r.s.id}: ${r.skip}`);

  rmSync(OUT_DIR, { recursive: true, force: true });
  // Scenarios that keep their state between rounds: one untimed run first, which leaves it.
  for (const r of rows) {
    if (r.skip || !r.s.keepState) continue;
    const dir = join(scenarioDir(r.s), 'prime');
    mkdirSync(dir, { recursive: true });
    const out: S.Outputs = { alerts: join(dir, 'alerts.jsonl'), rejects: join(dir, 'rejects.jsonl') };
    const m = await measure({ args: r.s.args(env, out), cwd: ROOT, stderrFile: join(dir, 'stderr.log'), timeoutMs: 1_800_000 });
    log(`  [prime] ${r.s.id.padEnd(28)} ${(m.wallMs / 1000).toFixed(2).padStart(7)} s  (untimed: leaves the state the rounds start from)`);
    if (!m.ok) r.failure = `the untimed first run failed, exit ${m.exitCode ?? m.signal}: ${lastLines(m.stderrTail, 3)}`;
  }
  for (let round = 1; round <= runs; round++) {
    for (const r of rows) {
      if (r.skip || r.failure) continue;
      const dir = join(scenarioDir(r.s), `run-${round}`);
      mkdirSync(dir, { recursive: true });
      const peer = P.isPeer(r.s) ? r.s : undefined;
      const out: S.Outputs = peer?.dirs ? P.dirOutputs(dir) : { alerts: join(dir, 'alerts.jsonl'), rejects: join(dir, 'rejects.jsonl') };
      const common = { cwd: ROOT, watch: r.s.watch ? out[r.s.watch] : undefined, stderrFile: join(dir, 'stderr.log'), timeoutMs: quick ? 600_000 : 1_800_000 };
      const m = peer ? await measureTree({ ...peer.command(env, out), ...common }) : await measure({ args: r.s.args(env, out), ...common });
      const res = { ...m, alerts: P.countRecords(out.alerts), rejects: P.countRecords(out.rejects), out };
      r.runs.push(res);
      // an empty log (the fixed-cost rows) has no rate: its CPU is what it measures
      const rate = r.s.input.lines
        ? `${fmtInt(r.s.input.lines / (m.wallMs / 1000)).padStart(10)} lines/s`
        : `${(m.cpuMs / 1000).toFixed(2).padStart(10)} CPU s  `;
      log(
        `  [${round}/${runs}] ${r.s.id.padEnd(28)} ${(m.wallMs / 1000).toFixed(2).padStart(7)} s  ${rate}  ${fmtMiB(m.peakRss).padStart(9)}${m.ok ? '' : `  FAILED (exit ${m.exitCode ?? m.signal})`}`,
      );
      if (!m.ok) {
        r.failure = `exit ${m.exitCode ?? m.signal}: ${lastLines(m.stderrTail, 3)}`;
        log(`      ${r.failure}`);
      }
    }
    // a long peers run keeps what it has: the section is written after every round, the last one final
    if (peersMode && round < runs) reportPeers(rows, env, machine, peerEnv!, t0, `after round ${round} of ${runs}`);
  }

  if (peersMode) {
    reportPeers(rows, env, machine, peerEnv!, t0);
    return;
  }
  let profile: string | undefined;
  if (argv.profile) profile = await runProfile(env, sweepInput);
  const micro = argv['no-micro'] || quick ? undefined : await runMicro();

  const { table, markdown, verdict: v } = render(rows, env);
  const hdfsLines = H.hdfsSummary(rows);
  const verdict = hdfsLines ? `${v}\n\n${hdfsLines}` : v;
  console.log(table);
  console.log(verdict);
  for (const r of rows) if (r.skip) console.log(`skipped ${r.s.id}: ${r.skip}`);
  for (const r of rows) if (r.failure) console.log(`FAILED ${r.s.id}: ${r.failure}`);
  const wrong = rows.filter((r) => !r.failure && !r.skip && !['ok', '—', ''].includes(check(r, env)));
  for (const r of wrong) console.log(`CHECK FAILED ${r.s.id}: ${check(r, env)} (outputs under ${scenarioDir(r.s)})`);
  if (argv.strict && wrong.length) process.exitCode = 1;
  const elapsed = (performance.now() - t0) / 1000;
  log(`done in ${elapsed.toFixed(0)} s`);
  if (!argv['no-write']) {
    const file = quick ? join(DATA_DIR, 'RESULTS-quick.md') : join(ROOT, 'bench', 'RESULTS.md');
    writeResults(file, machine, `${verdict}\n\n${markdown}`, rows, env, profile, micro, elapsed);
    log(`wrote ${file}`);
  }
  if (rows.some((r) => r.failure)) process.exitCode = 1;
}

/** `--kafka`: the sweep on the local broker (bench/kafka/run.ts), its own section of RESULTS.md. */
async function runKafka(machine: Machine, t0: number): Promise<void> {
  const brokers = process.env.SLUICE_BENCH_KAFKA ?? '127.0.0.1:9092';
  const kRuns = Number(argv.runs ?? (quick ? 1 : 3));
  log(
    `sluice bench — kafka on ${brokers}: ${kRuns} round(s) of throughput over ${fmtInt(sweepLines)} lines × ${fmtInt(indicators)} indicators; latency at ${argv.rate} lines/s for ${argv['latency-seconds']} s`,
  );
  log(`${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB, Node ${machine.node}, load ${machine.load}`);
  if (!(await probe(brokers))) {
    log(`no Kafka broker at ${brokers}: start one with \`npm run services:up\` (or set SLUICE_BENCH_KAFKA=host:port)`);
    process.exitCode = 1;
    return;
  }
  const plugins = await registeredPlugins();
  if (typeof plugins === 'string' || !plugins.has('kafka')) {
    log(`kafka plugins not available: ${typeof plugins === 'string' ? plugins : 'not registered'}`);
    process.exitCode = 1;
    return;
  }
  const logFile = ensureLog('squid', seed, sweepLines);
  const feed = ensureFeed(seed, indicators);
  // --peers: Spark Structured Streaming on the same topic (bench/kafka/spark.ts)
  let peer: ReturnType<typeof sparkKafkaPeer> | undefined;
  if (peersMode) {
    const st = P.installPeers(log);
    const why = !st.spark.ok ? st.spark.reason : !st.sparkKafka.ok ? st.sparkKafka.reason : undefined;
    if (why) log(`  peers: SKIPPING Spark Structured Streaming on Kafka: ${why}`);
    else
      peer = sparkKafkaPeer({
        python: st.spark.python!,
        jars: st.sparkKafka.jars!,
        brokers,
        feedPath: feed.path,
        triggers: argv['spark-triggers']!.split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        log,
      });
  }
  const r = await runKafkaBench({
    brokers,
    logPath: logFile.path,
    lines: sweepLines,
    feedPath: feed.path,
    indicators,
    expectAlerts: logFile.stats.malicious,
    expectRejects: logFile.stats.invalid,
    rounds: kRuns,
    partitions: 4,
    rate: Number(argv.rate),
    seconds: argv['no-latency'] ? 0 : Number(argv['latency-seconds']),
    throughput: !argv['no-throughput'],
    workers: argv['kafka-workers']!,
    alsoWorkers: argv['kafka-also-workers']!.split(',')
      .map((w) => w.trim())
      .filter(Boolean),
    latencyWorkers: argv['latency-workers']!,
    peer,
    log,
  });
  console.log(r.text);
  const elapsed = (performance.now() - t0) / 1000;
  log(`done in ${elapsed.toFixed(0)} s`);
  if (argv['no-write']) return;
  const endLoad = describeMachine().load;
  const section = `## Kafka (\`npm run bench -- --kafka\`)

Generated on ${machine.date} (${elapsed.toFixed(0)} s) at commit ${machine.commit}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; broker: the local Kafka of \`npm run services:up\` (${brokers}) on the same machine. Load average at start ${machine.load}, at the end ${endLoad} (a shared machine: other engineers' builds and tests ran meanwhile).
${kRuns} throughput round(s) on \`${basename(logFile.path)}\` × \`${basename(feed.path)}\` (bench/pipelines/kafka-sweep.yaml, \`--once\`).

${r.markdown}
`;
  const file = quick ? join(DATA_DIR, 'RESULTS-quick.md') : join(ROOT, 'bench', 'RESULTS.md');
  writeKafkaSection(file, section);
  log(`wrote the Kafka section of ${file}`);
}

/** The peers run: the usual table for the sluice rows and the references, the peer table, the agreement checks. */
function reportPeers(rows: Row[], env: S.Env, machine: Machine, peerEnv: P.PeerEnv, t0: number, partial?: string): void {
  const { table, markdown, verdict: verdictText } = render(rows, env);
  console.log(table);
  console.log(verdictText);
  P.checkAgreement(rows, 'sweep squid', env.logs({ format: 'squid', lines: sweepLines }).path);
  const sluiceIds = ['sweep squid', 'sweep squid (feed snapshot)', 'sweep squid (--workers 1)'].filter((id) =>
    rows.some((r) => r.s.id === id && r.runs.length),
  );
  const pt = P.peerTable(rows, sluiceIds, sweepLines, indicators);
  const t = new Table({ head: pt.head, style: { head: [], border: [] } });
  for (const b of pt.text) t.push(b);
  console.log(t.toString());
  for (const v of pt.verdict) console.log(v.startsWith('**MISMATCH') ? `\n!!! ${v.replace(/\*\*/g, '')}\n` : v);
  for (const r of rows) if (r.skip) console.log(`skipped ${r.s.id}: ${r.skip}`);
  for (const r of rows) if (r.failure) console.log(`FAILED ${r.s.id}: ${r.failure}`);
  const wrong = rows.filter((r) => !r.failure && !r.skip && !['ok', '—', ''].includes(check(r, env)));
  for (const r of wrong) console.log(`CHECK FAILED ${r.s.id}: ${check(r, env)} (outputs under ${scenarioDir(r.s)})`);
  if (!partial && argv.strict && (wrong.length || pt.verdict.some((v) => v.startsWith('**MISMATCH')))) process.exitCode = 1;
  if (!partial && rows.some((r) => r.failure)) process.exitCode = 1;
  const elapsed = (performance.now() - t0) / 1000;
  log(partial ? `(${partial}: ${elapsed.toFixed(0)} s so far)` : `done in ${elapsed.toFixed(0)} s`);
  if (argv['no-write']) return;
  const st = peerEnv.status;
  const inst = (name: string, i: { ok: boolean; reason?: string; installSeconds?: number; cached?: boolean }) =>
    i.ok
      ? `${name}: ${i.cached ? `already installed (first install took ${i.installSeconds} s)` : `installed in ${i.installSeconds} s`}`
      : `${name}: skipped — ${i.reason}`;
  const section = `## Peers (\`npm run bench -- --peers\`)

Generated on ${machine.date} (${elapsed.toFixed(0)} s${partial ? `, ${partial}: not finished` : ''}) at commit ${machine.commit}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average at start ${machine.load}.
${runs} round(s); every system in a fresh process per round, on the same files (\`${basename(env.logs({ format: 'squid', lines: sweepLines }).path)}\`, \`${basename(env.feed.path)}\`).
Install / check: ${inst('Spark (pyspark venv)', st.spark)}; ${inst('Benthos (go build)', st.benthos)}; the check itself took ${st.installWallS.toFixed(0)} s.

${P.peerTable(rows, sluiceIds, sweepLines, indicators).markdown}

${verdictText}

Columns: **lines/s** input lines ÷ wall time of the whole run (start-up, feed loading, writing included); **CPU s/M lines**
user+system CPU of the whole process tree (a JVM and its Python driver included) per million input lines; **peak RSS** of the
whole tree; **1st alert** spawn → the first alert on disk (Spark batch commits its output at the end of the job; streaming after
its first micro-batch of ${fmtInt(Math.ceil(sweepLines / 10))} lines); **sweep squid ×** sluice's lines/s ÷ the system's (above 1: sluice is faster), with the
ratio of wall times within each round; **RSS ÷ sluice** the system's peak RSS ÷ sluice's default sweep's. A peer whose alerts or
rejects differ from sluice's in any round (bench/peers/agree.ts: same lines, same indicators) has its ratios marked INVALID.

The sluice rows and the references in the same run:

${markdown}
`;
  const file = quick ? join(DATA_DIR, 'RESULTS-quick.md') : join(ROOT, 'bench', 'RESULTS.md');
  P.writePeersSection(file, section);
  log(`wrote the Peers section of ${file}`);
}

function lastLines(s: string, n: number): string {
  return s.trim().split('\n').slice(-n).join(' | ').slice(0, 600);
}

function check(r: Row, env: S.Env): string {
  if (r.skip) return '';
  if (r.failure) return 'FAILED';
  const e = r.s.expect?.(env);
  if (!e || !r.runs.length) return '—';
  const bad: string[] = [];
  for (const run of r.runs) {
    if (e.alerts !== undefined && run.alerts !== e.alerts) bad.push(`alerts ${run.alerts}≠${e.alerts}`);
    if (e.rejects !== undefined && run.rejects !== e.rejects) bad.push(`rejects ${run.rejects}≠${e.rejects}`);
  }
  return bad.length ? [...new Set(bad)].join(', ') : 'ok';
}

function render(rows: Row[], env: S.Env): { table: string; markdown: string; verdict: string } {
  const lps = new Map<string, number>();
  for (const r of rows) if (r.runs.length && !r.failure && r.s.input.lines) lps.set(r.s.id, median(r.runs.map((x) => r.s.input.lines / (x.wallMs / 1000))));
  const head = ['scenario', 'input', 'wall', 'lines/s', 'MB/s', 'spread', 'peak RSS', 'CPU/wall', '1st alert', '×naive', '×ceiling', 'alerts', 'check'];
  const body: string[][] = [];
  for (const r of rows) {
    const inputDesc = `${r.s.input.format} ${fmtInt(r.s.input.lines)}`;
    if (r.skip || !r.runs.length) {
      body.push([r.s.id, inputDesc, '', 'skipped', '', '', '', '', '', '', '', '', r.skip ? 'see below' : '']);
      continue;
    }
    const ok = r.runs.filter((x) => x.ok);
    const f = env.logs(r.s.input);
    const rates = ok.map((x) => r.s.input.lines / (x.wallMs / 1000));
    const med = rates.length ? median(rates) : NaN;
    const mbs = ok.length ? f.bytes / 1e6 / (median(ok.map((x) => x.wallMs)) / 1000) : NaN;
    const walls = ok.map((x) => x.wallMs);
    const spread =
      !r.s.input.lines && walls.length > 1
        ? `±${(((Math.max(...walls) - Math.min(...walls)) / 2 / median(walls)) * 100).toFixed(0)}%`
        : rates.length > 1 && r.s.input.lines
          ? `±${(((Math.max(...rates) - Math.min(...rates)) / 2 / med) * 100).toFixed(0)}%`
          : 'n=1';
    const rss = ok.length ? fmtMiB(Math.max(...ok.map((x) => x.peakRss))) : '';
    const cpu = ok.length ? median(ok.map((x) => x.cpuMs / x.wallMs)).toFixed(2) : '';
    const first = ok.some((x) => x.firstOutputMs !== undefined)
      ? `${(median(ok.filter((x) => x.firstOutputMs !== undefined).map((x) => x.firstOutputMs!)) / 1000).toFixed(2)} s`
      : '';
    const naive = r.s.naive && r.s.naive !== r.s.id && lps.get(r.s.naive) ? `${(med / lps.get(r.s.naive)!).toFixed(2)}×` : '';
    const ceil = lps.get(S.ceilingId(r.s.input)) && r.s.id !== S.ceilingId(r.s.input) ? `${(med / lps.get(S.ceilingId(r.s.input))!).toFixed(2)}×` : '';
    const alerts = r.s.watch ? fmtInt(median(ok.map((x) => x.alerts))) : '';
    const wall = ok.length ? `${(median(ok.map((x) => x.wallMs)) / 1000).toFixed(2)} s` : '';
    body.push([
      r.s.id,
      inputDesc,
      wall,
      ok.length ? (r.s.input.lines ? fmtInt(med) : '—') : 'failed',
      ok.length && r.s.input.lines ? mbs.toFixed(1) : '',
      spread,
      rss,
      cpu,
      first,
      naive,
      ceil,
      alerts,
      check(r, env),
    ]);
  }
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const b of body) t.push(b);
  const md = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...body.map((b) => `| ${b.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');
  return { table: t.toString(), markdown: md, verdict: verdict(rows, lps, env) };
}

/** The median CPU (user + system, every thread) of a row's good runs, in ms; undefined when none measured it. */
function medianCpuMs(r: Row | undefined): number | undefined {
  const ok = r?.runs.filter((x) => x.ok && x.cpuMs > 0) ?? [];
  return ok.length ? median(ok.map((x) => x.cpuMs)) : undefined;
}

/**
 * How far the cold sweep's per-CPU figure could rise with a feed loader at the floor: its start-up
 * alone (`startup`) plus the floor's CPU beyond a bare process (`feed hash floor` less the ceiling
 * over the empty log) plus this run's CPU beyond its fixed cost, against the ceiling's whole run.
 */
function loaderBound(rows: Row[], meAll?: number, meFixed?: number, ceAll?: number, ceFixed?: number): string {
  const [start, floor] = [S.startupOnlyId, S.feedFloorId].map((id) => medianCpuMs(rows.find((r) => r.s.id === id)));
  if ([meAll, meFixed, ceAll, ceFixed, start, floor].some((x) => x === undefined)) return '';
  const floorLoad = Math.max(0, floor! - ceFixed!);
  const best = start! + floorLoad + (meAll! - meFixed!);
  return (
    `; with a feed loader at the floor (${(floorLoad / 1000).toFixed(2)} CPU s to hash the list's lines into one table, against ` +
    `${((meFixed! - start!) / 1000).toFixed(2)} s for sluice's load; start-up alone ${(start! / 1000).toFixed(2)} s) and this run's cost per line, ` +
    `at most ${(ceAll! / best).toFixed(2)}× per CPU second`
  );
}

/**
 * The headline: the default sweep against the target (≥ 2× naive lines/s, peak RSS < 1 GiB) as a user
 * writes it (no `settings:`, the runtime decides the workers) and pinned to one thread (`--workers 1`),
 * each against the naive reference of the run.
 */
function verdict(rows: Row[], lps: Map<string, number>, env: S.Env): string {
  const lines: string[] = [];
  for (const [id, label] of [
    ['sweep squid', 'Default sweep as a user writes it (no `settings:`; the runtime decides the worker threads), the feed loaded from its file'],
    [
      'sweep squid (feed snapshot)',
      'The same run again on the same feed (the feed read back from the snapshot an earlier run left: a scheduled sweep, a restart)',
    ],
    ['sweep squid (--workers 1)', 'Default sweep pinned to one thread (`--workers 1`)'],
  ] as const) {
    const sw = rows.find((r) => r.s.id === id);
    if (!sw || sw.skip || sw.failure || !sw.runs.length) {
      lines.push(`${label}: not measured${sw?.skip ? `: ${sw.skip}` : sw?.failure ? `: ${sw.failure}` : ''}.`);
      continue;
    }
    const me = lps.get(sw.s.id);
    const nv = sw.s.naive ? lps.get(sw.s.naive) : undefined;
    const ce = lps.get(S.ceilingId(sw.s.input));
    const rss = Math.max(...sw.runs.map((x) => x.peakRss));
    // Per core: input lines per CPU second (user + system, every thread), sluice's ÷ the ceiling's.
    const ceRow = rows.find((r) => r.s.id === S.ceilingId(sw.s.input));
    const perCpu = (r: Row | undefined) => {
      const ms = medianCpuMs(r);
      return ms === undefined ? undefined : r!.s.input.lines / (ms / 1000);
    };
    const meCpu = perCpu(sw);
    const ceCpu = perCpu(ceRow);
    // Per line: the CPU beyond the fixed cost (start-up and feed load, over an empty log, with the same
    // feed state), against the ceiling's beyond its own start-up: the cost a longer input adds.
    const fixedId = id === 'sweep squid (feed snapshot)' ? 'startup + feed load (feed snapshot)' : 'startup + feed load';
    const [meAll, meFixed, ceAll, ceFixed] = [sw, rows.find((r) => r.s.id === fixedId), ceRow, rows.find((r) => r.s.id === S.ceilingId(EMPTY_INPUT))].map(
      medianCpuMs,
    );
    const n = sw.s.input.lines;
    const perLine =
      meAll !== undefined && meFixed !== undefined && ceAll !== undefined && ceFixed !== undefined && meAll > meFixed && ceAll > ceFixed
        ? `; per line beyond start-up and feed load ${((1000 * (meAll - meFixed)) / n).toFixed(2)} µs of CPU against the ceiling's ${((1000 * (ceAll - ceFixed)) / n).toFixed(2)} µs beyond its start-up (${((ceAll - ceFixed) / (meAll - meFixed)).toFixed(2)}×), start-up and feed load ${(meFixed / 1000).toFixed(2)} CPU s`
        : '';
    const bound = id === 'sweep squid' ? loaderBound(rows, meAll, meFixed, ceAll, ceFixed) : '';
    const cpuWall = median(sw.runs.filter((x) => x.ok).map((x) => x.cpuMs / x.wallMs));
    // per CPU second on the same input is the ceiling's CPU ÷ sluice's, round by round too
    const perCore =
      meCpu && ceCpu
        ? `, per CPU second ${(meCpu / ceCpu).toFixed(2)}× the ceiling's (goal ≥ 0.5×: ${meCpu / ceCpu >= 0.5 ? 'met' : `NOT met, by ${(0.5 - meCpu / ceCpu).toFixed(2)}`}${roundRatios(sw, ceRow, 'cpuMs')})`
        : '';
    if (me === undefined || nv === undefined) {
      lines.push(`${label}: no naive reference in this run.`);
      continue;
    }
    const ratio = me / nv;
    const rounds = roundRatios(
      sw,
      rows.find((r) => r.s.id === sw.s.naive),
    );
    lines.push(
      `${label}, ${fmtInt(sw.s.input.lines)} lines × ${fmtInt(env.feed.indicators)} indicators: ${fmtInt(me)} lines/s = **${ratio.toFixed(2)}× naive** (target ≥ 2×: ${ratio >= 2 ? 'met' : 'NOT met'}${rounds}), ` +
        `${ce ? `${(me / ce).toFixed(2)}× the tokenize-only ceiling${perCore}${perLine}${bound}, ` : ''}CPU/wall ${cpuWall.toFixed(2)}, peak RSS ${fmtMiB(rss)} (target < 1 GiB: ${rss < 2 ** 30 ? 'met' : 'NOT met'}).`,
    );
  }
  // The default pipeline (window and rules beside the sweep) on every core against one thread.
  const dp = rows.find((r) => r.s.id === 'default pipeline');
  const dp1 = rows.find((r) => r.s.id === 'default pipeline (--workers 1)');
  const dpLps = lps.get('default pipeline');
  const dp1Lps = lps.get('default pipeline (--workers 1)');
  if (dp && dp1 && dpLps !== undefined && dp1Lps !== undefined) {
    const cpu = (r: Row) => medianCpuMs(r) ?? Number.NaN;
    const rounds = roundRatios(dp, dp1);
    lines.push(
      `Default pipeline as shipped (\`pipelines/proxy-ioc-sweep.yaml\`: sweep, rules and volume window; ${fmtInt(dp.s.input.lines)} lines), workers decided by the runtime: ` +
        `${fmtInt(dpLps)} lines/s = **${(dpLps / dp1Lps).toFixed(2)}× the same pinned to one thread**${rounds ? ` (${rounds.slice(2)})` : ''}, for ${(cpu(dp) / cpu(dp1)).toFixed(2)}× its CPU.`,
    );
  }
  const parse = rows.find((r) => r.s.id === 'parse squid');
  const me = lps.get('parse squid');
  const nv = parse?.s.naive ? lps.get(parse.s.naive) : undefined;
  if (parse && me !== undefined && nv !== undefined) {
    const ratio = me / nv;
    const rounds = roundRatios(
      parse,
      rows.find((r) => r.s.id === parse.s.naive),
    );
    lines.push(
      `Parse squid through the CLI, one thread (${fmtInt(parse.s.input.lines)} lines, start-up included): ${fmtInt(me)} lines/s = **${ratio.toFixed(2)}× the naive parse** (readline + regex + \`new URL\`; goal ≥ 1.5×: ${ratio >= 1.5 ? 'met' : 'NOT met'}${rounds}).`,
    );
  }
  return lines.join('\n\n');
}

/**
 * `; rounds a×, b×, …`: the ratio within each round (the scenario and its reference ran minutes
 * apart, in the same round), which shows how much a noisy minute moved the ratio of the medians:
 * the reference's wall time ÷ the scenario's (lines/s on the same input), or its CPU ÷ the
 * scenario's (lines per CPU second).
 */
function roundRatios(row: Row, ref: Row | undefined, of: 'wallMs' | 'cpuMs' = 'wallMs'): string {
  if (!ref || row.runs.length < 2 || ref.runs.length !== row.runs.length) return '';
  const r = row.runs.map((x, i) => (x.ok && ref.runs[i]!.ok && x[of] > 0 ? ref.runs[i]![of] / x[of] : NaN));
  if (r.some((x) => !Number.isFinite(x))) return '';
  return `; rounds ${r.map((x) => `${x.toFixed(2)}×`).join(', ')}`;
}

async function runProfile(env: S.Env, input: S.Input): Promise<string> {
  // One thread: the profile samples the main thread only.
  const s = S.sweep(input, input.format, '1');
  const why = s.skip?.(env);
  if (why) return `_Not profiled: ${why}._`;
  const dir = join(OUT_DIR, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const out: S.Outputs = { alerts: join(dir, 'alerts.jsonl'), rejects: join(dir, 'rejects.jsonl') };
  log(`  profiling ${s.id} (node --cpu-prof)`);
  const m = await measure({ args: ['--cpu-prof', '--cpu-prof-dir', dir, ...s.args(env, out)], cwd: ROOT, stderrFile: join(dir, 'stderr.log') });
  const prof = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f));
  if (!m.ok || !prof.length) return `_Profile run failed: ${lastLines(m.stderrTail, 2)}_`;
  const { totalMs, rows, areas } = selfTimes(prof[0]!, 25);
  const lines = [
    `Profile of \`${s.id}\` (${fmtInt(input.lines)} lines, ${fmtInt(env.feed.indicators)} indicators), ${(totalMs / 1000).toFixed(1)} s sampled, main thread; file: \`${prof[0]!.slice(ROOT.length + 1)}\`.`,
    '',
    '| self ms | share | function | where |',
    '|---:|---:|---|---|',
  ];
  for (const r of rows) lines.push(`| ${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)}% | \`${r.fn}\` | ${r.where} |`);
  lines.push('', 'Self time by area:', '', '| self ms | share | area |', '|---:|---:|---|');
  for (const a of areas.filter((x) => x.share >= 0.005)) lines.push(`| ${a.ms.toFixed(0)} | ${(a.share * 100).toFixed(1)}% | ${a.area} |`);
  const text = lines.join('\n');
  log(text);
  return text;
}

/** Other engineers' micro-benchmarks, run once each and reported verbatim. */
async function runMicro(): Promise<string> {
  const parts: string[] = [];
  // feed-report.ts is a feed-coverage report over the shared samples, not a benchmark: not run here.
  for (const name of ['parse-micro', 'sweep-micro', 'ioc-load', 'window-rules', 'warm-up']) {
    const script = join(DIST_BENCH, `${name}.js`);
    if (!existsSync(script)) {
      parts.push(`### ${name}\n\n_Not there yet (bench/${name}.ts)._`);
      continue;
    }
    log(`  micro ${name}`);
    const dir = join(OUT_DIR, 'micro');
    const m = await measure({ args: [script], cwd: ROOT, stderrFile: join(dir, `${name}.stderr.log`), timeoutMs: 600_000 });
    parts.push(
      `### ${name}\n\n${m.ok ? '' : `_Failed (exit ${m.exitCode ?? m.signal}): ${lastLines(m.stderrTail, 3)}_\n\n`}Wall ${(m.wallMs / 1000).toFixed(1)} s, peak RSS ${fmtMiB(m.peakRss)}.\n\n\`\`\`\n${m.stdout.trim().slice(-6000)}\n\`\`\``,
    );
  }
  return parts.join('\n\n');
}

function writeResults(
  file: string,
  m: Machine,
  table: string,
  rows: Row[],
  env: S.Env,
  profile: string | undefined,
  micro: string | undefined,
  elapsed: number,
): void {
  // Hand-written notes below "## Profile notes" survive a rewrite.
  let notes = '## Profile notes\n\n_None yet._\n';
  const peers = P.peersSection(file);
  const kafkaSec = kafkaSection(file);
  if (existsSync(file)) {
    const old = readFileSync(file, 'utf8');
    const i = old.indexOf('## Profile notes');
    if (i >= 0) notes = old.slice(i);
    if (!profile) {
      const j = old.indexOf('## Profile (automatic)');
      // up to the next section (the micro-benchmarks or the notes), not the rest of the file
      const k = old.indexOf('\n## ', j + 1);
      if (j >= 0)
        profile =
          old
            .slice(j, k >= 0 ? k + 1 : undefined)
            .replace(/^## Profile \(automatic\)[^\n]*\n+/, '')
            // kept from an earlier run: say so once, however many runs keep it
            .replace(/(\s*_\(from an earlier `--profile` run\)_)+\s*$/, '')
            .trim() + '\n\n_(from an earlier `--profile` run)_';
    }
  }
  const sweepLog = env.logs({ format: 'squid', lines: sweepLines });
  const failures = rows.filter((r) => r.failure).map((r) => `- **${r.s.id}** failed: ${r.failure}`);
  const skips = rows.filter((r) => r.skip).map((r) => `- **${r.s.id}**: ${r.skip}`);
  const text = `# Benchmark results

Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${m.date} (${elapsed.toFixed(0)} s). Absolute numbers depend on the machine and
on what else ran on it; the **ratios** (×naive, ×ceiling) are measured in the same run, with scenarios interleaved
round by round, and are what to compare across machines.

## Machine

| | |
|---|---|
| CPU | ${m.cpu} |
| cores | ${m.cores} |
| RAM | ${m.ramGiB} GiB |
| OS | ${m.os} |
| Node | ${m.node} |
| commit | ${m.commit} |
| load average at start | ${m.load} |

## Parameters

- runs per scenario: ${runs} (each in a fresh \`node\` process; wall time includes start-up and feed loading)
- sweep: ${fmtInt(sweepLines)} squid lines (${fmtMiB(sweepLog.bytes)}), feed of ${fmtInt(env.feed.indicators)} indicators (${fmtMiB(env.feed.bytes)}), seed ${seed}
- injected in the sweep log: ${fmtInt(sweepLog.stats.malicious)} malicious lines (${Object.entries(sweepLog.stats.maliciousByType)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}), ${fmtInt(sweepLog.stats.nearMiss)} near misses, ${fmtInt(sweepLog.stats.invalid)} broken lines
- parse / window / rules: ${fmtInt(parseLines)} lines per format

## Results

${table}

Columns: **wall** median wall time of the whole process; **lines/s** median over runs (input lines ÷ wall time of the whole process); **MB/s** input bytes ÷ median wall
time; **spread** half the min–max range of lines/s as a share of the median; **peak RSS** the highest over runs;
**CPU/wall** user+system CPU ÷ wall (above 1 means more than one core busy); **1st alert** time from process start until
the alerts file first had bytes (time to first detection, feed loading included); **×naive** lines/s ÷ the naive
reference's on the same input; **×ceiling** lines/s ÷ the tokenize-only ceiling's on the same input; **check** alerts
and rejects against what the generator injected (every malicious line raises one alert, near misses none, every
broken line one reject).

${failures.length ? `### Failures\n\n${failures.join('\n')}\n\n` : ''}${skips.length ? `### Skipped\n\n${skips.join('\n')}\n\n` : ''}## Profile (automatic)

${profile ?? '_Run `npm run bench -- --profile` to add a CPU profile of the default sweep._'}

${micro ? `## Micro-benchmarks\n\n${micro}\n\n` : ''}${peers ? `${peers}\n\n` : ''}${kafkaSec ? `${kafkaSec}\n\n` : ''}${notes}`;
  writeFileSync(file, text);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
