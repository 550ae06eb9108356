import { describe, it, expect } from 'vitest';
import type { Outputs, ProcessorInstance, Rec } from '../../src/api.js';
import type { LineBlock } from '../../src/record.js';
import { ChainDriver, type ChainStep, type StepCounter } from '../../src/runtime/chain.js';
import { CHUNK } from '../../src/runtime/chunks.js';
import { SharedHolder } from '../../src/runtime/prepare.js';
import { RunError } from '../../src/runtime/run-error.js';
import { runPipeline } from '../../src/runtime/run.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { loadSpec } from '../../src/spec/validate.js';
import { testContext } from '../helpers/harness.js';

/** Counts as the runtime's statistics would hold them. */
class Counts implements StepCounter {
  in = 0;
  out: Record<string, number> = {};
  received(n: number): void {
    this.in += n;
  }
  emitted(port: string, n: number): void {
    this.out[port] = (this.out[port] ?? 0) + n;
  }
}

type Call = [string, ...unknown[]];

/** A fake processor that records its calls and routes records by `fn`. */
function fakeProcessor(name: string, calls: Call[], fn: (records: Rec[]) => Outputs, extra: Partial<ProcessorInstance> = {}): ProcessorInstance {
  return {
    process(records) {
      calls.push([`${name}.process`, records.length]);
      return fn(records);
    },
    ...extra,
  };
}

function step(name: string, inst: ProcessorInstance, o: Partial<ChainStep> = {}): ChainStep & { counter: Counts } {
  return { name, inst, counter: new Counts(), leaving: 'all', ...o } as ChainStep & { counter: Counts };
}

const recs = (n: number, from = 0): Rec[] => Array.from({ length: n }, (_, i) => ({ message: `m${from + i}`, n: from + i }));

/** A sink for the driver's `out` that keeps what left the chain, per tag. */
function collector() {
  const got: Array<{ tag: string; step: number; port: string; n: Array<unknown> }> = [];
  const out = (tag: string, s: number, port: string, records: Rec[]) => void got.push({ tag, step: s, port, n: records.map((r) => r.n) });
  return { got, out };
}

