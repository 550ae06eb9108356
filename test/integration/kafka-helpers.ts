/**
 * Helpers for the kafka pipeline suites: proxy lines that can be told apart, topics to produce to
 * and read back whole, a pipeline spec (kafka → proxy-log → ioc-sweep → kafka), and the books:
 * which input offsets came out as records, alerts or rejects, and how often.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { Kafka, logLevel, Partitioners, type Admin, type Producer, type Message } from 'kafkajs';
import { KAFKA_BROKERS } from './services.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FEED = resolve(ROOT, 'examples/feeds/bad-ips.txt');
export const SLOW_PREPARE_PLUGIN = resolve(ROOT, 'test/fixtures/plugins/slow-prepare.mjs');

export const kafka = new Kafka({
  clientId: 'sluice-it',
  brokers: KAFKA_BROKERS,
  logLevel: logLevel.NOTHING,
  retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 3000 },
});

export const unique = (what: string) => `it-${what}-${randomUUID().slice(0, 8)}`;

/** Every `BAD`th line goes to a host on the feed (an alert), every `JUNK`th line is not a log line. */
export const BAD = 97;
export const JUNK = 101;

/** Squid native line number `i`, unique by its URL path. */
export function proxyLine(i: number): string {
  if (i % JUNK === JUNK - 1) return `garbage line ${i} \u0007 not a proxy log`;
  const ts = (1_764_979_200 + i / 1000).toFixed(3);
  const host = i % BAD === BAD - 1 ? 'evil.example' : `site${i % 50}.example.org`;
  return `${ts}    ${10 + (i % 300)} 10.0.${(i >> 8) & 255}.${i & 255} TCP_MISS/200 ${500 + (i % 1000)} GET http://${host}/p/${i} - DIRECT/192.0.2.10 text/html`;
}

const countWhere = (n: number, f: (i: number) => boolean) => {
  let c = 0;
  for (let i = 0; i < n; i++) if (f(i)) c++;
  return c;
};
const isJunk = (i: number) => i % JUNK === JUNK - 1;
/** Alerts expected from lines 0..n-1 (a junk line raises none). */
export const expectedAlerts = (n: number) => countWhere(n, (i) => i % BAD === BAD - 1 && !isJunk(i));
export const expectedJunk = (n: number) => countWhere(n, isJunk);

/**
 * Whether an error of the test's own clients is worth another try: a broker that just started
 * (or restarted) answers "not the leader", "does not host this topic-partition", "the coordinator
 * is loading", "not the correct coordinator" for a while, and kafkajs does not retry all of them.
 */
export function retriable(err: unknown): boolean {
  for (
    let e = err as { retriable?: boolean; name?: string; code?: string; cause?: unknown; originalError?: unknown; errors?: unknown[] } | undefined, i = 0;
    e && i < 10;
    i++
  ) {
    if (e.retriable === true || e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSRequestTimeoutError')
      return true;
    if (typeof e.code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/.test(e.code)) return true;
    if (Array.isArray(e.errors) && e.errors.some(retriable)) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

/** `op` again (after a short wait) while it fails with retriable errors, for up to `ms`. */
export async function again<T>(what: string, op: () => Promise<T>, ms = 60_000): Promise<T> {
  const t0 = Date.now();
  for (let n = 0; ; n++) {
    try {
      return await op();
    } catch (err) {
      if (!retriable(err) || Date.now() - t0 > ms) throw err;
      if (n === 0 || n % 10 === 0) console.error(`[kafka-helpers] ${what}: ${(err as Error).message}; trying again`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** Math.min(n, 3))));
    }
  }
}

export async function withAdmin<T>(fn: (a: Admin) => Promise<T>): Promise<T> {
  return again('admin', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  });
}

export async function createTopic(topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
  await withAdmin(async (a) => {
    // a retry after a create the broker did but did not answer finds the topic there
    if ((await a.listTopics()).includes(topic)) return;
    await a.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) }],
      waitForLeaders: true,
    });
  });
  // every partition has a leader that answers before the test produces to it
  await withAdmin(async (a) => {
    const offsets = await a.fetchTopicOffsets(topic);
    if (offsets.length !== partitions)
      throw Object.assign(new Error(`topic ${topic} has ${offsets.length}/${partitions} partitions so far`), { retriable: true });
  });
}

export async function deleteTopics(topics: string[]): Promise<void> {
  await withAdmin((a) => a.deleteTopics({ topics })).catch(() => undefined);
}

