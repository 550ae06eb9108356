/**
 * `kafka` source: a kafkajs consumer group read in batches. Each message becomes
 * `{ message, origin: { topic, partition, offset }, key?, timestamp?, headers? }`; offsets are
 * committed only for messages every sink made durable (see offsets.ts), so a crash, an outage or a
 * rebalance re-reads work that was not finished and never skips any.
 *
 * kafkajs hands batches to `eachBatch`, which returns at once after queueing them here: the
 * source's own loop emits them, and awaiting `emit` is the backpressure. While that queue is full
 * the partitions are paused, so kafkajs stops fetching but keeps heartbeating (a paused consumer
 * still runs its fetch loop, which heartbeats), and a rebalance never waits on a slow pipeline.
 */
import { isAscii, isUtf8 } from 'node:buffer';
// Types only: kafkajs takes ≈ 200 ms to load; it is loaded when a kafka node is created.
import type { Admin, Batch as KafkaBatch, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import {
  definePlugin,
  makeInvalid,
  parseDuration,
  type ConfigIssue,
  type OnDurable,
  type PluginContext,
  type Rec,
  type SourceInstance,
  type SourceOutputs,
} from '../../../src/api.js';
import { brokerList, checkConnection, connectionProperties, isoTime, kafkaClientConfig, kafkaFailure, type ConnectionConfig } from '../../../src/internal.js';

export { isoTime };
import { OffsetTracker, partitionKey, type BatchRef, type CommitPoint } from './offsets.js';
import { installFastFetch, type FastBatch } from './record-batch.js';
import { cutBlocks } from './blocks.js';

export interface KafkaSourceConfig extends ConnectionConfig {
  topics: string[];
  group_id?: string;
  from_beginning: boolean;
  reset: 'none' | 'earliest' | 'latest';
  batch_size: number;
  max_message_bytes: number;
  invalid_keep_bytes: number;
  buffer_batches: number;
  commit_interval: string;
  session_timeout: string;
  heartbeat_interval: string;
  max_wait: string;
  max_bytes_per_partition: number;
}

/** Reason codes of records the source sends to `invalid`. */
export const ERR = { EMPTY: 'EMPTY_MESSAGE', TOO_LARGE: 'MESSAGE_TOO_LARGE', NOT_TEXT: 'NOT_UTF8', BINARY: 'BINARY_MESSAGE' } as const;

export default definePlugin<KafkaSourceConfig>({
  name: 'kafka',
  kind: 'source',
  summary: 'Consume topics as a Kafka consumer group; offsets committed only once every sink made the records durable.',
  reasons: {
    EMPTY_MESSAGE: 'the message has no value (null, a tombstone) or an empty one',
    MESSAGE_TOO_LARGE: 'the message is larger than `max_message_bytes`; the record keeps its first `invalid_keep_bytes` bytes, the message stays in the topic',
    NOT_UTF8: 'the message is not valid UTF-8 text; `event.original_base64` keeps its exact bytes (up to `invalid_keep_bytes`)',
    BINARY_MESSAGE: 'the message holds NUL bytes (binary data, not a log line); `event.original_base64` keeps its exact bytes (up to `invalid_keep_bytes`)',
  },
  description: [
    'Each message becomes `{ message, origin: { topic, partition, offset }, key, timestamp, headers }` (`key` and',
    '`headers` only when the message has them; `timestamp` is the message time, ISO-8601 UTC). One trailing `\\n` or',
    '`\\r\\n` is removed. Messages are emitted in batches of at most `batch_size`, never mixing partitions, so',
    '`by-origin` processors keep the order of each partition.',
    '',
    "**Delivery.** At-least-once: a partition's offset is committed (every `commit_interval`, on a rebalance and",
    'at the end) only up to the first message not yet durable in every sink it reached, whatever order batches',
    'complete in. A crash re-reads what was not committed: duplicates, never a gap. When the consumer rejoins its',
    'group (a rebalance, a broker outage) a partition it keeps is read on from its first message not yet durable,',
    'not from the commit the broker has (commits cannot reach it during an outage).',
    'Where the group has no committed offset, reading starts at the earliest offset (`from_beginning: true`) or at',
    "the end. `reset` moves the group's offsets before the run starts (no other member may be running).",
    '',
    '**Backpressure.** When `buffer_batches` batches wait to enter the pipeline, the partitions are paused; the',
    'consumer keeps its group membership meanwhile, however long a sink retries.',
    '',
    '**`--once`** reads the partitions assigned to it up to the end offsets the topics had when the source started,',
    'and stops.',
    '',
    'Invalid messages go to `invalid` with their topic, partition and offset. Reason codes: `EMPTY_MESSAGE` (null',
    'or empty value), `MESSAGE_TOO_LARGE` (over `max_message_bytes`), `NOT_UTF8` (not valid UTF-8), `BINARY_MESSAGE`',
    '(holds NUL bytes). The first `invalid_keep_bytes` bytes are kept (`event.original`, and',
    '`event.original_base64` with the exact bytes for the last two); the message itself stays in the topic.',
    '',
    '`sasl.password` and `tls.key_passphrase` are secrets: redacted from logs, errors and `graph` output.',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['brokers', 'topics'],
    properties: {
      ...connectionProperties(),
      topics: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9._-]+$' },
        description: 'Topics to consume.',
        examples: [['web.proxy']],
      },
      group_id: {
        type: 'string',
        minLength: 1,
        description: 'Consumer group; default `sluice-PIPELINE-NODE`. Runners with the same group split the partitions.',
      },
      from_beginning: {
        type: 'boolean',
        default: true,
        description: 'Where the group has no committed offset for a partition: read it from the earliest offset (true) or only new messages (false).',
      },
      reset: {
        enum: ['none', 'earliest', 'latest'],
        default: 'none',
        description:
          "Before starting, move the group's committed offsets to the earliest or latest offsets of each topic ('none': keep them). Fails when another member of the group is running.",
      },
      batch_size: { type: 'integer', minimum: 1, maximum: 100000, default: 2000, description: 'Most records per emitted batch (a fetched batch is split).' },
      max_message_bytes: { type: 'integer', minimum: 16, default: 1048576, description: 'Messages larger than this go to `invalid` (MESSAGE_TOO_LARGE).' },
      invalid_keep_bytes: {
        type: 'integer',
        minimum: 0,
        default: 65536,
        description: 'Bytes of an invalid message kept in the invalid record (the message stays in its topic at the offset given).',
      },
      buffer_batches: {
        type: 'integer',
        minimum: 1,
        default: 32,
        description:
          'Fetched batches waiting to enter the pipeline before the partitions are paused (resumed below half of it). One fetch can bring several: keep room for two.',
      },
      commit_interval: {
        type: 'string',
        default: '1s',
        description: 'How often durable offsets are committed (duration). A crash re-reads at most about this much besides what was in flight.',
      },
      session_timeout: {
        type: 'string',
        default: '30s',
        description: 'Group session timeout (duration): a member silent this long is removed and its partitions reassigned.',
      },
      heartbeat_interval: { type: 'string', default: '3s', description: 'Heartbeat interval (duration), well below session_timeout.' },
      max_wait: {
        type: 'string',
        default: '100ms',
        description: 'Longest a fetch waits for new messages on a quiet topic (duration); lower is sooner to detection.',
      },
      max_bytes_per_partition: { type: 'integer', minimum: 1024, default: 1048576, description: 'Most bytes fetched per partition per request.' },
    },
  },
  ports: ['out', 'invalid'],
  /** A topic is an unbounded stream: `workers: auto` always uses every core for it. */
  inputBytes: () => Number.POSITIVE_INFINITY,
  examples: [
    { title: 'Proxy logs from a local broker', with: { brokers: ['127.0.0.1:9092'], topics: ['web.proxy'], group_id: 'proxy-sweep' } },
    {
      title: 'SASL/SCRAM over TLS, password from the environment',
      with: {
        brokers: ['kafka-1.example.net:9093'],
        topics: ['web.proxy'],
        tls: { ca_file: '/etc/ssl/kafka-ca.pem' },
        sasl: { mechanism: 'scram-sha-512', username: 'sluice', password: '${KAFKA_PASSWORD}' },
      },
    },
  ],
  check(cfg): ConfigIssue[] {
    const issues = checkConnection(cfg);
    for (const key of ['commit_interval', 'session_timeout', 'heartbeat_interval', 'max_wait'] as const) {
      try {
        parseDuration(cfg[key]);
      } catch (err) {
        issues.push({ path: `/${key}`, message: (err as Error).message });
      }
    }
    if (!issues.length && parseDuration(cfg.heartbeat_interval) * 3 > parseDuration(cfg.session_timeout)) {
      issues.push({ path: '/heartbeat_interval', message: 'heartbeat_interval must be at most a third of session_timeout' });
    }
    return issues;
  },
  async create(config, ctx): Promise<SourceInstance> {
    // before kafkajs is loaded: its fetch decoding replaced by the faster one of record-batch.ts
    const fast = installFastFetch();
    const { Kafka } = await import('kafkajs');
    if (!fast.decoder || !fast.batch) ctx.logger.debug(fast, "kafka source: kafkajs's own fetch decoding in use (kafkajs was loaded first)");
    const source = new KafkaSource(config, ctx, new Kafka(kafkaClientConfig(config, ctx, 8)));
    source.begin();
    return source;
  },
});

