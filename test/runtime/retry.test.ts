import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { PluginDef, Rec } from '../../src/api.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { loadSpec } from '../../src/spec/validate.js';
import { runPipeline } from '../../src/runtime/run.js';
import { backoffDelay, isTransient, retrying } from '../../src/util/retry.js';
import { testContext } from '../helpers/harness.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });

/** An operation that fails with `errors` in turn, then returns 'ok'. */
function fakeFlakyOp(errors: unknown[]) {
  let calls = 0;
  const op = async () => {
    calls++;
    if (errors.length) throw errors.shift();
    return 'ok';
  };
  return { op, calls: () => calls };
}

describe('retry with backoff', () => {
  it('knows transient errors: network codes, and errors that say so', () => {
    expect(isTransient(refused())).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { retriable: true }))).toBe(true); // kafkajs
    expect(isTransient(Object.assign(new Error('x'), { transient: true }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isTransient(new Error('x'))).toBe(false);
    expect(isTransient(undefined)).toBe(false);
    expect(isTransient('ECONNREFUSED')).toBe(false);
  });

  it('doubles the delay from 200 ms up to 30 s by default', () => {
    expect([0, 1, 2, 3, 7, 8, 50].map((r) => backoffDelay(r))).toEqual([200, 400, 800, 1600, 25_600, 30_000, 30_000]);
    expect(backoffDelay(2, { initialDelayMs: 5, maxDelayMs: 15 })).toBe(15);
  });

  it('retries transient failures, logging and counting each, and records the outage when it ends', async () => {
    const ctx = testContext('kafka-out');
    const { op, calls } = fakeFlakyOp([refused(), refused()]);
    const t0 = Date.now();
    const v = await retrying(op, { what: 'send', logger: ctx.logger, metrics: ctx.metrics, node: 'kafka-out', policy: { initialDelayMs: 10 } });
    expect(v).toBe('ok');
    expect(calls()).toBe(3);
    expect(ctx.counters.retries).toBe(2);
    expect(ctx.counters.outage_ms).toBeGreaterThanOrEqual(25); // 10 + 20 ms of backoff at least
    expect(ctx.counters.outage_ms).toBeLessThanOrEqual(Date.now() - t0);
    const logs = ctx.logs as Array<{ level: string; obj: Record<string, unknown>; msg: string }>;
    expect(logs.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'send failed; retrying'],
      ['warn', 'send failed; retrying'],
      ['info', 'send succeeded after 2 retries'],
    ]);
    expect(logs[0]!.obj).toMatchObject({ node: 'kafka-out', attempt: 1, retryInMs: 10 });
    expect(logs[1]!.obj).toMatchObject({ attempt: 2, retryInMs: 20 });
    expect(logs[2]!.obj).toMatchObject({ retries: 2, outageMs: ctx.counters.outage_ms });
  });

  it('a success at the first attempt costs nothing: no log, no counter', async () => {
    const ctx = testContext();
    expect(await retrying(() => 42, { what: 'write', logger: ctx.logger, metrics: ctx.metrics })).toBe(42);
    expect(ctx.logs).toEqual([]);
    expect(ctx.counters).toEqual({});
  });

  it('throws other errors at once, and gives up after maxAttempts with the last error', async () => {
    const ctx = testContext();
    const fatal = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    const a = fakeFlakyOp([fatal]);
    await expect(retrying(a.op, { what: 'write', logger: ctx.logger, metrics: ctx.metrics })).rejects.toBe(fatal);
    expect(a.calls()).toBe(1);
    expect(ctx.counters).toEqual({});

    const last = refused();
    const b = fakeFlakyOp([refused(), refused(), last, refused()]);
    await expect(retrying(b.op, { what: 'connect', logger: ctx.logger, metrics: ctx.metrics, policy: { initialDelayMs: 1, maxAttempts: 3 } })).rejects.toBe(
      last,
    );
    expect(b.calls()).toBe(3);
    expect(ctx.counters.retries).toBe(2);
    expect((ctx.logs.at(-1) as { msg: string }).msg).toBe('connect: gave up retrying');
  });

  it('decides what to retry with `retryable` when given', async () => {
    const ctx = testContext();
    const busy = new Error('busy');
    const { op, calls } = fakeFlakyOp([busy]);
    expect(await retrying(op, { what: 'fetch', logger: ctx.logger, retryable: (e) => e === busy, policy: { initialDelayMs: 1 } })).toBe('ok');
    expect(calls()).toBe(2);
  });

  it('stops when its signal aborts, without waiting out the delay, throwing the last error', async () => {
    const ctx = testContext();
    const controller = new AbortController();
    const errors = Array.from({ length: 100 }, refused);
    const { op, calls } = fakeFlakyOp(errors);
    const t0 = Date.now();
    const p = retrying(op, { what: 'flush', logger: ctx.logger, metrics: ctx.metrics, signal: controller.signal, policy: { initialDelayMs: 60_000 } });
    setTimeout(() => controller.abort(), 30);
    await expect(p).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(calls()).toBe(1);
    expect(ctx.counters.retries).toBe(1);
    expect(ctx.counters.outage_ms).toBeGreaterThanOrEqual(20);
  });
});

