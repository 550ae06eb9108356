/**
 * By-key copies of the window (API 1.7, `ctx.share`): N copies, each fed the whole stream in the
 * same batches at the same (fake) wall-clock times, together emit what one window emits — port by
 * port, as multisets — and each record of theirs comes from exactly one copy. Wall-clock time is
 * vitest's fake `Date`, as in partitions.test.ts, so that idle partitions are judged alike.
 */
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import fc from 'fast-check';
import windowPlugin, { ipv4Number } from '../../../plugins/analyse/window/index.js';
import { hashString, keyOwner, originOwner } from '../../../plugins/analyse/window/share.js';
import { mix32 } from '../../../src/internal.js';
import { parallelOf } from '../../../src/plugins/def.js';
import { configFor, createProcessor, splitAt, testContext, type TestContext } from '../../helpers/harness.js';
import { getPath, type Outputs, type ProcessorInstance, type Rec } from '../../../src/api.js';

const BASE = Date.parse('2024-03-01T10:00:00.000Z');
const WALL = Date.parse('2026-12-06T02:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const PORTS = ['out', 'windows', 'alerts', 'late'] as const;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(WALL);
});
afterEach(() => {
  vi.useRealTimers();
});

/** One generated record: its key values, time, origin and aggregated fields (undefined: absent). */
interface Spec {
  ip: string | number | null | undefined;
  user: string | undefined;
  /** Milliseconds after BASE; NaN: a time that cannot be read; undefined: no time field. */
  t: number | undefined;
  src: number;
  bytes: number | undefined;
  domain: string | undefined;
}

// Sources: two files, two Kafka partitions, and records without an origin.
const SOURCES = [
  (i: number) => ({ file: '/logs/a.log', line: i + 1 }),
  (i: number) => ({ file: '/logs/b.log', line: i + 1 }),
  (i: number) => ({ topic: 'proxy', partition: 0, offset: String(1000 + i) }),
  (i: number) => ({ topic: 'proxy', partition: 1, offset: String(7 + i) }),
  () => undefined,
];

function makeRecords(specs: Spec[]): Rec[] {
  return specs.map((s, i) => {
    const r: Rec = { id: i, http: { response: {} }, url: {}, event: { original: `line ${i}` } };
    if (s.t !== undefined) r['@timestamp'] = Number.isNaN(s.t) ? 'not a time' : iso(BASE + s.t);
    if (s.ip !== undefined) r.source = { ip: s.ip };
    if (s.user !== undefined) r.user = { name: s.user };
    if (s.bytes !== undefined) r.http.response.bytes = s.bytes;
    if (s.domain !== undefined) r.url.domain = s.domain;
    const origin = SOURCES[s.src]!(i);
    if (origin !== undefined) r.origin = origin;
    return r;
  });
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  // IPv4 addresses (ids by number), other texts (ids by text; '10.0.0.01' is not canonical,
  // 255.255.255.255 keeps its text), a number (a tagged JSON id), and missing keys.
  ip: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '192.168.1.1', '0.0.0.0', '172.16.5.4', '10.9.8.7') },
    { weight: 4, arbitrary: fc.constantFrom('2001:db8::7', '10.0.0.01', '255.255.255.255', 'proxy-host', 'b') },
    { weight: 1, arbitrary: fc.constantFrom(7, null, undefined) },
  ),
  user: fc.option(fc.constantFrom('ann', 'bob', 'cy'), { nil: undefined, freq: 8 }),
  // Mostly moving forward over 30 minutes, sometimes far behind (late), sometimes unreadable.
  t: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: 1_800_000 }) }, { weight: 1, arbitrary: fc.constantFrom(Number.NaN, undefined) }),
  src: fc.integer({ min: 0, max: SOURCES.length - 1 }),
  bytes: fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: undefined }),
  domain: fc.option(fc.constantFrom('a.example', 'b.example', 'c.example'), { nil: undefined }),
});

/** Sort times within runs so that streams are mostly in order, with some records out of order. */
function mostlyOrdered(specs: Spec[], shuffle: number): Spec[] {
  const timed = specs.filter((s) => s.t !== undefined && !Number.isNaN(s.t)).sort((a, b) => a.t! - b.t!);
  let k = 0;
  const out = specs.map((s) => (s.t !== undefined && !Number.isNaN(s.t) ? timed[k++]! : s));
  // swap some pairs a few places apart
  for (let i = 0; i + 3 < out.length; i += 1 + (shuffle % 5)) [out[i], out[i + 3]] = [out[i + 3]!, out[i]!];
  return out;
}

