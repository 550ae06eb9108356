import { describe, it, expect } from 'vitest';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const slow = resolve(import.meta.dirname, '../fixtures/plugins/slow.mjs');
const N = 60_000;

function setup(): { dir: string; spec: string } {
  const dir = tempDir('crash-');
  writeFileSync(join(dir, 'in.log'), Array.from({ length: N }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
  const spec = join(dir, 'spec.yaml');
  writeFileSync(
    spec,
    `version: 1
name: crash
plugins: [${JSON.stringify(slow)}]
settings: { flush_interval: 50ms }
nodes:
  src: { source: file, with: { paths: ["${dir}/in.log"], batch_size: 500, checkpoint: true } }
  slow: { transform: slow-pass, from: src, with: { ms_per_batch: "\${DELAY:-0}" } }
  out: { sink: file, from: [slow, src.invalid], with: { path: "${dir}/out.jsonl" } }
`,
  );
  return { dir, spec };
}

function delivered(dir: string): { lines: Set<number>; total: number } {
  const text = existsSync(join(dir, 'out.jsonl')) ? readFileSync(join(dir, 'out.jsonl'), 'utf8') : '';
  const all = text.split('\n').filter((l) => l.endsWith('}')); // a torn last line from the kill is not a record
  return { lines: new Set(all.map((l) => JSON.parse(l).origin.line as number)), total: all.length };
}

async function waitFor(pred: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('at-least-once delivery with a checkpointed file source', () => {
  it('after SIGKILL mid-run, a rerun delivers every input line at least once', async () => {
    const { dir, spec } = setup();
    const state = join(dir, 'state');
    const first = startCli(['run', spec, '--state-dir', state, '--var', 'DELAY=30', '--log-level', 'warn']);
    await waitFor(() => delivered(dir).total > 5000 && existsSync(join(state, 'crash/src/checkpoints.json')));
    first.child.kill('SIGKILL');
    const r1 = await first.done;
    expect(r1.signal).toBe('SIGKILL');
    const before = delivered(dir);
    expect(before.lines.size).toBeLessThan(N); // it really was cut short

    const second = await runCli(['run', spec, '--state-dir', state, '--summary-json', join(dir, 's.json'), '--log-level', 'warn']);
    expect(second.code).toBe(0);
    const after = delivered(dir);
    for (let i = 1; i <= N; i++) if (!after.lines.has(i)) throw new Error(`line ${i} was lost`);
    // The rerun resumed from the checkpoint instead of starting over.
    const s = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
    expect(s.recordsIn).toBeLessThan(N);
    expect(s.recordsIn).toBeGreaterThanOrEqual(N - before.lines.size);
  });

  it('SIGTERM drains in-flight batches, flushes, commits and exits 0; the rerun finishes the rest', async () => {
    const { dir, spec } = setup();
    const state = join(dir, 'state');
    const first = startCli(['run', spec, '--state-dir', state, '--var', 'DELAY=30', '--log-level', 'warn']);
    await waitFor(() => delivered(dir).total > 3000);
    first.child.kill('SIGTERM');
    const r1 = await first.done;
    expect(r1.code).toBe(0);
    expect(r1.stdout).toContain('stopped by signal, drained');
    const afterStop = delivered(dir);
    const cp = JSON.parse(readFileSync(join(state, 'crash/src/checkpoints.json'), 'utf8'));
    const committed = Object.values(cp.files as Record<string, { line: number }>)[0]!.line;
    // Everything committed was delivered, and the drain committed everything it delivered.
    expect(committed).toBe(afterStop.total);
    for (let i = 1; i <= committed; i++) expect(afterStop.lines.has(i)).toBe(true);

    const second = await runCli(['run', spec, '--state-dir', state, '--log-level', 'warn']);
    expect(second.code).toBe(0);
    const after = delivered(dir);
    expect(after.total).toBe(N); // a clean stop replays nothing
    expect(after.lines.size).toBe(N);
  });
});