/** A batch ready to emit, and what it commits when durable. */
interface Pending {
  key: string;
  outputs: SourceOutputs;
  ref: BatchRef;
}

const NL = 0x0a;
const CR = 0x0d;

/**
 * The record of one message, or an invalid record. `value` is kafkajs's Buffer (null for a
 * tombstone). Hot path: one string per message, no copies of the bytes for valid messages.
 */
export function messageToRecord(
  node: string,
  topic: string,
  partition: number,
  m: KafkaMessage,
  maxBytes: number,
  keepBytes: number,
): { rec: Rec; invalid: boolean } {
  const origin = { topic, partition, offset: m.offset };
  let v = m.value;
  let len = v ? v.length : 0;
  if (len && v![len - 1] === NL) len--;
  if (len && v![len - 1] === CR) len--;
  if (!v || len === 0)
    return { rec: makeInvalid(node, origin, ERR.EMPTY, v ? 'message is empty' : 'message has no value (null / tombstone)', ''), invalid: true };
  if (len > maxBytes) {
    const kept = v.subarray(0, Math.min(len, keepBytes));
    return {
      rec: makeInvalid(
        node,
        origin,
        ERR.TOO_LARGE,
        `message is ${len} bytes, more than max_message_bytes (${maxBytes}); the first ${kept.length} bytes are kept, the whole message stays at ${topic}/${partition}@${m.offset}`,
        kept.toString('utf8'),
      ),
      invalid: true,
    };
  }
  if (len !== v.length) v = v.subarray(0, len);
  if (v.indexOf(0) !== -1)
    return { rec: binary(node, origin, ERR.BINARY, 'message holds NUL bytes (binary data, not a log line)', v, keepBytes), invalid: true };
  let message: string;
  if (isAscii(v)) message = v.toString('latin1');
  else if (isUtf8(v)) message = v.toString('utf8');
  else return { rec: binary(node, origin, ERR.NOT_TEXT, 'message is not valid UTF-8', v, keepBytes), invalid: true };
  const rec: Rec = { message, origin };
  if (m.key?.length) rec.key = m.key.toString('utf8');
  const ts = Number(m.timestamp);
  if (Number.isFinite(ts) && ts > 0) rec.timestamp = isoTime(ts);
  const headers = headersText(m.headers);
  if (headers) rec.headers = headers;
  return { rec, invalid: false };
}

