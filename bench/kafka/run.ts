/**
 * `npm run bench -- --kafka`: the sweep on the local broker (`npm run services:up`).
 *
 * 1. Throughput: the squid log is loaded into a fresh 4-partition topic (not timed), then, in
 *    alternating rounds, Kafka's own Java consumer (`org.apache.kafka.tools.ConsumerPerformance`,
 *    the kafka-tools jar the services fetch) reads the whole topic, and `sluice run --once` of
 *    bench/pipelines/kafka-sweep.yaml (workers auto, 1M-indicator feed) sweeps it to an alerts topic
 *    and a rejects topic. Both as whole processes (JVM / Node start-up, sluice's feed load
 *    included); the alerts and rejects topics are checked against what the generator injected.
 * 2. Detection latency: sluice runs on a fresh topic (started and caught up first); a steady
 *    producer writes `rate` lines/s for `seconds` s, one line in 1,000 a malicious line whose user
 *    field carries a unique marker; a consumer on the alerts topic notes when each marker's alert
 *    becomes readable. Latency = readable − the moment its produce request was sent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { CLI, DATA_DIR, PIPELINES_DIR, ROOT } from '../lib/paths.js';
import { measure, type Measured } from '../lib/measure.js';
import { readSection, writeSection } from '../lib/results.js';
import { sluiceRunArgs } from '../lib/sluice-args.js';
import { measureTree } from '../peers/measure.js';
import { client, deleteTopics, freshTopic, kafkaToolsClasspath, loadFile, topicCount } from './broker.js';
import type { KafkaPeer, PeerThroughput } from './spark.js';

export interface KafkaBenchOptions {
  brokers: string;
  logPath: string;
  lines: number;
  feedPath: string;
  indicators: number;
  expectAlerts: number;
  expectRejects: number;
  rounds: number;
  partitions: number;
  /** Latency: lines/s and seconds of the steady stream; 0 seconds skips it. */
  rate: number;
  seconds: number;
  throughput: boolean;
  /** `workers` of the headline throughput row (the issue asks for auto). */
  workers: string;
  /** Other `workers` values measured beside it in the same rounds (e.g. 1: the shipped Kafka pipeline's default). */
  alsoWorkers: string[];
  /** `workers` of the latency run. */
  latencyWorkers: string;
  /** A peer measured beside sluice in the same rounds and the same way (bench/kafka/spark.ts). */
  peer?: KafkaPeer;
  log: (msg: string) => void;
}

export interface ThroughputRound {
  round: number;
  java?: Measured & { toolRate?: number; fetchRate?: number };
  sluice: Record<string, Measured & { alerts: number; rejects: number }>;
  peer?: PeerThroughput;
}

export interface LatencyResult {
  rate: number;
  seconds: number;
  achievedRate: number;
  injected: number;
  received: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  startupMs: number;
  lagMaxMs: number;
}

const OUT = join(DATA_DIR, 'out', 'kafka');
const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length ? (a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2) : NaN;
};
const q = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : NaN);
const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sluiceArgs(dir: string, vars: Record<string, string>, once: boolean): string[] {
  return sluiceRunArgs(join(PIPELINES_DIR, 'kafka-sweep.yaml'), dir, vars, once ? ['--once'] : []);
}

/** The Java tool's own summary line: nMsg.sec over its whole run, and fetch.nMsg.sec (rebalance time excluded). */
function parseConsumerPerf(stdout: string): { toolRate?: number; fetchRate?: number } {
  const lines = stdout
    .trim()
    .split('\n')
    .filter((l) => /^\d{4}-/.test(l.trim()));
  const last = lines.at(-1);
  if (!last) return {};
  const f = last.split(',').map((x) => x.trim());
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  return { toolRate: Number(f[5]), fetchRate: Number(f[9]) };
}

