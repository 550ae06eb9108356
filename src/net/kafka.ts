/**
 * What the built-in `kafka` source and sink share (exported to them by src/internal.ts): the connection part of their `with:` (brokers, TLS,
 * SASL), the kafkajs client built from it, kafkajs logs routed to the node's logger, and kafkajs
 * errors turned into errors the runtime can classify (transient → retried with backoff).
 */
import { readFileSync } from 'node:fs';
// Types only: kafkajs takes ≈ 200 ms to load, so the plugins load it when a node is created.
import type { KafkaConfig, logCreator, SASLOptions } from 'kafkajs';
import { parseDuration } from '../util/duration.js';
import type { ConfigIssue } from '../errors.js';

type JsonSchema = { [key: string]: unknown };
/** The plugin context's logger (src/api.ts `Logger`), structurally: the foundation does not import the API. */
interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
}
/** What of a plugin context the client needs. */
export interface KafkaClientContext {
  pipeline: string;
  node: string;
  logger: Logger;
  resolvePath(p: string): string;
}

export interface TlsConfig {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  key_passphrase?: string;
  servername?: string;
  reject_unauthorized: boolean;
}

export interface SaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface ConnectionConfig {
  brokers: string[];
  client_id?: string;
  tls?: boolean | TlsConfig;
  sasl?: SaslConfig;
  connection_timeout: string;
  request_timeout: string;
}

/**
 * Schema properties of the connection. Fields holding credentials are `writeOnly: true`: sluice
 * treats such values as secrets and redacts them from logs, errors and `graph` output.
 */
export function connectionProperties(): Record<string, JsonSchema> {
  return {
    brokers: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^[^\\s,]+:\\d+(,[^\\s,]+:\\d+)*$' },
      description: 'Bootstrap brokers as host:port. A single string with commas (as from `${KAFKA_BROKERS}`) may be written as a one-item list: it is split.',
      examples: [['127.0.0.1:9092'], ['kafka-1:9093', 'kafka-2:9093']],
    },
    client_id: { type: 'string', minLength: 1, description: 'Client id the broker sees in its logs and quotas; default `sluice-PIPELINE-NODE`.' },
    tls: {
      description: 'TLS to the brokers: `true` for the system CAs, or an object with files.',
      oneOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            ca_file: { type: 'string', minLength: 1, description: "PEM file of the CA(s) that signed the brokers' certificates." },
            cert_file: { type: 'string', minLength: 1, description: 'PEM client certificate (mutual TLS).' },
            key_file: { type: 'string', minLength: 1, description: 'PEM private key of the client certificate.' },
            key_passphrase: { type: 'string', writeOnly: true, description: 'Passphrase of `key_file` (a secret: redacted from all output).' },
            servername: { type: 'string', minLength: 1, description: 'Server name for SNI and certificate checks, when it differs from the broker host.' },
            reject_unauthorized: {
              type: 'boolean',
              default: true,
              description: 'Refuse brokers whose certificate does not verify. Turn off only for a test broker.',
            },
          },
        },
      ],
    },
    sasl: {
      type: 'object',
      additionalProperties: false,
      required: ['mechanism', 'username', 'password'],
      description: 'SASL authentication (over TLS unless the network is trusted).',
      properties: {
        mechanism: { enum: ['plain', 'scram-sha-256', 'scram-sha-512'], description: 'SASL mechanism.' },
        username: { type: 'string', minLength: 1, description: 'User name.' },
        password: {
          type: 'string',
          minLength: 1,
          writeOnly: true,
          description: 'Password (a secret: redacted from all output). Write it as `${KAFKA_PASSWORD}` rather than in the spec.',
        },
      },
    },
    connection_timeout: { type: 'string', default: '5s', description: 'Time allowed to open a connection to a broker (duration).' },
    request_timeout: { type: 'string', default: '30s', description: 'Time allowed for one request (duration).' },
  };
}

/** Brokers as host:port strings: one item holding commas (an interpolated `${KAFKA_BROKERS}`) is split. */
export function brokerList(brokers: readonly string[]): string[] {
  return brokers
    .flatMap((b) => b.split(','))
    .map((b) => b.trim())
    .filter(Boolean);
}

