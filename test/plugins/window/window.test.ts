import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import windowPlugin from '../../../plugins/analyse/window/index.js';
import { createProcessor, processAll, splitAt, testContext } from '../../helpers/harness.js';
import { compileConfigSchema } from '../../../src/spec/ajv.js';
import type { Rec } from '../../../src/api.js';
import { bruteForce, normalise, byKeyStart, AGGREGATE } from './brute.js';

const BASE = Date.parse('2024-03-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function rec(ip: string | undefined, t: number, extra: { bytes?: number; domain?: string } = {}): Rec {
  const r: Rec = { '@timestamp': iso(t), http: { request: { method: 'GET' }, response: { status_code: 200 } }, url: {} };
  if (ip !== undefined) r.source = { ip };
  if (extra.bytes !== undefined) r.http.response.bytes = extra.bytes;
  if (extra.domain !== undefined) r.url.domain = extra.domain;
  return r;
}

function issues(withConfig: unknown) {
  const copy = structuredClone(withConfig);
  const validate = compileConfigSchema(windowPlugin.schema);
  expect(validate(copy), JSON.stringify(validate.errors)).toBe(true);
  return windowPlugin.check!(copy as any);
}

const recordArb = fc.record({
  // IPv4 keys are looked up by their number, others by their text: '10.0.0.01' is not '10.0.0.1',
  // and 255.255.255.255 (whose number is -1, the sentinel) keeps its text
  ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '2001:db8::7', '10.0.0.01', '255.255.255.255', '0.0.0.0', '192.168.1.1'),
  // Seconds over 40 minutes, plus milliseconds so that pane and window edges are hit exactly sometimes.
  t: fc.oneof(
    fc.integer({ min: 0, max: 2400 }).map((s) => BASE + s * 1000),
    fc.integer({ min: 0, max: 2_400_000 }).map((ms) => BASE + ms),
  ),
  bytes: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
  domain: fc.option(fc.constantFrom('a.example', 'b.example', 'c.example', 'd.example'), { nil: undefined }),
});

const shapeArb = fc.constantFrom(
  { size: 60_000, slide: 60_000 },
  { size: 300_000, slide: 300_000 },
  { size: 300_000, slide: 60_000 },
  { size: 300_000, slide: 120_000 }, // pane = gcd = 60s, window not a multiple of slide
  { size: 90_000, slide: 40_000 }, // pane = 10s
  { size: 7_000, slide: 7_000 },
);