export async function throughput(
  o: KafkaBenchOptions,
  kafka: Kafka,
  stamp: string,
): Promise<{ rounds: ThroughputRound[]; topic: string; loadMs: number; skipJava?: string }> {
  const topic = `bench.kafka.${stamp}.logs`;
  await freshTopic(kafka, topic, o.partitions);
  o.log(`  loading ${fmtInt(o.lines)} lines into ${topic} (${o.partitions} partitions; not timed)`);
  const load = await loadFile(kafka, topic, o.logPath, o.partitions);
  o.log(`  loaded ${fmtInt(load.lines)} messages in ${(load.ms / 1000).toFixed(1)} s (${fmtInt(load.lines / (load.ms / 1000))} msg/s)`);
  const cp = kafkaToolsClasspath();
  const skipJava = cp ? undefined : 'the kafka-tools jar is not in the services jar cache (run `npm run services:up` once)';
  if (skipJava) o.log(`  skip Java ConsumerPerformance: ${skipJava}`);
  const rounds: ThroughputRound[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const r: ThroughputRound = { round, sluice: {} };
    // alternate which goes first, so neither always gets the quieter minute
    const systems = ['java', ...[o.workers, ...o.alsoWorkers].map((w) => `sluice-w${w}`), ...(o.peer ? ['peer'] : [])];
    const order = round % 2 ? systems : [...systems].reverse();
    for (const who of order) {
      const dir = join(OUT, `throughput-${who}-${round}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      if (who === 'java' && cp) {
        const m = await measureTree({
          command: 'java',
          args: [
            '-Xmx512m',
            '-cp',
            cp,
            'org.apache.kafka.tools.ConsumerPerformance',
            '--bootstrap-server',
            o.brokers,
            '--topic',
            topic,
            '--messages',
            String(load.lines),
            '--group',
            `bench-java-${stamp}-${round}`,
            '--timeout',
            '60000',
          ],
          cwd: ROOT,
          stderrFile: join(dir, 'stderr.log'),
          timeoutMs: 900_000,
        });
        r.java = { ...m, ...parseConsumerPerf(m.stdout) };
        o.log(
          `  [${round}/${o.rounds}] java ConsumerPerformance ${(m.wallMs / 1000).toFixed(2).padStart(7)} s  ${fmtInt(load.lines / (m.wallMs / 1000)).padStart(9)} lines/s (tool's own: ${fmtInt(r.java.toolRate ?? NaN)} msg/s, fetch ${fmtInt(r.java.fetchRate ?? NaN)})${m.ok ? '' : `  FAILED (exit ${m.exitCode ?? m.signal})`}`,
        );
        writeFileSync(join(dir, 'stdout.txt'), m.stdout);
      } else if (who === 'peer' && o.peer) {
        r.peer = await o.peer.throughput({ kafka, topic, lines: load.lines, round, rounds: o.rounds, dir, stamp });
      } else if (who.startsWith('sluice-w')) {
        const workers = who.slice('sluice-w'.length);
        const alertsTopic = `bench.kafka.${stamp}.alerts-${round}-w${workers}`;
        const rejectsTopic = `bench.kafka.${stamp}.rejects-${round}-w${workers}`;
        await freshTopic(kafka, alertsTopic, 1);
        await freshTopic(kafka, rejectsTopic, 1);
        const m = await measure({
          args: sluiceArgs(
            dir,
            {
              KAFKA_BROKERS: o.brokers,
              TOPIC: topic,
              GROUP: `bench-sluice-${stamp}-${round}-w${workers}`,
              FEED: o.feedPath,
              ALERTS_TOPIC: alertsTopic,
              REJECTS_TOPIC: rejectsTopic,
              WORKERS: workers,
            },
            true,
          ),
          cwd: ROOT,
          stderrFile: join(dir, 'stderr.log'),
          timeoutMs: 900_000,
        });
        const alerts = await topicCount(kafka, alertsTopic);
        const rejects = await topicCount(kafka, rejectsTopic);
        r.sluice[workers] = { ...m, alerts, rejects };
        o.log(
          `  [${round}/${o.rounds}] sluice --once workers ${workers.padEnd(4)} ${(m.wallMs / 1000).toFixed(2).padStart(7)} s  ${fmtInt(load.lines / (m.wallMs / 1000)).padStart(9)} lines/s  alerts ${alerts}/${o.expectAlerts} rejects ${rejects}/${o.expectRejects}${m.ok ? '' : `  FAILED (exit ${m.exitCode ?? m.signal}): ${m.stderrTail.trim().split('\n').slice(-3).join(' | ')}`}`,
        );
        // the peer's outputs of this round are checked against these
        if (o.peer && workers === o.workers) await o.peer.reference(kafka, round, alertsTopic, rejectsTopic);
        await deleteTopics(kafka, [alertsTopic, rejectsTopic]);
      }
    }
    rounds.push(r);
  }
  await deleteTopics(kafka, [topic]);
  return { rounds, topic, loadMs: load.ms, skipJava };
}

