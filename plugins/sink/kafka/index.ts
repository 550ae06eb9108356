/**
 * `kafka` sink: records as JSON messages to a topic, produced with acks=all by an idempotent
 * kafkajs producer. kafkajs has no linger of its own: records are buffered here and sent when
 * `batch_bytes` are buffered, `linger` after the first buffered record, and at every `flush()` —
 * which resolves only when the broker acknowledged everything written so far.
 *
 * A failed send keeps its messages: they are sent again, first, by the next flush. Failures the
 * broker may recover from are thrown as transient, so the runtime retries the flush with backoff
 * while the source is held by backpressure; the producer is rebuilt after such a failure (a new
 * idempotent producer id: kafkajs's sequence state does not survive a broker restart well).
 */
// Types only: kafkajs takes ≈ 200 ms to load; it is loaded when a kafka node is created.
import type { Kafka, Message, Producer } from 'kafkajs';

type KafkaJs = typeof import('kafkajs');
import { definePlugin, getPath, parseDuration, type ConfigIssue, type PluginContext, type Rec, type SinkInstance } from '../../../src/api.js';
import { installGzipCodec } from './gzip.js';
import { brokerList, checkConnection, connectionProperties, kafkaClientConfig, kafkaFailure, type ConnectionConfig } from '../../../src/internal.js';

export interface KafkaSinkConfig extends ConnectionConfig {
  topic: string;
  key?: string;
  headers?: Record<string, string>;
  header_fields?: Record<string, string>;
  compression: 'none' | 'gzip';
  linger: string;
  batch_bytes: number;
  max_message_bytes: number;
  idempotent: boolean;
  send_timeout: string;
  create_topic: boolean;
  partitions?: number;
}

export default definePlugin<KafkaSinkConfig>({
  name: 'kafka',
  kind: 'sink',
  summary: 'Produce records as JSON messages to a Kafka topic (acks=all, idempotent, batched); a batch is acknowledged only once the broker has it.',
  description: [
    'Each record becomes one message whose value is the record as JSON. `key` names a record field whose value is',
    'the message key (records with the same key go to the same partition; a record without it gets a null key).',
    '`headers` adds constant headers, `header_fields` headers taken from record fields.',
    '',
    'Records are buffered and sent when `batch_bytes` are waiting, `linger` after the first of them, and whenever',
    'the runtime flushes; a flush returns only when the broker acknowledged every message with acks=all, and only',
    'then may the source commit. When the brokers cannot be reached, the flush fails as a transient error: the run',
    'retries it with backoff (the sources wait meanwhile), the messages are kept and sent again, nothing is dropped.',
    'Replays after a crash may produce duplicates (at-least-once); within one producer session the idempotent',
    'producer prevents duplicates from its own retries.',
    '',
    'The topic is checked (and created, unless `create_topic: false`) as the sink starts, and it connects then.',
    '',
    "A record whose JSON is larger than `max_message_bytes` fails the run naming its origin (raise the topic's",
    '`max.message.bytes` and this setting together).',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['brokers', 'topic'],
    properties: {
      ...connectionProperties(),
      topic: {
        type: 'string',
        minLength: 1,
        pattern: '^[A-Za-z0-9._-]+$',
        description: 'Topic to produce to (it must exist, or the broker must create topics automatically).',
        examples: ['proxy.alerts'],
      },
      key: { type: 'string', minLength: 1, description: 'Record field (dotted path) whose value is the message key.', examples: ['source.ip'] },
      headers: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Constant headers added to every message.',
        examples: [{ producer: 'sluice' }],
      },
      header_fields: {
        type: 'object',
        additionalProperties: { type: 'string', minLength: 1 },
        description: 'Headers taken from record fields: header name → dotted path. Absent values give no header.',
        examples: [{ rule: 'rule.name' }],
      },
      compression: { enum: ['none', 'gzip'], default: 'gzip', description: 'Compression of message batches.' },
      linger: {
        type: 'string',
        default: '5ms',
        description: 'How long the first buffered record waits for others before a send (duration); lower is sooner, higher batches more.',
      },
      batch_bytes: { type: 'integer', minimum: 1024, default: 1048576, description: 'Buffered bytes (JSON) that trigger a send at once.' },
      max_message_bytes: {
        type: 'integer',
        minimum: 1024,
        default: 1000000,
        description: "Largest message (JSON bytes) sent; match the topic's max.message.bytes.",
      },
      idempotent: {
        type: 'boolean',
        default: true,
        description: "Idempotent producer (no duplicates from the producer's own retries). Turn off only for brokers older than 0.11.",
      },
      send_timeout: { type: 'string', default: '30s', description: 'Time the broker has to acknowledge one send (duration).' },
      create_topic: {
        type: 'boolean',
        default: true,
        description:
          "Create the topic when it does not exist (with `partitions`, and the broker's default replication). When false, a missing topic fails the run.",
      },
      partitions: { type: 'integer', minimum: 1, description: "Partitions of a topic the sink creates; default: the broker's `num.partitions`." },
    },
  },
  examples: [
    {
      title: 'Alerts keyed by client address',
      with: { brokers: ['127.0.0.1:9092'], topic: 'proxy.alerts', key: 'source.ip', header_fields: { rule: 'rule.name' } },
    },
    {
      title: 'Rejected records, uncompressed, sent as soon as possible',
      with: { brokers: ['127.0.0.1:9092'], topic: 'proxy.rejects', compression: 'none', linger: '0ms' },
    },
  ],
  check(cfg): ConfigIssue[] {
    const issues = checkConnection(cfg);
    for (const key of ['linger', 'send_timeout'] as const) {
      try {
        parseDuration(cfg[key]);
      } catch (err) {
        issues.push({ path: `/${key}`, message: (err as Error).message });
      }
    }
    return issues;
  },
  async create(config, ctx): Promise<SinkInstance> {
    const kafkajs = await import('kafkajs');
    installGzipCodec();
    return new KafkaSink(config, ctx, kafkajs);
  },
});

