/**
 * The window analyser on streams: a watermark per source partition, idle partitions, and windows
 * closed by wall-clock time on a quiet input (`tick`). Wall-clock time is vitest's fake `Date`
 * (`vi.useFakeTimers({ toFake: ['Date'] })`): the plugin reads `Date.now()` in `process`, and
 * `tick(nowMs)` is given the fake time, as the runtime gives it the real one.
 */
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import fc from 'fast-check';
import windowPlugin from '../../../plugins/analyse/window/index.js';
import { createProcessor, processAll, testContext } from '../../helpers/harness.js';
import type { Outputs, ProcessorInstance, Rec } from '../../../src/api.js';
import { bruteForcePartitioned, normalise, byKeyStart, AGGREGATE } from './brute.js';

const BASE = Date.parse('2024-03-01T10:00:00.000Z');
const WALL = Date.parse('2026-12-06T02:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A record from Kafka partition `partition` of topic `proxy` (or from `file` when given). */
function rec(ip: string, t: number, partition: number | string, extra: { bytes?: number; domain?: string } = {}): Rec {
  const origin = typeof partition === 'string' ? { file: partition, line: 1 } : { topic: 'proxy', partition, offset: '0' };
  const r: Rec = { '@timestamp': iso(t), source: { ip }, http: { response: {} }, url: {}, origin };
  if (extra.bytes !== undefined) r.http.response.bytes = extra.bytes;
  if (extra.domain !== undefined) r.url.domain = extra.domain;
  return r;
}

/** The fake wall clock: `advance` moves it on; `tick` calls the processor's tick at the fake now. */
const fakeClock = {
  advance(ms: number) {
    vi.setSystemTime(Date.now() + ms);
  },
  async tick(p: ProcessorInstance): Promise<Outputs> {
    return await p.tick!(Date.now());
  },
};

const windowsOf = (o: Outputs) => (o.windows ?? []).map((w) => `${w.source.ip} ${w.window.start.slice(11, 16)} n=${w.n}`);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(WALL);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('window: a watermark per source partition', () => {
  const oneMinute = { key: 'source.ip', size: '1m', allowed_lateness: '10s', aggregate: { n: 'count' } };

  it("a fast partition does not make a slower one's records late", async () => {
    const ctx = testContext('w');
    const p = await createProcessor(windowPlugin, oneMinute, ctx);
    // Partition 0 is 10 minutes ahead of partition 1 in event time (a consumer catching up, a
    // proxy whose clock or batching differs). With one global watermark, all of partition 1 was late.
    const a = await p.process([rec('a', BASE + 600_000, 0), rec('b', BASE + 5_000, 1)]);
    const b = await p.process([rec('a', BASE + 610_000, 0), rec('b', BASE + 30_000, 1), rec('b', BASE + 50_000, 1)]);
    expect(a.late).toBeUndefined();
    expect(b.late).toBeUndefined();
    expect(windowsOf(a)).toEqual([]);
    expect(windowsOf(b)).toEqual([]);
    // Partition 1 moves past 10:01:10: its 10:00 window closes, partition 0's stay open.
    const c = await p.process([rec('b', BASE + 71_000, 1)]);
    expect(windowsOf(c)).toEqual(['b 10:00 n=3']);
    expect(ctx.counters['late.LATE'] ?? 0).toBe(0);
    const rest = await p.finish!();
    expect(windowsOf(rest)).toEqual(['b 10:01 n=1', 'a 10:10 n=2']);
  });

  it("late is per partition: older than its own partition's watermark", async () => {
    const ctx = testContext('w');
    const p = await createProcessor(windowPlugin, oneMinute, ctx);
    await p.process([rec('a', BASE + 300_000, 0), rec('b', BASE + 100_000, 1)]);
    // Partition 1's watermark is 10:01:30 (10:01:40 − 10 s): 10:01:20 is late there, 10:01:35 is not,
    // though both are far behind partition 0; partition 0's 10:04:45 is late against its own 10:04:50.
    const out = await p.process([rec('b', BASE + 80_000, 1), rec('b', BASE + 95_000, 1), rec('a', BASE + 285_000, 0)]);
    expect(out.late!.map((r) => [r.source.ip, r['@timestamp'].slice(11, 19), r.window.watermark.slice(11, 19)])).toEqual([
      ['b', '10:01:20', '10:01:30'],
      ['a', '10:04:45', '10:04:50'],
    ]);
  });

  it('a record from a file is in the partition of its file; records without an origin share one', async () => {
    const ctx = testContext('w');
    const p = await createProcessor(windowPlugin, oneMinute, ctx);
    await p.process([rec('a', BASE + 300_000, '/logs/a.log'), rec('b', BASE + 1_000, '/logs/b.log')]);
    const noOrigin = { ...rec('c', BASE + 2_000, 0) };
    delete noOrigin.origin;
    const out = await p.process([rec('b', BASE + 2_000, '/logs/b.log'), noOrigin]);
    expect(out.late).toBeUndefined();
    expect(ctx.counters.partitions).toBe(3);
  });

  it('results equal a brute-force replay over several partitions, out of order, any batching', async () => {
    const recordArb = fc.record({
      ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '2001:db8::7'),
      partition: fc.integer({ min: 0, max: 2 }),
      t: fc.integer({ min: 0, max: 2_400_000 }),
      bytes: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
      domain: fc.option(fc.constantFrom('a.example', 'b.example', 'c.example'), { nil: undefined }),
    });
    const shapeArb = fc.constantFrom(
      { size: 60_000, slide: 60_000 },
      { size: 300_000, slide: 60_000 },
      { size: 90_000, slide: 40_000 },
      { size: 7_000, slide: 7_000 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(recordArb, { maxLength: 40 }), { minLength: 1, maxLength: 12 }),
        // Partitions drift apart: each gets its own event-time offset.
        fc.tuple(fc.integer({ min: 0, max: 900_000 }), fc.integer({ min: 0, max: 900_000 }), fc.integer({ min: 0, max: 900_000 })),
        shapeArb,
        fc.constantFrom(0, 1000, 30_000, 120_000),
        async (rawBatches, offsets, shape, lateness) => {
          const batches = rawBatches.map((b) => b.map((r) => rec(r.ip, BASE + r.t + offsets[r.partition]!, r.partition, { bytes: r.bytes, domain: r.domain })));
          const ctx = testContext('volume');
          const p = await createProcessor(
            windowPlugin,
            {
              key: ['source.ip'],
              size: shape.size,
              slide: shape.slide,
              allowed_lateness: lateness,
              aggregate: AGGREGATE,
            },
            ctx,
          );
          const out = await processAll(p, batches);
          const expected = bruteForcePartitioned(batches, { ...shape, lateness, key: 'source.ip' }, (r) => String(r.origin.partition));
          expect(normalise(out.windows ?? [])).toEqual(expected.windows.sort(byKeyStart));
          expect((out.late ?? []).map((r) => r['@timestamp'])).toEqual(expected.late.map((r) => r['@timestamp']));
          expect(out.out).toHaveLength(batches.flat().length);
          expect(ctx.counters.keys).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('window: idle partitions and quiet streams (fake clock)', () => {
  const cfg = {
    key: 'source.ip',
    size: '1m',
    allowed_lateness: '10s',
    idle_timeout: '30s',
    aggregate: { n: 'count' },
    alert_when: { '>=': [{ var: 'n' }, 3] },
  };

  it('a quiet partition does not hold alerts back beyond idle_timeout', async () => {
    const ctx = testContext('w');
    const p = await createProcessor(windowPlugin, cfg, ctx);
    // Both partitions at 10:00; partition 1 then falls silent while partition 0 goes on.
    await p.process([rec('a', BASE + 1_000, 0), rec('q', BASE + 2_000, 1)]);
    fakeClock.advance(5_000);
    const busy = await p.process([rec('a', BASE + 20_000, 0), rec('a', BASE + 40_000, 0), rec('a', BASE + 90_000, 0)]);
    // Partition 1's watermark (09:59:52) holds partition 0's 10:00 window (and its alert) back.
    expect(windowsOf(busy)).toEqual([]);
    fakeClock.advance(20_000); // 25 s since partition 1's last record: not idle yet
    expect(windowsOf(await p.process([rec('a', BASE + 95_000, 0)]))).toEqual([]);
    expect(windowsOf(await fakeClock.tick(p))).toEqual([]);
    fakeClock.advance(6_000); // 31 s: partition 1 is idle and no longer counts
    const t = await fakeClock.tick(p);
    expect(windowsOf(t)).toEqual(['a 10:00 n=3', 'q 10:00 n=1']);
    expect(t.alerts!.map((x) => [x.source.ip, x.n, x.event.kind])).toEqual([['a', 3, 'alert']]);
  });

  it('a quiet stream emits its windows and alerts by wall-clock time, at most idle_timeout late', async () => {
    const ctx = testContext('w');
    const p = await createProcessor(windowPlugin, cfg, ctx);
    expect(p.tickIntervalMs).toBe(1000);
    // Three requests in the 10:00 window, the last at 10:00:45; then nothing.
    await p.process([rec('a', BASE + 5_000, 0), rec('a', BASE + 30_000, 0), rec('a', BASE + 45_000, 0)]);
    // On a busy stream the window closes once event time reaches 10:01:10, 25 s after the last
    // record. On a quiet one: 30 s idle, then event time advances with the wall clock: 55 s.
    for (let s = 1; s <= 54; s++) {
      fakeClock.advance(1_000);
      expect((await fakeClock.tick(p)).windows ?? [], `after ${s} s`).toEqual([]);
    }
    fakeClock.advance(1_000);
    const t = await fakeClock.tick(p);
    expect(windowsOf(t)).toEqual(['a 10:00 n=3']);
    expect(t.alerts).toHaveLength(1);
    expect(ctx.counters.keys).toBe(0);
    // The stream resumes: records after the emitted window count; one inside it is reported late.
    fakeClock.advance(10_000);
    const back = await p.process([rec('a', BASE + 50_000, 0), rec('a', BASE + 62_000, 0)]);
    expect(back.late!.map((r) => [r['@timestamp'].slice(11, 19), r.window.reason])).toEqual([['10:00:50', 'LATE']]);
    expect(windowsOf(await p.finish!())).toEqual(['a 10:01 n=1']);
  });

  it('an idle partition that comes back is counted again from where the others are', async () => {
    const p = await createProcessor(windowPlugin, cfg, testContext('w'));
    await p.process([rec('a', BASE + 1_000, 0), rec('q', BASE + 1_000, 1)]);
    fakeClock.advance(31_000);
    await p.process([rec('a', BASE + 200_000, 0)]); // partition 1 idle: windows close up to 10:03:10
    const back = await p.process([rec('q', BASE + 150_000, 1), rec('q', BASE + 195_000, 1)]);
    expect(back.late!.map((r) => r['@timestamp'].slice(11, 19))).toEqual(['10:02:30']);
    // Partition 1 is active again and holds the watermark at its own (10:03:05).
    const a = await p.process([rec('a', BASE + 400_000, 0)]);
    expect(windowsOf(a)).toEqual([]);
  });

  it('idle_timeout: never keeps the event-time-only behaviour: no tick, nothing closes on a quiet input', async () => {
    const p = await createProcessor(windowPlugin, { ...cfg, idle_timeout: 'never' }, testContext('w'));
    expect(p.tick).toBeUndefined();
    await p.process([rec('a', BASE + 1_000, 0), rec('q', BASE + 1_000, 1)]);
    fakeClock.advance(3_600_000);
    expect(windowsOf(await p.process([rec('a', BASE + 600_000, 0)]))).toEqual([]);
    expect(windowsOf(await p.finish!())).toEqual(['a 10:00 n=1', 'q 10:00 n=1', 'a 10:10 n=1']);
  });

  it('a tick with nothing held, or before any record, emits nothing', async () => {
    const p = await createProcessor(windowPlugin, cfg, testContext('w'));
    expect(await fakeClock.tick(p)).toEqual({});
    await p.process([rec('a', BASE, 0)]);
    fakeClock.advance(3_600_000);
    expect(windowsOf(await fakeClock.tick(p))).toEqual(['a 10:00 n=1']);
    fakeClock.advance(1_000);
    expect(await fakeClock.tick(p)).toEqual({ windows: [], alerts: [] });
  });
});