const configArb = fc.record({
  key: fc.constantFrom(['source.ip'], ['source.ip', 'user.name'], 'source.ip'),
  shape: fc.constantFrom({ size: '1m' }, { size: '5m', slide: '1m' }, { size: '90s', slide: '40s' }, { size: '7s' }),
  allowed_lateness: fc.constantFrom('0s', '10s', '2m'),
  idle_timeout: fc.constantFrom('never', '5s', '30s'),
  samples: fc.constantFrom(0, 2),
  threshold: fc.integer({ min: 0, max: 4 }),
});

function withConfig(c: {
  key: string | string[];
  shape: object;
  allowed_lateness: string;
  idle_timeout: string;
  samples: number;
  threshold: number;
}): Record<string, unknown> {
  return {
    key: c.key,
    ...c.shape,
    allowed_lateness: c.allowed_lateness,
    idle_timeout: c.idle_timeout,
    samples: c.samples,
    aggregate: {
      requests: 'count',
      bytes: { sum: 'http.response.bytes' },
      max_bytes: { max: 'http.response.bytes' },
      avg_bytes: { avg: 'http.response.bytes' },
      with_bytes: { count: 'http.response.bytes' },
      hosts: { distinct: 'url.domain' },
    },
    alert_when: { '>': [{ var: 'requests' }, c.threshold] },
    alert: { name: 'volume', tags: ['t'] },
  };
}

/** What happens between two batches: wall-clock time passing, and maybe a tick (the same for all). */
interface Gap {
  ms: number;
  tick: boolean;
}

interface Run {
  ports: Record<string, Rec[]>;
  ctx: TestContext;
}

/**
 * Feed `batches` to one window (no share) and to `n` copies (`share` i of n), batch by batch at the
 * same fake wall-clock time; returns the single run and each copy's run.
 */
async function runBoth(config: unknown, batches: Rec[][], gaps: Gap[], n: number): Promise<{ single: Run; copies: Run[] }> {
  const mk = async (share?: { index: number; count: number }): Promise<{ p: ProcessorInstance; run: Run }> => {
    const ctx = testContext('vol', share ? { share } : {});
    return { p: await createProcessor(windowPlugin, config, ctx), run: { ports: {}, ctx } };
  };
  const all = [await mk(), ...(await Promise.all(Array.from({ length: n }, (_, index) => mk({ index, count: n }))))];
  const take = (run: Run, o: Outputs) => {
    for (const [port, recs] of Object.entries(o)) if (recs) (run.ports[port] ??= []).push(...(recs as Rec[]));
  };
  for (let b = 0; b < batches.length; b++) {
    for (const { p, run } of all) take(run, await p.process(batches[b]!));
    const gap = gaps[b % gaps.length]!;
    if (gap.ms) vi.setSystemTime(Date.now() + gap.ms);
    if (gap.tick) for (const { p, run } of all) if (p.tick) take(run, await p.tick(Date.now()));
  }
  for (const { p, run } of all) take(run, await p.finish!());
  return { single: all[0]!.run, copies: all.slice(1).map((c) => c.run) };
}

/** A port's records as a sorted list of their JSON (a multiset). */
const bag = (recs: readonly Rec[] | undefined) => (recs ?? []).map((r) => JSON.stringify(r)).sort();

const windowId = (w: Rec) => JSON.stringify([w.source, w.user, w.window.start, w.window.end, w.window.partial ?? false]);