describe('chain driver', () => {
  it('gives a processor CHUNK records at a time, in order, and counts what goes in and out', async () => {
    const calls: Call[] = [];
    const s = step(
      'a',
      fakeProcessor('a', calls, (r) => ({ out: r.filter((x) => (x.n as number) % 2 === 0), odd: r.filter((x) => (x.n as number) % 2 === 1) })),
    );
    const { got, out } = collector();
    const driver = new ChainDriver([s], out);
    await driver.runBatch(recs(2 * CHUNK + 10), 'b1');
    expect(calls).toEqual([
      ['a.process', CHUNK],
      ['a.process', CHUNK],
      ['a.process', 10],
    ]);
    expect(s.counter.in).toBe(2 * CHUNK + 10);
    expect(s.counter.out).toEqual({ out: CHUNK + 5, odd: CHUNK + 5 });
    // each chunk's outputs leave before the next chunk runs, tagged with the batch
    expect(got.map((g) => [g.tag, g.port, g.n.length])).toEqual([
      ['b1', 'out', CHUNK / 2],
      ['b1', 'odd', CHUNK / 2],
      ['b1', 'out', CHUNK / 2],
      ['b1', 'odd', CHUNK / 2],
      ['b1', 'out', 5],
      ['b1', 'odd', 5],
    ]);
    expect(got.flatMap((g) => (g.port === 'out' ? g.n : []))).toEqual(
      recs(2 * CHUNK + 10)
        .map((r) => r.n)
        .filter((n) => (n as number) % 2 === 0),
    );
  });

  it('makes the records of a block of lines chunk by chunk', async () => {
    const lines = Array.from({ length: CHUNK + 3 }, (_, i) => `line ${i + 1}`);
    const block: LineBlock = { kind: 'lines', file: 'f.log', firstLine: 1, bytes: new TextEncoder().encode(lines.join('\n') + '\n'), records: lines.length };
    const seen: Rec[][] = [];
    const driver = new ChainDriver([step('p', { process: (r) => (seen.push(r), {}) })], () => undefined);
    await driver.runBatch(block, null);
    expect(seen.map((c) => c.length)).toEqual([CHUNK, 3]);
    expect(seen[1]![2]).toMatchObject({ message: `line ${CHUNK + 3}`, origin: { file: 'f.log', line: CHUNK + 3 } });
  });

  it('runs each chunk through the whole chain: the feed port goes on, the leaving ports come out', async () => {
    const calls: Call[] = [];
    // parse: out → next step; invalid leaves. enrich: out leaves, and is also read outside.
    const parse = step(
      'parse',
      fakeProcessor('parse', calls, (r) => ({ out: r.slice(1), invalid: r.slice(0, 1) })),
      { feed: 'out', leaving: ['invalid'] },
    );
    const enrich = step(
      'enrich',
      fakeProcessor('enrich', calls, (r) => ({ out: r, dropped: [] })),
      { leaving: ['out'] },
    );
    const { got, out } = collector();
    const driver = new ChainDriver([parse, enrich], out);
    await driver.runBatch(recs(CHUNK + 4), 't');
    expect(calls).toEqual([
      ['parse.process', CHUNK],
      ['enrich.process', CHUNK - 1],
      ['parse.process', 4],
      ['enrich.process', 3],
    ]);
    expect(got.map((g) => [g.step, g.port, g.n.length])).toEqual([
      [0, 'invalid', 1],
      [1, 'out', CHUNK - 1],
      [0, 'invalid', 1],
      [1, 'out', 3],
    ]);
    expect(parse.counter).toMatchObject({ in: CHUNK + 4, out: { out: CHUNK + 2, invalid: 2 } });
    expect(enrich.counter).toMatchObject({ in: CHUNK + 2, out: { out: CHUNK + 2 } }); // empty ports are not counted
  });

  it('a tree: one port feeds several steps; each chunk goes through every subtree in order, finish too', async () => {
    const calls: Call[] = [];
    // parse → {sweep → tag, rules}; parse.invalid → count (a second branch on another port)
    const parse = step(
      'parse',
      fakeProcessor('parse', calls, (r) => ({ out: r.slice(1), invalid: r.slice(0, 1) })),
      {
        feed: 'out',
        branches: [
          ['out', 3],
          ['invalid', 4],
        ],
        leaving: [],
      },
    );
    const sweep = step(
      'sweep',
      fakeProcessor('sweep', calls, (r) => ({ out: r, alerts: r.filter((x) => (x.n as number) % 3 === 0) })),
      { feed: 'alerts', leaving: [] },
    );
    const tag = step(
      'tag',
      fakeProcessor('tag', calls, (r) => ({ out: r })),
      { leaving: ['out'] },
    );
    let held = 0;
    const rules = step(
      'rules',
      fakeProcessor(
        'rules',
        calls,
        (r) => {
          held += r.length;
          return { alerts: r.filter((x) => (x.n as number) % 2 === 0) };
        },
        { finish: () => ({ alerts: [{ n: -held }] }) },
      ),
      { leaving: ['alerts'] },
    );
    const count = step(
      'count',
      fakeProcessor('count', calls, (r) => ({ out: r })),
      { leaving: ['out'] },
    );
    const { got, out } = collector();
    const driver = new ChainDriver([parse, sweep, tag, rules, count], out);
    await driver.runBatch(recs(CHUNK + 4), 't');
    expect(calls).toEqual([
      ['parse.process', CHUNK],
      ['sweep.process', CHUNK - 1],
      ['tag.process', Array.from({ length: CHUNK - 1 }, (_, i) => i + 1).filter((i) => i % 3 === 0).length],
      ['rules.process', CHUNK - 1],
      ['count.process', 1],
      ['parse.process', 4],
      ['sweep.process', 3],
      ['tag.process', 1],
      ['rules.process', 3],
      ['count.process', 1],
    ]);
    expect(got.filter((g) => g.step === 4).map((g) => g.n)).toEqual([[0], [CHUNK]]);
    expect(got.filter((g) => g.step === 3).flatMap((g) => g.n)).toEqual(
      Array.from({ length: CHUNK + 4 }, (_, i) => i).filter((i) => i !== 0 && i !== CHUNK && i % 2 === 0),
    );
    expect(rules.counter).toMatchObject({ in: CHUNK + 2 });
    expect(count.counter).toMatchObject({ in: 2, out: { out: 2 } });
    got.length = 0;
    await driver.finish('end');
    expect(got).toEqual([{ tag: 'end', step: 3, port: 'alerts', n: [-(CHUNK + 2)] }]);
  });

  it('a tree: each reader of a port gets its own array, as fan-out on the main thread gives', async () => {
    const seen: number[][] = [];
    // `a` empties the array it was given; `b`, reading the same port, still sees every record
    const head = step('head', { process: (r) => ({ out: r }), finish: () => ({ out: recs(2, 50) }) }, { feed: 'out', branches: [['out', 2]], leaving: [] });
    const a = step('a', { process: (r) => ({ out: r.splice(0) }) }, { leaving: [] });
    const b = step('b', { process: (r) => (seen.push(r.map((x) => x.n as number)), {}) }, { leaving: [] });
    const driver = new ChainDriver([head, a, b], () => undefined);
    await driver.runBatch(recs(3), 't');
    await driver.finish('end');
    expect(seen).toEqual([
      [0, 1, 2],
      [50, 51],
    ]);
  });

  it('a tree: what a step emits at the end goes through its subtree and its branches', async () => {
    const calls: Call[] = [];
    const head = step(
      'head',
      fakeProcessor('head', calls, () => ({}), { finish: () => ({ out: recs(2), side: recs(1, 10) }) }),
      { feed: 'out', branches: [['side', 2]], leaving: [] },
    );
    const a = step(
      'a',
      fakeProcessor('a', calls, (r) => ({ out: r })),
      { leaving: ['out'] },
    );
    const b = step(
      'b',
      fakeProcessor('b', calls, (r) => ({ out: r })),
      { leaving: ['out'] },
    );
    const { got, out } = collector();
    await new ChainDriver([head, a, b], out).finish('end');
    expect(calls).toEqual([
      ['a.process', 2],
      ['b.process', 1],
    ]);
    expect(got.map((g) => [g.step, g.n])).toEqual([
      [1, [0, 1]],
      [2, [10]],
    ]);
  });

  it('a port that is both fed on and read outside does both; a step with no input is not called', async () => {
    const calls: Call[] = [];
    const a = step(
      'a',
      fakeProcessor('a', calls, (r) => ({ out: r })),
      { feed: 'out', leaving: ['out'] },
    );
    const b = step(
      'b',
      fakeProcessor('b', calls, () => ({ out: [] })),
      { feed: 'out', leaving: [] },
    );
    const c = step(
      'c',
      fakeProcessor('c', calls, (r) => ({ out: r })),
      { leaving: ['out'] },
    );
    const { got, out } = collector();
    await new ChainDriver([a, b, c], out).runBatch(recs(3), 't');
    expect(calls).toEqual([
      ['a.process', 3],
      ['b.process', 3],
    ]);
    expect(got.map((g) => [g.step, g.port])).toEqual([[0, 'out']]);
  });

  it('waits for an asynchronous out before running the next chunk (a full queue holds the chain)', async () => {
    const calls: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const driver = new ChainDriver<null>([step('p', { process: (r) => (calls.push(`process ${r.length}`), { out: r }) })], async () => {
      calls.push('out');
      if (calls.length === 2) await gate;
    });
    const done = driver.runBatch(recs(CHUNK + 1), null);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual([`process ${CHUNK}`, 'out']);
    release();
    await done;
    expect(calls).toEqual([`process ${CHUNK}`, 'out', 'process 1', 'out']);
  });

  it('hands a published value to update between batches and before finish, never during one; the newest wins', async () => {
    const calls: Call[] = [];
    const holder = new SharedHolder({ gen: 1 });
    const inst = fakeProcessor('p', calls, (r) => ({ out: r }), {
      update: (v) => void calls.push(['p.update', (v as { gen: number }).gen, holder.current === v]),
      finish: () => (calls.push(['p.finish']), {}),
    });
    const driver = new ChainDriver([step('p', inst, { holder })], () => undefined);
    await driver.runBatch(recs(2), null);
    holder.offer({ gen: 2 });
    holder.offer({ gen: 3 });
    await driver.runBatch(recs(CHUNK + 1), null);
    holder.offer({ gen: 4 });
    await driver.finish(null);
    expect(calls).toEqual([
      ['p.process', 2],
      ['p.update', 3, true], // gen 2 was superseded before the batch; ctx.shared reads the value handed over
      ['p.process', CHUNK],
      ['p.process', 1], // no update between the chunks of one batch
      ['p.update', 4, true],
      ['p.finish'],
    ]);
  });

  it('finishes the steps in order; what a step holds goes through the steps after it before they finish', async () => {
    const calls: Call[] = [];
    const a = step(
      'a',
      fakeProcessor('a', calls, (r) => ({ out: r }), { finish: () => (calls.push(['a.finish']), { out: recs(CHUNK + 2, 100) }) }),
      { feed: 'out', leaving: [] },
    );
    const b = step(
      'b',
      fakeProcessor('b', calls, (r) => ({ out: r }), { finish: () => (calls.push(['b.finish']), { out: recs(1, 900) }) }),
      { leaving: ['out'] },
    );
    const { got, out } = collector();
    await new ChainDriver([a, b], out).finish('end');
    expect(calls).toEqual([['a.finish'], ['b.process', CHUNK], ['b.process', 2], ['b.finish']]);
    expect(got.flatMap((g) => g.n)).toEqual([...recs(CHUNK + 2, 100).map((r) => r.n), 900]);
    expect(got.every((g) => g.tag === 'end')).toBe(true);
  });

  it('without a finish anywhere, finishing calls nothing (not even a pending update)', async () => {
    const calls: Call[] = [];
    const holder = new SharedHolder(1);
    const driver = new ChainDriver(
      [
        step(
          'p',
          fakeProcessor('p', calls, () => ({}), { update: () => void calls.push(['p.update']) }),
          { holder },
        ),
      ],
      () => undefined,
    );
    holder.offer(2);
    await driver.finish(null);
    expect(calls).toEqual([]);
  });

  it('a plugin that throws fails with a RunError naming its node (process, update, finish)', async () => {
    const boom = () => {
      throw new Error('boom');
    };
    const a = step('a', { process: (r) => ({ out: r }) }, { feed: 'out', leaving: [] });
    const b = step('b', { process: boom }, { leaving: [] });
    const err = await new ChainDriver([a, b], () => undefined).runBatch(recs(1), null).catch((e) => e);
    expect(err).toBeInstanceOf(RunError);
    expect(err).toMatchObject({ code: 'SLUICE_E_RUNTIME', node: 'b', message: "node 'b': boom" });
    expect((err as Error).cause).toBeInstanceOf(Error);

    const holder = new SharedHolder(1);
    const u = new ChainDriver([step('u', { process: () => ({}), update: boom }, { holder })], () => undefined);
    holder.offer(2);
    await expect(u.runBatch(recs(1), null)).rejects.toMatchObject({ code: 'SLUICE_E_RUNTIME', message: "node 'u': update failed: boom" });

    const f = new ChainDriver([step('f', { process: () => ({}), finish: async () => boom() })], () => undefined);
    await expect(f.finish(null)).rejects.toMatchObject({ code: 'SLUICE_E_RUNTIME', message: "node 'f': finish failed: boom" });
  });
});