describe('window: results equal a brute-force computation', () => {
  it('tumbling and sliding windows over out-of-order input, any batching', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArb, { minLength: 1, maxLength: 300 }),
        shapeArb,
        fc.constantFrom(0, 1000, 30_000, 120_000, 3_600_000),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (raw, shape, lateness, cuts) => {
          const records = raw.map((r) => rec(r.ip, r.t, { bytes: r.bytes, domain: r.domain }));
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
          const out = await processAll(p, splitAt(records, cuts));
          const expected = bruteForce(records, { ...shape, lateness, key: 'source.ip' });
          expect(normalise(out.windows ?? [])).toEqual(expected.windows.sort(byKeyStart));
          // Every input passes through; the late ones are also reported, with their reason.
          expect(out.out).toHaveLength(records.length);
          expect(out.out!.every((r, i) => r === records[i])).toBe(true);
          const late = out.late ?? [];
          expect(late.map((r) => r['@timestamp'])).toEqual(expected.late.map((r) => r['@timestamp']));
          expect(late.every((r) => r.window.late === true && r.window.reason === 'LATE')).toBe(true);
          expect(ctx.counters['late.LATE'] ?? 0).toBe(expected.late.length);
          // Nothing left behind after finish().
          expect(ctx.counters.keys).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('with lateness covering the whole input, order and batching do not change the result', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 200 }), shapeArb, fc.array(fc.nat(), { maxLength: 5 }), async (raw, shape, cuts) => {
        const records = raw.map((r) => rec(r.ip, r.t, { bytes: r.bytes, domain: r.domain }));
        const sorted = [...records].sort((a, b) => Date.parse(a['@timestamp']) - Date.parse(b['@timestamp']));
        const cfg = { key: 'source.ip', size: shape.size, slide: shape.slide, allowed_lateness: '1h', aggregate: AGGREGATE };
        const a = await processAll(await createProcessor(windowPlugin, cfg), splitAt(records, cuts));
        const b = await processAll(await createProcessor(windowPlugin, cfg), [sorted]);
        expect(a.late).toBeUndefined();
        expect(normalise(a.windows!)).toEqual(normalise(b.windows!));
      }),
      { numRuns: 80 },
    );
  });

  it('spilling keys at max_keys loses no count: partial pieces add up to the brute-force windows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 200 }), shapeArb, fc.integer({ min: 1, max: 3 }), async (raw, shape, maxKeys) => {
        const records = raw.map((r) => rec(r.ip, r.t, { bytes: r.bytes }));
        const p = await createProcessor(windowPlugin, {
          key: ['source.ip'],
          size: shape.size,
          slide: shape.slide,
          allowed_lateness: '1h',
          max_keys: maxKeys,
          aggregate: { requests: 'count', bytes: { sum: 'http.response.bytes' } },
        });
        const out = await processAll(p, splitAt(records, [7, 19, 50]));
        const sums = new Map<string, { requests: number; bytes: number }>();
        for (const w of out.windows ?? []) {
          const k = `${w.source.ip}|${w.window.start}`;
          const s = sums.get(k) ?? { requests: 0, bytes: 0 };
          s.requests += w.requests;
          s.bytes += w.bytes;
          sums.set(k, s);
        }
        const expected = bruteForce(records, { ...shape, lateness: 3_600_000, key: 'source.ip' });
        expect(sums.size).toBe(expected.windows.length);
        for (const w of expected.windows) {
          expect(sums.get(`${w.key}|${iso(w.start)}`)).toEqual({ requests: w.requests, bytes: w.bytes });
        }
      }),
      { numRuns: 80 },
    );
  });
});