export class LineProducer {
  private producer: Producer | undefined;
  sent = 0;
  constructor(private readonly topic: string) {}

  async send(messages: Message[]): Promise<void> {
    // idempotent: a send kafkajs retries across a broker restart does not put a line in the topic
    // twice. A send that fails all the same (an error kafkajs does not retry) is sent again by a
    // new producer: at worst a line is in the input twice, at two offsets, each accounted for.
    await again(`produce to ${this.topic}`, async () => {
      if (!this.producer) {
        const producer = kafka.producer({
          idempotent: true,
          maxInFlightRequests: 1,
          createPartitioner: Partitioners.DefaultPartitioner,
          retry: { retries: 30, initialRetryTime: 300, maxRetryTime: 3000 },
        });
        await producer.connect();
        this.producer = producer;
      }
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages });
      } catch (err) {
        const dead = this.producer;
        this.producer = undefined;
        await dead?.disconnect().catch(() => undefined);
        throw err;
      }
    });
  }

  /** Lines `from` .. `from+n-1`, in batches, at about `rate` lines/s (as fast as possible without). */
  async lines(from: number, n: number, rate?: number): Promise<void> {
    const t0 = Date.now();
    const step = rate ? Math.max(1, Math.ceil(rate / 20)) : 2000;
    for (let i = from; i < from + n; i += step) {
      const m = Math.min(step, from + n - i);
      await this.send(Array.from({ length: m }, (_, k) => ({ value: proxyLine(i + k) })));
      this.sent += m;
      if (rate) {
        const wait = t0 + ((i + m - from) / rate) * 1000 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

/** How many messages a topic holds (0 when it does not exist yet). */
export async function produced(topic: string): Promise<number> {
  return withAdmin(async (a) => {
    if (!(await a.listTopics()).includes(topic)) return 0;
    return (await a.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(BigInt(p.high) - BigInt(p.low)), 0);
  });
}

/** Every message of a topic, read to the end offsets it has now. */
export async function readAll(topic: string): Promise<Array<{ partition: number; offset: string; value: Buffer | null }>> {
  return again(`read ${topic}`, () => readAllOnce(topic));
}

async function readAllOnce(topic: string): Promise<Array<{ partition: number; offset: string; value: Buffer | null }>> {
  // a sink creates its topic when it first sends: no topic, no messages
  if (!(await withAdmin((a) => a.listTopics())).includes(topic)) return [];
  const ends = await withAdmin((a) => a.fetchTopicOffsets(topic));
  const want = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
  const total = ends.reduce((s, p) => s + Number(BigInt(p.high) - BigInt(p.low)), 0);
  const out: Array<{ partition: number; offset: string; value: Buffer | null }> = [];
  if (total === 0) return out;
  const consumer = kafka.consumer({ groupId: unique('reader'), maxWaitTimeInMs: 100, maxBytesPerPartition: 10 * 1024 * 1024 });
  const pos = new Map<number, bigint>();
  const done = () => [...want].every(([p, end]) => (pos.get(p) ?? 0n) >= end);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (BigInt(m.offset) < (want.get(batch.partition) ?? 0n)) out.push({ partition: batch.partition, offset: m.offset, value: m.value });
        }
        pos.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
        if (done()) finish();
      },
    });
    await Promise.race([finished, new Promise((_, rej) => setTimeout(() => rej(new Error(`reading ${topic} timed out: ${out.length}/${total}`)), 60_000))]);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

export interface Topics {
  input: string;
  records: string;
  alerts: string;
  rejects: string;
  group: string;
}

export function topicsFor(name: string): Topics {
  const id = unique(name);
  return { input: `${id}.in`, records: `${id}.records`, alerts: `${id}.alerts`, rejects: `${id}.rejects`, group: `${id}.group` };
}

/**
 * The test pipeline: kafka → proxy-log → ioc-sweep → records, alerts, rejects each to a topic.
 * `slowPrepareMs`: the records pass through a node whose `prepare` takes that long (the source is
 * created, and joins its group, meanwhile).
 */