describe('chain driver in a pipeline', () => {
  it('a main-thread consumer keeps pace with its producer: the queue between them does not fill up', async () => {
    // Turns of the microtask queue decide who runs next: a consumer that needs more of them per
    // chunk than its producer falls behind, and the records waiting in its queue survive young-
    // generation collections. A pass-through producer and a counting consumer, both fakes.
    let produced = 0;
    let consumed = 0;
    let maxLag = 0;
    const registry = builtinRegistry();
    registry.register({
      name: 'fake-array-source',
      kind: 'source',
      summary: 'Emits 20 batches of 2,000 records (test fake).',
      schema: { type: 'object' },
      create: () => ({
        async run(emit) {
          for (let b = 0; b < 20; b++) await emit({ out: recs(2000, b * 2000) });
        },
      }),
    });
    registry.register({
      name: 'fake-producer',
      kind: 'transform',
      summary: 'Passes chunks on, counting them (test fake).',
      schema: { type: 'object' },
      create: () => ({ process: (r: Rec[]) => (produced++, { out: r }) }),
    });
    registry.register({
      name: 'fake-consumer',
      kind: 'transform',
      summary: 'Counts chunks and how far behind it is (test fake).',
      schema: { type: 'object' },
      create: () => ({ process: () => (consumed++, (maxLag = Math.max(maxLag, produced - consumed)), {}) }),
    });
    registry.register({
      name: 'fake-null-sink',
      kind: 'sink',
      summary: 'Accepts nothing in particular (test fake).',
      schema: { type: 'object' },
      create: () => ({ write() {}, async flush() {}, async close() {} }),
    });
    const text = `version: 1
name: pace
nodes:
  src: { source: fake-array-source }
  p: { transform: fake-producer, from: src }
  c: { transform: fake-consumer, from: p }
  out: { sink: fake-null-sink, from: c }
`;
    const { spec, issues } = await loadSpec('/nonexistent/pace.yaml', { text, registry });
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    await runPipeline(spec!, { stateDir: '/nonexistent', logger: testContext().logger });
    expect(consumed).toBe(produced);
    expect(maxLag).toBeLessThanOrEqual(2); // the queue holds 8
  });
});
