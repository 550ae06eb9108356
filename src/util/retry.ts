/**
 * Retry with backoff, for calls to a service that may come back: the runtime wraps a sink's
 * `write` and `flush` in it, and plugins that talk to a broker or a cluster (a Kafka source
 * reconnecting, a sink's producer) can use the same helper.
 *
 * Each failed attempt is logged and counted (`retries`); the time from the first failure to the
 * success that ends it is an outage, logged when it ends and added to `outage_ms`, so the run
 * summary shows how long a node waited for its service. Retrying stops when `signal` aborts: the
 * last error is thrown at once, without waiting out the current delay.
 *
 * While a sink retries it takes nothing from its input queue, so the queue fills, upstream pushes
 * wait, and the source's `emit` promise stays pending: the whole pipeline pauses at the pace of
 * the outage, holding at most its queues' bounded contents.
 */
/** What the helper logs through and counts in: a plugin's `ctx.logger` and `ctx.metrics` fit. */
interface RetryLogger {
  warn(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
}
interface RetryMetrics {
  add(name: string, n?: number): void;
}

/** Node error codes worth retrying: the peer may come back. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether an error is worth retrying: it says so (`transient: true` or `retriable: true`, as
 * kafkajs errors do), or it is a network error whose peer may come back.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { transient?: unknown; retriable?: unknown; code?: unknown } | null | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.transient === true || e.retriable === true) return true;
  return typeof e.code === 'string' && TRANSIENT_CODES.has(e.code);
}

export interface BackoffPolicy {
  /** Delay before the first retry; each next one doubles, up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up (throw the last error) after this many attempts in all. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ initialDelayMs: 200, maxDelayMs: 30_000, maxAttempts: Infinity });

/** The delay before retry number `retry` (0 for the first). */
export function backoffDelay(retry: number, policy: Pick<BackoffPolicy, 'initialDelayMs' | 'maxDelayMs'> = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(retry, 30));
}

export interface RetryOptions {
  /** What is being tried, for the log ("write", "flush", "connect"). */
  what: string;
  logger: RetryLogger;
  /** Where `retries` and `outage_ms` are counted (a node's metrics). */
  metrics?: RetryMetrics;
  /** Named in the log lines (a plugin's `ctx.logger` names its node already). */
  node?: string;
  /** Stop retrying when this aborts. */
  signal?: AbortSignal;
  /** Which errors to retry; others are thrown at once. Default `isTransient`. */
  retryable?: (err: unknown) => boolean;
  policy?: Partial<BackoffPolicy>;
}

/**
 * Call `op` until it succeeds, waiting `backoffDelay` between attempts, as long as its errors are
 * retryable, attempts remain and `signal` has not aborted; otherwise throw the last error.
 */
export async function retrying<T>(op: () => T | Promise<T>, o: RetryOptions): Promise<T> {
  // The first attempt costs one call and no allocation beyond its promise (sinks call this per batch).
  try {
    return await op();
  } catch (err) {
    return retryAfter(err, op, o);
  }
}

async function retryAfter<T>(first: unknown, op: () => T | Promise<T>, o: RetryOptions): Promise<T> {
  const retryable = o.retryable ?? isTransient;
  const policy = { ...DEFAULT_BACKOFF, ...o.policy };
  const outageStart = Date.now();
  let err = first;
  for (let attempt = 1; ; attempt++) {
    if (!retryable(err) || attempt >= policy.maxAttempts || o.signal?.aborted) {
      if (attempt > 1) endOutage(o, outageStart, attempt - 1, false);
      throw err;
    }
    const wait = backoffDelay(attempt - 1, policy);
    o.logger.warn({ ...(o.node ? { node: o.node } : {}), err: String(err), attempt, retryInMs: wait }, `${o.what} failed; retrying`);
    o.metrics?.add('retries', 1);
    await sleep(wait, o.signal);
    if (o.signal?.aborted) {
      endOutage(o, outageStart, attempt, false);
      throw err;
    }
    try {
      const value = await op();
      endOutage(o, outageStart, attempt, true);
      return value;
    } catch (e) {
      err = e;
    }
  }
}

/** Log the end of an outage and add its length to `outage_ms`. */
function endOutage(o: RetryOptions, start: number, retries: number, recovered: boolean): void {
  const ms = Date.now() - start;
  o.metrics?.add('outage_ms', ms);
  const fields = { ...(o.node ? { node: o.node } : {}), retries, outageMs: ms, since: new Date(start).toISOString() };
  if (recovered) o.logger.info(fields, `${o.what} succeeded after ${retries} ${retries === 1 ? 'retry' : 'retries'}`);
  else o.logger.warn(fields, `${o.what}: gave up retrying`);
}

/** Resolve after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
