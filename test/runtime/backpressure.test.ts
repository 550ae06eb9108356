import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSpec } from '../../src/spec/validate.js';
import { builtinRegistry } from '../../src/plugins/builtins.js';
import { runPipeline } from '../../src/runtime/run.js';
import { testContext } from '../helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';

describe('backpressure', () => {
  it('a deliberately slow sink throttles a fast source: queues never exceed their bound', async () => {
    const dir = tempDir('bp-');
    const n = 20_000;
    writeFileSync(join(dir, 'in.log'), Array.from({ length: n }, (_, i) => `line ${i}`).join('\n') + '\n');
    const slow = resolve(import.meta.dirname, '../fixtures/plugins/slow.mjs');
    const specFile = join(dir, 'spec.yaml');
    const text = `version: 1
name: bp
plugins: [${JSON.stringify(slow)}]
settings: { queue_batches: 2 }
nodes:
  src: { source: file, with: { paths: ["${dir}/in.log"], batch_size: 100 } }
  pass: { transform: filter, from: src, with: { when: true } }
  sink: { sink: slow-sink, from: [pass, src.invalid], with: { ms_per_batch: 5 } }
`;
    const { spec, issues } = await loadSpec(specFile, { text, registry: builtinRegistry() });
    expect(issues).toEqual([]);
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
    expect(summary.recordsOut).toBe(n);
    expect(samples).toBeGreaterThan(2); // the run lasted long enough to watch it
    for (const node of summary.nodes) if (node.queueHighWater !== undefined) expect(node.queueHighWater).toBeLessThanOrEqual(2);
    // In flight at most: two queues of 2 batches, one batch in each of the 3 nodes' hands.
    expect(maxLag).toBeLessThanOrEqual((2 * 2 + 3) * 100);
  });
});
