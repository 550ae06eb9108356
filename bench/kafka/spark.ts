/**
 * Spark Structured Streaming beside sluice in the Kafka bench (`npm run bench -- --kafka --peers`):
 * bench/peers/spark/kafka_stream.py reads the same topic (`readStream.format("kafka")`), runs the
 * same sweep as the other Spark peers on each micro-batch and writes JSON alerts and rejects to
 * topics of its own.
 *
 * - Throughput: in each round of bench/kafka/run.ts, on the same 1M-line topic, with
 *   `trigger(availableNow)` so that it reads the topic from the beginning to its current end and
 *   stops; timed as a whole process tree (Python driver + JVM: start-up, feed load, the sweep, the
 *   writes), like sluice's `run --once`. Its alerts and rejects are read back and compared with the
 *   sluice run of the same round, message by message (origin partition + offset) and indicator by
 *   indicator (bench/peers/agree.ts's canonical form).
 * - Detection latency: run.ts's latency run, with Spark started instead of sluice on topics of its
 *   own (same rate, same marked lines, same alerts reader), once per trigger asked for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { Measured } from '../lib/measure.js';
import { ROOT } from '../lib/paths.js';
import { count, indicatorKey, minus } from '../peers/agree.js';
import { measureTree } from '../peers/measure.js';
import { deleteTopics, freshTopic, topicCount } from './broker.js';
import type { KafkaBenchOptions, LatencyResult, LatencySystem, ThroughputRound } from './run.js';

export interface Agreement {
  ok: boolean;
  missingAlerts: number;
  extraAlerts: number;
  missingRejects: number;
  extraRejects: number;
  examples: string[];
}

export interface PeerThroughput extends Measured {
  alerts: number;
  rejects: number;
  /** Spark's own account (stdout of kafka_stream.py): start-up + feed load, total, micro-batches. */
  summary?: { feedS: number; totalS: number; rows: number; batches: { batch: number; rows: number; s: number }[] };
  agreement?: Agreement;
}

export interface KafkaPeer {
  name: string;
  throughput(v: { kafka: Kafka; topic: string; lines: number; round: number; rounds: number; dir: string; stamp: string }): Promise<PeerThroughput>;
  /** sluice's alerts and rejects topics of a round, read before run.ts deletes them. */
  reference(kafka: Kafka, round: number, alertsTopic: string, rejectsTopic: string): Promise<void>;
  /** After sluice's runs: the peer's latency runs, then its part of the report (markdown). */
  finish(v: {
    o: KafkaBenchOptions;
    kafka: Kafka;
    stamp: string;
    throughput?: ThroughputRound[];
    sluiceLatency?: LatencyResult;
    latency: (s: LatencySystem) => Promise<LatencyResult>;
  }): Promise<string>;
}

export interface SparkKafkaOptions {
  python: string;
  /** Comma-separated jar files of the Kafka connector (install.sh's `sparkKafka.jars`). */
  jars: string;
  brokers: string;
  feedPath: string;
  /** Triggers of the latency runs, each measured once: `default`, `processing-time:MS`. */
  triggers: string[];
  log: (msg: string) => void;
}

const SCRIPT = join(ROOT, 'bench', 'peers', 'spark', 'kafka_stream.py');
/** How long a latency run waits for Spark's last alerts after the stream ends. */
const DRAIN_S = 120;
const median = (xs: number[]) => {
  const a = xs.filter(Number.isFinite).sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length ? (a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2) : NaN;
};
const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmtMs = (n: number) => (Number.isFinite(n) ? `${fmtInt(n)} ms` : '—');

type Json = Record<string, unknown>;

/** Every message of a topic as parsed JSON (the topic is complete: its count is read first). */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 180_000): Promise<Json[]> {
  const want = await topicCount(kafka, topic);
  const out: Json[] = [];
  if (want === 0) return out;
  const consumer = kafka.consumer({ groupId: `bench-read-${topic}-${Date.now().toString(36)}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic}: ${out.length} of ${want} messages in ${timeoutMs / 1000} s`)), timeoutMs);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) out.push(JSON.parse(m.value?.toString('utf8') ?? 'null') as Json);
            if (out.length >= want) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return out;
}

/** `partition:offset` of the message a record came from (sluice's and the peer's `origin`). */
const originKey = (r: Json) => {
  const o = (r.origin ?? {}) as { partition?: unknown; offset?: unknown };
  return `${String(o.partition)}:${String(o.offset)}`;
};
const alertKey = (a: Json) => {
  const e = (a.threat as { enrichments?: unknown[] } | undefined)?.enrichments ?? [];
  return `${originKey(a)}\t${[...new Set(e.map(indicatorKey))].sort().join(' | ')}`;
};

