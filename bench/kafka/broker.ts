/**
 * The broker side of the Kafka benchmarks: topics, loading a log file into a topic, counting what a
 * topic holds, and Kafka's own Java tools (the `kafka-tools` jar test/services fetches) for the
 * reference consumer.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin, type Message } from 'kafkajs';
import { ROOT } from '../lib/paths.js';

export function client(brokers: string, clientId = 'sluice-bench'): Kafka {
  return new Kafka({ clientId, brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8 } });
}

export async function withAdmin<T>(kafka: Kafka, fn: (a: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A fresh topic (deleted first if it exists). */
export async function freshTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  await withAdmin(kafka, async (a) => {
    if ((await a.listTopics()).includes(topic)) {
      await a.deleteTopics({ topics: [topic], timeout: 30_000 });
      for (let i = 0; i < 100 && (await a.listTopics()).includes(topic); i++) await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; ; i++) {
      try {
        await a.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
        return;
      } catch (e) {
        // a delete still in progress answers TOPIC_ALREADY_EXISTS for a moment
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  });
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  await withAdmin(kafka, async (a) => {
    const have = new Set(await a.listTopics());
    const gone = topics.filter((t) => have.has(t));
    if (gone.length) await a.deleteTopics({ topics: gone, timeout: 30_000 }).catch(() => undefined);
  });
}

/** Messages a topic holds (sum over partitions of high − low watermark); 0 when it does not exist. */
export async function topicCount(kafka: Kafka, topic: string): Promise<number> {
  return withAdmin(kafka, async (a) => {
    if (!(await a.listTopics()).includes(topic)) return 0;
    let n = 0;
    for (const p of await a.fetchTopicOffsets(topic)) n += Number(p.high) - Number(p.low);
    return n;
  });
}

/**
 * Produce every line of a file, one message per line, in order, spread over the partitions in
 * blocks (line i to partition ⌊i / block⌋ mod P): big uncompressed batches, acks=1. Not measured.
 */
export async function loadFile(kafka: Kafka, topic: string, path: string, partitions: number): Promise<{ lines: number; ms: number }> {
  const t0 = performance.now();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const buf = readFileSync(path);
  const BLOCK = 5_000;
  const inflight = new Set<Promise<unknown>>();
  let lines = 0;
  let batch: Message[] = [];
  let start = 0;
  let first = true;
  const send = async (msgs: Message[], partition: number) => {
    const p = producer.send({ topic, acks: 1, messages: msgs.map((m) => ({ ...m, partition })) });
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    // the first send alone: concurrent sends before the topic's metadata is known time out on kafkajs's lock
    if (first || inflight.size >= 8) await Promise.race(inflight);
    first = false;
  };
  for (let i = buf.indexOf(10); start < buf.length; i = buf.indexOf(10, start)) {
    const end = i === -1 ? buf.length : i;
    batch.push({ value: buf.subarray(start, end) });
    start = end + 1;
    if (batch.length === BLOCK) {
      await send(batch, Math.floor(lines / BLOCK) % partitions);
      lines += batch.length;
      batch = [];
    }
    if (i === -1) break;
  }
  if (batch.length) {
    await send(batch, Math.floor(lines / BLOCK) % partitions);
    lines += batch.length;
  }
  await Promise.all(inflight);
  await producer.disconnect();
  return { lines, ms: performance.now() - t0 };
}

/**
 * The classpath of the Kafka jars (kafka-tools included) that `npm run services:up` fetched: the
 * services' jar cache (SLUICE_SERVICES_DIR, test/services/.jars, ~/.cache/sluice/services).
 */
export function kafkaToolsClasspath(): string | undefined {
  const dirs = [process.env.SLUICE_SERVICES_DIR, join(ROOT, 'test', 'services', '.jars'), join(homedir(), '.cache', 'sluice', 'services')]
    .filter((d): d is string => !!d)
    .map((d) => join(d, 'kafka', 'lib'));
  for (const d of dirs) {
    try {
      if (existsSync(d) && readdirSync(d).some((f) => /^kafka-tools-\d.*\.jar$/.test(f))) return join(d, '*');
    } catch {
      /* next */
    }
  }
  return undefined;
}