describe('a sink retrying through an outage pauses the pipeline', () => {
  const BATCHES = 40;
  const OUTAGE_MS = 400;

  it("the source's emit stays pending while the sink is down; every batch is delivered once it is back, and acknowledged only after a flush", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-outage-'));
    const emits: Array<{ start: number; end?: number }> = [];
    const durable: number[] = [];
    const violations: string[] = [];
    const flushed = new Set<number>(); // batches the fake sink made durable
    let downFrom = 0;
    let downUntil = 0;

    const fakeSource: PluginDef = {
      name: 'fake-counter-source',
      kind: 'source',
      summary: 'Emits numbered batches of 10 records as fast as it may (test fake).',
      schema: { type: 'object' },
      create: () => ({
        async run(emit) {
          for (let b = 0; b < BATCHES; b++) {
            const e: { start: number; end?: number } = { start: Date.now() };
            emits.push(e);
            const records: Rec[] = Array.from({ length: 10 }, (_, i) => ({ batch: b, i }));
            await emit({ out: records }, () => {
              if (!flushed.has(b)) violations.push(`batch ${b} acknowledged before its flush`);
              durable.push(b);
            });
            e.end = Date.now();
          }
        },
      }),
    };
    const fakeFlakySink: PluginDef = {
      name: 'fake-flaky-sink',
      kind: 'sink',
      summary: 'Refuses connections for a while after its first write, then accepts (test fake).',
      schema: { type: 'object' },
      create: () => {
        const written = new Set<number>();
        let n = 0;
        return {
          write(records: Rec[]) {
            const now = Date.now();
            if (downFrom === 0) (downFrom = now), (downUntil = now + OUTAGE_MS);
            if (now < downUntil) throw refused();
            for (const r of records) written.add(r.batch as number);
            n += records.length;
          },
          async flush() {
            for (const b of written) flushed.add(b);
          },
          async close() {
            if (n !== BATCHES * 10) violations.push(`sink saw ${n} records`);
          },
        };
      },
    };
    const registry = builtinRegistry();
    registry.register(fakeSource);
    registry.register(fakeFlakySink);
    const text = `version: 1
name: outage
settings: { queue_batches: 2, flush_interval: 20ms }
nodes:
  src: { source: fake-counter-source }
  pass: { transform: filter, from: src, with: { when: true } }
  out: { sink: fake-flaky-sink, from: pass }
`;
    const { spec, issues } = await loadSpec(join(dir, 'spec.yaml'), { text, registry });
    expect(issues).toEqual([]);
    const ctx = testContext();
    const summary = await runPipeline(spec!, { stateDir: dir, logger: ctx.logger, sinkRetry: { initialDelayMs: 10, maxDelayMs: 40 } });
    rmSync(dir, { recursive: true, force: true });

    expect(violations).toEqual([]);
    expect(summary.recordsOut).toBe(BATCHES * 10);
    expect(durable.sort((a, b) => a - b)).toEqual(Array.from({ length: BATCHES }, (_, i) => i));
    // Paused: one emit waited for (most of) the outage, and few resolved while the sink was down
    // (not all 40): no more than fit downstream — the sink's hands (it takes its whole queue of 2),
    // its queue refilled (2), the filter's hands (1) and queue (2).
    const longest = Math.max(...emits.map((e) => e.end! - e.start));
    expect(longest).toBeGreaterThanOrEqual(OUTAGE_MS / 2);
    const duringOutage = emits.filter((e) => e.end! > downFrom && e.end! < downUntil).length;
    expect(duringOutage).toBeLessThanOrEqual(2 + 2 + 1 + 2);
    // The summary shows the sink's outage.
    const sink = summary.nodes.find((n) => n.node === 'out')!;
    expect(sink.metrics.retries).toBeGreaterThanOrEqual(3);
    expect(sink.metrics.outage_ms).toBeGreaterThanOrEqual(OUTAGE_MS - 50);
    const warns = (ctx.logs as Array<{ level: string; msg: string; obj: { node?: string } }>).filter((l) => l.msg === 'write failed; retrying');
    expect(warns.length).toBe(sink.metrics.retries);
    expect(warns[0]!.obj.node).toBe('out');
  });
});