/** Squid lines from the head of the log: those the sweep alerts on, and the rest. */
async function templates(o: KafkaBenchOptions): Promise<{ malicious: string[]; benign: string[] }> {
  const dir = join(OUT, 'latency-templates');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const head = join(dir, 'head.log');
  const text = readFileSync(o.logPath, 'utf8');
  let end = 0;
  for (let i = 0; i < 50_000 && end !== -1; i++) end = text.indexOf('\n', end + 1);
  const lines = text.slice(0, end === -1 ? undefined : end).split('\n');
  writeFileSync(head, `${lines.join('\n')}\n`);
  const alerts = join(dir, 'alerts.jsonl');
  const m = await measure({
    args: [
      CLI,
      'run',
      join(PIPELINES_DIR, 'sweep.yaml'),
      '--log-level',
      'warn',
      '--no-progress',
      '--state-dir',
      join(dir, 'state'),
      '--var',
      `LOGS=${head}`,
      '--var',
      `FEED=${o.feedPath}`,
      '--var',
      `ALERTS=${alerts}`,
      '--var',
      `REJECTS=${join(dir, 'rejects.jsonl')}`,
    ],
    cwd: ROOT,
    stderrFile: join(dir, 'stderr.log'),
  });
  if (!m.ok) throw new Error(`latency: the file sweep that finds malicious template lines failed: ${m.stderrTail.slice(-500)}`);
  const bad = new Set<number>();
  for (const l of readFileSync(alerts, 'utf8').split('\n')) if (l) bad.add((JSON.parse(l) as { origin: { line: number } }).origin.line);
  const malicious: string[] = [];
  const benign: string[] = [];
  lines.forEach((l, i) => {
    (bad.has(i + 1) ? malicious : benign).push(l);
  });
  return { malicious, benign };
}

/** The line with its user field (the 8th whitespace-separated token of a squid line) replaced by `marker`. */
function mark(line: string, marker: string): string {
  const parts = line.split(/(\s+)/);
  parts[14] = marker; // tokens at even indices: 0 ts, 2 duration, 4 client, 6 code, 8 bytes, 10 method, 12 url, 14 user
  return parts.join('');
}

/** Another system measured by the same latency run: how to start it on the run's topics. */
export interface LatencySystem {
  /** Short name for topics, directories and logs. */
  id: string;
  /** Starts the system reading `topic` (from the beginning) and writing alerts and rejects to their topics; output to `outFd`. */
  spawn(v: { topic: string; alertsTopic: string; rejectsTopic: string; group: string; dir: string; outFd: number }): ChildProcess;
  /** Stops it (default: SIGTERM, then SIGKILL after 10 s). */
  stop?(child: ChildProcess): void;
  /** How long it may take to come up and raise its first alert (default 200 s). */
  upTimeoutS?: number;
  /** How long the last alerts are waited for after the stream ends (default 15 s). */
  drainS?: number;
}