export function checkConnection(cfg: ConnectionConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const key of ['connection_timeout', 'request_timeout'] as const) {
    try {
      parseDuration(cfg[key]);
    } catch (err) {
      issues.push({ path: `/${key}`, message: (err as Error).message });
    }
  }
  const tls = cfg.tls;
  if (tls && typeof tls === 'object' && (tls.cert_file === undefined) !== (tls.key_file === undefined)) {
    issues.push({ path: '/tls', message: 'cert_file and key_file go together (mutual TLS needs both)' });
  }
  return issues;
}

const LEVEL = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;

/**
 * kafkajs logs through the node's logger, one level down: kafkajs logs every connection error and
 * retry at ERROR, which the source or sink reports itself, once, with what it does about it.
 * Some of its warnings are wrong for sluice's use (the partitioner notice, limited retries of an
 * idempotent producer — at-least-once does not need its exactly-once promise): those are debug.
 */
function logCreatorFor(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log as { message: string } & Record<string, unknown>;
      delete extra.timestamp;
      delete extra.logger;
      const obj = { kafkajs: log.namespace, ...extra };
      if (level === LEVEL.ERROR) logger.warn(obj, `kafkajs: ${message}`);
      else if (level === LEVEL.WARN && !/partitioner|Limiting retries/i.test(message)) logger.info(obj, `kafkajs: ${message}`);
      else logger.debug(obj, `kafkajs: ${message}`);
    };
}

export function kafkaClientConfig(cfg: ConnectionConfig, ctx: KafkaClientContext, retries = 5): KafkaConfig {
  let ssl: KafkaConfig['ssl'];
  if (cfg.tls === true) ssl = true;
  else if (cfg.tls && typeof cfg.tls === 'object') {
    const t = cfg.tls;
    const read = (f: string | undefined) => (f === undefined ? undefined : readFileSync(ctx.resolvePath(f), 'utf8'));
    ssl = {
      rejectUnauthorized: t.reject_unauthorized,
      ca: t.ca_file ? [read(t.ca_file)!] : undefined,
      cert: read(t.cert_file),
      key: read(t.key_file),
      passphrase: t.key_passphrase,
      servername: t.servername,
    };
  }
  let sasl: SASLOptions | undefined;
  if (cfg.sasl) sasl = { mechanism: cfg.sasl.mechanism, username: cfg.sasl.username, password: cfg.sasl.password } as SASLOptions;
  return {
    clientId: cfg.client_id ?? `sluice-${ctx.pipeline}-${ctx.node}`,
    brokers: brokerList(cfg.brokers),
    ssl,
    sasl,
    connectionTimeout: parseDuration(cfg.connection_timeout),
    requestTimeout: parseDuration(cfg.request_timeout),
    retry: { retries, initialRetryTime: 300, maxRetryTime: 5_000 },
    logCreator: logCreatorFor(ctx.logger),
  };
}

/** kafkajs errors that no retry can fix: a spec, credential or permission problem. */
const PERMANENT =
  /SASL|authenticat|AUTHORIZATION_FAILED|INVALID_TOPIC|UNSUPPORTED|INVALID_CONFIG|RECORD_LIST_TOO_LARGE|MESSAGE_TOO_LARGE|INVALID_REQUIRED_ACKS|POLICY_VIOLATION/i;

/** The innermost cause of a kafkajs error (NumberOfRetriesExceeded wraps the real one). */
export function rootCause(err: unknown): unknown {
  let e = err as { cause?: unknown; originalError?: unknown };
  for (let i = 0; i < 10 && e && (e.cause || e.originalError); i++) e = (e.cause ?? e.originalError) as typeof e;
  return e;
}

/**
 * An error for the runtime: `transient: true` (retried with backoff, the source held by
 * backpressure meanwhile) unless the cause is one no retry can fix. The message says what failed
 * and why, naming no credential.
 */
export function kafkaFailure(what: string, err: unknown): Error & { transient: boolean; code?: string } {
  const root = rootCause(err) as { message?: string; type?: string; name?: string; code?: string } | undefined;
  const text = [(err as Error)?.message, root?.message, root?.type].filter(Boolean).join(' ');
  const transient = (err as { transient?: boolean })?.transient !== false && !PERMANENT.test(text) && !(err instanceof TypeError);
  const why =
    root && root !== err && root.message && root.message !== (err as Error).message
      ? `${(err as Error).message} (${root.message})`
      : String((err as Error)?.message ?? err);
  const out = new Error(`${what}: ${why}`, { cause: err }) as Error & { transient: boolean; code?: string };
  out.transient = transient;
  if (root?.type) out.code = `KAFKA_${root.type}`;
  return out;
}