describe('window: by-key copies (ctx.share) together emit what one window emits', () => {
  it('is declared by-key with a key, none without', () => {
    expect(windowPlugin.kind === 'analyse' && typeof windowPlugin.parallel === 'function').toBe(true);
    const def = windowPlugin as { parallel: (c: unknown) => string };
    expect(def.parallel(configFor(windowPlugin, { key: 'source.ip', size: '1m', aggregate: { n: 'count' } }))).toBe('by-key');
    expect(def.parallel(configFor(windowPlugin, { size: '1m', aggregate: { n: 'count' } }))).toBe('none');
    expect(parallelOf(windowPlugin, configFor(windowPlugin, { key: 'source.ip', size: '1m', aggregate: { n: 'count' } }))).toBe('by-key');
  });

  it('for generated streams, with 2 and 3 copies', async () => {
    const scenario = fc.record({
      config: configArb,
      specs: fc.array(specArb, { minLength: 1, maxLength: 160 }),
      shuffle: fc.nat(),
      cuts: fc.array(fc.nat(), { maxLength: 12 }),
      gaps: fc.array(fc.record({ ms: fc.constantFrom(0, 0, 1000, 6000, 40_000), tick: fc.boolean() }), { minLength: 1, maxLength: 5 }),
      n: fc.constantFrom(2, 3),
    });
    let windowsSeen = 0;
    let lateSeen = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ config, specs, shuffle, cuts, gaps, n }) => {
        vi.setSystemTime(WALL);
        const records = makeRecords(mostlyOrdered(specs, shuffle));
        const batches = splitAt(records, cuts);
        const cfg = withConfig(config);
        const { single, copies } = await runBoth(cfg, batches, gaps, n);

        // The union of the copies' outputs is the single window's, port by port.
        for (const port of PORTS) {
          expect(bag(copies.flatMap((c) => c.ports[port] ?? [])), port).toEqual(bag(single.ports[port]));
        }
        // `out` is every input record once: the copies split the stream, each keeping its order.
        expect(single.ports.out).toEqual(records);
        const outIds = copies.flatMap((c) => (c.ports.out ?? []).map((r) => r.id as number));
        expect(outIds.sort((a, b) => a - b)).toEqual(records.map((r) => r.id));
        for (const c of copies) {
          const ids = (c.ports.out ?? []).map((r) => r.id as number);
          expect(ids).toEqual([...ids].sort((a, b) => a - b));
        }
        // Each window comes from exactly one copy: the one its key's records went to on `out`.
        const ownerOfWindow = new Map<string, number>();
        copies.forEach((c, i) => {
          for (const w of c.ports.windows ?? []) {
            const id = windowId(w);
            expect(ownerOfWindow.has(id), `window ${id} emitted by copies ${ownerOfWindow.get(id)} and ${i}`).toBe(false);
            ownerOfWindow.set(id, i);
          }
        });
        const fields = typeof config.key === 'string' ? [config.key] : config.key;
        const keyOf = (r: Rec) => fields.map((f) => getPath(r, f));
        const keyCopy = new Map<string, number>();
        copies.forEach((c, i) => {
          for (const r of c.ports.out ?? []) {
            const k = keyOf(r);
            if (!Number.isNaN(Date.parse(r['@timestamp'])) && k.every((v) => v !== undefined && v !== null)) {
              const ks = JSON.stringify(k);
              expect(keyCopy.get(ks) ?? i, `key ${ks} on two copies' out`).toBe(i);
              keyCopy.set(ks, i);
            }
          }
        });
        copies.forEach((c, i) => {
          for (const w of [...(c.ports.windows ?? []), ...(c.ports.alerts ?? [])]) {
            const k = JSON.stringify(keyOf(w));
            expect(keyCopy.get(k), `window of ${k}`).toBe(i);
          }
        });
        // Counters add up; the gauges of the stream's time are every copy's.
        for (const name of ['windows', 'alerts', 'late.LATE', 'late.NO_TIMESTAMP', 'late.MISSING_KEY']) {
          const sum = copies.reduce((a, c) => a + (c.ctx.counters[name] ?? 0), 0);
          expect(sum, name).toBe(single.ctx.counters[name] ?? 0);
        }
        for (const c of copies) {
          expect(c.ctx.counters.partitions).toBe(single.ctx.counters.partitions);
          expect(c.ctx.counters.watermark_ms).toBe(single.ctx.counters.watermark_ms);
        }
        windowsSeen += single.ports.windows?.length ?? 0;
        lateSeen += single.ports.late?.length ?? 0;
      }),
      { numRuns: 300 },
    );
    // the generated streams did exercise windows and late records
    expect(windowsSeen).toBeGreaterThan(1000);
    expect(lateSeen).toBeGreaterThan(100);
  });

  it('a late record, a record without a time and one without a key each come out of one copy', async () => {
    const config = { key: 'source.ip', size: '1m', allowed_lateness: '0s', idle_timeout: 'never', aggregate: { n: 'count' } };
    const recs: Rec[] = [
      { '@timestamp': iso(BASE + 120_000), source: { ip: '10.0.0.1' }, origin: { file: 'f', line: 1 } },
      { '@timestamp': iso(BASE + 120_000), source: { ip: '10.0.0.2' }, origin: { file: 'f', line: 2 } },
      { '@timestamp': iso(BASE + 1_000), source: { ip: '10.0.0.1' }, origin: { file: 'f', line: 3 } }, // LATE
      { '@timestamp': iso(BASE + 1_000), source: { ip: '10.0.0.2' }, origin: { file: 'f', line: 4 } }, // LATE
      { source: { ip: '10.0.0.1' }, origin: { file: 'f', line: 5 } }, // NO_TIMESTAMP
      { '@timestamp': iso(BASE + 130_000), origin: { file: 'f', line: 6 } }, // MISSING_KEY
    ];
    const { single, copies } = await runBoth(config, [recs], [{ ms: 0, tick: false }], 2);
    expect(single.ports.late!.map((r) => r.window.reason)).toEqual(['LATE', 'LATE', 'NO_TIMESTAMP', 'MISSING_KEY']);
    const owner1 = keyOwner(ipv4Number('10.0.0.1'), 2);
    const owner2 = keyOwner(ipv4Number('10.0.0.2'), 2);
    expect(owner1).not.toBe(owner2); // the two keys of this test are in different shares
    const lateOf = (i: number) => (copies[i]!.ports.late ?? []).map((r) => r.origin.line);
    // LATE goes with the key; NO_TIMESTAMP and MISSING_KEY with the origin's line (5 % 2, 6 % 2)
    expect(lateOf(owner1).sort()).toEqual([3, ...(5 % 2 === owner1 ? [5] : []), ...(6 % 2 === owner1 ? [6] : [])].sort());
    expect(lateOf(owner2).sort()).toEqual([4, ...(5 % 2 === owner2 ? [5] : []), ...(6 % 2 === owner2 ? [6] : [])].sort());
    expect(copies[owner1]!.ports.windows!.map((w) => w.source.ip)).toEqual(['10.0.0.1']);
    expect(copies[owner2]!.ports.windows!.map((w) => w.source.ip)).toEqual(['10.0.0.2']);
  });

  it('max_keys applies to each copy: a copy spills only when its own keys reach it', async () => {
    // Six keys, three per copy; max_keys 3: one window holding all six spills, no copy does.
    const ips = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8'];
    const byCopy = [0, 1].map((c) => ips.filter((ip) => keyOwner(ipv4Number(ip), 2) === c).slice(0, 3));
    expect(byCopy.map((k) => k.length)).toEqual([3, 3]);
    const keys = byCopy.flat();
    const config = { key: 'source.ip', size: '1m', idle_timeout: 'never', max_keys: 3, aggregate: { n: 'count' } };
    const recs = keys.map((ip, i) => ({ '@timestamp': iso(BASE + i * 1000), source: { ip }, origin: { file: 'f', line: i + 1 } }));
    const { single, copies } = await runBoth(config, [recs], [{ ms: 0, tick: false }], 2);
    expect(single.ctx.counters.spilled_keys).toBe(3);
    expect(copies.map((c) => c.ctx.counters.spilled_keys ?? 0)).toEqual([0, 0]);
    expect(copies.flatMap((c) => c.ports.windows!).filter((w) => w.window.partial)).toEqual([]);
    // each copy's `keys` gauge counted its own keys only
    expect(copies.map((c) => (c.ports.windows ?? []).length)).toEqual([3, 3]);
  });

  it('refuses a share that is not a copy number', async () => {
    const config = { key: 'source.ip', size: '1m', aggregate: { n: 'count' } };
    for (const share of [
      { index: 2, count: 2 },
      { index: -1, count: 2 },
      { index: 0, count: 0 },
      { index: 0.5, count: 2 },
    ]) {
      await expect(createProcessor(windowPlugin, config, testContext('w', { share }))).rejects.toThrow(/share/);
    }
    // count 1 is the whole stream
    const p = await createProcessor(windowPlugin, config, testContext('w', { share: { index: 0, count: 1 } }));
    const recs = [{ '@timestamp': iso(BASE), source: { ip: 'x' } }, { '@timestamp': iso(BASE) }];
    expect((await p.process(recs)).out).toBe(recs);
  });
});

describe('window shares: the hash', () => {
  it('is a fixed function of the key id (values pinned so that every thread and version agrees)', () => {
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c); // FNV-1a test vector
    expect(hashString('foobar')).toBe(0xbf9cf968); // FNV-1a test vector
    expect(mix32(0)).toBe(0);
    expect(mix32(1)).toBe(0x514e28b7); // MurmurHash3 fmix32(1)
    expect(keyOwner(ipv4Number('10.0.0.1'), 3)).toBe(mix32(ipv4Number('10.0.0.1')) % 3);
    expect(originOwner({ file: 'f', line: 7 }, 3)).toBe(1);
    expect(originOwner({ topic: 't', partition: 0, offset: 'foobar' }, 2)).toBe(0xbf9cf968 % 2);
    expect(originOwner(undefined, 3)).toBe(0);
  });

  it('spreads IPv4 keys evenly over copies', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[keyOwner((0x0a000000 + i) | 0, 3)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
});