export async function latency(o: KafkaBenchOptions, kafka: Kafka, stamp: string, system?: LatencySystem): Promise<LatencyResult> {
  const { malicious, benign } = await templates(o);
  const who = system?.id ?? 'sluice';
  o.log(
    `  latency (${who}): ${malicious.length} malicious template lines, ${benign.length} others; ${fmtInt(o.rate)} lines/s for ${o.seconds} s, 1 in 1,000 malicious`,
  );
  const suffix = system ? `-${system.id}` : '';
  const topic = `bench.kafka.${stamp}.live${suffix}`;
  const alertsTopic = `bench.kafka.${stamp}.live${suffix}-alerts`;
  const rejectsTopic = `bench.kafka.${stamp}.live${suffix}-rejects`;
  await freshTopic(kafka, topic, o.partitions);
  await freshTopic(kafka, alertsTopic, 1);
  await freshTopic(kafka, rejectsTopic, 1);
  const dir = join(OUT, `latency${suffix}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  // the alerts reader: readable time of every marked alert
  const readable = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `bench-latency-reader-${stamp}${suffix}`, maxWaitTimeInMs: 100, minBytes: 1 });
  await consumer.connect();
  await consumer.subscribe({ topics: [alertsTopic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const now = Date.now();
      const s = message.value?.toString('utf8') ?? '';
      const m = /"user":\{"name":"(lat-[^"]+)"/.exec(s);
      if (m && !readable.has(m[1]!)) readable.set(m[1]!, now);
    },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic: rejectsTopic, acks: 1, messages: [] }).catch(() => undefined);

  function finish(produced: Map<string, number>, achievedRate: number, startupMs: number, lagMaxMs: number): LatencyResult {
    const lat: number[] = [];
    const timeline: Array<[string, number, number | null]> = [];
    const t = [...produced.values()][0] ?? 0;
    for (const [id, at] of produced) {
      const r = readable.get(id);
      if (r !== undefined) lat.push(r - at);
      timeline.push([id, at - t, r === undefined ? null : r - at]);
    }
    lat.sort((a, b) => a - b);
    // [marker, ms since the first marked line was produced, latency ms or null]: where the tail happened
    writeFileSync(join(dir, 'latencies.json'), JSON.stringify(timeline));
    return {
      rate: o.rate,
      seconds: o.seconds,
      achievedRate,
      injected: produced.size,
      received: lat.length,
      p50: q(lat, 0.5),
      p90: q(lat, 0.9),
      p99: q(lat, 0.99),
      max: lat.at(-1) ?? NaN,
      mean: lat.reduce((a, b) => a + b, 0) / (lat.length || 1),
      startupMs,
      lagMaxMs,
    };
  }

  const errFd = openSync(join(dir, 'stderr.log'), 'w');
  const t0 = Date.now();
  const child: ChildProcess = system
    ? system.spawn({ topic, alertsTopic, rejectsTopic, group: `bench-latency-${stamp}${suffix}`, dir, outFd: errFd })
    : spawn(
        process.execPath,
        [
          ...(process.env.SLUICE_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
          ...sluiceArgs(
            dir,
            {
              KAFKA_BROKERS: o.brokers,
              TOPIC: topic,
              GROUP: `bench-latency-${stamp}`,
              FEED: o.feedPath,
              ALERTS_TOPIC: alertsTopic,
              REJECTS_TOPIC: rejectsTopic,
              WORKERS: o.latencyWorkers,
            },
            false,
          ),
        ],
        { cwd: ROOT, stdio: ['ignore', errFd, errFd] },
      );
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    // started and caught up: a marked line every 500 ms until its alert comes back
    let startupMs = NaN;
    const upTries = (system?.upTimeoutS ?? 200) * 2;
    for (let k = 0; k < upTries && !exited; k++) {
      const id = `lat-w${k}`;
      await producer.send({ topic, acks: 1, messages: [{ value: mark(malicious[k % malicious.length]!, id) }] });
      await sleep(500);
      if ([...readable.keys()].some((x) => x.startsWith('lat-w'))) {
        startupMs = Date.now() - t0;
        break;
      }
    }
    if (exited || !Number.isFinite(startupMs))
      throw new Error(
        `latency: ${who} did not come up (${exited ? `exited ${child.exitCode}` : `no alert in ${upTries / 2} s`}); see ${join(dir, 'stderr.log')}`,
      );
    await sleep(2_000);
    o.log(`  latency: ${who} up and caught up ${(startupMs / 1000).toFixed(1)} s after spawn; streaming`);

    // The steady stream: Kafka's Java ProducerPerformance writes the other lines (picked at random
    // from the log's head) at `rate` lines/s — a JVM producer that keeps the rate with little CPU,
    // where a kafkajs producer in this process could not on a loaded two-core machine — and this
    // process injects one marked malicious line every 1,000 lines' worth of time.
    const cp = kafkaToolsClasspath();
    if (!cp) throw new Error('latency: the kafka-tools jar is not in the services jar cache (run `npm run services:up` once)');
    const benignFile = join(dir, 'benign.log');
    writeFileSync(benignFile, `${benign.filter((l) => l.length).join('\n')}\n`);
    const total = o.rate * (o.seconds + 30);
    const perfOut = openSync(join(dir, 'producer-perf.txt'), 'w');
    const perf = spawn(
      'java',
      [
        '-Xmx256m',
        '-cp',
        cp,
        'org.apache.kafka.tools.ProducerPerformance',
        '--topic',
        topic,
        '--num-records',
        String(total),
        '--throughput',
        String(o.rate),
        '--payload-file',
        benignFile,
        '--producer-props',
        `bootstrap.servers=${o.brokers}`,
        'acks=1',
        'linger.ms=5',
        'batch.size=65536',
      ],
      { cwd: ROOT, stdio: ['ignore', perfOut, perfOut] },
    );
    let perfExited = false;
    perf.on('exit', () => (perfExited = true));
    try {
      const base = await topicCount(kafka, topic);
      for (let i = 0; i < 300 && (await topicCount(kafka, topic)) < base + o.rate; i++) await sleep(100);
      if (perfExited) throw new Error(`latency: ProducerPerformance exited early; see ${join(dir, 'producer-perf.txt')}`);
      // steady state: the JVM's start-up and JIT took CPU from sluice on a small machine; let it settle
      await sleep(5_000);
      const produced = new Map<string, number>();
      const every = 1000 / (o.rate / 1000); // ms between marked lines: one per 1,000 lines
      const c0 = await topicCount(kafka, topic);
      const start = Date.now();
      const endAt = start + o.seconds * 1000;
      let lagMaxMs = 0;
      for (let n = 0; Date.now() < endAt; n++) {
        const due = start + n * every;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        const id = `lat-${n}`;
        const at = Date.now();
        lagMaxMs = Math.max(lagMaxMs, at - due);
        produced.set(id, at);
        await producer.send({ topic, acks: 1, messages: [{ value: mark(malicious[n % malicious.length]!, id) }] });
      }
      const wallS = (Date.now() - start) / 1000;
      const c1 = await topicCount(kafka, topic);
      // the last alerts: up to 15 s (or the system's own drain time)
      for (let i = 0; i < (system?.drainS ?? 15) * 10 && [...produced.keys()].some((id) => !readable.has(id)); i++) await sleep(100);
      return finish(produced, (c1 - c0) / wallS, startupMs, lagMaxMs);
    } finally {
      if (!perfExited) perf.kill('SIGTERM');
      closeSync(perfOut);
    }
  } finally {
    if (!exited) {
      if (system?.stop) system.stop(child);
      else child.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
    }
    closeSync(errFd);
    await producer.disconnect().catch(() => undefined);
    await consumer.disconnect().catch(() => undefined);
    await deleteTopics(kafka, [topic, alertsTopic, rejectsTopic]);
  }
}

export interface KafkaReport {
  markdown: string;
  text: string;
}

export async function runKafkaBench(o: KafkaBenchOptions): Promise<KafkaReport> {
  const kafka = client(o.brokers);
  const stamp = `${Date.now().toString(36)}`;
  mkdirSync(OUT, { recursive: true });
  const tp = o.throughput ? await throughput(o, kafka, stamp) : undefined;
  const lt = o.seconds > 0 ? await latency(o, kafka, stamp) : undefined;
  const report = render(o, tp, lt);
  if (!o.peer) return report;
  // the peer's latency runs after sluice's, on topics of its own, measured the same way
  const peer = await o.peer.finish({ o, kafka, stamp, throughput: tp?.rounds, sluiceLatency: lt, latency: (s) => latency(o, kafka, stamp, s) });
  return { markdown: `${report.markdown}\n\n${peer}`, text: `${report.text}\n\n${peer}` };
}

function render(o: KafkaBenchOptions, tp: Awaited<ReturnType<typeof throughput>> | undefined, lt: LatencyResult | undefined): KafkaReport {
  const out: string[] = [];
  if (tp) {
    const rate = (m?: Measured) => (m?.ok ? o.lines / (m.wallMs / 1000) : NaN);
    const js = tp.rounds.map((r) => rate(r.java));
    const ss = tp.rounds.map((r) => rate(r.sluice[o.workers]));
    const jm = median(js.filter(Number.isFinite));
    const sm = median(ss.filter(Number.isFinite));
    const ratio = sm / jm;
    const within = tp.rounds.map((_, i) => ss[i]! / js[i]!).filter(Number.isFinite);
    const checks = (w: string) =>
      [
        ...new Set(
          tp.rounds.map((r) => {
            const x = r.sluice[w];
            return x
              ? x.alerts === o.expectAlerts && x.rejects === o.expectRejects
                ? 'ok'
                : `alerts ${x.alerts}≠${o.expectAlerts} or rejects ${x.rejects}≠${o.expectRejects}`
              : '—';
          }),
        ),
      ].join(', ');
    const tool = median(tp.rounds.map((r) => r.java?.toolRate ?? NaN).filter(Number.isFinite));
    const fetch = median(tp.rounds.map((r) => r.java?.fetchRate ?? NaN).filter(Number.isFinite));
    out.push(
      '| system | lines/s (median) | rounds (lines/s) | wall (median) | CPU s (median) | CPU/wall | peak RSS | check |',
      '|---|---:|---|---:|---:|---:|---:|---|',
    );
    const row = (name: string, xs: number[], ms: (Measured | undefined)[], check: string) => {
      const ok = ms.filter((m): m is Measured => !!m?.ok);
      out.push(
        `| ${name} | ${fmtInt(median(xs.filter(Number.isFinite)))} | ${xs.map(fmtInt).join(', ')} | ${ok.length ? `${(median(ok.map((m) => m.wallMs)) / 1000).toFixed(2)} s` : '—'} | ${ok.length ? (median(ok.map((m) => m.cpuMs)) / 1000).toFixed(1) : '—'} | ${ok.length ? median(ok.map((m) => m.cpuMs / m.wallMs)).toFixed(2) : '—'} | ${ok.length ? `${(Math.max(...ok.map((m) => m.peakRss)) / 2 ** 20).toFixed(0)} MiB` : '—'} | ${check} |`,
      );
    };
    row(
      `Kafka \`ConsumerPerformance\` (Java, reads only)${tp.skipJava ? ` — skipped: ${tp.skipJava}` : ''}`,
      js,
      tp.rounds.map((r) => r.java),
      '—',
    );
    row(
      `sluice \`run --once\` kafka → parse → ioc-sweep → kafka (workers ${o.workers})`,
      ss,
      tp.rounds.map((r) => r.sluice[o.workers]),
      checks(o.workers),
    );
    for (const w of o.alsoWorkers) {
      const xs = tp.rounds.map((r) => rate(r.sluice[w]));
      row(
        `sluice, the same with workers ${w} (${(median(xs.filter(Number.isFinite)) / jm).toFixed(2)}× the Java consumer)`,
        xs,
        tp.rounds.map((r) => r.sluice[w]),
        checks(w),
      );
    }
    out.push('');
    out.push(
      `**Throughput: sluice ${fmtInt(sm)} lines/s = ${ratio.toFixed(2)}× the Java consumer** (goal ≥ 100,000 lines/s: ${sm >= 100_000 ? 'met' : `NOT met (${((sm / 100_000) * 100).toFixed(0)}% of it)`}; goal ≥ 0.5×: ${ratio >= 0.5 ? 'met' : 'NOT met'}; ratio within each round ${within.map((x) => `${x.toFixed(2)}×`).join(', ')}).`,
    );
    out.push(
      `Both are whole processes timed from spawn to exit: the JVM's start-up and group join; sluice's start-up, spec validation, loading the ${fmtInt(o.indicators)}-indicator feed, group join, and the final flush and commit. The Java tool's own figure (from its first fetch request; rebalance time excluded): ${fmtInt(tool)} msg/s (fetch only ${fmtInt(fetch)} msg/s). The topic: ${fmtInt(o.lines)} squid lines, ${o.partitions} partitions, loaded by kafkajs in ${(tp.loadMs / 1000).toFixed(1)} s (not timed). Rounds alternate which system goes first.`,
    );
  }
  if (lt) {
    if (out.length) out.push('');
    out.push('| detection latency (produce → alert readable on the alerts topic) | |', '|---|---:|');
    out.push(`| target rate / achieved | ${fmtInt(lt.rate)} / ${fmtInt(lt.achievedRate)} lines/s for ${lt.seconds} s |`);
    out.push(`| malicious lines injected / alerts read | ${lt.injected} / ${lt.received} |`);
    out.push(
      `| p50 | ${fmtInt(lt.p50)} ms |`,
      `| p90 | ${fmtInt(lt.p90)} ms |`,
      `| **p99** | **${fmtInt(lt.p99)} ms** |`,
      `| max | ${fmtInt(lt.max)} ms |`,
      `| mean | ${fmtInt(lt.mean)} ms |`,
    );
    out.push('');
    out.push(
      `**Detection latency p99 ${fmtInt(lt.p99)} ms** at ${fmtInt(lt.achievedRate)} lines/s (goal p99 < 250 ms: ${lt.p99 < 250 && lt.received === lt.injected ? 'met' : 'NOT met'}${lt.received < lt.injected ? `; ${lt.injected - lt.received} alerts not read within 15 s of the end` : ''}). sluice was up and caught up ${(lt.startupMs / 1000).toFixed(1)} s after spawn (feed load included) before the clock started. Settings: \`flush_interval: 100ms\` (what the shipped Kafka pipeline uses), the kafka sink's default \`linger\` (5 ms), the source's default \`max_wait\` (100 ms), \`workers: ${o.latencyWorkers}\`, acks=all on the alerts topic; the steady lines come from Kafka's Java \`ProducerPerformance\` (\`--throughput\`, acks=1, linger.ms=5), the marked lines from a kafkajs producer in the bench (one request each, acks=1; the clock starts when its produce request is issued); the alerts reader long-polls (max wait 100 ms, min 1 byte).`,
    );
  }
  const md = out.join('\n');
  return { markdown: md, text: md };
}

/** Replace (or add, before `## Profile notes`) the `## Kafka` section of a RESULTS file. */
export const writeKafkaSection = (file: string, section: string): void => writeSection(file, '## Kafka', section);

/** The `## Kafka` section of a RESULTS file, kept when a full run rewrites the file. */
export const kafkaSection = (file: string): string | undefined => readSection(file, '## Kafka');
