/**
 * The processor runner's `tick`: called when a processor's input queue has been quiet for its
 * `tickIntervalMs`, between batches (never during `process`), its outputs dispatched on to sinks
 * without an ack. And the window analyser built on it: a quiet stream's alerts reach the sink
 * while the run goes on, without waiting for the end of input.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { runPipeline } from '../../src/runtime/run.js';
import { testContext } from '../helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';

interface Shared {
  sunk: Record<string, unknown>[];
  events: string[];
}
const g = globalThis as unknown as { __sluiceTickTest?: Shared };

// Plugins written to a temporary module: a stream source that emits its records and then stays
// quiet until the run is stopped (a topic with no new messages), a processor that records the
// order of its calls, and a sink that keeps what it is given in memory.
const PLUGINS = `
const shared = () => globalThis.__sluiceTickTest;
export const plugins = [
  {
    name: 'quiet-stream', kind: 'source', summary: 'Emit records, then wait for the stop.',
    schema: { type: 'object', additionalProperties: false, properties: { records: { type: 'array', description: 'records' } } },
    create(config, ctx) {
      return {
        async run(emit) {
          await emit({ out: config.records.map((r, i) => ({ ...r, origin: { topic: 'proxy', partition: 0, offset: String(i) } })) }, () => shared().events.push('durable'));
          await new Promise((resolve) => ctx.signal.aborted ? resolve() : ctx.signal.addEventListener('abort', resolve, { once: true }));
        },
      };
    },
  },
  {
    name: 'ticker', kind: 'transform', summary: 'Pass records; say when ticked.',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    create() {
      let busy = false;
      let n = 0;
      return {
        tickIntervalMs: 20,
        async process(records) {
          busy = true;
          shared().events.push('process');
          await new Promise((r) => setTimeout(r, 5));
          busy = false;
          return { out: records };
        },
        tick(now) {
          shared().events.push(busy ? 'tick-during-process' : 'tick');
          return n++ < 3 ? { out: [{ ticked: n, now }] } : {};
        },
        finish() { shared().events.push('finish'); return {}; },
      };
    },
  },
  {
    name: 'collect', kind: 'sink', summary: 'Keep records in memory.',
    schema: { type: 'object', additionalProperties: false, properties: {} },
    create() {
      return { write(records) { shared().sunk.push(...records); }, async flush() {}, async close() {} };
    },
  },
];
`;

async function start(nodes: string): Promise<{ done: Promise<unknown>; stop: () => void }> {
  const dir = tempDir('tick-');
  const mod = join(dir, 'plugins.mjs');
  writeFileSync(mod, PLUGINS);
  const text = `version: 1\nname: tick\nplugins: [${JSON.stringify(mod)}]\nnodes:\n${nodes}`;
  const { spec, issues } = await loadSpec(join(dir, 'spec.yaml'), { text, registry: builtinRegistry() });
  expect(issues).toEqual([]);
  const ac = new AbortController();
  const done = runPipeline(spec!, { stateDir: dir, logger: testContext().logger, signal: ac.signal });
  return { done, stop: () => ac.abort() };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(() => {
  delete g.__sluiceTickTest;
});

describe('processor tick', () => {
  it('is called on a quiet queue, between batches, and its outputs reach the sinks', async () => {
    const shared: Shared = { sunk: [], events: [] };
    g.__sluiceTickTest = shared;
    const run = await start(`  src: { source: quiet-stream, with: { records: [{ message: a }, { message: b }] } }
  t: { transform: ticker, from: src }
  sink: { sink: collect, from: t }
`);
    await until(() => shared.sunk.filter((r) => r.ticked !== undefined).length === 3, 5000);
    run.stop();
    await run.done;
    expect(shared.sunk.slice(0, 2).map((r) => r.message)).toEqual(['a', 'b']);
    expect(shared.sunk.filter((r) => r.ticked !== undefined).map((r) => r.ticked)).toEqual([1, 2, 3]);
    expect(shared.events[0]).toBe('process');
    expect(shared.events).not.toContain('tick-during-process');
    expect(shared.events.filter((e) => e === 'tick').length).toBeGreaterThanOrEqual(3);
    // The source's batch is made durable by a sink flush as ever; no tick after finish.
    expect(shared.events).toContain('durable');
    expect(shared.events.slice(shared.events.indexOf('finish'))).not.toContain('tick');
  });

  it('a window on a quiet stream emits its alert while the run goes on (idle_timeout)', async () => {
    const shared: Shared = { sunk: [], events: [] };
    g.__sluiceTickTest = shared;
    const records = [7, 8, 9].map((s) => ({ '@timestamp': `2024-03-01T10:00:0${s}.000Z`, source: { ip: '10.0.0.9' } }));
    const started = Date.now();
    const run = await start(`  src: { source: quiet-stream, with: { records: ${JSON.stringify(records)} } }
  volume:
    analyse: window
    from: src
    with: { key: source.ip, size: 10s, allowed_lateness: 0, idle_timeout: 200ms, aggregate: { n: count }, alert_when: { ">=": [{ var: n }, 3] } }
  sink: { sink: collect, from: volume.alerts }
`);
    await until(() => shared.sunk.length > 0, 10_000);
    const waited = Date.now() - started;
    run.stop();
    await run.done;
    // The window [10:00:00, 10:00:10) closes when the stream has been quiet for idle_timeout
    // (200 ms) and the watermark (10:00:09) has then advanced 1 s with the wall clock.
    expect(shared.sunk).toHaveLength(1);
    expect(shared.sunk[0]).toMatchObject({ event: { kind: 'alert' }, source: { ip: '10.0.0.9' }, n: 3 });
    expect(waited).toBeGreaterThanOrEqual(1_100);
    expect(waited).toBeLessThan(5_000);
  });
});