/**
 * A message's headers as text (a header repeated: an array), undefined when it has none. A header
 * without a value (null) is kept as null.
 */
export function headersText(h: KafkaMessage['headers'] | Record<string, Buffer | null | Array<Buffer | null>>): Record<string, unknown> | undefined {
  if (!h) return undefined;
  let headers: Record<string, unknown> | undefined;
  for (const k of Object.keys(h)) {
    const hv = (h as Record<string, Buffer | string | null | Array<Buffer | string | null> | undefined>)[k];
    if (hv === undefined) continue;
    const text = Array.isArray(hv) ? hv.map((x) => (x === null ? null : x.toString())) : hv === null ? null : hv.toString();
    if (k === '__proto__') Object.defineProperty((headers ??= {}), k, { value: text, enumerable: true, writable: true, configurable: true });
    else (headers ??= {})[k] = text;
  }
  return headers;
}

function binary(node: string, origin: object, code: string, why: string, v: Buffer, keepBytes: number): Rec {
  const kept = v.subarray(0, Math.min(v.length, keepBytes));
  const note = kept.length < v.length ? `; the first ${kept.length} of ${v.length} bytes are kept` : '';
  return makeInvalid(node, origin, code, why + note, kept.toString('utf8'), kept.toString('base64'));
}

class KafkaSource implements SourceInstance {
  private readonly consumer: Consumer;
  private readonly groupId: string;
  private readonly tracker = new OffsetTracker();
  private readonly queue: Pending[] = [];
  private wake: (() => void) | undefined;
  private readonly paused = new Map<string, { topic: string; partition: number }>();
  private fatal: Error | undefined;
  private stopping = false;
  private started = false;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private readonly assignedKeys = new Set<string>();
  private joined = false;
  /** --once: end offset per partition (captured at start), and how far each was read. */
  private readonly endOffsets = new Map<string, bigint>();
  private readonly position = new Map<string, bigint>();
  private readonly lag = new Map<string, number>();
  private outageSince = 0;
  /** Commits the coordinator accepted (kafkajs's COMMIT_OFFSETS events). */
  private commitsSent = 0;
  /** Connecting and joining, begun in `create` (see begin()). */
  private starting: Promise<boolean> | undefined;
  /** Set by run(): until then the subscribed topics stay paused, so nothing is fetched. */
  private ready = false;
  /** Aborted by close(): ends a start-up still waiting for the brokers. */
  private readonly halt = new AbortController();