class KafkaSink implements SinkInstance {
  readonly target: string;
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private buffer: Message[] = [];
  private bufferBytes = 0;
  /** Messages of failed sends, sent again (first) by the next flush. */
  private failed: Message[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private linger: NodeJS.Timeout | undefined;
  private readonly lingerMs: number;
  private readonly timeoutMs: number;
  private readonly headerFields: Array<[string, string]>;
  private outageSince = 0;
  private closed = false;
  private topicChecked = false;

  constructor(
    private readonly cfg: KafkaSinkConfig,
    private readonly ctx: PluginContext,
    private readonly kafkajs: KafkaJs,
  ) {
    this.target = `kafka:${cfg.topic}`;
    this.kafka = new kafkajs.Kafka(kafkaClientConfig(cfg, ctx, 3));
    this.lingerMs = parseDuration(cfg.linger);
    this.timeoutMs = parseDuration(cfg.send_timeout);
    this.headerFields = Object.entries(cfg.header_fields ?? {});
    // Check the topic and connect now, while the source starts: a first flush that has to create
    // the topic and connect first holds the first commit back by as long. A failure here is
    // only logged: the first send connects again and reports it.
    this.connected().catch((err) =>
      this.ctx.logger.debug({ topic: cfg.topic, err: String(err) }, 'kafka sink: early connect failed; the first send tries again'),
    );
  }

  write(records: Rec[]): void {
    const cfg = this.cfg;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const value = JSON.stringify(r);
      if (value.length > cfg.max_message_bytes / 3 && Buffer.byteLength(value) > cfg.max_message_bytes) {
        throw Object.assign(
          new Error(
            `kafka sink: a record from ${describeOrigin(r)} is ${Buffer.byteLength(value)} bytes as JSON, more than max_message_bytes (${cfg.max_message_bytes}) for topic '${cfg.topic}'`,
          ),
          { transient: false },
        );
      }
      const m: Message = { value };
      if (cfg.key !== undefined) {
        const k = getPath(r, cfg.key);
        if (k !== undefined && k !== null) m.key = typeof k === 'string' ? k : JSON.stringify(k);
      }
      if (cfg.headers || this.headerFields.length) {
        const h: Record<string, string> = { ...cfg.headers };
        for (const [name, path] of this.headerFields) {
          const v = getPath(r, path);
          if (v !== undefined && v !== null) h[name] = typeof v === 'string' ? v : JSON.stringify(v);
        }
        m.headers = h;
      }
      this.buffer.push(m);
      this.bufferBytes += value.length;
    }
    if (this.bufferBytes >= cfg.batch_bytes) this.sendBuffered();
    else if (this.buffer.length && !this.linger) {
      this.linger = setTimeout(() => {
        this.linger = undefined;
        this.sendBuffered();
      }, this.lingerMs);
    }
  }

