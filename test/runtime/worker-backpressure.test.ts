import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { runPipeline } from '../../src/runtime/run.js';
import { testContext } from '../helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';

describe('backpressure with worker threads', () => {
  it('records leaving a worker chain do not pile up in the main thread: a slow sink holds the workers back', async () => {
    const dir = tempDir('bpw-');
    const n = 20_000;
    writeFileSync(join(dir, 'in.log'), Array.from({ length: n }, (_, i) => `line ${i}`).join('\n') + '\n');
    const slow = resolve(import.meta.dirname, '../fixtures/plugins/slow.mjs');
    const specFile = join(dir, 'spec.yaml');
    // every record the chain (two parallel-safe transforms) passes on leaves it for the slow sink
    const text = `version: 1
name: bpw
plugins: [${JSON.stringify(slow)}]
settings: { queue_batches: 2, workers: 2 }
nodes:
  src: { source: file, with: { paths: ["${dir}/in.log"], batch_size: 100 } }
  pass: { transform: filter, from: src, with: { when: true } }
  tag: { transform: set, from: pass, with: { fields: { seen: true } } }
  sink: { sink: slow-sink, from: [tag, tag.invalid, src.invalid], with: { ms_per_batch: 5 } }
`;
    const { spec, issues } = await loadSpec(specFile, { text, registry: builtinRegistry() });
    expect(issues.map((i) => i.message)).toEqual([]);
    let maxLag = 0;
    let samples = 0;
    const summary = await runPipeline(spec!, {
      stateDir: dir,
      logger: testContext().logger,
      onProgress: (stats) => {
        const produced = Object.values(stats.get('src')!.out).reduce((a, b) => a + b, 0);
        const consumed = stats.get('sink')!.in;
        maxLag = Math.max(maxLag, produced - consumed);
        samples++;
      },
    });
    expect(summary.workers?.count).toBe(2);
    expect(summary.recordsOut).toBe(n);
    expect(samples).toBeGreaterThan(2);
    for (const node of summary.nodes) if (node.queueHighWater !== undefined) expect(node.queueHighWater).toBeLessThanOrEqual(2);
    // In flight at most 16 of the input's 200 batches: one in the source's hands, the head's queue
    // (2), one the feeder holds while it waits for room on a copy, the segment's in-order window (4
    // per copy; it also bounds what the copies hold), one being delivered, the sink's queue (2) and
    // one in the sink's hands.
    expect(maxLag).toBeLessThanOrEqual((1 + 2 + 1 + 2 * 4 + 1 + 2 + 1) * 100);
  });
});
