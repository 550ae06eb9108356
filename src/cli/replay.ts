/**
 * `sluice replay FILES --topic T`: send the lines of log files (plain or .gz) to a Kafka topic at a
 * steady rate, one message per non-empty line, for demos and benchmarks. Creates the topic when it
 * is missing. Messages are produced with acks=all; the command prints what it sent.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { Message } from 'kafkajs';

export interface ReplayOptions {
  topic: string;
  brokers: string;
  rate?: number;
  partitions: number;
  loop: boolean;
  limit?: number;
  key?: 'none' | 'line';
  quiet?: boolean;
}

export interface ReplayResult {
  topic: string;
  lines: number;
  bytes: number;
  files: Array<{ file: string; lines: number; bytes: number }>;
  seconds: number;
  created: boolean;
}

/** "20000", "20000/s", "20k/s", "1.5k": messages per second. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|m)?(?:\/s)?$/i.exec(text.trim());
  if (!m) throw new Error(`--rate expects messages per second such as 5000, 5000/s or 20k/s, got '${text}'`);
  const n = Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1);
  if (!(n > 0)) throw new Error('--rate must be above 0');
  return n;
}

async function* lines(files: string[], loop: boolean, perFile: Map<string, { lines: number; bytes: number }>): AsyncGenerator<[string, string]> {
  do {
    let any = false;
    for (const file of files) {
      const raw = createReadStream(file);
      const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
      raw.on('error', (e) => input.destroy(e));
      const rl = createInterface({ input, crlfDelay: Infinity });
      const st = perFile.get(file) ?? { lines: 0, bytes: 0 };
      perFile.set(file, st);
      for await (const line of rl) {
        if (!line.length) continue;
        any = true;
        yield [file, line];
      }
    }
    if (!any) return; // nothing to loop over
  } while (loop);
}

export async function replay(files: string[], o: ReplayOptions, signal?: AbortSignal): Promise<ReplayResult> {
  const { Kafka, Partitioners, CompressionTypes, logLevel } = await import('kafkajs'); // ≈ 200 ms to load: only here
  const brokers = o.brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const kafka = new Kafka({
    clientId: 'sluice-replay',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  let created = false;
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(o.topic)) {
      created = await admin.createTopics({ topics: [{ topic: o.topic, numPartitions: o.partitions, replicationFactor: 1 }], waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const perFile = new Map<string, { lines: number; bytes: number }>();
  const started = Date.now();
  let sent = 0;
  let bytes = 0;
  let lastReport = started;
  const batchMax = o.rate ? Math.max(1, Math.min(5000, Math.ceil(o.rate / 50))) : 5000;
  const send = async (batch: Message[]) => {
    await producer.sendBatch({ topicMessages: [{ topic: o.topic, messages: batch }], acks: -1, compression: CompressionTypes.None });
  };
  try {
    let batch: Message[] = [];
    const it = lines(files, o.loop, perFile);
    for await (const [file, line] of it) {
      if (signal?.aborted) break;
      const st = perFile.get(file)!;
      st.lines++;
      st.bytes += Buffer.byteLength(line);
      batch.push(o.key === 'line' ? { key: line, value: line } : { value: line });
      bytes += Buffer.byteLength(line);
      if (batch.length >= batchMax || (o.limit !== undefined && sent + batch.length >= o.limit)) {
        await send(batch);
        sent += batch.length;
        batch = [];
        if (o.rate) {
          // Steady rate: wait until the time these messages were due.
          const due = started + (sent / o.rate) * 1000;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const now = Date.now();
        if (!o.quiet && now - lastReport >= 1000) {
          process.stderr.write(`replay: ${sent} lines sent to ${o.topic} (${Math.round(sent / ((now - started) / 1000))}/s)\n`);
          lastReport = now;
        }
        if (o.limit !== undefined && sent >= o.limit) break;
      }
    }
    if (batch.length && !signal?.aborted) {
      await send(batch);
      sent += batch.length;
    }
  } finally {
    await producer.disconnect();
  }
  return {
    topic: o.topic,
    lines: sent,
    bytes,
    files: [...perFile].map(([file, s]) => ({ file, ...s })),
    seconds: (Date.now() - started) / 1000,
    created,
  };
}

/** Register `sluice replay` on the program. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('Send the lines of log files (plain or .gz) to a Kafka topic at a steady rate (demos, benchmarks)')
    .argument('<files...>', 'log files')
    .requiredOption('--topic <topic>', 'topic to send to (created when missing)')
    .option('--brokers <list>', 'bootstrap brokers, comma-separated', process.env.KAFKA_BROKERS || '127.0.0.1:9092')
    .option('--rate <n/s>', 'messages per second (default: as fast as the broker takes them)')
    .option('--partitions <n>', 'partitions of the topic if it is created', '4')
    .option('--loop', 'start over at the end of the files (until --limit or Ctrl-C)')
    .option('--limit <n>', 'stop after this many lines')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], opts) => {
      const controller = new AbortController();
      process.on('SIGINT', () => controller.abort());
      process.on('SIGTERM', () => controller.abort());
      let rate: number | undefined;
      try {
        rate = opts.rate === undefined ? undefined : parseRate(opts.rate);
      } catch (err) {
        process.stderr.write(`sluice: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const partitions = Number(opts.partitions);
      const limit = opts.limit === undefined ? undefined : Number(opts.limit);
      if (!Number.isInteger(partitions) || partitions < 1 || (limit !== undefined && !(Number.isInteger(limit) && limit > 0))) {
        process.stderr.write('sluice: --partitions and --limit take positive whole numbers\n');
        process.exit(2);
      }
      try {
        const r = await replay(files, { topic: opts.topic, brokers: opts.brokers, rate, partitions, loop: !!opts.loop, limit }, controller.signal);
        if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
        else {
          for (const f of r.files) process.stdout.write(`${f.file}: ${f.lines} lines read\n`);
          process.stdout.write(
            `sent ${r.lines} lines (${r.bytes} bytes) to ${r.topic}${r.created ? ` (created, ${partitions} partitions)` : ''} in ${r.seconds.toFixed(1)} s, ${Math.round(r.lines / Math.max(r.seconds, 0.001))} lines/s\n`,
          );
        }
        process.exit(0);
      } catch (err) {
        process.stderr.write(`sluice: replay failed: ${(err as Error).message}\n`);
        process.exit(1);
      }
    });
}