  /** Send what is buffered now, in the background; a failure keeps the messages for the next flush. */
  private sendBuffered(): void {
    if (this.linger) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    if (!this.buffer.length || this.failed.length) return; // after a failure, the flush resends in order
    const msgs = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    const p = this.produce(msgs).catch((err) => {
      this.failed.push(...msgs);
      this.noteFailure(err);
    });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: this.cfg.idempotent,
        maxInFlightRequests: this.cfg.idempotent ? 1 : undefined,
        allowAutoTopicCreation: false,
        createPartitioner: this.kafkajs.Partitioners.DefaultPartitioner,
        retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 3_000 },
      });
      try {
        if (!this.topicChecked) await this.ensureTopic();
        await producer.connect();
      } catch (err) {
        await producer.disconnect().catch(() => undefined);
        throw err;
      }
      this.producer = producer;
      return producer;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** The topic exists, or is created; a missing topic the sink may not create is a permanent error. */
  private async ensureTopic(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      if (!topics.includes(this.cfg.topic)) {
        if (!this.cfg.create_topic) {
          throw Object.assign(new Error(`kafka sink: topic '${this.cfg.topic}' does not exist (create it, or set create_topic: true)`), { transient: false });
        }
        await admin.createTopics({
          topics: [{ topic: this.cfg.topic, numPartitions: this.cfg.partitions ?? -1, replicationFactor: -1 }],
          waitForLeaders: true,
        });
        this.ctx.logger.info({ topic: this.cfg.topic, partitions: this.cfg.partitions ?? 'broker default' }, 'kafka sink: topic created');
      }
      this.topicChecked = true;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async produce(messages: Message[]): Promise<void> {
    const producer = await this.connected();
    try {
      await producer.sendBatch({
        topicMessages: [{ topic: this.cfg.topic, messages }],
        acks: -1,
        timeout: this.timeoutMs,
        compression: this.cfg.compression === 'gzip' ? this.kafkajs.CompressionTypes.GZIP : this.kafkajs.CompressionTypes.None,
      });
    } catch (err) {
      // A new producer next time: fresh connections and a fresh idempotent producer id.
      if (this.producer === producer) this.producer = undefined;
      void producer.disconnect().catch(() => undefined);
      throw err;
    }
    this.ctx.metrics.add('messages', messages.length);
  }

  private noteFailure(err: unknown): Error {
    const f = kafkaFailure(`kafka sink: produce to '${this.cfg.topic}' at ${brokerList(this.cfg.brokers).join(',')} failed`, err);
    this.ctx.metrics.add('send_failures', 1);
    if (!this.outageSince) {
      this.outageSince = Date.now();
      this.ctx.metrics.add('outages', 1);
      this.ctx.logger.warn(
        { topic: this.cfg.topic, err: f.message, transient: f.transient },
        'kafka sink: cannot deliver; messages kept and sent again when the broker answers',
      );
    }
    return f;
  }

  async flush(): Promise<void> {
    if (this.linger) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    while (this.inflight.size) await Promise.all([...this.inflight]);
    const msgs = this.failed.length ? this.failed.concat(this.buffer) : this.buffer;
    this.failed = [];
    this.buffer = [];
    this.bufferBytes = 0;
    if (!msgs.length) return;
    try {
      await this.produce(msgs);
    } catch (err) {
      this.failed = msgs.concat(this.failed);
      throw this.noteFailure(err);
    }
    if (this.outageSince) {
      const ms = Date.now() - this.outageSince;
      this.outageSince = 0;
      this.ctx.logger.warn({ topic: this.cfg.topic, outageMs: ms, resent: msgs.length }, 'kafka sink: delivering again; the kept messages were sent');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.linger) clearTimeout(this.linger);
    const unsent = this.failed.length + this.buffer.length;
    if (unsent)
      this.ctx.logger.warn(
        { topic: this.cfg.topic, unsent },
        'kafka sink closed with unsent messages (their batches were not acknowledged: the source did not commit them)',
      );
    await this.connecting?.catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }
}

function describeOrigin(r: Rec): string {
  const o = r?.origin;
  if (o?.topic !== undefined) return `${o.topic}/${o.partition}@${o.offset}`;
  if (o?.file !== undefined) return `${o.file}:${o.line}`;
  return 'an unknown origin';
}
