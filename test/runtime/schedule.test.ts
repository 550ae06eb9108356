import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('schedule:', () => {
  it('reruns a finite pipeline on its cron schedule, skipping ticks while a run is still going', async () => {
    const dir = tempDir('cron-');
    writeFileSync(join(dir, 'in.log'), 'a\nb\n');
    const slow = resolve(import.meta.dirname, '../fixtures/plugins/slow.mjs');
    writeFileSync(
      join(dir, 'spec.yaml'),
      `version: 1
name: cron
schedule: "* * * * * *"
plugins: [${JSON.stringify(slow)}]
nodes:
  src: { source: file, with: { paths: ["${dir}/in.log"] } }
  slow: { transform: slow-pass, from: src, with: { ms_per_batch: 1500 } }
  out: { sink: file, from: [slow, src.invalid], with: { path: "${dir}/out.jsonl" } }
`,
    );
    const run = startCli(['run', join(dir, 'spec.yaml'), '--state-dir', join(dir, 'state'), '--log-level', 'info']);
    await new Promise((r) => setTimeout(r, 5500));
    run.child.kill('SIGINT');
    const res = await run.done;
    expect(res.code).toBe(0);
    const runs = res.stdout.split('pipeline cron').length - 1;
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(res.stderr).toContain('skipping this tick');
  });
});