  constructor(
    private readonly cfg: KafkaSourceConfig,
    private readonly ctx: PluginContext,
    private readonly kafka: Kafka,
  ) {
    this.groupId = cfg.group_id ?? `sluice-${ctx.pipeline}-${ctx.node}`;
    // kafkajs retries each request a few times, then crashes the consumer and restarts it (it
    // restarts on every retriable error): an outage is ridden out there, not by failing the run.
    this.consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: parseDuration(cfg.session_timeout),
      heartbeatInterval: parseDuration(cfg.heartbeat_interval),
      maxWaitTimeInMs: parseDuration(cfg.max_wait),
      maxBytesPerPartition: cfg.max_bytes_per_partition,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000, restartOnFailure: async (e) => this.restartOnFailure(e) },
    });
  }

  private async restartOnFailure(e: Error): Promise<boolean> {
    const f = kafkaFailure('consumer', e);
    if (!f.transient) return false;
    if (!this.outageSince) this.outageSince = Date.now();
    this.ctx.metrics.add('consumer_restarts', 1);
    this.ctx.logger.warn({ group: this.groupId, err: f.message }, 'kafka consumer lost the brokers; restarting it (uncommitted messages will be read again)');
    return !this.stopping;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /**
   * Connect, capture the `--once` end offsets and join the group now, while the rest of the
   * pipeline is created (feeds load): the runtime creates sources while the prepares run. The
   * topics stay paused until run() — the consumer keeps its membership (a paused consumer still
   * heartbeats), so a long feed load or a rebalance meanwhile does no harm, and nothing is fetched
   * before the pipeline can take it.
   */
  begin(): void {
    this.starting = this.start();
    this.starting.catch(() => undefined); // reported by run(); close() only waits for it
  }

  private async start(): Promise<boolean> {
    const { consumer, cfg, ctx } = this;
    const topics = cfg.topics;
    if (cfg.reset !== 'none' || ctx.once)
      await this.withAdmin(async (admin) => {
        if (cfg.reset !== 'none') {
          for (const topic of topics) {
            try {
              await admin.resetOffsets({ groupId: this.groupId, topic, earliest: cfg.reset === 'earliest' });
            } catch (err) {
              throw kafkaFailure(
                `cannot reset group '${this.groupId}' on topic '${topic}' to the ${cfg.reset} offsets (is another member of the group running?)`,
                err,
              );
            }
          }
          ctx.logger.info({ group: this.groupId, topics, reset: cfg.reset }, 'group offsets reset');
        }
        if (ctx.once) await this.captureEnds(admin);
      });
    if (this.halted()) return false;

    const ev = consumer.events;
    consumer.on(ev.GROUP_JOIN, (e) => this.onJoin(e.payload.memberAssignment));
    consumer.on(ev.REBALANCING, () => {
      ctx.metrics.add('rebalances', 1);
      void this.commitNow(); // never rejects (failures are logged and retried); what is durable, before the partitions may move
    });
    consumer.on(ev.END_BATCH_PROCESS, (e) => this.advance(e.payload.topic, e.payload.partition, BigInt(e.payload.lastOffset) + 1n));
    // kafkajs emits this only once the coordinator accepted a commit: a commitOffsets that
    // resolves without it was dropped (kafkajs does so while its consumer restarts).
    consumer.on(ev.COMMIT_OFFSETS, () => this.commitsSent++);
    consumer.on(ev.CRASH, (e) => {
      if (e.payload.restart || this.stopping) return;
      const f = kafkaFailure(`kafka consumer of group '${this.groupId}' stopped`, e.payload.error);
      // kafkajs gives up on some errors an outage causes ("Failed to find group coordinator" while
      // the broker goes down): those are ridden out here, by starting the consumer again.
      if (f.transient && !ctx.signal.aborted) {
        void this.restartOnFailure(e.payload.error).then((again) => {
          if (again) void this.startConsumer(1).catch((err) => this.failWith(err));
        });
        return;
      }
      this.failWith(f);
    });

    if (!(await this.startConsumer(0))) return false;
    this.started = true;
    return true;
  }

  /** Stopped while connecting: disconnect what the start-up connected (close() may have come first). */
  private async leave(): Promise<false> {
    await this.consumer.disconnect().catch(() => undefined);
    return false;
  }

  private halted(): boolean {
    return this.ctx.signal.aborted || this.halt.signal.aborted;
  }

  async run(emit: (batch: SourceOutputs, onDurable?: OnDurable) => Promise<void>): Promise<void> {
    const { consumer, cfg, ctx } = this;
    const topics = cfg.topics;
    const onAbort = () => this.notify();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      // a stop while it still connects (a broker not up yet) ends the run now, as a stop, not a failure
      const aborted = new Promise<false>((r) => (ctx.signal.aborted ? r(false) : ctx.signal.addEventListener('abort', () => r(false), { once: true })));
      if (!(await Promise.race([(this.starting ??= this.start()), aborted]))) return;
      if (ctx.signal.aborted) return;
      this.ready = true;
      this.ungate();
      ctx.logger.info({ group: this.groupId, topics, once: ctx.once }, 'kafka source started');
      this.commitTimer = setInterval(() => this.commitNow(), parseDuration(cfg.commit_interval));
      this.commitTimer.unref();

      for (;;) {
        if (this.fatal) throw this.fatal;
        if (ctx.signal.aborted) break;
        const next = this.queue.shift();
        if (next) {
          if (this.queue.length < Math.ceil(cfg.buffer_batches / 2)) this.resumeAll();
          const ref = next.ref;
          await emit(next.outputs, () => this.onDurable(ref));
          continue;
        }
        if (ctx.once && this.caughtUp()) break;
        this.resumeAll();
        await new Promise<void>((r) => {
          this.wake = r;
          // --once also looks again now and then: an assignment may bring nothing to read
          if (ctx.once) setTimeout(r, 200).unref();
        });
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      this.stopping = true;
      // Stop fetching, but stay in the group: the final commit in close() needs the membership.
      if (this.started) {
        try {
          consumer.pause(topics.map((topic) => ({ topic })));
        } catch {
          // not running (crashed): nothing is fetched anyway
        }
      }
      this.queue.length = 0; // never emitted: not committed, read again next time
    }
  }

  private failWith(err: unknown): void {
    this.fatal = err instanceof Error ? err : new Error(String(err));
    this.notify();
  }

  /**
   * Connect, subscribe and run the consumer. A broker that is not up yet is waited for (a stream
   * runner may start before Kafka does, a restart may come in an outage); a permanent problem
   * (credentials, no such topic) fails at once. False when the run was stopped meanwhile.
   */
  private async startConsumer(firstAttempt: number): Promise<boolean> {
    const { consumer, cfg, ctx } = this;
    const topics = cfg.topics;
    for (let attempt = firstAttempt; ; attempt++) {
      if (attempt > 0) {
        const wait = Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 6));
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          const end = () => {
            clearTimeout(t);
            r();
          };
          ctx.signal.addEventListener('abort', end, { once: true });
          this.halt.signal.addEventListener('abort', end, { once: true });
        });
        if (this.halted() || this.stopping) return false;
      }
      try {
        await consumer.connect();
        if (this.halted()) return this.leave();
        await consumer.subscribe({ topics, fromBeginning: cfg.from_beginning });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (p) => this.eachBatch(p) });
        if (this.halted()) return this.leave();
        return true;
      } catch (err) {
        const f = kafkaFailure(`kafka source cannot start (brokers ${brokerList(cfg.brokers).join(',')}, topics ${topics.join(',')})`, err);
        if (this.halted()) return false; // stopped (or closed) while starting: not a failure
        if (!f.transient) throw f;
        ctx.logger.warn({ err: f.message, attempt }, 'kafka source: brokers not reachable; retrying');
        await consumer.disconnect().catch(() => undefined);
      }
    }
  }

  private async withAdmin(fn: (admin: Admin) => Promise<void>): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await fn(admin);
    } catch (err) {
      throw (err as { transient?: boolean }).transient !== undefined
        ? err
        : kafkaFailure(`kafka source cannot reach the brokers ${brokerList(this.cfg.brokers).join(',')}`, err);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** --once: the end offsets now, and where the group would start reading each partition. */
  private async captureEnds(admin: Admin): Promise<void> {
    const committed = new Map<string, bigint>();
    for (const t of await admin.fetchOffsets({ groupId: this.groupId, topics: this.cfg.topics })) {
      for (const p of t.partitions) if (Number(p.offset) >= 0) committed.set(partitionKey(t.topic, p.partition), BigInt(p.offset));
    }
    for (const topic of this.cfg.topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const key = partitionKey(topic, p.partition);
        const end = BigInt(p.high);
        this.endOffsets.set(key, end);
        const start = committed.get(key) ?? (this.cfg.from_beginning ? BigInt(p.low) : end);
        this.position.set(key, start);
      }
    }
  }

  private advance(topic: string, partition: number, next: bigint): void {
    const key = partitionKey(topic, partition);
    const cur = this.position.get(key);
    if (cur === undefined || next > cur) this.position.set(key, next);
    if (this.ctx.once) this.notify();
  }

  /** --once: every partition assigned to this member was read to its end offset, and all of it emitted. */
  private caughtUp(): boolean {
    if (!this.joined || this.queue.length) return false;
    for (const key of this.assignedKeys) {
      const end = this.endOffsets.get(key);
      if (end === undefined) continue; // a partition created since the start: not part of this drain
      if ((this.position.get(key) ?? -1n) < end) return false;
    }
    return true;
  }

  private onJoin(assignment: Record<string, number[]>): void {
    this.assignedKeys.clear();
    const list: string[] = [];
    for (const topic in assignment) {
      for (const p of assignment[topic]!) {
        this.assignedKeys.add(partitionKey(topic, p));
        list.push(`${topic}/${p}`);
      }
    }
    this.joined = true;
    if (!this.ready) this.gate();
    const dropped = this.tracker.assigned(this.assignedKeys);
    // Partitions kept across the rejoin: read on from the first message not yet durable rather
    // than from the broker's commit, which lags when commits could not be made (an outage, a
    // consumer restart). Set now, before the consumer's first fetch in this generation.
    const skipped: string[] = [];
    for (const p of this.tracker.resumePoints()) {
      try {
        this.consumer.seek(p);
        skipped.push(`${p.topic}/${p.partition}@${p.offset}`);
      } catch (err) {
        this.ctx.logger.warn(
          { err: String(err), partition: `${p.topic}/${p.partition}` },
          'kafka: cannot seek to the durable offset; the partition is read from its last commit',
        );
      }
    }
    // Batches of partitions now owned by another member: their new owner reads them from the last commit.
    for (let i = this.queue.length - 1; i >= 0; i--) if (!this.assignedKeys.has(this.queue[i]!.key)) this.queue.splice(i, 1);
    for (const k of [...this.paused.keys()]) if (!this.assignedKeys.has(k)) this.paused.delete(k);
    if (this.outageSince) {
      this.ctx.logger.info({ group: this.groupId, outageMs: Date.now() - this.outageSince }, 'kafka consumer is back in its group');
      this.outageSince = 0;
    }
    this.ctx.metrics.set('partitions', this.assignedKeys.size);
    this.ctx.logger.info(
      { group: this.groupId, resumed_at: skipped.length ? skipped : undefined, partitions: list, given_up: dropped.length ? dropped : undefined },
      'kafka partitions assigned',
    );
    this.notify();
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const batch: KafkaBatch = p.batch;
    if (this.stopping) return; // not resolved: read again by whoever reads next
    const { topic, partition } = batch;
    const key = partitionKey(topic, partition);
    const max = this.cfg.batch_size;
    const node = this.ctx.node;
    let bytes = 0;
    let count = 0;
    const spans = (batch as unknown as FastBatch).spans;
    if (spans) {
      // Blocks of messages cut from the fetched bytes: no object per message on this thread.
      const cut = cutBlocks(spans, {
        node,
        topic,
        partition,
        batchSize: max,
        maxBytes: this.cfg.max_message_bytes,
        keepBytes: this.cfg.invalid_keep_bytes,
        invalid: (view, i) =>
          messageToRecord(node, topic, partition, view.message(i) as unknown as KafkaMessage, this.cfg.max_message_bytes, this.cfg.invalid_keep_bytes).rec,
        headers: (view, i) => headersText(view.headers(i)),
      });
      for (let k = 0; k < cut.length; k++) {
        const c = cut[k]!;
        if (c.invalid) this.ctx.metrics.add('invalid', c.invalid);
        const last = k === cut.length - 1 ? BigInt(batch.lastOffset()) : BigInt(c.last);
        this.queue.push({ key, outputs: c.outputs, ref: this.tracker.register(topic, partition, BigInt(c.first), last) });
        bytes += c.bytes;
        count += c.messages;
      }
    }
    const msgs = spans ? [] : batch.messages;
    count += msgs.length;
    for (let start = 0; start < msgs.length; start += max) {
      const stop = Math.min(msgs.length, start + max);
      const out: Rec[] = [];
      let invalid: Rec[] | undefined;
      for (let i = start; i < stop; i++) {
        const m = msgs[i]!;
        bytes += m.value ? m.value.length : 0;
        const r = messageToRecord(node, topic, partition, m, this.cfg.max_message_bytes, this.cfg.invalid_keep_bytes);
        if (r.invalid) (invalid ??= []).push(r.rec);
        else out.push(r.rec);
      }
      const outputs: SourceOutputs = {};
      if (out.length) outputs.out = out;
      if (invalid) {
        outputs.invalid = invalid;
        this.ctx.metrics.add('invalid', invalid.length);
      }
      const first = BigInt(msgs[start]!.offset);
      const last = stop === msgs.length ? BigInt(batch.lastOffset()) : BigInt(msgs[stop - 1]!.offset);
      this.queue.push({ key, outputs, ref: this.tracker.register(topic, partition, first, last) });
    }
    this.ctx.metrics.add('messages', count);
    this.ctx.metrics.add('bytes', bytes);
    const partitionLag = Number(batch.offsetLag());
    this.lag.set(key, partitionLag);
    // Per partition for `--metrics` (sluice_kafka_consumer_lag{topic,partition}); free when unobserved.
    this.ctx.metrics.set('consumer_lag', partitionLag, { topic, partition: String(partition) });
    let lag = 0;
    for (const v of this.lag.values()) lag += v;
    this.ctx.metrics.set('lag', lag);
    // Handed over: kafkajs may fetch what follows. It is committed only when durable.
    p.resolveOffset(batch.lastOffset());
    this.advance(topic, partition, BigInt(batch.lastOffset()) + 1n);
    if (this.queue.length >= this.cfg.buffer_batches && !this.paused.has(key)) {
      p.pause();
      this.paused.set(key, { topic, partition });
      this.ctx.metrics.add('pauses', 1);
    }
    this.notify();
    await p.heartbeat();
  }

  /** Before run(): keep every subscribed topic paused (called on each join, before kafkajs's first fetch). */
  private gate(): void {
    try {
      this.consumer.pause(this.cfg.topics.map((topic) => ({ topic })));
    } catch (err) {
      this.ctx.logger.warn({ err: String(err) }, 'kafka: cannot pause the topics until the pipeline is ready');
    }
  }

  private ungate(): void {
    try {
      this.consumer.resume(this.cfg.topics.map((topic) => ({ topic })));
    } catch (err) {
      this.ctx.logger.warn({ err: String(err) }, 'kafka: resume failed');
    }
  }

  private resumeAll(): void {
    if (!this.paused.size || this.stopping) return;
    const parts = [...this.paused.values()];
    this.paused.clear();
    try {
      this.consumer.resume(parts.map((x) => ({ topic: x.topic, partitions: [x.partition] })));
    } catch (err) {
      this.ctx.logger.warn({ err: String(err) }, 'kafka: resume failed');
    }
  }

  private onDurable(ref: BatchRef): void {
    this.tracker.durable(ref);
  }

  /** Commit what is durable; one commit at a time, a failed one offered again next time. */
  private commitNow(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const points: CommitPoint[] = this.tracker.take();
      if (!points.length) return;
      try {
        const sent = this.commitsSent;
        await this.consumer.commitOffsets(points);
        if (this.commitsSent === sent) {
          // Dropped by kafkajs (its consumer is not running: restarting, or rejoining): offered again.
          this.tracker.untake(points);
          this.ctx.metrics.add('commits_deferred', 1);
          this.ctx.logger.debug({ offsets: points }, 'kafka consumer not running: commit deferred');
          return;
        }
        this.ctx.metrics.add('commits', 1);
        this.ctx.logger.debug({ offsets: points }, 'kafka offsets committed');
      } catch (err) {
        this.tracker.untake(points);
        if (/consumer#run must be called first/.test(String((err as Error)?.message))) {
          // Between a crash and the restart kafkajs has no consumer group at all: deferred too.
          this.ctx.metrics.add('commits_deferred', 1);
          return;
        }
        this.ctx.metrics.add('commit_failures', 1);
        this.ctx.logger.warn(
          { group: this.groupId, err: kafkaFailure('commit', err).message },
          'kafka offset commit failed; will commit again (messages after the last commit may be read twice)',
        );
      }
    });
    return this.committing;
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.halt.abort();
    // Closed while still starting (the run stopped or failed while the pipeline was created, or a
    // broker is not up yet): not waited for — kafkajs's connect retries run their course — the
    // consumer is disconnected below, and again by the start-up if its connect succeeds later.
    if (this.commitTimer) clearInterval(this.commitTimer);
    if (this.started) {
      await this.commitNow();
      if (this.tracker.outstanding)
        this.ctx.logger.info({ outstanding: this.tracker.outstanding }, 'kafka batches not durable at stop: they will be read again');
    }
    await this.consumer.disconnect().catch((err) => this.ctx.logger.warn({ err: String(err) }, 'kafka consumer disconnect failed'));
  }
}
