/**
 * When a sink flushes (runners/sink.ts): the run's first records are flushed as soon as they are
 * written, not `flush_interval` after the sink started — a sweep's first alert is on disk without
 * waiting for the interval — and records written within the interval after a flush wait for the
 * next one (here, with an interval of an hour: the flush at the end of the run).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { PluginDef, Rec } from '../../src/api.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { loadSpec } from '../../src/spec/validate.js';
import { runPipeline } from '../../src/runtime/run.js';
import { testContext } from '../helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';

/** How long the fake source waits for its first batch's acknowledgement before it gives up and ends. */
const GIVE_UP_MS = 3000;

describe('sink flushes', () => {
  it("flushes the run's first records at once; later ones wait for the interval (an hour: the end)", async () => {
    const events: string[] = [];
    const fakeSource: PluginDef = {
      name: 'fake-two-batch-source',
      kind: 'source',
      summary: 'Emits a batch, waits for it to be durable (or gives up), then emits another (test fake).',
      schema: { type: 'object' },
      create: () => ({
        async run(emit) {
          let durable!: () => void;
          const first = new Promise<void>((resolve) => (durable = resolve));
          await emit({ out: [{ n: 1 } as Rec] }, () => {
            events.push('first durable');
            durable();
          });
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([first, new Promise<void>((resolve) => (timer = setTimeout(resolve, GIVE_UP_MS)))]);
          clearTimeout(timer);
          events.push('second emitted');
          await emit({ out: [{ n: 2 } as Rec] }, () => events.push('second durable'));
          events.push('source ended');
        },
      }),
    };
    const fakeSink: PluginDef = {
      name: 'fake-noting-sink',
      kind: 'sink',
      summary: 'Notes its writes and flushes (test fake).',
      schema: { type: 'object' },
      create: () => ({
        write(records: Rec[]) {
          events.push(`write ${records.map((r) => r.n).join(',')}`);
        },
        async flush() {
          events.push('flush');
        },
        async close() {},
      }),
    };
    const registry = builtinRegistry();
    registry.register(fakeSource);
    registry.register(fakeSink);
    const dir = tempDir('first-flush-');
    const text = `version: 1
name: first-flush
settings: { flush_interval: 1h }
nodes:
  src: { source: fake-two-batch-source }
  out: { sink: fake-noting-sink, from: src }
`;
    const { spec, issues } = await loadSpec(join(dir, 'spec.yaml'), { text, registry });
    expect(issues).toEqual([]);
    const summary = await runPipeline(spec!, { stateDir: dir, logger: testContext().logger });
    expect(summary.recordsOut).toBe(2);
    // the first batch flushed while the source waited for it; the second only by the flush at the end
    expect(events.filter((e) => e !== 'source ended')).toEqual(['write 1', 'flush', 'first durable', 'second emitted', 'write 2', 'flush', 'second durable']);
    expect(events.indexOf('second durable')).toBeGreaterThan(events.indexOf('source ended'));
  }, 15_000);
});