export interface Keys {
  alerts: Map<string, number>;
  rejects: Map<string, number>;
}
/** What the agreement check compares: alerts by message and indicators, rejects by message (multisets). */
export function keysFrom(alerts: Json[], rejects: Json[]): Keys {
  return { alerts: count(alerts.map(alertKey)), rejects: count(rejects.map(originKey)) };
}
async function keysOf(kafka: Kafka, alertsTopic: string, rejectsTopic: string): Promise<Keys> {
  return keysFrom(await readTopic(kafka, alertsTopic), await readTopic(kafka, rejectsTopic));
}

export function compare(sluice: Keys, peer: Keys): Agreement {
  const missA = minus(sluice.alerts, peer.alerts);
  const extraA = minus(peer.alerts, sluice.alerts);
  const missR = minus(sluice.rejects, peer.rejects);
  const extraR = minus(peer.rejects, sluice.rejects);
  return {
    ok: missA.length + extraA.length + missR.length + extraR.length === 0,
    missingAlerts: missA.length,
    extraAlerts: extraA.length,
    missingRejects: missR.length,
    extraRejects: extraR.length,
    examples: [
      ...missA.slice(0, 3).map((k) => `alert only in sluice: ${k}`),
      ...extraA.slice(0, 3).map((k) => `alert only in Spark: ${k}`),
      ...missR.slice(0, 2).map((k) => `reject only in sluice: ${k}`),
      ...extraR.slice(0, 2).map((k) => `reject only in Spark: ${k}`),
    ],
  };
}

/**
 * Process groups of the Spark jobs started for the latency runs (detached, so that the driver and its
 * JVM can be ended together). Ended when the bench exits or is interrupted, too: a detached group is
 * not ended with the bench's own group, and a Spark job left running would load the machine for
 * whoever measures next.
 */
const live = new Set<number>();
function endAll(): void {
  for (const pgid of live) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  live.clear();
}
let hooked = false;
function track(child: ChildProcess): ChildProcess {
  if (child.pid) live.add(child.pid);
  if (!hooked) {
    hooked = true;
    process.on('exit', endAll);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      process.once(sig, () => {
        endAll();
        process.kill(process.pid, sig);
      });
  }
  return child;
}

/** Ends a process group started with `detached: true` (Python driver and its JVM): TERM, KILL 15 s later. */
function stopGroup(child: ChildProcess): void {
  const pgid = child.pid;
  if (!pgid) return;
  live.delete(pgid);
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      /* gone */
    }
  };
  kill('SIGTERM');
  setTimeout(() => kill('SIGKILL'), 15_000).unref();
}

export function sparkKafkaPeer(so: SparkKafkaOptions): KafkaPeer {
  const refs = new Map<number, Keys>();
  const peerKeys = new Map<number, Keys>();
  const args = (topic: string, alertsTopic: string, rejectsTopic: string, checkpoint: string, trigger: string) => [
    SCRIPT,
    '--brokers',
    so.brokers,
    '--topic',
    topic,
    '--feed',
    so.feedPath,
    '--alerts-topic',
    alertsTopic,
    '--rejects-topic',
    rejectsTopic,
    '--checkpoint',
    checkpoint,
    '--jars',
    so.jars,
    '--trigger',
    trigger,
  ];
  return {
    name: 'Spark Structured Streaming',
    async throughput({ kafka, topic, lines, round, rounds, dir, stamp }) {
      const alertsTopic = `bench.kafka.${stamp}.alerts-${round}-spark`;
      const rejectsTopic = `bench.kafka.${stamp}.rejects-${round}-spark`;
      await freshTopic(kafka, alertsTopic, 1);
      await freshTopic(kafka, rejectsTopic, 1);
      const m = await measureTree({
        command: so.python,
        args: args(topic, alertsTopic, rejectsTopic, join(dir, 'checkpoint'), 'available-now'),
        cwd: ROOT,
        stderrFile: join(dir, 'stderr.log'),
        timeoutMs: 1_800_000,
      });
      const alerts = await topicCount(kafka, alertsTopic);
      const rejects = await topicCount(kafka, rejectsTopic);
      let summary: PeerThroughput['summary'];
      try {
        summary = JSON.parse(m.stdout.trim().split('\n').at(-1) ?? '') as PeerThroughput['summary'];
      } catch {
        /* failed run: no summary */
      }
      if (m.ok) peerKeys.set(round, await keysOf(kafka, alertsTopic, rejectsTopic));
      await deleteTopics(kafka, [alertsTopic, rejectsTopic]);
      so.log(
        `  [${round}/${rounds}] spark streaming (availableNow) ${(m.wallMs / 1000).toFixed(2).padStart(7)} s  ${fmtInt(lines / (m.wallMs / 1000)).padStart(9)} lines/s  alerts ${alerts} rejects ${rejects}${summary ? `  (start-up + feed load ${summary.feedS} s, ${summary.batches.length} micro-batch(es))` : ''}${m.ok ? '' : `  FAILED (exit ${m.exitCode ?? m.signal}): ${m.stderrTail.trim().split('\n').slice(-3).join(' | ')}`}`,
      );
      return { ...m, alerts, rejects, summary };
    },
    async reference(kafka, round, alertsTopic, rejectsTopic) {
      refs.set(round, await keysOf(kafka, alertsTopic, rejectsTopic));
    },
    async finish({ o, throughput, sluiceLatency, latency }) {
      // the agreement of every round whose two runs both finished
      for (const r of throughput ?? []) {
        const ref = refs.get(r.round);
        const mine = peerKeys.get(r.round);
        if (r.peer && ref && mine) r.peer.agreement = compare(ref, mine);
      }
      const lat: { trigger: string; r?: LatencyResult; error?: string }[] = [];
      if (o.seconds > 0) {
        for (const trigger of so.triggers) {
          const id = `spark-${trigger.replace(/[^a-z0-9]+/gi, '')}`;
          try {
            const r = await latency({
              id,
              upTimeoutS: 900,
              drainS: DRAIN_S,
              spawn: ({ topic, alertsTopic, rejectsTopic, dir, outFd }) =>
                track(
                  spawn(so.python, args(topic, alertsTopic, rejectsTopic, join(dir, 'checkpoint'), trigger), {
                    cwd: ROOT,
                    stdio: ['ignore', outFd, outFd],
                    detached: true,
                  }),
                ),
              stop: stopGroup,
            });
            lat.push({ trigger, r });
            so.log(
              `  latency (spark, trigger ${trigger}): p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}, max ${fmtMs(r.max)}; ${r.received}/${r.injected} alerts read`,
            );
          } catch (e) {
            lat.push({ trigger, error: (e as Error).message });
            so.log(`  latency (spark, trigger ${trigger}) FAILED: ${(e as Error).message}`);
          }
        }
      }
      return render(o, throughput, sluiceLatency, lat);
    },
  };
}