describe('window: behaviour', () => {
  const volume = {
    key: ['source.ip'],
    size: '5m',
    slide: '1m',
    allowed_lateness: '30s',
    aggregate: { requests: 'count', bytes: { sum: 'http.response.bytes' } },
    alert_when: { '>': [{ var: 'requests' }, 600] },
    alert: { name: 'high-request-rate', severity: 'high', tags: ['volume'] },
  };

  it('a client making 700 requests within 5 minutes raises alerts; a quiet one does not', async () => {
    const records: Rec[] = [];
    for (let i = 0; i < 700; i++) records.push(rec('10.1.1.99', BASE + i * 300, { bytes: 10 })); // 700 in 210s
    for (let i = 0; i < 50; i++) records.push(rec('10.1.1.5', BASE + i * 4000, { bytes: 1 }));
    const ctx = testContext('volume');
    const out = await processAll(await createProcessor(windowPlugin, volume, ctx), [records.slice(0, 300), records.slice(300)]);
    const alerts = out.alerts ?? [];
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) {
      expect(a.source.ip).toBe('10.1.1.99');
      expect(a.requests).toBeGreaterThan(600);
      expect(a.event).toMatchObject({ kind: 'alert', severity: 73 });
      expect(a.rule).toMatchObject({ name: 'high-request-rate', ruleset: 'volume', severity: 'high' });
      expect(a.tags).toEqual(['volume']);
    }
    // The windows containing all 700 requests: those starting 10:00 (10:00–10:05) and earlier ones that cover 10:00–10:03:30.
    const full = alerts
      .filter((a) => a.requests === 700)
      .map((a) => a.window.start)
      .sort();
    expect(full).toEqual(['2024-03-01T09:59:00.000Z', '2024-03-01T10:00:00.000Z']);
    const ws = out.windows!;
    expect(ws.every((w) => w.event.kind === 'metric')).toBe(true);
    expect(ws.find((w) => w.source.ip === '10.1.1.99' && w.window.start === '2024-03-01T10:00:00.000Z')).toMatchObject({
      requests: 700,
      bytes: 7000,
      window: { end: '2024-03-01T10:05:00.000Z' },
      '@timestamp': '2024-03-01T10:00:00.000Z',
    });
    expect(ctx.counters.alerts).toBe(alerts.length);
  });

  it("samples: alerts carry the raw lines of the window's first records in event.original; windows do not", async () => {
    const records: Rec[] = [];
    // 601 requests at 10:00:00.000…10:00:00.600, in pane order; the raw lines say which
    for (let i = 0; i < 601; i++) records.push({ ...rec('10.1.1.99', BASE + i), event: { original: `line ${i}` } });
    records.push(rec('10.1.1.99', BASE + 601)); // no raw line: not sampled, still counted
    const out = await processAll(await createProcessor(windowPlugin, { ...volume, samples: 2 }, testContext('volume')), [
      records.slice(0, 100),
      records.slice(100),
    ]);
    const alerts = out.alerts ?? [];
    expect(alerts.length).toBe(5);
    for (const a of alerts) expect(a.event).toEqual({ kind: 'alert', dataset: 'sluice.window', provider: 'volume', severity: 73, original: 'line 0\nline 1' });
    expect(out.windows!.every((w) => w.event.original === undefined)).toBe(true);
    // without samples (the default), nothing is kept
    const plain = await processAll(await createProcessor(windowPlugin, volume, testContext('volume')), [records]);
    expect(plain.alerts!.every((a) => !('original' in a.event))).toBe(true);
  });

  it('closes windows as the watermark passes them and frees their keys', async () => {
    const ctx = testContext('w');
    const p = await createProcessor(windowPlugin, { key: 'source.ip', size: '1m', allowed_lateness: '10s', aggregate: { n: 'count' } }, ctx);
    const first = await p.process([rec('a', BASE + 1000), rec('b', BASE + 2000), rec('c', BASE + 59_000)]);
    expect(first.windows).toEqual([]);
    expect(ctx.counters.keys).toBe(3);
    // Event time 10:01:15 → watermark 10:01:05: the 10:00 windows close.
    const second = await p.process([rec('a', BASE + 75_000)]);
    expect(second.windows!.map((w) => [w.source.ip, w.n])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]);
    expect(ctx.counters.keys).toBe(1);
    const rest = await p.finish!();
    expect(rest.windows!.map((w) => [w.source.ip, w.n, w.window.start])).toEqual([['a', 1, '2024-03-01T10:01:00.000Z']]);
    expect(ctx.counters.keys).toBe(0);
  });

  it('late records go to late with the reason and the watermark, and are counted', async () => {
    const ctx = testContext('w');
    const p = await createProcessor(windowPlugin, { key: 'source.ip', size: '1m', allowed_lateness: '10s', aggregate: { n: 'count' } }, ctx);
    const tooLate = rec('a', BASE + 5_000);
    const out = await processAll(p, [[rec('a', BASE + 150_000)], [rec('a', BASE + 145_000), tooLate]]);
    expect(out.late).toHaveLength(1);
    expect(out.late![0]).toMatchObject({
      '@timestamp': tooLate['@timestamp'],
      window: { late: true, reason: 'LATE', watermark: '2024-03-01T10:02:20.000Z', node: 'w' },
    });
    expect(tooLate.window).toBeUndefined(); // the input record is not modified
    expect(out.out).toHaveLength(3);
    expect(ctx.counters['late.LATE']).toBe(1);
    expect(out.windows!.map((w) => w.n)).toEqual([2]);
  });

  it('records without an event time or a key are reported on late, not dropped', async () => {
    const ctx = testContext('w');
    const p = await createProcessor(windowPlugin, { key: ['source.ip', 'user.name'], size: '1m', aggregate: { n: 'count' } }, ctx);
    const good = { ...rec('a', BASE), user: { name: 'bob' } };
    const noTime = { ...rec('a', BASE), '@timestamp': 'not a date', user: { name: 'bob' } };
    const noKey = rec('a', BASE);
    const out = await processAll(p, [[good, noTime, noKey]]);
    expect(out.late!.map((r) => r.window.reason)).toEqual(['NO_TIMESTAMP', 'MISSING_KEY']);
    expect(out.out).toHaveLength(3);
    expect(out.windows).toHaveLength(1);
    expect(out.windows![0]).toMatchObject({ source: { ip: 'a' }, user: { name: 'bob' }, n: 1 });
    expect(ctx.counters['late.NO_TIMESTAMP']).toBe(1);
    expect(ctx.counters['late.MISSING_KEY']).toBe(1);
  });

  it('accepts epoch-millisecond timestamps and a custom time field', async () => {
    const p = await createProcessor(windowPlugin, { time_field: 'event.created', size: '1m', aggregate: { n: 'count' } });
    const out = await processAll(p, [[{ event: { created: BASE + 10 } }, { event: { created: BASE + 70_000 } }]]);
    expect(out.windows!.map((w) => [w.window.start, w.n])).toEqual([
      ['2024-03-01T10:00:00.000Z', 1],
      ['2024-03-01T10:01:00.000Z', 1],
    ]);
  });

  it('windows straddling the end of a finite input are emitted by finish()', async () => {
    const p = await createProcessor(windowPlugin, { key: 'source.ip', size: '5m', slide: '1m', allowed_lateness: '10m', aggregate: { n: 'count' } });
    const first = await p.process([rec('a', BASE + 30_000), rec('a', BASE + 200_000)]);
    expect(first.windows).toEqual([]);
    const rest = await p.finish!();
    // 10:00:30 is in windows starting 09:56 … 10:00; 10:03:20 in 09:59 … 10:03.
    expect(rest.windows!.map((w) => `${w.window.start.slice(11, 16)} ${w.n}`)).toEqual([
      '09:56 1',
      '09:57 1',
      '09:58 1',
      '09:59 2',
      '10:00 2',
      '10:01 1',
      '10:02 1',
      '10:03 1',
    ]);
  });

  it('distinct is exact over many values and across the panes of a sliding window', async () => {
    const records: Rec[] = [];
    for (let i = 0; i < 20_000; i++) records.push(rec('a', BASE + (i % 240) * 1000, { domain: `h${i % 12_345}.example` }));
    const p = await createProcessor(windowPlugin, {
      key: 'source.ip',
      size: '4m',
      slide: '1m',
      allowed_lateness: '1h',
      aggregate: { hosts: { distinct: 'url.domain' }, n: 'count' },
    });
    const out = await processAll(p, [records]);
    const w = out.windows!.find((x) => x.window.start === '2024-03-01T10:00:00.000Z')!;
    expect(w).toMatchObject({ n: 20_000, hosts: 12_345 });
    // Brute force for the one-minute-shifted window 10:01–10:05 (only the last three minutes of data).
    const later = records.filter((r) => Date.parse(r['@timestamp']) >= BASE + 60_000);
    const w2 = out.windows!.find((x) => x.window.start === '2024-03-01T10:01:00.000Z')!;
    expect(w2.hosts).toBe(new Set(later.map((r) => r.url.domain)).size);
    expect(w2.n).toBe(later.length);
  });

  it('max_keys spills the key with the oldest open window, flagged partial', async () => {
    const ctx = testContext('w');
    const p = await createProcessor(windowPlugin, { key: 'source.ip', size: '1m', allowed_lateness: '1h', max_keys: 2, aggregate: { n: 'count' } }, ctx);
    const out = await processAll(p, [[rec('old', BASE + 1000), rec('mid', BASE + 2000), rec('old', BASE + 3000), rec('new', BASE + 60_500)]]);
    const partial = out.windows!.filter((w) => w.window.partial === true);
    expect(partial.map((w) => [w.source.ip, w.n])).toEqual([['old', 2]]);
    expect(out.windows!.filter((w) => !w.window.partial).map((w) => [w.source.ip, w.n])).toEqual([
      ['mid', 1],
      ['new', 1],
    ]);
    expect(ctx.counters.spilled_keys).toBe(1);
  });

  it('min, max, avg skip records without a numeric value; numeric strings count', async () => {
    const p = await createProcessor(windowPlugin, {
      size: '1m',
      aggregate: { lo: { min: 'v' }, hi: { max: 'v' }, mean: { avg: 'v' }, total: { sum: 'v' }, with_v: { count: 'v' }, all: 'count' },
    });
    const t = iso(BASE);
    const out = await processAll(p, [[{ '@timestamp': t, v: 4 }, { '@timestamp': t, v: '10' }, { '@timestamp': t, v: 'x' }, { '@timestamp': t }]]);
    expect(out.windows![0]).toMatchObject({ lo: 4, hi: 10, mean: 7, total: 14, with_v: 3, all: 4 });
    const none = await processAll(
      await createProcessor(windowPlugin, { size: '1m', aggregate: { lo: { min: 'v' }, mean: { avg: 'v' }, total: { sum: 'v' } } }),
      [[{ '@timestamp': t }]],
    );
    expect(none.windows![0]).toMatchObject({ lo: null, mean: null, total: 0 });
  });

  it('dotted aggregate names nest in the window record and alert_when reads them', async () => {
    const p = await createProcessor(windowPlugin, {
      key: 'source.ip',
      size: '1m',
      aggregate: { 'metrics.requests': 'count' },
      alert_when: { '>=': [{ var: 'metrics.requests' }, 2] },
    });
    const out = await processAll(p, [[rec('a', BASE), rec('a', BASE + 1), rec('b', BASE)]]);
    expect(out.windows!.map((w) => w.metrics.requests)).toEqual([2, 1]);
    expect(out.alerts!.map((a) => a.source.ip)).toEqual(['a']);
    expect(out.alerts![0]!.rule.name).toBe('test'); // default: the node name
  });
});