export function writeSpec(
  t: Topics,
  opts: { workers?: number; session?: string; heartbeat?: string; maxMessageBytes?: number; slowPrepareMs?: number } = {},
): string {
  const dir = tempDir('kafka-it-');
  const file = join(dir, 'spec.yaml');
  const slow = opts.slowPrepareMs !== undefined;
  const sink = (topic: string, extra = '') => `{ brokers: ["${KAFKA_BROKERS.join(',')}"], topic: ${topic}, partitions: 2${extra} }`;
  writeFileSync(
    file,
    `version: 1
name: kafka-it
settings: { workers: ${opts.workers ?? 1}, flush_interval: 100ms }${slow ? `\nplugins: [${JSON.stringify(SLOW_PREPARE_PLUGIN)}]` : ''}
nodes:
  src:
    source: kafka
    with:
      brokers: ["${KAFKA_BROKERS.join(',')}"]
      topics: [${t.input}]
      group_id: ${t.group}
      batch_size: 500
      session_timeout: ${opts.session ?? '10s'}
      heartbeat_interval: ${opts.heartbeat ?? '1s'}
      commit_interval: 200ms${opts.maxMessageBytes ? `\n      max_message_bytes: ${opts.maxMessageBytes}\n      max_bytes_per_partition: ${opts.maxMessageBytes * 4}` : ''}
  parse:
    transform: proxy-log
    from: src
    with: { format: squid }
  sweep:
    analyse: ioc-sweep
    from: parse
    with: { feeds: [{ name: bad, path: ${FEED}, format: list }] }
${slow ? `  hold:\n    transform: slow-prepare\n    from: sweep\n    with: { ms: ${opts.slowPrepareMs} }\n` : ''}  records:
    sink: kafka
    from: ${slow ? 'hold' : 'sweep'}
    with: ${sink(t.records)}
  alerts:
    sink: kafka
    from: sweep.alerts
    with: ${sink(t.alerts, ', key: source.ip')}
  rejects:
    sink: kafka
    from: [src.invalid, parse.invalid]
    with: ${sink(t.rejects)}
`,
  );
  return file;
}

export interface Books {
  /** Input offsets ("partition/offset") seen as a record or a reject, and how often. */
  seen: Map<string, number>;
  records: number;
  rejects: number;
  alerts: number;
  /** Distinct input offsets that raised an alert. */
  alertOrigins: Set<string>;
  rejectCodes: Map<string, number>;
  rejectRecords: any[];
}

const originKey = (o: any) => (o && o.partition !== undefined ? `${o.partition}/${o.offset}` : '?');

/** Read the output topics and account for every input offset. */
export async function books(t: Topics): Promise<Books> {
  const b: Books = { seen: new Map(), records: 0, rejects: 0, alerts: 0, alertOrigins: new Set(), rejectCodes: new Map(), rejectRecords: [] };
  const count = (k: string) => b.seen.set(k, (b.seen.get(k) ?? 0) + 1);
  for (const m of await readAll(t.records)) {
    const r = JSON.parse(m.value!.toString());
    b.records++;
    count(originKey(r.origin));
  }
  for (const m of await readAll(t.rejects)) {
    const r = JSON.parse(m.value!.toString());
    b.rejects++;
    b.rejectRecords.push(r);
    b.rejectCodes.set(r.error.code, (b.rejectCodes.get(r.error.code) ?? 0) + 1);
    count(originKey(r.origin));
  }
  for (const m of await readAll(t.alerts)) {
    const r = JSON.parse(m.value!.toString());
    b.alerts++;
    b.alertOrigins.add(originKey(r.origin));
  }
  return b;
}

/** Input offsets of the input topic that no output accounts for. */
export async function missing(t: Topics, b: Books): Promise<string[]> {
  const ends = await withAdmin((a) => a.fetchTopicOffsets(t.input));
  const out: string[] = [];
  for (const p of ends) for (let o = BigInt(p.low); o < BigInt(p.high); o++) if (!b.seen.has(`${p.partition}/${o}`)) out.push(`${p.partition}/${o}`);
  return out;
}

/** Input offsets ("partition/offset") whose line should raise an alert, read from the input topic itself. */
export async function alertingOffsets(t: Topics): Promise<Set<string>> {
  const out = new Set<string>();
  for (const m of await readAll(t.input)) {
    const v = m.value?.toString() ?? '';
    if (v.includes('//evil.example/') && !v.startsWith('garbage')) out.add(`${m.partition}/${m.offset}`);
  }
  return out;
}

export const duplicates = (b: Books) => [...b.seen.values()].reduce((s, n) => s + (n > 1 ? n - 1 : 0), 0);

export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms: number, every = 500): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