function render(
  o: KafkaBenchOptions,
  rounds: ThroughputRound[] | undefined,
  sl: LatencyResult | undefined,
  lat: { trigger: string; r?: LatencyResult; error?: string }[],
): string {
  const out: string[] = ['### Kafka → alerts: sluice beside Spark Structured Streaming', ''];
  const rate = (m?: Measured) => (m?.ok ? o.lines / (m.wallMs / 1000) : NaN);
  const ok = (ms: (Measured | undefined)[]) => ms.filter((m): m is Measured => !!m?.ok);
  const rs = rounds ?? [];
  const sluiceRuns = rs.map((r) => r.sluice[o.workers]);
  const sparkRuns = rs.map((r) => r.peer);
  const sLps = median(sluiceRuns.map(rate));
  const pLps = median(sparkRuns.map(rate));
  const det = (r?: LatencyResult) =>
    r
      ? `${fmtMs(r.p50)} / **${fmtMs(r.p99)}** / ${fmtMs(r.max)}${r.received < r.injected ? ` (${r.injected - r.received} of ${r.injected} alerts never read)` : ''}`
      : '—';
  const cpu = (ms: (Measured | undefined)[]) => (ok(ms).length ? (median(ok(ms).map((m) => m.cpuMs)) / 1000).toFixed(1) : '—');
  const rss = (ms: (Measured | undefined)[]) => (ok(ms).length ? `${(Math.max(...ok(ms).map((m) => m.peakRss)) / 2 ** 20).toFixed(0)} MiB` : '—');
  const ratio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '—');
  const lps = (ms: (Measured | undefined)[]) => `${fmtInt(median(ms.map(rate)))}${ms.length > 1 ? ` (${ms.map((m) => fmtInt(rate(m))).join(', ')})` : ''}`;
  const agreements = sparkRuns.map((p) => p?.agreement);
  const agreed = agreements.filter((a): a is Agreement => !!a);
  const same =
    agreed.length === 0
      ? 'not checked'
      : agreed.every((a) => a.ok)
        ? `yes (${agreed.length}/${rs.length} rounds)`
        : `**NO** (${agreed.filter((a) => !a.ok).length}/${agreed.length} rounds differ)`;
  const invalid = agreed.length === 0 || !agreed.every((a) => a.ok);
  out.push(
    '| system | lines/s, median (rounds) | CPU s | peak RSS | detection p50 / **p99** / max | sluice ÷ it (lines/s) | its p99 ÷ sluice’s | same alerts and rejects as sluice |',
    '|---|---:|---:|---:|---|---:|---:|---|',
  );
  const javaRuns = rs.map((r) => r.java);
  out.push(
    `| Kafka \`ConsumerPerformance\` (Java; reads only) | ${lps(javaRuns)} | ${cpu(javaRuns)} | ${rss(javaRuns)} | — | ${ratio(sLps / median(javaRuns.map(rate)))} | — | — |`,
  );
  out.push(
    `| sluice: \`run --once\` (workers ${o.workers}); latency run workers ${o.latencyWorkers} | ${lps(sluiceRuns)} | ${cpu(sluiceRuns)} | ${rss(sluiceRuns)} | ${det(sl)} | 1.00× | 1.00× | — |`,
  );
  const p99ratio = (r?: LatencyResult) => (r && sl ? `${(r.p99 / sl.p99).toFixed(1)}×` : '—');
  const first = lat[0];
  out.push(
    `| Spark Structured Streaming: \`availableNow\`; latency run trigger ${first ? `\`${first.trigger}\`` : '—'} | ${lps(sparkRuns)} | ${cpu(sparkRuns)} | ${rss(sparkRuns)} | ${first?.error ? `failed: ${first.error}` : det(first?.r)} | ${ratio(sLps / pLps)}${invalid && rs.length ? ' INVALID' : ''} | ${p99ratio(first?.r)} | ${same} |`,
  );
  for (const l of lat.slice(1))
    out.push(
      `| Spark Structured Streaming, latency run trigger \`${l.trigger}\` | | | | ${l.error ? `failed: ${l.error}` : det(l.r)} | | ${p99ratio(l.r)} | |`,
    );
  out.push('');
  for (const [i, a] of agreements.entries()) {
    if (!a || a.ok) continue;
    out.push(
      `- **MISMATCH Spark streaming (round ${i + 1})**: alerts only in sluice ${a.missingAlerts}, only in Spark ${a.extraAlerts}; rejects only in sluice ${a.missingRejects}, only in Spark ${a.extraRejects}. Its ratio is INVALID.${a.examples.map((e) => `\n  - ${e.replace(/\|/g, '\\|')}`).join('')}`,
    );
  }
  const spark1 = sparkRuns.find((p) => p?.summary)?.summary;
  const feedS = median(sparkRuns.map((p) => p?.summary?.feedS ?? NaN));
  const tot = median(sparkRuns.map((p) => p?.summary?.totalS ?? NaN));
  const best = lat.find((l) => l.r)?.r;
  out.push(
    `${rs.length ? `**Throughput: sluice ${(sLps / pLps).toFixed(2)}× Spark Structured Streaming** on the same topic${invalid ? ' (INVALID: the alerts differ or were not checked)' : ', same alerts and rejects message by message'}` : 'No throughput rounds'}${best && sl ? `; **detection p99: sluice ${fmtMs(sl.p99)}, Spark ${fmtMs(best.p99)} (${(best.p99 / sl.p99).toFixed(1)}×)**` : ''}${best && best.received < best.injected ? ` — and that p99 is of the alerts Spark wrote at all: ${best.injected - best.received} of ${best.injected} were not out ${DRAIN_S} s after the stream ended (Spark fell behind the stream; its percentiles are a lower bound)` : ''}.`,
  );
  out.push(
    `Spark: \`bench/peers/spark/kafka_stream.py\`, \`local[*]\`, Spark's defaults; \`readStream.format("kafka")\` from the earliest offset → \`foreachBatch\`: the sweep of the other Spark peers (regex parse, one broadcast join against the ${fmtInt(o.indicators)}-indicator feed, loaded and cached at start) → \`write.format("kafka")\` of JSON alerts (key \`source.ip\`) and rejects, each with its message's \`origin\`. Throughput: \`trigger(availableNow)\`, the whole process tree (Python driver and JVM) timed from spawn to exit like sluice's \`--once\`${Number.isFinite(feedS) ? `; of its median ${tot.toFixed(0)} s (its own clock), ${feedS.toFixed(0)} s were start-up and feed load` : ''}${spark1 ? `, the topic was read in ${spark1.batches.length} micro-batch(es)` : ''}. Its alerts and rejects were read back and compared with sluice's of the same round by message (partition, offset) and by indicator. Detection latency: the same run as sluice's above (the same steady ${fmtInt(o.rate)} lines/s from Java \`ProducerPerformance\`, one marked malicious line per 1,000 from kafkajs, the same alerts reader), Spark started instead of sluice on topics of its own; \`default\` is Spark's default trigger (the next micro-batch as soon as the previous one ends: the lowest latency micro-batch mode offers), \`processing-time:MS\` a fixed interval.${lat
      .filter((l) => l.r)
      .map(
        (l) =>
          ` Trigger \`${l.trigger}\`: up and caught up ${(l.r!.startupMs / 1000).toFixed(0)} s after spawn, achieved ${fmtInt(l.r!.achievedRate)} lines/s, ${l.r!.received}/${l.r!.injected} alerts read, mean ${fmtMs(l.r!.mean)}.`,
      )
      .join('')}`,
  );
  return out.join('\n');
}