describe('settings.retry_max_delay', () => {
  it("defaults to 5s, and caps the wait between a sink's tries", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-retry-cap-'));
    const registry = builtinRegistry();
    const source: PluginDef = {
      name: 'fake-one-batch',
      kind: 'source',
      summary: 'One batch of one record (test fake).',
      schema: { type: 'object' },
      create: () => ({ run: (emit) => emit({ out: [{ n: 1 }] }) }),
    };
    let fails = 8; // 200, 400, 800 ms … uncapped these 8 waits add up to 51 s
    const sink: PluginDef = {
      name: 'fake-refusing-sink',
      kind: 'sink',
      summary: 'Refuses its first flushes (test fake).',
      schema: { type: 'object' },
      create: () => ({
        write() {},
        async flush() {
          if (fails-- > 0) throw refused();
        },
        async close() {},
      }),
    };
    registry.register(source);
    registry.register(sink);
    const text = (settings: string) => `version: 1
name: cap
settings: { ${settings} }
nodes:
  src: { source: fake-one-batch }
  out: { sink: fake-refusing-sink, from: src }
`;
    const dflt = await loadSpec(join(dir, 'a.yaml'), { text: text('flush_interval: 10ms'), registry });
    expect(dflt.spec!.settings.retryMaxDelayMs).toBe(5000);
    const bad = await loadSpec(join(dir, 'b.yaml'), { text: text('retry_max_delay: soon'), registry });
    expect(bad.issues.map((i) => i.path)).toContainEqual(expect.stringContaining('retry_max_delay'));

    const { spec, issues } = await loadSpec(join(dir, 'c.yaml'), { text: text('flush_interval: 10ms, retry_max_delay: 20ms'), registry });
    expect(issues).toEqual([]);
    const ctx = testContext();
    const t0 = Date.now();
    const summary = await runPipeline(spec!, { stateDir: dir, logger: ctx.logger });
    rmSync(dir, { recursive: true, force: true });
    expect(summary.recordsOut).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const waits = (ctx.logs as Array<{ msg: string; obj: { retryInMs?: number } }>)
      .filter((l) => l.msg === 'flush failed; retrying')
      .map((l) => l.obj.retryInMs);
    expect(waits).toEqual([20, 20, 20, 20, 20, 20, 20, 20]);
  });
});