describe('window: configuration checks', () => {
  it('accepts the documented example', () => {
    for (const ex of windowPlugin.examples!) expect(issues(ex.with)).toEqual([]);
  });

  it('rejects a slide longer than the window, and bad durations', () => {
    expect(issues({ size: '1m', slide: '5m', aggregate: { n: 'count' } })).toMatchObject([{ path: '/slide', code: 'WINDOW_SLIDE' }]);
    const validate = compileConfigSchema(windowPlugin.schema);
    expect(validate({ size: '5 minutes', aggregate: { n: 'count' } })).toBe(false);
  });

  it('rejects aggregate names that clash with key fields or the window record', () => {
    const found = issues({ key: ['source.ip'], size: '1m', aggregate: { source: 'count', window: 'count', 'a.b': 'count' } });
    expect(found.map((i) => i.path)).toEqual(['/aggregate/source', '/aggregate/window']);
    expect(issues({ key: 'event.kind', size: '1m', aggregate: { n: 'count' } })).toMatchObject([{ path: '/key', code: 'WINDOW_RESERVED' }]);
  });

  it('rejects an unknown aggregate kind at the schema', () => {
    const validate = compileConfigSchema(windowPlugin.schema);
    expect(validate({ size: '1m', aggregate: { n: { median: 'x' } } })).toBe(false);
    expect(validate({ size: '1m', aggregate: { n: 'sum' } })).toBe(false);
  });

  it('reports a malformed alert_when with its pointer, including prototype access', () => {
    expect(issues({ size: '1m', aggregate: { n: 'count' }, alert_when: { '>': [{ var: 'n' }, { bogus: 1 }] } })).toMatchObject([
      { path: '/alert_when/>/1/bogus' },
    ]);
    expect(issues({ size: '1m', aggregate: { n: 'count' }, alert_when: { var: '__proto__' } })).toMatchObject([{ path: '/alert_when/var' }]);
  });
});
